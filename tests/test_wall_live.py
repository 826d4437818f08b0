"""End to end: run.py as a subprocess, a real Chromium on the wall, a case written into the input
stream changes its cell on the page without reload; SIGTERM leaves no process behind; a restart keeps
the data."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
from selenium.webdriver.common.by import By

from dashboard.store import keys
from dashboard.store.records import CaseEvent, encode
from layouts import wall
from tests.conftest import App, http_get, wait_for


def descendants(pid: int) -> list[psutil.Process]:
    """Every process started under ``pid``, children of children included."""
    return psutil.Process(pid).children(recursive=True)


def report(cell: str, case: str, ts: int) -> CaseEvent:
    """A case report for ``cell``."""
    return CaseEvent(
        event_id=f"{case}-0",
        case_id=case,
        ts=ts,
        step="reported",
        event_type="CM-0101",
        category="city_management",
        cell_id=cell,
        source="test",
    )


def cell_fill(browser: Any, cell: str) -> str | None:
    """The fill colour of a cell's shape on the page."""
    # read in one script: the paths are replaced whenever the cells are restyled
    fill: str | None = browser.execute_script(
        "var p = document.querySelector(arguments[0]); return p ? p.getAttribute('fill') : null;",
        f"path.cell-{cell}",
    )
    return fill


@pytest.fixture
def app(short_tmp: Path) -> Any:
    """The whole system, started by run.py: embedded Redis, processor, simulator (fast), web."""
    a = App(short_tmp, "--speed", "30", "--seed", "7").start()
    yield a
    if a.proc is not None and a.proc.poll() is None:
        a.stop()


def test_wall_shows_live_cells_and_stops_cleanly(app: App, browser: Any) -> None:
    # healthy once the warm-start back-fill is worked off (the lag is over the limit for a few seconds)
    health = wait_for(
        lambda: (h := http_get(app.url + "/healthz"))[0] == 200 and "simulator" in h[1]["feeds"] and h[1],
        60,
        0.5,
        "healthy with the simulator feeding",
    )
    assert health["redis"] is True and health["processor"]["lag"] <= 10_000
    r = app.client()

    browser.get(app.url + "/")
    wait_for(lambda: len(browser.find_elements(By.CSS_SELECTOR, "path.cell")) == 478, 30, what="478 cells")
    wait_for(
        lambda: "conn-ok" in (browser.find_element(By.ID, wall.CONNECTION).get_attribute("class") or ""),
        20,
        what="Socket.IO connected",
    )
    # the simulator makes the wall move: the open-case counter follows Redis
    wait_for(lambda: int(r.hget(keys.COUNTERS, "open") or 0) > 0, 60, what="simulated cases")
    wait_for(
        lambda: browser.find_element(By.ID, wall.KPI_OPEN).text not in ("", "–", "0"),
        30,
        what="open-case counter on the page",
    )

    # a cell with no open case turns the top colour, and tops the list, after enough reports arrive; the
    # counts are read once the warm-start back-fill is worked off (else other cells overtake it later)
    wait_for(lambda: http_get(app.url + "/healthz")[1]["processor"]["lag"] <= 500, 90, 0.5, "back-fill done")
    counts = {k: int(v) for k, v in r.hgetall(keys.CELL_OPEN).items()}
    cell = next(cid for cid in sorted(app_cells()) if counts.get(cid, 0) == 0)
    # the page shows what Redis holds once the deltas in flight have arrived
    wait_for(lambda: cell_fill(browser, cell) == wall.COLORS[0], 15, 0.1, f"{cell} shown with no open case")
    now = int(time.time() * 1000)
    for i in range(max([wall.BINS[-1], *counts.values()]) + 10):
        r.xadd(keys.STREAM_CASE_EVENTS, encode(report(cell, f"T-{cell}-{i}", now)))  # type: ignore[arg-type]
    wait_for(lambda: cell_fill(browser, cell) == wall.COLORS[-1], 20, what=f"{cell} turning red")
    assert browser.execute_script("return performance.getEntriesByType('navigation').length") == 1
    # on top once every report is processed (the simulator at 30x keeps the processor busy meanwhile)
    wait_for(lambda: cell in browser.find_element(By.ID, wall.TOP_CELLS).text, 30, what="cell in top list")

    # SIGTERM stops everything it started, Redis included, within a few seconds
    assert app.proc is not None
    kids = descendants(app.proc.pid)
    assert len(kids) >= 4  # redis-server, web, processor, feeds
    assert app.stop() == 0
    _, alive = psutil.wait_procs(kids, timeout=5)
    assert [p for p in alive if p.status() != psutil.STATUS_ZOMBIE] == []


def app_cells() -> list[str]:
    """Every cell id of the shipped geography."""
    from dashboard.domain.geo import load_default_geography

    return list(load_default_geography().cells)


def test_restart_keeps_the_live_state(short_tmp: Path) -> None:
    a = App(short_tmp, "--no-simulator").start()
    try:
        r = a.client()
        now = int(time.time() * 1000)
        for i in range(3):
            r.xadd(keys.STREAM_CASE_EVENTS, encode(report("ZM-0001", f"R-{i}", now)))  # type: ignore[arg-type]
        wait_for(lambda: r.hget(keys.CELL_OPEN, "ZM-0001") == "3", 20, what="3 open cases")
        time.sleep(1.5)  # not a timed assertion: appendfsync everysec needs a second to reach disk
    finally:
        assert a.stop() == 0
    b = App(short_tmp, "--no-simulator").start()
    try:
        status, snap = http_get(b.url + "/api/v1/snapshot")
        assert status == 200
        assert snap["cells"]["ZM-0001"] == 3 and snap["kpi"]["open"] == 3
    finally:
        b.stop()


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "Ctrl-C"])
def test_stopping_run_py_leaves_no_orphan(short_tmp: Path, sig: signal.Signals) -> None:
    a = App(short_tmp, "--no-simulator").start()
    assert a.proc is not None
    kids = descendants(a.proc.pid)
    assert len(kids) >= 4
    a.proc.send_signal(sig)  # SIGKILL: no handler runs, PDEATHSIG takes the children down
    a.proc.wait(10)
    _, alive = psutil.wait_procs(kids, timeout=10)
    assert [p for p in alive if p.status() != psutil.STATUS_ZOMBIE] == []


def test_healthz_reports_a_stale_feed(short_tmp: Path) -> None:
    a = App(short_tmp, "--no-simulator").start()
    try:
        r = a.client()
        r.sadd(keys.FEEDS, "hotline")
        r.hset(keys.feed_key("hotline"), mapping={"heartbeat_ms": 1, "last_record_ms": 1})
        status, body = http_get(a.url + "/healthz")
        assert status == 503
        assert body["status"] == "unhealthy"
        assert any("feed hotline" in p for p in body["problems"])
        assert body["feeds"]["hotline"]["stale"] is True
    finally:
        a.stop()


def test_geometry_is_static_compressed_and_cacheable(short_tmp: Path) -> None:
    import urllib.request

    a = App(short_tmp, "--no-simulator").start()
    try:
        req = urllib.request.Request(a.url + "/geo/cells.geojson", headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(req) as resp:
            etag = resp.headers["ETag"]
            assert resp.headers["Content-Encoding"] == "gzip"
            assert etag
        req = urllib.request.Request(a.url + "/geo/cells.geojson", headers={"If-None-Match": etag})
        try:
            urllib.request.urlopen(req)
            raise AssertionError("expected 304")
        except urllib.error.HTTPError as err:
            assert err.code == 304
        # the page's layout JSON carries no geometry
        status, layout = http_get(a.url + "/_dash-layout")
        assert status == 200 and '"coordinates"' not in str(layout)
    finally:
        a.stop()
