"""The built-in city simulator, the default feed: a believable Chancheng at the district's real rate.

It writes through the same public path as real sources (contract records handed to the feed's ``Sink``,
readings and camera states checked by ``dashboard.store.validate``) about 1.15 million records a
simulated day (~13/s): the registry's 1,100 sensors at their own intervals (weather, ponding, gas, smoke,
tilt, noise, air), changes of state of its 16,000 cameras, and ~3,000 cases a weekday walking the closed
loop. The
parts live in ``feeds/sim/``; docs/SIMULATOR.md describes what they do and the scenarios.

Time. The simulator advances in ticks of ``TICK_S`` real seconds; each tick is ``TICK_S * speed``
simulated seconds (speed N = N simulated seconds per real second). Every schedule (case steps, showers,
outages) is kept in simulated seconds, so durations mean the same at any speed. Records carry the
**wall-clock time of their tick** (the nominal time of the tick, not the simulated time), so that SLA
clocks and "today" counters work against the real clock; at speed N a case therefore moves N times as
fast in wall time as it would in reality.

Determinism. Everything random comes from one seeded ``numpy`` Generator and ticks have a fixed
simulated length, so the same seed and the same start time give the same records whatever the machine's
timing; ``Simulator(..., start_s=...)`` fixes the start for tests.

State. The schedule lives in memory; about once a second the changes (cases in flight, camera states,
weather, scenario, the generator's state) are written to ``keys.SIM_*`` in one pipelined round trip,
but only once the sink has written every record produced before that point, so a restart resumes without
losing a step (it may repeat a few, which carry the same event ids and count once). On the very first
start (no saved state) it back-fills the last ``WARM_START_S`` of cases with past time stamps, so the wall
is not empty at speed 1.

Scenarios. ``dashboard.store.keys.SIM_CONTROL`` (a hash: ``scenario``, optional ``area``) is polled about
once a second; ``run.py scenario storm`` sets it and ``run.py --scenario storm`` starts with it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Collection
from typing import Any, ClassVar

import numpy as np
import redis
from pydantic import Field

from dashboard.domain.catalogue import Catalogue
from dashboard.domain.geo import Geography
from dashboard.domain.registry import Registry, default_registry
from dashboard.domain.types import ConfigModel, epoch_ms
from dashboard.store import keys
from dashboard.store.records import CameraStatus, CaseEvent, Record
from dashboard.store.sink import Sink
from feeds.base import Feed
from feeds.sim import scenarios
from feeds.sim.cameras import CameraBank
from feeds.sim.cases import CaseModel
from feeds.sim.scenarios import SCENARIO_NAMES, ActiveScenario
from feeds.sim.sensors import SensorBank
from feeds.sim.weather import Weather

log = logging.getLogger(__name__)

TICK_S = 0.1
TICK_MS = 100

WARM_START_S = 48 * 3600.0  # cases back-filled on the first start (two days: today looks like a steady day)
WEATHER_SPIN_UP_S = 6 * 3600.0  # weather run (without records) before the first start
FLUSH_S = 1.0  # real seconds between saves of the state
CONTROL_S = 1.0  # real seconds between polls of the control key
MAX_BEHIND_TICKS = 100  # further behind than this (a stall), jump ahead instead of catching up
OFFER_CHUNK = 50  # records handed to the sink at once (its buffer may be small)

PARTS: frozenset[str] = frozenset({"cases", "sensors", "cameras"})
"""What ``step`` simulates: all of it by default; a test may pass e.g. ``{"sensors:water_level"}``."""


class SimulatorConfig(ConfigModel):
    """The built-in city simulator, the default feed."""

    enabled: bool = Field(True, description="Run the simulator in the feeds role.")
    speed: float = Field(1.0, gt=0, le=10000, description="Time compression: N times as much per second.")
    seed: int | None = Field(None, ge=0, description="Random seed; the same seed repeats a run exactly.")
    scenario: str | None = Field(None, description="Named scenario to start with.")


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
        *,
        start_s: float | None = None,
        registry: Registry | None = None,
    ) -> None:
        """Simulate ``geo`` at ``speed`` times real time from ``start_s`` (default: now)."""
        super().__init__(name, sink)
        self.r: Any = client  # replies are str (decode_responses=True)
        self.geo = geo
        self.speed = float(speed)
        self.seed = seed if seed is not None else int(time.time()) % 1_000_000
        self.rng = np.random.default_rng(self.seed)
        self.sim_s = float(start_s if start_s is not None else time.time())
        self.origin_s = self.sim_s
        self.tick = 0
        reg = registry if registry is not None else default_registry()
        sensors = [s for s in reg.sensors.values() if s.cell_id in geo.cells]
        cameras = [cam for cam in reg.cameras.values() if cam.cell_id in geo.cells]
        if len(sensors) < len(reg.sensors) or len(cameras) < len(reg.cameras):
            log.warning("simulator: registry devices outside the geography's cells are left out")
        cams_by_cell: dict[str, list[str]] = {}
        for cam in cameras:
            cams_by_cell.setdefault(cam.cell_id, []).append(cam.id)
        self.weather = Weather(tuple(geo.subdistricts))
        self.sensors = SensorBank(sensors, geo, reg, self.origin_s)
        self.cameras = CameraBank(cameras, reg)
        self.cases = CaseModel(geo, catalogue, cams_by_cell)
        self.scenario: ActiveScenario | None = None
        self.warm_start_s = WARM_START_S
        self._dirty_cameras: set[str] = set()
        self._offered = 0
        self._pending_saves: list[tuple[int, Callable[[], None]]] = []

    # --- time -------------------------------------------------------------------------------------

    @property
    def dt(self) -> float:
        """Simulated seconds per tick."""
        return TICK_S * self.speed

    def wall_ms_of(self, sim_s: float, now_ms: int) -> int:
        """The wall-clock time (ms) of a simulated instant, counting back from ``now_ms`` = now."""
        return now_ms - round((self.sim_s - sim_s) * 1000.0 / self.speed)

    # --- one tick -----------------------------------------------------------------------------------

    def step(self, now_ms: int, parts: Collection[str] = PARTS) -> list[Record]:
        """Advance one tick; return the records it produced (all stamped ``now_ms``).

        ``parts`` limits what is emitted: ``cases``, ``cameras``, ``sensors`` or ``sensors:<metric>``
        (the weather and the sensors' state always advance, so physics is the same either way).
        """
        t0 = self.sim_s
        t1 = t0 + self.dt
        self.tick += 1
        self.sim_s = t1
        out: list[Record] = []
        sc = self.scenario
        if sc is not None and t1 >= sc.end_s:
            out += self.end_scenario(now_ms)
            sc = None
        self.weather.step(t1, self.dt, self.rng, sc)
        crossed = self.sensors.step(t1, self.dt, self.rng, self.weather)
        if "cases" in parts:
            for i in crossed:
                self.cases.on_alarm(
                    self.rng, self.sensors.metric[i], self.sensors.ids[i], self.sensors.cell[i], t1
                )
            out += self.cases.advance(self.rng, t0, t1, lambda _s: now_ms, sc)
        metrics = {p.split(":", 1)[1] for p in parts if p.startswith("sensors:")}
        if "sensors" in parts or metrics:
            idx = self.sensors.due(t0, t1)
            if metrics:
                idx = idx[[self.sensors.metric[i] in metrics for i in idx]] if len(idx) else idx
            out += self.sensors.readings(idx, t1, now_ms, self.rng, self.weather, self._dark_cells())
        if "cameras" in parts:
            changes = self.cameras.step(t1, self.dt, self.rng, now_ms)
            self._note_cameras(changes)
            out += changes
        return out

    def _dark_cells(self) -> frozenset[str]:
        """Cells without power (their sensors are silent)."""
        sc = self.scenario
        return frozenset(sc.cells) if sc is not None and sc.key == "power-cut" else frozenset()

    def _note_cameras(self, records: list[Record]) -> None:
        """Remember which cameras changed, for the next save."""
        self._dirty_cameras.update(r.camera_id for r in records if isinstance(r, CameraStatus))

    # --- scenarios --------------------------------------------------------------------------------

    def start_scenario(self, key: str, area: str | None, now_ms: int) -> list[Record]:
        """End the running scenario (if any) and start ``key`` (``normal``: just end it).

        Raises ValueError for an unknown scenario or area; the running one then goes on.
        """
        if key not in SCENARIO_NAMES:
            raise ValueError(f"unknown scenario {key!r} (known: {', '.join(SCENARIO_NAMES)})")
        if key == "normal":
            return self.end_scenario(now_ms)
        new = scenarios.start(key, area, self.sim_s, self.geo, self.rng)
        out = self.end_scenario(now_ms)
        self.scenario = new
        self.cases.on_scenario_start(self.rng, new)
        if key == "power-cut":
            out += self.cameras.power_cut(new.cells, now_ms)
            self._note_cameras(out)
        log.info(
            "simulator: scenario %s started in %s (%d cells) for %.0f simulated minutes",
            key,
            new.area,
            len(new.cells),
            (new.end_s - new.start_s) / 60,
        )
        return out

    def end_scenario(self, now_ms: int) -> list[Record]:
        """End the running scenario now (power returns after a cut); back to normal."""
        sc, self.scenario = self.scenario, None
        if sc is None:
            return []
        log.info("simulator: scenario %s ended", sc.key)
        out = self.cameras.power_back(now_ms) if sc.key == "power-cut" else []
        self._note_cameras(out)
        return out

    def poll_control(self, now_ms: int) -> list[Record]:
        """Take a request from the control key (and delete it); start or end the scenario it names."""
        pipe = self.r.pipeline(transaction=True)
        pipe.hgetall(keys.SIM_CONTROL)
        pipe.delete(keys.SIM_CONTROL)
        req, _ = pipe.execute()
        if not req or "scenario" not in req:
            return []
        try:
            return self.start_scenario(
                req["scenario"].strip(), (req.get("area") or "").strip() or None, now_ms
            )
        except ValueError as err:
            log.warning("simulator: control request %s refused: %s", req, err)
            return []

    # --- first start and restart --------------------------------------------------------------------

    def begin(self, now_ms: int) -> list[Record]:
        """Resume from the saved state, or (nothing saved) warm-start; return the records to write."""
        st = self.r.hgetall(keys.SIM_STATE)
        if st and "sim_s" in st:
            return self._resume(st, now_ms)
        return self.warm_start(now_ms, self.warm_start_s)

    def warm_start(self, now_ms: int, span_s: float = WARM_START_S) -> list[Record]:
        """The first start: spin up the weather, back-fill cases, announce every camera.

        Cases reported in the last ``span_s`` simulated seconds walk the loop up to now, with past time
        stamps (at the same speed, counting back from ``now_ms``); those still open stay on the
        schedule. Sensors send one reading each (their current value), not days of them.
        """
        end = self.sim_s
        t = end - WEATHER_SPIN_UP_S
        self.sim_s = t
        while t < end:
            step = min(300.0, end - t)
            t += step
            self.weather.step(t, step, self.rng, None)
            self.sensors.step(t, step, self.rng, self.weather)
        self.sim_s = end
        out: list[Record] = []
        t = end - span_s
        while t < end:
            nxt = min(end, t + 300.0)
            out += self.cases.advance(self.rng, t, nxt, lambda s: self.wall_ms_of(s, now_ms))
            t = nxt
        cams = self.cameras.announce(self.rng, now_ms)
        self._dirty_cameras.update(self.cameras.ids)
        out += cams
        idx = np.arange(len(self.sensors.ids))
        out += self.sensors.readings(idx, end, now_ms, self.rng, self.weather)
        self.r.delete(keys.SIM_LEGACY_SCHEDULE, keys.SIM_CASES, keys.SIM_CAMERAS)
        log.info(
            "simulator: first start, back-filled %d case events (%d cases open), announced %d cameras",
            sum(isinstance(x, CaseEvent) for x in out),
            self.cases.open_cases(),
            len(cams),
        )
        return out

    def _resume(self, st: dict[str, str], now_ms: int) -> list[Record]:
        """Load the saved state; at speed 1 jump to the present (steps missed while away fire now)."""
        saved_seed = int(st.get("seed", self.seed))
        if saved_seed != self.seed:
            log.info(
                "simulator: resuming a run of seed %d (not %d): its generator state goes on",
                saved_seed,
                self.seed,
            )
        self.seed = saved_seed
        self.rng.bit_generator.state = json.loads(st["rng"])
        self.origin_s = float(st.get("origin_s", st["sim_s"]))
        self.sensors.origin_s = self.origin_s
        self.tick = int(st.get("tick", 0))
        self.sim_s = max(float(st["sim_s"]), now_ms / 1000.0)
        self.weather.restore(json.loads(st["weather"]))
        self.sensors.restore(json.loads(st["sensors"]))
        self.cameras.restore(json.loads(st["cameras"]), self.sim_s)
        try:
            self.scenario = ActiveScenario.from_json(st["scenario"], self.geo) if st.get("scenario") else None
        except KeyError:  # its area is not in this geography any more
            self.scenario = None
        n = self.cases.load(self.r.hvals(keys.SIM_CASES), int(st.get("counter", 0)))
        out: list[Record] = []
        known = self.cameras.load(self.r.hgetall(keys.SIM_CAMERAS))
        if known < len(self.cameras.ids):  # a camera the saved run did not know: announce them all
            out += self.cameras.announce(self.rng, now_ms)
            self._dirty_cameras.update(self.cameras.ids)
        log.info(
            "simulator: resumed at %s with %d cases in flight, scenario %s",
            time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(self.sim_s + 8 * 3600)),
            n,
            self.scenario.key if self.scenario else "normal",
        )
        return out

    # --- saved state --------------------------------------------------------------------------------

    def state_fields(self) -> dict[str, str]:
        """The keys.SIM_STATE hash as it should be now."""
        sc = self.scenario
        return {
            "sim_s": repr(self.sim_s),
            "origin_s": repr(self.origin_s),
            "tick": str(self.tick),
            "counter": str(self.cases.counter),
            "seed": str(self.seed),
            "speed": repr(self.speed),
            "rng": json.dumps(self.rng.bit_generator.state),
            "weather": json.dumps(self.weather.snapshot()),
            "sensors": json.dumps(self.sensors.snapshot()),
            "cameras": json.dumps(self.cameras.snapshot()),
            "scenario": sc.to_json() if sc is not None else "",
            "scenario_key": sc.key if sc is not None else "normal",
            "scenario_area": sc.area if sc is not None else "",
            "scenario_left_s": str(round(max(0.0, sc.end_s - self.sim_s))) if sc is not None else "0",
            "open_cases": str(self.cases.open_cases()),
        }

    def save(self) -> Callable[[], None]:
        """Capture what changed since the last save; return the function that writes it."""
        changed, done = self.cases.take_changes()
        cams = self.cameras.statuses([self.cameras.index[x] for x in self._dirty_cameras])
        self._dirty_cameras = set()
        fields = self.state_fields()

        def write() -> None:
            pipe = self.r.pipeline(transaction=True)
            if changed:
                pipe.hset(keys.SIM_CASES, mapping=changed)
            if done:
                pipe.hdel(keys.SIM_CASES, *done)
            if cams:
                pipe.hset(keys.SIM_CAMERAS, mapping=cams)
            pipe.hset(keys.SIM_STATE, mapping=fields)
            pipe.execute()

        return write

    def _save_when_written(self) -> None:
        """Queue a save, to be written once the sink has written every record offered before it."""
        self._pending_saves.append((self._offered, self.save()))

    def _write_saves(self) -> None:
        """Write the queued saves whose records the sink has written."""
        while self._pending_saves and self.sink.written >= self._pending_saves[0][0]:
            self._pending_saves[0][1]()
            self._pending_saves.pop(0)

    # --- the loop ---------------------------------------------------------------------------------

    def _offer(self, records: list[Record], stop: threading.Event) -> None:
        """Hand records to the sink in chunks, waiting while its buffer is full (a simulator may wait)."""
        for i in range(0, len(records), OFFER_CHUNK):
            chunk = records[i : i + OFFER_CHUNK]
            while not self.sink.offer(chunk):
                if stop.is_set():
                    return
                stop.wait(0.1)
            self._offered += len(chunk)

    def run(self, stop: threading.Event) -> None:
        """Tick every TICK_S seconds until stopped; catch up after a short stall, jump after a long one."""
        while not stop.is_set():
            try:
                self._offer(self.begin(epoch_ms()), stop)
                self._offer(self.poll_control(epoch_ms()), stop)
                self._save_when_written()
                break
            except redis.RedisError as err:
                log.warning("simulator: redis unavailable (%s)", err)
                stop.wait(1.0)
        start = time.monotonic()
        wall0 = epoch_ms()
        first = self.tick
        next_house = start
        while not stop.is_set():
            now = time.monotonic()
            target = first + int((now - start) / TICK_S)
            if target - self.tick > MAX_BEHIND_TICKS:
                skipped = target - self.tick
                log.warning(
                    "simulator: %d ticks behind; jumping %.0f simulated s ahead", skipped, skipped * self.dt
                )
                self.sim_s += skipped * self.dt
                self.tick = target
            if now >= next_house:
                next_house = now + min(FLUSH_S, CONTROL_S)
                try:
                    now_ms = wall0 + (self.tick - first) * TICK_MS
                    self._offer(self.poll_control(now_ms), stop)
                    self._save_when_written()
                    self._write_saves()
                except redis.RedisError as err:
                    log.warning("simulator: redis unavailable (%s)", err)
            if self.tick >= target:
                stop.wait(TICK_S / 2)
                continue
            now_ms = wall0 + (self.tick + 1 - first) * TICK_MS
            self._offer(self.step(now_ms), stop)
        try:  # a clean stop: save what is written
            deadline = time.monotonic() + 5.0
            self._save_when_written()
            while self._pending_saves and time.monotonic() < deadline:
                self._write_saves()
                time.sleep(0.05)
        except redis.RedisError as err:
            log.warning("simulator: could not save its state (%s)", err)


def request_scenario(client: redis.Redis, name: str, area: str | None = None) -> dict[str, str]:
    """Ask a running simulator (through the control key) to start scenario ``name``; return what was set.

    Raises ValueError naming the known scenarios when ``name`` is not one of them.
    """
    if name not in SCENARIO_NAMES:
        raise ValueError(f"unknown scenario {name!r} (known: {', '.join(SCENARIO_NAMES)})")
    fields = {"scenario": name, **({"area": area} if area else {})}
    pipe = client.pipeline(transaction=True)
    pipe.delete(keys.SIM_CONTROL)
    pipe.hset(keys.SIM_CONTROL, mapping=fields)  # type: ignore[arg-type]
    pipe.execute()
    return fields


def scenario_status(client: redis.Redis) -> dict[str, str]:
    """The running simulator's scenario as it last saved it: key, area, simulated seconds left."""
    st: Any = client.hmget(keys.SIM_STATE, ["scenario_key", "scenario_area", "scenario_left_s"])
    return {k: v for k, v in zip(("scenario", "area", "left_s"), st, strict=True) if v}
