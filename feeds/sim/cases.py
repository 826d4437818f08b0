"""Simulated cases: who reports what where, and how each case walks the closed loop.

Reports arrive by channel (grid workers on patrol in office hours, the 12345 hotline around the clock,
video patrol, tasks assigned from above, and IoT alarms), at about ``CASES_PER_DAY`` a day. The event
type is drawn by the catalogue's weights, so the category mix is the catalogue's; the cell is drawn by
population and by the type's ``cell_tags`` (street vending in market cells, disputes and old-building
risks in the old town, flooding in low-lying cells); the channel is drawn given the type and the hour.

Each case then walks the loop of ``dashboard.domain.lifecycle``: reported → registered → dispatched → handled
→ feedback → verified → closed, with about 5 % cancelled after report, some returned by the department
(and re-dispatched, often to another one), a few escalated (community → subdistrict → district), a few
reopened after a failed check. How long handling takes depends on the department (``HANDLE_HOURS``;
urgent cases within about an hour), so that slow departments run past the SLA now and then.

The schedule is kept in simulated seconds (a heap of due times), so durations mean the same at any
speed; ``advance(t0, t1)`` emits every step due in the interval, each stamped by ``ts_of``.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import json
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import shapely

from dashboard.domain.catalogue import Catalogue, EventType
from dashboard.domain.geo import Geography
from dashboard.domain.sla import SlaConfig
from dashboard.store.records import CaseEvent
from feeds.sim import clock, notes
from feeds.sim.scenarios import ActiveScenario
from feeds.sim.weather import Weather

CASES_PER_DAY = 3000.0

# Channels: share of the day's reports, when they come (clock profiles), and which categories they see.
CHANNELS: tuple[tuple[str, float, clock.Profile], ...] = (
    ("grid", 0.62, clock.GRID_PATROL),
    ("hotline", 0.25, clock.HOTLINE),
    ("video", 0.10, clock.VIDEO_PATROL),
    ("assigned", 0.03, clock.ASSIGNED),
)
CHANNEL_AFFINITY: dict[str, dict[str, float]] = {
    "grid": {},
    "hotline": {"disputes": 1.5, "public_services": 1.8, "city_management": 0.7},
    "video": {"city_management": 2.0, "public_safety": 0.8, "disputes": 0.05, "public_services": 0.05},
    "assigned": {},
}
NOTE_SHARE = {"grid": 0.7, "hotline": 1.0, "video": 0.6, "assigned": 1.0, "sensor": 1.0}

# Median hours a department takes to handle an ordinary case (lognormal spread HANDLE_SIGMA).
HANDLE_HOURS: dict[str, float] = {
    "fire_rescue": 3, "gas_company": 2, "power_supply": 4, "water_company": 4, "local_police": 3,
    "traffic_police": 4, "sanitation": 4, "flood_control": 3, "emergency": 6, "urban_mgmt": 8,
    "drainage": 8, "municipal": 10, "greenery": 10, "local_community": 6, "local_town": 10,
    "market_reg": 10, "cdc": 8, "river_chief": 10, "transport": 10, "telecom": 12, "police": 12,
    "ecology_env": 12, "health": 12, "gov_services": 12, "anti_drug": 12, "tobacco": 12,
    "housing_water": 13, "natural_resources": 15, "urban_renewal": 16, "justice": 13, "hr_social": 12,
    "civil_affairs": 12, "education": 12, "culture_tourism": 12, "petitions": 16, "politics_law": 13,
    "economy_tech": 13, "agri_rural": 15, "veterans": 12, "medical_security": 12, "finance": 15,
    "civil_defense": 13, "women_fed": 12, "disabled_fed": 12, "trade_union": 12,
}  # fmt: skip
HANDLE_SIGMA = 0.5
URGENT_FACTOR = 0.12  # urgent cases: this share of the median, 30 min to 1.2 h
ROUND_THE_CLOCK = frozenset(
    {"fire_rescue", "gas_company", "power_supply", "water_company", "local_police", "police"}
    | {"traffic_police", "flood_control", "emergency"}
)
# Departments whose remit is often unclear return more cases ("passing the buck").
RETURN_SHARE: dict[str, float] = {
    "urban_mgmt": 0.10, "municipal": 0.10, "drainage": 0.10, "housing_water": 0.10, "sanitation": 0.08,
    "greenery": 0.08, "local_community": 0.03, "fire_rescue": 0.01, "local_police": 0.02,
}  # fmt: skip
RETURN_DEFAULT = 0.06
ESCALATE_SHARE = {"local_community": 0.08, "local_town": 0.04}
ESCALATE_DEFAULT = 0.015
CANCEL_SHARE = 0.05
REOPEN_SHARE = (0.05, 0.02)  # first check, second check
HOTLINE_CLOSE_ON_FEEDBACK = 0.3  # the caller is called back and satisfied: closed without a site check
CATEGORY_FALLBACK = {
    "disputes": "justice",
    "public_security": "local_police",
    "public_safety": "emergency",
    "public_services": "civil_affairs",
    "city_management": "urban_mgmt",
}
DISTRICT_CENTRE = "区智慧社会治理中心"

# Scenario case mixes: type code -> relative weight.
FLOOD_TYPES = {
    "SF-0501": 5.0, "SF-0502": 3.0, "CM-0401": 3.0, "CM-0402": 2.0, "CM-0316": 0.5, "CM-0501": 1.5,
    "CM-0502": 1.0, "SF-0505": 1.0, "SF-0503": 1.0, "SF-0504": 0.3, "SV-0504": 0.5,
}  # fmt: skip
HEAT_TYPES = {
    "SV-0504": 3.0, "SV-0501": 1.0, "SF-0601": 2.0, "SF-0602": 1.0, "SV-0101": 3.0, "SV-0102": 1.0,
    "SF-0103": 1.0, "SV-0303": 0.5, "SF-0201": 0.5,
}  # fmt: skip
DISPUTE_TYPES = {
    "DS-0101": 4.0, "DS-0106": 2.0, "DS-0102": 1.0, "DS-0103": 1.0, "DS-0701": 1.5, "DS-0702": 1.5,
    "DS-0402": 1.0,
}  # fmt: skip
STORM_REPORTS_PER_H = 40.0
HEAT_REPORTS_PER_H = 6.0

#: The steps the simulator takes after each step (a subset of dashboard.domain.lifecycle.TRANSITIONS).
NEXT_STEPS: dict[str, frozenset[str]] = {
    "reported": frozenset({"registered", "cancelled"}),
    "registered": frozenset({"dispatched"}),
    "dispatched": frozenset({"handled", "returned", "escalated"}),
    "returned": frozenset({"dispatched"}),
    "escalated": frozenset({"dispatched"}),
    "handled": frozenset({"feedback"}),
    "feedback": frozenset({"verified", "reopened", "closed"}),
    "reopened": frozenset({"handled"}),
    "verified": frozenset({"closed"}),
}


@dataclass(slots=True)
class SimCase:
    """A case in flight: what, where, who reported it, where it stands and what comes next when."""

    id: str
    type: str
    cell: str
    lon: float
    lat: float
    priority: str
    channel: str
    reporter: str
    note: str
    reported_s: float
    next: str = "reported"
    due: float = 0.0
    seq: int = 0
    dept: str = ""
    level: int = 0  # escalations so far: 0 community, 1 subdistrict, 2 district
    returns: int = 0
    reopens: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-able fields (for the saved schedule)."""
        return asdict(self)


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


def _lognormal(rng: np.random.Generator, median: float, sigma: float) -> float:
    """A lognormal draw with the given median."""
    return float(median * math.exp(sigma * rng.standard_normal()))


class CaseModel:
    """Reports and the closed loop of every case, on a schedule in simulated seconds."""

    def __init__(
        self,
        geo: Geography,
        catalogue: Catalogue,
        cameras_by_cell: dict[str, list[str]] | None = None,
        per_day: float = CASES_PER_DAY,
    ) -> None:
        """Prepare the draws: type weights, cells per type, alternatives per type, cell details."""
        self.geo = geo
        self.cat = catalogue
        self.per_day = per_day
        self.cameras_by_cell = cameras_by_cell or {}
        self.sla = SlaConfig()
        self.types: list[EventType] = list(catalogue.event_types.values())
        self.type_index = {t.code: i for i, t in enumerate(self.types)}
        total = sum(t.weight for t in self.types)
        self.type_cdf = list(itertools.accumulate(t.weight / total for t in self.types))
        self.cell_ids = list(geo.cells)
        self.cells: dict[str, CellInfo] = {}
        for cid, area in geo.cells.items():
            _, sd, comm = geo.ancestors(cid)[:3]
            self.cells[cid] = CellInfo(
                id=cid,
                subdistrict=sd.id,
                subdistrict_zh=sd.name_zh,
                community_zh=comm.name_zh,
                workers=int(min(3, max(1, math.ceil(area.population / 6000)))),
                tags=frozenset(area.tags),
                population=area.population,
            )
        pop = np.array([max(a.population, 50) for a in geo.cells.values()], dtype=float)
        self.cell_cdf: list[list[float]] = []
        for t in self.types:
            tags = set(t.cell_tags)
            aff = np.array(
                [4.0 if tags & set(a.tags) else (1.0 if not tags else 0.25) for a in geo.cells.values()]
            )
            p = pop * aff
            self.cell_cdf.append(np.cumsum(p / p.sum()).tolist())
        self.alternatives = self._alternatives()
        self.triangles = {cid: _triangles(geo.geometry(cid)) for cid in self.cell_ids}
        self.heap: list[tuple[float, int, str]] = []
        self.cases: dict[str, SimCase] = {}
        self.counter = 0
        self._order = 0
        self.dirty: set[str] = set()
        self.finished: set[str] = set()

    def _alternatives(self) -> dict[str, list[str]]:
        """Per type, the other departments a returned case may go to (same subcategory, then category)."""
        out: dict[str, list[str]] = {}
        for t in self.types:
            same_sub = sorted(
                {u.department for u in self.types if u.subcategory_en == t.subcategory_en} - {t.department}
            )
            same_cat = sorted({u.department for u in self.types if u.category == t.category} - {t.department})
            out[t.code] = same_sub or same_cat
        return out

    # --- names ------------------------------------------------------------------------------------

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

    def centre(self, case: SimCase) -> str:
        """The command centre that registers, dispatches and closes the case at its level."""
        if case.level >= 2:
            return DISTRICT_CENTRE
        return self.cells[case.cell].subdistrict_zh + "智慧社会治理中心"

    def grid_worker(self, rng: np.random.Generator, cell: str) -> str:
        """One of the cell's grid workers, e.g. GW-ZM-0001-1."""
        return f"GW-{cell}-{int(rng.integers(self.cells[cell].workers)) + 1}"

    # --- reports ----------------------------------------------------------------------------------

    def point_in(self, rng: np.random.Generator, cell: str) -> tuple[float, float]:
        """A uniformly random WGS-84 point inside the cell (a triangle by area, then a point in it)."""
        cdf, tris = self.triangles[cell]
        u, a, b = rng.random(3)
        (x0, y0), (x1, y1), (x2, y2) = tris[min(bisect.bisect_right(cdf, u), len(tris) - 1)]
        if a + b > 1.0:
            a, b = 1.0 - a, 1.0 - b
        return round(x0 + a * (x1 - x0) + b * (x2 - x0), 6), round(y0 + a * (y1 - y0) + b * (y2 - y0), 6)

    def _channel_cdfs(self, sim_s: float) -> dict[str, list[float]]:
        """Per category, the cumulative chances of each channel at ``sim_s`` (shares, hours, eyes)."""
        at = [share * prof.at(sim_s) for _, share, prof in CHANNELS]
        out: dict[str, list[float]] = {}
        for category in self.cat.categories:
            w = [
                a * CHANNEL_AFFINITY[ch].get(category, 1.0)
                for a, (ch, _, _) in zip(at, CHANNELS, strict=True)
            ]
            total = sum(w) or 1.0
            out[category] = list(itertools.accumulate(x / total for x in w))
        return out

    @staticmethod
    def _channel(rng: np.random.Generator, cdf: list[float]) -> str:
        """A channel drawn from a cumulative distribution of ``_channel_cdfs``."""
        return CHANNELS[min(bisect.bisect_right(cdf, rng.random()), len(CHANNELS) - 1)][0]

    def rate_at(self, sim_s: float) -> float:
        """Expected reports per simulated second at ``sim_s`` (all channels)."""
        return self.per_day / clock.DAY_S * sum(share * prof.at(sim_s) for _, share, prof in CHANNELS)

    def new_case(
        self,
        rng: np.random.Generator,
        et: EventType,
        cell: str,
        when: float,
        channel: str,
        reporter: str | None = None,
        addr: str | None = None,
        depth_cm: int | None = None,
    ) -> SimCase:
        """Create a case whose report is due at ``when`` and put it on the schedule."""
        self.counter += 1
        ymd = time.strftime("%Y%m%d", time.gmtime(when + clock.LOCAL_OFFSET_S))
        info = self.cells[cell]
        if reporter is None:
            if channel == "grid":
                reporter = self.grid_worker(rng, cell)
            elif channel == "hotline":
                reporter = "12345"
            elif channel == "video":
                cams = self.cameras_by_cell.get(cell)
                reporter = cams[int(rng.integers(len(cams)))] if cams else "视频巡查"
            else:
                reporter = DISTRICT_CENTRE
        note = ""
        if rng.random() < NOTE_SHARE.get(channel, 0.5):
            place = addr or notes.address(rng, info.subdistrict, info.community_zh)
            note = notes.report_note(rng, et, channel, place, depth_cm)
        lon, lat = self.point_in(rng, cell)
        case = SimCase(
            id=f"SIM-{ymd}-{self.counter:06d}",
            type=et.code,
            cell=cell,
            lon=lon,
            lat=lat,
            priority=et.priority,
            channel=channel,
            reporter=reporter,
            note=note,
            reported_s=when,
        )
        self._push(case, "reported", when)
        return case

    def _draw_type(self, rng: np.random.Generator, mix: dict[str, float] | None = None) -> EventType:
        """An event type by the catalogue's weights (or by a scenario's ``mix``)."""
        if mix:
            codes = [k for k in mix if k in self.type_index]
            w = np.array([mix[k] for k in codes])
            return self.types[self.type_index[codes[int(rng.choice(len(codes), p=w / w.sum()))]]]
        return self.types[min(bisect.bisect_right(self.type_cdf, rng.random()), len(self.types) - 1)]

    def _draw_cell(self, rng: np.random.Generator, et: EventType) -> str:
        """A cell for a case of type ``et``: by population and the type's cell tags."""
        row = self.cell_cdf[self.type_index[et.code]]
        return self.cell_ids[min(bisect.bisect_right(row, rng.random()), len(self.cell_ids) - 1)]

    def _reports(self, rng: np.random.Generator, t0: float, t1: float) -> None:
        """Schedule this interval's ordinary reports (a Poisson number, at uniform times)."""
        mid = (t0 + t1) / 2
        n = int(rng.poisson(self.rate_at(mid) * (t1 - t0)))
        if not n:
            return
        cdfs = self._channel_cdfs(mid)
        for when in np.sort(t0 + (t1 - t0) * rng.random(n)).tolist():
            et = self._draw_type(rng)
            cell = self._draw_cell(rng, et)
            self.new_case(rng, et, cell, when, self._channel(rng, cdfs[et.category]))

    def _scenario_reports(
        self, rng: np.random.Generator, t0: float, t1: float, sc: ActiveScenario | None
    ) -> None:
        """Extra reports a running storm or heat wave causes in this interval."""
        if sc is None or not sc.active(t1):
            return
        mid = (t0 + t1) / 2
        if sc.key == "storm":
            level = Weather.storm_rain(sc, mid) / max(float(sc.params["peak_mm_h"]), 1.0)
            rate, mix = STORM_REPORTS_PER_H * level**1.5, FLOOD_TYPES
            weights = {
                cid: (
                    4.0
                    if "low_lying" in self.cells[cid].tags
                    else 1.5
                    if "riverside" in self.cells[cid].tags
                    else 0.1
                )
                * math.sqrt(max(self.cells[cid].population, 50))
                for cid in sc.cells
            }
        elif sc.key == "heatwave":
            level = max(0.0, clock.diurnal_temperature(mid)) * sc.envelope(mid, 3 * 3600.0)
            rate, mix = HEAT_REPORTS_PER_H * level, HEAT_TYPES
            weights = {cid: float(max(self.cells[cid].population, 50)) for cid in sc.cells}
        else:
            return
        n = int(rng.poisson(rate * (t1 - t0) / 3600.0))
        if not n:
            return
        ids = list(weights)
        p = np.array([weights[k] for k in ids])
        p /= p.sum()
        for when in np.sort(t0 + (t1 - t0) * rng.random(n)):
            et = self._draw_type(rng, mix)
            cell = ids[int(rng.choice(len(ids), p=p))]
            channel = ("hotline", "grid", "video")[int(rng.choice(3, p=[0.5, 0.3, 0.2]))]
            self.new_case(rng, et, cell, float(when), channel, depth_cm=int(rng.integers(20, 60)))

    def on_scenario_start(self, rng: np.random.Generator, sc: ActiveScenario) -> None:
        """Schedule the reports a scenario brings at its start (dispute cluster, power-cut calls)."""
        if sc.key == "dispute-cluster":
            cell = sc.cells[0]
            info = self.cells[cell]
            place = notes.address(rng, info.subdistrict, info.community_zh)
            for off in sc.params["offsets_s"]:
                et = self._draw_type(rng, DISPUTE_TYPES)
                channel = "grid" if rng.random() < 0.5 else "hotline"
                self.new_case(rng, et, cell, sc.start_s + float(off), channel, addr=place)
        elif sc.key == "power-cut":
            et = self.cat.event_type("SV-0504")
            for _ in range(int(rng.integers(2, 5))):
                cell = sc.cells[int(rng.integers(len(sc.cells)))]
                self.new_case(rng, et, cell, sc.start_s + float(rng.uniform(120, 1800)), "hotline")

    def on_alarm(
        self, rng: np.random.Generator, metric: str, sensor_id: str, cell: str, sim_s: float
    ) -> None:
        """A sensor crossed its alarm level: often someone reports it (a leak, a flooded street)."""
        code, share = {"gas": ("SF-0201", 0.7), "water_level": ("SF-0501", 0.5)}.get(metric, ("", 0.0))
        if code and rng.random() < share:
            et = self.cat.event_type(code)
            self.new_case(rng, et, cell, sim_s + float(rng.uniform(60, 600)), "sensor", reporter=sensor_id)

    # --- the loop ---------------------------------------------------------------------------------

    def _push(self, case: SimCase, step: str, due: float) -> None:
        """Put ``case``'s next step on the schedule."""
        case.next = step
        case.due = due
        self._order += 1
        self.cases[case.id] = case
        self.dirty.add(case.id)
        heapq.heappush(self.heap, (due, self._order, case.id))

    def advance(
        self,
        rng: np.random.Generator,
        t0: float,
        t1: float,
        ts_of: Callable[[float], int],
        scenario: ActiveScenario | None = None,
    ) -> list[CaseEvent]:
        """Report this interval's new cases and take every step due in (t0, t1], in time order."""
        self._reports(rng, t0, t1)
        self._scenario_reports(rng, t0, t1, scenario)
        out: list[CaseEvent] = []
        heap = self.heap
        while heap and heap[0][0] <= t1:
            due, _, cid = heapq.heappop(heap)
            case = self.cases.get(cid)
            if case is None or case.due != due:
                continue  # superseded entry
            out.append(self._take(rng, case, due, ts_of(due)))
        return out

    def _event(
        self, case: SimCase, step: str, ts: int, actor: str, note: str = "", dept: str | None = None
    ) -> CaseEvent:
        """The contract record of ``case`` taking ``step``."""
        et = self.types[self.type_index[case.type]]
        seq = case.seq
        case.seq += 1
        return CaseEvent(
            event_id=f"{case.id}-{seq:02d}",
            case_id=case.id,
            seq=seq,
            ts=ts,
            step=step,
            event_type=et.code,
            category=et.category,
            cell_id=case.cell,
            lon=case.lon,
            lat=case.lat,
            department=dept,
            actor=actor[:64],
            note=note,
            priority=case.priority,
            source="simulator",
        )

    def _take(self, rng: np.random.Generator, case: SimCase, t: float, ts: int) -> CaseEvent:
        """Emit ``case.next`` at ``t`` and schedule the step after it (or finish the case)."""
        step = case.next
        et = self.types[self.type_index[case.type]]
        urgent = case.priority == "urgent"
        remark = notes.step_note(rng, step) if rng.random() < 0.5 else ""
        minutes = 60.0
        if step == "reported":
            ev = self._event(case, step, ts, case.reporter, case.note)
            if rng.random() < CANCEL_SHARE:
                self._push(case, "cancelled", t + rng.uniform(5, 40) * minutes)
            else:
                delay = _lognormal(rng, 4 if urgent else 10, 0.5 if urgent else 0.8)
                self._push(
                    case, "registered", t + (delay + (5 if case.channel == "hotline" else 0)) * minutes
                )
            return ev
        if step == "cancelled":
            self._finish(case)
            return self._event(case, step, ts, self.centre(case), notes.step_note(rng, step))
        if step == "registered":
            self._push(
                case, "dispatched", t + _lognormal(rng, 3 if urgent else 8, 0.5 if urgent else 0.7) * minutes
            )
            return self._event(case, step, ts, self.centre(case))
        if step == "dispatched":
            if not case.dept:
                case.dept = et.department
            ev = self._event(case, step, ts, self.centre(case), self._deadline_note(case), case.dept)
            self._after_dispatch(rng, case, t)
            return ev
        if step == "returned":
            ev = self._event(
                case, step, ts, self.dept_name(case.dept, case.cell), notes.step_note(rng, step), case.dept
            )
            alts = self.alternatives.get(case.type) or []
            if alts and rng.random() < 0.6:
                case.dept = alts[int(rng.integers(len(alts)))]
            self._push(case, "dispatched", t + rng.uniform(10, 60) * minutes)
            return ev
        if step == "escalated":
            actor = self.dept_name("local_community", case.cell) if case.level == 0 else self.centre(case)
            ev = self._event(case, step, ts, actor, notes.step_note(rng, step), case.dept)
            case.level += 1
            if case.level == 1 and case.dept == "local_community":
                case.dept = "local_town"
            elif case.level == 2 and case.dept in ("local_community", "local_town"):
                alts = [d for d in self.alternatives.get(case.type, []) if not d.startswith("local_")]
                case.dept = alts[int(rng.integers(len(alts)))] if alts else CATEGORY_FALLBACK[et.category]
            self._push(case, "dispatched", t + _lognormal(rng, 30, 0.5) * minutes)
            return ev
        if step in ("handled", "feedback"):
            ev = self._event(case, step, ts, self.dept_name(case.dept, case.cell), remark, case.dept)
            if step == "handled":
                self._push(case, "feedback", t + _lognormal(rng, 8 if urgent else 20, 0.8) * minutes)
            else:
                self._after_feedback(rng, case, t)
            return ev
        if step in ("reopened", "verified"):
            worker = self.grid_worker(rng, case.cell)
            ev = self._event(case, step, ts, worker, notes.step_note(rng, step), case.dept)
            if step == "reopened":
                case.reopens += 1
                self._push(case, "handled", self._work_hours(rng, case, t + 0.5 * self._handle_s(rng, case)))
            else:
                self._push(case, "closed", t + _lognormal(rng, 10, 0.6) * minutes)
            return ev
        # closed
        self._finish(case)
        return self._event(case, "closed", ts, self.centre(case), "", case.dept)

    def _after_dispatch(self, rng: np.random.Generator, case: SimCase, t: float) -> None:
        """Handled after the department's time, or returned, or escalated."""
        u = rng.random()
        p_ret = RETURN_SHARE.get(case.dept, RETURN_DEFAULT) if case.returns < 2 else 0.0
        p_esc = ESCALATE_SHARE.get(case.dept, ESCALATE_DEFAULT) if case.level < 2 else 0.0
        if u < p_ret:
            case.returns += 1
            self._push(case, "returned", t + _lognormal(rng, 2.0, 0.7) * 3600.0)
        elif u < p_ret + p_esc:
            self._push(case, "escalated", t + _lognormal(rng, 6.0, 0.6) * 3600.0)
        else:
            self._push(case, "handled", self._work_hours(rng, case, t + self._handle_s(rng, case)))

    def _after_feedback(self, rng: np.random.Generator, case: SimCase, t: float) -> None:
        """Checked on site by the grid worker (and now and then found not fixed), or closed by phone."""
        urgent = case.priority == "urgent"
        check = t + _lognormal(rng, 0.7 if urgent else 3.0, 0.8) * 3600.0
        if not urgent:
            check = self._patrol_hours(rng, check)
        if case.channel == "hotline" and rng.random() < HOTLINE_CLOSE_ON_FEEDBACK:
            self._push(case, "closed", t + _lognormal(rng, 40, 0.7) * 60.0)
        elif case.reopens < len(REOPEN_SHARE) and rng.random() < REOPEN_SHARE[case.reopens]:
            self._push(case, "reopened", check)
        else:
            self._push(case, "verified", check)

    def _handle_s(self, rng: np.random.Generator, case: SimCase) -> float:
        """How long the department takes to handle the case (simulated seconds)."""
        median_h = HANDLE_HOURS.get(case.dept, 12.0)
        if case.priority == "urgent":
            urgent_h = min(max(median_h * URGENT_FACTOR, 0.5), 1.2)
            return max(900.0, _lognormal(rng, urgent_h, 0.5) * 3600.0)
        return max(1800.0, _lognormal(rng, median_h, HANDLE_SIGMA) * 3600.0)

    def _work_hours(self, rng: np.random.Generator, case: SimCase, due: float) -> float:
        """Ordinary cases of day-time departments are not handled at night: move them to the morning."""
        if case.priority == "urgent" or case.dept in ROUND_THE_CLOCK:
            return due
        h = clock.local_hour(due)
        if 8.0 <= h < 20.0:
            return due
        morning = clock.local_day_start(due) + (8 * 3600.0 if h < 8.0 else 32 * 3600.0)
        return morning + _lognormal(rng, 1.5, 0.6) * 3600.0

    @staticmethod
    def _patrol_hours(rng: np.random.Generator, due: float) -> float:
        """Grid workers check on site during their patrols (08:30-18:00)."""
        h = clock.local_hour(due)
        if 8.5 <= h < 18.0:
            return due
        morning = clock.local_day_start(due) + (8.5 * 3600.0 if h < 8.5 else 32.5 * 3600.0)
        return morning + float(rng.uniform(0, 3 * 3600.0))

    def _deadline_note(self, case: SimCase) -> str:
        """The dispatch instruction, with the handling time the SLA allows."""
        minutes = self.sla.handle.urgent if case.priority == "urgent" else self.sla.handle.normal
        limit = f"{minutes / 60:g}小时" if minutes >= 60 else f"{minutes:g}分钟"
        who = self.dept_name(case.dept, case.cell)
        return f"请{who}于{limit}内处置并反馈"

    def _finish(self, case: SimCase) -> None:
        """The case is over: forget it (the saved schedule drops it at the next flush)."""
        self.cases.pop(case.id, None)
        self.dirty.discard(case.id)
        self.finished.add(case.id)

    # --- saved schedule ---------------------------------------------------------------------------

    def take_changes(self) -> tuple[dict[str, str], list[str]]:
        """Cases changed since the last call (id -> JSON) and cases finished since then."""
        changed = {
            cid: json.dumps(self.cases[cid].to_dict(), ensure_ascii=False)
            for cid in self.dirty
            if cid in self.cases
        }
        done = sorted(self.finished)
        self.dirty = set()
        self.finished = set()
        return changed, done

    def load(self, rows: Iterable[str], counter: int) -> int:
        """Rebuild the schedule from saved case JSON; return how many cases were loaded."""
        self.counter = max(self.counter, counter)
        n = 0
        for raw in rows:
            d = json.loads(raw)
            if d.get("type") not in self.type_index or d.get("cell") not in self.cells:
                continue
            case = SimCase(**d)
            self._push(case, case.next, case.due)
            n += 1
        self.dirty = set()
        return n

    def open_cases(self) -> int:
        """Cases reported and not yet over."""
        return sum(1 for case in self.cases.values() if case.seq > 0)
