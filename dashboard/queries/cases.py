"""One case for its page: the record the processor keeps, and its timeline as the processor judged it."""

from __future__ import annotations

from dataclasses import dataclass

from dashboard.store.cases import CaseState, read_case

__all__ = ["CaseState", "TimelineRow", "read_case", "timeline"]


@dataclass(frozen=True)
class TimelineRow:
    """One event of a case as the timeline shows it, with the stage it opened measured against its SLA."""

    ts: int
    step: str
    department: str | None
    actor: str | None
    note: str
    applied: bool  # False: the lifecycle refused it (an illegal transition), it changed nothing
    stage: str | None = None  # the stage this step started, if it started one
    spent_ms: int | None = None  # time in that stage (until the next stage, or until now)
    limit_ms: int | None = None  # time the SLA allowed (deadline - start)
    late: bool = False
    ongoing: bool = False


def timeline(st: CaseState, now: int) -> list[TimelineRow]:
    """Every event of the case in order; a step that started a stage carries that stage's time in it and
    its SLA (the stages and deadlines the processor stored: nothing is re-folded or re-judged here)."""
    started = {sp[0]: sp for sp in st.spans}
    held = set(st.held)
    out = []
    for ts, _seq, event_id, step, dept, actor, _prio, note in st.events:
        row = TimelineRow(ts, step, dept, actor, note or "", event_id not in held)
        sp = started.get(event_id) if row.applied else None
        if sp is not None:
            _, stage, entered, exited, due = sp
            until = exited if exited is not None else now
            row = TimelineRow(
                ts, step, dept, actor, note or "", True, stage, until - entered, due - entered, until > due,
                exited is None,
            )  # fmt: skip
        out.append(row)
    return out
