"""End to end: silencing a warning from the wall, and the page ``/alerts`` (the history, filtered, with
each alert's transitions). Started like tests/test_alert_screens.py: run.py without the simulator, a
threshold rule on a water gauge, a reading posted to the HTTP API, real headless Chromium."""

from __future__ import annotations

import os
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
from tests.conftest import App, wait_for

ALERT_ID = screens.ALERT_ID
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


def test_silence_from_the_wall_then_the_history_page(app: App, browser: Any) -> None:
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
    text = _row(browser).text
    assert "silenced until" in text and "李值班" in text
    alert = screens.firing(app)
    assert alert["status"] == "silenced" and alert["silenced_by"] == "李值班"
    assert alert["silence_reason"] == "pump at work"
    assert 115 * 60_000 < alert["silenced_until"] - alert["updated"] <= 120 * 60_000

    # the wall links to the history page
    link = browser.find_element(By.ID, "alerts-history-link")
    assert (link.get_attribute("href") or "").endswith("/alerts?lang=en")
    link.click()
    wait_for(lambda: ALERT_ID in _table_ids(browser), 20, what="the alert listed on /alerts")
    row = browser.find_element(
        By.CSS_SELECTOR, f"#{alerts_page.TABLE} tr.alerts-row[data-alert='{ALERT_ID}']"
    )
    assert "level-orange" in (row.get_attribute("class") or "")

    # filter by level: red hides it, orange shows it
    browser.find_element(By.CSS_SELECTOR, f"#{alerts_page.FILTER_LEVEL} input[value='red']").click()
    wait_for(lambda: ALERT_ID not in _table_ids(browser), 10, what="hidden by the red filter")
    browser.find_element(By.CSS_SELECTOR, f"#{alerts_page.FILTER_LEVEL} input[value='orange']").click()
    wait_for(lambda: ALERT_ID in _table_ids(browser), 10, what="shown by the orange filter")

    # clicking the row shows its transitions, the silence with its actor and reason among them
    browser.find_element(
        By.CSS_SELECTOR, f"#{alerts_page.TABLE} tr.alerts-row[data-alert='{ALERT_ID}']"
    ).click()
    out = wait_for(
        lambda: (s := browser.find_element(By.ID, alerts_page.TRANSITIONS).text) and "silenced" in s and s,
        10,
        what="the transitions",
    )
    assert "→ firing" in out and "→ silenced" in out
    assert "李值班" in out and "pump at work" in out


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
