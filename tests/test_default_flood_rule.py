"""The shipped default rules on the real system: a water-level reading above the flood rule's alarm
level, posted through the sensor API, shows the orange banner and the pulsing cell within seconds.
(The rule's 5-minute `for` is compressed by `alerts.time_scale`; nothing else differs from the default.)"""

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

from dashboard.domain.geo import load_default_geography
from dashboard.domain.registry import default_registry
from layouts import wall
from tests.conftest import App, http_get, http_post, wait_for

TOKEN = secrets.token_urlsafe(16)


def low_lying_gauge() -> tuple[str, str]:
    """A water-level gauge of the registry in a low-lying cell: (sensor id, cell id)."""
    cells = load_default_geography().cells
    for s in default_registry().sensors.values():
        if s.metric == "water_level" and "low_lying" in cells[s.cell_id].tags:
            return s.id, s.cell_id
    raise AssertionError("the registry has no water gauge in a low-lying cell")


@pytest.fixture
def app() -> Iterator[App]:
    """The whole system without the simulator, with the default alert rules, time compressed 300x."""
    d = Path(tempfile.mkdtemp(prefix="cbf-"))
    os.environ["CB_TEST_TOKEN"] = TOKEN
    cfg = d / "config.yaml"
    cfg.write_text("ingest:\n  tokens:\n    test: ${CB_TEST_TOKEN}\nalerts:\n  time_scale: 300\n")
    a = App(d, "--no-simulator", "--config", str(cfg)).start()
    yield a
    a.stop()
    shutil.rmtree(d, ignore_errors=True)


def test_flood_reading_raises_the_default_flood_warning(app: App, browser: Any) -> None:
    sensor, cell = low_lying_gauge()
    browser.get(f"{app.url}/")
    wait_for(
        lambda: "conn-ok" in (browser.find_element(By.ID, wall.CONNECTION).get_attribute("class") or ""),
        30,
        what="Socket.IO connected",
    )
    body = {"readings": [{"sensor_id": sensor, "metric": "water_level", "value": 0.55, "unit": "m",
                          "time": int(time.time() * 1000)}]}  # fmt: skip
    assert http_post(f"{app.url}/api/v1/sensor-readings", body, TOKEN)[0] == 202

    alert = wait_for(
        lambda: next((a for a in http_get(f"{app.url}/api/v1/alerts")[1]["alerts"]
                      if a["rule"] == "flood-low-lying" and a["key"] == cell), None),
        30,
        0.3,
        "the default flood rule firing for the cell",
    )  # fmt: skip
    assert alert["level"] == "orange" and alert["state"] == "firing"  # 0.55 m: over the 0.5 m step
    cls = wait_for(
        lambda: (
            (k := browser.find_element(By.ID, wall.ALERT_BANNER).get_attribute("class") or "")
            and "flashing" in k
            and k
        ),
        20,
        what="the flashing banner",
    )
    assert "level-orange" in cls
    assert cell in browser.find_element(By.ID, wall.ALERT_BANNER).text
    wait_for(
        lambda: browser.find_elements(By.CSS_SELECTOR, f"path.alert-area-{cell}.level-orange.alert-pulse"),
        20,
        what="the cell outlined in orange, pulsing",
    )
