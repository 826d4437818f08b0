"""The README's storm demo as a new user runs it, end to end: run.py with the storm scenario and a
speed (which also shortens the rules' durations), the default rules, the simulator's rain and ponding,
the engine, the push, /wall in a kiosk Chromium (autoplay allowed). A flood warning shows on the wall and
sounds with nobody touching it. At --speed 120 (the README says 60: the same path, twice as fast, so the
suite stays short) the first warning comes about half a minute after start."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from selenium.webdriver.common.by import By

from layouts import wall
from tests.conftest import App, http_get, wait_for
from tests.support import chromium, open_live, temp_dir


@pytest.fixture(scope="module")
def storm() -> Iterator[App]:
    with temp_dir("cbd-") as d:
        app = App(d, "--scenario", "storm", "--speed", "120", "--seed", "7").start()
        yield app
        app.stop()


def flood_warnings(app: App) -> list[dict[str, Any]]:
    _, body = http_get(f"{app.url}/api/v1/alerts")
    return [a for a in body["alerts"] if a["rule"] == "flood-low-lying"]


def test_the_storm_demo_raises_a_flood_warning_that_the_wall_shows_and_sounds(storm: App) -> None:
    with chromium("--autoplay-policy=no-user-gesture-required") as b:
        open_live(b, f"{storm.url}/wall")
        fired = wait_for(lambda: flood_warnings(storm), 240, 2, "a flood warning from the storm")
        assert all(a["area"] for a in fired)
        banner = b.find_element(By.ID, wall.ALERT_BANNER)
        wait_for(lambda: "hidden" not in (banner.get_attribute("class") or ""), 20, what="the wall's banner")
        wait_for(lambda: fired[0]["title_zh"] in banner.text, 20, what="the warning's title on the banner")
        wait_for(lambda: b.execute_script("return window.citybrain.beeps") or 0, 20, what="the alarm sounded")
