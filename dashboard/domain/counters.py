"""Read models of cases as *contributions*: pure functions from one case record to counter cells.

Every counter the screens show is a sum over cases of what each case contributes to it. When a batch
changes a case, the processor computes the case's contributions before and after and applies the
difference with HINCRBY. So counters from the same events agree by construction (the open cases by
stage add up to the open cases; a department's backlog is the sum of its stages), a re-fold after a
late event corrects every counter it touched, and nothing ever scans all cases.

Counters are addressed by *paths* (tuples of names), the same paths the pages receive:
- ``("cells", cell)`` -> open cases; ``("kpi", "open" | "overdue" | "cameras" | "cameras_down")``;
- ``("open", scope, id, stage)`` -> open cases in that stage; ``("overdue", scope, id)`` -> open cases
  past their current stage's deadline (scope: district, subdistrict, community, cell, dept, cat);
- ``("days", yyyymmdd, "n", step | "ontime" | "late" | "readings")`` -> that local day's events, cases
  closed within / outside their SLAs, sensor readings; ``("days", day, "by", scope, id, step | "ontime"
  | "late")`` the same per group; ``("days", day, "dur", stage, bucket)`` stage durations (half-octave
  minute buckets) for medians; ``("days", day, "hdur", scope, id, bucket)`` the handle stage's
  durations per area;
- ``("hours", yyyymmddhh, "n", step)`` and ``("hours", hour, "by", scope, id, step)`` (categories; the
  areas below the district for TREND_STEPS only);
- ``("m5", yyyymmddhhmm, stage)`` -> cases entering a stage in that 5 minutes.
``dashboard.store.paths`` maps each path to where it is kept in Redis.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from dashboard.domain.geo import Geography
from dashboard.domain.lifecycle import RESTART_STEPS, STAGE_OF, Case, Step, spans
from dashboard.domain.sla import SlaConfig, deadline

DISTRICT = "all"
TREND_STEPS = ("reported", "closed")  # the steps hour hashes count per area (the area views' trends)
SENSOR_SLOT_MS = 5 * 60_000  # one history point per sensor per 5 minutes (the highest value in it)
SENSOR_HIST_MS = 24 * 3_600_000


def sensor_hist_hours(now_ms: int) -> list[int]:
    """The epoch hours (ms // 3,600,000) covering the last 24 hours, oldest first."""
    now_h = now_ms // 3_600_000
    return list(range(now_h - 24, now_h + 1))


Path = tuple[str, ...]
Contrib = Counter[Path]


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
    stale: bool = False  # open, but untouched so long that it left the live counters


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
    """Every counter cell this case adds to, and by how much (a pure function of the summary).

    The sum of four additive parts: the case's current state, each applied event, each stage it has
    left, and the verdict on a closed case. ``append_diff`` relies on that to update cheaply.
    """
    clock = clock or Clock(tz)
    out = _state_part(s)
    _event_parts(out, s, s.case.applied, "-", None, clock)
    intervals = _intervals(s.case)
    _interval_parts(out, intervals, clock, s.place)
    late = any(_late(iv, sla, tz) for iv in intervals)
    _verdict_part(out, s, late, clock, 1)
    return out


def append_diff(
    old: Summary, new: Summary, sla: SlaConfig, tz: ZoneInfo, clock: Clock | None = None
) -> dict[Path, int] | None:
    """``contributions(new) - contributions(old)`` when ``new`` only appends events to ``old``.

    None when it does not (a late event re-orders the history, or where the case is counted changed):
    then the caller diffs the full contributions.
    """
    n = len(old.case.applied)
    if new.case.applied[:n] != old.case.applied or new.place != old.place or new.category != old.category:
        return None
    clock = clock or Clock(tz)
    out = _state_part(new)
    out.subtract(_state_part(old))
    dept, prev_stage = "-", None
    for ev in old.case.applied:
        dept = ev.department or dept
        prev_stage = STAGE_OF.get(ev.step)
    _event_parts(out, new, new.case.applied[n:], dept, prev_stage, clock)
    old_iv, new_iv = _intervals(old.case), _intervals(new.case)
    _interval_parts(out, new_iv[len(old_iv) :], clock, new.place)
    late_old = any(_late(iv, sla, tz) for iv in old_iv)
    late_new = late_old or any(_late(iv, sla, tz) for iv in new_iv[len(old_iv) :])
    _verdict_part(out, old, late_old, clock, -1)
    _verdict_part(out, new, late_new, clock, 1)
    return {k: v for k, v in out.items() if v}


def _state_part(s: Summary) -> Contrib:
    """Open (and overdue) by stage in every group of the case's place, department and category."""
    case = s.case
    if not case.open or case.stage is None or s.stale:
        return Counter()
    return Counter(dict(_state_cells(s.place, case.department or "-", s.category, case.stage, s.overdue)))


@functools.lru_cache(maxsize=65536)
def _state_cells(
    place: Place, dept: str, category: str, stage: str, overdue: bool
) -> tuple[tuple[Path, int], ...]:
    """The counter cells of an open case in one stage (memoised: few distinct combinations)."""
    out: Contrib = Counter()
    groups = [*place.scopes(), ("dept", dept), ("cat", category)]
    for scope, ident in groups:
        out[("open", scope, ident, stage)] += 1
    out[("cells", place.cell)] += 1
    out[("kpi", "open")] += 1
    if overdue:
        for scope, ident in groups:
            out[("overdue", scope, ident)] += 1
        out[("kpi", "overdue")] += 1
    return tuple(out.items())


def _event_parts(
    out: Contrib, s: Summary, events: tuple[Step, ...], dept: str, prev_stage: str | None, clock: Clock
) -> None:
    """Per-day, per-hour and per-5-minute counts of ``events`` (continuing from dept/prev_stage)."""
    areas = s.place.scopes()
    for ev in events:
        dept = ev.department or dept
        minute = clock.minute(ev.ts)
        day, hour = minute[:8], minute[:10]
        out[("days", day, "n", ev.step)] += 1
        for scope, ident in (*areas, ("dept", dept), ("cat", s.category)):
            out[("days", day, "by", scope, ident, ev.step)] += 1
        out[("hours", hour, "n", ev.step)] += 1
        out[("hours", hour, "by", "cat", s.category, ev.step)] += 1
        if ev.step in TREND_STEPS:
            for scope, ident in areas[:-1]:
                out[("hours", hour, "by", scope, ident, ev.step)] += 1
        stage = STAGE_OF.get(ev.step)
        if stage is not None and (stage != prev_stage or ev.step in RESTART_STEPS):
            slot = minute[:10] + f"{int(minute[10:]) // 5 * 5:02d}"
            out[("m5", slot, stage)] += 1
        prev_stage = stage


def _interval_parts(
    out: Contrib, intervals: list[tuple[str, int, int, str]], clock: Clock, place: Place
) -> None:
    """Stage-duration histogram counts, on the day each stage was left (the handle stage per area too)."""
    for done, entered, exited, _priority in intervals:
        day, bucket = clock.minute(exited)[:8], str(duration_bucket(exited - entered))
        out[("days", day, "dur", done, bucket)] += 1
        if done == "handle":
            for scope, ident in place.scopes()[:-1]:
                out[("days", day, "hdur", scope, ident, bucket)] += 1


def _late(iv: tuple[str, int, int, str], sla: SlaConfig, tz: ZoneInfo) -> bool:
    """True when a stage was left after its deadline (memoised per SLA config and interval)."""
    key = (id(sla), iv)
    hit = _LATE.get(key)
    if hit is None:
        if len(_LATE) > 200_000:
            _LATE.clear()
        _SLA_ALIVE[id(sla)] = sla  # keeps the id from being reused by another config while cached
        done, entered, exited, priority = iv
        hit = _LATE[key] = exited > deadline(sla, done, priority, entered, tz)
    return hit


_LATE: dict[tuple[int, tuple[str, int, int, str]], bool] = {}
_SLA_ALIVE: dict[int, SlaConfig] = {}


def _verdict_part(out: Contrib, s: Summary, late: bool, clock: Clock, sign: int) -> None:
    """A closed case counts once as on time or late, on its closing day (sign -1 removes it)."""
    case = s.case
    if case.state == "closed" and case.closed_ts is not None:
        day = clock.minute(case.closed_ts)[:8]
        verdict = "late" if late else "ontime"
        out[("days", day, "n", verdict)] += sign
        out[("days", day, "by", "dept", case.department or "-", verdict)] += sign
        for scope, ident in s.place.scopes()[:-1]:
            out[("days", day, "by", scope, ident, verdict)] += sign


def _intervals(case: Case) -> list[tuple[str, int, int, str]]:
    """Each stage the case has left: (stage, entered, exited, priority then)."""
    return [
        (sp.stage, sp.entered, sp.exited, "urgent" if sp.urgent else "normal")
        for sp in spans(case)
        if sp.exited is not None
    ]


def diff(before: Contrib, after: Contrib) -> dict[Path, int]:
    """after - before, without zero entries."""
    out: dict[Path, int] = {}
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


def places_of(geo: Geography) -> dict[str, Place]:
    """Each cell's place (community and subdistrict) from a Geography."""
    out: dict[str, Place] = {}
    for cell in geo.cells.values():
        community = geo.communities.get(cell.parent_id) if cell.parent_id else None
        out[cell.id] = Place(cell.id, cell.parent_id, community.parent_id if community else None)
    return out
