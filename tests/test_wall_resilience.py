"""The wall survives what a 24-hour wall meets: a lost delta, a web server that dies and comes back, a
feed that stops. Real roles (run.py web / processor / feeds as subprocesses on one real Redis), a real
Chromium; every wait polls, nothing is timed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from selenium.webdriver.common.by import By

from dashboard.store import keys
from dashboard.store.records import CaseEvent, encode
from dashboard.store.server import EmbeddedRedis, free_port
from layouts import wall
from tests.conftest import ROOT, http_get, wait_for

STALE_S = 5  # the test config's health.feed_stale_s


class Roles:
    """run.py's roles started one by one against one embedded Redis, so that each can die alone."""

    def __init__(self, d: Path) -> None:
        """Start Redis in ``d`` and write the test config (short feed staleness)."""
        self.d = d
        self.redis = EmbeddedRedis(d / "redis")
        self.url = self.redis.start()
        self.config = d / "config.yaml"
        self.config.write_text(f"health:\n  feed_stale_s: {STALE_S}\n")
        self.port = free_port()
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def web(self) -> str:
        """The web role's base URL (the same port across restarts)."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, role: str, *extra: str) -> None:
        """Start one role; the web role is up when it answers."""
        args = ["--port", str(self.port)] if role == "web" else []
        with open(self.d / f"{role}.log", "ab") as log:
            self.procs[role] = subprocess.Popen(
                [sys.executable, str(ROOT / "run.py"), role, "--config", str(self.config), *args, *extra],
                cwd=ROOT,
                env=dict(os.environ, REDIS_URL=self.url, LOG_LEVEL="WARNING"),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        if role == "web":
            up = lambda: http_get(self.web + "/api/v1/snapshot", 2)[0] == 200  # noqa: E731
            wait_for(up, 60, 0.2, f"web up (log: {self.d / 'web.log'})")

    def stop(self, role: str, sig: int = signal.SIGTERM) -> None:
        """Stop one role and wait for it to be gone."""
        proc = self.procs.pop(role)
        if proc.poll() is None:
            proc.send_signal(sig)
        proc.wait(15)

    def client(self) -> redis.Redis:
        """A client on the roles' Redis."""
        return redis.Redis.from_url(self.url, decode_responses=True)

    def close(self) -> None:
        """Stop every role, then Redis."""
        for role in list(self.procs):
            self.stop(role, signal.SIGKILL)
        self.redis.stop()


@pytest.fixture
def roles(short_tmp: Path) -> Iterator[Roles]:
    """Redis, the processor and the web role (feeds only when a test starts them)."""
    rs = Roles(short_tmp)
    try:
        rs.start("processor")
        rs.start("web")
        yield rs
    finally:
        rs.close()


def add_cases(r: redis.Redis, cell: str, prefix: str, n: int) -> None:
    """Report ``n`` new cases in ``cell``."""
    now = int(time.time() * 1000)
    for i in range(n):
        ev = CaseEvent(
            event_id=f"{prefix}-{i}-0", case_id=f"{prefix}-{i}", ts=now, step="reported",
            event_type="CM-0101", category="city_management", cell_id=cell, source="test",
        )  # fmt: skip
        r.xadd(keys.STREAM_CASE_EVENTS, encode(ev))  # type: ignore[arg-type]


def js(browser: Any, expr: str) -> Any:
    """Evaluate an expression in the page."""
    return browser.execute_script(f"return {expr};")


def text(browser: Any, element_id: str) -> str:
    """An element's text ('' when it is not there)."""
    els = browser.find_elements(By.ID, element_id)
    return str(els[0].text) if els else ""


def open_wall(browser: Any, url: str) -> None:
    """Load the wall and wait until it is live."""
    browser.get(url + "/?lang=en")
    wait_for(lambda: len(browser.find_elements(By.CSS_SELECTOR, "path.cell")) == 478, 30, what="478 cells")
    wait_for(lambda: "conn-ok" in (browser.find_element(By.ID, wall.CONNECTION).get_attribute("class") or ""),
             20, what="Socket.IO connected")  # fmt: skip


def matches_redis(browser: Any, r: redis.Redis, sub: str) -> bool:
    """The open-case counter and a subdistrict's total on the page equal Redis's."""
    client: Any = r  # replies are str (decode_responses=True)
    open_now = int(client.hget(keys.COUNTERS, "open") or 0)
    cells: dict[str, str] = client.hgetall(keys.CELL_OPEN)
    sub_total = sum(int(v) for k, v in cells.items() if k.startswith(sub + "-"))
    shown = (text(browser, wall.KPI_OPEN), text(browser, f"sub-total-{sub}"))
    return shown == (str(open_now), str(sub_total))


def test_a_dropped_delta_forces_a_resync(roles: Roles, browser: Any) -> None:
    r = roles.client()
    open_wall(browser, roles.web)
    add_cases(r, "ZM-0001", "A", 1)
    wait_for(lambda: js(browser, "window.citybrain.applied || 0") >= 1, 20, what="a delta applied")
    resyncs = js(browser, "window.citybrain.resyncs || 0")
    browser.execute_script("window.citybrain.test.dropNext();")
    add_cases(r, "ZM-0001", "B", 1)
    wait_for(lambda: js(browser, "window.citybrain.dropped || 0") == 1, 20, what="the delta dropped")
    assert js(browser, "window.citybrain.resyncs || 0") == resyncs  # a lost delta alone is invisible
    add_cases(r, "ZM-0001", "C", 1)  # the next delta shows the gap
    wait_for(
        lambda: js(browser, "window.citybrain.resyncs || 0") > resyncs, 20, what="a resync after the gap"
    )
    wait_for(lambda: matches_redis(browser, r, "ZM"), 10, what="the page equal to Redis")
    assert text(browser, wall.KPI_OPEN) == "3"


def test_the_wall_survives_a_web_restart(roles: Roles, browser: Any) -> None:
    r = roles.client()
    open_wall(browser, roles.web)
    browser.execute_script("window.__survivor = 42;")
    add_cases(r, "ZM-0002", "D", 2)
    wait_for(
        lambda: text(browser, wall.KPI_OPEN) == "2" and text(browser, "sub-total-ZM") == "2",
        20,
        what="2 open cases on the page",
    )
    banner = browser.find_element(By.ID, wall.CONNECTION_BANNER)
    assert "hidden" in (banner.get_attribute("class") or "")

    roles.stop("web", signal.SIGKILL)
    wait_for(lambda: "hidden" not in (banner.get_attribute("class") or ""), 5, 0.1, "the connection banner")
    assert banner.text.startswith("Connection lost, last update ") and banner.text[-8:-6].isdigit()
    # the last good screen stays: map, counters, panels
    assert text(browser, wall.KPI_OPEN) == "2" and text(browser, "sub-total-ZM") == "2"
    assert len(browser.find_elements(By.CSS_SELECTOR, "path.cell")) == 478

    add_cases(r, "ZM-0003", "E", 3)  # processed while no web server pushes: these deltas never reach the page
    wait_for(lambda: r.hget(keys.COUNTERS, "open") == "5", 20, what="5 open cases in Redis")
    roles.start("web")
    wait_for(lambda: matches_redis(browser, r, "ZM"), 5, 0.1, "the wall current again")
    wait_for(lambda: "hidden" in (banner.get_attribute("class") or ""), 5, 0.1, "the banner gone")
    assert js(browser, "window.__survivor") == 42  # no reload
    assert js(browser, "performance.getEntriesByType('navigation').length") == 1
    assert text(browser, wall.KPI_OPEN) == "5"
    # and it is live again: a new case arrives by push
    add_cases(r, "ZM-0004", "F", 1)
    wait_for(lambda: text(browser, wall.KPI_OPEN) == "6", 10, what="a delta after the restart")


def panel_state(browser: Any, panel: str) -> tuple[bool, str]:
    """(greyed out, freshness mark) of a panel."""
    out: list[Any] = browser.execute_script(
        "var m = document.getElementById('fresh-' + arguments[0]);"
        "return m ? [m.closest('.panel, .kpi').classList.contains('stale'), m.getAttribute('data-fresh')]"
        " : null;",
        panel,
    )
    return bool(out[0]), str(out[1])


def test_a_stopped_feed_greys_its_panels(roles: Roles, browser: Any) -> None:
    roles.start("feeds", "--seed", "3")
    r = roles.client()
    wait_for(lambda: r.hget(keys.feed_key("simulator"), "heartbeat_ms"), 30, what="the simulator's heartbeat")
    open_wall(browser, roles.web)
    wait_for(lambda: panel_state(browser, wall.FLOW)[1].isdigit(), 10, what="an age on the flow panel")
    assert panel_state(browser, wall.FLOW)[0] is False
    assert panel_state(browser, wall.KPI_CAMERAS)[0] is False

    roles.stop("feeds")  # the simulator feeds cases, cameras and sensors
    wait_for(lambda: panel_state(browser, wall.FLOW) == (True, "stale"), 2 * STALE_S, 0.1, "flow panel stale")
    assert panel_state(browser, wall.KPI_CAMERAS) == (True, "stale")
    mark = text(browser, f"fresh-{wall.FLOW}")
    assert mark.startswith("stale since ") and mark[-8:-6].isdigit()

    roles.start("feeds", "--seed", "3")  # back: fresh again, by itself
    wait_for(lambda: panel_state(browser, wall.FLOW)[0] is False, 60, what="flow panel fresh again")
