"""The health job's cost: one computation of every area's score (the processor runs it every 10 s), and
one publish (computation + store + delta of what changed), on warm data in a real Redis.

Run: .venv/bin/python bench/bench_health.py [--rounds 20] [--quick]
Prints figures; asserts nothing. The data: every camera with a status (3 % offline), every sensor with a
last reading (5 % of them stale), 6,000 cases reported over 30 days through the real processor.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.report import header

from dashboard.config import ProcessorConfig
from dashboard.domain.counters import places_of
from dashboard.domain.geo import load_default_geography
from dashboard.domain.registry import default_registry
from dashboard.domain.types import epoch_ms
from dashboard.processor.health import HealthJob
from dashboard.processor.loop import Processor
from dashboard.store.records import STREAM_OF, CameraStatus, CaseEvent, Record, SensorReading, encode, kind_of
from tests.support import redis_server

TZ = ZoneInfo("Asia/Shanghai")
DAY = 86_400_000


def records(now: int, cases: int, rnd: random.Random) -> list[Record]:
    """Device states and a month of cases, as the feeds would have written them."""
    geo, reg = load_default_geography(), default_registry()
    out: list[Record] = []
    for cam in reg.cameras.values():
        status = "offline" if rnd.random() < 0.03 else "online"
        out.append(CameraStatus(camera_id=cam.id, status=status, ts=now - 60_000, cell_id=cam.cell_id))
    for s in reg.sensors.values():
        age = 10 * s.interval_s * 1000 if rnd.random() < 0.05 else 1000
        value = s.thresholds.warn / 2
        out.append(SensorReading(sensor_id=s.id, metric=s.metric, value=value, unit=s.unit, ts=now - age,
                                 cell_id=s.cell_id))  # fmt: skip
    cells = list(geo.cells)
    for i in range(cases):
        ts = now - rnd.randrange(30 * DAY)
        for n, step in enumerate(("reported", "registered", "dispatched")[: rnd.randrange(1, 4)]):
            ev = CaseEvent(
                event_id=f"H{i}-{n}", case_id=f"H{i}", seq=n, ts=ts + n * 60_000, step=step,  # type: ignore[arg-type]
                event_type="CM-0101", category="city_management", cell_id=rnd.choice(cells),
                department="urban_mgmt" if n == 2 else None,
            )  # fmt: skip
            out.append(ev)
    return out


def main() -> None:
    """Warm the data, then time computations and publishes."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--cases", type=int, default=6_000)
    ap.add_argument("--quick", action="store_true", help="5 rounds, 1,000 cases")
    args = ap.parse_args()
    if args.quick:
        args.rounds, args.cases = 5, 1_000
    rep = header("Health scores: one computation and one publish of every area's score")
    with redis_server("cbb-") as srv:
        r = redis.Redis.from_url(srv.url, decode_responses=True)
        now = epoch_ms()
        with r.pipeline(transaction=False) as pipe:
            for rec in records(now, args.cases, random.Random(3)):
                pipe.xadd(STREAM_OF[kind_of(rec)], encode(rec))  # type: ignore[arg-type]
            pipe.execute()
        geo = load_default_geography()
        p = Processor(r, ProcessorConfig(batch_size=1000), "bench", places=places_of(geo))
        p.ensure_groups()
        while p.step():
            pass
        p.check_stale()
        job = HealthJob(r, geo, default_registry(), TZ)
        compute, publish = [], []
        for _ in range(args.rounds):
            t = time.perf_counter()
            job.compute(epoch_ms())
            compute.append(1000 * (time.perf_counter() - t))
            t = time.perf_counter()
            job.publish(epoch_ms())
            publish.append(1000 * (time.perf_counter() - t))
        n = 1 + len(geo.subdistricts) + len(geo.communities) + len(geo.cells)
        rep.table(
            "1. One health job round (every area)",
            ["what", "median", "max", "rounds"],
            [
                ["compute", f"{statistics.median(compute):.1f} ms", f"{max(compute):.1f} ms", args.rounds],
                [
                    "publish (compute + store + delta)",
                    f"{statistics.median(publish):.1f} ms",
                    f"{max(publish):.1f} ms",
                    args.rounds,
                ],
            ],
            f"{n} areas; {len(default_registry().cameras):,} cameras, {len(default_registry().sensors):,} "
            f"sensors, {args.cases:,} cases; the processor runs it every 10 s on one thread",
        )
    rep.done()


if __name__ == "__main__":
    main()
