"""End to end: silencing, un-silencing and acknowledging a warning from the wall (the list says who, until
when, for how long and why), and the page ``/alerts`` (the history in words in English and Chinese,
filtered, peak level, links to the area, each alert's transitions, the CSV export). Started like
tests/test_alert_screens.py: run.py without the simulator, a threshold rule on a water gauge, a reading
posted to the HTTP API, real headless Chromium."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from layouts import alerts_page, wall
from tests import test_alert_screens as screens
from tests.conftest import App, http_get, wait_for

ALERT_ID = screens.ALERT_ID
EPOCH = re.compile(r"\d{12,}")  # an epoch time in milliseconds
STATUS_KEYS = re.compile(r"\b(normal|pending|firing|acknowledged|silenced|resolved|engine)\b", re.I)
CONFIG = screens.CONFIG.replace("level: red", "level: orange")


@pytest.fixture(scope="module")
def app() -> Iterator[App]:
    """The whole system without the simulator, with one orange threshold rule that fires at once."""
    d = Path(tempfile.mkdtemp(prefix="cbp-"))  # short: the Redis socket path must stay short
    os.environ["CB_TEST_TOKEN"] = screens.TOKEN
    cfg = d / "config.yaml"
    cfg.write_text(CONFIG)
    a = App(d, "--no-simulator", "--config", str(cfg)).start()
    yield a
    if a.proc is not None and a.proc.poll() is None:
        a.stop()
    shutil.rmtree(d, ignore_errors=True)


def _row(browser: Any) -> Any:
    return browser.find_element(By.CSS_SELECTOR, f"#{wall.ALERT_LIST} .alert-row[data-alert='{ALERT_ID}']")


def _table_ids(browser: Any) -> list[str]:
    rows = browser.find_elements(By.CSS_SELECTOR, f"#{alerts_page.TABLE} tr.alerts-row")
    return [r.get_attribute("data-alert") or "" for r in rows]


def _history_row(browser: Any) -> Any:
    return browser.find_element(
        By.CSS_SELECTOR, f"#{alerts_page.TABLE} tr.alerts-row[data-alert='{ALERT_ID}']"
    )


def test_silence_unsilence_and_acknowledge_from_the_wall_then_the_history_page(
    app: App, browser: Any
) -> None:
    screens.open_wall(app, browser, "en")
    screens.post_reading(app, 0.42)
    wait_for(lambda: screens.firing(app), 20, what="the alert firing in the API")
    wait_for(lambda: _row(browser), 20, what="the alert row")

    sel = f"#{wall.ALERT_LIST} .alert-silence[data-alert='{ALERT_ID}']"
    # without a reason the page asks for one and posts nothing
    browser.find_element(By.ID, wall.DUTY_NAME).send_keys("李值班")
    browser.find_element(By.CSS_SELECTOR, f"{sel} button.alert-silence-btn").click()
    wait_for(lambda: browser.find_element(By.ID, wall.ALERT_MSG).text, 10, what="ask for a reason")
    assert screens.firing(app)["status"] == "firing"

    Select(browser.find_element(By.CSS_SELECTOR, f"{sel} select.alert-silence-dur")).select_by_value("120")
    browser.find_element(By.CSS_SELECTOR, f"{sel} .alert-silence-reason input").send_keys("pump at work")
    browser.find_element(By.CSS_SELECTOR, f"{sel} button.alert-silence-btn").click()

    wait_for(
        lambda: "status-silenced" in (_row(browser).get_attribute("class") or ""), 10, what="silenced row"
    )
    alert = screens.firing(app)
    assert alert["status"] == "silenced" and alert["silenced_by"] == "李值班"
    assert alert["silence_reason"] == "pump at work"
    assert 119 * 60_000 < alert["silenced_until"] - alert["silenced_at"] <= 120 * 60_000
    # in words: who, until when (local time), for how long, why; never an epoch time
    text = _row(browser).find_element(By.CSS_SELECTOR, ".al-state").get_attribute("textContent") or ""
    assert text.startswith("silenced by 李值班 until ") and text.endswith(" (for 2 h): pump at work"), text
    assert not EPOCH.search(text)

    # the silence ends by hand: the row fires again
    btn = f"#{wall.ALERT_LIST} button.alert-unsilence-btn[data-alert='{ALERT_ID}']"
    browser.find_element(By.CSS_SELECTOR, btn).click()
    wait_for(lambda: "status-firing" in (_row(browser).get_attribute("class") or ""), 10, what="firing again")
    assert screens.firing(app)["silenced_until"] is None
    assert not browser.find_elements(By.CSS_SELECTOR, btn)

    # acknowledged with a note: the list shows who and the note
    browser.find_element(By.ID, wall.ALERT_NOTE).send_keys("crew on site")
    browser.find_element(
        By.CSS_SELECTOR, f"#{wall.ALERT_LIST} button.alert-ack-btn[data-alert='{ALERT_ID}']"
    ).click()
    wait_for(
        lambda: (
            _row(browser).find_element(By.CSS_SELECTOR, ".al-state").text
            == "acknowledged by 李值班: crew on site"
        ),
        10,
        what="the acknowledgement's note in the list",
    )

    # the wall links to the history page
    link = browser.find_element(By.ID, "alerts-history-link")
    assert (link.get_attribute("href") or "").endswith("/alerts?lang=en")
    link.click()
    wait_for(lambda: ALERT_ID in _table_ids(browser), 20, what="the alert listed on /alerts")
    row = _history_row(browser)
    assert "level-orange" in (row.get_attribute("class") or "")
    cells = [td.text for td in row.find_elements(By.TAG_NAME, "td")]
    assert cells[0] == "Severe" and cells[1] == "Water over the limit"
    assert re.fullmatch(r"20\d\d-\d\d-\d\d \d\d:\d\d", cells[3]), cells
    assert cells[4].startswith("firing for ") and cells[4].endswith(", still on"), cells
    assert cells[5].startswith("Acknowledged (since 20"), cells
    assert "acknowledged by 李值班: crew on site" in cells[6]
    assert re.search(r"silenced by 李值班 until \S+ \(for 2 h\): pump at work", cells[6]), cells
    assert "silence ended by 李值班" in cells[6]
    area = row.find_element(By.CSS_SELECTOR, "td.ap-where a")
    assert (area.get_attribute("href") or "").endswith(f"/cell/{screens.CELL}?lang=en")
    assert area.text.startswith(screens.CELL + " ")
    page = browser.find_element(By.ID, alerts_page.ROOT).text
    assert not EPOCH.search(page), page

    # filter by level: red hides it, orange shows it; the export follows the filters
    browser.find_element(By.CSS_SELECTOR, f"#{alerts_page.FILTER_LEVEL} input[value='red']").click()
    wait_for(lambda: ALERT_ID not in _table_ids(browser), 10, what="hidden by the red filter")
    browser.find_element(By.CSS_SELECTOR, f"#{alerts_page.FILTER_LEVEL} input[value='orange']").click()
    wait_for(lambda: ALERT_ID in _table_ids(browser), 10, what="shown by the orange filter")
    href = wait_for(
        lambda: (
            (h := browser.find_element(By.ID, alerts_page.EXPORT).get_attribute("href"))
            and "level=orange" in h
            and h
        ),
        10,
        what="the export link following the filter",
    )
    status, body = http_get(href)
    assert status == 200
    lines = body.lstrip("\ufeff").splitlines()
    assert re.fullmatch(r"As of,20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", lines[0]), lines[0]
    assert lines[1] == "Filters,Level=Severe; Range=7 days"
    assert lines[3].startswith("Peak level,Alert id,")
    assert any(line.startswith(f"Severe,{ALERT_ID},Water over the limit,{screens.CELL},") for line in lines)
    assert "crew on site" in body and not EPOCH.search(body)

    # clicking the row shows its transitions in words, the silence, its end and the note among them
    _history_row(browser).click()
    out = wait_for(
        lambda: (s := browser.find_element(By.ID, alerts_page.TRANSITIONS).text) and "Silenced" in s and s,
        10,
        what="the transitions",
    )
    assert "→ Firing" in out and "→ Silenced" in out and "silence ended by 李值班" in out
    assert "pump at work" in out and not EPOCH.search(out)


def test_history_page_in_chinese_has_no_raw_keys_or_epoch_times(app: App, browser: Any) -> None:
    if not any(e["instance"] == ALERT_ID for e in http_get(f"{app.url}/api/v1/alerts/history")[1]["history"]):
        screens.post_reading(app, 0.42)
    browser.get(f"{app.url}/alerts?lang=zh-CN")
    wait_for(lambda: ALERT_ID in _table_ids(browser), 20, what="the alert listed on /alerts")
    _history_row(browser).click()
    wait_for(
        lambda: len(browser.find_elements(By.CSS_SELECTOR, f"#{alerts_page.TRANSITIONS} .ap-tr")) >= 2,
        10,
        what="the transitions",
    )
    text = browser.find_element(By.ID, alerts_page.ROOT).text
    assert not EPOCH.search(text), text
    assert not STATUS_KEYS.search(text), text
    cells = [td.text for td in _history_row(browser).find_elements(By.TAG_NAME, "td")]
    assert cells[0] == "橙色预警" and cells[1] == "积水超限" and cells[4].startswith("已预警 "), cells
    href = browser.find_element(By.ID, alerts_page.EXPORT).get_attribute("href") or ""
    status, body = http_get(href)
    assert status == 200 and body.startswith("\ufeff数据截至,20") and "积水超限" in body


def test_ui_unsilence_endpoint(app: App) -> None:
    url = f"{app.url}/ui/alerts/{ALERT_ID}/unsilence"
    if screens.firing(app) is None:
        screens.post_reading(app, 0.42)
        wait_for(lambda: screens.firing(app), 20, what="the alert firing")
    if screens.firing(app)["status"] == "silenced":
        assert screens.post_json(url, {"actor": "x"})[0] == 200
    status, body = screens.post_json(url, {"actor": "王值班"})
    assert status == 409 and body["errors"][0]["field"] == "id" and "not silenced" in body["error"]
    assert screens.post_json(url, {"actor": ""})[0] == 422
    assert screens.post_json(url, {"actor": "x", "note": 3})[0] == 422
    assert screens.post_json(url, {"actor": "x", "minutes": 30})[0] == 400
    assert screens.post_json(url, {"actor": "x"}, {"Origin": "http://evil.example"})[0] == 403
    assert screens.post_json(f"{app.url}/ui/alerts/nope:1/unsilence", {"actor": "x"})[0] == 404
    silence = {"actor": "李值班", "minutes": 30, "reason": "检修"}
    assert screens.post_json(f"{app.url}/ui/alerts/{ALERT_ID}/silence", silence)[0] == 200
    status, body = screens.post_json(url, {"actor": "王值班", "note": "提前恢复"})
    assert status == 200 and body["alert"]["silenced_until"] is None


def test_ui_silence_endpoint_refuses_bad_requests(app: App) -> None:
    url = f"{app.url}/ui/alerts/{ALERT_ID}/silence"
    status, body = screens.post_json(url, {"actor": "王值班", "minutes": 30})
    assert status == 422 and body["errors"][0]["field"] == "reason"
    status, body = screens.post_json(url, {"actor": "王值班", "minutes": 30, "reason": "  "})
    assert status == 422 and body["errors"][0]["field"] == "reason"
    status, body = screens.post_json(url, {"actor": "", "minutes": 30, "reason": "x"})
    assert status == 422 and body["errors"][0]["field"] == "actor"
    status, body = screens.post_json(url, {"actor": "x", "minutes": 7, "reason": "x"})
    assert status == 422 and body["errors"][0]["field"] == "minutes"
    assert screens.post_json(url, {"actor": "x", "minutes": 30, "reason": "x", "extra": 1})[0] == 400
    headers = {"Origin": "http://evil.example"}
    assert screens.post_json(url, {"actor": "x", "minutes": 30, "reason": "x"}, headers)[0] == 403
    assert (
        screens.post_json(
            f"{app.url}/ui/alerts/nope:1/silence", {"actor": "x", "minutes": 30, "reason": "x"}
        )[0]
        == 404
    )
