"""The alert engine's start: its consumer groups, a first start's seeded inputs, and loading what it kept.

On a first start (or when a group is missing) every group is made anew: case events are read from the
longest rate window ago, readings and camera states from where the processor's group is, seeded from
its read models (replaying a suffix converges, as both are states), the overdue stream and the commands
from their start. After a start or a take-over the engine loads the states and remembered inputs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import redis

from dashboard.alerts import store
from dashboard.alerts.aggregates import Aggregates, dumps
from dashboard.alerts.intake import INPUT_STREAMS
from dashboard.alerts.model import AlertState
from dashboard.domain.registry import Registry
from dashboard.store import keys

CAMERA_STATUSES: tuple[str, ...] = ("online", "offline", "fault")


def consumer_groups(client: Any) -> dict[str, dict[str, Any]]:
    """Per input stream: its consumer groups by name (empty when the stream does not exist)."""
    out: dict[str, dict[str, Any]] = {}
    for stream in INPUT_STREAMS:
        try:
            out[stream] = {g["name"]: g for g in client.xinfo_groups(stream)}
        except redis.ResponseError:
            out[stream] = {}
    return out


def start_ids(processor: Mapping[str, str | None], now: int, horizon_ms: int) -> dict[str, str]:
    """Where the engine's group starts on each stream, given where the processor's group is."""
    return {
        keys.STREAM_CASE_EVENTS: f"{max(0, now - horizon_ms)}-0",
        keys.STREAM_SENSOR_READINGS: processor[keys.STREAM_SENSOR_READINGS] or "0",
        keys.STREAM_CAMERA_STATUS: processor[keys.STREAM_CAMERA_STATUS] or "0",
        keys.STREAM_OVERDUE: "0",
        keys.ALERT_COMMANDS: "0",  # commands too old when read are answered as expired
    }


def seed_cameras(cameras: Mapping[str, str], registry: Registry | None) -> dict[str, str]:
    """The processor's camera states, in the engine's stored form, for the registered cameras."""
    seeded: dict[str, str] = {}
    registered = registry.cameras if registry is not None else {}
    for cam, status in cameras.items():
        known = registered.get(cam)
        if known is not None and status in CAMERA_STATUSES:
            seeded[cam] = dumps([status, known.cell_id])
    return seeded


def seed_sensors(sensors: Mapping[str, str]) -> dict[str, str]:
    """The processor's last readings, in the engine's stored form (unreadable ones left out)."""
    seeded: dict[str, str] = {}
    for sid, raw in sensors.items():
        try:
            d = json.loads(raw)
            seeded[sid] = dumps([int(d["ts"]), float(d["value"]), str(d["metric"]), str(d["cell"])])
        except (ValueError, KeyError, TypeError):
            continue
    return seeded


def ensure_groups(
    client: Any,
    group: str,
    processor_group: str,
    registry: Registry | None,
    clock: Callable[[], int],
    horizon_ms: int,
) -> tuple[int, int] | None:
    """Make ``group`` anew on every stream and seed the inputs, unless it is there and seeded.

    Returns how many (cameras, sensors) were seeded, or None when nothing was to be done.
    """
    groups = consumer_groups(client)
    if client.hget(keys.ALERT_META, "bootstrapped") and all(group in g for g in groups.values()):
        return None
    for stream, g in groups.items():
        if group in g:
            client.xgroup_destroy(stream, group)
    now = clock()
    processor = {s: g.get(processor_group, {}).get("last-delivered-id") for s, g in groups.items()}
    cameras = client.hgetall(keys.CAMERA_STATE) if processor[keys.STREAM_CAMERA_STATUS] else {}
    sensors = client.hgetall(keys.SENSOR_LAST) if processor[keys.STREAM_SENSOR_READINGS] else {}
    for stream, first in start_ids(processor, now, horizon_ms).items():
        client.xgroup_create(stream, group, id=first, mkstream=True)
    seeded_cameras = seed_cameras(cameras, registry)
    seeded_sensors = seed_sensors(sensors)
    with client.pipeline(transaction=True) as pipe:
        pipe.delete(keys.ALERT_IN_SENSORS, keys.ALERT_IN_CAMERAS, keys.ALERT_IN_EVENTS, keys.ALERT_IN_OVERDUE)
        if seeded_cameras:
            pipe.hset(keys.ALERT_IN_CAMERAS, mapping=seeded_cameras)
        if seeded_sensors:
            pipe.hset(keys.ALERT_IN_SENSORS, mapping=seeded_sensors)
        pipe.hsetnx(keys.ALERT_META, "watch_since", now)
        pipe.hset(keys.ALERT_META, "bootstrapped", now)
        pipe.execute()
    return len(seeded_cameras), len(seeded_sensors)


def load(client: Any, agg: Aggregates, now: int, horizon_ms: int) -> dict[str, AlertState]:
    """Load the remembered inputs into ``agg`` (case events of the last ``horizon_ms``); return the states."""
    states = store.load_states(client)
    agg.load(
        client.hgetall(keys.ALERT_IN_SENSORS),
        client.hgetall(keys.ALERT_IN_CAMERAS),
        client.zrangebyscore(keys.ALERT_IN_EVENTS, now - horizon_ms, "+inf", withscores=True),
        client.hgetall(keys.ALERT_IN_OVERDUE),
        int(client.hget(keys.ALERT_META, "watch_since") or now),
    )
    return states
