"""Processor lag under the simulator's storm scenario at high speed, on the real system.

Run: .venv/bin/python bench/bench_storm_lag.py [--speed 100] [--seconds 60]
Starts run.py (embedded Redis, processor, simulator, web) with --scenario storm, samples /healthz
every second (entries waiting for the processor) and the records written, prints figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dashboard.store.server import free_port  # noqa: E402


def health(port: int) -> dict[str, object] | None:
    """The /healthz report (200 or 503), or None when the server does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
            body: dict[str, object] = json.loads(r.read())
            return body
    except urllib.error.HTTPError as err:
        body = json.loads(err.read())
        return body
    except OSError:
        return None


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
    d = Path(tempfile.mkdtemp(prefix="cbs-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "run.py"), "--port", str(port), "--data-dir", str(d / "redis"),
         "--speed", str(args.speed), "--seed", "7", "--scenario", "storm", "--log-level", "WARNING"],
        env=env,
    )  # fmt: skip
    lags: list[int] = []
    try:
        for _ in range(600):
            if health(port) is not None:
                break
            time.sleep(0.1)
        first = health(port) or {}
        start_records = _records(first)
        t0 = time.monotonic()
        while time.monotonic() - t0 < args.seconds:
            h = health(port)
            if h is not None:
                lags.append(int(h["processor"]["lag"]))  # type: ignore[index]
            time.sleep(1)
        last = health(port) or {}
        rate = (_records(last) - start_records) / (time.monotonic() - t0)
        print(f"speed {args.speed:g}x, storm: {rate:,.0f} records/s written by the simulator")
        print(f"start-up (warm start back-fill + first camera sweep): max lag {max(lags)} entries")
        peak = lags.index(max(lags))
        caught_up = next((i for i in range(peak, len(lags)) if lags[i] < 100), len(lags))
        print(f"caught up after {caught_up} s")
        steady = lags[caught_up:] or [0]
        print(
            f"then, {len(steady)} samples: lag median {statistics.median(steady):.0f}, "
            f"p95 {sorted(steady)[max(0, int(len(steady) * 0.95) - 1)]}, max {max(steady)} entries"
        )
    finally:
        proc.terminate()
        proc.wait(15)


def _records(h: dict[str, object]) -> int:
    """Records the simulator has written so far, from a /healthz report."""
    feeds = h.get("feeds") or {}
    sim = feeds.get("simulator", {}) if isinstance(feeds, dict) else {}
    return int(sim.get("records", 0))


if __name__ == "__main__":
    main()
