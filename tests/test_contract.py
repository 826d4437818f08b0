"""The data contract: records survive a round trip through a stream entry; bad entries name the field."""

from __future__ import annotations

import json

import pytest

from dashboard import contract as c

TS = 1_790_000_000_000


def case_event(**kw: object) -> c.CaseEvent:
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
    return c.CaseEvent.model_validate(base)


RECORDS: list[c.Record] = [
    case_event(note="井盖缺失 <script>alert(1)</script>", photos=["https://x/1.jpg"], priority="urgent"),
    c.SensorReading(
        sensor_id="SEN-0001", metric="water_level", value=0.42, unit="m", ts=TS, cell_id="ZM-0001"
    ),
    c.CameraStatus(camera_id="CAM-00001", status="offline", ts=TS, cell_id="ZM-0001"),
]


@pytest.mark.parametrize("rec", RECORDS, ids=lambda r: type(r).__name__)
def test_round_trip(rec: c.Record) -> None:
    fields = c.encode(rec)
    assert fields["v"] == "1"
    raw = {k.encode(): v.encode() for k, v in fields.items()}  # as redis-py returns without decoding
    assert c.decode(c.kind_of(rec), raw) == rec


def test_note_is_kept_as_text() -> None:
    rec = c.decode("case_event", c.encode(RECORDS[0]))
    assert isinstance(rec, c.CaseEvent)
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
def test_bad_entries_name_the_field(kind: c.Kind, data: dict[str, object], field: str) -> None:
    with pytest.raises(c.RecordError, match=field):
        c.decode(kind, {"v": "1", "d": json.dumps(data)})


def test_unknown_version_and_missing_payload() -> None:
    with pytest.raises(c.RecordError, match="schema version"):
        c.decode("camera_status", {"v": "9", "d": "{}"})
    with pytest.raises(c.RecordError, match="no 'd' field"):
        c.decode("camera_status", {"v": "1"})
    with pytest.raises(c.RecordError):
        c.decode("camera_status", {"v": "1", "d": "not json"})


def test_every_key_shares_one_hash_tag() -> None:
    names = [
        v
        for k, v in vars(c).items()
        if k.isupper() and k != "TAG" and isinstance(v, str) and v.startswith("{")
    ]
    assert len(names) >= 10
    assert all(n.startswith(c.TAG + ":") for n in names)
    assert c.feed_key("x").startswith(c.TAG)
