"""The wall in a real headless Chromium: the browser with the benchmark's observer installed, opening
the wall until its first full screen, and what is measured in the page (main-thread time, heap, what
the observer recorded, probe latencies)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harness.workload import PROBE_CELL
from tests.support import WaitTimeout, chromium, wait_for

# Installed in every page before its own scripts (observer.js says what it records).
OBSERVER_JS = (Path(__file__).resolve().parent / "observer.js").read_text().replace("%PROBE%", PROBE_CELL)
# Besides the project's flags (tests/support.py): precise heap figures, and timers and rendering at full
# speed although nobody looks at the window.
BENCH_FLAGS = (
    "--enable-precise-memory-info",
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
)
PAGE_STATE_JS = (
    "var d = window.citybrain && window.citybrain.devices; return {cells: "
    "document.querySelectorAll('path.cell[fill]').length,"
    " kpi: (document.getElementById('kpi-open') || {}).textContent,"
    " devices: d ? String(d.ready) : 'no hook', ready: document.readyState, url: location.href,"
    " text: document.body ? document.body.innerText.slice(0, 80) : null,"
    " resources: performance.getEntriesByType('resource').map(function (e) {"
    " return e.name.split('/').pop().slice(0, 40) + ':' + Math.round(e.duration); }).slice(-8)}"
)
DEVICES_ON_JS = (
    "var d = window.citybrain && window.citybrain.devices; if (!d || !d.counts) { return false; }"
    "var c = d.counts().cameras; if (c && !c.on) { var b = document.getElementById('layer-cameras');"
    " if (b) { b.click(); } } return true;"
)


@contextlib.contextmanager
def chrome() -> Iterator[Any]:
    """The project's headless Chromium (tests/support.py) with the bench's flags, the observer installed
    in every page and CDP performance metrics on; quit (and its profile removed) afterwards."""
    with chromium(*BENCH_FLAGS, page_load_timeout=60) as driver:
        driver.set_script_timeout(60)
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": OBSERVER_JS})
        driver.execute_cdp_cmd("Performance.enable", {"timeDomain": "threadTicks"})
        yield driver


def wait_full(driver: Any, timeout: float = 90.0) -> float:
    """Wait for the full-screen marker; return its time since navigation start (s)."""
    try:
        v = wait_for(
            lambda: driver.execute_script("return window.__bench && window.__bench.fullPerf"),
            timeout, 0.05, "the full screen",
        )  # fmt: skip
    except WaitTimeout:
        state = driver.execute_script(PAGE_STATE_JS)
        logs = [e.get("message", "")[:300] for e in driver.get_log("browser")[-3:]]
        raise RuntimeError(
            f"the page never showed a full screen (478 painted cells, KPIs, devices): {state}; {logs}"
        ) from None
    return float(v) / 1000


def open_wall(driver: Any, url: str) -> bool:
    """Open the wall at ``url``, wait for the full screen, turn the camera layer on (if the page has one:
    ``window.citybrain.devices``); return whether it has one."""
    driver.get(url)
    wait_full(driver)
    has = bool(driver.execute_script(DEVICES_ON_JS))
    time.sleep(1)
    return has


def main_thread_s(driver: Any) -> float:
    """The renderer's main-thread task time so far (CDP Performance metric TaskDuration, seconds)."""
    metrics = driver.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]
    return float(next(m["value"] for m in metrics if m["name"] == "TaskDuration"))


def heap_after_gc(driver: Any) -> int:
    """The page's used JS heap after a forced full garbage collection (bytes)."""
    driver.execute_cdp_cmd("HeapProfiler.enable", {})
    driver.execute_cdp_cmd("HeapProfiler.collectGarbage", {})
    return int(driver.execute_cdp_cmd("Runtime.getHeapUsage", {})["usedSize"])


def page_events(driver: Any) -> dict[str, Any]:
    """What the observer recorded in the page so far."""
    got: dict[str, Any] = driver.execute_script("return window.__bench")
    return got


def match_latencies(writes: list[tuple[float, str]], changes: list[list[Any]]) -> tuple[list[float], int]:
    """Per probe write, the delay to the first change of the probe cell to the expected fill after it
    (and before the probe after next sets that fill again); return (latencies in s, probes never seen)."""
    lat: list[float] = []
    missed = 0
    for i, (t, fill) in enumerate(writes):
        until = writes[i + 2][0] if i + 2 < len(writes) else float("inf")
        seen = [ch[0] / 1000 for ch in changes if ch[1] == fill and t <= ch[0] / 1000 < until]
        if seen:
            lat.append(seen[0] - t)
        else:
            missed += 1
    return lat, missed
