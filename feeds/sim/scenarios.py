"""Named scenarios: what each does, how long it lasts, where it happens; described as data.

A scenario is started at run time (the control key ``dashboard.store.keys.SIM_CONTROL``) or from the
command line (``run.py --scenario storm``), lasts ``duration_s`` simulated seconds and then ends by itself
(back to ``normal``). The models (weather, sensors, cameras, cases) read the active scenario and react;
this module only knows names, durations, areas and the few numbers drawn when one starts.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # kept light: run.py imports the names to check --scenario
    import numpy as np

    from dashboard.domain.geo import Geography

AreaLevel = Literal["district", "subdistrict", "community", "cell"]


@dataclass(frozen=True)
class ScenarioSpec:
    """A named scenario: its key, Chinese label, what it does, how long, and its default area."""

    key: str
    name_zh: str
    summary: str
    duration_s: float
    default_area: AreaLevel


SCENARIOS: dict[str, ScenarioSpec] = {
    s.key: s
    for s in (
        ScenarioSpec("normal", "日常", "an ordinary day: no scenario", 0.0, "district"),
        ScenarioSpec(
            "storm",
            "暴雨内涝",
            "a summer rainstorm: rain rises to 70-95 mm/h within 20 min and holds for about 2 h; "
            "ponding in low-lying streets climbs past the alarm level within 30-60 min and drains "
            "afterwards; flooding, blocked-drain and fallen-tree reports spike in low-lying cells",
            3 * 3600.0,
            "district",
        ),
        ScenarioSpec(
            "heatwave",
            "高温热浪",
            "two days of 38-41 °C afternoons and 30 °C nights; power cuts, lift failures and elderly "
            "people needing visits are reported more often",
            2 * 86400.0,
            "district",
        ),
        ScenarioSpec(
            "power-cut",
            "片区停电",
            "every camera and sensor of one community (or the given area) goes offline together and "
            "returns after about 90 minutes; residents report the outage",
            90 * 60.0,
            "community",
        ),
        ScenarioSpec(
            "dispute-cluster",
            "矛盾纠纷聚集",
            "5-7 dispute reports about one place in one cell within two hours (an old-town cell by default)",
            2 * 3600.0,
            "cell",
        ),
    )
}
SCENARIO_NAMES: tuple[str, ...] = tuple(SCENARIOS)


def describe() -> str:
    """One line per scenario: key, duration and summary (for --help and error messages)."""
    lines = []
    for s in SCENARIOS.values():
        dur = f"{s.duration_s / 3600:g} h" if s.duration_s else "-"
        lines.append(f"{s.key:<16} {dur:>5}  {s.summary}")
    return "\n".join(lines)


@dataclass
class ActiveScenario:
    """A scenario in progress: which, where (its cells), from when to when (simulated seconds)."""

    key: str
    area: str
    start_s: float
    end_s: float
    cells: tuple[str, ...]
    params: dict[str, Any] = field(default_factory=dict)

    def active(self, sim_s: float) -> bool:
        """Whether the scenario still runs at ``sim_s``."""
        return self.start_s <= sim_s < self.end_s

    def elapsed(self, sim_s: float) -> float:
        """Simulated seconds since it started."""
        return sim_s - self.start_s

    def envelope(self, sim_s: float, ramp_s: float) -> float:
        """0..1: rises over ``ramp_s`` after the start and falls over ``ramp_s`` before the end."""
        if not self.active(sim_s):
            return 0.0
        return max(0.0, min(1.0, (sim_s - self.start_s) / ramp_s, (self.end_s - sim_s) / ramp_s))

    def to_json(self) -> str:
        """Compact JSON for the simulator's saved state (without the cells: the area names them)."""
        d = asdict(self)
        del d["cells"]
        return json.dumps(d, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str, geo: Geography) -> ActiveScenario:
        """Parse what ``to_json`` wrote; the cells come from ``geo`` (KeyError if the area is gone)."""
        d = json.loads(raw)
        return cls(cells=area_cells(geo, d["area"]), **d)


def area_cells(geo: Geography, area_id: str) -> tuple[str, ...]:
    """The cell ids inside an area of any level (a cell is its own area); KeyError if unknown."""
    area = geo.area(area_id)
    if area.level == "cell":
        return (area.id,)
    out: list[str] = []
    stack = [area.id]
    while stack:
        for child in geo.children(stack.pop()):
            if child.level == "cell":
                out.append(child.id)
            else:
                stack.append(child.id)
    return tuple(sorted(out))


def _pick_area(geo: Geography, spec: ScenarioSpec, rng: np.random.Generator) -> str:
    """A default area for ``spec``: the district, a random community, or a busy old-town cell."""
    if spec.default_area == "community":
        ids = list(geo.communities)
        return ids[int(rng.integers(len(ids)))]
    if spec.default_area == "cell":
        pool = [a for a in geo.cells.values() if "old_town" in a.tags] or list(geo.cells.values())
        total = sum(max(a.population, 1) for a in pool)
        return pool[int(rng.choice(len(pool), p=[max(a.population, 1) / total for a in pool]))].id
    return geo.district.id


def start(
    key: str, area: str | None, sim_s: float, geo: Geography, rng: np.random.Generator
) -> ActiveScenario:
    """Start scenario ``key`` at ``sim_s`` in ``area`` (any area id; None = its default area).

    Raises ValueError naming the known scenarios or the unknown area.
    """
    spec = SCENARIOS.get(key)
    if spec is None:
        raise ValueError(f"unknown scenario {key!r} (known: {', '.join(SCENARIO_NAMES)})")
    if area:
        try:
            cells = area_cells(geo, area)
        except KeyError:
            raise ValueError(f"unknown area {area!r} (want a subdistrict, community or cell id)") from None
    else:
        area = _pick_area(geo, spec, rng)
        cells = area_cells(geo, area)
    params: dict[str, Any] = {}
    if key == "storm":
        params["peak_mm_h"] = float(rng.uniform(70.0, 95.0))
        if area != geo.district.id:  # rain over the area's subdistricts only
            params["subdistricts"] = sorted({geo.ancestors(cid)[1].id for cid in cells})
    elif key == "heatwave":
        params["peaks_c"] = [float(v) for v in rng.uniform(38.2, 39.6, 3)]
    elif key == "dispute-cluster":
        n = int(rng.integers(5, 8))
        params["offsets_s"] = sorted(float(v) for v in rng.uniform(120.0, 6600.0, n))
    return ActiveScenario(key, area, sim_s, sim_s + spec.duration_s, cells, params)
