"""The simulated cases in flight and their schedule: a heap of due times in simulated seconds.

Each case has one next step, due at a time; rescheduling a case supersedes its earlier heap entry. The
schedule also notes which cases changed or finished since it was last saved, and rebuilds itself from
the saved form after a restart.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Container, Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any


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


class Schedule:
    """The cases in flight by id, each one's next step on a heap of due times, and what changed."""

    def __init__(self) -> None:
        """An empty schedule."""
        self.heap: list[tuple[float, int, str]] = []
        self.cases: dict[str, SimCase] = {}
        self.counter = 0  # cases created so far (their ids' serial numbers)
        self._order = 0
        self.dirty: set[str] = set()
        self.finished: set[str] = set()

    def push(self, case: SimCase, step: str, due: float) -> None:
        """Put ``case``'s next step on the schedule."""
        case.next = step
        case.due = due
        self._order += 1
        self.cases[case.id] = case
        self.dirty.add(case.id)
        heapq.heappush(self.heap, (due, self._order, case.id))

    def due(self, until: float) -> Iterator[tuple[SimCase, float]]:
        """Each case whose next step is due by ``until``, in time order, with its due time.

        Lazy: a step the caller schedules meanwhile is yielded too when it is due by ``until``.
        """
        heap = self.heap
        while heap and heap[0][0] <= until:
            due, _, cid = heapq.heappop(heap)
            case = self.cases.get(cid)
            if case is None or case.due != due:
                continue  # superseded entry
            yield case, due

    def finish(self, case: SimCase) -> None:
        """The case is over: forget it (the saved schedule drops it at the next flush)."""
        self.cases.pop(case.id, None)
        self.dirty.discard(case.id)
        self.finished.add(case.id)

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

    def load(self, rows: Iterable[str], counter: int, types: Container[str], cells: Container[str]) -> int:
        """Rebuild from saved case JSON (cases of known ``types`` and ``cells``); return how many loaded."""
        self.counter = max(self.counter, counter)
        n = 0
        for raw in rows:
            d = json.loads(raw)
            if d.get("type") not in types or d.get("cell") not in cells:
                continue
            case = SimCase(**d)
            self.push(case, case.next, case.due)
            n += 1
        self.dirty = set()
        return n

    def open_cases(self) -> int:
        """Cases reported and not yet over."""
        return sum(1 for case in self.cases.values() if case.seq > 0)
