"""Devices on the map, server side, on a real Redis: the compact geometry files, the status snapshot, the
sensor status mapping, the processor's ``dev`` deltas and camera-since times, and push's merge of them."""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis

from dashboard import contract as c
from dashboard import devices
from dashboard.config import ProcessorConfig
from dashboard.processor import CAMERA_SINCE, CAMERA_STATE, SENSOR_STATUS, Processor, sensor_level
from dashboard.push import merge
from dashboard.registry import Registry, Thresholds, default_registry

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
    assert g["statuses"] == ["ok", "unknown", "warn", "alarm"]
    s = sensors[5]
    assert g["ids"][5] == s.id and g["kinds"][g["kind"][5]] == s.metric
    assert g["lat"][5] == pytest.approx(s.lat, abs=1e-9)


def test_snapshot_lists_only_statuses_other_than_the_default(r: redis.Redis, reg: Registry) -> None:
    empty = devices.read_statuses(r, reg)
    assert empty["seq"] == 0 and empty["default"] == {"cameras": "online", "sensors": "ok"}
    assert len(empty["cameras"]) == 16_000 and set(empty["cameras"].values()) == {"unknown"}
    assert set(empty["sensors"].values()) == {"unknown"}

    cams = list(reg.cameras)
    sensors = list(reg.sensors)
    r.hset(CAMERA_STATE, mapping={cid: "online" for cid in cams})
    r.hset(CAMERA_STATE, mapping={cams[3]: "offline", cams[9]: "fault"})
    r.hset(SENSOR_STATUS, mapping={sid: "ok" for sid in sensors})
    r.hset(SENSOR_STATUS, sensors[0], "alarm")
    r.set(c.DELTA_SEQ, 41)
    snap = devices.read_statuses(r, reg)
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


def make(r: redis.Redis) -> Processor:
    """A processor on ``r`` reading small batches."""
    p = Processor(r, ProcessorConfig(batch_size=50), "t1", clock=lambda: TS + 60_000)
    p.ensure_groups()
    return p


def xadd(r: redis.Redis, *recs: c.Record) -> None:
    """Append records to their input streams."""
    for rec in recs:
        r.xadd(c.STREAM_OF[c.kind_of(rec)], c.encode(rec))  # type: ignore[arg-type]


def new_deltas(r: redis.Redis, after: str = "-") -> list[c.Delta]:
    """The deltas on the output stream (after the entry id ``after``)."""
    client: Any = r
    return [c.Delta.from_fields(f) for eid, f in client.xrange(c.STREAM_DELTAS, after, "+") if eid != after]


def cam(camera_id: str, status: str, ts: int = TS) -> c.CameraStatus:
    """A camera status record."""
    return c.CameraStatus(camera_id=camera_id, status=status, ts=ts, cell_id="ZM-0001")


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

    def reading(value: float, n: int) -> c.SensorReading:
        return c.SensorReading(
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
        c.Delta(seq=5, ts=TS, dev={"CAM-1": "offline", "CAM-2": "fault"}),
        c.Delta(seq=6, ts=TS + 1, dev={"CAM-1": "online"}),
        c.Delta(seq=7, ts=TS + 2),
    ]
    msg = merge(deltas)
    assert (msg["from"], msg["to"]) == (5, 7)
    assert msg["dev"] == {"CAM-1": "online", "CAM-2": "fault"}


def test_device_info_for_a_popup(r: redis.Redis, reg: Registry) -> None:
    cam_id, sensor = next(iter(reg.cameras)), next(iter(reg.sensors.values()))
    assert devices.device_info(r, reg, cam_id) == {
        "id": cam_id, "family": "cameras", "kind": reg.cameras[cam_id].kind,
        "name_zh": reg.cameras[cam_id].name_zh, "name_en": reg.cameras[cam_id].name_en,
        "cell": reg.cameras[cam_id].cell_id, "status": "unknown", "since": None,
    }  # fmt: skip
    r.hset(CAMERA_STATE, cam_id, "fault")
    r.hset(CAMERA_SINCE, cam_id, TS)
    got = devices.device_info(r, reg, cam_id)
    assert got is not None and (got["status"], got["since"]) == ("fault", TS)
    info = devices.device_info(r, reg, sensor.id)
    assert info is not None and (info["status"], info["value"], info["unit"]) == (
        "unknown",
        None,
        sensor.unit,
    )
    assert devices.device_info(r, reg, "NOPE-1") is None
