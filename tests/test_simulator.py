"""The simulator against a real Redis: repeatable, realistic in mix and physics, scenarios that do what
they say, a warm start the processor turns into a live wall, and a run loop that saves and resumes.

Tests step only the parts they need (``step(now_ms, parts=...)``) at high speed, so the whole file stays
fast; the clock is always passed in.
"""

from __future__ import annotations

import collections
import itertools
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis

from dashboard.config import ProcessorConfig
from dashboard.domain.catalogue import default_catalogue
from dashboard.domain.geo import load_default_geography
from dashboard.domain.lifecycle import Step, fold
from dashboard.domain.registry import default_registry
from dashboard.processor.loop import Processor
from dashboard.store import keys
from dashboard.store.paths import read_values
from dashboard.store.records import CameraStatus, CaseEvent, Record, SensorReading, decode, encode, kind_of
from dashboard.store.server import EmbeddedRedis
from dashboard.store.sink import Sink
from feeds.sim import clock
from feeds.sim.cases import NEXT_STEPS
from feeds.simulator import Simulator

ROOT = Path(__file__).resolve().parent.parent
START_S = 1_790_000_000.0  # 2026-09-21 21:33 in Foshan, a Monday
NOW = 1_790_000_000_000
TZ = ZoneInfo("Asia/Shanghai")
GEO = load_default_geography()
CAT = default_catalogue()
REG = default_registry()


def make(r: redis.Redis, seed: int, speed: float, start_s: float = START_S) -> Simulator:
    """A simulator with a fixed start, writing nowhere unless its sink is started."""
    return Simulator("simulator", Sink(r, "simulator"), r, GEO, CAT, speed, seed, start_s=start_s)


def run(sim: Simulator, ticks: int, parts: set[str], now_ms: int = NOW) -> list[Record]:
    """Step ``ticks`` ticks of ``parts``, 100 ms of wall time apart."""
    out: list[Record] = []
    for i in range(ticks):
        out += sim.step(now_ms + (i + 1) * 100, parts)
    return out


def reports(recs: list[Record]) -> list[CaseEvent]:
    """The case reports among ``recs``."""
    return [x for x in recs if isinstance(x, CaseEvent) and x.step == "reported"]


# --- repeatability and the contract ----------------------------------------------------------------


def test_same_seed_same_records_and_all_valid(r: redis.Redis) -> None:
    def one(seed: int, warm: bool = True) -> list[Record]:
        r.flushall()
        sim = make(r, seed, 60)
        back = sim.warm_start(NOW, span_s=8 * 3600) if warm else []
        return back + run(sim, 100, {"cases", "sensors", "cameras"})

    a = one(42)
    assert a == one(42)
    assert one(43, warm=False) != one(42, warm=False)
    kinds = collections.Counter(kind_of(x) for x in a)
    assert kinds["camera_status"] >= 16_000 and kinds["case_event"] > 500 and kinds["sensor_reading"] > 1100
    cells = set(GEO.cells)
    for x in a[::7]:  # records survive the contract round trip
        assert decode(kind_of(x), encode(x)) == x
    for x in a:
        assert x.cell_id in cells
        if isinstance(x, SensorReading):
            s = REG.sensors[x.sensor_id]
            assert (x.metric, x.unit, x.cell_id) == (s.metric, s.unit, s.cell_id)
            assert s.spec.lo <= x.value <= s.spec.hi
        elif isinstance(x, CameraStatus):
            assert REG.cameras[x.camera_id].cell_id == x.cell_id
        else:
            assert x.lon is not None and x.lat is not None
            assert GEO.cell_at(x.lon, x.lat) == x.cell_id  # a point inside the case's cell
            assert x.department is None or x.department in CAT.departments


# --- three simulated days of cases, shared by the mix and loop tests ---------------------------------


@pytest.fixture(scope="module")
def three_days(redis_server: EmbeddedRedis) -> Iterator[list[CaseEvent]]:
    """Case events of three simulated days (speed 6000: ten minutes a tick)."""
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    client.flushall()
    sim = make(client, 7, 6000)
    recs = run(sim, 432, {"cases"})
    client.close()
    yield [x for x in recs if isinstance(x, CaseEvent)]


def test_category_mix_follows_the_catalogue(three_days: list[CaseEvent]) -> None:
    got = collections.Counter(x.category for x in reports(three_days))  # type: ignore[arg-type]
    n = sum(got.values())
    assert 7000 < n < 11000  # ~3,000 a day
    weights: collections.Counter[str] = collections.Counter()
    for t in CAT.event_types.values():
        weights[t.category] += t.weight
    total = sum(weights.values())
    for cat, w in weights.items():
        assert got[cat] / n == pytest.approx(w / total, abs=0.025), cat


def test_old_town_has_more_disputes_per_cell_than_industrial_cells(three_days: list[CaseEvent]) -> None:
    per_cell = collections.Counter(x.cell_id for x in reports(three_days) if x.category == "disputes")  # type: ignore[arg-type]

    def mean(tag: str) -> float:
        cells = [cid for cid, a in GEO.cells.items() if tag in a.tags]
        return sum(per_cell[cid] for cid in cells) / len(cells)

    assert mean("old_town") > 3 * mean("industrial")
    vending = collections.Counter(x.cell_id for x in reports(three_days) if x.event_type == "CM-0101")  # type: ignore[arg-type]
    market = [cid for cid, a in GEO.cells.items() if "market" in a.tags]
    assert sum(vending[cid] for cid in market) > 0.5 * sum(vending.values())  # 8 % of cells, most vending


def test_cases_walk_the_loop_in_order(three_days: list[CaseEvent]) -> None:
    by_case: dict[str, list[CaseEvent]] = collections.defaultdict(list)
    for x in three_days:
        by_case[x.case_id].append(x)
    steps: collections.Counter[str] = collections.Counter()
    for events in by_case.values():
        assert events[0].step == "reported"
        assert [e.seq for e in events] == list(range(len(events)))
        assert [e.ts for e in events] == sorted(e.ts for e in events)
        for a, b in itertools.pairwise(events):
            assert b.step in NEXT_STEPS[a.step], (a.case_id, a.step, b.step)
        _, rejected = fold(events[0].case_id, [Step(e.ts, e.seq, e.event_id, e.step) for e in events])
        assert rejected == []  # legal for the processor's own state machine
        steps.update(e.step for e in events)
    finished = sum(1 for ev in by_case.values() if ev[-1].step in ("closed", "cancelled"))
    assert finished > 0.6 * len(by_case)
    n = steps["reported"]
    assert 0.03 < steps["cancelled"] / n < 0.07
    assert steps["returned"] > 0.03 * n and steps["escalated"] > 0.005 * n and steps["reopened"] > 0.01 * n
    # departments are catalogue ids; local ones are named after the cell's own subdistrict / community
    for e in three_days:
        if e.step in ("handled", "feedback") and e.department == "local_community":
            comm = GEO.ancestors(e.cell_id)[2].name_zh
            assert e.actor is not None and e.actor.startswith(comm)
        if e.step == "reported" and e.actor is not None and e.actor.startswith("GW-"):
            assert e.actor.startswith(f"GW-{e.cell_id}-")


def test_some_departments_are_slow_and_a_few_cases_go_overdue(three_days: list[CaseEvent]) -> None:
    sim_s_per_ms = 600 / 100  # ten simulated minutes per 100 ms tick
    hours: dict[str, list[float]] = collections.defaultdict(list)
    overdue = total = 0
    since: dict[str, tuple[int, str]] = {}
    for e in three_days:
        if e.step == "dispatched":
            since[e.case_id] = (e.ts, e.department or "")
        elif e.step == "handled" and e.case_id in since:
            t0, dept = since.pop(e.case_id)
            h = (e.ts - t0) * sim_s_per_ms / 3600
            hours[dept].append(h)
            if e.priority == "normal":
                total += 1
                overdue += h > 24
    med = {d: sorted(v)[len(v) // 2] for d, v in hours.items() if len(v) >= 20}
    assert med["fire_rescue"] < med["urban_mgmt"] < med["civil_affairs"]
    assert 0.01 < overdue / total < 0.15


# --- scenarios --------------------------------------------------------------------------------------


def test_storm_floods_low_lying_cells_and_then_drains(r: redis.Redis) -> None:
    sim = make(r, 3, 600)  # a minute a tick
    low = {cid for cid, a in GEO.cells.items() if "low_lying" in a.tags}
    parts = {"sensors:water_level", "sensors:rainfall", "cases"}
    before = run(sim, 60, parts)
    sim.start_scenario("storm", None, NOW)
    during = run(sim, 90, parts)  # 1.5 simulated hours
    after = run(sim, 240, {"sensors:water_level"})  # the storm ends at 3 h; drains within the next hours

    def levels(recs: list[Record]) -> list[float]:
        return [x.value for x in recs if isinstance(x, SensorReading) and x.metric == "water_level"]

    alarm = next(s.thresholds.alarm for s in REG.sensors.values() if s.metric == "water_level")
    assert max(levels(before)) < alarm
    low_levels = [
        x.value
        for x in during
        if isinstance(x, SensorReading) and x.metric == "water_level" and x.cell_id in low
    ]
    assert sum(v >= alarm for v in low_levels) > 100
    rain = [x.value for x in during if isinstance(x, SensorReading) and x.metric == "rainfall"]
    assert max(rain) > 50
    flood = {"SF-0501", "SF-0502", "CM-0401", "CM-0402"}
    n_before = sum(1 for x in reports(before) if x.event_type in flood)
    n_during = sum(1 for x in reports(during) if x.event_type in flood and x.cell_id in low)
    assert n_during >= 10 and n_during > 5 * max(n_before, 1)
    assert sim.scenario is None  # ended by itself
    assert max(levels(after[-242 * 10 :])) < alarm


def test_heatwave_brings_38_to_41_degrees(r: redis.Redis) -> None:
    sim = make(r, 5, 3000)  # five minutes a tick
    normal = run(sim, 288, {"sensors:temperature"})
    sim.start_scenario("heatwave", None, NOW)
    hot = run(sim, 288, {"sensors:temperature", "cases"})
    t_normal = [x.value for x in normal if isinstance(x, SensorReading)]
    t_hot = [x.value for x in hot if isinstance(x, SensorReading)]
    assert max(t_normal) < 36
    assert 38 <= max(t_hot) <= 41.5
    assert min(t for t in t_hot[len(t_hot) // 2 :]) > 26  # warm nights too
    heat = collections.Counter(x.event_type for x in reports(hot))
    assert heat["SV-0504"] + heat["SF-0601"] > 5  # power cuts, people trapped in lifts


def test_power_cut_takes_a_community_offline_and_back(r: redis.Redis) -> None:
    sim = make(r, 9, 600)
    sim.cameras.announce(sim.rng, NOW)
    area = "ZM-C01"
    cells = {cid for cid, a in GEO.cells.items() if a.parent_id == area}
    cams = [cid for cid, cam in REG.cameras.items() if cam.cell_id in cells]
    before = sim.cameras.statuses([sim.cameras.index[cid] for cid in cams])
    was_online = {cid for cid, st in before.items() if st == "online"}
    cut = sim.start_scenario("power-cut", area, NOW)
    went_off = {x.camera_id for x in cut if isinstance(x, CameraStatus) and x.status == "offline"}
    assert went_off == {cid for cid, st in before.items() if st != "offline"} and len(went_off) > 50
    during = run(sim, 80, {"cameras", "sensors"})
    assert not [x for x in during if isinstance(x, SensorReading) and x.cell_id in cells]  # dark
    assert not [x for x in during if isinstance(x, CameraStatus) and x.camera_id in cams]
    back = run(sim, 20, {"cameras"})
    assert sim.scenario is None
    restored = {x.camera_id: x.status for x in back if isinstance(x, CameraStatus) and x.camera_id in cams}
    assert restored == {cid: st for cid, st in before.items() if st != "offline"}  # each back as it was
    assert was_online


def test_dispute_cluster_in_one_cell_within_two_hours(r: redis.Redis) -> None:
    sim = make(r, 11, 600)
    sim.start_scenario("dispute-cluster", None, NOW)
    assert sim.scenario is not None
    cell = sim.scenario.cells[0]
    assert "old_town" in GEO.cells[cell].tags
    recs = run(sim, 120, {"cases"})
    disputes = [x for x in reports(recs) if x.cell_id == cell and x.category == "disputes"]
    assert len(disputes) >= 3
    assert disputes[2].ts - disputes[0].ts <= 120 * 100  # ticks of a simulated minute: within 2 h


def test_scenario_names_and_areas_are_checked(r: redis.Redis) -> None:
    sim = make(r, 1, 60)
    with pytest.raises(ValueError, match="known: normal, storm, heatwave, power-cut, dispute-cluster"):
        sim.start_scenario("tornado", None, NOW)
    with pytest.raises(ValueError, match="unknown area"):
        sim.start_scenario("storm", "XX-9999", NOW)
    sim.start_scenario("storm", "ZM", NOW)
    assert sim.scenario is not None and set(sim.scenario.cells) == {
        cid for cid in GEO.cells if GEO.ancestors(cid)[1].id == "ZM"
    }
    sim.start_scenario("normal", None, NOW)
    assert sim.scenario is None


def test_control_key_switches_the_scenario(r: redis.Redis) -> None:
    sim = make(r, 1, 60)
    r.hset(keys.SIM_CONTROL, mapping={"scenario": "power-cut", "area": "SW-C02"})
    sim.poll_control(NOW)
    assert sim.scenario is not None and sim.scenario.key == "power-cut" and sim.scenario.area == "SW-C02"
    assert not r.exists(keys.SIM_CONTROL)  # taken
    r.hset(keys.SIM_CONTROL, mapping={"scenario": "no-such-thing"})
    assert sim.poll_control(NOW) == [] and sim.scenario.key == "power-cut"  # refused, logged
    r.hset(keys.SIM_CONTROL, mapping={"scenario": "normal"})
    sim.poll_control(NOW)
    assert sim.scenario is None


def test_run_py_scenario_command_sets_the_control_key(redis_server: EmbeddedRedis, r: redis.Redis) -> None:
    env = dict(os.environ, REDIS_URL=redis_server.url)
    done = subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "scenario", "storm", "--area", "NZ"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert r.hgetall(keys.SIM_CONTROL) == {"scenario": "storm", "area": "NZ"}
    assert "storm" in done.stdout
    bad = subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "--scenario", "flood"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2
    assert "dispute-cluster" in bad.stderr and "flood" in bad.stderr


# --- warm start, the run loop, restart ----------------------------------------------------------------


def _drain(r: redis.Redis, sink: Sink, n: int) -> None:
    """Wait until ``sink`` has written ``n`` records."""
    deadline = time.monotonic() + 30
    while sink.written < n and time.monotonic() < deadline:
        time.sleep(0.02)
    assert sink.written >= n


def test_warm_start_fills_the_wall_without_a_sensor_flood(r: redis.Redis) -> None:
    # yesterday 15:00 in Foshan: at speed 1 the back-fill covers the two days before it
    yesterday = datetime.now(TZ).replace(hour=15, minute=0, second=0, microsecond=0).timestamp() - 86400
    sim = Simulator("simulator", Sink(r, "simulator"), r, GEO, CAT, 1.0, 5, start_s=yesterday)
    now_ms = int(yesterday * 1000)
    assert sim.begin(now_ms)  # nothing saved: a warm start (two days of cases) ...
    r.flushall()
    sim = Simulator("simulator", Sink(r, "simulator").start(), r, GEO, CAT, 1.0, 5, start_s=yesterday)
    recs = [x for x in sim.warm_start(now_ms, span_s=20 * 3600) if not isinstance(x, CameraStatus)]
    kinds = collections.Counter(kind_of(x) for x in recs)  # ... shortened here: the processor is slow
    assert kinds["sensor_reading"] == len(REG.sensors)  # one reading each, not a day of them
    events = [x for x in recs if isinstance(x, CaseEvent)]
    assert min(x.ts for x in events) < now_ms - 19 * 3600_000 and max(x.ts for x in events) <= now_ms
    sim.sink.offer(recs)
    _drain(r, sim.sink, len(recs))
    sim.sink.stop()
    proc = Processor(r, ProcessorConfig(batch_size=2000), "test")
    proc.ensure_groups()
    while proc.step(block_ms=10):
        pass
    day = datetime.fromtimestamp(yesterday, TZ).strftime("%Y%m%d")
    opened, reported, closed = read_values(
        r, [("kpi", "open"), ("days", day, "n", "reported"), ("days", day, "n", "closed")]
    )
    assert opened > 1000 and reported > 1000 and closed > 150
    stats = r.hgetall(keys.PROCESSOR_STATS)
    assert int(stats.get("dead", 0)) == 0 and int(stats.get("illegal", 0)) == 0


def test_run_loop_saves_and_resumes(r: redis.Redis) -> None:
    sink = Sink(r, "simulator").start()
    sim = Simulator("simulator", sink, r, GEO, CAT, 120.0, 8)
    sim.warm_start_s = 12 * 3600  # a shorter back-fill: less for the sink to write before the first save
    stop = threading.Event()
    th = threading.Thread(target=sim.run, args=(stop,), daemon=True)
    th.start()
    deadline = time.monotonic() + 20
    while not r.hget(keys.SIM_STATE, "sim_s") and time.monotonic() < deadline:
        time.sleep(0.05)
    r.hset(keys.SIM_CONTROL, mapping={"scenario": "storm"})
    while r.hget(keys.SIM_STATE, "scenario_key") != "storm" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert r.hget(keys.SIM_STATE, "scenario_key") == "storm"
    stop.set()
    th.join(10)
    sink.stop()
    assert not th.is_alive()
    # a real population of cases (how many depends on the hours of the day the 12 h back-fill covers)
    assert r.hlen(keys.SIM_CASES) == len(sim.cases.cases) > 100
    assert r.xlen(keys.STREAM_CAMERA_STATUS) >= 16_000 and r.xlen(keys.STREAM_SENSOR_READINGS) > 1100
    # a restart resumes: same cases in flight, the storm still on, no second camera announcement
    again = Simulator("simulator", Sink(r, "simulator"), r, GEO, CAT, 120.0, 8)
    recs = again.begin(int(time.time() * 1000))
    assert recs == []
    assert set(again.cases.cases) == set(sim.cases.cases)
    assert again.scenario is not None and again.scenario.key == "storm"
    assert again.sim_s == pytest.approx(sim.sim_s, abs=1.0)
    assert again.rng.bit_generator.state == sim.rng.bit_generator.state


def test_day_night_and_weekday_rhythm() -> None:
    monday = 1_789_920_000.0  # 2026-09-21, a Monday, 00:00 in Foshan
    assert clock.weekday(monday) == 0 and clock.local_hour(monday) == 0
    grid = clock.GRID_PATROL
    assert grid.at(monday + 10 * 3600) > 20 * grid.at(monday + 3 * 3600)
    assert grid.at(monday + 5 * 86400 + 10 * 3600) < 0.7 * grid.at(monday + 10 * 3600)  # Saturday
    assert clock.HOTLINE.at(monday + 3 * 3600) > 0  # the hotline never closes
    assert clock.diurnal_temperature(monday + 14.5 * 3600) == pytest.approx(1.0)
    assert clock.diurnal_temperature(monday + 6 * 3600) == pytest.approx(-1.0)
