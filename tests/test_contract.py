"""The data contract: records survive a round trip through a stream entry; bad entries name the field."""

from __future__ import annotations

import json

import pytest

from dashboard.store import keys
from dashboard.store.records import (
    CameraStatus,
    CaseEvent,
    Kind,
    Record,
    RecordError,
    SensorReading,
    decode,
    encode,
    kind_of,
)

TS = 1_790_000_000_000


def case_event(**kw: object) -> CaseEvent:
    base: dict[str, object] = {
        "event_id": "E-1",
        "case_id": "C-1",
        "ts": TS,
        "step": "reported",
        "event_type": "CM-0101",
        "category": "city_management",
        "cell_id": "ZM-0001",
    }
    base.update(kw)
    return CaseEvent.model_validate(base)


RECORDS: list[Record] = [
    case_event(note="井盖缺失 <script>alert(1)</script>", photos=["https://x/1.jpg"], priority="urgent"),
    SensorReading(sensor_id="SEN-0001", metric="water_level", value=0.42, unit="m", ts=TS, cell_id="ZM-0001"),
    CameraStatus(camera_id="CAM-00001", status="offline", ts=TS, cell_id="ZM-0001"),
]


@pytest.mark.parametrize("rec", RECORDS, ids=lambda r: type(r).__name__)
def test_round_trip(rec: Record) -> None:
    fields = encode(rec)
    assert fields["v"] == "1"
    raw = {k.encode(): v.encode() for k, v in fields.items()}  # as redis-py returns without decoding
    assert decode(kind_of(rec), raw) == rec


def test_note_is_kept_as_text() -> None:
    rec = decode("case_event", encode(RECORDS[0]))
    assert isinstance(rec, CaseEvent)
    assert rec.note == "井盖缺失 <script>alert(1)</script>"  # stored verbatim, rendered only as text


@pytest.mark.parametrize(
    ("kind", "data", "field"),
    [
        ("case_event", {"event_id": "E", "case_id": "C", "ts": TS, "step": "teleported"}, "step"),
        ("case_event", {"event_id": "has space", "case_id": "C"}, "event_id"),
        (
            "sensor_reading",
            {"sensor_id": "S", "metric": "m", "value": "NaN", "unit": "m", "ts": TS, "cell_id": "X"},
            "value",
        ),
        (
            "sensor_reading",
            {"sensor_id": "S", "metric": "m", "value": 1, "unit": "m", "ts": 12, "cell_id": "X"},
            "ts",
        ),
        ("camera_status", {"camera_id": "K", "status": "sleepy", "ts": TS, "cell_id": "X"}, "status"),
        (
            "camera_status",
            {"camera_id": "K", "status": "online", "ts": TS, "cell_id": "X", "extra": 1},
            "extra",
        ),
    ],
)
def test_bad_entries_name_the_field(kind: Kind, data: dict[str, object], field: str) -> None:
    with pytest.raises(RecordError, match=field):
        decode(kind, {"v": "1", "d": json.dumps(data)})


def test_unknown_version_and_missing_payload() -> None:
    with pytest.raises(RecordError, match="schema version"):
        decode("camera_status", {"v": "9", "d": "{}"})
    with pytest.raises(RecordError, match="no 'd' field"):
        decode("camera_status", {"v": "1"})
    with pytest.raises(RecordError):
        decode("camera_status", {"v": "1", "d": "not json"})


def test_every_key_shares_one_hash_tag() -> None:
    names = [
        v
        for k, v in vars(keys).items()
        if k.isupper() and k != "TAG" and isinstance(v, str) and v.startswith("{")
    ]
    assert len(names) >= 10
    assert all(n.startswith(keys.TAG + ":") for n in names)
    assert keys.feed_key("x").startswith(keys.TAG)
