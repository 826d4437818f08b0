"""Build data/registry/sensors.json (1,100 sensors) and cameras.csv (16,000 cameras) for the cells.

The registries are synthetic but plausible: no open data lists Chancheng's devices. Sensors of each
kind go where that kind is needed (water-level and rain gauges mostly in low-lying and riverside cells,
tilt sensors on old buildings in the old town, gas and smoke where people cook and trade, noise near
homes, schools and works, ...); cameras follow population with a floor per cell, river cameras only in
riverside cells. Every point lies inside its cell's polygon. A fixed seed: two runs give identical bytes.

Run: ``.venv/bin/python data/registry/build_registry.py [--out DIR]``.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent.parent
try:
    from dashboard.domain.geo import Area, Geography, load_default_geography
    from dashboard.domain.registry import CAMERA_COLUMNS, CAMERA_KINDS, METRICS, MetricSpec
except ModuleNotFoundError:  # run from a checkout that was not pip-installed
    sys.path.insert(0, str(ROOT))
    from dashboard.domain.geo import Area, Geography, load_default_geography
    from dashboard.domain.registry import CAMERA_COLUMNS, CAMERA_KINDS, METRICS, MetricSpec

SEED = 4406041
SENSOR_COUNT = 1100
CAMERA_COUNT = 16_000
CAMERA_FLOOR = 8  # every cell has at least this many cameras (its roads and gates)

# (kind, share of the fleet, station name zh, station name en, cell-tag weights, weight of other cells)
# fmt: off
SENSOR_PLAN: tuple[tuple[str, float, str, str, dict[str, float], float], ...] = (
    ("water_level", 0.22, "积水监测点", "water level gauge", {"low_lying": 8, "riverside": 5}, 0.3),
    ("rainfall", 0.08, "雨量站", "rain gauge", {"low_lying": 3, "riverside": 3}, 0.6),
    ("gas", 0.14, "燃气监测点", "gas detector",
     {"old_town": 5, "market": 4, "residential": 2, "industrial": 1.5}, 0.0),
    ("smoke", 0.14, "烟感监测点", "smoke detector",
     {"old_town": 5, "market": 4, "industrial": 2, "school": 2, "residential": 1}, 0.3),
    ("tilt", 0.10, "房屋倾斜监测点", "building tilt sensor", {"old_town": 1}, 0.0),
    ("temperature", 0.10, "温度监测点", "temperature sensor", {}, 1.0),
    ("wind", 0.06, "风速监测点", "wind speed sensor", {"riverside": 2}, 1.0),
    ("noise", 0.08, "噪声监测点", "noise monitor", {"school": 3, "industrial": 3, "residential": 2}, 0.2),
    ("air", 0.08, "空气质量监测点", "air quality monitor",
     {"industrial": 3, "school": 2, "residential": 1.5}, 0.5),
)
# Camera kinds by cell: base weights, raised by tags; "river" only in riverside cells.
CAMERA_WEIGHTS: dict[str, float] = {"road": 0.50, "community": 0.30, "building": 0.20, "river": 0.0}
CAMERA_TAG_BOOST: dict[str, dict[str, float]] = {
    "old_town": {"community": 1.5},
    "market": {"road": 1.3, "building": 1.3},
    "industrial": {"building": 1.8},
    "school": {"community": 1.3},
    "riverside": {"river": 0.12},  # an absolute weight: about one camera in nine watches the river
}
# fmt: on


def _weight(cell: Area, tags: dict[str, float], other: float) -> float:
    """The placement weight of a cell for one sensor kind (its best tag, else ``other``)."""
    return max([tags[t] for t in cell.tags if t in tags], default=other)


def _point_in(geo: Geography, cell: Area, rng: np.random.Generator) -> tuple[float, float]:
    """A random point (6 decimals) strictly inside the cell, with the cell lookup agreeing."""
    minx, miny, maxx, maxy = (float(v) for v in geo.geometry(cell.id).bounds)
    for _ in range(10_000):
        lon = round(minx + (maxx - minx) * float(rng.random()), 6)
        lat = round(miny + (maxy - miny) * float(rng.random()), 6)
        if geo.cell_at(lon, lat) == cell.id:
            return lon, lat
    raise RuntimeError(f"no point found inside {cell.id}")  # pragma: no cover


def _counts(shares: Sequence[float], total: int) -> list[int]:
    """Split ``total`` by ``shares`` with the largest-remainder method."""
    raw = np.asarray(shares, dtype=float) / float(sum(shares)) * total
    out = np.floor(raw).astype(int)
    for i in np.argsort(-(raw - out), kind="stable")[: total - int(out.sum())]:
        out[i] += 1
    return [int(v) for v in out]


def build_sensors(geo: Geography, rng: np.random.Generator) -> list[dict[str, Any]]:
    """The sensor fleet, in id order."""
    cells = list(geo.cells.values())
    specs: dict[str, MetricSpec] = {m.kind: m for m in METRICS}
    plan_counts = _counts([p[1] for p in SENSOR_PLAN], SENSOR_COUNT)
    sensors: list[dict[str, Any]] = []
    for (kind, _share, name_zh, name_en, tags, other), count in zip(SENSOR_PLAN, plan_counts, strict=True):
        spec = specs[kind]
        w = np.array([_weight(c, tags, other) for c in cells], dtype=float)
        picks = sorted(int(i) for i in rng.choice(len(cells), size=count, p=w / w.sum()))
        per_cell: dict[str, int] = {}
        for i in picks:
            per_cell[cells[i].id] = per_cell.get(cells[i].id, 0) + 1
        numbered: dict[str, int] = {}
        for i in picks:
            cell = cells[i]
            numbered[cell.id] = numbered.get(cell.id, 0) + 1
            k = numbered[cell.id]
            suffix_zh, suffix_en = (f"{k}", f" {k}") if per_cell[cell.id] > 1 else ("", "")
            lon, lat = _point_in(geo, cell, rng)
            sensors.append(
                {
                    "kind": kind,
                    "metric": spec.metric,
                    "unit": spec.unit,
                    "lon": lon,
                    "lat": lat,
                    "cell_id": cell.id,
                    "name_zh": f"{cell.name_zh} {name_zh}{suffix_zh}",
                    "name_en": f"{cell.name_en} {name_en}{suffix_en}",
                    "interval_s": spec.interval_s,
                    "thresholds": {"warn": spec.warn, "alarm": spec.alarm},
                }
            )
    order = rng.permutation(len(sensors))  # ids interleave the kinds, as a real fleet's would
    out = []
    for n, i in enumerate(order, start=1):
        out.append({"id": f"SEN-{n:04d}", **sensors[int(i)]})
    return out


def build_cameras(geo: Geography, rng: np.random.Generator) -> list[list[str]]:
    """The camera channels as CSV rows, in id order (cells in file order)."""
    cells = list(geo.cells.values())
    pop = [max(c.population, 1) for c in cells]
    extra = _counts(pop, CAMERA_COUNT - CAMERA_FLOOR * len(cells))
    kinds = [k.key for k in CAMERA_KINDS]
    labels = {k.key: k for k in CAMERA_KINDS}
    rows: list[list[str]] = []
    for cell, more in zip(cells, extra, strict=True):
        w = dict(CAMERA_WEIGHTS)
        for tag in cell.tags:
            for kind, factor in CAMERA_TAG_BOOST.get(tag, {}).items():
                w[kind] = factor if kind == "river" else w[kind] * factor
        p = np.array([w[k] for k in kinds], dtype=float)
        n = CAMERA_FLOOR + more
        chosen = [kinds[int(i)] for i in rng.choice(len(kinds), size=n, p=p / p.sum())]
        if "riverside" in cell.tags and "river" not in chosen:
            chosen[0] = "river"
        chosen.sort(key=kinds.index)
        numbered: dict[str, int] = {}
        for kind in chosen:
            numbered[kind] = numbered.get(kind, 0) + 1
            k = numbered[kind]
            lon, lat = _point_in(geo, cell, rng)
            label = labels[kind]
            rows.append(
                [
                    "",
                    f"{cell.name_zh} {label.label_zh}{k:02d}",
                    f"{cell.name_en} {label.label_en} {k:02d}",
                    f"{lon:.6f}",
                    f"{lat:.6f}",
                    cell.id,
                    kind,
                    "",
                ]
            )
    for n, row in enumerate(rows, start=1):
        row[0] = f"CAM-{n:05d}"
    return rows


def sensors_json(sensors: list[dict[str, Any]]) -> str:
    """sensors.json text: metadata, then one sensor per line."""
    meta = {
        "crs": "WGS-84 (EPSG:4326)",
        "generator": "data/registry/build_registry.py",
        "seed": SEED,
        "synthetic": True,
        "note": "A plausible fleet placed by cell tags; not the district's real device list.",
        "thresholds": "warn/alarm: a value at or above them; defaults per metric in dashboard/registry.py",
    }
    lines = [json.dumps(s, ensure_ascii=False, separators=(", ", ": ")) for s in sensors]
    head = json.dumps(meta, ensure_ascii=False, indent=2)
    return '{\n"metadata": ' + head + ',\n"sensors": [\n' + ",\n".join(lines) + "\n]\n}\n"


def cameras_csv(rows: list[list[str]]) -> str:
    """cameras.csv text with its header."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CAMERA_COLUMNS)
    writer.writerows(rows)
    return buf.getvalue()


def build(out: Path, geo: Geography | None = None) -> dict[str, Path]:
    """Write both files into ``out``; return their paths."""
    geo = geo or load_default_geography()
    rng = np.random.default_rng(SEED)
    sensors = build_sensors(geo, rng)
    cameras = build_cameras(geo, rng)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"sensors": out / "sensors.json", "cameras": out / "cameras.csv"}
    paths["sensors"].write_text(sensors_json(sensors), encoding="utf-8", newline="\n")
    paths["cameras"].write_text(cameras_csv(cameras), encoding="utf-8", newline="\n")
    return paths


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: build into data/registry/ (or --out) and print a summary."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent, help="output folder")
    args = parser.parse_args(argv)
    for name, path in build(args.out).items():
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        print(f"{name:8} {path}  {path.stat().st_size / 1024:7.1f} KB  sha256 {digest}")


if __name__ == "__main__":
    main()
