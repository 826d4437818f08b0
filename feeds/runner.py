"""The feeds role: build the configured feeds and their sinks, run them until stopped."""

from __future__ import annotations

import logging
import threading

import redis

import feeds.plugins  # noqa: F401  # registers every pluggable feed
from dashboard.config import AppConfig
from dashboard.domain.catalogue import load_catalogue
from dashboard.domain.geo import load_geography
from dashboard.store.sink import IngestEnv
from feeds.base import Feed
from feeds.simulator import Simulator

log = logging.getLogger(__name__)


def build(cfg: AppConfig, client: redis.Redis) -> tuple[list[Feed], IngestEnv]:
    """Every enabled feed: the simulator (its own config section) and the pluggable ``feeds:``."""
    g = cfg.geography
    env = IngestEnv(
        client=client,
        geo=load_geography(g.district, g.subdistricts, g.communities, g.cells),
        catalogue=load_catalogue(),
        buffer_size=cfg.ingest.buffer_size,
    )
    out: list[Feed] = []
    if cfg.simulator.enabled:
        sim = Simulator(
            "simulator",
            env.sink("simulator"),
            client,
            env.geo,
            env.catalogue,
            speed=cfg.simulator.speed,
            seed=cfg.simulator.seed,
        )
        log.info("simulator: speed %gx, seed %d", cfg.simulator.speed, sim.seed)
        out.append(sim)
    for fc in cfg.feeds:
        if fc.enabled:
            out.append(Feed.by_type[fc.type].from_config(fc, env))
            log.info("feed %s (%s) configured", fc.feed_name, fc.type)
    return out, env


def run(cfg: AppConfig, redis_url: str, stop: threading.Event) -> None:
    """Run every enabled feed until ``stop`` is set, then flush what they accepted."""
    client = redis.Redis.from_url(redis_url, decode_responses=True, health_check_interval=30)
    feeds, env = build(cfg, client)
    threads = [threading.Thread(target=f.run, args=(stop,), name=f.name, daemon=True) for f in feeds]
    for th in threads:
        th.start()
    stop.wait()
    for th in threads:
        th.join(5)
    for s in env.sinks.values():
        s.stop()
