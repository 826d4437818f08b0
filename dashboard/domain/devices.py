"""Devices on the map (pure): the registry's cameras and sensors as compact static geometry, the
statuses they can have, and the rules that give a sensor its status (docs/DEVICES.md).

The geometry is built once per web process and served as a static, cacheable, gzipped file. The
statuses are the processor's read models: a camera's last reported state; a sensor's level from its
last reading (``sensor_level``), or ``stale`` when that reading is older than ``STALE_INTERVALS`` of
its reporting interval (``is_stale``, applied by the processor every ``STALE_CHECK_S``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, Literal, TypeAlias

from dashboard.domain.registry import CAMERA_KINDS, METRICS, Camera, Registry, Sensor, Thresholds

Family: TypeAlias = Literal["cameras", "sensors"]

# Best to worst: a cluster shows the worst status among its devices.
CAMERA_STATUSES: tuple[str, ...] = ("online", "unknown", "offline", "fault")
SENSOR_STATUSES: tuple[str, ...] = ("ok", "unknown", "stale", "warn", "alarm")
STATUSES: dict[Family, tuple[str, ...]] = {"cameras": CAMERA_STATUSES, "sensors": SENSOR_STATUSES}
DEFAULT: dict[Family, str] = {"cameras": "online", "sensors": "ok"}  # not listed in the snapshot
UNKNOWN = "unknown"  # a device that never reported
STALE = "stale"  # a sensor whose last reading is older than STALE_INTERVALS of its interval
STALE_INTERVALS = 3  # a sensor is stale when its last reading is older than this many intervals
STALE_CHECK_S = 5.0  # how often the processor looks for sensors turning stale
COORD_SCALE = 1_000_000  # coordinates travel as integer micro-degrees, each the difference to the last


def sensor_level(value: float, th: Thresholds) -> str:
    """A sensor's status from its last reading: ``alarm`` at or above its alarm threshold, ``warn`` at
    or above its warning threshold, else ``ok``."""
    return "alarm" if value >= th.alarm else "warn" if value >= th.warn else "ok"


def is_stale(registry: Registry, sensor_id: str, last_ts: int, now_ms: int) -> bool:
    """Whether a sensor's last reading (at ``last_ts``) is older than STALE_INTERVALS of its interval
    (60 s for a sensor the registry does not know)."""
    sensor = registry.sensors.get(sensor_id)
    interval = sensor.interval_s if sensor is not None else 60
    return now_ms - last_ts > STALE_INTERVALS * interval * 1000


def map_status(stored: str | None, stale: bool) -> str:
    """A sensor's status on the map: ``stale``, else its stored level, ``unknown`` if it never reported."""
    return STALE if stale else stored or UNKNOWN


def reading_ts(raw: str | None) -> int | None:
    """The time of a last-reading JSON value (None when absent or unreadable)."""
    if raw is None:
        return None
    try:
        ts = json.loads(raw).get("ts")
    except (ValueError, AttributeError):
        return None
    return int(ts) if isinstance(ts, int | float) else None


def _compact(family: Family, devices: Sequence[Camera | Sensor], kinds: Sequence[str], kind_of: Any) -> bytes:
    """The compact JSON of one family: parallel arrays, coordinates delta-encoded, kinds and cells as
    indexes into their lists (docs/DEVICES.md)."""
    cells = sorted({d.cell_id for d in devices})
    cell_index = {cid: i for i, cid in enumerate(cells)}
    kind_index = {k: i for i, k in enumerate(kinds)}
    body: dict[str, Any] = {
        "v": 1,
        "family": family,
        "n": len(devices),
        "statuses": list(STATUSES[family]),
        "kinds": list(kinds),
        "cells": cells,
        "ids": [d.id for d in devices],
        "lon": _deltas(round(d.lon * COORD_SCALE) for d in devices),
        "lat": _deltas(round(d.lat * COORD_SCALE) for d in devices),
        "kind": [kind_index[kind_of(d)] for d in devices],
        "cell": [cell_index[d.cell_id] for d in devices],
    }
    return json.dumps(body, separators=(",", ":")).encode()


def _deltas(values: Iterable[int]) -> list[int]:
    """Each value minus the one before it (the first minus 0)."""
    out, last = [], 0
    for v in values:
        out.append(v - last)
        last = v
    return out


def camera_geometry(reg: Registry) -> bytes:
    """Every registered camera, compact (``/geo/cameras.json``)."""
    return _compact("cameras", list(reg.cameras.values()), [k.key for k in CAMERA_KINDS], lambda d: d.kind)


def sensor_geometry(reg: Registry) -> bytes:
    """Every registered sensor, compact (``/geo/sensors.json``); a sensor's kind is its metric."""
    return _compact("sensors", list(reg.sensors.values()), [m.metric for m in METRICS], lambda d: d.metric)


def listed(registered: Iterable[str], stored: dict[str, str], family: Family) -> dict[str, str]:
    """Registered devices whose status is not the default (``unknown`` when nothing was stored)."""
    default = DEFAULT[family]
    out = {}
    for dev_id in registered:
        status = stored.get(dev_id, UNKNOWN)
        if status != default:
            out[dev_id] = status
    return out
