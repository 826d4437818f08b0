"""The device registries (1,100 sensors, 16,000 cameras): metrics, camera kinds, thresholds.

``data/registry/`` holds ``sensors.json`` and ``cameras.csv`` (built by ``build_registry.py`` there);
``load_registry`` reads and checks them. Raw readings are checked against them at the edge by
``dashboard.store.validate``. docs/FEEDS.md lists the rules.
"""

from __future__ import annotations

import csv
import functools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from dashboard.domain.geo import Geography
from dashboard.domain.types import Ident, is_ident

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "data" / "registry"
SENSORS_FILE = "sensors.json"
CAMERAS_FILE = "cameras.csv"
CAMERA_COLUMNS: tuple[str, ...] = ("id", "name_zh", "name_en", "lon", "lat", "cell_id", "kind", "stream_url")

_IDENT: TypeAdapter[str] = TypeAdapter(Ident)


@dataclass(frozen=True)
class MetricSpec:
    """A kind of sensor and the one metric it measures: unit, physical range, default thresholds."""

    kind: str  # device kind, e.g. "wind" (a wind-speed sensor)
    metric: str  # what a reading names, e.g. "wind_speed"
    unit: str  # the one canonical unit readings carry
    lo: float  # physical range: a value outside it is a broken device, not a warning
    hi: float
    warn: float  # default thresholds (a reading >= warn is a warning; >= alarm an alarm)
    alarm: float
    interval_s: int  # default reporting interval
    label_zh: str
    label_en: str
    aliases: tuple[str, ...] = ()  # other spellings of ``unit`` accepted at the edge

    def accepts_unit(self, unit: str) -> bool:
        """Whether ``unit`` is this metric's unit or one of its documented aliases."""
        return unit == self.unit or unit in self.aliases


# Thresholds (defaults; each sensor in sensors.json carries its own, which a deployment may tune):
#   water_level  ponding depth above the road surface; 15 cm stops cars, 30 cm closes the road
#   rainfall     20 mm/h is "short-duration heavy precipitation" (短时强降水), 50 mm/h a rainstorm hour
#   gas          GB/T 50493-2019: first-level alarm <= 25 %LEL, second-level <= 50 %LEL
#   smoke        EN 54-7 point detectors alarm at 0.05-0.2 dB/m obscuration
#   tilt         JGJ 125-2016 (dangerous buildings): tilt ratio 0.7 % ~ 0.4°, 1 % ~ 0.57°
#   temperature  high-temperature warnings: yellow 35 °C, orange 37 °C (red 40 °C)
#   wind_speed   Beaufort 6 (10.8 m/s, strong breeze) and 8 (17.2 m/s, gale)
#   noise        GB 3096-2008: 65 dB(A) is the class-3 (industrial) daytime limit; 75 beyond every class
#   pm25         AQI breakpoints: 75 µg/m³ (AQI 100, lightly polluted), 150 (AQI 200, heavily polluted)
METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("water_level", "water_level", "m", -1.0, 10.0, 0.15, 0.30, 60, "积水水位", "Water level",
               ("metre", "meter")),
    MetricSpec("rainfall", "rainfall", "mm/h", 0.0, 300.0, 20.0, 50.0, 60, "降雨量", "Rainfall",
               ("mm/hr",)),
    MetricSpec("gas", "gas", "%LEL", 0.0, 100.0, 25.0, 50.0, 60, "燃气浓度", "Gas concentration",
               ("% LEL", "%lel")),
    MetricSpec("smoke", "smoke", "dB/m", 0.0, 10.0, 0.05, 0.15, 60, "烟雾浓度", "Smoke obscuration"),
    MetricSpec("tilt", "tilt", "deg", 0.0, 90.0, 0.4, 0.6, 300, "结构倾斜", "Structure tilt",
               ("°", "degree", "degrees")),
    MetricSpec("temperature", "temperature", "°C", -20.0, 60.0, 35.0, 37.0, 300, "温度", "Temperature",
               ("℃", "C", "degC")),
    MetricSpec("wind", "wind_speed", "m/s", 0.0, 75.0, 10.8, 17.2, 120, "风速", "Wind speed",
               ("m s-1",)),
    MetricSpec("noise", "noise", "dB(A)", 20.0, 140.0, 65.0, 75.0, 120, "噪声", "Noise",
               ("dBA", "dB(a)")),
    MetricSpec("air", "pm25", "µg/m³", 0.0, 2000.0, 75.0, 150.0, 300, "PM2.5", "PM2.5",
               ("μg/m³", "ug/m3", "µg/m3", "μg/m3")),
)  # fmt: skip
METRIC_BY_NAME: dict[str, MetricSpec] = {m.metric: m for m in METRICS}
METRIC_BY_KIND: dict[str, MetricSpec] = {m.kind: m for m in METRICS}


@dataclass(frozen=True)
class CameraKind:
    """A kind of camera channel."""

    key: str
    label_zh: str
    label_en: str


CAMERA_KINDS: tuple[CameraKind, ...] = (
    CameraKind("road", "道路监控", "Road Camera"),
    CameraKind("community", "社区监控", "Community Camera"),
    CameraKind("building", "楼宇监控", "Building Camera"),
    CameraKind("river", "河道监控", "River Camera"),
)
CAMERA_KIND_KEYS = frozenset(k.key for k in CAMERA_KINDS)


@dataclass(frozen=True)
class Thresholds:
    """A sensor's warning and alarm levels (a value at or above them)."""

    warn: float
    alarm: float


@dataclass(frozen=True)
class Sensor:
    """One registered sensor."""

    id: str
    kind: str
    metric: str
    unit: str
    lon: float
    lat: float
    cell_id: str
    name_zh: str
    name_en: str
    interval_s: int
    thresholds: Thresholds

    @property
    def spec(self) -> MetricSpec:
        """The metric this sensor measures."""
        return METRIC_BY_NAME[self.metric]


@dataclass(frozen=True)
class Camera:
    """One registered camera channel."""

    id: str
    name_zh: str
    name_en: str
    lon: float
    lat: float
    cell_id: str
    kind: str
    stream_url: str = ""


@dataclass(frozen=True, eq=False)
class Registry:
    """The loaded registries: sensors and cameras by id, in file order."""

    sensors: Mapping[str, Sensor]
    cameras: Mapping[str, Camera]


class RegistryError(ValueError):
    """A registry file that cannot be used; one line naming the file, the row and the field."""


# --------------------------------------------------------------------------- loading


def _number(where: str, field: str, value: Any) -> float:
    """A finite number from a registry field, or RegistryError naming it."""
    if isinstance(value, bool):
        raise RegistryError(f"{where}: field {field!r}: not a number: {value!r}")
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise RegistryError(f"{where}: field {field!r}: not a number: {value!r}") from None
    if not math.isfinite(out):
        raise RegistryError(f"{where}: field {field!r}: not a finite number: {value!r}")
    return out


def _text(where: str, field: str, value: Any) -> str:
    """A non-empty string from a registry field, or RegistryError naming it."""
    if not isinstance(value, str) or not value.strip():
        raise RegistryError(f"{where}: field {field!r}: missing or empty")
    return value


def _ident(where: str, value: Any) -> str:
    """A device id the data contract accepts (1-64 of letters, digits, . _ : -)."""
    text = _text(where, "id", value)
    try:
        return _IDENT.validate_python(text)
    except ValidationError:
        raise RegistryError(
            f"{where}: field 'id': {text[:80]!r} is not 1-64 of A-Z a-z 0-9 . _ : -"
        ) from None


def _lonlat(where: str, lon: float, lat: float) -> None:
    """Check a WGS-84 position."""
    if not -180.0 <= lon <= 180.0:
        raise RegistryError(f"{where}: field 'lon': {lon} is not a longitude")
    if not -90.0 <= lat <= 90.0:
        raise RegistryError(f"{where}: field 'lat': {lat} is not a latitude")


def _sensor(where: str, row: Any) -> Sensor:
    """Parse and check one sensors.json entry."""
    if not isinstance(row, dict):
        raise RegistryError(f"{where}: not an object")
    known = {"id", "kind", "metric", "unit", "lon", "lat", "cell_id", "name_zh", "name_en"}
    known |= {"interval_s", "thresholds"}
    extra = sorted(set(row) - known)
    if extra:
        raise RegistryError(f"{where}: field {extra[0]!r}: unknown field")
    sid = _ident(where, row.get("id"))
    where = f"{where} ({sid})"
    metric = _text(where, "metric", row.get("metric"))
    spec = METRIC_BY_NAME.get(metric)
    if spec is None:
        raise RegistryError(f"{where}: field 'metric': unknown metric {metric!r} (known: {_known_metrics()})")
    kind = _text(where, "kind", row.get("kind"))
    if kind != spec.kind:
        raise RegistryError(f"{where}: field 'kind': {kind!r} does not measure {metric} (want {spec.kind!r})")
    unit = _text(where, "unit", row.get("unit"))
    if unit != spec.unit:
        raise RegistryError(f"{where}: field 'unit': {metric} is in {spec.unit!r}, not {unit!r}")
    lon, lat = _number(where, "lon", row.get("lon")), _number(where, "lat", row.get("lat"))
    _lonlat(where, lon, lat)
    interval = row.get("interval_s")
    if isinstance(interval, bool) or not isinstance(interval, int) or not 1 <= interval <= 86_400:
        raise RegistryError(f"{where}: field 'interval_s': want whole seconds 1..86400, got {interval!r}")
    th = row.get("thresholds")
    if not isinstance(th, dict) or set(th) != {"warn", "alarm"}:
        raise RegistryError(f'{where}: field \'thresholds\': want {{"warn": number, "alarm": number}}')
    warn = _number(where, "thresholds.warn", th["warn"])
    alarm = _number(where, "thresholds.alarm", th["alarm"])
    for name, v in (("warn", warn), ("alarm", alarm)):
        if not spec.lo <= v <= spec.hi:
            raise RegistryError(
                f"{where}: field 'thresholds.{name}': {v} outside {metric}'s range {spec.lo:g}..{spec.hi:g}"
            )
    if warn > alarm:
        raise RegistryError(f"{where}: field 'thresholds': warn {warn} is above alarm {alarm}")
    return Sensor(
        id=sid,
        kind=kind,
        metric=metric,
        unit=unit,
        lon=lon,
        lat=lat,
        cell_id=_text(where, "cell_id", row.get("cell_id")),
        name_zh=_text(where, "name_zh", row.get("name_zh")),
        name_en=_text(where, "name_en", row.get("name_en")),
        interval_s=interval,
        thresholds=Thresholds(warn, alarm),
    )


def _known_metrics() -> str:
    """The metric names, for messages."""
    return ", ".join(m.metric for m in METRICS)


def load_sensors(path: Path, geo: Geography | None = None) -> dict[str, Sensor]:
    """Read and check sensors.json; RegistryError names the entry and field of the first problem."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RegistryError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RegistryError(f"{path}: cannot be read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise RegistryError(f"{path}: not JSON ({exc.msg} at line {exc.lineno})") from None
    rows = data.get("sensors") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise RegistryError(f"{path}: want an object with a 'sensors' list")
    out: dict[str, Sensor] = {}
    for i, row in enumerate(rows):
        sensor = _sensor(f"{path}: sensors[{i}]", row)
        if sensor.id in out:
            raise RegistryError(f"{path}: sensors[{i}] ({sensor.id}): field 'id': duplicate id")
        if geo is not None and sensor.cell_id not in geo.cells:
            raise RegistryError(
                f"{path}: sensors[{i}] ({sensor.id}): field 'cell_id': unknown cell {sensor.cell_id!r}"
            )
        out[sensor.id] = sensor
    return out


def read_csv_rows(path: Path, columns: tuple[str, ...], error: type[ValueError]) -> list[list[str]]:
    """The data rows of a UTF-8 CSV file whose header is ``columns``; ``error`` names the file and why."""
    try:
        with open(path, encoding="utf-8", newline="") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header is None or tuple(header) != columns:
                raise error(f"{path}: line 1: want the header {','.join(columns)}")
            return list(reader)
    except FileNotFoundError:
        raise error(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise error(f"{path}: cannot be read ({exc})") from None


def load_cameras(path: Path, geo: Geography | None = None) -> dict[str, Camera]:
    """Read and check cameras.csv; RegistryError names the line and field of the first problem."""
    rows = read_csv_rows(path, CAMERA_COLUMNS, RegistryError)
    out: dict[str, Camera] = {}
    cells = geo.cells if geo is not None else None
    width = len(CAMERA_COLUMNS)
    for n, row in enumerate(rows, start=2):
        if len(row) != width:
            raise RegistryError(f"{path}: line {n}: want {width} fields, found {len(row)}")
        cid, name_zh, name_en, lon_s, lat_s, cell_id, kind, url = row
        where = f"{path}: line {n} ({cid})"
        if not cid:
            raise RegistryError(f"{path}: line {n}: field 'id': missing or empty")
        if not is_ident(cid):
            _ident(f"{path}: line {n}", cid)
        if cid in out:
            raise RegistryError(f"{where}: field 'id': duplicate id")
        if not name_zh or not name_en:
            raise RegistryError(
                f"{where}: field {'name_zh' if not name_zh else 'name_en'!r}: missing or empty"
            )
        lon, lat = _number(where, "lon", lon_s), _number(where, "lat", lat_s)
        _lonlat(where, lon, lat)
        if kind not in CAMERA_KIND_KEYS:
            known = ", ".join(k.key for k in CAMERA_KINDS)
            raise RegistryError(f"{where}: field 'kind': unknown kind {kind!r} (known: {known})")
        if not cell_id or (cells is not None and cell_id not in cells):
            raise RegistryError(f"{where}: field 'cell_id': unknown cell {cell_id!r}")
        out[cid] = Camera(cid, name_zh, name_en, lon, lat, cell_id, kind, url)
    return out


def load_registry(directory: Path = DEFAULT_DIR, geo: Geography | None = None) -> Registry:
    """Load both registries from ``directory``; with ``geo``, every cell id must be one of its cells."""
    d = Path(directory)
    return Registry(sensors=load_sensors(d / SENSORS_FILE, geo), cameras=load_cameras(d / CAMERAS_FILE, geo))


@functools.lru_cache(maxsize=1)
def default_registry() -> Registry:
    """The shipped registries (loaded once per process)."""
    return load_registry()
