"""The versioned records of the input streams (case event, sensor reading, camera status), their
stream entry encoding, and the stream each kind goes to.

Writers (feeds, the HTTP ingest) and readers (processor, alert engine) import the models from here;
names come from ``dashboard.store.keys``. docs/DATA.md describes this contract for someone writing a
new feed.
"""

from __future__ import annotations

import math
import re
from typing import Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dashboard.domain.lifecycle import CaseStep
from dashboard.domain.types import EpochMs, Ident, Kind
from dashboard.store import keys
from dashboard.store.client import ENCODING_ERRORS, has_bad_text

SCHEMA_VERSION = 1


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


NOTE_MAX = 2000  # characters of free text in a case event's note


class RecordError(ValueError):
    """A stream entry or payload that does not match the contract; the message names the field."""


class Record(BaseModel):
    """Base of every record: versioned, strict about unknown fields, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    v: Literal[1] = Field(1, description="Schema version.")


class CaseEvent(Record):
    """One step of a case in the closed loop (see DOMAIN.md)."""

    event_id: Ident = Field(description="Idempotency key: the same event_id is applied once.")
    case_id: Ident
    seq: int = Field(0, ge=0, description="Per-case sequence, orders events with equal time.")
    ts: EpochMs
    step: CaseStep
    event_type: str = Field(min_length=1, max_length=32, description="Catalogue code, e.g. CM-0101.")
    category: str = Field(min_length=1, max_length=32)
    cell_id: str = Field(min_length=1, max_length=32)
    lon: float | None = Field(None, ge=-180, le=180, description="WGS-84.")
    lat: float | None = Field(None, ge=-90, le=90, description="WGS-84.")
    department: str | None = Field(None, max_length=64)
    actor: str | None = Field(None, max_length=64)
    note: str = Field("", max_length=NOTE_MAX, description="Free text from the field: untrusted, never HTML.")
    photos: list[str] = Field(default_factory=list, max_length=10)
    priority: Literal["normal", "urgent"] = "normal"
    source: str = Field("api", min_length=1, max_length=32)

    @field_validator("note")
    @classmethod
    def _no_control_chars(cls, v: str) -> str:
        """Strip control characters (but keep newlines and tabs)."""
        return _CONTROL.sub("", v)


class SensorReading(Record):
    """One measurement from a sensor."""

    sensor_id: Ident
    metric: str = Field(min_length=1, max_length=32)
    value: float
    unit: str = Field(max_length=16)
    ts: EpochMs
    cell_id: str = Field(min_length=1, max_length=32)

    @field_validator("value")
    @classmethod
    def _finite(cls, v: float) -> float:
        """NaN and infinity are not measurements."""
        if not math.isfinite(v):
            raise ValueError("must be a finite number")
        return v


class CameraStatus(Record):
    """A camera channel's change of state."""

    camera_id: Ident
    status: Literal["online", "offline", "fault"]
    ts: EpochMs
    cell_id: str = Field(min_length=1, max_length=32)


AnyRecord: TypeAlias = CaseEvent | SensorReading | CameraStatus

STREAM_OF: dict[Kind, str] = {
    "case_event": keys.STREAM_CASE_EVENTS,
    "sensor_reading": keys.STREAM_SENSOR_READINGS,
    "camera_status": keys.STREAM_CAMERA_STATUS,
}
MODEL_OF: dict[Kind, type[Record]] = {
    "case_event": CaseEvent,
    "sensor_reading": SensorReading,
    "camera_status": CameraStatus,
}
KIND_OF_STREAM: dict[str, Kind] = {v: k for k, v in STREAM_OF.items()}


def kind_of(record: Record) -> Kind:
    """The kind name of a record instance."""
    for kind, model in MODEL_OF.items():
        if isinstance(record, model):
            return kind
    raise TypeError(f"not a contract record: {type(record).__name__}")


def encode(record: Record) -> dict[str, str]:
    """The stream entry fields of a record: ``v`` (schema version) and ``d`` (compact JSON)."""
    return {"v": str(record.v), "d": record.model_dump_json(exclude_defaults=False)}


def text(value: Any) -> str:
    """A Redis field value (bytes or str) as text (bytes that are not UTF-8 as lone surrogates, which
    ``decode`` refuses)."""
    return value.decode("utf-8", ENCODING_ERRORS) if isinstance(value, bytes) else str(value)


def describe_errors(err: ValidationError) -> str:
    """One line naming each bad field and what was wrong with it."""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'record'}: {e['msg']}" for e in err.errors())


def decode(kind: Kind, fields: dict[Any, Any]) -> AnyRecord:
    """Parse a stream entry back into its record, or raise RecordError naming what is wrong."""
    f = {text(k): text(v) for k, v in fields.items()}
    if (why := has_bad_text(f)) is not None:
        raise RecordError(why)
    if "d" not in f:
        raise RecordError("entry has no 'd' field")
    if f.get("v") != str(SCHEMA_VERSION):
        raise RecordError(f"unsupported schema version {f.get('v')!r} (expected {SCHEMA_VERSION})")
    model = MODEL_OF[kind]
    try:
        rec = model.model_validate_json(f["d"])
    except ValidationError as err:
        raise RecordError(describe_errors(err)) from None
    assert isinstance(rec, CaseEvent | SensorReading | CameraStatus)
    return rec
