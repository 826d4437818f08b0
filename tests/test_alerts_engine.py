"""The alert engine against a real Redis, the clock passed in: records in the input streams make alerts
fire after ``for``; people acknowledge and silence them; a restarted engine goes on where it stopped
and fires nothing twice; every transition is in the history stream; changes reach the output stream."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
import redis

from dashboard.alerts import commands, store
from dashboard.alerts.config import AlertsConfig
from dashboard.alerts.engine import Engine
from dashboard.alerts.inputs import Areas, CellPlace
from dashboard.alerts.machine import AlertError
from dashboard.alerts.model import AlertDelta, AlertState, Transition
from dashboard.alerts.rules import RuleError, load_rules
from dashboard.domain.registry import Camera, Registry
from dashboard.queries.alerts import active
from dashboard.store import keys
from dashboard.store.records import CaseEvent, SensorReading, encode
from tests.conftest import wait_for

T0 = 1_790_000_000_000
MIN = 60_000
AREAS = Areas(
    "D",
    {
        "c1": CellPlace("C1", "S1", frozenset({"low_lying"})),
        "c2": CellPlace("C1", "S1", frozenset()),
        "c3": CellPlace("C2", "S2", frozenset()),
    },
)
RULES: list[dict[str, Any]] = [
    {
        "name": "flood", "type": "threshold", "metric": "water_level", "above": 0.30, "clear": 0.15,
        "for": "5m", "clear_for": "5m", "level": "yellow",
    },
    {"name": "urgent", "type": "overdue", "per": "case", "priority": "urgent", "level": "orange"},
]  # fmt: skip


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        """Start at T0."""
        self.t = T0

    def __call__(self) -> int:
        """Now (epoch ms)."""
        return self.t


def engine(r: redis.Redis, clock: Clock, rules: list[dict[str, Any]] | None = None, **kw: Any) -> Engine:
    """An engine on ``r`` with the test's rules and areas."""
    cfg = AlertsConfig(**kw)
    return Engine(r, cfg, load_rules(rules or RULES), AREAS, "test-engine", clock=clock)


def reading(r: Any, ts: int, value: float, sensor: str = "W1", cell: str = "c1") -> None:
    """Append a water-level reading to the input stream."""
    rec = SensorReading(sensor_id=sensor, metric="water_level", value=value, unit="m", ts=ts, cell_id=cell)
    r.xadd(keys.STREAM_SENSOR_READINGS, encode(rec))


def drive(r: Any, e: Engine, clock: Clock, until: int, value: float | None, every: int = MIN) -> None:
    """Move the clock to ``until`` in steps; the sensor reports ``value`` (None: silent) each step."""
    while clock.t < until:
        clock.t = min(until, clock.t + every)
        if value is not None:
            reading(r, clock.t, value)
        e.step()


def state(r: Any, inst: str) -> AlertState | None:
    """The stored state of an instance."""
    raw = r.hget(keys.ALERT_STATE, inst)
    return AlertState.from_json(raw) if raw is not None else None


def must(r: Any, inst: str) -> AlertState:
    """The stored state of an instance that must exist."""
    st = state(r, inst)
    assert st is not None, f"{inst} is normal"
    return st


def history(r: Any, inst: str | None = None) -> list[Transition]:
    """Every history entry (of ``inst``), oldest first."""
    out = [Transition.from_fields(f) for _, f in r.xrange(keys.ALERT_HISTORY)]
    return [t for t in out if inst is None or t.instance == inst]


def deltas(r: Any) -> list[AlertDelta]:
    """Every output-stream change, oldest first."""
    return [AlertDelta.from_fields(f) for _, f in r.xrange(keys.STREAM_ALERTS)]


def test_readings_fire_after_for_and_resolve(r: redis.Redis) -> None:
    clock = Clock()
    e = engine(r, clock)
    e.step()  # first start: creates the consumer group
    clock.t += 1000  # rules are evaluated once a second
    reading(r, clock.t, 0.35)
    e.step()
    assert state(r, "flood:W1") is not None and must(r, "flood:W1").state == "pending"
    drive(r, e, clock, T0 + 5 * MIN, 0.35)
    assert must(r, "flood:W1").state == "pending"  # pending since T0 + 1 s
    drive(r, e, clock, T0 + 5 * MIN + 1000, 0.35)
    st = state(r, "flood:W1")
    assert st is not None and st.status == "firing" and st.value == 0.35
    assert r.zrange(keys.ALERT_ACTIVE, 0, -1) == ["flood:W1"]
    assert active(r)[0]["id"] == "flood:W1"
    drive(r, e, clock, T0 + 20 * MIN, 0.05)
    assert must(r, "flood:W1").state == "resolved"
    assert r.zcard(keys.ALERT_ACTIVE) == 0
    assert [(t.from_status, t.to_status) for t in history(r)] == [
        ("normal", "pending"),
        ("pending", "firing"),
        ("firing", "resolved"),
    ]
    ds = deltas(r)
    assert [d.seq for d in ds] == list(range(1, len(ds) + 1))  # consecutive
    assert int(r.get(keys.ALERT_SEQ) or 0) == len(ds)
    assert ds[-1].alerts[0]["status"] == "resolved"
    info = {g["name"]: g for g in r.xinfo_groups(keys.STREAM_SENSOR_READINGS)}
    assert info["alerts"]["pending"] == 0  # everything acknowledged


def test_ack_keeps_it_firing_and_silence_mutes_until_its_time(r: redis.Redis) -> None:
    clock = Clock()
    e = engine(r, clock)
    drive(r, e, clock, T0 + 6 * MIN, 0.4)
    assert must(r, "flood:W1").status == "firing"
    ack = commands.submit(r, "ack", "flood:W1", "王值班", "已派人", ts=clock.t)
    e.step()  # the engine reads the command at once (a person waits for its answer)
    drive(r, e, clock, T0 + 10 * MIN, 0.4)
    assert commands.answer(r, ack, 1).acked_by == "王值班"  # applied by the engine, and answered
    st = state(r, "flood:W1")
    assert st is not None and st.status == "acknowledged" and st.acked_by == "王值班"  # the engine kept it
    commands.submit(r, "silence", "flood:W1", "李主任", "泵车已到场", clock.t + 10 * MIN, ts=clock.t)
    again = commands.submit(r, "ack", "flood:W1", "张", ts=clock.t)
    e.step()
    drive(r, e, clock, T0 + 19 * MIN, 0.4)
    assert must(r, "flood:W1").status == "silenced"
    assert active(r)[0]["status"] == "silenced"
    with pytest.raises(AlertError, match="already acknowledged by 王值班"):
        commands.answer(r, again, 1)
    drive(r, e, clock, T0 + 21 * MIN, 0.4)
    st = state(r, "flood:W1")
    assert st is not None and st.status == "acknowledged" and st.silenced_until is None  # the silence ended
    drive(r, e, clock, T0 + 30 * MIN, 0.1)
    assert must(r, "flood:W1").status == "resolved"
    steps = [(t.from_status, t.to_status, t.actor) for t in history(r)]
    assert steps == [
        ("normal", "pending", "engine"),
        ("pending", "firing", "engine"),
        ("firing", "acknowledged", "王值班"),
        ("acknowledged", "silenced", "李主任"),
        ("silenced", "acknowledged", "engine"),
        ("acknowledged", "resolved", "engine"),
    ]
    assert all(t.reason for t in history(r))
    assert [t.note for t in history(r)][2:4] == ["已派人", "泵车已到场"]
    ds = deltas(r)
    assert [d.seq for d in ds] == list(range(1, len(ds) + 1))  # engine and people share one sequence


def test_restart_keeps_states_acks_silences_and_fires_nothing_twice(r: redis.Redis) -> None:
    clock = Clock()
    e = engine(r, clock, lease_s=1)
    drive(r, e, clock, T0 + 6 * MIN, 0.4)
    clock.t += 1000
    reading(r, clock.t, 0.5, "W3", "c3")
    e.step()
    clock.t += 5 * MIN
    reading(r, clock.t, 0.5, "W3", "c3")
    reading(r, clock.t, 0.4)
    e.step()
    assert must(r, "flood:W3").status == "firing"
    commands.submit(r, "ack", "flood:W1", "王值班", ts=clock.t)
    commands.submit(r, "silence", "flood:W3", "李主任", "检修", clock.t + 60 * MIN, ts=clock.t)
    e.step()
    drive(r, e, clock, clock.t + 2 * MIN, 0.4)
    before = len(history(r))
    reading(r, clock.t + 1, 0.4)  # read by no engine yet
    del e  # the process dies, holding its lease

    again = engine(r, clock, lease_s=1)
    assert not again.lease()
    wait_for(again.lease, 3, 0.05, "the dead engine's lease to lapse")
    drive(r, again, clock, clock.t + 10 * MIN, 0.4)
    assert must(r, "flood:W1").status == "acknowledged"
    assert must(r, "flood:W3").status == "silenced"
    assert len(history(r)) == before  # nothing fired twice
    assert len([t for t in history(r) if t.to_status == "firing"]) == 2


def test_a_command_left_waiting_too_long_is_refused_not_applied(r: redis.Redis) -> None:
    """A person whose action got no answer (no engine ran) was told so; the engine must not apply it later."""
    clock = Clock()
    e = engine(r, clock)
    drive(r, e, clock, T0 + 6 * MIN, 0.4)
    late = commands.submit(r, "ack", "flood:W1", "王值班", ts=clock.t - commands.STALE_MS - 1)
    e.step()
    with pytest.raises(AlertError, match="waited too long"):
        commands.answer(r, late, 1)
    assert must(r, "flood:W1").status == "firing"


def test_a_crash_before_exec_leaves_nothing_half_written(
    r: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    e = engine(r, clock, lease_s=1)
    drive(r, e, clock, T0 + 5 * MIN, 0.4)  # pending since T0 + 1 min
    clock.t = T0 + 6 * MIN
    reading(r, clock.t, 0.4)

    class Boom(Exception):
        pass

    def fail(*_a: Any, **_k: Any) -> None:
        raise Boom

    with monkeypatch.context() as m:
        m.setattr(store, "queue_changes", fail)  # the process dies between WATCH and EXEC
        with pytest.raises(Boom):
            e.step()
    assert must(r, "flood:W1").state == "pending"
    assert len(history(r)) == 1
    info = {g["name"]: g for g in r.xinfo_groups(keys.STREAM_SENSOR_READINGS)}
    assert info["alerts"]["pending"] == 1  # read, not acknowledged: it will be read again
    again = engine(r, clock, lease_s=1)
    wait_for(again.lease, 3, 0.05, "the dead engine's lease to lapse")
    again.step()
    assert must(r, "flood:W1").state == "firing"
    assert [t.to_status for t in history(r)] == ["pending", "firing"]


def test_reopening_within_the_window_reuses_the_instance(r: redis.Redis) -> None:
    clock = Clock()
    e = engine(r, clock, reopen_window_s=600)
    drive(r, e, clock, T0 + 6 * MIN, 0.4)
    drive(r, e, clock, T0 + 12 * MIN, 0.1)
    first = state(r, "flood:W1")
    assert first is not None and first.state == "resolved"
    drive(r, e, clock, T0 + 18 * MIN, 0.4)  # within 10 minutes of resolving; `for` again
    st = state(r, "flood:W1")
    assert st is not None and st.status == "firing" and st.reopens == 1 and st.started == first.started
    assert sum(1 for t in history(r) if t.from_status == "normal") == 1  # one alert, not two
    assert any("re-opened" in t.reason for t in history(r))


def test_overdue_urgent_case_from_the_processor_stream(r: redis.Redis) -> None:
    clock = Clock()
    e = engine(r, clock)
    e.step()
    r.zadd(keys.OVERDUE, {"K1": T0 - MIN, "K2": T0 - MIN})
    for case, prio in (("K1", "urgent"), ("K2", "normal")):
        item = {
            "case": case,
            "cell": "c2",
            "dept": "x",
            "stage": "handle",
            "priority": prio,
            "deadline": T0 - MIN,
        }
        r.xadd(keys.STREAM_OVERDUE, {"d": json.dumps(item)})
    clock.t += 1000
    e.step()
    assert must(r, "urgent:K1").status == "firing"
    assert state(r, "urgent:K2") is None
    r.zrem(keys.OVERDUE, "K1")  # it moved on
    clock.t += 10_000
    e.step()
    assert must(r, "urgent:K1").status == "resolved"


def test_first_start_seeds_from_the_processor_and_run_stops(r: redis.Redis) -> None:
    cams = {
        f"CAM{i}": Camera(f"CAM{i}", "摄像头", "camera", 113.1, 23.0, "c1" if i < 8 else "c3", "road")
        for i in range(10)
    }
    r.hset(f"{keys.TAG}:rm:camera", mapping={k: "offline" if k < "CAM5" else "online" for k in cams})
    r.xgroup_create(keys.STREAM_CAMERA_STATUS, "processor", id="$", mkstream=True)
    rules = [
        {
            "name": "blackout", "type": "offline", "target": "camera", "per": "community",
            "above_percent": 30, "min_devices": 5,
        }
    ]  # fmt: skip
    clock = Clock()
    e = Engine(r, AlertsConfig(), load_rules(rules), AREAS, "runner", Registry({}, cams), clock=clock)
    stop = threading.Event()
    thread = threading.Thread(target=e.run, args=(stop,))
    thread.start()
    try:
        wait_for(lambda: state(r, "blackout:C1"), 10, 0.05, "blackout:C1")  # 5 of 8 down in C1
        assert must(r, "blackout:C1").status == "firing"
        assert state(r, "blackout:C2") is None  # 0 of 2 (too few anyway)
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()
    assert r.get(f"{keys.TAG}:alert:leader") is None  # the lease was handed back


def test_a_second_engine_waits_for_the_lease(r: redis.Redis) -> None:
    clock = Clock()
    one = engine(r, clock)
    assert one.lease()
    two = Engine(r, AlertsConfig(), load_rules(RULES), AREAS, "other", clock=clock)
    assert not two.lease()
    assert two.step() == 0


def test_rate_windows_survive_a_restart(r: redis.Redis) -> None:
    rules = [{"name": "disputes", "type": "rate", "category": "disputes", "count": 3, "window": "2h"}]

    def report(n: int, ts: int) -> None:
        ev = CaseEvent(
            event_id=f"E{n}", case_id=f"K{n}", ts=ts, step="reported", event_type="DS-0101",
            category="disputes", cell_id="c2",
        )  # fmt: skip
        r.xadd(keys.STREAM_CASE_EVENTS, encode(ev))  # type: ignore[arg-type]

    clock = Clock()
    e = engine(r, clock, rules, lease_s=1)
    e.step()
    for n in (1, 2):
        clock.t += 10 * MIN
        report(n, clock.t)
        report(n, clock.t)  # delivered twice: counts once
        e.step()
    assert state(r, "disputes:c2") is None
    stopped = threading.Event()
    stopped.set()
    e.run(stopped)  # stopping hands the lease back: the next engine takes over at once
    again = engine(r, clock, rules)
    clock.t += 10 * MIN
    report(3, clock.t)
    again.step()
    st = must(r, "disputes:c2")
    assert st.status == "firing" and st.value == 3.0
    assert engine(r, clock, rules).horizon_ms() == 2 * 3_600_000
    with pytest.raises(RuleError, match=r"\(disputes\)\.window: longer than alerts\.lookback_h \(1 h\)"):
        engine(r, clock, rules, lookback_h=1)


def test_a_person_ends_a_silence_before_its_time(r: redis.Redis) -> None:
    clock = Clock()
    e = engine(r, clock)
    drive(r, e, clock, T0 + 6 * MIN, 0.4)
    assert must(r, "flood:W1").status == "firing"
    early = commands.submit(r, "unsilence", "flood:W1", "王值班", ts=clock.t)  # nothing to end yet
    e.step()
    with pytest.raises(AlertError, match="not silenced") as err:
        commands.answer(r, early, 1)
    assert err.value.status == 409
    until = clock.t + 60 * MIN
    commands.submit(r, "silence", "flood:W1", "李主任", "泵车已到场", until, ts=clock.t)
    e.step()
    st = must(r, "flood:W1")
    assert (st.status, st.silenced_at, st.silenced_until) == ("silenced", clock.t, until)
    clock.t += 10 * MIN
    end = commands.submit(r, "unsilence", "flood:W1", "王值班", "水位仍在上涨", ts=clock.t)
    e.step()
    after = commands.answer(r, end, 1)
    assert after.status == "firing" and after.silenced_until is None and after.silenced_by is None
    assert must(r, "flood:W1").status == "firing"  # stored as the engine answered
    last = history(r, "flood:W1")[-2:]
    assert [(t.from_status, t.to_status, t.actor, t.note, t.until) for t in last] == [
        ("firing", "silenced", "李主任", "泵车已到场", until),
        ("silenced", "firing", "王值班", "水位仍在上涨", None),
    ]
    assert str(until) not in last[0].reason  # no epoch time in the words of the history
    assert deltas(r)[-1].alerts[0]["status"] == "firing"  # pushed to the screens
    again = commands.submit(r, "unsilence", "flood:W1", "王值班", ts=clock.t)
    e.step()
    with pytest.raises(AlertError, match="not silenced"):
        commands.answer(r, again, 1)
