"""End to end: the wall's warning screens (run.py without the simulator, a threshold rule on a water
gauge, a reading posted to the HTTP API, real headless Chromium): the banner in the level's colour,
flashing until a person acknowledges it in another browser, the list, the map outline, the sound toggle."""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By

from dashboard.domain.i18n import t
from dashboard.store import audit
from layouts import wall
from tests.conftest import App, http_get, http_post, wait_for
from tests.support import open_live

TOKEN = secrets.token_urlsafe(16)
SENSOR, CELL = "SEN-0007", "SW-0056"  # a water-level gauge of the registry, and its cell
RULE = "flood-test"
ALERT_ID = f"{RULE}:{SENSOR}"

CONFIG = f"""\
ingest:
  tokens:
    test: {{tokens: ["${{CB_TEST_TOKEN}}"], kinds: [sensor-readings, alerts]}}
alerts:
  rules:
  - name: {RULE}
    type: threshold
    title_zh: 积水超限
    title_en: Water over the limit
    metric: water_level
    per: sensor
    above: 0.30
    clear: 0.15
    for: 0s
    level: red
"""


@pytest.fixture(scope="module")
def app() -> Iterator[App]:
    """The whole system without the simulator, with one threshold rule that fires at once."""
    d = Path(tempfile.mkdtemp(prefix="cba-"))  # short: the Redis socket path must stay short
    os.environ["CB_TEST_TOKEN"] = TOKEN
    cfg = d / "config.yaml"
    cfg.write_text(CONFIG)
    a = App(d, "--no-simulator", "--config", str(cfg)).start()
    yield a
    if a.proc is not None and a.proc.poll() is None:
        a.stop()
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def browser2() -> Iterator[Any]:
    """A second, independent headless Chromium (another screen in the command room)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    from tests.conftest import _chrome_options

    driver = webdriver.Chrome(
        service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=_chrome_options()
    )
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def post_reading(app: App, value: float, sensor: str = SENSOR) -> None:
    """POST one water-level reading of the gauge, as a device gateway would."""
    body = {"readings": [{"sensor_id": sensor, "metric": "water_level", "value": value, "unit": "m",
                          "time": int(time.time() * 1000)}]}  # fmt: skip
    status, answer = http_post(f"{app.url}/api/v1/sensor-readings", body, TOKEN)
    assert status == 202, answer


def post_json(url: str, body: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """POST JSON without a token (as the page does); return (status, parsed answer)."""
    return http_post(url, body, headers=headers)


def open_wall(app: App, browser: Any, lang: str = "zh-CN") -> None:
    """Load the wall (/) and wait until it is live."""
    open_live(browser, f"{app.url}/?lang={lang}")


def banner_class(browser: Any) -> str:
    """The banner's classes."""
    return browser.find_element(By.ID, wall.ALERT_BANNER).get_attribute("class") or ""


def firing(app: App) -> dict[str, Any] | None:
    """The test alert from GET /api/v1/alerts, when active."""
    _, body = http_get(f"{app.url}/api/v1/alerts")
    return next((a for a in body["alerts"] if a["id"] == ALERT_ID), None)


def test_banner_flashes_until_acknowledged_on_another_screen(app: App, browser: Any, browser2: Any) -> None:
    open_wall(app, browser)
    open_wall(app, browser2, "en")
    assert "hidden" in banner_class(browser)

    post_reading(app, 0.42)
    wait_for(lambda: firing(app), 20, what="the alert firing in the API")

    # pushed to both open screens: the banner in the level's colour, flashing; the list; the counter
    for b in (browser, browser2):
        cls = wait_for(
            lambda b=b: (k := banner_class(b)) and "flashing" in k and k, 20, what="flashing banner"
        )
        assert "level-red" in cls and "hidden" not in cls
        # the page's CSS animates it
        anim = b.execute_script(
            "return getComputedStyle(document.getElementById(arguments[0])).animationName", wall.ALERT_BANNER
        )
        assert anim == "alert-flash"
        wait_for(lambda b=b: b.find_element(By.ID, "alert-count-red").text == "1", 10, what="red count 1")
        row = b.find_element(By.CSS_SELECTOR, f"#{wall.ALERT_LIST} .alert-row[data-alert='{ALERT_ID}']")
        assert "status-firing" in (row.get_attribute("class") or "")
        # the gauge's cell is outlined on the map, pulsing
        wait_for(
            lambda b=b: b.find_elements(By.CSS_SELECTOR, f"path.alert-area-{CELL}.level-red.alert-pulse"),
            10,
            what="the cell outlined",
        )
    text = browser.find_element(By.ID, wall.ALERT_BANNER).text
    assert "红色预警" in text and "积水超限" in text and CELL in text
    assert "Water over the limit" in browser2.find_element(By.ID, wall.ALERT_BANNER).text

    # acknowledging without a name is refused in the page; with a name it goes through
    btn = f"#{wall.ALERT_LIST} button.alert-ack-btn[data-alert='{ALERT_ID}']"
    browser2.find_element(By.CSS_SELECTOR, btn).click()
    wait_for(lambda: browser2.find_element(By.ID, wall.ALERT_MSG).text, 10, what="ask for a name")
    assert firing(app)["status"] == "firing"
    browser2.find_element(By.ID, wall.DUTY_NAME).send_keys("王值班")
    browser2.find_element(By.ID, wall.ALERT_NOTE).send_keys("已派人核查")
    browser2.find_element(By.CSS_SELECTOR, btn).click()

    # the change reaches the other screen: no more flashing, the row says who took it
    cls = wait_for(lambda: (k := banner_class(browser)) and "flashing" not in k and k, 10, what="flash stops")
    assert "level-red" in cls
    row = wait_for(
        lambda: browser.find_element(
            By.CSS_SELECTOR, f"#{wall.ALERT_LIST} .alert-row[data-alert='{ALERT_ID}']"
        ),
        10,
    )
    wait_for(lambda: "status-acknowledged" in (row.get_attribute("class") or ""), 10, what="acknowledged row")
    assert "王值班 已确认：已派人核查" in row.text  # who took it, and their note
    assert not browser.find_elements(By.CSS_SELECTOR, btn)
    wait_for(
        lambda: browser.find_elements(By.CSS_SELECTOR, f"path.alert-area-{CELL}.level-red:not(.alert-pulse)"),
        10,
        what="the outline stops pulsing",
    )
    alert = firing(app)
    assert (
        alert["status"] == "acknowledged"
        and alert["acked_by"] == "王值班"
        and alert["ack_note"] == "已派人核查"
    )
    # the audit trail has it: who, from the screens, which warning, where, and that it went through
    acks = [e for e in audit.read(app.client(), action="ack") if e["target"] == ALERT_ID]
    assert acks and acks[0]["user"] == "王值班" and acks[0]["via"] == "ui" and acks[0]["outcome"] == "ok"
    assert acks[0]["area"] == CELL and acks[0]["detail"] == "已派人核查"

    # the name is remembered in this browser
    browser2.refresh()
    open_wall(app, browser2, "en")
    wait_for(
        lambda: browser2.find_element(By.ID, wall.DUTY_NAME).get_attribute("value") == "王值班",
        10,
        what="the remembered name",
    )
    # a page loaded now gets the alert from the snapshot, not flashing
    cls = wait_for(
        lambda: (k := banner_class(browser2)) and "level-red" in k and k, 10, what="banner on load"
    )
    assert "flashing" not in cls


def test_ui_ack_endpoint_refuses_bad_requests(app: App) -> None:
    url = f"{app.url}/ui/alerts/nope:1/ack"
    assert post_json(url, {"actor": "王值班"})[0] == 404
    assert post_json(url, {"actor": ""})[0] == 422
    assert post_json(url, {"actor": "x", "extra": 1})[0] == 400
    assert post_json(url, {"actor": "x"}, {"Origin": "http://evil.example"})[0] == 403


def test_sound_toggle_is_off_by_default_and_remembered(app: App, browser: Any) -> None:
    open_wall(app, browser)
    el = browser.find_element(By.ID, wall.SOUND)
    wait_for(lambda: el.text == "启用声音", 10, what="the label")
    assert (
        el.get_attribute("aria-pressed") == "false" and "on" not in (el.get_attribute("class") or "").split()
    )
    assert browser.execute_script("return window.citybrain.soundOn") is False
    el.click()
    wait_for(lambda: el.get_attribute("aria-pressed") == "true", 10, what="sound on")
    assert "on" in (el.get_attribute("class") or "").split()
    assert browser.execute_script("return localStorage.getItem('citybrain.sound')") == "on"
    browser.refresh()
    open_wall(app, browser)
    el = browser.find_element(By.ID, wall.SOUND)
    wait_for(lambda: el.get_attribute("aria-pressed") == "true", 10, what="remembered on")
    el.click()
    wait_for(lambda: el.get_attribute("aria-pressed") == "false", 10, what="sound off")
    assert browser.execute_script("return localStorage.getItem('citybrain.sound')") == "off"


def sound_state(browser: Any) -> Any:
    return browser.execute_script("return window.citybrain.soundState")


def test_wall_and_desk_say_so_when_the_browser_blocks_sound(app: App) -> None:
    """A browser that allows audio only after a gesture: /wall shows 'click to enable sound' instead of
    pretending, / says the same on its toggle, and a click anywhere starts the sound."""
    from tests.support import chromium

    with chromium("--autoplay-policy=document-user-activation-required") as b:  # browsers' default
        open_live(b, f"{app.url}/wall")
        note = b.find_element(By.ID, wall.SOUND_NOTICE)
        wait_for(lambda: sound_state(b) == "blocked", 10, what="the wall's sound blocked")
        wait_for(lambda: "hidden" not in (note.get_attribute("class") or ""), 10, what="the notice shown")
        assert note.text == t("sound_blocked", "zh-CN")
        assert b.execute_script("return window.citybrain.soundOn") is False
        note.click()  # a person's gesture: the browser now lets the wall sound
        wait_for(lambda: sound_state(b) == "on", 10, what="sound on after a click")
        wait_for(lambda: "hidden" in (note.get_attribute("class") or ""), 10, what="the notice gone")

        # the desk: sound was turned on in this browser before; after a reload the toggle asks for a click
        b.execute_script("localStorage.setItem('citybrain.sound', 'on')")
        open_wall(app, b)
        el = b.find_element(By.ID, wall.SOUND)
        wait_for(lambda: el.text == t("sound_click", "zh-CN"), 10, what="the toggle asks for a click")
        assert "blocked" in (el.get_attribute("class") or "").split() and sound_state(b) == "blocked"
        assert el.text != t("sound_on", "zh-CN")
        b.find_element(By.CSS_SELECTOR, ".wall-header h1").click()  # any click
        wait_for(lambda: el.text == t("sound_on", "zh-CN"), 10, what="sound on after a click")
        assert "blocked" not in (el.get_attribute("class") or "").split()


def test_kiosk_wall_sounds_a_new_warning_with_nobody_touching_it(app: App) -> None:
    """The README's kiosk line (--autoplay-policy=no-user-gesture-required): /wall sounds by itself when a
    new red warning arrives (another gauge: the first one's warning was acknowledged above and reopens
    acknowledged), and stops once it is acknowledged."""
    from tests.support import chromium

    gauge = "SEN-0010"
    alert_id = f"{RULE}:{gauge}"
    with chromium("--autoplay-policy=no-user-gesture-required") as b:
        open_live(b, f"{app.url}/wall")
        wait_for(lambda: sound_state(b) == "on", 10, what="the wall's sound on")
        note = b.find_element(By.ID, wall.SOUND_NOTICE)
        assert "hidden" in (note.get_attribute("class") or "")
        assert not b.execute_script("return window.citybrain.beeps")  # nothing sounds yet

        post_reading(app, 0.42, gauge)  # a new red warning
        wait_for(lambda: b.execute_script("return window.citybrain.beeps") or 0, 20, what="the alarm played")
        assert b.execute_script("return window.citybrain.lastTone") == "red"

        status, _ = http_post(f"{app.url}/api/v1/alerts/{alert_id}/ack", {"actor": "王值班"}, TOKEN)
        assert status == 200
        wait_for(lambda: b.execute_script("return window.citybrain.soundLoud") is None, 10, what="quiet")


def test_push_splits_alert_changes_into_consecutive_runs() -> None:
    from dashboard.web.push import alert_message
    from dashboard.web.push import runs as seq_runs

    ch = [{"seq": s, "ts": s, "alerts": [], "removed": [], "transitions": []} for s in (3, 4, 6)]
    runs = seq_runs(ch, lambda d: d["seq"])
    assert [[d["seq"] for d in run] for run in runs] == [[3, 4], [6]]
    msg = alert_message(runs[0])
    assert (msg["from"], msg["to"]) == (3, 4) and [d["seq"] for d in msg["changes"]] == [3, 4]
    assert "transitions" not in msg["changes"][0]


def test_snapshot_carries_the_active_alerts(app: App) -> None:
    status, snap = http_get(f"{app.url}/api/v1/snapshot")
    _, api = http_get(f"{app.url}/api/v1/alerts")
    assert status == 200 and snap["alerts"]["seq"] == api["seq"]
    assert [a["id"] for a in snap["alerts"]["alerts"]] == [a["id"] for a in api["alerts"]]
