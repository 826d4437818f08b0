"""The built-in city simulator: case reports walking the closed loop, sensor readings, camera churn.

Time runs in ticks of ``TICK_S`` real seconds; each tick advances simulated time by ``TICK_S * speed``.
Everything random comes from one seeded generator and depends only on the tick count, so the same
seed produces the same sequence of records. Records carry the wall-clock time of their tick.
Cases in flight and camera states live in Redis (``{cb}:sim:*``), so a restart resumes them.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import redis
from dashboard.geo import Geography

from dashboard import contract as c
from dashboard.catalogue import Catalogue, EventType
from feeds.base import Feed, Sink

log = logging.getLogger(__name__)

TICK_S = 0.1
SCHEDULE = f"{c.TAG}:sim:schedule"  # sorted set: case JSON -> due tick
CAMERAS = f"{c.TAG}:sim:cameras"  # hash camera_id -> status
STATE = f"{c.TAG}:sim:state"  # hash: tick, seed, cases

CASES_PER_DAY = 3000.0
CAMERA_COUNT = 16_000
CAMERA_OFFLINE_SHARE = 0.03
CAMERA_MEAN_OUTAGE_S = 2 * 3600.0
SENSOR_INTERVAL_S = 80.0
SENSOR_COUNT = 1100


@dataclass(frozen=True)
class SensorKind:
    """A kind of sensor: its metric, unit, share of the fleet, and a baseline value model."""

    key: str
    metric: str
    unit: str
    share: float
    base: float
    daily_amp: float
    noise: float
    lo: float
    hi: float


SENSOR_KINDS: tuple[SensorKind, ...] = (
    SensorKind("water_level", "water_level", "m", 0.22, 0.15, 0.0, 0.03, 0.0, 5.0),
    SensorKind("rainfall", "rainfall", "mm/h", 0.08, 0.0, 0.0, 0.4, 0.0, 200.0),
    SensorKind("gas", "gas", "%LEL", 0.14, 1.0, 0.3, 0.5, 0.0, 100.0),
    SensorKind("smoke", "smoke", "dB/m", 0.14, 0.01, 0.0, 0.01, 0.0, 1.0),
    SensorKind("tilt", "tilt", "deg", 0.10, 0.2, 0.0, 0.05, 0.0, 45.0),
    SensorKind("temperature", "temperature", "°C", 0.10, 27.0, 4.0, 0.5, -10.0, 50.0),
    SensorKind("wind", "wind_speed", "m/s", 0.06, 2.5, 1.0, 0.8, 0.0, 60.0),
    SensorKind("noise", "noise", "dB(A)", 0.08, 55.0, 8.0, 3.0, 20.0, 130.0),
    SensorKind("air", "pm25", "µg/m³", 0.08, 28.0, 6.0, 4.0, 0.0, 1000.0),
)

# The closed loop a simulated case walks: step -> (next step, min and max delay in simulated minutes)
PATH: dict[str, tuple[str, float, float]] = {
    "reported": ("registered", 3, 25),
    "registered": ("dispatched", 5, 30),
    "dispatched": ("handled", 40, 20 * 60),
    "returned": ("dispatched", 10, 60),
    "escalated": ("dispatched", 20, 120),
    "reopened": ("handled", 30, 6 * 60),
    "handled": ("feedback", 5, 60),
    "feedback": ("verified", 30, 10 * 60),
    "verified": ("closed", 1, 20),
}


def rhythm(sim_s: float) -> float:
    """Relative activity at a simulated time of day (local): quiet at night, busy by day (mean ~1)."""
    hour = ((sim_s / 3600.0) + 8.0) % 24.0  # sim seconds are UTC; +8 h for Asia/Shanghai
    return float(0.25 + 1.45 * max(0.0, math.sin(math.pi * (hour - 6.0) / 16.0)) ** 1.5)


class Simulator(Feed):
    """A believable district: cases, sensors and cameras for every cell, at the real average rate."""

    type_key: ClassVar[str] = "simulator"

    def __init__(
        self,
        name: str,
        sink: Sink,
        client: redis.Redis,
        geo: Geography,
        catalogue: Catalogue,
        speed: float = 1.0,
        seed: int | None = None,
    ) -> None:
        """Simulate ``geo`` with event types from ``catalogue`` at ``speed`` times real time."""
        super().__init__(name, sink)
        self.r: Any = client  # replies are str (decode_responses=True)
        self.geo = geo
        self.cat = catalogue
        self.speed = speed
        self.seed = seed if seed is not None else int(time.time())
        self.rng = np.random.default_rng(self.seed)
        self.cells = list(geo.cells.values())
        self.tick = 0
        self.sim_t0 = time.time()
        self._types = list(catalogue.event_types.values())
        self._type_weights = self._cell_type_weights()
        self._cell_weights = np.array([max(a.population, 1) for a in self.cells], dtype=float)
        self._cell_weights /= self._cell_weights.sum()
        self._sensors = self._make_sensors()
        self._cameras = [f"CAM-{i:05d}" for i in range(1, CAMERA_COUNT + 1)]
        self._camera_cell = [self.cells[int(i)].id for i in self.rng.choice(len(self.cells), CAMERA_COUNT)]
        self._camera_state: dict[str, str] = {}
        self._case_counter = 0

    # --- set-up ---------------------------------------------------------------------------------

    def _cell_type_weights(self) -> dict[str, np.ndarray]:
        """For each distinct tag set, the probability of every event type (tags raise their types)."""
        base = np.array([t.weight for t in self._types], dtype=float)
        out: dict[str, np.ndarray] = {}
        for cell in self.cells:
            key = ",".join(sorted(cell.tags))
            if key in out:
                continue
            boost = np.array(
                [
                    3.0 if set(t.cell_tags) & set(cell.tags) else (1.0 if not t.cell_tags else 0.4)
                    for t in self._types
                ]
            )
            w = base * boost
            out[key] = w / w.sum()
        return out

    def _make_sensors(self) -> list[tuple[str, SensorKind, str, int]]:
        """The simulated sensor fleet: (id, kind, cell, phase tick), low-lying cells get water gauges."""
        sensors: list[tuple[str, SensorKind, str, int]] = []
        low = [a.id for a in self.cells if "low_lying" in a.tags or "riverside" in a.tags] or [
            a.id for a in self.cells
        ]
        period = max(1, round(SENSOR_INTERVAL_S / TICK_S))
        n = 0
        for kind in SENSOR_KINDS:
            for _ in range(round(SENSOR_COUNT * kind.share)):
                n += 1
                pool = low if kind.key in ("water_level", "rainfall") else [a.id for a in self.cells]
                cell = pool[int(self.rng.integers(len(pool)))]
                sensors.append((f"SEN-{n:04d}", kind, cell, int(self.rng.integers(period))))
        return sensors

    # --- one tick -------------------------------------------------------------------------------

    def sim_seconds(self) -> float:
        """Simulated epoch seconds at the current tick."""
        return self.sim_t0 + self.tick * TICK_S * self.speed

    def step(self, now_ms: int) -> list[c.Record]:
        """Advance one tick; return the records it produced (all stamped ``now_ms``)."""
        self.tick += 1
        sim_s = self.sim_seconds()
        dt = TICK_S * self.speed
        act = rhythm(sim_s)
        out: list[c.Record] = []
        out += self._new_cases(now_ms, dt * act * CASES_PER_DAY / 86400.0)
        out += self._due_steps(now_ms)
        out += self._sensor_readings(now_ms, sim_s, dt)
        out += self._camera_churn(now_ms, dt)
        return out

    def _new_cases(self, now_ms: int, expected: float) -> list[c.Record]:
        """Report a Poisson number of new cases in cells chosen by population and type by cell tags."""
        out: list[c.Record] = []
        for _ in range(int(self.rng.poisson(expected))):
            cell = self.cells[int(self.rng.choice(len(self.cells), p=self._cell_weights))]
            probs = self._type_weights[",".join(sorted(cell.tags))]
            et = self._types[int(self.rng.choice(len(self._types), p=probs))]
            self._case_counter += 1
            case_id = f"SIM-{self.seed % 100000:05d}-{self.tick:09d}-{self._case_counter % 1000:03d}"
            case = {"id": case_id, "type": et.code, "cell": cell.id, "seq": 0, "returns": 0}
            out.append(
                self._event(case, "reported", now_ms, et, "网格员" if self.rng.random() < 0.7 else "12345")
            )
            self._schedule(case, "reported")
        return out

    def _event(
        self, case: dict[str, object], step: str, now_ms: int, et: EventType, actor: str
    ) -> c.CaseEvent:
        """A case event record for ``case`` taking ``step``."""
        seq = int(str(case["seq"]))
        case["seq"] = seq + 1
        return c.CaseEvent(
            event_id=f"{case['id']}-{seq:02d}",
            case_id=str(case["id"]),
            seq=seq,
            ts=now_ms,
            step=step,
            event_type=et.code,
            category=et.category,
            cell_id=str(case["cell"]),
            department=et.department if step not in ("reported", "registered", "cancelled") else None,
            actor=actor,
            priority=et.priority,
            source="simulator",
        )

    def _schedule(self, case: dict[str, object], step: str) -> None:
        """Put the case's next step on the schedule after a random delay (simulated minutes)."""
        nxt, lo, hi = PATH[step]
        if step == "reported" and self.rng.random() < 0.05:
            nxt, lo, hi = "cancelled", 5, 30
        elif step == "dispatched" and int(str(case["returns"])) < 2 and self.rng.random() < 0.08:
            nxt, lo, hi = "returned", 10, 120
            case["returns"] = int(str(case["returns"])) + 1
        elif step == "registered" and self.rng.random() < 0.03:
            nxt, lo, hi = "escalated", 10, 60
        elif step == "feedback" and self.rng.random() < 0.04:
            nxt, lo, hi = "reopened", 30, 240
        delay_min = lo + (hi - lo) * float(self.rng.beta(1.5, 3.0))
        due = self.tick + max(1, round(delay_min * 60 / (TICK_S * self.speed)))
        case["next"] = nxt
        self.r.zadd(SCHEDULE, {json.dumps(case, sort_keys=True): due})

    def _due_steps(self, now_ms: int) -> list[c.Record]:
        """Take every case whose next step is due at this tick."""
        due = self.r.zrangebyscore(SCHEDULE, "-inf", self.tick)
        out: list[c.Record] = []
        for raw in due:
            self.r.zrem(SCHEDULE, raw)
            case = json.loads(raw)
            step = case.pop("next")
            try:
                et = self.cat.event_type(case["type"])
            except KeyError:
                continue
            out.append(self._event(case, step, now_ms, et, et.department if step != "verified" else "网格员"))
            if step not in c.CLOSING_STEPS:
                self._schedule(case, step)
        return out

    def _sensor_readings(self, now_ms: int, sim_s: float, dt: float) -> list[c.Record]:
        """Readings of every sensor whose reporting phase falls in this tick."""
        period = max(1, round(SENSOR_INTERVAL_S / TICK_S))
        ticks_per_tick = max(1, round(self.speed))  # at speed N, N phases pass per tick
        lo = (self.tick * ticks_per_tick) % period
        phases = {(lo + k) % period for k in range(min(ticks_per_tick, period))}
        hour = ((sim_s / 3600.0) + 8.0) % 24.0
        diurnal = math.sin(math.pi * (hour - 8.0) / 12.0)
        out: list[c.Record] = []
        for sid, kind, cell, phase in self._sensors:
            if phase not in phases:
                continue
            v = kind.base + kind.daily_amp * diurnal + kind.noise * float(self.rng.standard_normal())
            v = min(kind.hi, max(kind.lo, v))
            out.append(
                c.SensorReading(
                    sensor_id=sid,
                    metric=kind.metric,
                    value=round(v, 3),
                    unit=kind.unit,
                    ts=now_ms,
                    cell_id=cell,
                )
            )
        return out

    def _camera_churn(self, now_ms: int, dt: float) -> list[c.Record]:
        """Cameras going offline and coming back so that about 3 % are offline at any time."""
        r_on = dt / CAMERA_MEAN_OUTAGE_S
        r_off = r_on * CAMERA_OFFLINE_SHARE / (1 - CAMERA_OFFLINE_SHARE)
        n_off = int(self.rng.poisson(r_off * CAMERA_COUNT))
        n_on = int(self.rng.poisson(r_on * CAMERA_COUNT * CAMERA_OFFLINE_SHARE))
        out: list[c.Record] = []
        changes: dict[str, str] = {}
        for idx in self.rng.integers(0, CAMERA_COUNT, n_off + n_on):
            cam = self._cameras[int(idx)]
            cur = self._camera_state.get(cam, "online")
            new = "online" if cur != "online" else ("fault" if self.rng.random() < 0.15 else "offline")
            changes[cam] = new
            out.append(
                c.CameraStatus(camera_id=cam, status=new, ts=now_ms, cell_id=self._camera_cell[int(idx)])
            )
        if changes:
            self._camera_state.update(changes)
            self.r.hset(CAMERAS, mapping=changes)
        return out

    def initial_cameras(self, now_ms: int) -> list[c.Record]:
        """Load camera states from Redis; on the first ever start, announce every camera once."""
        stored = self.r.hgetall(CAMERAS)
        if stored:
            self._camera_state = {str(k): str(v) for k, v in stored.items()}
            return []
        out: list[c.Record] = []
        states: dict[str, str] = {}
        for cam, cell in zip(self._cameras, self._camera_cell, strict=True):
            st = "online" if self.rng.random() > CAMERA_OFFLINE_SHARE else "offline"
            states[cam] = st
            out.append(c.CameraStatus(camera_id=cam, status=st, ts=now_ms, cell_id=cell))
        self._camera_state = states
        self.r.hset(CAMERAS, mapping=states)
        return out

    # --- the loop ---------------------------------------------------------------------------------

    def _restore(self) -> None:
        """Resume the tick count of a previous run so scheduled steps keep their meaning."""
        st = self.r.hgetall(STATE)
        if st and "tick" in st:
            self.tick = int(st["tick"])

    def _offer(self, records: list[c.Record], stop: threading.Event) -> None:
        """Hand records to the sink, waiting while its buffer is full (a simulator may wait)."""
        while records and not self.sink.offer(records) and not stop.is_set():
            stop.wait(0.1)

    def run(self, stop: threading.Event) -> None:
        """Tick every TICK_S seconds until stopped; catch up after a stall without skipping ticks."""
        while not stop.is_set():
            try:
                self._restore()
                self._offer(self.initial_cameras(int(time.time() * 1000)), stop)
                break
            except redis.RedisError as err:
                log.warning("simulator: redis unavailable (%s)", err)
                stop.wait(1.0)
        start = time.monotonic()
        first_tick = self.tick
        while not stop.is_set():
            target = first_tick + int((time.monotonic() - start) / TICK_S)
            if self.tick >= target:
                stop.wait(TICK_S / 2)
                continue
            try:
                recs = self.step(int(time.time() * 1000))
                if self.tick % 10 == 0:
                    self.r.hset(STATE, mapping={"tick": self.tick, "seed": self.seed})
            except redis.RedisError as err:
                log.warning("simulator: redis unavailable (%s)", err)
                self.tick -= 1
                stop.wait(1.0)
                continue
            self._offer(recs, stop)
