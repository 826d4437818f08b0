"""The case lifecycle (the closed loop) as an explicit state machine: pure functions, no I/O.

A case's state is the fold of its events in (time, seq, event_id) order. Events may arrive late, out of
order or twice: ``fold`` sorts and de-duplicates, so the result is the same as if they had come in
order, once. An event whose step is not legal from the state it meets is rejected with a reason and
changes nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Final, Literal, NamedTuple, TypeAlias, get_args

CaseStep: TypeAlias = Literal[
    "reported",
    "registered",
    "cancelled",
    "dispatched",
    "returned",
    "handled",
    "feedback",
    "verified",
    "closed",
    "reopened",
    "escalated",
]
CASE_STEPS: Final[tuple[CaseStep, ...]] = get_args(CaseStep)

State: TypeAlias = CaseStep  # a case is in the state its last applied step names
Stage: TypeAlias = Literal["registration", "dispatch", "handle", "feedback", "verify"]
Level: TypeAlias = Literal["community", "subdistrict", "district"]
LEVELS: Final[tuple[Level, ...]] = ("community", "subdistrict", "district")

#: The legal transitions: from a state (None = a case not seen yet) to the steps allowed next.
TRANSITIONS: Final[Mapping[State | None, frozenset[str]]] = {
    None: frozenset({"reported"}),
    "reported": frozenset({"registered", "cancelled", "escalated"}),
    "registered": frozenset({"dispatched", "cancelled", "escalated"}),
    "escalated": frozenset({"dispatched", "cancelled", "escalated"}),
    "dispatched": frozenset({"handled", "returned", "escalated"}),
    "returned": frozenset({"dispatched", "cancelled", "escalated"}),
    "reopened": frozenset({"handled", "returned", "escalated"}),
    "handled": frozenset({"feedback"}),
    "feedback": frozenset({"verified", "closed", "reopened"}),
    "verified": frozenset({"closed"}),
    "closed": frozenset(),
    "cancelled": frozenset(),
}
TERMINAL: Final[frozenset[str]] = frozenset({"closed", "cancelled"})

#: The stage a case is in (and whose SLA clock runs) while in each open state.
STAGE_OF: Final[Mapping[str, Stage]] = {
    "reported": "registration",
    "registered": "dispatch",
    "escalated": "dispatch",
    "returned": "dispatch",
    "dispatched": "handle",
    "reopened": "handle",
    "handled": "feedback",
    "feedback": "verify",
    "verified": "verify",
}
STAGES: Final[tuple[Stage, ...]] = ("registration", "dispatch", "handle", "feedback", "verify")
#: Steps that restart the clock of the stage they lead to (even the same stage).
RESTART_STEPS: Final[frozenset[str]] = frozenset({"returned", "reopened", "escalated"})


@dataclass(frozen=True, order=True)
class Step:
    """One case event as the lifecycle sees it; ordered by (ts, seq, event_id)."""

    ts: int
    seq: int
    event_id: str
    step: str
    department: str | None = None
    actor: str | None = None
    priority: str = "normal"


@dataclass(frozen=True)
class Case:
    """The state of one case after a fold of its events."""

    case_id: str
    state: State
    reported_ts: int
    updated_ts: int
    stage_since: int
    priority: str = "normal"
    department: str | None = None
    level: Level = "community"
    returns: int = 0
    escalations: int = 0
    reopens: int = 0
    closed_ts: int | None = None
    applied: tuple[Step, ...] = field(default=(), repr=False)

    @property
    def open(self) -> bool:
        """True until the case is closed or cancelled."""
        return self.state not in TERMINAL

    @property
    def stage(self) -> Stage | None:
        """The stage whose SLA clock runs now (None when the case is over)."""
        return STAGE_OF.get(self.state)

    @functools.cached_property
    def spans(self) -> tuple[Span, ...]:
        """The case's stages in order (``spans``), worked out once per fold: the processor reads them
        for the counters and the stored record, and keeps recent folds."""
        return tuple(_spans_of(self.applied))


@dataclass(frozen=True)
class Rejected:
    """An event the lifecycle refused, and why."""

    event_id: str
    step: str
    reason: str


def apply(case: Case | None, case_id: str, ev: Step) -> Case | Rejected:
    """One transition: the case after ``ev``, or why ``ev`` is not legal now."""
    state: State | None = case.state if case is not None else None
    allowed = TRANSITIONS[state]
    if ev.step not in allowed:
        where = f"from {state}" if state is not None else "for a case not yet reported"
        legal = ", ".join(sorted(allowed)) or "nothing (the case is over)"
        return Rejected(ev.event_id, ev.step, f"illegal transition: {ev.step} {where}; legal: {legal}")
    step: State = ev.step  # type: ignore[assignment]
    if case is None:
        return Case(
            case_id=case_id,
            state=step,
            reported_ts=ev.ts,
            updated_ts=ev.ts,
            stage_since=ev.ts,
            priority=ev.priority,
            department=ev.department,
            applied=(ev,),
        )
    if step == "escalated" and case.level == "district":
        return Rejected(ev.event_id, ev.step, "illegal transition: escalated beyond the district level")
    changed_stage = STAGE_OF.get(step) != case.stage or step in RESTART_STEPS
    return replace(
        case,
        state=step,
        updated_ts=max(case.updated_ts, ev.ts),
        stage_since=ev.ts if changed_stage else case.stage_since,
        priority="urgent" if ev.priority == "urgent" else case.priority,
        department=ev.department or case.department,
        level=LEVELS[LEVELS.index(case.level) + 1] if step == "escalated" else case.level,
        returns=case.returns + (step == "returned"),
        escalations=case.escalations + (step == "escalated"),
        reopens=case.reopens + (step == "reopened"),
        closed_ts=ev.ts if step in TERMINAL else None,
        applied=(*case.applied, ev),
    )


def fold(case_id: str, events: Iterable[Step]) -> tuple[Case | None, list[Rejected]]:
    """The case from all its events: sorted by (ts, seq, event_id), each event id once.

    Equivalent to applying ``apply`` event by event (the tests check it), written as one loop over
    local variables because the processor folds every case it touches.
    """
    by_id: dict[str, Step] = {}
    for ev in events:
        by_id.setdefault(ev.event_id, ev)
    ordered = sorted(by_id.values())
    rejected: list[Rejected] = []
    state: State | None = None
    reported_ts = updated_ts = stage_since = 0
    priority = "normal"
    department: str | None = None
    level_i = returns = escalations = reopens = 0
    closed_ts: int | None = None
    applied: list[Step] = []
    for ev in ordered:
        step = ev.step
        if step not in TRANSITIONS[state] or (step == "escalated" and level_i == len(LEVELS) - 1):
            out = apply(_as_case(case_id, state, reported_ts, stage_since, level_i), case_id, ev)
            assert isinstance(out, Rejected)
            rejected.append(out)
            continue
        if state is None:
            reported_ts = updated_ts = stage_since = ev.ts
            priority = ev.priority
            department = ev.department
        else:
            restart = step in RESTART_STEPS
            if restart or STAGE_OF.get(step) != STAGE_OF.get(state):
                stage_since = ev.ts
            updated_ts = max(updated_ts, ev.ts)
            if ev.priority == "urgent":
                priority = "urgent"
            department = ev.department or department
            if step == "escalated":
                level_i += 1
                escalations += 1
            returns += step == "returned"
            reopens += step == "reopened"
        closed_ts = ev.ts if step in TERMINAL else None
        state = step  # type: ignore[assignment]
        applied.append(ev)
    if state is None:
        return None, rejected
    case = Case(
        case_id=case_id,
        state=state,
        reported_ts=reported_ts,
        updated_ts=updated_ts,
        stage_since=stage_since,
        priority=priority,
        department=department,
        level=LEVELS[level_i],
        returns=returns,
        escalations=escalations,
        reopens=reopens,
        closed_ts=closed_ts,
        applied=tuple(applied),
    )
    return case, rejected


def _as_case(case_id: str, state: State | None, reported: int, since: int, level_i: int) -> Case | None:
    """A minimal case in ``state`` (for wording a rejection exactly as ``apply`` does)."""
    if state is None:
        return None
    return Case(case_id, state, reported, reported, since, level=LEVELS[level_i])


class Span(NamedTuple):
    """A stage a case was or is in: from the event that started it until the one that ended it (a
    named tuple: a fold makes several per case, on the processor's hot path)."""

    event_id: str  # the event that started it
    stage: Stage
    entered: int
    exited: int | None  # None: the case is in it now
    urgent: bool  # the case was urgent before it left the stage (the priority its SLA is judged by)


def spans(case: Case) -> tuple[Span, ...]:
    """The stages of a case in order: a stage starts when the state's stage changes (or on a return,
    reopen or escalation, which restart the clock) and ends at the next start or at a closing step."""
    return case.spans


def _spans_of(applied: Iterable[Step]) -> list[Span]:
    """The stages of the applied steps (``spans``)."""
    out: list[Span] = []
    stage: Stage | None = None
    entered, started_by, urgent = 0, "", False
    for ev in applied:
        new_stage = STAGE_OF.get(ev.step)
        restart = ev.step in RESTART_STEPS
        if stage is not None and (new_stage != stage or restart):
            out.append(Span(started_by, stage, entered, ev.ts, urgent))
        urgent = urgent or ev.priority == "urgent"
        if new_stage != stage or restart:
            entered, started_by = ev.ts, ev.event_id
        stage = new_stage
    if stage is not None:
        out.append(Span(started_by, stage, entered, None, urgent))
    return out
