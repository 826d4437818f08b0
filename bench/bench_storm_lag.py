"""Processor lag under the simulator's storm scenario at high speed, on the real system.

Run: .venv/bin/python bench/bench_storm_lag.py [--speed 100] [--seconds 60]
Starts run.py (embedded Redis, processor, simulator, web) with --scenario storm, samples /healthz
every second (entries waiting for the processor) and the records written, prints figures.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support import App, http_get, temp_dir, wait_for  # noqa: E402


def health(app: App) -> dict[str, Any] | None:
    """The /healthz report (200 or 503), or None when the server does not answer."""
    try:
        body: dict[str, Any] = http_get(app.url + "/healthz", 2)[1]
    except OSError:
        return None
    return body


def main() -> None:
    """Run the storm, sample the lag, print figures."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--speed", type=float, default=100)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--quick", action="store_true", help="20 s of storm")
    args = ap.parse_args()
    if args.quick:
        args.seconds = min(args.seconds, 20)
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"command: {' '.join(sys.argv)}")
    with temp_dir("cbs-") as d:
        extra = ["--speed", str(args.speed), "--seed", "7", "--scenario", "storm", "--log-level", "WARNING"]
        app = App(d, *extra)
        try:
            app.start(wait_healthy=False)  # /healthz may say 503 (a backlog) from the start: any answer
            wait_for(lambda: health(app) is not None, 60, 0.1, "/healthz")
            sample(app, args.speed, args.seconds)
        finally:
            if app.proc is not None:
                app.stop(timeout=15)


def sample(app: App, speed: float, seconds: int) -> None:
    """Sample /healthz every second for ``seconds``; print the figures."""
    lags: list[int] = []
    first = health(app) or {}
    start_records = _records(first)
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        h = health(app)
        if h is not None:
            lags.append(int(h["processor"]["lag"]))
        time.sleep(1)
    last = health(app) or {}
    rate = (_records(last) - start_records) / (time.monotonic() - t0)
    print(f"speed {speed:g}x, storm: {rate:,.0f} records/s written by the simulator")
    print(f"start-up (warm start back-fill + first camera sweep): max lag {max(lags)} entries")
    peak = lags.index(max(lags))
    caught_up = next((i for i in range(peak, len(lags)) if lags[i] < 100), len(lags))
    print(f"caught up after {caught_up} s")
    steady = lags[caught_up:] or [0]
    print(
        f"then, {len(steady)} samples: lag median {statistics.median(steady):.0f}, "
        f"p95 {sorted(steady)[max(0, int(len(steady) * 0.95) - 1)]}, max {max(steady)} entries"
    )


def _records(h: dict[str, Any]) -> int:
    """Records the simulator has written so far, from a /healthz report."""
    feeds = h.get("feeds") or {}
    sim = feeds.get("simulator", {}) if isinstance(feeds, dict) else {}
    return int(sim.get("records", 0))


if __name__ == "__main__":
    main()
