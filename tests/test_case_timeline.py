"""A case's timeline against its SLAs, as the processor judges it once (``spans`` in the case record) and
the case page shows it (``dashboard.queries.cases.timeline``): nothing re-folded or re-judged by a page."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dashboard.domain.sla import SlaConfig
from dashboard.processor.applier import CaseApplier
from dashboard.queries.cases import timeline
from dashboard.store.cases import CaseState
from dashboard.store.records import CaseEvent

TZ = ZoneInfo("Asia/Shanghai")
MIN = 60_000
T0 = 1_790_000_000_000


def record(*events: tuple[int, str, str | None], now_min: int = 0, priority: str = "normal") -> CaseState:
    """The case record the processor writes for ``events`` (minute offset, step, department)."""
    recs = [
        CaseEvent(
            event_id=f"E-{k}", case_id="C", seq=k, ts=T0 + m * MIN, step=step,  # type: ignore[arg-type]
            event_type="CM-0101", category="city_management", cell_id="ZM-0001", department=dept,
            actor="actor", note=f"note {k}", priority=priority,  # type: ignore[arg-type]
        )
        for k, (m, step, dept) in enumerate(events)
    ]  # fmt: skip
    st, _case, _rejected = CaseApplier(SlaConfig(), TZ, {}).rebuild(None, recs, T0 + now_min * MIN)
    return CaseState.from_json(st.to_json())  # as a page reads it back


@pytest.mark.parametrize(
    ("events", "now_min", "expect"),
    [
        # registration allows 60 min, dispatch 30 min, handling 24 h (natural time by default)
        (
            [(0, "reported", None), (45, "registered", None), (70, "dispatched", "urban_mgmt")],
            100,
            [("registration", 45, False, False), ("dispatch", 25, False, False), ("handle", 30, False, True)],
        ),
        (
            [(0, "reported", None), (90, "registered", None), (200, "dispatched", "urban_mgmt")],
            1700,
            [("registration", 90, True, False), ("dispatch", 110, True, False), ("handle", 1500, True, True)],
        ),
        # a return restarts the dispatch clock; handled -> feedback -> verified -> closed ends the case
        (
            [
                (0, "reported", None),
                (10, "registered", None),
                (20, "dispatched", "fire_rescue"),
                (50, "returned", "fire_rescue"),
                (60, "dispatched", "urban_mgmt"),
                (100, "handled", "urban_mgmt"),
                (130, "feedback", "urban_mgmt"),
                (140, "verified", None),
                (150, "closed", None),
            ],
            5000,
            [
                ("registration", 10, False, False),
                ("dispatch", 10, False, False),
                ("handle", 30, False, False),
                ("dispatch", 10, False, False),
                ("handle", 40, False, False),
                ("feedback", 30, False, False),
                ("verify", 20, False, False),
                None,
                None,
            ],
        ),
    ],
    ids=["in-time", "late-stages", "return-and-close"],
)
def test_timeline_measures_each_stage_against_its_sla(
    events: list[tuple[int, str, str | None]], now_min: int, expect: list[Any]
) -> None:
    rows = timeline(record(*events), T0 + now_min * MIN)
    assert [r.step for r in rows] == [e[1] for e in events]
    got = [
        (r.stage, (r.spent_ms or 0) // MIN, r.late, r.ongoing) if r.stage is not None else None for r in rows
    ]
    assert got == expect


def test_an_urgent_case_is_judged_by_the_urgent_limits() -> None:
    """Registration allows 15 min for an urgent case: 20 min is late (60 min for an ordinary one)."""
    events = [(0, "reported", None), (20, "registered", None)]
    assert [r.late for r in timeline(record(*events, priority="urgent"), T0 + 30 * MIN)][:1] == [True]
    assert [r.late for r in timeline(record(*events), T0 + 30 * MIN)][:1] == [False]
    assert timeline(record(*events, priority="urgent"), T0)[0].limit_ms == 15 * MIN


def test_an_illegal_event_is_shown_but_not_applied() -> None:
    rows = timeline(record((0, "reported", None), (5, "closed", None), (10, "registered", None)), T0)
    assert [(r.step, r.applied) for r in rows] == [
        ("reported", True),
        ("closed", False),
        ("registered", True),
    ]
    assert rows[0].spent_ms == 10 * MIN  # the illegal close did not end the registration stage
