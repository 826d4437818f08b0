"""The drill-down pages in a real Chromium against the real app: district → subdistrict → community →
cell → case by clicks on the maps and tables, back and forward, deep links, not-found pages, the CSV
export of what a table shows, the remembered language, the search box and the map colouring switch."""

from __future__ import annotations

import contextlib
import csv
import io
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from dashboard.domain.health import BANDS
from dashboard.store import keys
from dashboard.store.records import CaseEvent, encode
from layouts import area as page
from layouts import nav
from layouts.panels import tables
from tests.conftest import App, http_get, wait_for

SHOTS = Path("/tmp/team")


# --------------------------------------------------------------------------- pure


def test_the_csv_is_the_table_with_a_bom() -> None:
    g = tables.Grid(["编号", "名称, 全称", "在办"])
    g.add("ZM-0001", ["ZM-0001", '塔坡社区第1网格 "旧城"', "1,234"], "/cell/ZM-0001")
    g.add("ZM-0002", ["ZM-0002", "塔坡社区第2网格", "7"])
    text = tables.to_csv(g.data(), "数据截至", "2026-12-07T14:05:09+08:00")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows == [["数据截至", "2026-12-07T14:05:09+08:00"], [], g.head, *g.rows]  # the as-of line first
    table = g.table("t", "none")
    body = table.children[1].children
    assert [[td.children if isinstance(td.children, str) else td.children.children for td in tr.children]
            for tr in body] == g.rows  # fmt: skip


def test_links_keep_the_language() -> None:
    assert nav.area_href("district", "440604", "en") == "/?lang=en"
    assert nav.area_href("cell", "ZM-0001", "zh-CN") == "/cell/ZM-0001?lang=zh-CN"
    assert nav.with_lang("/case/X?a=1", "en") == "/case/X?a=1&lang=en"


# --------------------------------------------------------------------------- in a real browser


@pytest.fixture(scope="module")
def app() -> Iterator[App]:
    """The whole system with the simulator (it back-fills two days of cases), fast."""
    d = Path(tempfile.mkdtemp(prefix="cbd-"))
    a = App(d, "--speed", "20", "--seed", "11").start()
    yield a
    if a.proc is not None and a.proc.poll() is None:
        a.stop()
    shutil.rmtree(d, ignore_errors=True)


def path(browser: Any) -> str:
    """The page's path (no query)."""
    return urlsplit(browser.current_url).path


def text_of(browser: Any, element_id: str) -> str:
    """An element's text ("" when absent)."""
    got: str = browser.execute_script(
        "var e = document.getElementById(arguments[0]); return e ? e.textContent : '';", element_id
    )
    return got


def click_shape(browser: Any, selector: str) -> bool:
    """Click an area's shape on a map as a mouse does (Leaflet takes the click from the path)."""
    done: bool = browser.execute_script(
        """var p = document.querySelector(arguments[0]); if (!p) { return false; }
        var b = p.getBoundingClientRect();
        p.dispatchEvent(new MouseEvent('click', {bubbles: true, cancelable: true, view: window,
          clientX: b.left + b.width / 2, clientY: b.top + b.height / 2}));
        return true;""",
        selector,
    )
    return done


def click_link(browser: Any, selector: str) -> bool:
    """Click the first link matching ``selector`` (read and clicked in one go: tables refresh)."""
    done: bool = browser.execute_script(
        "var a = document.querySelector(arguments[0]); if (!a) { return false; } a.click(); return true;",
        selector,
    )
    return done


def kpis_shown(browser: Any) -> bool:
    """The page's KPI tiles carry numbers."""
    return text_of(browser, page.KPI.format("open")).replace(",", "").isdigit()


def on_area(browser: Any, level: str, area_id: str, name: str) -> bool:
    """The page is this area's, with its name and KPIs."""
    return (
        path(browser) == f"/{level}/{area_id}"
        and name in text_of(browser, page.TITLE)
        and kpis_shown(browser)
    )


def shoot(browser: Any, name: str) -> None:
    """A 1920×1080 screenshot of the page into /tmp/team (for people to look at)."""
    if SHOTS.is_dir():
        browser.save_screenshot(str(SHOTS / f"F-{name}.png"))


def written(files: Iterable[Path]) -> list[Path]:
    """The files that are there with content (a download is complete)."""
    return [f for f in files if f.stat().st_size]


def full_hd(browser: Any) -> None:
    """Make the page itself 1920×1080."""
    extra = browser.execute_script("return window.outerHeight - window.innerHeight")
    browser.set_window_size(1920, 1080 + int(extra))


def test_click_down_from_the_district_to_a_case_and_back(app: App, browser: Any) -> None:
    geo = app_geo()
    full_hd(browser)
    browser.get(app.url + "/?lang=zh-CN")
    wait_for(lambda: len(browser.find_elements(By.CSS_SELECTOR, "path.cell")) == 478, 40, what="478 cells")

    # district → subdistrict: a click on a cell of the wall's map opens its subdistrict
    cell = geo.cells["ZM-0050"]
    sub = geo.subdistricts["ZM"]
    wait_for(lambda: path(browser) != "/" or (click_shape(browser, f"path.cell-{cell.id}") and False), 60)
    wait_for(lambda: on_area(browser, "subdistrict", "ZM", sub.name_zh), 30, what="the subdistrict page")
    assert browser.find_element(By.ID, page.BREADCRUMBS).text.startswith("禅城区")
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#area-map path.area-shape"), 20, what="map")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#area-map path.area-shape")) == len(geo.children("ZM"))
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, f"#{page.CHILDREN} tbody tr"), 20, what="ranking")
    shoot(browser, "subdistrict")

    # subdistrict → community: a click on the community on the map
    community = geo.communities[cell.parent_id or ""]
    wait_for(
        lambda: (
            path(browser) != "/subdistrict/ZM"
            or (click_shape(browser, f"#area-map path.area-{community.id}") and False)
        ),
        60,
        what="a click on the community",
    )
    wait_for(lambda: on_area(browser, "community", community.id, community.name_zh), 30, what="community")
    # the cell's device sections are the cell page's: hidden here, not shown empty
    shown = "return getComputedStyle(document.getElementById(arguments[0]).closest('section')).display;"
    assert [browser.execute_script(shown, box) for box in (page.CAMERAS_BOX, page.SENSORS_BOX)] == [
        "none"
    ] * 2
    shoot(browser, "community")

    # community → cell: the cell's link in the ranking table
    wait_for(
        lambda: (
            path(browser) != f"/community/{community.id}"
            or (click_link(browser, f'#{page.CHILDREN} a[href^="/cell/{cell.id}?"]') and False)
        ),
        60,
        what="a click on the cell's link",
    )
    wait_for(lambda: on_area(browser, "cell", cell.id, cell.name_zh), 30, what="the cell page")
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, f"#{page.CELL_CAMERAS} td"), 20)
    assert "无终端定位数据" in text_of(browser, page.CELL_WORKERS)
    assert text_of(browser, page.CELL_HEALTH)
    shoot(browser, "cell")

    # cell → case: a link of the open cases
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#cell-cases a"), 30, what="an open case")
    wait_for(
        lambda: path(browser) != f"/cell/{cell.id}" or (click_link(browser, "#cell-cases a") and False), 60
    )
    wait_for(lambda: path(browser).startswith("/case/"), 20, what="the case page")
    link = path(browser).removeprefix("/case/")
    wait_for(lambda: link in text_of(browser, "case-title"), 20, what="the case's title")
    shoot(browser, "case")

    # back returns each step, forward goes down again
    for level, area_id, name in [
        ("cell", cell.id, cell.name_zh),
        ("community", community.id, community.name_zh),
        ("subdistrict", "ZM", sub.name_zh),
    ]:
        browser.back()
        wait_for(lambda lv=level, a=area_id, n=name: on_area(browser, lv, a, n), 30, what=f"back {area_id}")
    browser.back()
    wait_for(lambda: path(browser) == "/" and browser.find_elements(By.ID, "wall-map"), 30, what="the wall")
    browser.forward()
    wait_for(lambda: on_area(browser, "subdistrict", "ZM", sub.name_zh), 30, what="forward")
    # breadcrumbs go up
    wait_for(
        lambda: (
            path(browser) != "/subdistrict/ZM" or (click_link(browser, f"#{page.BREADCRUMBS} a") and False)
        ),
        60,
    )
    wait_for(lambda: path(browser) == "/" and browser.find_elements(By.ID, "wall-map"), 30, what="crumb up")
    assert browser.execute_script("return performance.getEntriesByType('navigation').length") == 1


def app_geo() -> Any:
    """The shipped geography (the app runs on it)."""
    from dashboard.domain.geo import load_default_geography

    return load_default_geography()


def test_deep_links_load_directly_and_stay_live(app: App, browser: Any) -> None:
    # the processor's health job scores every area every 10 s: the page shows the score once there is one
    wait_for(lambda: app.client().hexists(keys.HEALTH, "ZM-C01"), 30, 0.2, "the first health scores")
    browser.get(app.url + "/community/ZM-C01?lang=en")
    wait_for(lambda: on_area(browser, "community", "ZM-C01", "Tapo Community"), 30, what="deep community")
    crumbs = browser.find_element(By.ID, page.BREADCRUMBS).text
    assert "Chancheng District" in crumbs and "Zumiao Subdistrict" in crumbs

    def scored() -> bool:  # read afresh each time: the live page may replace the element meanwhile
        score = browser.find_element(By.ID, page.HEALTH)
        return bool(score.get_attribute("data-score").isdigit() and "Health" in score.get_attribute("title"))

    wait_for(scored, 20, 0.2, "the community's health score")

    browser.get(app.url + "/cell/ZM-0001?lang=en")
    wait_for(lambda: on_area(browser, "cell", "ZM-0001", "Tapo Community Grid 1"), 30, what="deep cell")
    # a new case in the cell shows on the page without a reload
    now = int(time.time() * 1000)
    ev = CaseEvent(
        event_id="T-LIVE-1-0",
        case_id="T-LIVE-1",
        ts=now,
        step="reported",
        event_type="CM-0101",
        category="city_management",
        cell_id="ZM-0001",
        source="test",
    )
    app.client().xadd(keys.STREAM_CASE_EVENTS, encode(ev))  # type: ignore[arg-type]
    wait_for(lambda: "T-LIVE-1" in text_of(browser, page.CELL_CASES), 40, what="the new case on the page")
    assert browser.execute_script("return performance.getEntriesByType('navigation').length") == 1

    # the range switch: 7 days of KPIs and a daily trend
    browser.find_element(By.CSS_SELECTOR, f"#{page.RANGE} input[value='7d']").click()
    wait_for(lambda: "7 days" in text_of(browser, page.TREND_TITLE), 20, what="the 7-day trend")
    assert "7 days" in text_of(browser, page.KPI.format("reported")) or "7 days" in text_of(
        browser, page.KPIS
    )


@pytest.mark.parametrize(
    ("url", "word"),
    [
        ("/cell/NOPE-1?lang=en", "NOPE-1"),
        ("/subdistrict/ZM-0001?lang=en", "ZM-0001"),  # a cell id on the subdistrict page
        ("/community/%3Cb%3EX%3C%2Fb%3E?lang=en", "<b>X</b>"),
    ],
)
def test_unknown_ids_give_a_not_found_page(app: App, browser: Any, url: str, word: str) -> None:
    status, _ = http_get(app.url + url)
    assert status == 200
    browser.get(app.url + url)
    box = wait_for(lambda: browser.find_element(By.ID, page.NOT_FOUND), 20, what="the not-found page")
    assert "No such area" in box.text and word in box.text
    assert box.find_element(By.TAG_NAME, "a").get_attribute("href") == f"{app.url}/?lang=en"
    assert not browser.find_elements(By.CSS_SELECTOR, f"#{page.NOT_FOUND} b")
    assert "Traceback" not in app.log.read_text(errors="replace")


def table_rows(browser: Any, table_id: str) -> list[list[str]]:
    """A table's rows as the page shows them (cell texts)."""
    rows: list[list[str]] = browser.execute_script(
        "return Array.from(document.querySelectorAll('#' + arguments[0] + ' tbody tr')).map(function (r) {"
        " return Array.from(r.cells).map(function (td) { return td.textContent; }); });",
        table_id,
    )
    return rows


def test_export_writes_the_rows_of_the_table(app: App, browser: Any, short_tmp: Path) -> None:
    browser.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(short_tmp)})
    browser.get(app.url + "/subdistrict/SW?lang=zh-CN")
    wait_for(lambda: table_rows(browser, page.CHILDREN), 30, what="the ranking")
    for attempt in range(6):  # the ranking is live: compare a download with a table that held still
        for f in short_tmp.glob("*.csv"):
            f.unlink()
        before = table_rows(browser, page.CHILDREN)
        # found and clicked in one go: the live page may replace the button between two WebDriver calls
        browser.execute_script(
            "document.getElementById(arguments[0]).click();", page.EXPORT.format("children")
        )
        got = wait_for(lambda: written(short_tmp.glob("SW-children-*.csv")), 20, what="the CSV file")
        after = table_rows(browser, page.CHILDREN)
        if before == after:
            break
        assert attempt < 5, "the table never held still for an export"
    raw = got[0].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel reads the Chinese
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    head = browser.execute_script(
        "return Array.from(document.querySelectorAll('#area-children thead th')).map(t => t.textContent)"
    )
    assert rows[0][0] == "数据截至" and datetime.fromisoformat(rows[0][1]).utcoffset() is not None
    assert rows[2] == head and "健康度" in head
    assert rows[3:] == after and len(after) == len(app_geo().children("SW"))


def test_the_language_is_remembered_across_pages(app: App, browser: Any) -> None:
    browser.get(app.url + "/cell/ZM-0002")
    wait_for(lambda: on_area(browser, "cell", "ZM-0002", "塔坡社区第2网格"), 30, what="Chinese by default")
    browser.find_element(By.ID, nav.LANG_SWITCH).click()
    wait_for(lambda: "Tapo Community Grid 2" in text_of(browser, page.TITLE), 30, what="English")
    browser.get(app.url + "/community/ZM-C02")  # no ?lang=: the remembered one
    wait_for(lambda: browser.find_element(By.ID, page.ROOT).get_attribute("lang") == "en", 30, what="en")
    assert "Community" in text_of(browser, page.TITLE)
    browser.get(app.url + "/")
    wait_for(
        lambda: "Command Wall" in browser.find_element(By.TAG_NAME, "h1").text, 30, what="the wall in en"
    )
    browser.find_element(By.ID, nav.LANG_SWITCH).click()
    wait_for(lambda: "指挥大屏" in browser.find_element(By.TAG_NAME, "h1").text, 30, what="the wall in zh")
    browser.get(app.url + "/subdistrict/NZ")
    wait_for(lambda: browser.find_element(By.ID, page.ROOT).get_attribute("lang") == "zh-CN", 30, what="zh")


def test_search_jumps_to_what_it_finds(app: App, browser: Any) -> None:
    browser.get(app.url + "/?lang=zh-CN")
    box = wait_for(lambda: browser.find_element(By.ID, nav.SEARCH), 30, what="the search box")
    box.send_keys("ZM-0003")
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#search-hits .search-hit"), 20, what="hits")
    box.send_keys(Keys.ENTER)
    wait_for(lambda: on_area(browser, "cell", "ZM-0003", "塔坡社区第3网格"), 30, what="Enter: the cell")
    community_hit = "#search-hits .search-hit.kind-community"
    hit = type_search(browser, "丽豪", lambda: browser.find_element(By.CSS_SELECTOR, community_hit))
    assert "丽豪社区" in hit.text
    hit.click()
    wait_for(lambda: path(browser).startswith("/community/"), 30, what="click: the community")
    type_search(browser, "no-such-place-xyz", lambda: "没有找到" in text_of(browser, nav.SEARCH_HITS))
    # the case page and the alert history have the search box too
    for other in ("/case/NO-SUCH-CASE?lang=zh-CN", "/alerts?lang=zh-CN"):
        browser.get(app.url + other)
        type_search(
            browser, "ZM-0003", lambda: browser.find_elements(By.CSS_SELECTOR, "#search-hits .search-hit")
        )


def type_search(browser: Any, words: str, shown: Any) -> Any:
    """Type into the search box of the page now shown until ``shown()`` is true (a page change may
    replace the box while typing: then type again into the new one); return what ``shown`` returned."""

    def attempt() -> Any:
        box = browser.find_element(By.ID, nav.SEARCH)  # stale or missing: wait_for tries again
        box.clear()
        box.send_keys(words)
        end = time.monotonic() + 5
        while time.monotonic() < end:
            with contextlib.suppress(Exception):
                got = shown()
                if got:
                    return got
            time.sleep(0.2)
        return None

    return wait_for(attempt, 40, what=f"search results for {words!r}")


def fill(browser: Any, selector: str) -> str | None:
    """The fill colour of a shape on the page."""
    got: str | None = browser.execute_script(
        "var p = document.querySelector(arguments[0]); return p ? p.getAttribute('fill') : null;", selector
    )
    return got


def test_the_colour_switch_colours_the_maps_by_health(app: App, browser: Any) -> None:
    bands = {colour for _lo, _band, colour in BANDS}
    browser.get(app.url + "/?lang=zh-CN")
    wait_for(lambda: len(browser.find_elements(By.CSS_SELECTOR, "path.cell")) == 478, 40, what="478 cells")
    by_open = fill(browser, "path.cell-ZM-0001")
    assert by_open not in bands
    browser.find_element(By.CSS_SELECTOR, f"#{nav.COLOUR_SWITCH} input[value='health']").click()
    wait_for(lambda: fill(browser, "path.cell-ZM-0001") in bands, 30, what="cells by health")
    browser.find_element(By.CSS_SELECTOR, f"#{nav.COLOUR_SWITCH} input[value='open']").click()
    wait_for(lambda: fill(browser, "path.cell-ZM-0001") not in bands, 30, what="cells by open cases")

    browser.get(app.url + "/community/ZM-C01?lang=zh-CN")
    wait_for(lambda: fill(browser, "path.area-ZM-0001") in bands, 30, what="children by health")
    browser.find_element(By.CSS_SELECTOR, f"#{nav.COLOUR_SWITCH} input[value='alerts']").click()
    wait_for(lambda: "预警" in text_of(browser, "area-legend"), 20, what="the alerts legend")
