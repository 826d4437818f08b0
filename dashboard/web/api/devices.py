"""HTTP collector of device data: ``POST /api/v1/sensor-readings`` and ``POST /api/v1/camera-status``.

Each item is checked against the device registry by ``dashboard.domain.registry`` (the same checks as every
other sensor and camera input path); one bad item rejects the whole batch with the index and field of
each problem, and nothing is kept. Camera statuses are passed through as pushed: the processor counts
only changes of state. Readings carry no id, so a POST retried after a lost answer may record a reading
twice; docs/API.md says so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from flask import Blueprint, Response, g

from dashboard.config import AppConfig
from dashboard.domain.registry import Registry, default_registry
from dashboard.store.records import Record
from dashboard.store.sink import IngestEnv
from dashboard.store.validate import (
    DEFAULT_BOUNDS,
    ReadingError,
    TimeBounds,
    parse_ts,
    validate_camera_status,
    validate_reading,
)
from dashboard.web.api.cases import Rejected, items_of
from dashboard.web.api.common import (
    BadRequest,
    accept,
    busy,
    error_response,
    json_body,
    json_response,
    require_token,
)
from dashboard.web.api.limits import RateLimiter, too_many

FEED = "http-devices"  # the sink's name in health reports
READING_FIELDS = ("sensor_id", "metric", "value", "unit", "time")
STATUS_FIELDS = ("camera_id", "status", "time")

Build = Callable[[Registry, dict[str, Any]], Record]


def _reading(reg: Registry, item: dict[str, Any], bounds: TimeBounds = DEFAULT_BOUNDS) -> Record:
    """A sensor reading from one item."""
    ts = parse_ts(item["time"])
    return validate_reading(
        reg, item["sensor_id"], item["metric"], item["value"], item["unit"], ts, bounds=bounds
    )


def _status(reg: Registry, item: dict[str, Any], bounds: TimeBounds = DEFAULT_BOUNDS) -> Record:
    """A camera status from one item."""
    ts = parse_ts(item["time"])
    return validate_camera_status(reg, item["camera_id"], item["status"], ts, bounds=bounds)


def validate_items(
    items: Sequence[Any], fields: tuple[str, ...], build: Build, reg: Registry, what: str
) -> list[Record]:
    """Every item as a record, or Rejected (422) naming each bad item's index and field."""
    records: list[Record] = []
    errors: list[dict[str, Any]] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            errors.append({"index": i, "field": what, "message": f"each {what} must be a JSON object"})
            continue
        problems = [
            {"index": i, "field": f, "message": "required field is missing"} for f in fields if f not in item
        ] + [
            {"index": i, "field": str(k), "message": f"unknown field (accepted: {', '.join(fields)})"}
            for k in item
            if k not in fields
        ]
        if not problems:
            try:
                records.append(build(reg, item))
            except ReadingError as err:
                field = "time" if err.field == "ts" else err.field  # the payload calls it time
                problems.append({"index": i, "field": field, "message": err.message})
        errors += problems
    if errors:
        bad = len({e["index"] for e in errors})
        raise Rejected(422, errors, f"{bad} of {len(items)} items invalid, nothing was kept")
    return records


def blueprint(cfg: AppConfig, env: IngestEnv, limiter: RateLimiter) -> Blueprint:
    """The sensor-readings and camera-status endpoints, writing through the ``http-devices`` sink."""
    bp = Blueprint("http_devices", __name__)
    reg = default_registry()
    env.sink(FEED)  # made now, not racing on the first requests

    def ingest(key: str, fields: tuple[str, ...], build: Build, what: str) -> Response:
        """Validate the batch under ``key`` and keep all of it or none."""
        try:
            items = items_of(json_body(cfg), key, cfg.ingest.max_batch)
            records = validate_items(items, fields, build, reg, what)
        except BadRequest as err:
            return error_response(err)
        if wait := limiter.take(str(g.source), len(records)):
            return too_many(str(g.source), wait, limiter.rate, limiter.burst)
        if not accept(env, FEED, records):
            return busy()
        return json_response({"accepted": len(records)}, 202)

    @bp.post("/api/v1/sensor-readings")
    @require_token(cfg, "sensor-readings")
    def post_sensor_readings() -> Response:
        """Validate a batch of sensor readings and keep all of it, or reject all of it."""
        return ingest("readings", READING_FIELDS, partial(_reading, bounds=env.bounds), "reading")

    @bp.post("/api/v1/camera-status")
    @require_token(cfg, "camera-status")
    def post_camera_status() -> Response:
        """Validate a batch of camera statuses and keep all of it, or reject all of it."""
        return ingest("statuses", STATUS_FIELDS, partial(_status, bounds=env.bounds), "status")

    return bp
