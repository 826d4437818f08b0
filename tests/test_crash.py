"""Crash safety: SIGKILL the processor process mid-stream, start it again: nothing lost, nothing twice."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import redis

from dashboard.config import ProcessorConfig
from dashboard.domain.counters import places_of
from dashboard.domain.geo import load_default_geography
from dashboard.processor.loop import Processor
from dashboard.store import keys
from dashboard.store.records import CaseEvent, encode
from dashboard.store.server import EmbeddedRedis
from tests.conftest import ROOT, wait_for
from tests.test_processor import models

PATHS = [
    ["reported", "registered", "dispatched", "handled", "feedback", "verified", "closed"],
    ["reported", "registered", "dispatched", "returned", "dispatched", "handled"],
    ["reported", "cancelled"],
]


def workload(n_cases: int) -> list[CaseEvent]:
    """Interleaved events of ``n_cases`` cases in real cells, three days ago: every stage deadline has
    passed (no deadline falls due while the test compares), and the real processor's time bounds (90 days
    back) and idle check (30 days) keep them all."""
    rnd = random.Random(11)
    base = (int(time.time()) // 3600 - 72) * 3_600_000
    cells = list(load_default_geography().cells)
    out = []
    for i in range(n_cases):
        cell, ts = rnd.choice(cells), base + rnd.randrange(3_600_000)
        for n, step in enumerate(PATHS[i % len(PATHS)]):
            ts += rnd.randrange(60_000, 600_000)
            out.append(
                CaseEvent(event_id=f"X{i}-{n}", case_id=f"X{i}", seq=n, ts=ts, step=step,  # type: ignore[arg-type]
                            event_type="CM-0101", category="city_management", cell_id=cell,
                            department="urban_mgmt" if n >= 2 else None)
            )  # fmt: skip
    out.sort(key=lambda e: e.ts)
    return out


def fill(r: redis.Redis, events: list[CaseEvent]) -> None:
    """Append the events to the input stream."""
    pipe = r.pipeline(transaction=False)
    for e in events:
        pipe.xadd(keys.STREAM_CASE_EVENTS, encode(e))  # type: ignore[arg-type]
    pipe.execute()


def start_processor(url: str) -> subprocess.Popen[bytes]:
    """The real processor role, as run.py starts it."""
    env = dict(os.environ, REDIS_URL=url)
    return subprocess.Popen(
        [sys.executable, str(ROOT / "run.py"), "processor", "--log-level", "WARNING"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_sigkill_mid_batch_loses_nothing_and_counts_nothing_twice(short_tmp: Path) -> None:
    events = workload(3000)
    with EmbeddedRedis(short_tmp / "a") as killed_srv, EmbeddedRedis(short_tmp / "b") as clean_srv:
        r = redis.Redis.from_url(killed_srv.url, decode_responses=True)
        fill(r, events)
        for kill_no in range(3):  # kill it three times at different points
            proc = start_processor(killed_srv.url)
            target = (kill_no + 1) * len(events) // 5
            wait_for(
                lambda t=target: int(r.hget(keys.PROCESSOR_STATS, "applied") or 0) >= t, 60, 0.01, "progress"
            )
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        assert int(r.hget(keys.PROCESSOR_STATS, "applied") or 0) < len(events)
        proc = start_processor(killed_srv.url)
        try:
            wait_for(
                lambda: (
                    r.xpending(keys.STREAM_CASE_EVENTS, "processor")["pending"] == 0
                    and int(r.hget(keys.PROCESSOR_STATS, "applied") or 0)
                    + int(r.hget(keys.PROCESSOR_STATS, "illegal") or 0)
                    >= len(events)
                ),
                60,
                0.1,
                "the restarted processor to finish",
            )
        finally:
            proc.terminate()
            proc.wait(10)
        # the same events applied once, in one go, by an uninterrupted processor
        clean = redis.Redis.from_url(clean_srv.url, decode_responses=True)
        fill(clean, events)
        p = Processor(clean, ProcessorConfig(), "clean", places=places_of(load_default_geography()))
        p.ensure_groups()
        while p.step():
            pass
        stats = r.hgetall(keys.PROCESSOR_STATS)
        assert int(stats["applied"]) == len(events)  # each event applied exactly once
        assert int(stats.get("duplicates", 0)) == 0
        assert models(r) == models(clean)
        assert r.hlen(keys.CASE_INDEX) == clean.hlen(keys.CASE_INDEX) == 3000
