"""SLA clocks: natural time, working hours across a weekend and a holiday, make-up workdays."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from dashboard.domain.sla import (
    SlaConfig,
    WorkCalendar,
    add_working_minutes,
    deadline,
    is_workday,
    overdue_by,
)

TZ = ZoneInfo("Asia/Shanghai")


def ms(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> int:
    return int(datetime(y, mo, d, h, mi, tzinfo=TZ).timestamp() * 1000)


def test_natural_time_deadline_and_overdue_exactly_at_it() -> None:
    cfg = SlaConfig()
    start = ms(2026, 9, 21, 10)
    due = deadline(cfg, "handle", "normal", start, TZ)
    assert due == start + 24 * 3600 * 1000
    assert deadline(cfg, "handle", "urgent", start, TZ) == start + 2 * 3600 * 1000
    assert overdue_by(due, due - 1) == 0 and overdue_by(due, due) == 0 and overdue_by(due, due + 1) == 1


CAL = SlaConfig(
    working_hours=True,
    calendar=WorkCalendar(
        holidays=[date(2026, 10, 1), date(2026, 10, 2)], workdays_extra=[date(2026, 9, 27)]
    ),
)


@pytest.mark.parametrize(
    ("start", "minutes", "expected"),
    [
        (ms(2026, 9, 22, 9), 60, ms(2026, 9, 22, 10)),  # Tuesday, inside the day
        (ms(2026, 9, 22, 7), 60, ms(2026, 9, 22, 9, 30)),  # before opening: the clock starts at 08:30
        (ms(2026, 9, 22, 17), 60, ms(2026, 9, 23, 9)),  # across the evening
        (ms(2026, 9, 25, 17), 60, ms(2026, 9, 27, 9)),  # Friday → Sunday 27 Sept, a make-up workday (调休)
        (ms(2026, 10, 3, 12), 60, ms(2026, 10, 5, 9, 30)),  # Saturday → Monday
        (ms(2026, 9, 30, 17), 60, ms(2026, 10, 5, 9)),  # across the National Day holiday and a weekend
        (ms(2026, 9, 22, 9), 24 * 60, ms(2026, 9, 24, 15)),  # 24 working hours: 8.5 h + 9 h + 6.5 h
    ],
)
def test_working_hours(start: int, minutes: float, expected: int) -> None:
    assert add_working_minutes(CAL, start, minutes, TZ) == expected


def test_urgent_cases_run_on_natural_time_even_in_working_hours_mode() -> None:
    start = ms(2026, 10, 1, 23)
    assert deadline(CAL, "handle", "urgent", start, TZ) == start + 2 * 3600 * 1000


def test_calendar_days() -> None:
    assert is_workday(CAL, date(2026, 9, 27))  # a Sunday made a workday
    assert not is_workday(CAL, date(2026, 10, 1))  # a Thursday holiday
    assert not is_workday(CAL, date(2026, 10, 3))  # Saturday


def test_a_calendar_without_workdays_is_an_error() -> None:
    cfg = SlaConfig(working_hours=True, calendar=WorkCalendar(weekdays=[]))
    with pytest.raises(ValueError, match="no working time"):
        add_working_minutes(cfg, ms(2026, 1, 1), 10, TZ)
