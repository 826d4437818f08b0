"""The closed loop as a state machine: every legal and illegal transition, and order-independence."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.domain.lifecycle import CASE_STEPS, TRANSITIONS, Case, Rejected, Step, apply, fold

STATES = [s for s in TRANSITIONS if s is not None]


def steps(*names: str, start: int = 0) -> list[Step]:
    return [Step(ts=start + i * 1000, seq=i, event_id=f"e{i}", step=n) for i, n in enumerate(names)]


def case_in(state: str) -> Case:
    """A case that has reached ``state`` by a legal path."""
    paths = {
        "reported": ["reported"],
        "registered": ["reported", "registered"],
        "escalated": ["reported", "escalated"],
        "dispatched": ["reported", "registered", "dispatched"],
        "returned": ["reported", "registered", "dispatched", "returned"],
        "handled": ["reported", "registered", "dispatched", "handled"],
        "feedback": ["reported", "registered", "dispatched", "handled", "feedback"],
        "reopened": ["reported", "registered", "dispatched", "handled", "feedback", "reopened"],
        "verified": ["reported", "registered", "dispatched", "handled", "feedback", "verified"],
        "closed": ["reported", "registered", "dispatched", "handled", "feedback", "verified", "closed"],
        "cancelled": ["reported", "cancelled"],
    }
    c, rejected = fold("C", steps(*paths[state]))
    assert c is not None and not rejected and c.state == state
    return c


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("step", CASE_STEPS)
def test_every_transition(state: str, step: str) -> None:
    case = case_in(state)
    out = apply(case, "C", Step(ts=10**7, seq=99, event_id="x", step=step))
    if step in TRANSITIONS[state]:  # type: ignore[index]
        assert isinstance(out, Case) and out.state == step
    else:
        assert isinstance(out, Rejected)
        assert f"{step} from {state}" in out.reason


@pytest.mark.parametrize("step", CASE_STEPS)
def test_only_a_report_opens_a_case(step: str) -> None:
    out = apply(None, "C", Step(ts=1, seq=0, event_id="x", step=step))
    assert isinstance(out, Case) == (step == "reported")


def test_counts_levels_and_clock() -> None:
    c, rej = fold(
        "C",
        steps("reported", "registered", "dispatched", "returned", "dispatched", "escalated", "escalated"),
    )
    assert c is not None and not rej
    assert (c.returns, c.escalations, c.level, c.state) == (1, 2, "district", "escalated")
    assert c.stage == "dispatch" and c.stage_since == 6000
    out = apply(c, "C", Step(ts=10**6, seq=9, event_id="z", step="escalated"))
    assert isinstance(out, Rejected) and "beyond the district" in out.reason


def test_closed_case_is_over() -> None:
    c = case_in("closed")
    assert not c.open and c.stage is None and c.closed_ts == 6000


def test_reopen_returns_to_the_department() -> None:
    c = case_in("reopened")
    assert c.open and c.stage == "handle" and c.reopens == 1


LOOP = ["reported", "registered", "dispatched", "returned", "dispatched", "handled", "feedback", "reopened",
        "handled", "feedback", "verified", "closed"]  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.randoms(use_true_random=False), st.integers(min_value=0, max_value=4))
def test_shuffled_and_duplicated_give_the_same_case(rnd: random.Random, dups: int) -> None:
    events = steps(*LOOP)
    in_order, rej = fold("C", events)
    assert not rej
    mixed = events + [rnd.choice(events) for _ in range(dups)]
    rnd.shuffle(mixed)
    assert fold("C", mixed) == (in_order, [])


def test_equal_times_are_ordered_by_seq() -> None:
    same_time = [
        Step(ts=5, seq=i, event_id=f"e{i}", step=s) for i, s in enumerate(["reported", "registered"])
    ]
    c, rej = fold("C", list(reversed(same_time)))
    assert c is not None and c.state == "registered" and not rej


def test_illegal_event_is_rejected_and_the_rest_applies() -> None:
    c, rej = fold("C", steps("reported", "closed", "registered"))
    assert c is not None and c.state == "registered"
    assert [r.step for r in rej] == ["closed"]


def apply_one_by_one(events: list[Step]) -> tuple[Case | None, list[Rejected]]:
    """The reference: ``apply`` event by event in order."""
    case: Case | None = None
    rejected: list[Rejected] = []
    for ev in sorted({e.event_id: e for e in reversed(events)}.values()):
        out = apply(case, "C", ev)
        if isinstance(out, Rejected):
            rejected.append(out)
        else:
            case = out
    return case, rejected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(CASE_STEPS), max_size=14), st.lists(st.booleans(), min_size=14, max_size=14))
def test_fold_equals_applying_one_by_one(names: list[str], urgent: list[bool]) -> None:
    events = [
        Step(ts=i * 1000, seq=i, event_id=f"e{i}", step=n, priority="urgent" if urgent[i] else "normal",
             department=f"d{i % 3}" if i % 2 else None)
        for i, n in enumerate(["reported", *names][:14])
    ]  # fmt: skip
    assert fold("C", events) == apply_one_by_one(events)
