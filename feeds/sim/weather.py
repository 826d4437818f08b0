"""The district's weather: temperature, showers, wind and air quality, as slowly varying state.

One state for the district (154 km² share one sky), except rain, which falls per subdistrict: a shower
is local, and a storm may be given an area. Foshan's climate: humid subtropical, monthly means from
13.6 °C (January) to 29 °C (July), about 1,700 mm of rain a year, mostly in convective afternoon
showers from May to September. Every update takes the elapsed simulated seconds, so it means the same
at any speed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from feeds.sim import clock
from feeds.sim.scenarios import ActiveScenario

MONTHLY_MEAN_C = (13.6, 15.0, 18.5, 22.5, 26.0, 28.0, 29.0, 28.8, 27.5, 24.5, 19.8, 15.3)
MONTHLY_HALF_RANGE_C = (4.0, 3.6, 3.2, 3.0, 3.2, 3.0, 3.6, 3.6, 3.8, 4.2, 4.4, 4.4)
MONTHLY_SHOWERS_PER_DAY = (0.25, 0.35, 0.5, 0.8, 1.1, 1.3, 1.2, 1.3, 0.9, 0.45, 0.3, 0.2)
MONTHLY_PM25 = (45.0, 40.0, 33.0, 27.0, 21.0, 16.0, 15.0, 17.0, 22.0, 30.0, 38.0, 44.0)

RAIN_LAG_S = 10 * 60.0  # how long runoff takes to reach a low street
RAIN_SLOW_S = 90 * 60.0  # how long wet ground keeps the air cool and washed


def _ou(x: float, dt: float, tau: float, sigma: float, z: float) -> float:
    """One exact step of an Ornstein-Uhlenbeck process (mean 0, time constant tau, spread sigma)."""
    a = math.exp(-dt / tau)
    return x * a + sigma * math.sqrt(1.0 - a * a) * z


@dataclass
class Shower:
    """A passing shower: when, how long, how hard at its peak, and how much falls per subdistrict."""

    start_s: float
    duration_s: float
    peak_mm_h: float
    factors: list[float]

    def intensity(self, sim_s: float) -> float:
        """Rain rate (mm/h) at the shower's centre at ``sim_s``: rises and falls like a bell."""
        x = (sim_s - self.start_s) / self.duration_s
        if not 0.0 <= x <= 1.0:
            return 0.0
        return float(self.peak_mm_h * math.sin(math.pi * x) ** 1.5)


@dataclass
class Weather:
    """The weather state; ``step`` advances it, the accessors read it."""

    subdistricts: tuple[str, ...]
    temp_anom: float = 0.0
    pm_anom: float = 0.0
    wind_anom: float = 0.0
    showers: list[Shower] = field(default_factory=list)
    rain: np.ndarray = field(init=False)  # mm/h now, per subdistrict
    rain_lag: np.ndarray = field(init=False)  # runoff reaching low streets (10-min lag)
    rain_slow: np.ndarray = field(init=False)  # wet ground (90-min memory)
    temperature_c: float = 25.0
    storm_wind: float = 0.0

    def __post_init__(self) -> None:
        """Start dry."""
        n = len(self.subdistricts)
        self.rain = np.zeros(n)
        self.rain_lag = np.zeros(n)
        self.rain_slow = np.zeros(n)

    def step(
        self, sim_s: float, dt: float, rng: np.random.Generator, scenario: ActiveScenario | None
    ) -> None:
        """Advance by ``dt`` simulated seconds to ``sim_s``."""
        z = rng.standard_normal(3)
        self.temp_anom = _ou(self.temp_anom, dt, 3 * 86400.0, 1.5, float(z[0]))
        self.pm_anom = _ou(self.pm_anom, dt, 1.5 * 86400.0, 0.35, float(z[1]))
        self.wind_anom = _ou(self.wind_anom, dt, 6 * 3600.0, 0.6, float(z[2]))
        self._showers(sim_s, dt, rng)
        rain = np.zeros(len(self.subdistricts))
        for sh in self.showers:
            rain += sh.intensity(sim_s) * np.asarray(sh.factors)
        self.storm_wind = 0.0
        if scenario is not None and scenario.key == "storm" and scenario.active(sim_s):
            storm = self.storm_rain(scenario, sim_s)
            mask = scenario.params.get("subdistricts")
            for i, sd in enumerate(self.subdistricts):
                if mask is None or sd in mask:
                    rain[i] = max(rain[i], storm * (0.9 + 0.1 * math.sin(sim_s / 600.0 + i)))
            self.storm_wind = 9.0 * storm / max(scenario.params["peak_mm_h"], 1.0)
        self.rain = rain
        self.rain_lag += (rain - self.rain_lag) * (1.0 - math.exp(-dt / RAIN_LAG_S))
        self.rain_slow += (rain - self.rain_slow) * (1.0 - math.exp(-dt / RAIN_SLOW_S))
        self.temperature_c = self._temperature(sim_s, scenario)

    def _showers(self, sim_s: float, dt: float, rng: np.random.Generator) -> None:
        """End past showers; start new ones at a rate set by the season and the hour (afternoons)."""
        self.showers = [s for s in self.showers if s.start_s + s.duration_s > sim_s]
        hour = clock.local_hour(sim_s)
        convective = 0.5 + 2.5 * math.exp(-(((hour - 16.0) / 2.5) ** 2))
        rate = clock.seasonal(MONTHLY_SHOWERS_PER_DAY, sim_s) * convective / 0.96 / clock.DAY_S
        for _ in range(int(rng.poisson(rate * dt))):
            n = len(self.subdistricts)
            factors = np.clip(np.exp(rng.normal(0.0, 0.6, n)), 0.0, 1.6)
            factors[rng.random(n) < 0.3] = 0.0
            factors[int(rng.integers(n))] = 1.0  # the shower's centre
            self.showers.append(
                Shower(
                    start_s=sim_s,
                    duration_s=float(np.clip(rng.lognormal(math.log(50 * 60), 0.5), 15 * 60, 3 * 3600)),
                    peak_mm_h=float(np.clip(rng.lognormal(math.log(8.0), 0.9), 1.0, 90.0)),
                    factors=[float(f) for f in factors],
                )
            )

    @staticmethod
    def storm_rain(scenario: ActiveScenario, sim_s: float) -> float:
        """The storm's rain rate (mm/h): up to its peak in 20 min, held, tapering over the last hour."""
        peak = float(scenario.params["peak_mm_h"])
        t = scenario.elapsed(sim_s)
        left = scenario.end_s - sim_s
        if t < 1200.0:
            return peak * t / 1200.0
        if left < 3600.0:
            return max(2.0, peak * left / 3600.0)
        return peak

    def _temperature(self, sim_s: float, scenario: ActiveScenario | None) -> float:
        """District air temperature: season, time of day, weather anomaly, rain cooling, heat wave."""
        mean = clock.seasonal(MONTHLY_MEAN_C, sim_s)
        half = clock.seasonal(MONTHLY_HALF_RANGE_C, sim_s)
        shape = clock.diurnal_temperature(sim_s)
        cooling = min(5.0, 0.12 * float(self.rain_slow.mean()) + 0.05 * float(self.rain.mean()))
        normal = mean + half * shape + self.temp_anom - cooling
        if scenario is not None and scenario.key == "heatwave" and scenario.active(sim_s):
            peaks = scenario.params["peaks_c"]
            day = int(scenario.elapsed(sim_s) // clock.DAY_S) % len(peaks)
            peak = float(peaks[day])
            hot = peak - 4.6 + 4.6 * shape - 0.3 * cooling  # nights stay near 30 °C
            w = scenario.envelope(sim_s, 3 * 3600.0)
            return normal + (max(hot, normal) - normal) * w
        return normal

    def pm25_base(self, sim_s: float) -> float:
        """Background PM2.5 (µg/m³): season, rush hours, weather, washed out by rain."""
        street = clock.street_activity(sim_s)
        washout = 1.0 - min(0.6, float(self.rain_slow.mean()) / 20.0)
        return clock.seasonal(MONTHLY_PM25, sim_s) * (0.75 + 0.5 * street) * math.exp(self.pm_anom) * washout

    def wind_base(self, sim_s: float) -> float:
        """Background wind speed (m/s): calmer at night, fresher in the afternoon, gusty in storms."""
        afternoon = max(0.0, clock.diurnal_temperature(sim_s))
        return max(0.2, 1.6 + 1.4 * afternoon + self.wind_anom + self.storm_wind)

    def snapshot(self) -> dict[str, Any]:
        """The state as JSON-able data."""
        return {
            "temp_anom": self.temp_anom,
            "pm_anom": self.pm_anom,
            "wind_anom": self.wind_anom,
            "showers": [[s.start_s, s.duration_s, s.peak_mm_h, s.factors] for s in self.showers],
            "rain_lag": self.rain_lag.tolist(),
            "rain_slow": self.rain_slow.tolist(),
        }

    def restore(self, d: dict[str, Any]) -> None:
        """Load what ``snapshot`` returned."""
        self.temp_anom = float(d["temp_anom"])
        self.pm_anom = float(d["pm_anom"])
        self.wind_anom = float(d["wind_anom"])
        self.showers = [Shower(float(a), float(b), float(c), list(f)) for a, b, c, f in d["showers"]]
        if len(d["rain_lag"]) == len(self.subdistricts):
            self.rain_lag = np.asarray(d["rain_lag"], dtype=float)
            self.rain_slow = np.asarray(d["rain_slow"], dtype=float)
