"""Who reports what where and when: the simulator's new cases, by channel, hour, type and cell.

Reports arrive by channel (grid workers on patrol in office hours, the 12345 hotline around the clock,
video patrol, tasks assigned from above, and IoT alarms), at about ``CASES_PER_DAY`` a day. The event
type is drawn by the catalogue's weights, so the category mix is the catalogue's; the cell is drawn by
population and by the type's ``cell_tags`` (street vending in market cells, disputes and old-building
risks in the old town, flooding in low-lying cells); the channel is drawn given the type and the hour.
A running storm or heat wave adds reports of its own mix; a dispute cluster or a power cut brings a
burst at its start; a sensor alarm is often reported too.
"""

from __future__ import annotations

import bisect
import itertools
import math
import time
from collections.abc import Mapping

import numpy as np

from dashboard.domain.catalogue import Catalogue, EventType
from feeds.sim import clock, notes
from feeds.sim.places import DISTRICT_CENTRE, Places
from feeds.sim.scenarios import ActiveScenario
from feeds.sim.schedule import Schedule, SimCase
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


class Reports:
    """New cases put on the schedule: ordinary reports, a scenario's, and reported sensor alarms."""

    def __init__(
        self,
        catalogue: Catalogue,
        places: Places,
        schedule: Schedule,
        cameras_by_cell: Mapping[str, list[str]],
        per_day: float = CASES_PER_DAY,
    ) -> None:
        """Prepare the draws: type weights and, per type, the cells' weights."""
        self.cat = catalogue
        self.places = places
        self.schedule = schedule
        self.cameras_by_cell = cameras_by_cell
        self.per_day = per_day
        self.types: list[EventType] = list(catalogue.event_types.values())
        self.type_index = {t.code: i for i, t in enumerate(self.types)}
        total = sum(t.weight for t in self.types)
        self.type_cdf = list(itertools.accumulate(t.weight / total for t in self.types))
        cells = list(places.cells.values())
        pop = np.array([max(c.population, 50) for c in cells], dtype=float)
        self.cell_cdf: list[list[float]] = []
        for t in self.types:
            tags = set(t.cell_tags)
            aff = np.array([4.0 if tags & c.tags else (1.0 if not tags else 0.25) for c in cells])
            p = pop * aff
            self.cell_cdf.append(np.cumsum(p / p.sum()).tolist())

    # --- draws ------------------------------------------------------------------------------------

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
        ids = self.places.cell_ids
        return ids[min(bisect.bisect_right(row, rng.random()), len(ids) - 1)]

    # --- new cases --------------------------------------------------------------------------------

    def _reporter(self, rng: np.random.Generator, channel: str, cell: str) -> str:
        """Who reports on ``channel``: a grid worker, the hotline, a camera (or video patrol), the centre."""
        if channel == "grid":
            return self.places.grid_worker(rng, cell)
        if channel == "hotline":
            return "12345"
        if channel == "video":
            cams = self.cameras_by_cell.get(cell)
            return cams[int(rng.integers(len(cams)))] if cams else "视频巡查"
        return DISTRICT_CENTRE

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
        self.schedule.counter += 1
        ymd = time.strftime("%Y%m%d", time.gmtime(when + clock.LOCAL_OFFSET_S))
        info = self.places.cells[cell]
        if reporter is None:
            reporter = self._reporter(rng, channel, cell)
        note = ""
        if rng.random() < NOTE_SHARE.get(channel, 0.5):
            place = addr or notes.address(rng, info.subdistrict, info.community_zh)
            note = notes.report_note(rng, et, channel, place, depth_cm)
        lon, lat = self.places.point_in(rng, cell)
        case = SimCase(
            id=f"SIM-{ymd}-{self.schedule.counter:06d}",
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
        self.schedule.push(case, "reported", when)
        return case

    def ordinary(self, rng: np.random.Generator, t0: float, t1: float) -> None:
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

    def _scenario_pull(
        self, sc: ActiveScenario, mid: float
    ) -> tuple[float, dict[str, float], dict[str, float]] | None:
        """A storm's or heat wave's extra reports at ``mid``: (per hour, type mix, cells' weights)."""
        if sc.key == "storm":
            level = Weather.storm_rain(sc, mid) / max(float(sc.params["peak_mm_h"]), 1.0)
            weights = {
                cid: (
                    4.0
                    if "low_lying" in self.places.cells[cid].tags
                    else 1.5
                    if "riverside" in self.places.cells[cid].tags
                    else 0.1
                )
                * math.sqrt(max(self.places.cells[cid].population, 50))
                for cid in sc.cells
            }
            return STORM_REPORTS_PER_H * level**1.5, FLOOD_TYPES, weights
        if sc.key == "heatwave":
            level = max(0.0, clock.diurnal_temperature(mid)) * sc.envelope(mid, 3 * 3600.0)
            weights = {cid: float(max(self.places.cells[cid].population, 50)) for cid in sc.cells}
            return HEAT_REPORTS_PER_H * level, HEAT_TYPES, weights
        return None

    def scenario(self, rng: np.random.Generator, t0: float, t1: float, sc: ActiveScenario | None) -> None:
        """Extra reports a running storm or heat wave causes in this interval."""
        if sc is None or not sc.active(t1):
            return
        pull = self._scenario_pull(sc, (t0 + t1) / 2)
        if pull is None:
            return
        rate, mix, weights = pull
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
            info = self.places.cells[cell]
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
