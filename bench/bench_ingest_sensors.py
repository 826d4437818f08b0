"""Benchmark: sensor readings per second through edge validation and the Sink into a real Redis.

Starts a real redis-server (the embedded one run.py uses, on a Unix socket in a temporary folder), then:
1. ``validate_reading`` alone on prepared raw values;
2. ``feeds.mqtt.parse_message`` alone (topic split + JSON payload + validate_reading);
3. end to end: validate_reading, ``Sink.offer`` in batches of 500, the Sink's writer thread appending
   with pipelined XADD, until every reading is in the stream (one process, so both share one core's GIL);
4. the Sink alone, its buffer filled with ready records (the writer's own ceiling).
Prints figures; asserts nothing.

Run: ``.venv/bin/python bench/bench_ingest_sensors.py [--n 200000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dashboard.domain.registry import METRIC_BY_NAME, default_registry  # noqa: E402
from dashboard.store import keys  # noqa: E402
from dashboard.store.records import Record  # noqa: E402
from dashboard.store.validate import validate_reading  # noqa: E402
from feeds.base import Sink  # noqa: E402
from feeds.mqtt import parse_message  # noqa: E402
from tests.support import redis_server  # noqa: E402


def main() -> None:
    """Time the three stages and print readings per second."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000, help="readings per stage")
    parser.add_argument("--quick", action="store_true", help="20,000 readings per stage")
    args = parser.parse_args()
    n = min(args.n, 20_000) if args.quick else args.n
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(
        f"machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {platform.machine()}, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )
    reg = default_registry()
    sensors = list(reg.sensors.values())
    now = int(time.time() * 1000)
    raw = []
    for i in range(n):
        s = sensors[i % len(sensors)]
        spec = METRIC_BY_NAME[s.metric]
        raw.append(
            (s.id, s.metric, spec.lo + (spec.hi - spec.lo) * ((i * 7919) % 1000) / 1000, s.unit, now - i)
        )

    t0 = time.perf_counter()
    for sid, metric, value, unit, ts in raw:
        validate_reading(reg, sid, metric, value, unit, ts, now_ms=now)
    dt = time.perf_counter() - t0
    print(f"validate_reading alone:        {n / dt:10,.0f} readings/s  ({dt * 1e6 / n:.2f} µs each)")

    msgs = [
        (f"citybrain/sensors/{sid}/{metric}", json.dumps({"value": value, "unit": unit, "ts": ts}).encode())
        for sid, metric, value, unit, ts in raw
    ]
    t0 = time.perf_counter()
    for topic, payload in msgs:
        parse_message(reg, topic, payload, now)
    dt = time.perf_counter() - t0
    print(f"parse_message (MQTT) alone:    {n / dt:10,.0f} readings/s  ({dt * 1e6 / n:.2f} µs each)")

    with redis_server("cb-bench-") as server:
        r = redis.Redis.from_url(server.url, decode_responses=True)
        print(f"redis: {server.executable} {r.info('server')['redis_version']} (unix socket)")
        sink = Sink(r, "bench-sensors", capacity=100_000, batch=500).start()
        t0 = time.perf_counter()
        batch: list[Record] = []
        for sid, metric, value, unit, ts in raw:
            batch.append(validate_reading(reg, sid, metric, value, unit, ts, now_ms=now))
            if len(batch) == 500:
                while not sink.offer(batch):
                    time.sleep(0.001)
                batch = []
        if batch:
            while not sink.offer(batch):
                time.sleep(0.001)
        while sink.written < n:
            time.sleep(0.001)
        dt = time.perf_counter() - t0
        sink.stop()
        print(
            f"validate + Sink + XADD (end to end): {n / dt:10,.0f} readings/s  "
            f"({n:,} in {dt:.2f} s; stream length {r.xlen(keys.STREAM_SENSOR_READINGS):,})"
        )
        records = [
            validate_reading(reg, sid, metric, v, unit, ts, now_ms=now) for sid, metric, v, unit, ts in raw
        ]
        r.delete(keys.STREAM_SENSOR_READINGS)
        sink = Sink(r, "bench-sensors", capacity=n, batch=500)
        sink.offer(records)
        t0 = time.perf_counter()
        sink.start()
        while sink.written < n:
            time.sleep(0.001)
        dt = time.perf_counter() - t0
        sink.stop()
        print(
            f"Sink alone (records ready):     {n / dt:10,.0f} readings/s  (its writer thread: encode + XADD)"
        )


if __name__ == "__main__":
    main()
