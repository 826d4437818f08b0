"""The district as the case model sees it: each cell's names and grid workers, random points inside a
cell, and the names of the bodies that act on a case (departments, town offices, command centres)."""

from __future__ import annotations

import bisect
import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

from dashboard.domain.catalogue import Catalogue
from dashboard.domain.geo import Geography

DISTRICT_CENTRE = "区智慧社会治理中心"


@dataclass(frozen=True)
class CellInfo:
    """What the case model needs to know of a cell."""

    id: str
    subdistrict: str
    subdistrict_zh: str
    community_zh: str
    workers: int
    tags: frozenset[str]
    population: int


def _triangles(geom: Any) -> tuple[list[float], list[tuple[tuple[float, float], ...]]]:
    """A polygon cut into triangles: their cumulative area shares and their corners."""
    tris = [
        tuple((float(x), float(y)) for x, y in shapely.get_coordinates(t)[:3])
        for t in shapely.get_parts(shapely.constrained_delaunay_triangles(geom))
    ]
    areas = [abs((b[0] - a[0]) * (cc[1] - a[1]) - (cc[0] - a[0]) * (b[1] - a[1])) for a, b, cc in tris]
    total = sum(areas) or 1.0
    return list(itertools.accumulate(x / total for x in areas)), tris


def _cell_info(geo: Geography, cid: str) -> CellInfo:
    """A cell's names, grid workers (one per 6,000 people, 1 to 3), tags and population."""
    area = geo.cells[cid]
    _, sd, comm = geo.ancestors(cid)[:3]
    return CellInfo(
        id=cid,
        subdistrict=sd.id,
        subdistrict_zh=sd.name_zh,
        community_zh=comm.name_zh,
        workers=int(min(3, max(1, math.ceil(area.population / 6000)))),
        tags=frozenset(area.tags),
        population=area.population,
    )


class Places:
    """Every cell's details and triangles, and the names of who works where."""

    def __init__(self, geo: Geography, catalogue: Catalogue) -> None:
        """Read every cell's details and cut its outline into triangles (for random points)."""
        self.cat = catalogue
        self.cell_ids = list(geo.cells)
        self.cells: dict[str, CellInfo] = {cid: _cell_info(geo, cid) for cid in geo.cells}
        self.triangles = {cid: _triangles(geo.geometry(cid)) for cid in self.cell_ids}

    def point_in(self, rng: np.random.Generator, cell: str) -> tuple[float, float]:
        """A uniformly random WGS-84 point inside the cell (a triangle by area, then a point in it)."""
        cdf, tris = self.triangles[cell]
        u, a, b = rng.random(3)
        (x0, y0), (x1, y1), (x2, y2) = tris[min(bisect.bisect_right(cdf, u), len(tris) - 1)]
        if a + b > 1.0:
            a, b = 1.0 - a, 1.0 - b
        return round(x0 + a * (x1 - x0) + b * (x2 - x0), 6), round(y0 + a * (y1 - y0) + b * (y2 - y0), 6)

    def dept_name(self, dept: str, cell: str) -> str:
        """The acting body: a department's short name, or the cell's own subdistrict / community."""
        info = self.cells[cell]
        if dept == "local_town":
            return info.subdistrict_zh + ("人民政府" if info.subdistrict_zh.endswith("镇") else "办事处")
        if dept == "local_community":
            return info.community_zh + ("村委会" if info.community_zh.endswith("村") else "居委会")
        if dept == "local_police":
            return info.subdistrict_zh.removesuffix("街道").removesuffix("镇街").removesuffix("镇") + "派出所"
        d = self.cat.departments.get(dept)
        return d.short_zh if d is not None else dept

    def centre(self, level: int, cell: str) -> str:
        """The command centre that registers, dispatches and closes a case at its escalation ``level``."""
        if level >= 2:
            return DISTRICT_CENTRE
        return self.cells[cell].subdistrict_zh + "智慧社会治理中心"

    def grid_worker(self, rng: np.random.Generator, cell: str) -> str:
        """One of the cell's grid workers, e.g. GW-ZM-0001-1."""
        return f"GW-{cell}-{int(rng.integers(self.cells[cell].workers)) + 1}"
