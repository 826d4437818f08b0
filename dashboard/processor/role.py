"""The processor role: the processor loop, the health scores and the alert engine, as one process.

Several processor processes may run against one Redis: they share the input through the consumer group;
leases keep one health scorer and one alert engine active, taken over when their holder stops.
"""

from __future__ import annotations

import socket
import threading
from zoneinfo import ZoneInfo

import redis

from dashboard.alerts.engine import run_engine
from dashboard.config import AppConfig
from dashboard.domain.counters import places_of
from dashboard.domain.geo import load_geography
from dashboard.domain.registry import default_registry
from dashboard.processor.health import HealthJob
from dashboard.processor.loop import Processor


def run(cfg: AppConfig, redis_url: str, stop: threading.Event) -> None:
    """Run the processor, its health job and the alert engine until ``stop`` is set."""
    g = cfg.geography
    geo = load_geography(g.district, g.subdistricts, g.communities, g.cells)
    client = redis.Redis.from_url(redis_url, decode_responses=True, health_check_interval=30)
    consumer = cfg.processor.consumer or socket.gethostname()
    registry = default_registry()
    helpers = [
        threading.Thread(target=run_engine, args=(cfg, redis_url, stop), name="alerts", daemon=True),
        threading.Thread(
            target=HealthJob(client, geo, registry, ZoneInfo(cfg.timezone)).run, args=(stop,), name="health",
            daemon=True,
        ),
    ]  # fmt: skip
    for t in helpers:
        t.start()
    Processor(client, cfg.processor, consumer, cfg.timezone, cfg.sla, places_of(geo), registry=registry).run(
        stop
    )
    for t in helpers:
        t.join(5)
