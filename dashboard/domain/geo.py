"""The district's geography: areas at four levels loaded from GeoJSON (WGS-84), with fast point lookup."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import shapely
from pydantic import Field
from shapely.errors import ShapelyError
from shapely.geometry import shape as to_shape

from dashboard.domain.types import ConfigModel

Level = Literal["district", "subdistrict", "community", "cell"]
LEVELS: tuple[Level, ...] = ("district", "subdistrict", "community", "cell")

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "data"
DEFAULT_FILES = {
    "district": "district.geojson",
    "subdistricts": "subdistricts.geojson",
    "communities": "communities.geojson",
    "cells": "cells.geojson",
}
INSIDE_FRACTION = 0.99  # this share of a cell's area must lie inside the district outline

# Properties a feature must have at each level; the parent link is checked separately.
_REQUIRED: dict[Level, tuple[str, ...]] = {
    "district": ("id", "name_zh", "name_en"),
    "subdistrict": ("id", "name_zh", "name_en"),
    "community": ("id", "name_zh", "name_en", "subdistrict_id"),
    "cell": ("id", "name_zh", "name_en", "subdistrict_id", "community_id"),
}
_KM_PER_DEG_LAT = 110.95  # at 23° N; only for files without area_km2


class GeographyError(ValueError):
    """A geography file that cannot be used; the message is one line naming the file and the problem."""


@dataclass(frozen=True)
class Area:
    """One area of the grid hierarchy: the district, a subdistrict, a community or a grid cell."""

    id: str
    name_zh: str
    name_en: str
    level: Level
    parent_id: str | None
    area_km2: float
    population: int
    centroid: tuple[float, float]  # (lon, lat), a point inside the area
    tags: tuple[str, ...] = ()


class Geography:
    """The loaded hierarchy: areas by level in file order, their shapes, and the parsed GeoJSON."""

    def __init__(
        self,
        district: Area,
        subdistricts: dict[str, Area],
        communities: dict[str, Area],
        cells: dict[str, Area],
        geometries: dict[str, Any],
        raw: dict[str, dict[str, Any]],
    ) -> None:
        """Index the areas; ``geometries`` maps every area id to its shapely geometry."""
        self.district = district
        self.subdistricts = subdistricts
        self.communities = communities
        self.cells = cells
        self.raw = raw
        self._geometries = geometries
        self._areas: dict[str, Area] = {district.id: district, **subdistricts, **communities, **cells}
        self._children: dict[str, list[Area]] = {a: [] for a in self._areas}
        for area in (*subdistricts.values(), *communities.values(), *cells.values()):
            if area.parent_id is not None:
                self._children[area.parent_id].append(area)
        self._cell_ids = list(cells)
        self._cell_tree = shapely.STRtree([geometries[c] for c in self._cell_ids])
        self._outline = geometries[district.id]
        shapely.prepare(self._outline)
        minx, miny, maxx, maxy = (float(v) for v in self._outline.bounds)
        self.bounds: tuple[float, float, float, float] = (minx, miny, maxx, maxy)

    def area(self, area_id: str) -> Area:
        """The area with this id at any level; KeyError if unknown."""
        try:
            return self._areas[area_id]
        except KeyError:
            raise KeyError(f"unknown area id {area_id!r}") from None

    def geometry(self, area_id: str) -> Any:
        """The shapely geometry (WGS-84 lon/lat) of an area; KeyError if unknown."""
        self.area(area_id)
        return self._geometries[area_id]

    def children(self, area_id: str) -> list[Area]:
        """The areas one level below, in file order (cells have none); KeyError if unknown."""
        self.area(area_id)
        return list(self._children[area_id])

    def ancestors(self, area_id: str) -> list[Area]:
        """The areas above, from the district down (a cell: district, subdistrict, community)."""
        chain: list[Area] = []
        parent = self.area(area_id).parent_id
        while parent is not None:
            area = self._areas[parent]
            chain.append(area)
            parent = area.parent_id
        return chain[::-1]

    def contains(self, lon: float, lat: float) -> bool:
        """Whether the WGS-84 point is inside the district outline (its border counts as inside)."""
        return bool(shapely.intersects_xy(self._outline, lon, lat))

    def cell_at(self, lon: float, lat: float) -> str | None:
        """The id of the grid cell holding a WGS-84 point, or None outside the district."""
        hits = self._cell_tree.query(shapely.points(lon, lat), predicate="intersects")
        return self._cell_ids[int(hits.min())] if len(hits) else None

    def cells_at(self, lons: Any, lats: Any) -> list[str | None]:
        """Vectorised cell_at for sequences of WGS-84 longitudes and latitudes."""
        points = shapely.points(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float))
        point_idx, cell_idx = self._cell_tree.query(points, predicate="intersects")
        best = np.full(len(points), len(self._cell_ids))
        np.minimum.at(best, point_idx, cell_idx)  # on a shared border the first cell wins, as in cell_at
        return [self._cell_ids[int(c)] if c < len(self._cell_ids) else None for c in best]


def _read_collection(path: Path) -> dict[str, Any]:
    """Parse a GeoJSON FeatureCollection file or raise GeographyError naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GeographyError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise GeographyError(f"{path}: cannot be read ({exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise GeographyError(f"{path}: not JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise GeographyError(f"{path}: not a GeoJSON FeatureCollection")
    if not isinstance(data.get("features"), list) or not data["features"]:
        raise GeographyError(f"{path}: a FeatureCollection without features")
    return data


def _check_feature(path: Path, level: Level, index: int, feature: Any) -> dict[str, Any]:
    """Check one feature's properties and return them."""
    props = feature.get("properties") if isinstance(feature, dict) else None
    if not isinstance(props, dict):
        raise GeographyError(f"{path}: feature #{index + 1} is not a GeoJSON Feature with properties")
    fid = props.get("id", feature.get("id"))
    label = f"feature {fid!r}" if isinstance(fid, str) and fid else f"feature #{index + 1}"
    for key in _REQUIRED[level]:
        value = props.get(key)
        if not isinstance(value, str) or not value:
            problem = "lacks" if value is None else "has a non-text or empty"
            raise GeographyError(f"{path}: {label} {problem} property {key!r}")
    for key in ("area_km2", "population"):
        value = props.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float) or value < 0):
            raise GeographyError(f"{path}: {label} has an invalid {key!r}: {value!r}")
    if props.get("population") is not None and not isinstance(props["population"], int):
        raise GeographyError(f"{path}: {label} has a non-integer 'population'")
    centroid = props.get("centroid")
    if centroid is not None and not (
        isinstance(centroid, list)
        and len(centroid) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in centroid)
    ):
        raise GeographyError(f"{path}: {label} has an invalid 'centroid' (want [lon, lat])")
    tags = props.get("tags")
    if tags is not None and not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
        raise GeographyError(f"{path}: {label} has an invalid 'tags' (want a list of strings)")
    return props


def _geometries(path: Path, ids: list[str], features: list[dict[str, Any]]) -> np.ndarray:
    """Parse the features' geometries into shapely; each must be a non-empty (Multi)Polygon."""
    out = []
    for fid, feature in zip(ids, features, strict=True):
        geom = feature.get("geometry")
        if not isinstance(geom, dict) or geom.get("type") not in ("Polygon", "MultiPolygon"):
            raise GeographyError(f"{path}: feature {fid!r} has no Polygon or MultiPolygon geometry")
        try:
            shape = to_shape(geom)
        except (ValueError, TypeError, IndexError, AttributeError, ShapelyError) as exc:
            raise GeographyError(f"{path}: feature {fid!r} has unreadable coordinates ({exc})") from None
        if shape.is_empty:
            raise GeographyError(f"{path}: feature {fid!r} has an empty geometry")
        out.append(shape)
    return np.array(out, dtype=object)


def _area_km2(geom: Any) -> float:
    """Approximate area in km² of a lon/lat geometry (for files that do not state it)."""
    lat = math.radians(float(shapely.get_coordinates(shapely.centroid(geom))[0, 1]))
    return float(shapely.area(geom)) * _KM_PER_DEG_LAT**2 * math.cos(lat)


def _inner_point(geom: Any) -> tuple[float, float]:
    """A point inside the geometry, rounded to 6 decimals."""
    x, y = shapely.get_coordinates(shapely.point_on_surface(geom))[0]
    return round(float(x), 6), round(float(y), 6)


_PARENT_KEY: dict[Level, str | None] = {
    "district": None,
    "subdistrict": None,  # the district
    "community": "subdistrict_id",
    "cell": "community_id",
}


def _check_properties(
    paths: dict[Level, Path], raw: dict[Level, dict[str, Any]]
) -> dict[Level, list[dict[str, Any]]]:
    """Every feature's properties, level by level: checked, ids unique across levels, one district."""
    props: dict[Level, list[dict[str, Any]]] = {}
    seen: dict[str, Level] = {}
    for level in LEVELS:
        path = paths[level]
        props[level] = [_check_feature(path, level, i, f) for i, f in enumerate(raw[level]["features"])]
        for p in props[level]:
            if p["id"] in seen:
                where = "" if seen[p["id"]] == level else f" (already a {seen[p['id']]})"
                raise GeographyError(f"{path}: duplicate id {p['id']!r}{where}")
            seen[p["id"]] = level
    if len(props["district"]) != 1:
        raise GeographyError(f"{paths['district']}: want exactly one feature, found {len(props['district'])}")
    return props


def _check_parents(paths: dict[Level, Path], props: dict[Level, list[dict[str, Any]]]) -> None:
    """Each community's subdistrict exists; each cell's community exists and is in the cell's subdistrict."""
    sub_ids = {p["id"] for p in props["subdistrict"]}
    community_sub = {p["id"]: p["subdistrict_id"] for p in props["community"]}
    for p in props["community"]:
        if p["subdistrict_id"] not in sub_ids:
            raise GeographyError(
                f"{paths['community']}: feature {p['id']!r} names unknown subdistrict_id "
                f"{p['subdistrict_id']!r}"
            )
    for p in props["cell"]:
        if p["community_id"] not in community_sub:
            raise GeographyError(
                f"{paths['cell']}: feature {p['id']!r} names unknown community_id {p['community_id']!r}"
            )
        if community_sub[p["community_id"]] != p["subdistrict_id"]:
            raise GeographyError(
                f"{paths['cell']}: feature {p['id']!r} has subdistrict_id {p['subdistrict_id']!r} but its "
                f"community {p['community_id']!r} is in {community_sub[p['community_id']]!r}"
            )


def _check_cells(path: Path, cell_ids: list[str], cells: np.ndarray, district: Any) -> Any:
    """The cells' geometries are valid and lie inside the district outline; return the (valid) outline."""
    valid = shapely.is_valid(cells)
    if not valid.all():
        k = int(np.flatnonzero(~valid)[0])
        reason = shapely.is_valid_reason(cells[k])
        raise GeographyError(f"{path}: feature {cell_ids[k]!r} has an invalid geometry ({reason})")
    outline = shapely.make_valid(district)
    shapely.prepare(outline)
    outside = np.flatnonzero(~shapely.covers(outline, cells))
    if len(outside):
        inside = shapely.area(shapely.intersection(cells[outside], outline))
        share = inside / shapely.area(cells[outside])
        bad = outside[share < INSIDE_FRACTION]
        if len(bad):
            k = int(bad[0])
            pct = 100 * float(share[outside == k][0])
            raise GeographyError(
                f"{path}: feature {cell_ids[k]!r} lies outside the district outline "
                f"(only {pct:.1f} % inside, want {100 * INSIDE_FRACTION:.0f} %)"
            )
    return outline


def _area(level: Level, p: dict[str, Any], geom: Any, district_id: str) -> Area:
    """One area from its checked properties; area and inner point computed where the file has none."""
    key = _PARENT_KEY[level]
    parent = district_id if level == "subdistrict" else (p[key] if key else None)
    centroid = p.get("centroid")
    return Area(
        id=p["id"],
        name_zh=p["name_zh"],
        name_en=p["name_en"],
        level=level,
        parent_id=parent,
        area_km2=float(p["area_km2"]) if p.get("area_km2") is not None else round(_area_km2(geom), 4),
        population=int(p.get("population") or 0),
        centroid=(float(centroid[0]), float(centroid[1])) if centroid else _inner_point(geom),
        tags=tuple(p.get("tags") or ()),
    )


def load_geography(district: Path, subdistricts: Path, communities: Path, cells: Path) -> Geography:
    """Load and validate the four GeoJSON files; raise GeographyError on the first problem."""
    paths: dict[Level, Path] = {
        "district": Path(district),
        "subdistrict": Path(subdistricts),
        "community": Path(communities),
        "cell": Path(cells),
    }
    raw = {level: _read_collection(path) for level, path in paths.items()}
    props = _check_properties(paths, raw)
    district_id = props["district"][0]["id"]
    _check_parents(paths, props)
    geoms = {
        level: _geometries(paths[level], [p["id"] for p in props[level]], raw[level]["features"])
        for level in LEVELS
    }
    cell_ids = [p["id"] for p in props["cell"]]
    outline = _check_cells(paths["cell"], cell_ids, geoms["cell"], geoms["district"][0])
    areas: dict[Level, dict[str, Area]] = {}
    geometries: dict[str, Any] = {}
    for level in LEVELS:
        areas[level] = {}
        for p, geom in zip(props[level], geoms[level], strict=True):
            areas[level][p["id"]] = _area(level, p, geom, district_id)
            geometries[p["id"]] = geom
    geometries[district_id] = outline
    return Geography(
        district=areas["district"][district_id],
        subdistricts=areas["subdistrict"],
        communities=areas["community"],
        cells=areas["cell"],
        geometries=geometries,
        raw={level: raw[level] for level in LEVELS},
    )


def load_default_geography(data_dir: Path = DEFAULT_DATA_DIR) -> Geography:
    """Load the four files shipped in data/ (or the same names in another folder)."""
    return load_geography(*(data_dir / name for name in DEFAULT_FILES.values()))


class GeographyConfig(ConfigModel):
    """The district's GeoJSON files; a deployment points these at its official ones."""

    district: Path = Field(DEFAULT_DATA_DIR / "district.geojson", description="District outline.")
    subdistricts: Path = Field(DEFAULT_DATA_DIR / "subdistricts.geojson", description="Subdistricts (镇街).")
    communities: Path = Field(DEFAULT_DATA_DIR / "communities.geojson", description="Communities (村居).")
    cells: Path = Field(DEFAULT_DATA_DIR / "cells.geojson", description="Grid cells (网格).")

    def load(self) -> Geography:
        """The geography these files hold (checked as ``load_geography`` does)."""
        return load_geography(self.district, self.subdistricts, self.communities, self.cells)
