"""The device registries as data (sensors.json, cameras.csv), their loader, and edge validation."""

from __future__ import annotations

import importlib.util
import json
import math
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from dashboard.domain.geo import Geography, load_default_geography
from dashboard.domain.registry import (
    CAMERA_KINDS,
    DEFAULT_DIR,
    METRIC_BY_NAME,
    METRICS,
    Registry,
    RegistryError,
    default_registry,
    load_registry,
)
from dashboard.store.records import SensorReading
from dashboard.store.validate import ReadingError, parse_ts, validate_camera_status, validate_reading

NOW = 1_790_000_000_000  # 2026-09-21, a fixed clock for the time checks


@pytest.fixture(scope="module")
def geo() -> Geography:
    """The shipped geography."""
    return load_default_geography()


@pytest.fixture(scope="module")
def reg(geo: Geography) -> Registry:
    """The shipped registries, checked against the shipped cells."""
    return load_registry(DEFAULT_DIR, geo)


# --------------------------------------------------------------------------- the shipped data


def test_counts_and_kinds(reg: Registry) -> None:
    """1,100 sensors of every kind, 16,000 cameras of every kind, ids numbered from 1."""
    assert len(reg.sensors) == 1100
    assert len(reg.cameras) == 16_000
    assert {s.kind for s in reg.sensors.values()} == {m.kind for m in METRICS}
    assert {c.kind for c in reg.cameras.values()} == {k.key for k in CAMERA_KINDS}
    assert list(reg.sensors)[:2] == ["SEN-0001", "SEN-0002"] and "SEN-1100" in reg.sensors
    assert list(reg.cameras)[:2] == ["CAM-00001", "CAM-00002"] and "CAM-16000" in reg.cameras


def test_every_point_is_inside_its_cell(reg: Registry, geo: Geography) -> None:
    """Each sensor and camera lies in the cell it names (the vectorised lookup agrees)."""
    for devices in (list(reg.sensors.values()), list(reg.cameras.values())):
        found = geo.cells_at([d.lon for d in devices], [d.lat for d in devices])
        wrong = [(d.id, d.cell_id, f) for d, f in zip(devices, found, strict=True) if f != d.cell_id]
        assert not wrong, wrong[:5]


def test_placement_follows_the_cells(reg: Registry, geo: Geography) -> None:
    """Water gauges mostly low-lying/riverside, tilt sensors in the old town, river cameras by rivers."""
    tags = {cid: set(a.tags) for cid, a in geo.cells.items()}
    water = [s for s in reg.sensors.values() if s.metric == "water_level"]
    wet = sum(1 for s in water if tags[s.cell_id] & {"low_lying", "riverside"})
    assert wet / len(water) > 0.8
    assert all("old_town" in tags[s.cell_id] for s in reg.sensors.values() if s.metric == "tilt")
    assert all("riverside" in tags[c.cell_id] for c in reg.cameras.values() if c.kind == "river")
    per_cell = Counter(c.cell_id for c in reg.cameras.values())
    assert set(per_cell) == set(geo.cells) and min(per_cell.values()) >= 8
    busiest = max(geo.cells.values(), key=lambda a: a.population)
    quietest = min(geo.cells.values(), key=lambda a: a.population)
    assert per_cell[busiest.id] > 5 * per_cell[quietest.id]


def test_sensor_fields(reg: Registry, geo: Geography) -> None:
    """Units, thresholds and intervals are the metric's; thresholds lie in its range; names bilingual."""
    for s in reg.sensors.values():
        spec = METRIC_BY_NAME[s.metric]
        assert (s.kind, s.unit) == (spec.kind, spec.unit)
        assert spec.lo <= s.thresholds.warn <= s.thresholds.alarm <= spec.hi
        assert 60 <= s.interval_s <= 300
        cell = geo.cells[s.cell_id]
        assert s.name_zh.startswith(cell.name_zh + " ") and s.name_en.startswith(cell.name_en + " ")


def test_generator_is_deterministic(tmp_path: Path, geo: Geography) -> None:
    """Rebuilding gives the committed files byte for byte."""
    spec = importlib.util.spec_from_file_location("build_registry", DEFAULT_DIR / "build_registry.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    paths = module.build(tmp_path, geo)
    for name in ("sensors.json", "cameras.csv"):
        assert (tmp_path / name).read_bytes() == (DEFAULT_DIR / name).read_bytes(), name
    assert set(paths) == {"sensors", "cameras"}


def test_default_registry_is_cached() -> None:
    """One load per process."""
    assert default_registry() is default_registry()


# --------------------------------------------------------------------------- broken files


def _copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped registry folder."""
    for name in ("sensors.json", "cameras.csv"):
        shutil.copy(DEFAULT_DIR / name, tmp_path / name)
    return tmp_path


def _edit_sensor(tmp_path: Path, index: int, **changes: Any) -> Path:
    """Copy the registry and change (or, with value None, remove) fields of one sensor."""
    d = _copy(tmp_path)
    data = json.loads((d / "sensors.json").read_text(encoding="utf-8"))
    for k, v in changes.items():
        if v is None:
            data["sensors"][index].pop(k)
        else:
            data["sensors"][index][k] = v
    (d / "sensors.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return d


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"metric": "humidity"}, "sensors[5] (SEN-0006): field 'metric': unknown metric 'humidity'"),
        ({"unit": "cm"}, "sensors[5] (SEN-0006): field 'unit':"),
        ({"lon": "east"}, "sensors[5] (SEN-0006): field 'lon': not a number"),
        ({"lat": 123.0}, "sensors[5] (SEN-0006): field 'lat': 123.0 is not a latitude"),
        ({"interval_s": 0}, "sensors[5] (SEN-0006): field 'interval_s'"),
        ({"thresholds": {"warn": 1}}, "sensors[5] (SEN-0006): field 'thresholds'"),
        ({"cell_id": "XX-9999"}, "sensors[5] (SEN-0006): field 'cell_id': unknown cell 'XX-9999'"),
        ({"id": "SEN-0001"}, "sensors[5] (SEN-0001): field 'id': duplicate id"),
        ({"name_zh": None}, "sensors[5] (SEN-0006): field 'name_zh': missing or empty"),
        ({"colour": "red"}, "sensors[5]: field 'colour': unknown field"),
        ({"id": "SEN 0006"}, "sensors[5]: field 'id': 'SEN 0006' is not 1-64 of"),
    ],
)
def test_broken_sensor_is_named(
    tmp_path: Path, geo: Geography, changes: dict[str, Any], expected: str
) -> None:
    """A bad sensor entry stops the load with one line naming the file, the entry and the field."""
    d = _edit_sensor(tmp_path, 5, **changes)
    with pytest.raises(RegistryError) as err:
        load_registry(d, geo)
    msg = str(err.value)
    assert "\n" not in msg and "sensors.json" in msg
    assert expected in msg


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("CAM-00001,x,y,113.1,23.0,ZM-0001,road,", "line 3 (CAM-00001): field 'id': duplicate id"),
        ("CAM-99999,x,y,abc,23.0,ZM-0001,road,", "line 3 (CAM-99999): field 'lon': not a number: 'abc'"),
        ("CAM-99999,x,y,113.1,nan,ZM-0001,road,", "line 3 (CAM-99999): field 'lat': not a finite number"),
        ("CAM-99999,x,y,113.1,23.0,ZM-0001,drone,", "line 3 (CAM-99999): field 'kind': unknown kind 'drone'"),
        ("CAM-99999,x,y,113.1,23.0,QQ-1,road,", "line 3 (CAM-99999): field 'cell_id': unknown cell 'QQ-1'"),
        ("CAM-99999,x,,113.1,23.0,ZM-0001,road,", "line 3 (CAM-99999): field 'name_en': missing or empty"),
        ("CAM-99999,x,y,113.1,23.0", "line 3: want 8 fields, found 5"),
        ("CAM/99999,x,y,113.1,23.0,ZM-0001,road,", "line 3: field 'id': 'CAM/99999' is not 1-64 of"),
    ],
)
def test_broken_camera_is_named(tmp_path: Path, geo: Geography, line: str, expected: str) -> None:
    """A bad camera row stops the load with one line naming the file, the line and the field."""
    d = _copy(tmp_path)
    lines = (d / "cameras.csv").read_text(encoding="utf-8").splitlines()
    lines[2] = line
    (d / "cameras.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(RegistryError) as err:
        load_registry(d, geo)
    msg = str(err.value)
    assert "\n" not in msg and "cameras.csv" in msg
    assert expected in msg


def test_missing_or_wrong_files(tmp_path: Path) -> None:
    """A missing file, a wrong header and non-JSON are named."""
    with pytest.raises(RegistryError, match=r"sensors\.json: file not found"):
        load_registry(tmp_path)
    d = _copy(tmp_path)
    (d / "cameras.csv").write_text("id,name\nCAM-1,x\n", encoding="utf-8")
    with pytest.raises(RegistryError, match=r"cameras\.csv: line 1: want the header id,name_zh"):
        load_registry(d)
    (d / "sensors.json").write_text("{oops", encoding="utf-8")
    with pytest.raises(RegistryError, match=r"sensors\.json: not JSON"):
        load_registry(d)


# --------------------------------------------------------------------------- validate_reading


def _sensor_of(reg: Registry, metric: str) -> str:
    """The id of the first sensor measuring ``metric``."""
    return next(s.id for s in reg.sensors.values() if s.metric == metric)


def test_valid_reading_is_a_contract_record(reg: Registry) -> None:
    """A good reading becomes a SensorReading with the registry's cell and unit; it round-trips JSON."""
    sid = _sensor_of(reg, "water_level")
    rec = validate_reading(reg, sid, "water_level", 0.12, "m", NOW, now_ms=NOW)
    assert isinstance(rec, SensorReading)
    assert (rec.sensor_id, rec.metric, rec.value, rec.unit, rec.ts) == (sid, "water_level", 0.12, "m", NOW)
    assert rec.cell_id == reg.sensors[sid].cell_id
    assert SensorReading.model_validate_json(rec.model_dump_json()) == rec


@pytest.mark.parametrize(
    ("metric", "value", "unit"),
    [
        ("water_level", 0, "m"),
        ("water_level", -0.5, "m"),
        ("rainfall", 35.5, "mm/h"),
        ("gas", 12, "%LEL"),
        ("smoke", 0.02, "dB/m"),
        ("tilt", 0.31, "deg"),
        ("temperature", 31.2, "°C"),
        ("temperature", 31.2, "℃"),  # a documented alias
        ("wind_speed", 4.4, "m/s"),
        ("noise", 58, "dB(A)"),
        ("noise", 58, "dBA"),
        ("pm25", 35, "µg/m³"),
        ("pm25", 35, "ug/m3"),
    ],
)
def test_valid_readings(reg: Registry, metric: str, value: float, unit: str) -> None:
    """Every metric accepts a plausible value in its unit (or an alias) and stores the canonical unit."""
    rec = validate_reading(reg, _sensor_of(reg, metric), metric, value, unit, NOW, now_ms=NOW)
    assert rec.unit == METRIC_BY_NAME[metric].unit and rec.value == float(value)


@pytest.mark.parametrize(
    ("sensor", "metric", "value", "unit", "ts", "field", "words"),
    [
        ("SEN-9999", "water_level", 0.1, "m", NOW, "sensor_id", "unknown sensor 'SEN-9999'"),
        (None, "water_level", 0.1, "m", NOW, "sensor_id", "unknown sensor"),
        ("water_level", "rainfall", 0.1, "mm/h", NOW, "metric", "measures water_level, not 'rainfall'"),
        ("water_level", "water_level", 12, "cm", NOW, "unit", "water_level is in 'm', not 'cm'"),
        ("water_level", "water_level", 0.1, None, NOW, "unit", "not 'None'"),
        ("water_level", "water_level", math.nan, "m", NOW, "value", "finite"),
        ("water_level", "water_level", math.inf, "m", NOW, "value", "finite"),
        ("water_level", "water_level", "0.1", "m", NOW, "value", "must be a number, got str"),
        ("water_level", "water_level", True, "m", NOW, "value", "must be a number, got bool"),
        ("water_level", "water_level", None, "m", NOW, "value", "must be a number, got NoneType"),
        (
            "water_level",
            "water_level",
            11.0,
            "m",
            NOW,
            "value",
            "outside water_level's physical range -1..10",
        ),
        ("gas", "gas", -3, "%LEL", NOW, "value", "outside gas's physical range 0..100"),
        ("pm25", "pm25", 5000, "µg/m³", NOW, "value", "physical range 0..2000"),
        ("water_level", "water_level", 0.1, "m", 1_790_000_000, "ts", "before 2000-01-01 (seconds?"),
        ("water_level", "water_level", 0.1, "m", 5_000_000_000_000, "ts", "after 2100-01-01"),
        ("water_level", "water_level", 0.1, "m", NOW + 2 * 86_400_000, "ts", "48.0 h in the future"),
        ("water_level", "water_level", 0.1, "m", "2026-01-01", "ts", "must be epoch milliseconds"),
        ("water_level", "water_level", 0.1, "m", 1.5e12 + 0.5, "ts", "whole epoch milliseconds"),
    ],
)
def test_rejected_readings(
    reg: Registry, sensor: Any, metric: str, value: Any, unit: Any, ts: Any, field: str, words: str
) -> None:
    """Each kind of bad reading is rejected with the field and a message naming the problem."""
    sid = _sensor_of(reg, sensor) if sensor in METRIC_BY_NAME else sensor
    with pytest.raises(ReadingError) as err:
        validate_reading(reg, sid, metric, value, unit, ts, now_ms=NOW)
    assert err.value.field == field
    assert words in str(err.value)
    assert str(err.value).startswith(f"{field}: ")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (NOW, NOW),
        (float(NOW), NOW),
        ("2026-09-21T10:00:00Z", 1_789_984_800_000),
        ("2026-09-21T18:00:00+08:00", 1_789_984_800_000),
        ("2026-09-21T10:00:00.250+00:00", 1_789_984_800_250),
    ],
)
def test_parse_ts(raw: Any, expected: int) -> None:
    """Epoch milliseconds or ISO-8601 with an offset."""
    assert parse_ts(raw) == expected


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("2026-09-21T10:00:00", "without a UTC offset"),
        ("yesterday", "not an ISO-8601 time"),
        ([1], "got list"),
    ],
)
def test_parse_ts_rejects(raw: Any, words: str) -> None:
    """A time without an offset, unparseable text or another type is rejected."""
    with pytest.raises(ReadingError, match=words):
        parse_ts(raw)


def test_camera_status(reg: Registry) -> None:
    """A known camera and state pass; an unknown camera, state or time is rejected by field."""
    rec = validate_camera_status(reg, "CAM-00001", "offline", NOW, now_ms=NOW)
    assert (rec.status, rec.cell_id) == ("offline", reg.cameras["CAM-00001"].cell_id)
    for args, field in (
        (("CAM-99999", "online", NOW), "camera_id"),
        (("CAM-00001", "broken", NOW), "status"),
        (("CAM-00001", "online", 12), "ts"),
    ):
        with pytest.raises(ReadingError) as err:
            validate_camera_status(reg, *args, now_ms=NOW)
        assert err.value.field == field
