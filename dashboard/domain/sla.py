"""SLA clocks: the deadline of a case's current stage, in natural time or in working hours.

Pure functions; the clock is always passed in. Working hours follow China's calendar practice: a
weekly pattern of workdays, public holidays off, and make-up workdays (调休) on weekends on.
"""

from __future__ import annotations

import datetime as dt
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import Field

from dashboard.domain.types import ConfigModel

_MINUTE_MS = 60_000


class StageLimit(ConfigModel):
    """Time allowed for one stage, by priority (minutes)."""

    normal: float = Field(gt=0, description="Minutes allowed for an ordinary case.")
    urgent: float = Field(gt=0, description="Minutes allowed for an urgent case.")


class WorkCalendar(ConfigModel):
    """Working time for SLA clocks that run in working hours."""

    start: dt.time = Field(dt.time(8, 30), description="Start of the working day (local time).")
    end: dt.time = Field(dt.time(17, 30), description="End of the working day (local time).")
    weekdays: list[int] = Field([1, 2, 3, 4, 5], description="ISO weekdays that are workdays (1 = Monday).")
    holidays: list[dt.date] = Field(default_factory=list, description="Public holidays (days off).")
    workdays_extra: list[dt.date] = Field(
        default_factory=list, description="Make-up workdays on weekends (调休)."
    )


class SlaConfig(ConfigModel):
    """SLA per stage and priority; the clock of a stage starts when the case enters it."""

    registration: StageLimit = Field(StageLimit(normal=60, urgent=15), description="Report → registered.")
    dispatch: StageLimit = Field(StageLimit(normal=30, urgent=10), description="Registered → dispatched.")
    handle: StageLimit = Field(StageLimit(normal=24 * 60, urgent=120), description="Dispatched → handled.")
    feedback: StageLimit = Field(StageLimit(normal=120, urgent=30), description="Handled → feedback.")
    verify: StageLimit = Field(StageLimit(normal=24 * 60, urgent=240), description="Feedback → verified.")
    working_hours: bool = Field(
        False, description="Ordinary cases' clocks run only in working hours (urgent ones always run)."
    )
    calendar: WorkCalendar = Field(default_factory=WorkCalendar)


def stage_minutes(cfg: SlaConfig, stage: str, priority: str) -> float:
    """The time allowed for ``stage`` at ``priority`` (minutes)."""
    limits = getattr(cfg, stage)
    return float(limits.urgent if priority == "urgent" else limits.normal)


def is_workday(cfg: SlaConfig, d: date) -> bool:
    """True for a working day: a weekly workday that is not a holiday, or a make-up workday."""
    if d in cfg.calendar.workdays_extra:
        return True
    return d.isoweekday() in cfg.calendar.weekdays and d not in cfg.calendar.holidays


def add_working_minutes(cfg: SlaConfig, start_ms: int, minutes: float, tz: ZoneInfo) -> int:
    """The moment ``minutes`` of working time after ``start_ms`` (epoch ms)."""
    cal = cfg.calendar
    t = datetime.fromtimestamp(start_ms / 1000, tz)
    left = timedelta(minutes=minutes)
    for _ in range(3660):  # at most ten years of days: a calendar with no workday cannot loop forever
        day = t.date()
        open_at = datetime.combine(day, cal.start, tz)
        close_at = datetime.combine(day, cal.end, tz)
        if is_workday(cfg, day) and t < close_at:
            begin = max(t, open_at)
            if begin + left <= close_at:
                return int((begin + left).timestamp() * 1000)
            left -= close_at - begin
        t = datetime.combine(day + timedelta(days=1), time(0, 0), tz)
    raise ValueError("the working calendar has no working time within ten years")


def deadline(cfg: SlaConfig, stage: str, priority: str, since_ms: int, tz: ZoneInfo) -> int:
    """When the stage entered at ``since_ms`` is due (urgent cases always run on natural time)."""
    minutes = stage_minutes(cfg, stage, priority)
    if cfg.working_hours and priority != "urgent":
        return add_working_minutes(cfg, since_ms, minutes, tz)
    return since_ms + int(minutes * _MINUTE_MS)


def overdue_by(deadline_ms: int, now_ms: int) -> int:
    """How long past the deadline (ms, 0 when not yet due)."""
    return max(0, now_ms - deadline_ms)
