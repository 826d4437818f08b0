"""How each simulated case walks the closed loop of ``dashboard.domain.lifecycle``, step by step.

reported → registered → dispatched → handled → feedback → verified → closed, with about 5 % cancelled
after report, some returned by the department (and re-dispatched, often to another one), a few
escalated (community → subdistrict → district), a few reopened after a failed check. How long handling
takes depends on the department (``HANDLE_HOURS``; urgent cases within about an hour), so that slow
departments run past the SLA now and then. Each step taken is a contract record (``CaseEvent``) and puts
the case's next step on the schedule (or finishes the case).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TypeAlias

import numpy as np

from dashboard.domain.catalogue import Catalogue, EventType
from dashboard.domain.sla import SlaConfig
from dashboard.store.records import CaseEvent
from feeds.sim import clock, notes
from feeds.sim.places import Places
from feeds.sim.schedule import Schedule, SimCase

MINUTE_S = 60.0

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

Rng: TypeAlias = np.random.Generator
StepFn: TypeAlias = Callable[[Rng, SimCase, float, int, str], CaseEvent]
"""One step taken: (rng, case, simulated time, wall-clock ms, remark) -> its record."""


def _lognormal(rng: Rng, median: float, sigma: float) -> float:
    """A lognormal draw with the given median."""
    return float(median * math.exp(sigma * rng.standard_normal()))


def _alternatives(types: Sequence[EventType]) -> dict[str, list[str]]:
    """Per type, the other departments a returned case may go to (same subcategory, then category)."""
    out: dict[str, list[str]] = {}
    for t in types:
        same_sub = sorted(
            {u.department for u in types if u.subcategory_en == t.subcategory_en} - {t.department}
        )
        same_cat = sorted({u.department for u in types if u.category == t.category} - {t.department})
        out[t.code] = same_sub or same_cat
    return out


class CaseLoop:
    """Takes each case's due step and schedules the one after it."""

    def __init__(self, catalogue: Catalogue, places: Places, schedule: Schedule) -> None:
        """Bind to the catalogue, the cells and the schedule the steps go on."""
        self.cat = catalogue
        self.places = places
        self.schedule = schedule
        self.sla = SlaConfig()
        self.alternatives = _alternatives(list(catalogue.event_types.values()))
        self._steps: dict[str, StepFn] = {
            "reported": self._reported,
            "cancelled": self._cancelled,
            "registered": self._registered,
            "dispatched": self._dispatched,
            "returned": self._returned,
            "escalated": self._escalated,
            "handled": self._handled,
            "feedback": self._feedback,
            "reopened": self._reopened,
            "verified": self._verified,
        }

    def take(self, rng: Rng, case: SimCase, t: float, ts: int) -> CaseEvent:
        """Emit ``case.next`` at ``t`` and schedule the step after it (or finish the case)."""
        step = case.next
        remark = notes.step_note(rng, step) if rng.random() < 0.5 else ""
        return self._steps.get(step, self._closed)(rng, case, t, ts, remark)

    def _event(
        self, case: SimCase, step: str, ts: int, actor: str, note: str = "", dept: str | None = None
    ) -> CaseEvent:
        """The contract record of ``case`` taking ``step``."""
        et = self.cat.event_types[case.type]
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

    def _centre(self, case: SimCase) -> str:
        """The command centre acting on ``case`` at its escalation level."""
        return self.places.centre(case.level, case.cell)

    def _dept(self, case: SimCase) -> str:
        """The name of the body ``case`` is with now."""
        return self.places.dept_name(case.dept, case.cell)

    # --- the steps ------------------------------------------------------------------------------------

    def _reported(self, rng: Rng, case: SimCase, t: float, ts: int, remark: str) -> CaseEvent:
        """Reported: registered after a while (hotline calls later), or now and then cancelled."""
        ev = self._event(case, "reported", ts, case.reporter, case.note)
        if rng.random() < CANCEL_SHARE:
            self.schedule.push(case, "cancelled", t + rng.uniform(5, 40) * MINUTE_S)
        else:
            urgent = case.priority == "urgent"
            delay = _lognormal(rng, 4 if urgent else 10, 0.5 if urgent else 0.8)
            hotline = 5 if case.channel == "hotline" else 0
            self.schedule.push(case, "registered", t + (delay + hotline) * MINUTE_S)
        return ev

    def _cancelled(self, rng: Rng, case: SimCase, t: float, ts: int, remark: str) -> CaseEvent:
        """Cancelled by the centre: the case is over."""
        self.schedule.finish(case)
        return self._event(case, "cancelled", ts, self._centre(case), notes.step_note(rng, "cancelled"))

    def _registered(self, rng: Rng, case: SimCase, t: float, ts: int, remark: str) -> CaseEvent:
        """Registered by the centre: dispatched after a while."""
        urgent = case.priority == "urgent"
        delay = _lognormal(rng, 3 if urgent else 8, 0.5 if urgent else 0.7)
        self.schedule.push(case, "dispatched", t + delay * MINUTE_S)
        return self._event(case, "registered", ts, self._centre(case))

    def _dispatched(self, rng: Rng, case: SimCase, t: float, ts: int, remark: str) -> CaseEvent:
        """Dispatched to its department (the type's, on the first dispatch) with the SLA's deadline."""
        if not case.dept:
            case.dept = self.cat.event_types[case.type].department
        ev = self._event(case, "dispatched", ts, self._centre(case), self._deadline_note(case), case.dept)
        self._after_dispatch(rng, case, t)
        return ev

    def _returned(self, rng: Rng, case: SimCase, t: float, ts: int, remark: str) -> CaseEvent:
        """Returned by the department: re-dispatched, often to another one."""
        ev = self._event(case, "returned", ts, self._dept(case), notes.step_note(rng, "returned"), case.dept)
        alts = self.alternatives.get(case.type) or []
        if alts and rng.random() < 0.6:
            case.dept = alts[int(rng.integers(len(alts)))]
        self.schedule.push(case, "dispatched", t + rng.uniform(10, 60) * MINUTE_S)
        return ev

    def _escalated(self, rng: Rng, case: SimCase, t: float, ts: int, remark: str) -> CaseEvent:
        """Escalated a level (community → subdistrict → district), to a body of that level."""
        actor = self.places.dept_name("local_community", case.cell) if case.level == 0 else self._centre(case)
        ev = self._event(case, "escalated", ts, actor, notes.step_note(rng, "escalated"), case.dept)
        case.level += 1
        if case.level == 1 and case.dept == "local_community":
            case.dept = "local_town"
        elif case.level == 2 and case.dept in ("local_community", "local_town"):
            alts = [d for d in self.alternatives.get(case.type, []) if not d.startswith("local_")]
            category = self.cat.event_types[case.type].category
            case.dept = alts[int(rng.integers(len(alts)))] if alts else CATEGORY_FALLBACK[category]
        self.schedule.push(case, "dispatched", t + _lognormal(rng, 30, 0.5) * MINUTE_S)
        return ev

    def _handled(self, rng: Rng, case: SimCase, t: float, ts: int, remark: str) -> CaseEvent:
        """Handled by the department: its feedback follows."""
        ev = self._event(case, "handled", ts, self._dept(case), remark, case.dept)
        urgent = case.priority == "urgent"
        self.schedule.push(case, "feedback", t + _lognormal(rng, 8 if urgent else 20, 0.8) * MINUTE_S)
        return ev

    def _feedback(self, rng: Rng, case: SimCase, t: float, ts: int, remark: str) -> CaseEvent:
        """The department's feedback: checked on site, or closed by phone."""
        ev = self._event(case, "feedback", ts, self._dept(case), remark, case.dept)
        self._after_feedback(rng, case, t)
        return ev

    def _reopened(self, rng: Rng, case: SimCase, t: float, ts: int, remark: str) -> CaseEvent:
        """Found not fixed by the grid worker: handled again (in about half the time)."""
        worker = self.places.grid_worker(rng, case.cell)
        ev = self._event(case, "reopened", ts, worker, notes.step_note(rng, "reopened"), case.dept)
        case.reopens += 1
        self.schedule.push(case, "handled", self._work_hours(rng, case, t + 0.5 * self._handle_s(rng, case)))
        return ev

    def _verified(self, rng: Rng, case: SimCase, t: float, ts: int, remark: str) -> CaseEvent:
        """Checked on site by the grid worker: closed after a while."""
        worker = self.places.grid_worker(rng, case.cell)
        ev = self._event(case, "verified", ts, worker, notes.step_note(rng, "verified"), case.dept)
        self.schedule.push(case, "closed", t + _lognormal(rng, 10, 0.6) * MINUTE_S)
        return ev

    def _closed(self, rng: Rng, case: SimCase, t: float, ts: int, remark: str) -> CaseEvent:
        """Closed by the centre: the case is over."""
        self.schedule.finish(case)
        return self._event(case, "closed", ts, self._centre(case), "", case.dept)

    # --- what comes next, and when -------------------------------------------------------------------

    def _after_dispatch(self, rng: Rng, case: SimCase, t: float) -> None:
        """Handled after the department's time, or returned, or escalated."""
        u = rng.random()
        p_ret = RETURN_SHARE.get(case.dept, RETURN_DEFAULT) if case.returns < 2 else 0.0
        p_esc = ESCALATE_SHARE.get(case.dept, ESCALATE_DEFAULT) if case.level < 2 else 0.0
        if u < p_ret:
            case.returns += 1
            self.schedule.push(case, "returned", t + _lognormal(rng, 2.0, 0.7) * 3600.0)
        elif u < p_ret + p_esc:
            self.schedule.push(case, "escalated", t + _lognormal(rng, 6.0, 0.6) * 3600.0)
        else:
            self.schedule.push(case, "handled", self._work_hours(rng, case, t + self._handle_s(rng, case)))

    def _after_feedback(self, rng: Rng, case: SimCase, t: float) -> None:
        """Checked on site by the grid worker (and now and then found not fixed), or closed by phone."""
        urgent = case.priority == "urgent"
        check = t + _lognormal(rng, 0.7 if urgent else 3.0, 0.8) * 3600.0
        if not urgent:
            check = self._patrol_hours(rng, check)
        if case.channel == "hotline" and rng.random() < HOTLINE_CLOSE_ON_FEEDBACK:
            self.schedule.push(case, "closed", t + _lognormal(rng, 40, 0.7) * 60.0)
        elif case.reopens < len(REOPEN_SHARE) and rng.random() < REOPEN_SHARE[case.reopens]:
            self.schedule.push(case, "reopened", check)
        else:
            self.schedule.push(case, "verified", check)

    def _handle_s(self, rng: Rng, case: SimCase) -> float:
        """How long the department takes to handle the case (simulated seconds)."""
        median_h = HANDLE_HOURS.get(case.dept, 12.0)
        if case.priority == "urgent":
            urgent_h = min(max(median_h * URGENT_FACTOR, 0.5), 1.2)
            return max(900.0, _lognormal(rng, urgent_h, 0.5) * 3600.0)
        return max(1800.0, _lognormal(rng, median_h, HANDLE_SIGMA) * 3600.0)

    def _work_hours(self, rng: Rng, case: SimCase, due: float) -> float:
        """Ordinary cases of day-time departments are not handled at night: move them to the morning."""
        if case.priority == "urgent" or case.dept in ROUND_THE_CLOCK:
            return due
        h = clock.local_hour(due)
        if 8.0 <= h < 20.0:
            return due
        morning = clock.local_day_start(due) + (8 * 3600.0 if h < 8.0 else 32 * 3600.0)
        return morning + _lognormal(rng, 1.5, 0.6) * 3600.0

    @staticmethod
    def _patrol_hours(rng: Rng, due: float) -> float:
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
        return f"请{self._dept(case)}于{limit}内处置并反馈"
