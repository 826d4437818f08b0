"""Simulated cases: who reports what where, and how each case walks the closed loop.

``CaseModel`` puts the parts together: ``reports`` (new cases by channel, hour, type and cell, and those
a scenario or a sensor alarm brings), ``closed_loop`` (each case's steps, reported to closed, with
returns, escalations and reopenings), ``places`` (the cells, points in them, and who acts there) and
``schedule`` (the cases in flight on a heap of due times, and their saved form).

The schedule is kept in simulated seconds (a heap of due times), so durations mean the same at any
speed; ``advance(t0, t1)`` emits every step due in the interval, each stamped by ``ts_of``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from dashboard.domain.catalogue import Catalogue
from dashboard.domain.geo import Geography
from dashboard.store.records import CaseEvent
from feeds.sim.closed_loop import NEXT_STEPS, CaseLoop
from feeds.sim.places import CellInfo, Places
from feeds.sim.reports import CASES_PER_DAY, Reports
from feeds.sim.scenarios import ActiveScenario
from feeds.sim.schedule import Schedule, SimCase

__all__ = ["CASES_PER_DAY", "NEXT_STEPS", "CaseModel", "CellInfo", "SimCase"]


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
        self.places = Places(geo, catalogue)
        self.schedule = Schedule()
        self.reports = Reports(catalogue, self.places, self.schedule, cameras_by_cell or {}, per_day)
        self.loop = CaseLoop(catalogue, self.places, self.schedule)

    @property
    def cases(self) -> dict[str, SimCase]:
        """The cases in flight by id."""
        return self.schedule.cases

    @property
    def counter(self) -> int:
        """How many cases were created so far (the last case id's serial number)."""
        return self.schedule.counter

    def on_scenario_start(self, rng: np.random.Generator, sc: ActiveScenario) -> None:
        """Schedule the reports a scenario brings at its start (dispute cluster, power-cut calls)."""
        self.reports.on_scenario_start(rng, sc)

    def on_alarm(
        self, rng: np.random.Generator, metric: str, sensor_id: str, cell: str, sim_s: float
    ) -> None:
        """A sensor crossed its alarm level: often someone reports it (a leak, a flooded street)."""
        self.reports.on_alarm(rng, metric, sensor_id, cell, sim_s)

    def advance(
        self,
        rng: np.random.Generator,
        t0: float,
        t1: float,
        ts_of: Callable[[float], int],
        scenario: ActiveScenario | None = None,
    ) -> list[CaseEvent]:
        """Report this interval's new cases and take every step due in (t0, t1], in time order."""
        self.reports.ordinary(rng, t0, t1)
        self.reports.scenario(rng, t0, t1, scenario)
        return [self.loop.take(rng, case, due, ts_of(due)) for case, due in self.schedule.due(t1)]

    def take_changes(self) -> tuple[dict[str, str], list[str]]:
        """Cases changed since the last call (id -> JSON) and cases finished since then."""
        return self.schedule.take_changes()

    def load(self, rows: Iterable[str], counter: int) -> int:
        """Rebuild the schedule from saved case JSON; return how many cases were loaded."""
        return self.schedule.load(rows, counter, self.reports.type_index, self.places.cells)

    def open_cases(self) -> int:
        """Cases reported and not yet over."""
        return self.schedule.open_cases()
