"""The feeds role: build the configured feeds and their sinks, run them until stopped."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

import redis

import feeds.plugins  # noqa: F401  # registers every pluggable feed
from dashboard.domain.catalogue import load_catalogue
from dashboard.domain.geo import GeographyConfig
from dashboard.store.client import connect
from dashboard.store.roles import mark_up_when_reachable
from dashboard.store.sink import IngestEnv
from feeds.base import Feed, FeedConfig
from feeds.simulator import Simulator, SimulatorConfig

log = logging.getLogger(__name__)


def build(
    client: redis.Redis,
    feeds: Sequence[FeedConfig],
    simulator: SimulatorConfig,
    geography: GeographyConfig,
    buffer_size: int = 100_000,
) -> tuple[list[Feed], IngestEnv]:
    """Every enabled feed: the simulator (its own config section) and the pluggable ``feeds:``."""
    env = IngestEnv(client=client, geo=geography.load(), catalogue=load_catalogue(), buffer_size=buffer_size)
    out: list[Feed] = []
    if simulator.enabled:
        sim = Simulator(
            "simulator", env.sink("simulator"), client, env.geo, env.catalogue, speed=simulator.speed,
            seed=simulator.seed,
        )  # fmt: skip
        log.info("simulator: speed %gx, seed %d", simulator.speed, sim.seed)
        out.append(sim)
    for fc in feeds:
        if fc.enabled:
            out.append(Feed.by_type[fc.type].from_config(fc, env))
            log.info("feed %s (%s) configured", fc.feed_name, fc.type)
    return out, env


def run(
    redis_url: str,
    stop: threading.Event,
    feeds: Sequence[FeedConfig],
    simulator: SimulatorConfig,
    geography: GeographyConfig,
    buffer_size: int = 100_000,
) -> None:
    """Run every enabled feed until ``stop`` is set, then flush what they accepted."""
    client = connect(redis_url)
    found, env = build(client, feeds, simulator, geography, buffer_size)
    threads = [threading.Thread(target=f.run, args=(stop,), name=f.name, daemon=True) for f in found]
    for th in threads:
        th.start()
    mark_up_when_reachable(client, "feeds")
    stop.wait()
    for th in threads:
        th.join(5)
    for s in env.sinks.values():
        s.stop()
