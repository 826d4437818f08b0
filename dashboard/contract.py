"""The Redis data contract: every key and stream name, and the versioned record shapes.

Writers (feeds) and readers (processor, web) import names and models from here only. Every key shares
the hash tag ``{cb}`` so that one MULTI/EXEC or multi-stream XREADGROUP stays in one Redis Cluster slot.
docs/DATA.md describes this contract for someone writing a new feed.
"""

from __future__ import annotations

import json
import math
import re
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

SCHEMA_VERSION = 1
TAG = "{cb}"

# --- input streams: feeds append, the processor reads through a consumer group -----------------
STREAM_CASE_EVENTS = f"{TAG}:in:case-events"
STREAM_SENSOR_READINGS = f"{TAG}:in:sensor-readings"
STREAM_CAMERA_STATUS = f"{TAG}:in:camera-status"
INPUT_STREAMS_MAXLEN = 1_000_000  # approximate (MAXLEN ~): about a day of input at the real rate
STREAM_DEAD_LETTER = f"{TAG}:dead-letter"
DEAD_LETTER_MAXLEN = 100_000

# --- output: the processor's deltas, read by every web process ---------------------------------
STREAM_DELTAS = f"{TAG}:out:deltas"
DELTAS_MAXLEN = 10_000
DELTA_SEQ = f"{TAG}:out:delta-seq"  # string: the seq of the newest delta

# --- read models, written only by the processor -------------------------------------------------
CELL_OPEN = f"{TAG}:rm:cell-open"  # hash cell_id -> open cases
CASE_INDEX = f"{TAG}:rm:case"  # hash case_id -> JSON of processor.CaseState
CASES_BY_TIME = f"{TAG}:rm:cases-by-time"  # sorted set case_id -> reported time (ms)
SEEN_EVENTS = f"{TAG}:rm:seen"  # sorted set event_id -> ts (ms); trimmed after SEEN_KEEP_MS
SEEN_KEEP_MS = 7 * 24 * 3600 * 1000
COUNTERS = f"{TAG}:rm:counters"  # hash: open, records, reported:<yyyymmdd>, closed:<yyyymmdd>, ...
PROCESSOR_STATS = f"{TAG}:rm:processor"  # hash: applied, duplicates, dead, last_ts

# --- HTTP ingest edge: idempotency marks, written by the web process before accepting an event ---
# One string key per event id (SET NX EX), so a repeated POST is answered as a duplicate; it expires
# with the processor's own idempotency window. The processor's seen-set stays the final guard.
INGEST_EVENT_PREFIX = f"{TAG}:ingest:event:"
INGEST_EVENT_TTL_S = SEEN_KEEP_MS // 1000


def ingest_event_key(event_id: str) -> str:
    """The idempotency mark of one case event id at the HTTP edge."""
    return f"{INGEST_EVENT_PREFIX}{event_id}"


# --- alerts: written by the alert engine and by acknowledge/silence (dashboard/alerts/) ---------
ALERT_STATE = f"{TAG}:alert:state"  # hash instance id -> JSON of dashboard.alerts.model.AlertState
ALERT_ACTIVE = f"{TAG}:alert:active"  # sorted set of firing instances: red first, then newest first
ALERT_HISTORY = f"{TAG}:alert:history"  # stream: one entry per transition (MAXLEN ~ alerts.history_maxlen)
ALERT_EXT = f"{TAG}:alert:ext"  # counter: bumped by each change made outside the engine (ack, silence)
ALERT_CONTROL = f"{TAG}:alert:control"  # hash: a reload request the engine takes (rules as JSON)
ALERT_RULES = f"{TAG}:alert:rules"  # hash: the rule set running now and the last reload's outcome
STREAM_ALERTS = f"{TAG}:out:alerts"  # stream of alert changes (consecutive seq), pushed to pages
ALERTS_MAXLEN = 10_000
ALERT_SEQ = f"{TAG}:out:alert-seq"  # string: the seq of the newest alert change

# --- feed health --------------------------------------------------------------------------------
FEEDS = f"{TAG}:feeds"  # set of feed names

# --- simulator control: a request the simulator takes (and deletes) about once a second -----------
SIM_CONTROL = f"{TAG}:sim:control"  # hash: scenario (a name, or "normal" to end one), area (optional id)


def feed_key(name: str) -> str:
    """Hash of one feed's health: last_record_ms, heartbeat_ms, records, errors, rate."""
    return f"{TAG}:feed:{name}"


Kind: TypeAlias = Literal["case_event", "sensor_reading", "camera_status"]

CASE_STEPS: tuple[str, ...] = (
    "reported",
    "registered",
    "cancelled",
    "dispatched",
    "returned",
    "handled",
    "feedback",
    "verified",
    "closed",
    "reopened",
    "escalated",
)
CaseStep: TypeAlias = Literal[
    "reported",
    "registered",
    "cancelled",
    "dispatched",
    "returned",
    "handled",
    "feedback",
    "verified",
    "closed",
    "reopened",
    "escalated",
]

_ID = r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,63}$"
Ident = Annotated[str, Field(pattern=_ID, description="1-64 chars: letters, digits, . _ : -")]
EpochMs = Annotated[
    int,
    Field(ge=946_684_800_000, le=4_102_444_800_000, description="UTC epoch milliseconds, 2000..2100"),
]
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


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
    note: str = Field("", max_length=2000, description="Free text from the field: untrusted, never HTML.")
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
    "case_event": STREAM_CASE_EVENTS,
    "sensor_reading": STREAM_SENSOR_READINGS,
    "camera_status": STREAM_CAMERA_STATUS,
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


def _text(value: Any) -> str:
    """A Redis field value (bytes or str) as text."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def describe_errors(err: ValidationError) -> str:
    """One line naming each bad field and what was wrong with it."""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'record'}: {e['msg']}" for e in err.errors())


def decode(kind: Kind, fields: dict[Any, Any]) -> AnyRecord:
    """Parse a stream entry back into its record, or raise RecordError naming what is wrong."""
    f = {_text(k): _text(v) for k, v in fields.items()}
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


class Delta(BaseModel):
    """What changed in the read models, as the processor publishes it (the page applies it)."""

    model_config = ConfigDict(extra="forbid")

    seq: int = Field(ge=1, description="Consecutive; a gap means a lost delta and forces a resync.")
    ts: int = Field(description="When the processor wrote it (epoch ms).")
    inc: dict[str, dict[str, int]] = Field(
        default_factory=dict, description="Redis hash key -> field -> increment (add to the snapshot)."
    )
    ticker: list[dict[str, Any]] = Field(default_factory=list, description="New case events, oldest first.")
    overdue_changed: bool = Field(False, description="The set of overdue cases changed.")
    dev: dict[str, str] = Field(
        default_factory=dict,
        description="Device id -> its new status, for the devices whose status changed (docs/DEVICES.md).",
    )

    def to_fields(self) -> dict[str, str]:
        """Stream entry fields of this delta."""
        return {"d": self.model_dump_json()}

    @classmethod
    def from_fields(cls, fields: dict[Any, Any]) -> Delta:
        """Parse a delta stream entry."""
        f = {_text(k): _text(v) for k, v in fields.items()}
        return cls.model_validate(json.loads(f["d"]))
