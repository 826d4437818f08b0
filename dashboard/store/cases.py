"""The case record: one case as the processor keeps it in the case index, and reading it back."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dashboard.domain import counters
from dashboard.domain.lifecycle import Case, Step, fold
from dashboard.store import keys


@dataclass
class CaseState:
    """One case as stored in the case index (a JSON value of ``keys.CASE_INDEX``).

    The first fields are the case's summary (Open311 and pages read them); ``events`` holds every
    event accepted for the case, applied or held as illegal (``held``), so a late event can re-fold it;
    ``spans`` are its stages with their deadlines, as the processor judged them (the case page shows
    them; ``dashboard.domain.lifecycle.spans``).
    """

    cell: str
    step: str
    ts: int
    open: bool
    event_type: str = ""
    category: str = ""
    department: str | None = None
    priority: str = "normal"
    source: str = ""
    reported_ts: int = 0
    closed_ts: int | None = None
    lon: float | None = None
    lat: float | None = None
    description: str = ""
    photos: list[str] = field(default_factory=list)
    stage: str | None = None
    stage_since: int = 0
    deadline: int | None = None
    overdue: bool = False
    level: str = "community"
    returns: int = 0
    escalations: int = 0
    reopens: int = 0
    valid: bool = True
    events: list[list[Any]] = field(default_factory=list)  # [ts, seq, id, step, dept, actor, prio, note]
    spans: list[list[Any]] = field(default_factory=list)  # [started by, stage, entered, exited, deadline]
    held: list[str] = field(default_factory=list)  # the ids of events the lifecycle refused
    stale: bool = False  # open but untouched for processor.idle_case_days: out of the live counters

    def to_json(self) -> str:
        """Compact JSON for the case index."""
        return json.dumps({f: getattr(self, f) for f in _FIELDS}, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> CaseState:
        """Parse the case index's JSON (older entries may lack later fields)."""
        d = json.loads(raw)
        return cls(**{k: v for k, v in d.items() if k in _FIELDS})

    def steps(self) -> list[Step]:
        """The case's events as lifecycle steps."""
        return [
            Step(ts=e[0], seq=e[1], event_id=e[2], step=e[3], department=e[4], actor=e[5], priority=e[6])
            for e in self.events
        ]

    def summary(
        self, places: Mapping[str, counters.Place], case: Case | None = None
    ) -> counters.Summary | None:
        """What this case contributes through (None for a case with no legal report yet).

        ``case`` is this record's fold when the caller has it already.
        """
        if not self.valid:
            return None
        if case is None:
            case, _ = fold("", self.steps())
        if case is None:
            return None
        return counters.Summary(
            case=case,
            place=places.get(self.cell) or counters.Place(self.cell, None, None),
            category=self.category,
            overdue=self.overdue,
            deadline=self.deadline,
            stale=self.stale,
        )


_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(CaseState))


def read_case(client: Any, case_id: str) -> CaseState | None:
    """One case's record (None when the index does not hold it, or it is unreadable)."""
    raw = client.hget(keys.CASE_INDEX, case_id)
    if raw is None:
        return None
    try:
        return CaseState.from_json(raw)
    except (ValueError, TypeError):
        return None


def read_cases(client: Any, case_ids: Iterable[str]) -> dict[str, CaseState]:
    """The records of the cases the index holds, by id (one HMGET)."""
    ids = list(case_ids)
    if not ids:
        return {}
    out = {}
    for case_id, raw in zip(ids, client.hmget(keys.CASE_INDEX, ids), strict=True):
        if raw is not None:
            out[case_id] = CaseState.from_json(raw)
    return out
