"""Processor throughput: case events/s applied with every read model maintained, on a real Redis.

Run: .venv/bin/python bench/bench_processor.py [--cases 20000] [--batch 500]
Prints figures; asserts nothing. The workload: cases walking the closed loop (with returns and
escalations), events interleaved across cases as a real feed delivers them, written to the input
stream first; then one processor drains it (one process, so one core for Python plus Redis).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import time
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashboard.config import ProcessorConfig
from dashboard.domain.counters import places_of
from dashboard.domain.geo import load_default_geography
from dashboard.processor.loop import Processor
from dashboard.store import keys
from dashboard.store.records import CaseEvent, encode
from tests.support import redis_server

PATHS = [
    ["reported", "registered", "dispatched", "handled", "feedback", "verified", "closed"],
    ["reported", "registered", "dispatched", "returned", "dispatched", "handled", "feedback", "closed"],
    ["reported", "cancelled"],
    [
        "reported",
        "escalated",
        "dispatched",
        "handled",
        "feedback",
        "reopened",
        "handled",
        "feedback",
        "closed",
    ],
    ["reported", "registered", "dispatched"],
]


def workload(n_cases: int, seed: int = 1) -> list[CaseEvent]:
    """Events of ``n_cases`` cases, interleaved in time order."""
    rnd = random.Random(seed)
    cells = list(load_default_geography().cells)
    t0 = int(time.time() * 1000) - 6 * 3600 * 1000
    out: list[CaseEvent] = []
    for i in range(n_cases):
        path = PATHS[rnd.randrange(len(PATHS))]
        cell = rnd.choice(cells)
        ts = t0 + rnd.randrange(3 * 3600 * 1000)
        for n, step in enumerate(path):
            ts += rnd.randrange(60_000, 1_800_000)
            out.append(
                CaseEvent(
                    event_id=f"B{i}-{n}",
                    case_id=f"B{i}",
                    seq=n,
                    ts=ts,
                    step=step,  # type: ignore[arg-type]
                    event_type="CM-0101",
                    category="city_management",
                    cell_id=cell,
                    department="urban_mgmt" if n >= 2 else None,
                    priority="urgent" if i % 10 == 0 else "normal",
                    source="bench",
                )
            )
    out.sort(key=lambda e: e.ts)
    return out


def main() -> None:
    """Fill the stream, drain it, print events/s and memory."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=20_000)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--quick", action="store_true", help="2,000 cases")
    args = ap.parse_args()
    if args.quick:
        args.cases = min(args.cases, 2_000)
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"command: {' '.join(sys.argv)}")
    events = workload(args.cases)
    with redis_server("cbb-") as srv:
        r = redis.Redis.from_url(srv.url, decode_responses=True)
        pipe = r.pipeline(transaction=False)
        for i, e in enumerate(events):
            pipe.xadd(keys.STREAM_CASE_EVENTS, encode(e))  # type: ignore[arg-type]
            if i % 1000 == 999:
                pipe.execute()
        pipe.execute()
        geo = load_default_geography()
        p = Processor(r, ProcessorConfig(batch_size=args.batch), "bench", places=places_of(geo))
        p.ensure_groups()
        used_before = int(r.info("memory")["used_memory"])
        t = time.perf_counter()
        cpu = time.process_time()
        n = 0
        while k := p.step():
            n += k
        wall = time.perf_counter() - t
        cpu = time.process_time() - cpu
        info = r.info("memory")
        index_bytes = r.memory_usage(keys.CASE_INDEX) or 0
        print(f"events: {n} of {len(events)} ({args.cases} cases), batch {args.batch}")
        print(f"throughput: {n / wall:,.0f} events/s wall, {n / cpu:,.0f} events/s per processor CPU second")
        print(f"processor CPU share of wall time: {100 * cpu / wall:.0f} %")
        used = int(info["used_memory"]) / 1e6
        print(f"redis used_memory: {used:.1f} MB (input stream included; before: {used_before / 1e6:.1f} MB)")
        n_cases = r.hlen(keys.CASE_INDEX)
        per_case = index_bytes / max(1, n_cases)
        print(f"case index: {index_bytes / 1e6:.1f} MB for {n_cases} cases = {per_case:.0f} B/case")
        stats = r.hgetall(keys.PROCESSOR_STATS)
        print(f"stats: {stats}")


if __name__ == "__main__":
    main()
