"""The feeds role: build the configured feeds and their sinks, run them until stopped."""

from __future__ import annotations

import logging
import threading

import redis
from dashboard.geo import load_geography

from dashboard.catalogue import load_catalogue
from dashboard.config import AppConfig
from feeds.base import Sink
from feeds.simulator import Simulator

log = logging.getLogger(__name__)


def run(cfg: AppConfig, redis_url: str, stop: threading.Event) -> None:
    """Run every enabled feed until ``stop`` is set, then flush what they accepted."""
    client = redis.Redis.from_url(redis_url, decode_responses=True, health_check_interval=30)
    g = cfg.geography
    geo = load_geography(g.district, g.subdistricts, g.communities, g.cells)
    threads: list[threading.Thread] = []
    sinks: list[Sink] = []
    if cfg.simulator.enabled:
        sink = Sink(client, "simulator").start()
        sinks.append(sink)
        sim = Simulator(
            "simulator",
            sink,
            client,
            geo,
            load_catalogue(),
            speed=cfg.simulator.speed,
            seed=cfg.simulator.seed,
        )
        log.info("simulator: speed %gx, seed %d", cfg.simulator.speed, sim.seed)
        threads.append(threading.Thread(target=sim.run, args=(stop,), name="simulator", daemon=True))
    for th in threads:
        th.start()
    stop.wait()
    for th in threads:
        th.join(5)
    for s in sinks:
        s.stop()
