"""Edge validation: raw readings and camera states checked against the registry, built into records.

Every sensor input path (MQTT, HTTP, the simulator) turns a raw measurement into a ``SensorReading``
through ``validate_reading``, and every camera input path into a ``CameraStatus`` through
``validate_camera_status``. The records are then built through the contract's own validation too (here
as cheap as ``model_construct``: ~3 µs). docs/FEEDS.md lists the rules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from dashboard.domain.registry import METRIC_BY_NAME, Registry
from dashboard.domain.types import TS_MAX_MS, TS_MIN_MS, epoch_ms
from dashboard.store.records import AnyRecord, CameraStatus, CaseEvent, SensorReading, describe_errors

CAMERA_STATES: tuple[str, ...] = ("online", "offline", "fault")


class ReadingError(ValueError):
    """A reading or status rejected at the edge; ``field`` names what was wrong."""

    def __init__(self, field: str, message: str) -> None:
        """``message`` is one line; ``str(err)`` is ``"<field>: <message>"``."""
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class TimeBounds:
    """The times a record may carry, around the clock of whoever checks it: at most ``future_ms`` ahead
    (a clock set wrong, or a unit error) and at most ``past_ms`` back (what the system keeps). Every
    edge refuses a record outside them and the processor dead-letters one that reaches a stream, so one
    bad clock cannot pin a sensor's latest reading or make a case overdue for ever (docs/FEEDS.md)."""

    future_ms: int = 5 * 60_000
    past_ms: int = 90 * 86_400_000

    def problem(self, ts: int, now: int) -> str | None:
        """Why ``ts`` is outside the bounds at ``now`` (one line), else None."""
        if ts > now + self.future_ms:
            return (
                f"{ts} is {_span(ts - now)} in the future (at most {_span(self.future_ms)} ahead accepted: "
                "check the sender's clock and that the time is in milliseconds)"
            )
        if ts < now - self.past_ms:
            return f"{ts} is {_span(now - ts)} old (at most {_span(self.past_ms)} back accepted)"
        return None


DEFAULT_BOUNDS = TimeBounds()


def _span(ms: int) -> str:
    """A duration in words: 90 s, 5 min, 23.0 h, 9471 d."""
    if ms < 120_000:
        return f"{ms / 1000:.0f} s"
    if ms < 2 * 3_600_000:
        return f"{ms / 60_000:.0f} min"
    if ms < 7 * 86_400_000:
        return f"{ms / 3_600_000:.1f} h"
    return f"{ms / 86_400_000:.0f} d"


def _check_ts(ts_ms: Any, now_ms: int | None, bounds: TimeBounds = DEFAULT_BOUNDS) -> int:
    """A record time: integer epoch ms within 2000..2100 and within ``bounds`` of now."""
    if isinstance(ts_ms, bool) or not isinstance(ts_ms, int | float):
        raise ReadingError("ts", f"must be epoch milliseconds (a number), got {type(ts_ms).__name__}")
    if isinstance(ts_ms, float) and (not math.isfinite(ts_ms) or not ts_ms.is_integer()):
        raise ReadingError("ts", f"must be whole epoch milliseconds, got {ts_ms!r}")
    ts = int(ts_ms)
    if ts < TS_MIN_MS:
        hint = " (seconds? want milliseconds)" if TS_MIN_MS // 1000 <= ts < TS_MAX_MS // 1000 else ""
        raise ReadingError("ts", f"{ts} is before 2000-01-01{hint}")
    if ts > TS_MAX_MS:
        raise ReadingError("ts", f"{ts} is after 2100-01-01")
    problem = bounds.problem(ts, now_ms if now_ms is not None else epoch_ms())
    if problem is not None:
        raise ReadingError("ts", problem)
    return ts


def parse_ts(value: Any) -> int:
    """A payload time as epoch ms: an integer number of ms, or ISO-8601 text with a UTC offset."""
    if isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ReadingError("ts", f"not an ISO-8601 time: {value[:64]!r}") from None
        if dt.tzinfo is None:
            raise ReadingError("ts", f"ISO-8601 time without a UTC offset (add Z or +08:00): {value[:64]!r}")
        return round(dt.astimezone(UTC).timestamp() * 1000)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ReadingError("ts", f"must be epoch milliseconds or ISO-8601 text, got {type(value).__name__}")
    if isinstance(value, float) and (not math.isfinite(value) or not value.is_integer()):
        raise ReadingError("ts", f"must be whole epoch milliseconds, got {value!r}")
    return int(value)


def validate_reading(
    reg: Registry,
    sensor_id: Any,
    metric: Any,
    value: Any,
    unit: Any,
    ts_ms: Any,
    now_ms: int | None = None,
    bounds: TimeBounds = DEFAULT_BOUNDS,
) -> SensorReading:
    """Check a raw measurement against the registry and the metric's physical range; build the record.

    Raises ReadingError naming the field: an unknown sensor, a metric the sensor does not measure, a
    unit other than the metric's (or a documented alias), a value that is not a finite number or lies
    outside the physical range, a time outside 2000..2100 or outside ``bounds`` around ``now_ms``.
    The record carries the canonical unit and the sensor's cell from the registry.
    """
    sensor = reg.sensors.get(sensor_id) if isinstance(sensor_id, str) else None
    if sensor is None:
        raise ReadingError("sensor_id", f"unknown sensor {str(sensor_id)[:64]!r}")
    spec = METRIC_BY_NAME[sensor.metric]
    if metric != sensor.metric:
        raise ReadingError("metric", f"{sensor.id} measures {sensor.metric}, not {str(metric)[:64]!r}")
    if not isinstance(unit, str) or not spec.accepts_unit(unit):
        raise ReadingError("unit", f"{sensor.metric} is in {spec.unit!r}, not {str(unit)[:32]!r}")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ReadingError("value", f"must be a number, got {type(value).__name__}")
    v = float(value)
    if not math.isfinite(v):
        raise ReadingError("value", f"must be a finite number, got {v!r}")
    if (wrong := out_of_range(sensor.metric, v)) is not None:
        raise ReadingError(*wrong)
    ts = _check_ts(ts_ms, now_ms, bounds)
    try:
        return SensorReading(
            sensor_id=sensor.id, metric=sensor.metric, value=v, unit=spec.unit, ts=ts, cell_id=sensor.cell_id
        )
    except ValidationError as err:  # a registry entry the contract does not accept
        raise ReadingError("record", describe_errors(err)) from None


def out_of_range(metric: str, value: float) -> tuple[str, str] | None:
    """Why ``value`` cannot be a ``metric`` reading, as (field, message): an unknown metric, or a value
    outside the metric's physical range; else None."""
    spec = METRIC_BY_NAME.get(metric)
    if spec is None:
        return "metric", f"unknown metric {metric[:64]!r}"
    if not spec.lo <= value <= spec.hi:
        return "value", f"{value:g} {spec.unit} is outside {metric}'s physical range {spec.lo:g}..{spec.hi:g}"
    return None


def validate_camera_status(
    reg: Registry,
    camera_id: Any,
    status: Any,
    ts_ms: Any,
    now_ms: int | None = None,
    bounds: TimeBounds = DEFAULT_BOUNDS,
) -> CameraStatus:
    """Check a camera's state (online / offline / fault) against the registry; build the record."""
    camera = reg.cameras.get(camera_id) if isinstance(camera_id, str) else None
    if camera is None:
        raise ReadingError("camera_id", f"unknown camera {str(camera_id)[:64]!r}")
    if status not in CAMERA_STATES:
        raise ReadingError("status", f"must be online, offline or fault, got {str(status)[:32]!r}")
    ts = _check_ts(ts_ms, now_ms, bounds)
    try:
        return CameraStatus(camera_id=camera.id, status=status, ts=ts, cell_id=camera.cell_id)
    except ValidationError as err:  # a registry entry the contract does not accept
        raise ReadingError("record", describe_errors(err)) from None


@dataclass(frozen=True)
class Admission:
    """What a record read from an input stream must match besides its schema, for the processor to
    apply it (else it is dead-lettered) and the alert engine to count it: a known cell and event type,
    a known metric within its physical range, a time within ``bounds``. A feed writing straight to a
    stream skips the edges' checks; these are the same ones. Empty ``cells`` or ``event_types``: not
    checked (a processor built without the geography, in tests)."""

    cells: frozenset[str] = frozenset()
    event_types: frozenset[str] = frozenset()
    bounds: TimeBounds = DEFAULT_BOUNDS

    def problem(self, rec: AnyRecord, now: int) -> str | None:
        """Why ``rec`` cannot be applied at ``now`` (naming the field), else None."""
        if self.cells and rec.cell_id not in self.cells:
            return f"cell_id: unknown cell {rec.cell_id[:64]!r}"
        if isinstance(rec, CaseEvent) and self.event_types and rec.event_type not in self.event_types:
            return f"event_type: unknown event type {rec.event_type[:64]!r}"
        if isinstance(rec, SensorReading) and (wrong := out_of_range(rec.metric, rec.value)) is not None:
            return f"{wrong[0]}: {wrong[1]}"
        problem = self.bounds.problem(rec.ts, now)
        return f"ts: {problem}" if problem is not None else None
