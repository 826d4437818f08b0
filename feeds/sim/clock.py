"""Simulated time: the local clock of a simulated instant and the rhythms of the day and the week.

Simulated time is epoch seconds (UTC), like the wall clock; the district keeps Asia/Shanghai time (UTC+8,
no daylight saving), so local hours and days are plain arithmetic here.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

LOCAL_OFFSET_S = 8 * 3600
DAY_S = 86400.0
HOUR_S = 3600.0


def local_hour(sim_s: float) -> float:
    """The local hour of day (0 <= h < 24, fractional)."""
    return ((sim_s + LOCAL_OFFSET_S) % DAY_S) / HOUR_S


def local_day_start(sim_s: float) -> float:
    """Epoch seconds of the local midnight that starts the day of ``sim_s``."""
    return sim_s - ((sim_s + LOCAL_OFFSET_S) % DAY_S)


def weekday(sim_s: float) -> int:
    """Local day of the week, 0 = Monday (1970-01-01 was a Thursday)."""
    return int(((sim_s + LOCAL_OFFSET_S) // DAY_S + 3) % 7)


def day_of_year(sim_s: float) -> float:
    """Approximate local day of the year (0 = 1 January), fractional; good enough for seasons."""
    local = sim_s + LOCAL_OFFSET_S
    return time.gmtime(local).tm_yday - 1 + (local % DAY_S) / DAY_S


def seasonal(table: tuple[float, ...], sim_s: float) -> float:
    """Interpolate a 12-value monthly table (mid-month values) at the simulated date."""
    pos = day_of_year(sim_s) / 365.25 * 12 - 0.5
    i = math.floor(pos)
    frac = pos - i
    return table[i % 12] * (1 - frac) + table[(i + 1) % 12] * frac


def _interp24(values: tuple[float, ...], hour: float) -> float:
    """Linear interpolation of 24 hourly values (value i holds at hh:30 of hour i), wrapping at midnight."""
    pos = hour - 0.5
    i = math.floor(pos)
    frac = pos - i
    return values[i % 24] * (1 - frac) + values[(i + 1) % 24] * frac


@dataclass(frozen=True)
class Profile:
    """A rhythm: relative rate by local hour (24 values) and a factor for Saturdays and Sundays."""

    key: str
    hourly: tuple[float, ...]
    weekend: float = 1.0

    def __post_init__(self) -> None:
        """Normalise the hourly values to a mean of 1, so that a daily rate stays the daily rate."""
        if len(self.hourly) != 24:
            raise ValueError(f"profile {self.key}: want 24 hourly values, got {len(self.hourly)}")
        mean = sum(self.hourly) / 24
        object.__setattr__(self, "hourly", tuple(v / mean for v in self.hourly))

    def at(self, sim_s: float) -> float:
        """The relative rate at a simulated instant (mean 1 over a weekday)."""
        factor = self.weekend if weekday(sim_s) >= 5 else 1.0
        return _interp24(self.hourly, local_hour(sim_s)) * factor


# Who reports cases, and when (24 hourly values from 00:30): grid workers patrol in office hours;
# the hotline never closes; video patrol follows street life; higher levels assign in office hours.
# fmt: off
GRID_PATROL = Profile("grid", (0.05, 0.03, 0.02, 0.02, 0.02, 0.03, 0.1, 0.4, 1.6, 2.4, 2.4, 1.8,
                               0.6, 0.5, 1.4, 2.2, 2.3, 1.9, 0.8, 0.3, 0.2, 0.15, 0.1, 0.07), weekend=0.55)
HOTLINE = Profile("hotline", (0.3, 0.2, 0.15, 0.12, 0.12, 0.2, 0.4, 0.8, 1.4, 1.8, 1.8, 1.5,
                              1.0, 1.1, 1.5, 1.6, 1.5, 1.3, 1.2, 1.3, 1.3, 1.1, 0.8, 0.5), weekend=0.85)
VIDEO_PATROL = Profile("video", (0.4, 0.3, 0.3, 0.3, 0.3, 0.4, 0.7, 1.1, 1.4, 1.5, 1.5, 1.4,
                                 1.2, 1.2, 1.4, 1.5, 1.5, 1.5, 1.5, 1.4, 1.3, 1.1, 0.8, 0.6))
ASSIGNED = Profile("assigned", (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.1, 1.0, 2.5, 2.5, 2.0,
                                0.3, 0.2, 2.0, 2.5, 2.5, 1.5, 0.2, 0.0, 0.0, 0.0, 0.0, 0.0), weekend=0.1)
# Street life (traffic, people), 0..1: noise and air quality follow it.
_STREET = (0.15, 0.1, 0.08, 0.07, 0.08, 0.15, 0.4, 0.85, 1.0, 0.85, 0.75, 0.75,
           0.7, 0.7, 0.75, 0.8, 0.9, 1.0, 0.95, 0.85, 0.75, 0.6, 0.45, 0.3)
# fmt: on


def street_activity(sim_s: float) -> float:
    """How busy the streets are (0..1): quiet before dawn, peaks at the morning and evening rush."""
    return _interp24(_STREET, local_hour(sim_s)) * (0.9 if weekday(sim_s) >= 5 else 1.0)


def diurnal_temperature(sim_s: float) -> float:
    """Shape of the daily temperature cycle, -1 at 06:00 (coolest) to +1 at 14:30 (warmest)."""
    h = local_hour(sim_s)
    lo, hi = 6.0, 14.5
    if lo <= h < hi:
        return -math.cos(math.pi * (h - lo) / (hi - lo))
    since = (h - hi) % 24.0
    return math.cos(math.pi * since / (24.0 - (hi - lo)))
