"""Devices for pages: every device's live status at once, and one device's details for a popup.

Read from the processor's read models (``docs/DEVICES.md``); nothing is judged here: a sensor is
``stale`` when the processor has marked it so.
"""

from __future__ import annotations

import json
from typing import Any

from dashboard.domain.devices import DEFAULT, UNKNOWN, listed, map_status
from dashboard.domain.registry import Registry
from dashboard.store import keys


def read_statuses(client: Any, reg: Registry) -> dict[str, Any]:
    """The live status of every device, consistent with the delta seq it is current to.

    Only statuses other than the family's default are listed (a camera not listed is online, a sensor
    not listed is ok); a device that never reported is ``unknown``, a sensor silent too long ``stale``.
    """
    with client.pipeline(transaction=True) as pipe:
        pipe.get(keys.DELTA_SEQ)
        pipe.hgetall(keys.CAMERA_STATE)
        pipe.hgetall(keys.SENSOR_STATUS)
        pipe.smembers(keys.SENSOR_STALE)
        seq, cameras, sensors, stale = pipe.execute()
    shown = {sid: map_status(sensors.get(sid), sid in stale) for sid in reg.sensors}
    return {
        "seq": int(seq or 0),
        "default": dict(DEFAULT),
        "cameras": listed(reg.cameras, cameras, "cameras"),
        "sensors": listed(reg.sensors, shown, "sensors"),
    }


def device_info(client: Any, reg: Registry, device_id: str) -> dict[str, Any] | None:
    """One device for its popup: names, kind, cell, status and since when (cameras) or the last reading
    (sensors); None for an id the registry does not know."""
    cam = reg.cameras.get(device_id)
    if cam is not None:
        with client.pipeline(transaction=False) as pipe:
            pipe.hget(keys.CAMERA_STATE, device_id)
            pipe.hget(keys.CAMERA_SINCE, device_id)
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
        pipe.hget(keys.SENSOR_STATUS, device_id)
        pipe.hget(keys.SENSOR_LAST, device_id)
        pipe.sismember(keys.SENSOR_STALE, device_id)
        status, last, stale = pipe.execute()
    reading = json.loads(last) if last else None
    return {
        "id": sensor.id, "family": "sensors", "kind": sensor.metric, "name_zh": sensor.name_zh,
        "name_en": sensor.name_en, "cell": sensor.cell_id, "status": map_status(status, bool(stale)),
        "unit": sensor.unit, "warn": sensor.thresholds.warn, "alarm": sensor.thresholds.alarm,
        "value": reading["value"] if reading else None, "ts": reading["ts"] if reading else None,
    }  # fmt: skip
