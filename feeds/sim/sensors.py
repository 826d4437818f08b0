"""The sensor fleet of the registry with plausible physics, one vectorised model per metric.

Each sensor reports at its registry ``interval_s``, at a fixed phase derived from its id, so that the
fleet's readings spread evenly over time; a sensor reports at most once per tick (at very high speeds
the fleet thins out rather than sending several readings with one time stamp). What each metric does:

- temperature: the district's air temperature (season, day, weather, heat wave) plus the sensor's own
  site offset (warmer in the old town and industrial parks, cooler by the river);
- rainfall: zero most of the time; the subdistrict's shower or storm rate while it rains;
- water_level (ponding depth): fills when the runoff reaching the street (rain about 10 minutes late) exceeds
  the drains' capacity, drains afterwards; low-lying cells fill fast, others barely;
- gas and smoke: near zero with sensor noise; rare spikes (a leak, a kitchen fire) that decay in minutes;
- tilt: a fixed lean plus a slow drift (a few buildings drift faster) and a small daily thermal swing;
- noise and pm25: a day/night pattern from street activity, site level, weather and rain washout;
- wind_speed: calm nights, fresher afternoons, gusts in storms.

Devices' own characteristics (site offsets, drain capacity, drift rates) come from a fixed seed, like
real devices; what changes from run to run draws on the simulator's generator.
"""

from __future__ import annotations

import zlib
from collections.abc import Collection, Sequence
from typing import Any

import numpy as np

from dashboard.domain.geo import Geography
from dashboard.domain.registry import Registry, Sensor
from dashboard.store.records import Record
from dashboard.store.validate import validate_reading
from feeds.sim import clock
from feeds.sim.weather import Weather

DEVICE_SEED = 440604  # the fleet's own characteristics: the same in every run
GAS_SPIKES_PER_DAY = 1 / 150.0  # per sensor
SMOKE_SPIKES_PER_DAY = 1 / 250.0
MAX_PONDING_M = 1.0


class SensorBank:
    """Every registry sensor: its reporting schedule, its state and the model of its metric."""

    def __init__(
        self, sensors: Sequence[Sensor], geo: Geography, registry: Registry, origin_s: float
    ) -> None:
        """Index ``sensors`` (all in ``geo``'s cells); ``origin_s`` is when tilt drift is counted from."""
        self.registry = registry
        self.sensors = list(sensors)
        self.origin_s = origin_s
        n = len(self.sensors)
        self._index(geo)
        self._characterise(geo, n)
        # state
        self.depth = np.zeros(n)  # ponding depth (m)
        self.spike_peak = np.zeros(n)
        self.spike_t0 = np.zeros(n)
        self.spike_tau = np.full(n, 600.0)
        self.over_alarm = np.zeros(n, dtype=bool)

    def _index(self, geo: Geography) -> None:
        """Each sensor's id, metric, place, reporting schedule and thresholds, as parallel arrays."""
        self.ids = [s.id for s in self.sensors]
        self.metric = [s.metric for s in self.sensors]
        self.cell = [s.cell_id for s in self.sensors]
        self.unit = [s.unit for s in self.sensors]
        subdistricts = list(geo.subdistricts)
        self.sd_index = np.array([subdistricts.index(geo.ancestors(s.cell_id)[1].id) for s in self.sensors])
        self.interval = np.array([float(s.interval_s) for s in self.sensors])
        self.phase = np.array(
            [(zlib.crc32(s.id.encode()) % (s.interval_s * 1000)) / 1000.0 for s in self.sensors]
        )
        self.warn = np.array([s.thresholds.warn for s in self.sensors])
        self.alarm = np.array([s.thresholds.alarm for s in self.sensors])
        self.lo = np.array([s.spec.lo for s in self.sensors])
        self.hi = np.array([s.spec.hi for s in self.sensors])
        self.by_metric: dict[str, np.ndarray] = {
            m: np.array([i for i, x in enumerate(self.metric) if x == m], dtype=int)
            for m in sorted(set(self.metric))
        }

    def _characterise(self, geo: Geography, n: int) -> None:
        """Each device's own characteristics (site levels, drift, drains), from the fleet's fixed seed."""
        tags = [set(geo.cells[s.cell_id].tags) for s in self.sensors]
        dev = np.random.default_rng(DEVICE_SEED)
        u = dev.random((n, 4))
        z = dev.standard_normal((n, 2))

        def by_tag(table: dict[str, float], default: float) -> np.ndarray:
            """Per sensor: the value of the first of ``table``'s tags its cell has, else ``default``."""
            return np.array([next((v for k, v in table.items() if k in t), default) for t in tags])

        # temperature, noise, pm25, wind: site levels
        self.temp_offset = by_tag({"old_town": 0.8, "industrial": 0.6, "market": 0.4, "riverside": -0.5}, 0.0)
        self.temp_offset += 0.3 * z[:, 0]
        self.noise_base = by_tag(
            {"industrial": 60.0, "market": 60.0, "school": 57.0, "residential": 54.0}, 55.0
        )
        self.noise_base += 1.5 * z[:, 1]
        self.pm_factor = by_tag({"industrial": 1.3, "market": 1.1, "riverside": 0.9}, 1.0) * np.exp(
            0.1 * z[:, 0]
        )
        self.wind_exposure = np.where([("riverside" in t) for t in tags], 1.3, 0.7 + 0.4 * u[:, 0])
        # gas, smoke: a small baseline; spikes are state
        self.gas_base = 0.8 * u[:, 1]
        self.smoke_base = 0.002 + 0.008 * u[:, 1]
        # tilt: a lean, a drift (6 % drift fast), a daily thermal swing
        self.tilt_base = 0.05 + 0.30 * u[:, 2]
        fast = u[:, 3] < 0.06
        self.tilt_drift = np.where(
            fast, 0.003 + 0.005 * u[:, 0], np.abs(0.0003 + 0.0003 * z[:, 1])
        )  # deg/day
        self.tilt_thermal = 0.005 + 0.015 * u[:, 1]
        # water level: how much runoff reaches the gauge, the drains' capacity and speed
        low = np.array([("low_lying" in t) for t in tags])
        river = np.array([("riverside" in t) for t in tags])
        self.wl_gain = np.where(
            low, 0.7 + 0.6 * u[:, 0], np.where(river, 0.35 + 0.25 * u[:, 0], 0.15 + 0.2 * u[:, 0])
        )
        self.wl_cap = np.where(low, 22 + 10 * u[:, 1], np.where(river, 28 + 10 * u[:, 1], 32 + 13 * u[:, 1]))
        self.wl_tau = 60 * np.where(low, 40 + 30 * u[:, 2], 25 + 20 * u[:, 2])  # seconds

    # --- state ------------------------------------------------------------------------------------

    def step(self, sim_s: float, dt: float, rng: np.random.Generator, weather: Weather) -> list[int]:
        """Advance stateful sensors by ``dt``; return sensors that just crossed their alarm level."""
        crossed: list[int] = []
        wl = self.by_metric.get("water_level")
        if wl is not None and len(wl):
            runoff = weather.rain_lag[self.sd_index[wl]]
            inflow = self.wl_gain[wl] * np.maximum(0.0, runoff - self.wl_cap[wl]) / 60.0 / 3600.0  # m/s
            a = np.exp(-dt / self.wl_tau[wl])
            self.depth[wl] = np.minimum(
                MAX_PONDING_M, self.depth[wl] * a + inflow * self.wl_tau[wl] * (1 - a)
            )
        gone = (self.spike_peak > 0) & (sim_s - self.spike_t0 > 8 * self.spike_tau)
        self.spike_peak[gone] = 0.0
        for metric, per_day, lo, hi, tau_lo, tau_hi in (
            ("gas", GAS_SPIKES_PER_DAY, 0.6, 2.6, 8 * 60, 25 * 60),
            ("smoke", SMOKE_SPIKES_PER_DAY, 0.6, 6.0, 3 * 60, 12 * 60),
        ):
            idx = self.by_metric.get(metric)
            if idx is None or not len(idx):
                continue
            hits = idx[rng.random(len(idx)) < per_day * dt / clock.DAY_S]
            for i in hits:
                self.spike_peak[i] = min(self.hi[i], self.warn[i] * rng.uniform(lo, hi))
                self.spike_t0[i] = sim_s
                self.spike_tau[i] = rng.uniform(tau_lo, tau_hi)
        watched = np.concatenate(
            [self.by_metric.get(m, np.zeros(0, dtype=int)) for m in ("water_level", "gas")]
        )
        if len(watched):
            level = self._level(watched, sim_s)
            now_over = level >= self.alarm[watched]
            crossed = [int(i) for i in watched[now_over & ~self.over_alarm[watched]]]
            self.over_alarm[watched] = now_over
        return crossed

    def _spike(self, idx: np.ndarray, sim_s: float) -> np.ndarray:
        """The decaying spike of each sensor in ``idx`` at ``sim_s``."""
        age = np.maximum(0.0, sim_s - self.spike_t0[idx])
        out: np.ndarray = self.spike_peak[idx] * np.exp(-age / self.spike_tau[idx])
        return out

    def _level(self, idx: np.ndarray, sim_s: float) -> np.ndarray:
        """The noiseless level of water-level and gas sensors (for alarm crossings)."""
        out = np.where(np.isin(idx, self.by_metric.get("water_level", [])), self.depth[idx], 0.0)
        return out + np.where(np.isin(idx, self.by_metric.get("gas", [])), self._spike(idx, sim_s), 0.0)

    # --- reporting --------------------------------------------------------------------------------

    def due(self, t0: float, t1: float) -> np.ndarray:
        """Indices of the sensors with a report due in the simulated interval (t0, t1]."""
        k1 = np.floor((t1 - self.phase) / self.interval)
        k0 = np.floor((t0 - self.phase) / self.interval)
        return np.nonzero(k1 > k0)[0]

    def values(self, idx: np.ndarray, sim_s: float, rng: np.random.Generator, weather: Weather) -> np.ndarray:
        """What the sensors in ``idx`` measure at ``sim_s`` (vectorised per metric)."""
        out = np.zeros(len(idx))
        metric_of = np.array([self.metric[i] for i in idx]) if len(idx) else np.zeros(0, dtype=str)
        for metric in sorted(set(metric_of.tolist())):
            sel = metric_of == metric
            ix = idx[sel]
            z = rng.standard_normal(len(ix))
            if metric == "temperature":
                v = weather.temperature_c + self.temp_offset[ix] + 0.15 * z
            elif metric == "rainfall":
                r = weather.rain[self.sd_index[ix]]
                v = np.where(r > 0.05, r * (1 + 0.08 * z), 0.0)
            elif metric == "water_level":
                v = self.depth[ix] + 0.004 * z
            elif metric == "gas":
                v = self.gas_base[ix] + np.abs(0.3 * z) + self._spike(ix, sim_s)
            elif metric == "smoke":
                v = self.smoke_base[ix] + np.abs(0.003 * z) + self._spike(ix, sim_s)
            elif metric == "tilt":
                days = (sim_s - self.origin_s) / clock.DAY_S
                thermal = self.tilt_thermal[ix] * clock.diurnal_temperature(sim_s)
                v = self.tilt_base[ix] + self.tilt_drift[ix] * days + thermal + 0.003 * z
            elif metric == "noise":
                street = clock.street_activity(sim_s)
                day = 7.0 <= clock.local_hour(sim_s) < 21.0
                burst = (rng.random(len(ix)) < (0.03 if day else 0.005)) * rng.uniform(6, 14, len(ix))
                v = self.noise_base[ix] - 11 + 15 * street + 2.0 * z + burst
            elif metric == "pm25":
                v = weather.pm25_base(sim_s) * self.pm_factor[ix] * np.exp(0.1 * z)
            elif metric == "wind_speed":
                v = weather.wind_base(sim_s) * self.wind_exposure[ix] * np.exp(0.25 * z)
            else:  # a metric without a model: quiet, half-way to its warning level
                v = 0.5 * self.warn[ix] * (1 + 0.05 * z)
            out[sel] = np.clip(v, np.maximum(self.lo[ix], 0.0), self.hi[ix])
        return out

    def readings(
        self,
        idx: np.ndarray,
        sim_s: float,
        now_ms: int,
        rng: np.random.Generator,
        weather: Weather,
        offline_cells: Collection[str] = (),
    ) -> list[Record]:
        """Readings of the sensors in ``idx`` (skipping those in ``offline_cells``), stamped ``now_ms``."""
        if offline_cells:
            idx = np.array([i for i in idx if self.cell[i] not in offline_cells], dtype=int)
        if not len(idx):
            return []
        vals = self.values(idx, sim_s, rng, weather)
        reg = self.registry
        out: list[Record] = []
        for i, v in zip(idx.tolist(), vals.tolist(), strict=True):
            digits = 3 if self.metric[i] in ("water_level", "smoke", "tilt") else 1
            out.append(
                validate_reading(
                    reg, self.ids[i], self.metric[i], round(v, digits), self.unit[i], now_ms, now_ms
                )
            )
        return out

    # --- saved state ------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """The stateful part (ponding depths, spikes) as JSON-able data, only where non-zero."""
        wet = np.nonzero(self.depth > 1e-4)[0]
        spiking = np.nonzero(self.spike_peak > 0)[0]
        return {
            "depth": {self.ids[i]: round(float(self.depth[i]), 4) for i in wet},
            "spikes": {
                self.ids[i]: [float(self.spike_peak[i]), float(self.spike_t0[i]), float(self.spike_tau[i])]
                for i in spiking
            },
        }

    def restore(self, d: dict[str, Any]) -> None:
        """Load what ``snapshot`` returned (sensors no longer in the registry are ignored)."""
        pos = {sid: i for i, sid in enumerate(self.ids)}
        for sid, v in d.get("depth", {}).items():
            if sid in pos:
                self.depth[pos[sid]] = float(v)
        for sid, (peak, t0, tau) in d.get("spikes", {}).items():
            if sid in pos:
                i = pos[sid]
                self.spike_peak[i], self.spike_t0[i], self.spike_tau[i] = float(peak), float(t0), float(tau)
