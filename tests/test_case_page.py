"""One case at /case/<id>, end to end in a real Chromium: every step in order, untrusted text shown as
text, live re-reads, photos, cameras, and a clear page for an unknown id (the timeline against the SLAs:
tests/test_case_timeline.py)."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from selenium.webdriver.common.by import By

from dashboard.domain.i18n import duration
from dashboard.store import keys
from layouts import case as page
from layouts.panels import case as panels
from tests.conftest import App, http_get, wait_for

TZ = ZoneInfo("Asia/Shanghai")
MIN = 60_000
SCRIPT_NOTE = "摊贩占道 <script>alert(1)</script> 请处理"
T0 = 1_790_000_000_000


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://example.org/a.jpg", True),
        ("http://10.0.0.5/p.png", True),
        ("javascript:alert(1)", False),
        (" JavaScript:alert(1)", False),
        ("data:image/png;base64,AAAA", False),
        ("/relative/path.jpg", False),
        ("https:///nohost", False),
    ],
)
def test_only_http_urls_become_images(url: str, ok: bool) -> None:
    assert panels.safe_photo_url(url) is ok


@pytest.mark.parametrize(
    ("ms", "zh", "en"),
    [
        (20_000, "20秒", "20 s"),
        (65_000, "1分5秒", "1 min 5 s"),
        ((3 * 60 + 12) * MIN, "3小时12分", "3 h 12 min"),
        (26 * 60 * MIN, "1天2小时", "1 d 2 h"),
        (24 * 60 * MIN, "1天", "1 d"),
    ],
)
def test_durations_read_naturally(ms: int, zh: str, en: str) -> None:
    assert duration(ms, "zh-CN") == zh and duration(ms, "en") == en


def test_nearest_cameras_are_sorted_and_near() -> None:
    near = panels.nearest_cameras(113.11, 23.04)
    assert len(near) == panels.NEAREST
    dists = [d for _, d in near]
    assert dists == sorted(dists) and dists[-1] < 2000


# --------------------------------------------------------------------------- in a real browser


@pytest.fixture(scope="module")
def app() -> Iterator[App]:
    """The whole system without the simulator."""
    d = Path(tempfile.mkdtemp(prefix="cbc-"))
    a = App(d, "--no-simulator").start()
    yield a
    if a.proc is not None and a.proc.poll() is None:
        a.stop()
    shutil.rmtree(d, ignore_errors=True)


def timeline_steps(browser: Any) -> list[str]:
    """The steps of the timeline's rows, top to bottom."""
    steps: list[str] = browser.execute_script(
        "return Array.from(document.querySelectorAll('#case-timeline tbody tr'))"
        ".map(function (r) { return r.getAttribute('data-step'); });"
    )
    return steps


def test_the_case_page_shows_the_whole_case_live(app: App, browser: Any) -> None:
    now = int(time.time() * 1000)
    case = "T-CASE-1"
    photos = ["https://example.org/p1.jpg", "javascript:alert(1)"]
    at = {"lon": 113.112, "lat": 23.0389}
    app.write_case_event(
        case, 0, "reported", now - 50 * MIN, actor="网格员 陈", note=SCRIPT_NOTE, photos=photos, **at
    )
    app.write_case_event(case, 1, "registered", now - 40 * MIN, actor="值班员")
    app.write_case_event(case, 2, "dispatched", now - 30 * MIN, department="urban_mgmt", actor="指挥中心")
    r = app.client()
    wait_for(lambda: '"dispatched"' in (r.hget(keys.CASE_INDEX, case) or ""), 20, what="the case processed")

    browser.get(f"{app.url}/case/{case}?lang=zh-CN")
    wait_for(lambda: timeline_steps(browser) == ["reported", "registered", "dispatched"], 20, what="timeline")
    title = browser.find_element(By.ID, page.TITLE).text
    assert "占道经营" in title and case in title
    facts = browser.find_element(By.ID, page.FACTS).text
    assert "ZM-0001" in facts and "塔坡社区" in facts and "祖庙街道" in facts and "城管执法局" in facts
    rows = browser.find_elements(By.CSS_SELECTOR, "#case-timeline tbody tr")
    assert "城管执法局" in rows[2].text and "处置" in rows[2].text

    # untrusted text is text: the characters show, no element is made of them
    scripts = browser.execute_script("return document.querySelectorAll('script').length")
    assert SCRIPT_NOTE in browser.find_element(By.ID, page.TIMELINE).text
    assert SCRIPT_NOTE in browser.find_element(By.ID, page.DESCRIPTION).text
    assert browser.execute_script("return document.querySelectorAll('#case-page script').length") == 0

    # photos: an http(s) URL on a host not in web.media_hosts is a link (new tab, no referrer), never an
    # image the browser fetches; a javascript: URL stays inert text
    box = browser.find_element(By.ID, page.PHOTOS)
    assert box.find_elements(By.TAG_NAME, "img") == []
    links = box.find_elements(By.TAG_NAME, "a")
    assert [a.get_attribute("href") for a in links] == [photos[0]]
    assert (
        links[0].get_attribute("rel") == "noopener noreferrer"
        and links[0].get_attribute("target") == "_blank"
    )
    assert "javascript:alert(1)" in box.text

    # the cell on the map and the six nearest cameras
    assert browser.find_elements(By.CSS_SELECTOR, f"#{page.MAP} .leaflet-overlay-pane path")
    assert len(browser.find_elements(By.CSS_SELECTOR, f"#{page.CAMERAS} tr")) == panels.NEAREST

    # a new event of this case: the page re-reads it without reloading; its note is text as well
    app.write_case_event(
        case,
        3,
        "handled",
        now,
        department="urban_mgmt",
        actor="<b>王</b>",
        note="<img src=x onerror=alert(2)>",
    )
    wait_for(lambda: len(timeline_steps(browser)) == 4, 20, what="the handled step on the page")
    assert timeline_steps(browser)[-1] == "handled"
    assert "<img src=x onerror=alert(2)>" in browser.find_element(By.ID, page.TIMELINE).text
    assert "<b>王</b>" in browser.find_element(By.ID, page.TIMELINE).text
    assert (
        browser.execute_script(
            "return document.querySelectorAll('#case-timeline img, #case-timeline b').length"
        )
        == 0
    )
    assert browser.execute_script("return document.querySelectorAll('script').length") == scripts
    assert browser.execute_script("return performance.getEntriesByType('navigation').length") == 1


def test_an_unknown_case_gives_a_clear_page(app: App, browser: Any) -> None:
    status, _ = http_get(f"{app.url}/case/NO-SUCH-CASE")
    assert status == 200
    browser.get(f"{app.url}/case/NO-SUCH-CASE?lang=en")
    box = wait_for(lambda: browser.find_element(By.ID, page.NOT_FOUND), 20, what="the not-found page")
    assert "No such case" in box.text and "NO-SUCH-CASE" in box.text
    back = box.find_element(By.TAG_NAME, "a")
    assert back.get_attribute("href") == f"{app.url}/?lang=en"
    assert "Traceback" not in app.log.read_text(errors="replace")
