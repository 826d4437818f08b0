"""The shipped default rules against the simulator's scenarios: each scenario raises its warnings.

The simulator runs at high speed with its records stamped in simulated time, fed through the engine's
aggregates into the pure evaluate/transition functions, the clock passed in (no Redis writes, no sleep).
"""

from __future__ import annotations

import collections
from collections.abc import Callable

import pytest
import redis

from dashboard.alerts.aggregates import Aggregates
from dashboard.alerts.inputs import Areas, FeedBeat, SensorInfo
from dashboard.alerts.levels import rank
from dashboard.alerts.machine import evaluate, transition
from dashboard.alerts.model import AlertState, Transition
from dashboard.alerts.rules import Rule, default_rules
from dashboard.domain.catalogue import default_catalogue
from dashboard.domain.geo import load_default_geography
from dashboard.domain.registry import default_registry
from dashboard.store.records import CameraStatus, CaseEvent, Record, SensorReading
from dashboard.store.sink import Sink
from feeds.simulator import Simulator

START_S = 1_790_000_000.0  # 2026-09-21 21:33 in Foshan, a Monday
GEO = load_default_geography()
AREAS = Areas.from_geography(GEO)
REG = default_registry()
RULES = {r.name: r for r in default_rules()}


class World:
    """A simulator feeding the default rules; ``run`` steps both and collects transitions."""

    def __init__(self, r: redis.Redis, speed: float, seed: int = 3) -> None:
        """Sensors and cameras of the registry; time in simulated milliseconds."""
        self.sim = Simulator(
            "simulator", Sink(r, "simulator"), r, GEO, default_catalogue(), speed, seed, start_s=START_S
        )
        self.agg = Aggregates(AREAS, SensorInfo.of_registry(REG))
        self.states: dict[str, AlertState] = {}
        self.log: list[Transition] = []
        self.now = int(START_S * 1000)
        self.agg.inputs.watch_since = self.now

    def feed(self, records: list[Record]) -> None:
        """Apply records to the aggregates."""
        for rec in records:
            assert isinstance(rec, CaseEvent | SensorReading | CameraStatus)
            self.agg.apply(rec)

    def run(self, ticks: int, parts: set[str], rules: list[Rule], every: int = 1) -> None:
        """Step the simulator ``ticks`` ticks, evaluating ``rules`` every ``every`` ticks."""
        tick_ms = round(self.sim.dt * 1000)
        for i in range(ticks):
            self.now += tick_ms
            self.feed(self.sim.step(self.now, parts))
            self.agg.inputs.feeds = {"simulator": FeedBeat(self.now, self.now)}
            if i % every == 0:
                self.evaluate(rules)

    def evaluate(self, rules: list[Rule]) -> None:
        """One evaluation of ``rules`` at the current time."""
        for rule in rules:
            mine = {k: v for k, v in self.states.items() if v.rule == rule.name}
            new, trs = transition(mine, evaluate(rule, self.agg.inputs, self.now), self.now)
            for k in mine:
                self.states.pop(k)
            self.states.update(new)
            self.log += trs

    def fired(self, rule: str) -> dict[str, str]:
        """Instance -> highest level reached, of the instances of ``rule`` that fired."""
        out: dict[str, str] = {}
        for t in self.log:
            if (
                t.rule == rule
                and t.to_status == "firing"
                and rank(t.level) >= rank(out.get(t.instance, "blue"))
            ):
                out[t.instance] = t.level
        return out


@pytest.fixture
def world(r: redis.Redis) -> Callable[[float], World]:
    """A factory of worlds at a given speed."""
    return lambda speed: World(r, speed)


def test_storm_floods_low_lying_cells(world: Callable[[float], World]) -> None:
    w = world(600)  # a simulated minute per tick
    rules = [RULES["flood-low-lying"]]
    w.run(30, {"sensors:water_level"}, rules)
    assert not w.log  # a dry evening: nothing
    w.feed(w.sim.start_scenario("storm", None, w.now))
    t0 = w.now
    w.run(6 * 60, {"sensors:water_level"}, rules)  # the 3-hour storm and 3 hours of draining
    fired = w.fired("flood-low-lying")
    low = {cid for cid, a in GEO.cells.items() if "low_lying" in a.tags}
    assert len(fired) >= 5
    assert {k.split(":", 1)[1] for k in fired} <= low
    assert "orange" in fired.values()  # held an hour, or past 0.5 m
    first = min(t.ts for t in w.log if t.to_status == "firing")
    assert 30 * 60_000 <= first - t0 <= 90 * 60_000  # ponding passes 0.30 m 40-60 min in, then `for`
    # it drains: three hours after the storm every flood alert has resolved
    assert all(st.state == "resolved" for st in w.states.values()), {
        k: st.state for k, st in w.states.items()
    }


def test_heatwave_raises_heat_warnings(world: Callable[[float], World]) -> None:
    w = world(1200)  # two simulated minutes per tick
    rules = [RULES["heat"]]
    w.feed(w.sim.start_scenario("heatwave", None, w.now))
    w.run(24 * 30, {"sensors:temperature"}, rules)  # one day
    fired = w.fired("heat")
    assert len(fired) >= 3  # most subdistricts' afternoons are past 37 °C
    assert set(fired.values()) <= {"yellow", "orange"}


def test_power_cut_blacks_out_a_community(world: Callable[[float], World]) -> None:
    w = world(300)  # 30 simulated seconds per tick
    rules = [RULES["camera-blackout"], RULES["sensor-blackout"]]
    w.feed(w.sim.cameras.announce(w.sim.rng, w.now))
    w.run(20, {"cameras", "sensors"}, rules)
    assert not [t for t in w.log if t.to_status == "firing"]  # ~3 % of cameras down is normal
    w.feed(w.sim.start_scenario("power-cut", None, w.now))
    area = w.sim.scenario.area if w.sim.scenario else ""
    w.run(60, {"cameras", "sensors"}, rules)  # 30 minutes into the cut
    assert set(w.fired("camera-blackout")) == {f"camera-blackout:{area}"}
    assert set(w.fired("sensor-blackout")) == {f"sensor-blackout:{area}"}
    w.run(160, {"cameras", "sensors"}, rules)  # power back after 90 min
    assert all(st.state == "resolved" for st in w.states.values())


def test_dispute_cluster_raises_a_rate_warning(world: Callable[[float], World]) -> None:
    w = world(600)
    rules = [RULES["dispute-cluster"]]
    w.feed(w.sim.start_scenario("dispute-cluster", None, w.now))
    cell = w.sim.scenario.area if w.sim.scenario else ""
    w.run(150, {"cases"}, rules)
    fired = w.fired("dispute-cluster")
    assert fired.get(f"dispute-cluster:{cell}") in ("blue", "yellow")
    opened = collections.Counter(t.instance for t in w.log if t.from_status == "normal")
    assert opened[f"dispute-cluster:{cell}"] == 1  # one alert, however many reports
