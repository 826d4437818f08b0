"""Devices on the wall map: the registry's cameras and sensors as compact static geometry, their live
statuses as one snapshot, and one device's details for a popup (docs/DEVICES.md).

The geometry is built once per process and served as a static, cacheable, gzipped file; the statuses
come from the processor's read models; changes reach the page as ``Delta.dev``. A sensor whose last
reading is too old is ``stale`` (judged at read time; the push bridge sends the turns with
``stale_changes``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from typing import Any, Literal, TypeAlias

from dashboard import contract as c
from dashboard.healthscore import sensor_fresh
from dashboard.processor import CAMERA_SINCE, CAMERA_STATE, SENSOR_LAST, SENSOR_STATUS
from dashboard.registry import CAMERA_KINDS, METRICS, Camera, Registry, Sensor

Family: TypeAlias = Literal["cameras", "sensors"]

# Best to worst: a cluster shows the worst status among its devices.
CAMERA_STATUSES: tuple[str, ...] = ("online", "unknown", "offline", "fault")
SENSOR_STATUSES: tuple[str, ...] = ("ok", "unknown", "stale", "warn", "alarm")
STATUSES: dict[Family, tuple[str, ...]] = {"cameras": CAMERA_STATUSES, "sensors": SENSOR_STATUSES}
DEFAULT: dict[Family, str] = {"cameras": "online", "sensors": "ok"}  # not listed in the snapshot
UNKNOWN = "unknown"  # a device that never reported
STALE = "stale"  # a sensor whose last reading is older than healthscore.STALE_INTERVALS of its interval
STALE_EVENT = "devstatus"  # Socket.IO event: {"dev": {sensor id: status}} for sensors turning or back
STALE_CHECK_S = 5.0  # how often the push bridge looks for sensors turning stale or back
# The push bridge's memory of the stale sensors: id -> (stored level now, at the call before or "").
StaleState: TypeAlias = dict[str, tuple[str, str]]
COORD_SCALE = 1_000_000  # coordinates travel as integer micro-degrees, each the difference to the last


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


def read_statuses(client: Any, reg: Registry, now_ms: int | None = None) -> dict[str, Any]:
    """The live status of every device, consistent with the delta seq it is current to.

    Only statuses other than the family's default are listed (a camera not listed is online, a sensor
    not listed is ok); a device that never reported is ``unknown``, a sensor silent too long ``stale``.
    """
    with client.pipeline(transaction=True) as pipe:
        pipe.get(c.DELTA_SEQ)
        pipe.hgetall(CAMERA_STATE)
        pipe.hgetall(SENSOR_STATUS)
        pipe.hgetall(SENSOR_LAST)
        seq, cameras, sensors, lasts = pipe.execute()
    now = _now(now_ms)
    return {
        "seq": int(seq or 0),
        "default": dict(DEFAULT),
        "cameras": _listed(reg.cameras, cameras, "cameras"),
        "sensors": _listed(reg.sensors, _sensor_statuses(reg, sensors, lasts, now), "sensors"),
    }


def _listed(registered: Iterable[str], stored: dict[str, str], family: Family) -> dict[str, str]:
    """Registered devices whose status is not the default (``unknown`` when nothing was stored)."""
    default = DEFAULT[family]
    out = {}
    for dev_id in registered:
        status = stored.get(dev_id, UNKNOWN)
        if status != default:
            out[dev_id] = status
    return out


def _now(now_ms: int | None) -> int:
    """``now_ms``, or the wall clock in ms."""
    return now_ms if now_ms is not None else int(time.time() * 1000)


def sensor_status(reg: Registry, sensor_id: str, stored: str | None, last: str | None, now_ms: int) -> str:
    """A sensor's status on the map: ``stale`` when its last reading (JSON, with its ``ts``) is older
    than healthscore.STALE_INTERVALS (3) reporting intervals, else its stored level; ``unknown`` when it
    never reported."""
    if last is not None and not sensor_fresh(reg, sensor_id, int(json.loads(last)["ts"]), now_ms):
        return STALE
    return stored or UNKNOWN


def _sensor_statuses(
    reg: Registry, stored: dict[str, str], lasts: dict[str, str], now: int
) -> dict[str, str]:
    """Every registered sensor's status on the map, from the stored levels and last readings."""
    return {sid: sensor_status(reg, sid, stored.get(sid), lasts.get(sid), now) for sid in reg.sensors}


def stale_changes(
    client: Any, reg: Registry, now_ms: int, previous: StaleState | None
) -> tuple[dict[str, str], StaleState]:
    """The sensors whose map status changed by staleness since ``previous``: ``{id: "stale"}`` for those
    that turned stale, ``{id: stored level}`` for those back (two HGETALLs in one round trip).

    A sensor turning stale, or stale with a new stored level (a late reading), is ``stale`` at this call
    and the next: a delta carrying its level to the pages may still be on its way, sent after this
    answer. The state returned is the next call's ``previous``; ``None``: a first call.
    """
    with client.pipeline(transaction=True) as pipe:
        pipe.hgetall(SENSOR_STATUS)
        pipe.hgetall(SENSOR_LAST)
        stored, lasts = pipe.execute()
    before = previous or {}
    state: StaleState = {}
    changes: dict[str, str] = {}
    for sid, status in _sensor_statuses(reg, stored, lasts, now_ms).items():
        if status != STALE:
            continue
        level = stored.get(sid, UNKNOWN)
        seen = before.get(sid)
        state[sid] = (level, seen[0] if seen else "")  # "": newly stale, said again next time
        if seen is None or not level == seen[0] == seen[1]:
            changes[sid] = STALE
    changes.update({sid: stored.get(sid, UNKNOWN) for sid in before.keys() - state.keys()})
    return changes, state


def device_info(
    client: Any, reg: Registry, device_id: str, now_ms: int | None = None
) -> dict[str, Any] | None:
    """One device for its popup: names, kind, cell, status and since when (cameras) or the last reading
    (sensors, ``stale`` when it is too old); None for an id the registry does not know."""
    cam = reg.cameras.get(device_id)
    if cam is not None:
        with client.pipeline(transaction=False) as pipe:
            pipe.hget(CAMERA_STATE, device_id)
            pipe.hget(CAMERA_SINCE, device_id)
            status, since = pipe.execute()
        return {
            "id": cam.id, "family": "cameras", "kind": cam.kind, "name_zh": cam.name_zh,
            "name_en": cam.name_en, "cell": cam.cell_id, "status": status or UNKNOWN,
            "since": int(since) if since else None,
        }  # fmt: skip
    sensor = reg.sensors.get(device_id)
    if sensor is None:
        return None
    with client.pipeline(transaction=False) as pipe:
        pipe.hget(SENSOR_STATUS, device_id)
        pipe.hget(SENSOR_LAST, device_id)
        status, last = pipe.execute()
    reading = json.loads(last) if last else None
    return {
        "id": sensor.id, "family": "sensors", "kind": sensor.metric, "name_zh": sensor.name_zh,
        "name_en": sensor.name_en, "cell": sensor.cell_id,
        "status": sensor_status(reg, sensor.id, status, last, _now(now_ms)), "unit": sensor.unit,
        "warn": sensor.thresholds.warn, "alarm": sensor.thresholds.alarm,
        "value": reading["value"] if reading else None, "ts": reading["ts"] if reading else None,
    }  # fmt: skip
