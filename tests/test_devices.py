"""Devices on the map, server side, on a real Redis: the compact geometry files, the status snapshot, the
sensor status mapping, the processor's ``dev`` deltas and camera-since times, push's merge of them, and
stale sensors (silent for more than three reporting intervals): marked by the processor, shown in the
snapshot and pushed as changes."""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis

from dashboard.config import ProcessorConfig
from dashboard.domain import devices
from dashboard.domain.devices import STALE_INTERVALS, sensor_level
from dashboard.domain.registry import Registry, Sensor, Thresholds, default_registry
from dashboard.processor.loop import Processor
from dashboard.queries.devices import device_info, read_statuses
from dashboard.store import keys
from dashboard.store.deltas import Delta
from dashboard.store.keys import CAMERA_SINCE, CAMERA_STATE, SENSOR_STATUS
from dashboard.store.records import STREAM_OF, CameraStatus, Record, SensorReading, encode, kind_of
from dashboard.web.rooms import merge

TS = 1_790_000_000_000


@pytest.fixture(scope="module")
def reg() -> Registry:
    """The shipped registries."""
    return default_registry()


def decoded(raw: bytes) -> dict[str, Any]:
    """A geometry file with its coordinates back in degrees."""
    g = json.loads(raw)
    for axis in ("lon", "lat"):
        acc, out = 0, []
        for d in g[axis]:
            acc += d
            out.append(acc / devices.COORD_SCALE)
        g[axis] = out
    return dict(g)


def test_camera_geometry_holds_every_camera_compactly(reg: Registry) -> None:
    raw = devices.camera_geometry(reg)
    g = decoded(raw)
    cams = list(reg.cameras.values())
    assert g["family"] == "cameras" and g["n"] == len(cams) == 16_000
    assert g["ids"] == [cam.id for cam in cams]
    assert g["statuses"] == ["online", "unknown", "offline", "fault"]
    for i in (0, 1, 7_777, 15_999):
        cam = cams[i]
        assert g["lon"][i] == pytest.approx(cam.lon, abs=1e-9)
        assert g["lat"][i] == pytest.approx(cam.lat, abs=1e-9)
        assert g["kinds"][g["kind"][i]] == cam.kind
        assert g["cells"][g["cell"][i]] == cam.cell_id
    # far smaller than the same points as GeoJSON (about 2.5 MB)
    assert len(raw) < 700_000


def test_sensor_geometry_names_each_sensors_metric(reg: Registry) -> None:
    g = decoded(devices.sensor_geometry(reg))
    sensors = list(reg.sensors.values())
    assert g["family"] == "sensors" and g["n"] == len(sensors) >= 1_000
    assert g["statuses"] == ["ok", "unknown", "stale", "warn", "alarm"]
    s = sensors[5]
    assert g["ids"][5] == s.id and g["kinds"][g["kind"][5]] == s.metric
    assert g["lat"][5] == pytest.approx(s.lat, abs=1e-9)


def test_snapshot_lists_only_statuses_other_than_the_default(r: redis.Redis, reg: Registry) -> None:
    empty = read_statuses(r, reg)
    assert empty["seq"] == 0 and empty["default"] == {"cameras": "online", "sensors": "ok"}
    assert len(empty["cameras"]) == 16_000 and set(empty["cameras"].values()) == {"unknown"}
    assert set(empty["sensors"].values()) == {"unknown"}

    cams = list(reg.cameras)
    sensors = list(reg.sensors)
    r.hset(CAMERA_STATE, mapping={cid: "online" for cid in cams})
    r.hset(CAMERA_STATE, mapping={cams[3]: "offline", cams[9]: "fault"})
    r.hset(SENSOR_STATUS, mapping={sid: "ok" for sid in sensors})
    r.hset(SENSOR_STATUS, sensors[0], "alarm")
    r.set(keys.DELTA_SEQ, 41)
    snap = read_statuses(r, reg)
    assert snap["seq"] == 41
    assert snap["cameras"] == {cams[3]: "offline", cams[9]: "fault"}
    assert snap["sensors"] == {sensors[0]: "alarm"}
    assert len(json.dumps(snap)) < 300


@pytest.mark.parametrize(
    ("value", "status"),
    [(0.0, "ok"), (0.149, "ok"), (0.15, "warn"), (0.299, "warn"), (0.30, "alarm"), (9.0, "alarm")],
)
def test_sensor_status_from_its_thresholds(value: float, status: str) -> None:
    assert sensor_level(value, Thresholds(warn=0.15, alarm=0.30)) == status


class Clock:
    """A clock a test moves."""

    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def make(r: redis.Redis, clock: Clock | None = None) -> Processor:
    """A processor on ``r`` reading small batches (its clock at TS + 1 min unless given)."""
    p = Processor(r, ProcessorConfig(batch_size=50), "t1", clock=clock or Clock(TS + 60_000))
    p.ensure_groups()
    return p


def xadd(r: redis.Redis, *recs: Record) -> None:
    """Append records to their input streams."""
    for rec in recs:
        r.xadd(STREAM_OF[kind_of(rec)], encode(rec))  # type: ignore[arg-type]


def new_deltas(r: redis.Redis, after: str = "-") -> list[Delta]:
    """The deltas on the output stream (after the entry id ``after``)."""
    client: Any = r
    return [Delta.from_fields(f) for eid, f in client.xrange(keys.STREAM_DELTAS, after, "+") if eid != after]


def cam(camera_id: str, status: str, ts: int = TS) -> CameraStatus:
    """A camera status record."""
    return CameraStatus(camera_id=camera_id, status=status, ts=ts, cell_id="ZM-0001")


def test_a_camera_status_change_is_a_dev_entry_with_its_time(r: redis.Redis) -> None:
    p = make(r)
    xadd(r, cam("CAM-00001", "online"), cam("CAM-00002", "online"))
    p.step()
    first = new_deltas(r)
    assert first[-1].dev == {"CAM-00001": "online", "CAM-00002": "online"}

    xadd(r, cam("CAM-00001", "offline", TS + 5_000))
    p.step()
    d = new_deltas(r)[-1]
    assert d.dev == {"CAM-00001": "offline"} and d.seq == first[-1].seq + 1
    assert r.hget(CAMERA_STATE, "CAM-00001") == "offline"
    assert r.hget(CAMERA_SINCE, "CAM-00001") == str(TS + 5_000)
    assert r.hget(CAMERA_SINCE, "CAM-00002") == str(TS)

    # the same status again is no change: no delta, the since time stays
    xadd(r, cam("CAM-00001", "offline", TS + 9_000))
    p.step()
    assert new_deltas(r)[-1].seq == d.seq
    assert r.hget(CAMERA_SINCE, "CAM-00001") == str(TS + 5_000)

    # offline -> fault changes no counter but is a change of status
    xadd(r, cam("CAM-00001", "fault", TS + 10_000))
    p.step()
    assert new_deltas(r)[-1].dev == {"CAM-00001": "fault"}


def test_a_sensor_crossing_its_threshold_is_a_dev_entry(r: redis.Redis, reg: Registry) -> None:
    sensor = next(s for s in reg.sensors.values() if s.metric == "water_level")
    p = make(r)

    def reading(value: float, n: int) -> SensorReading:
        return SensorReading(
            sensor_id=sensor.id,
            metric="water_level",
            value=value,
            unit="m",
            ts=TS + n,
            cell_id=sensor.cell_id,
        )

    xadd(r, reading(0.01, 1))
    p.step()
    assert new_deltas(r)[-1].dev == {sensor.id: "ok"}
    seq = new_deltas(r)[-1].seq
    xadd(r, reading(0.02, 2))  # still ok: readings count, but no status change for the map
    p.step()
    assert all(sensor.id not in d.dev for d in new_deltas(r) if d.seq > seq)
    xadd(r, reading(sensor.thresholds.alarm + 0.1, 3))
    p.step()
    assert new_deltas(r)[-1].dev == {sensor.id: "alarm"}
    assert r.hget(SENSOR_STATUS, sensor.id) == "alarm"


def test_merge_carries_dev_and_the_last_status_wins() -> None:
    deltas = [
        Delta(seq=5, ts=TS, dev={"CAM-1": "offline", "CAM-2": "fault"}),
        Delta(seq=6, ts=TS + 1, dev={"CAM-1": "online"}),
        Delta(seq=7, ts=TS + 2),
    ]
    msg = merge(deltas)
    assert (msg["from"], msg["to"]) == (5, 7)
    assert msg["dev"] == {"CAM-1": "online", "CAM-2": "fault"}


def test_device_info_for_a_popup(r: redis.Redis, reg: Registry) -> None:
    cam_id, sensor = next(iter(reg.cameras)), next(iter(reg.sensors.values()))
    assert device_info(r, reg, cam_id) == {
        "id": cam_id, "family": "cameras", "kind": reg.cameras[cam_id].kind,
        "name_zh": reg.cameras[cam_id].name_zh, "name_en": reg.cameras[cam_id].name_en,
        "cell": reg.cameras[cam_id].cell_id, "status": "unknown", "since": None,
    }  # fmt: skip
    r.hset(CAMERA_STATE, cam_id, "fault")
    r.hset(CAMERA_SINCE, cam_id, TS)
    got = device_info(r, reg, cam_id)
    assert got is not None and (got["status"], got["since"]) == ("fault", TS)
    info = device_info(r, reg, sensor.id)
    assert info is not None and (info["status"], info["value"], info["unit"]) == (
        "unknown",
        None,
        sensor.unit,
    )
    assert device_info(r, reg, "NOPE-1") is None


def reading(sensor: Sensor, value: float, ts: int) -> SensorReading:
    """A reading of ``sensor`` taken at ``ts``."""
    return SensorReading(
        sensor_id=sensor.id,
        metric=sensor.metric,
        value=value,
        unit=sensor.unit,
        ts=ts,
        cell_id=sensor.cell_id,
    )


def silence_limit(sensor: Sensor) -> int:
    """How long (ms) a sensor may be silent and still count as reporting."""
    return STALE_INTERVALS * sensor.interval_s * 1000


def water_sensors(reg: Registry, n: int) -> list[Sensor]:
    """``n`` water-level sensors (one reporting interval: 60 s)."""
    found = [s for s in reg.sensors.values() if s.metric == "water_level"][:n]
    assert len({s.interval_s for s in found}) == 1
    return found


def test_a_sensor_silent_for_three_intervals_is_stale_until_it_reports(r: redis.Redis, reg: Registry) -> None:
    alarmed, fine, never = water_sensors(reg, 3)
    clock = Clock(TS)
    p = make(r, clock)
    xadd(r, reading(alarmed, alarmed.thresholds.alarm, TS), reading(fine, 0.0, TS))
    p.step()
    limit = silence_limit(alarmed)

    clock.now = TS + limit
    assert p.check_stale() == 0
    at_limit = read_statuses(r, reg)
    assert at_limit["sensors"][alarmed.id] == "alarm" and fine.id not in at_limit["sensors"]
    assert at_limit["sensors"][never.id] == "unknown"

    # one ms later both are stale, whatever their last level; one never heard from stays unknown
    clock.now = TS + limit + 1
    assert p.check_stale() == 2
    snap = read_statuses(r, reg)
    assert (snap["sensors"][alarmed.id], snap["sensors"][fine.id], snap["sensors"][never.id]) == (
        "stale",
        "stale",
        "unknown",
    )
    info = device_info(r, reg, alarmed.id)
    assert info is not None and (info["status"], info["value"], info["ts"]) == (
        "stale",
        alarmed.thresholds.alarm,
        TS,
    )
    assert r.hget(SENSOR_STATUS, alarmed.id) == "alarm"  # the stored level is kept; stale is a view of it

    # a fresh reading: its own level again
    xadd(r, reading(alarmed, 0.0, clock.now))
    p.step()
    snap = read_statuses(r, reg)
    assert alarmed.id not in snap["sensors"] and snap["sensors"][fine.id] == "stale"
    info = device_info(r, reg, alarmed.id)
    assert info is not None and info["status"] == "ok"


def test_the_processor_publishes_only_the_sensors_that_turned(r: redis.Redis, reg: Registry) -> None:
    a, b, quiet = water_sensors(reg, 3)
    clock = Clock(TS)
    p = make(r, clock)
    xadd(r, reading(a, 0.0, TS), reading(b, b.thresholds.warn, TS))
    p.step()
    limit = silence_limit(a)
    last = r.xrevrange(keys.STREAM_DELTAS, count=1)[0][0]

    clock.now = TS + limit
    assert p.check_stale() == 0 and new_deltas(r, last) == []  # both fresh; the quiet one never reported
    clock.now = TS + limit + 1
    assert p.check_stale() == 2
    (turned,) = new_deltas(r, last)
    assert turned.dev == {a.id: "stale", b.id: "stale"} and turned.vals == []
    assert p.check_stale() == 0 and new_deltas(r, last) == [turned]  # said once

    # a reports again: back with its level, in its batch's delta
    xadd(r, reading(a, a.thresholds.alarm, clock.now))
    p.step()
    assert new_deltas(r, last)[-1].dev == {a.id: "alarm"}
    assert r.smembers(keys.SENSOR_STALE) == {b.id}

    # a late reading of b (older than the silence limit) changes its stored level; b stays stale
    seq = new_deltas(r, last)[-1].seq
    xadd(r, reading(b, b.thresholds.alarm, TS - 1_000))
    p.step()
    assert r.hget(SENSOR_STATUS, b.id) == "alarm" and r.smembers(keys.SENSOR_STALE) == {b.id}
    assert all(b.id not in d.dev for d in new_deltas(r, last) if d.seq > seq)
    assert quiet.id not in r.smembers(keys.SENSOR_STALE)


def test_the_push_bridge_sends_the_turns_in_the_rooms_delta(r: redis.Redis, reg: Registry) -> None:
    """Through a real Flask-SocketIO server and its in-process test client."""
    from zoneinfo import ZoneInfo

    from flask import Flask
    from flask_socketio import SocketIO

    from dashboard.web.push import EVENT, PushBridge

    (silent,) = water_sensors(reg, 1)
    clock = Clock(TS)
    p = make(r, clock)
    xadd(r, reading(silent, silent.thresholds.warn, TS))
    p.step()
    last = {keys.STREAM_DELTAS: r.xrevrange(keys.STREAM_DELTAS, count=1)[0][0], keys.STREAM_ALERTS: "0-0"}
    clock.now = TS + silence_limit(silent) + 1
    p.check_stale()
    app = Flask(__name__)
    sio = SocketIO(app, async_mode="threading")
    page = sio.test_client(app)
    PushBridge(sio, r, ZoneInfo("Asia/Shanghai"))._read(last)
    got = [m["args"][0] for m in page.get_received() if m["name"] == EVENT]
    assert [m["dev"] for m in got] == [{silent.id: "stale"}]
