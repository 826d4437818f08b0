"""The system's status: is Redis reachable, is the processor keeping up, is every feed alive (/healthz),
and per record kind whether its feeds are fresh (the pages' freshness marks)."""

from __future__ import annotations

from typing import Any

import redis

from dashboard.config import AppConfig
from dashboard.domain.freshness import feed_kinds, kind_status
from dashboard.domain.types import epoch_ms
from dashboard.store import keys
from dashboard.store.records import STREAM_OF
from dashboard.store.roles import restarts


def processor_lag(r: redis.Redis, group: str, cap: int = 100_000) -> int:
    """Entries not yet acknowledged by the processor group: pending plus not yet delivered (capped)."""
    client: Any = r  # replies are str (decode_responses=True); redis-py types them as unions
    total = 0
    for stream in STREAM_OF.values():
        try:
            groups = client.xinfo_groups(stream)
        except redis.ResponseError:  # the stream does not exist yet
            continue
        for g in groups:
            if g["name"] != group:
                continue
            lag = g.get("lag")
            if lag is None:  # Redis < 7 has no lag field: count what follows the last delivered id
                lag = len(client.xrange(stream, f"({g['last-delivered-id']}", "+", count=cap))
            total += int(g.get("pending", 0)) + int(lag)
    return total


def check(r: redis.Redis, cfg: AppConfig, now_ms: int | None = None) -> tuple[bool, dict[str, Any]]:
    """Return (healthy, report); the report names every reason for being unhealthy."""
    client: Any = r
    now_ms = now_ms if now_ms is not None else epoch_ms()
    report: dict[str, Any] = {"redis": False, "processor": {}, "feeds": {}, "problems": []}
    problems: list[str] = report["problems"]
    try:
        client.ping()
        report["redis"] = True
    except redis.RedisError as err:
        problems.append(f"redis unreachable: {err}")
        return False, report
    lag = processor_lag(client, cfg.processor.group, cap=cfg.health.max_lag + 1)
    stats = client.hgetall(keys.PROCESSOR_STATS)
    last_ms = int(stats.get("last_ms", 0))
    report["processor"] = {
        "lag": lag,
        "applied": int(stats.get("applied", 0)),
        "duplicates": int(stats.get("duplicates", 0)),
        "dead_letters": int(stats.get("dead", 0)),
        "last_batch_ms": last_ms or None,
    }
    report["dead_letters"] = int(client.xlen(keys.STREAM_DEAD_LETTER))
    report["roles"] = restarts(client, now_ms, round(cfg.health.restart_window_s * 1000))
    for role, r in report["roles"].items():
        if r["down"]:
            problems.append(f"{role} down (exit {r['last_exit']}), being restarted")
        elif r["recent"] >= cfg.health.max_restarts:
            problems.append(
                f"{role} restarted {r['recent']} times in the last {cfg.health.restart_window_s:g} s "
                f"(last exit {r['last_exit']})"
            )
    if lag > cfg.health.max_lag:
        problems.append(f"processor lag {lag} > {cfg.health.max_lag}")
    if lag > 0 and now_ms - last_ms > cfg.health.feed_stale_s * 1000:
        problems.append("processor is not consuming")
    for name, feed in feeds_health(client, cfg, now_ms).items():
        report["feeds"][name] = feed
        if feed["stale"]:
            problems.append(f"feed {name} silent for more than {cfg.health.feed_stale_s:g} s")
        elif not feed["healthy"]:
            problems.append(f"feed {name} unhealthy: {feed['last_error'] or 'source unreachable'}")
    return not problems, report


def feeds_health(r: redis.Redis, cfg: AppConfig, now_ms: int) -> dict[str, dict[str, Any]]:
    """Every known feed's health by name: stale when its heartbeat is older than ``feed_stale_s``."""
    client: Any = r
    stale_ms = cfg.health.feed_stale_s * 1000
    names = sorted(client.smembers(keys.FEEDS))
    with client.pipeline(transaction=False) as pipe:
        for name in names:
            pipe.hgetall(keys.feed_key(name))
        hashes = pipe.execute()
    out: dict[str, dict[str, Any]] = {}
    for name, h in zip(names, hashes, strict=True):
        heartbeat = int(h.get("heartbeat_ms", 0)) or None
        stale = heartbeat is None or now_ms - heartbeat > stale_ms
        failing = h.get("healthy") == "0"  # a feed that runs but cannot reach its source
        out[name] = {
            "last_record_ms": int(h.get("last_record_ms", 0)) or None,
            "heartbeat_ms": heartbeat,
            "records": int(h.get("records", 0)),
            "rejected": int(h.get("rejected", 0)),
            "records_per_s": float(h.get("rate", 0)),
            "errors": int(h.get("errors", 0)) + int(h.get("write_errors", 0)),
            "stale": stale,
            "healthy": not (stale or failing),
            "last_error": h.get("last_error") or None,
        }
    return out


def read_freshness(client: Any, cfg: AppConfig, now_ms: int) -> dict[str, Any]:
    """The per-kind feed status as the page receives it (snapshot field and ``feeds`` event)."""
    configured = [(fc.feed_name, fc.type) for fc in cfg.feeds]
    return kind_status(feeds_health(client, cfg, now_ms), feed_kinds(configured))
