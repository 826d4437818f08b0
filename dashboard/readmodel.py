"""Read models of cases as *contributions*: pure functions from one case record to counter cells.

Every counter the screens show is a sum over cases of what each case contributes to it. When a batch
changes a case, the processor computes the case's contributions before and after and applies the
difference with HINCRBY. So counters from the same events agree by construction (the open cases by
stage add up to the open cases; a department's backlog is the sum of its stages), a re-fold after a
late event corrects every counter it touched, and nothing ever scans all cases.

Keys (all under the ``{cb}`` hash tag; field grammar ``<scope>:<id>`` with scope one of
cell, community, subdistrict, district, dept, cat):
- ``OPEN``: ``<scope>:<id>:<stage>`` -> open cases in that stage;
- ``OVERDUE_N``: ``<scope>:<id>`` -> open cases past their current stage's deadline;
- ``day_key(yyyymmdd)``: ``<step>`` and ``<step>:<scope>:<id>`` -> events that day; ``ontime``/``late``
  (and ``:dept:<id>``) -> cases closed that day within / outside their SLAs; ``dur:<stage>:<bucket>``
  -> stage durations (half-octave minute buckets) for medians. Kept 92 days;
- ``hour_key(yyyymmddhh)``: ``<step>`` and ``<step>:cat:<id>`` -> events that hour. Kept 49 hours;
- ``m5_key(yyyymmddhhmm)``: ``into:<stage>`` -> cases entering a stage in that 5 minutes. Kept 2 hours;
- ``contract.CELL_OPEN`` (cell -> open) and ``contract.COUNTERS`` (``open``, ``overdue``,
  ``<step>:<yyyymmdd>``) for the wall's map and header.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from dashboard import contract as c
from dashboard.config import SlaConfig
from dashboard.lifecycle import STAGE_OF, Case
from dashboard.sla import deadline

OPEN = f"{c.TAG}:rm:open"
OVERDUE_N = f"{c.TAG}:rm:overdue-n"
DEADLINES = f"{c.TAG}:rm:deadlines"  # sorted set case_id -> deadline of its current stage (not yet overdue)
OVERDUE = f"{c.TAG}:rm:overdue"  # sorted set case_id -> deadline (overdue now; smallest = worst)
TICKER = f"{c.TAG}:rm:ticker"  # list of the latest case events (JSON), newest first
TICKER_LEN = 100
STREAM_OVERDUE = f"{c.TAG}:out:overdue"  # a record per case going overdue (feeds the alert rules)
DAY_TTL_S = 92 * 86400
HOUR_TTL_S = 49 * 3600
M5_TTL_S = 2 * 3600
DISTRICT = "all"


def day_key(day: str) -> str:
    """The hash of one local day's counters (yyyymmdd)."""
    return f"{c.TAG}:rm:day:{day}"


def hour_key(hour: str) -> str:
    """The hash of one local hour's counters (yyyymmddhh)."""
    return f"{c.TAG}:rm:hour:{hour}"


def m5_key(slot: str) -> str:
    """The hash of one 5-minute slot's stage entries (yyyymmddhhmm, minute a multiple of 5)."""
    return f"{c.TAG}:rm:m5:{slot}"


Contrib = Counter[tuple[str, str]]


@dataclass(frozen=True)
class Place:
    """Where a case is: its cell and the cell's community and subdistrict."""

    cell: str
    community: str | None
    subdistrict: str | None

    def scopes(self) -> list[tuple[str, str]]:
        """The area scopes this place counts in, from the cell up to the district."""
        out = [("cell", self.cell)]
        if self.community:
            out.append(("community", self.community))
        if self.subdistrict:
            out.append(("subdistrict", self.subdistrict))
        out.append(("district", DISTRICT))
        return out


@dataclass(frozen=True)
class Summary:
    """What a case contributes through: its folded state plus the facts the screens group by."""

    case: Case
    place: Place
    category: str
    overdue: bool
    deadline: int | None


class Clock:
    """Local-time bucketing of epoch-ms times, cached per minute (the processor's hot path)."""

    def __init__(self, tz: ZoneInfo) -> None:
        """Bucket in time zone ``tz``."""
        self.tz = tz
        self._cache: dict[int, str] = {}

    def minute(self, ts: int) -> str:
        """yyyymmddhhmm of the local minute of ``ts``."""
        m = ts // 60_000
        s = self._cache.get(m)
        if s is None:
            if len(self._cache) > 100_000:
                self._cache.clear()
            s = datetime.fromtimestamp(m * 60, self.tz).strftime("%Y%m%d%H%M")
            self._cache[m] = s
        return s


def duration_bucket(ms: int) -> int:
    """Half-octave bucket of a duration: 0 for < 1 min, then 2*log2(minutes) + 1."""
    minutes = ms / 60_000
    return 0 if minutes < 1 else int(2 * math.log2(minutes)) + 1


def bucket_floor_minutes(bucket: int) -> float:
    """The lower bound (minutes) of a duration bucket."""
    return 0.0 if bucket == 0 else 2 ** ((bucket - 1) / 2)


def contributions(s: Summary, sla: SlaConfig, tz: ZoneInfo, clock: Clock | None = None) -> Contrib:
    """Every counter cell this case adds to, and by how much (a pure function of the summary)."""
    clock = clock or Clock(tz)
    case = s.case
    out: Contrib = Counter()
    dept = case.department or "-"
    areas = s.place.scopes()
    groups = [*areas, ("dept", dept), ("cat", s.category)]
    if case.open and case.stage is not None:
        for scope, ident in groups:
            out[(OPEN, f"{scope}:{ident}:{case.stage}")] += 1
        out[(c.CELL_OPEN, s.place.cell)] += 1
        out[(c.COUNTERS, "open")] += 1
        if s.overdue:
            for scope, ident in groups:
                out[(OVERDUE_N, f"{scope}:{ident}")] += 1
            out[(c.COUNTERS, "overdue")] += 1
    current_dept = "-"
    prev_stage: str | None = None
    for ev in case.applied:
        current_dept = ev.department or current_dept
        minute = clock.minute(ev.ts)
        day, hour = minute[:8], minute[:10]
        dk, hk = day_key(day), hour_key(hour)
        out[(dk, ev.step)] += 1
        for scope, ident in (*areas, ("dept", current_dept), ("cat", s.category)):
            out[(dk, f"{ev.step}:{scope}:{ident}")] += 1
        out[(hk, ev.step)] += 1
        out[(hk, f"{ev.step}:cat:{s.category}")] += 1
        out[(c.COUNTERS, f"{ev.step}:{day}")] += 1
        stage = STAGE_OF.get(ev.step)
        if stage is not None and (stage != prev_stage or ev.step in ("returned", "reopened", "escalated")):
            slot = minute[:10] + f"{int(minute[10:]) // 5 * 5:02d}"
            out[(m5_key(slot), f"into:{stage}")] += 1
        prev_stage = stage
    late = False
    for done, entered, exited, priority in _intervals(case):
        exit_day = clock.minute(exited)[:8]
        out[(day_key(exit_day), f"dur:{done}:{duration_bucket(exited - entered)}")] += 1
        if exited > deadline(sla, done, priority, entered, tz):
            late = True
    if case.state == "closed" and case.closed_ts is not None:
        dk = day_key(clock.minute(case.closed_ts)[:8])
        verdict = "late" if late else "ontime"
        out[(dk, verdict)] += 1
        out[(dk, f"{verdict}:dept:{dept}")] += 1
    return out


def _intervals(case: Case) -> list[tuple[str, int, int, str]]:
    """Each stage the case has left: (stage, entered, exited, priority then)."""
    out: list[tuple[str, int, int, str]] = []
    stage: str | None = None
    entered = 0
    priority = "normal"
    for ev in case.applied:
        new_stage = STAGE_OF.get(ev.step)
        restart = ev.step in ("returned", "reopened", "escalated")
        if stage is not None and (new_stage != stage or restart):
            out.append((stage, entered, ev.ts, priority))
        if ev.priority == "urgent":
            priority = "urgent"
        if new_stage != stage or restart:
            entered = ev.ts
        stage = new_stage
    return out


def diff(before: Contrib, after: Contrib) -> dict[tuple[str, str], int]:
    """after - before, without zero entries."""
    out: dict[tuple[str, str], int] = {}
    for k in before.keys() | after.keys():
        d = after.get(k, 0) - before.get(k, 0)
        if d:
            out[k] = d
    return out


def current_deadline(case: Case, sla: SlaConfig, tz: ZoneInfo) -> int | None:
    """The deadline of the case's current stage (None when the case is over)."""
    if not case.open or case.stage is None:
        return None
    return deadline(sla, case.stage, case.priority, case.stage_since, tz)


def median_minutes(buckets: Mapping[int, int]) -> float | None:
    """The median duration (minutes) from a histogram of duration buckets (bucket -> count)."""
    total = sum(buckets.values())
    if total == 0:
        return None
    half = total / 2
    run = 0
    for b in sorted(buckets):
        run += buckets[b]
        if run >= half:
            lo, hi = bucket_floor_minutes(b), bucket_floor_minutes(b + 1)
            return (lo + hi) / 2 if b else 0.5
    return None
