"""Faults: kill -9 each role and the embedded Redis under a stream of case events; how long /healthz
says so, how long until it is healthy again, and whether every event answered 202 reached the read models.

Run: .venv/bin/python bench/bench_faults.py [--rounds 2] [--quick]
Prints figures; asserts nothing. The system: run.py without the simulator, an HTTP client posting batches
of 5 new cases every 0.1 s (tests/test_chaos.py's sender). The same kills as the chaos test, timed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.report import header

from dashboard.store import keys
from tests.support import VICTIMS, App, CaseSender, temp_dir, wait_for

TOKEN, API_KEY = "bench-faults-token", "bench-faults-key"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="1 round")
    args = ap.parse_args()
    rounds = 1 if args.quick else args.rounds
    rep = header("Faults: kill -9 of each role and of the embedded Redis under ingest")
    os.environ["CB_BENCH_TOKEN"], os.environ["CB_BENCH_311_KEY"] = TOKEN, API_KEY
    with temp_dir("cbf-") as folder:
        config = folder / "config.yaml"
        config.write_text(
            "ingest:\n  tokens:\n    field_app: ${CB_BENCH_TOKEN}\n"
            "open311:\n  api_keys:\n    citizen_app: ${CB_BENCH_311_KEY}\n"
            "health:\n  max_restarts: 100\n",  # many kills here on purpose: not a crash loop
            encoding="utf-8",
        )
        app = App(folder, "--no-simulator", "--config", str(config)).start()
        sender = CaseSender(app.url, TOKEN, "ZM-0001")
        sender.start()
        seen: dict[str, list[float]] = {v: [] for v in VICTIMS}
        back: dict[str, list[float]] = {v: [] for v in VICTIMS}
        try:
            wait_for(lambda: len(sender.accepted) >= 20, 30, 0.1, "the first accepted events")
            for _ in range(rounds):
                for victim in VICTIMS:
                    pid = app.child_pid(victim)
                    assert pid is not None, victim
                    t0 = time.monotonic()
                    os.kill(pid, signal.SIGKILL)
                    wait_for(lambda: app.health()[0] != 200, 20, 0.02, f"{victim} seen")
                    seen[victim].append(1000 * (time.monotonic() - t0))
                    wait_for(lambda: app.health()[0] == 200, 60, 0.05, f"{victim} back")
                    back[victim].append(1000 * (time.monotonic() - t0))
                    time.sleep(1)
        finally:
            sender.stop.set()
            sender.join(10)
        r: Any = app.client()
        wanted = sender.accepted

        def missing() -> list[str]:
            got = r.hmget(keys.CASE_INDEX, wanted)
            return [c for c, v in zip(wanted, got, strict=True) if v is None]

        with contextlib.suppress(AssertionError):  # what is still missing after a minute is lost
            wait_for(lambda: not missing(), 60, 0.2, "every accepted event")
        lost = len(missing())
        app.stop()
    rep.table(
        "1. From kill -9 to /healthz unhealthy, and to healthy again (median of the rounds)",
        ["killed", "unhealthy after", "healthy again after", "rounds"],
        [
            [v, f"{statistics.median(seen[v]):,.0f} ms", f"{statistics.median(back[v]):,.0f} ms", rounds]
            for v in VICTIMS
        ],
        "web: 'unhealthy' is no answer at all (the process that answers /healthz is the one killed)",
    )
    rep.table(
        "2. Events answered 202 and found in the read models afterwards",
        ["answered 202", "found", "lost", "other answers (503, refused)"],
        [[f"{len(wanted):,}", f"{len(wanted) - lost:,}", lost, sender.other]],
    )
    rep.done()


if __name__ == "__main__":
    main()
