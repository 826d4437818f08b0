"""What rules evaluate: a read-only view of the engine's windows and aggregates, and the areas.

The engine keeps these up to date from the input streams; rules only read them (``Inputs``), so
``evaluate`` stays a pure function of (rule, inputs, now). Tests build them by hand.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from dashboard.domain.registry import METRIC_BY_NAME, Registry

AreaLevel: TypeAlias = Literal["cell", "community", "subdistrict", "district"]
AREA_LEVELS: tuple[AreaLevel, ...] = ("cell", "community", "subdistrict", "district")


@dataclass(frozen=True)
class CellPlace:
    """Where a grid cell is: its community and subdistrict, and its tags (low_lying, old_town...)."""

    community: str | None
    subdistrict: str | None
    tags: frozenset[str] = frozenset()


class Areas:
    """The area hierarchy as rules need it: each cell's path up to the district, and its tags."""

    def __init__(self, district: str, cells: Mapping[str, CellPlace]) -> None:
        """``district``: the district's id; ``cells``: every cell's place."""
        self.district = district
        self.cells = dict(cells)
        self.level: dict[str, AreaLevel] = {district: "district"}
        self.members: dict[str, set[str]] = {district: set(self.cells)}
        for cell, place in self.cells.items():
            self.level[cell] = "cell"
            self.members.setdefault(cell, set()).add(cell)
            if place.community:
                self.level[place.community] = "community"
                self.members.setdefault(place.community, set()).add(cell)
            if place.subdistrict:
                self.level[place.subdistrict] = "subdistrict"
                self.members.setdefault(place.subdistrict, set()).add(cell)
        self.tags: frozenset[str] = frozenset(t for p in self.cells.values() for t in p.tags)
        self._paths: dict[str, tuple[str, ...]] = {}

    @classmethod
    def from_geography(cls, geo: Any) -> Areas:
        """The areas of a loaded ``dashboard.domain.geo.Geography``."""
        cells = {}
        for cell in geo.cells.values():
            community = geo.communities.get(cell.parent_id)
            cells[cell.id] = CellPlace(
                cell.parent_id, community.parent_id if community else None, frozenset(cell.tags)
            )
        return cls(geo.district.id, cells)

    def path(self, cell: str) -> tuple[str, ...]:
        """The cell and the areas above it: (cell, community, subdistrict, district) as known."""
        p = self._paths.get(cell)
        if p is None:
            place = self.cells.get(cell)
            parts = [cell]
            if place is not None:
                parts += [a for a in (place.community, place.subdistrict) if a]
            parts.append(self.district)
            p = self._paths[cell] = tuple(parts)
        return p

    def area_path(self, area: str) -> tuple[str, ...]:
        """An area and the areas above it (an unknown id stands alone)."""
        if area in self.cells or area not in self.members:
            return self.path(area) if area in self.cells else (area,)
        if area == self.district:
            return (area,)
        cell = next(iter(self.members[area]))
        p = self.path(cell)
        return p[p.index(area) :]

    def of(self, cell: str, level: AreaLevel) -> str | None:
        """The area of ``level`` that holds ``cell`` (None for an unknown cell above cell level)."""
        if level == "cell":
            return cell
        if level == "district":
            return self.district
        place = self.cells.get(cell)
        if place is None:
            return None
        return place.community if level == "community" else place.subdistrict

    def within(self, cell: str, area: str | None, tags: Iterable[str] = ()) -> bool:
        """Whether ``cell`` is inside ``area`` (None: anywhere) and has one of ``tags`` (none: any)."""
        if area is not None and area not in self.path(cell):
            return False
        wanted = frozenset(tags)
        if wanted:
            place = self.cells.get(cell)
            return place is not None and bool(place.tags & wanted)
        return True


@dataclass(frozen=True)
class SensorInfo:
    """What the engine knows of a sensor: from the registry, or from its readings if unregistered."""

    id: str
    metric: str
    cell: str
    interval_s: int
    warn: float
    alarm: float

    @classmethod
    def of_registry(cls, registry: Registry) -> dict[str, SensorInfo]:
        """Every registered sensor."""
        return {
            s.id: cls(s.id, s.metric, s.cell_id, s.interval_s, s.thresholds.warn, s.thresholds.alarm)
            for s in registry.sensors.values()
        }

    @classmethod
    def unregistered(cls, sensor_id: str, metric: str, cell: str) -> SensorInfo:
        """A sensor known only from a reading: its metric's default interval and thresholds."""
        spec = METRIC_BY_NAME.get(metric)
        if spec is None:
            return cls(sensor_id, metric, cell, 60, float("inf"), float("inf"))
        return cls(sensor_id, metric, cell, spec.interval_s, spec.warn, spec.alarm)


@dataclass(frozen=True)
class Sample:
    """A sensor's latest reading."""

    ts: int
    value: float


@dataclass(frozen=True)
class CaseSeen:
    """A case event as rate rules count it."""

    ts: int
    event_id: str
    case_id: str
    cell: str
    category: str
    event_type: str
    step: str
    priority: str


@dataclass(frozen=True)
class OverdueCase:
    """A case past its current stage's deadline (from the processor's overdue stream)."""

    case_id: str
    cell: str
    priority: str
    stage: str
    since: int  # its deadline (epoch ms)


@dataclass(frozen=True)
class FeedBeat:
    """A feed's health: its last heartbeat and last record (None: never)."""

    heartbeat_ms: int | None
    last_record_ms: int | None


@dataclass
class CameraCount:
    """Cameras of one cell by status."""

    online: int = 0
    offline: int = 0
    fault: int = 0

    def add(self, status: str, n: int) -> None:
        """Count ``n`` more (or fewer) cameras in ``status``."""
        setattr(self, status, getattr(self, status) + n)

    def total(self) -> int:
        """Cameras with a known status."""
        return self.online + self.offline + self.fault


class EventWindow:
    """Case events of the last hours in time order, each event id once (at-least-once input)."""

    def __init__(self) -> None:
        """An empty window."""
        self.items: list[CaseSeen] = []
        self._ts: list[int] = []
        self.ids: set[str] = set()

    def add(self, ev: CaseSeen) -> bool:
        """Insert ``ev`` in time order; False when its event id is already in."""
        if ev.event_id in self.ids:
            return False
        i = bisect.bisect_right(self._ts, ev.ts)
        self._ts.insert(i, ev.ts)
        self.items.insert(i, ev)
        self.ids.add(ev.event_id)
        return True

    def trim(self, before: int) -> list[CaseSeen]:
        """Drop the events older than ``before``; return them."""
        i = bisect.bisect_left(self._ts, before)
        gone = self.items[:i]
        del self.items[:i], self._ts[:i]
        for ev in gone:
            self.ids.discard(ev.event_id)
        return gone

    def since(self, start: int, end: int | None = None) -> Sequence[CaseSeen]:
        """The events with ``start <= ts`` (and ``ts <= end``), oldest first."""
        i = bisect.bisect_left(self._ts, start)
        j = len(self._ts) if end is None else bisect.bisect_right(self._ts, end)
        return self.items[i:j]

    def __len__(self) -> int:
        """Events held."""
        return len(self.items)


@dataclass
class Inputs:
    """Everything a rule may read, as of the last applied batch (rules never change it)."""

    areas: Areas
    sensors: Mapping[str, SensorInfo] = field(default_factory=dict)
    samples: Mapping[str, Sample] = field(default_factory=dict)
    events: EventWindow = field(default_factory=EventWindow)
    cameras: Mapping[str, CameraCount] = field(default_factory=dict)  # by cell
    overdue: Mapping[str, OverdueCase] = field(default_factory=dict)
    feeds: Mapping[str, FeedBeat] = field(default_factory=dict)
    watch_since: int = 0  # when the engine began watching: "silent since" for what never reported
    scale: float = 1.0  # the engine's time scale (rule durations are divided by it)
    reopen_s: float = 600.0  # the engine's re-open window (rules may set their own)
    by_metric: dict[str, list[SensorInfo]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Index the sensors by metric."""
        self.reindex()

    def reindex(self) -> None:
        """Rebuild the by-metric index after sensors were added."""
        by: dict[str, list[SensorInfo]] = {}
        for info in self.sensors.values():
            by.setdefault(info.metric, []).append(info)
        self.by_metric = by
