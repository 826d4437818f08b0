"""Rules and the state machine as tables: input sequences and the expected state after each step.

Everything here is pure: ``evaluate(rule, inputs, now)`` and ``transition(states, result, now)`` with the
clock passed in. A ``Run`` holds the inputs and states of a small made-up district and steps them.
"""

from __future__ import annotations

from typing import Any

import pytest

from dashboard.alerts import machine
from dashboard.alerts.inputs import (
    Areas,
    CameraCount,
    CaseSeen,
    CellPlace,
    FeedBeat,
    Inputs,
    OverdueCase,
    Sample,
    SensorInfo,
)
from dashboard.alerts.machine import AlertError, evaluate, transition
from dashboard.alerts.model import AlertState, Transition
from dashboard.alerts.rules import load_rules

T0 = 1_790_000_000_000
MIN = 60
# District D: subdistrict S1 (community C1: cells c1 low-lying, c2), subdistrict S2 (community C2: c3).
AREAS = Areas(
    "D",
    {
        "c1": CellPlace("C1", "S1", frozenset({"low_lying"})),
        "c2": CellPlace("C1", "S1", frozenset({"old_town"})),
        "c3": CellPlace("C2", "S2", frozenset()),
    },
)
SENSORS = {
    "W1": SensorInfo("W1", "water_level", "c1", 60, 0.15, 0.30),
    "W2": SensorInfo("W2", "water_level", "c2", 60, 0.15, 0.30),
    "W3": SensorInfo("W3", "water_level", "c3", 60, 0.15, 0.30),
    "T1": SensorInfo("T1", "temperature", "c1", 300, 35.0, 37.0),
}


class Run:
    """Rules over a made-up district; ``at(t)`` evaluates at T0 + t seconds."""

    def __init__(self, *rules: dict[str, Any], reopen_s: float = 600) -> None:
        """Validate ``rules`` as config data would be."""
        self.rules = load_rules(list(rules), areas=AREAS)
        self.inputs = Inputs(AREAS, sensors=dict(SENSORS), samples={}, watch_since=T0, reopen_s=reopen_s)
        self.states: dict[str, AlertState] = {}
        self.log: list[Transition] = []
        self.signal: dict[str, float | None] = {}
        self.t = 0.0

    def now(self, t: float | None = None) -> int:
        """Epoch ms of ``t`` seconds after T0 (default: the current step)."""
        return T0 + round((self.t if t is None else t) * 1000)

    def evaluate(self) -> None:
        """Evaluate every rule now."""
        for rule in self.rules:
            mine = {k: v for k, v in self.states.items() if v.rule == rule.name}
            new, trs = transition(mine, evaluate(rule, self.inputs, self.now()), self.now())
            for k in mine:
                del self.states[k]
            self.states.update(new)
            self.log += trs

    def tick(self, t: float) -> None:
        """At ``t``: sensors with a signal report it, then every rule is evaluated."""
        self.t = t
        samples: Any = self.inputs.samples
        for sid, v in self.signal.items():
            if v is not None:
                samples[sid] = Sample(self.now(), v)
        self.evaluate()

    def advance(self, t: float, every: float = 30) -> None:
        """Tick every ``every`` s up to and including ``t``."""
        while self.t + every < t:
            self.tick(self.t + every)
        if self.t < t:
            self.tick(t)

    def status(self, inst: str) -> tuple[str, str | None]:
        """(status, level) of an instance; ("normal", None) when absent."""
        st = self.states.get(inst)
        return ("normal", None) if st is None else (st.status, st.level)


def play(run: Run, inst: str, rows: list[tuple[float, Any, str, str | None]], sensor: str = "W1") -> None:
    """Rows of (time s, the sensor's value from then on or None for silence, status, level)."""
    for t, value, status, level in rows:
        run.advance(t - 1)
        run.signal[sensor] = value
        run.tick(t)
        assert run.status(inst) == (status, level), f"at t={t}s: {run.states.get(inst)}"


FLOOD = {
    "name": "flood",
    "type": "threshold",
    "metric": "water_level",
    "above": 0.30,
    "clear": 0.15,
    "for": "5m",
    "clear_for": "10m",
    "level": "yellow",
}


@pytest.mark.parametrize(
    ("rule", "rows"),
    [
        pytest.param(
            FLOOD,
            [
                (0, 0.35, "pending", "yellow"),
                (2 * MIN, 0.36, "pending", "yellow"),
                (4 * MIN, 0.10, "normal", None),  # a blip shorter than `for`
                (6 * MIN, 0.40, "pending", "yellow"),
                (9 * MIN, 0.25, "normal", None),  # back in the band before `for`: still a blip
                (30 * MIN, 0.25, "normal", None),  # in the band without having fired: nothing
            ],
            id="blips shorter than for never fire",
        ),
        pytest.param(
            FLOOD,
            [
                (0, 0.35, "pending", "yellow"),
                (4 * MIN + 59, 0.35, "pending", "yellow"),
                (5 * MIN, 0.35, "firing", "yellow"),
            ],
            id="fires once held for `for`",
        ),
        pytest.param(
            FLOOD,
            [
                (0, 0.35, "pending", "yellow"),
                (5 * MIN, 0.35, "firing", "yellow"),
                (6 * MIN, 0.29, "firing", "yellow"),  # just under the trigger: still firing
                (7 * MIN, 0.31, "firing", "yellow"),
                (8 * MIN, 0.29, "firing", "yellow"),
                (9 * MIN, 0.16, "firing", "yellow"),  # above the clear value: holds
                (30 * MIN, 0.16, "firing", "yellow"),
                (31 * MIN, 0.14, "firing", "yellow"),  # past the clear value: clear_for starts
                (36 * MIN, 0.20, "firing", "yellow"),  # back in the band: the clear clock resets
                (37 * MIN, 0.10, "firing", "yellow"),
                (46 * MIN + 59, 0.10, "firing", "yellow"),
                (47 * MIN, 0.10, "resolved", "yellow"),  # clear for 10 min
            ],
            id="hysteresis stops flapping around the threshold",
        ),
        pytest.param(
            FLOOD,
            [
                (0, 0.35, "pending", "yellow"),
                (5 * MIN, 0.35, "firing", "yellow"),
                (6 * MIN, None, "firing", "yellow"),  # the gauge falls silent: no data is not "clear"
                (60 * MIN, None, "firing", "yellow"),
                (61 * MIN, 0.05, "firing", "yellow"),
                (71 * MIN, 0.05, "resolved", "yellow"),
            ],
            id="no data keeps the state",
        ),
        pytest.param(
            {
                **FLOOD,
                "levels": [{"at": 0.5, "level": "orange"}],
                "escalate_after": [{"after": "30m", "level": "red"}],
                "deescalate_for": "5m",
            },
            [
                (0, 0.35, "pending", "yellow"),
                (5 * MIN, 0.35, "firing", "yellow"),
                (6 * MIN, 0.55, "firing", "orange"),  # a higher value step: at once
                (7 * MIN, 0.40, "firing", "orange"),  # lower warranted: wait deescalate_for
                (11 * MIN + 59, 0.40, "firing", "orange"),
                (12 * MIN, 0.40, "firing", "yellow"),  # held 5 min: steps down
                (34 * MIN + 59, 0.40, "firing", "yellow"),
                (35 * MIN, 0.40, "firing", "red"),  # firing 30 min while it holds: escalates
                (36 * MIN, 0.25, "firing", "red"),  # easing (in the band): time escalation stops
                (40 * MIN + 59, 0.25, "firing", "red"),
                (41 * MIN, 0.25, "firing", "yellow"),  # ... and steps down after deescalate_for
                (42 * MIN, 0.10, "firing", "yellow"),
                (52 * MIN, 0.10, "resolved", "yellow"),
            ],
            id="escalation and de-escalation on time",
        ),
        pytest.param(
            {**FLOOD, "below": 0.05, "above": None, "clear": 0.10, "metric": "water_level"},
            [
                (0, 0.04, "pending", "yellow"),
                (5 * MIN, 0.04, "firing", "yellow"),
                (6 * MIN, 0.08, "firing", "yellow"),  # between below and clear: holds
                (7 * MIN, 0.12, "firing", "yellow"),
                (17 * MIN, 0.12, "resolved", "yellow"),
            ],
            id="below with its clear value above",
        ),
        pytest.param(
            {**FLOOD, "above": "alarm", "clear": "warn"},
            [
                (0, 0.31, "pending", "yellow"),  # the sensor's own alarm level, 0.30
                (5 * MIN, 0.31, "firing", "yellow"),
                (6 * MIN, 0.16, "firing", "yellow"),  # above its warn level, 0.15
                (7 * MIN, 0.14, "firing", "yellow"),
                (17 * MIN, 0.14, "resolved", "yellow"),
            ],
            id="registry thresholds",
        ),
    ],
)
def test_threshold_sequences(rule: dict[str, Any], rows: list[tuple[float, Any, str, str | None]]) -> None:
    play(Run(rule), f"{rule['name']}:W1", rows)


def test_reopen_within_the_window_reuses_the_instance() -> None:
    run = Run({**FLOOD, "for": "1m", "clear_for": "1m"}, reopen_s=600)
    play(
        run,
        "flood:W1",
        [
            (0, 0.35, "pending", "yellow"),
            (1 * MIN, 0.35, "firing", "yellow"),
            (2 * MIN, 0.10, "firing", "yellow"),
            (3 * MIN, 0.10, "resolved", "yellow"),
            (5 * MIN, 0.35, "pending", "yellow"),  # again within 10 min: `for` still applies ...
            (6 * MIN, 0.35, "firing", "yellow"),  # ... and the same instance re-opens
            (7 * MIN, 0.10, "firing", "yellow"),
            (8 * MIN, 0.10, "resolved", "yellow"),
            (18 * MIN, 0.10, "resolved", "yellow"),
            (18 * MIN + 30, 0.10, "normal", None),  # quiet for the window: gone
            (20 * MIN, 0.35, "pending", "yellow"),  # a new alert
        ],
    )
    st = run.states["flood:W1"]
    assert st.started == run.now(20 * MIN) and st.reopens == 0
    reopened = [t for t in run.log if "re-opened" in t.reason]
    assert len(reopened) == 1 and reopened[0].ts == run.now(6 * MIN)
    opened = [t for t in run.log if t.from_status == "normal"]
    assert [t.ts for t in opened] == [run.now(0), run.now(20 * MIN)]


def test_a_blip_while_resolved_falls_back_to_resolved() -> None:
    run = Run({**FLOOD, "for": "2m", "clear_for": "1m"})
    play(
        run,
        "flood:W1",
        [
            (0, 0.35, "pending", "yellow"),
            (2 * MIN, 0.35, "firing", "yellow"),
            (3 * MIN, 0.10, "firing", "yellow"),
            (4 * MIN, 0.10, "resolved", "yellow"),
            (5 * MIN, 0.35, "pending", "yellow"),
            (6 * MIN, 0.10, "resolved", "yellow"),  # shorter than `for`: not re-opened
        ],
    )
    assert run.states["flood:W1"].reopens == 0


@pytest.mark.parametrize(
    ("per", "expected"),
    [
        ("sensor", {"flood:W1", "flood:W2", "flood:W3"}),
        ("cell", {"flood:c1", "flood:c2", "flood:c3"}),
        ("community", {"flood:C1", "flood:C2"}),
        ("subdistrict", {"flood:S1", "flood:S2"}),
        ("district", {"flood:D"}),
    ],
)
def test_one_instance_per_area(per: str, expected: set[str]) -> None:
    run = Run({**FLOOD, "for": 0, "per": per})
    run.signal = {"W1": 0.4, "W2": 0.5, "W3": 0.6}
    run.advance(30)
    assert set(run.states) == expected
    assert all(st.status == "firing" for st in run.states.values())
    if per == "community":
        c1 = run.states["flood:C1"]
        assert c1.value == 0.5 and c1.areas == ("C1", "S1", "D") and "W2" in c1.reason


def test_area_tags_and_aggregates() -> None:
    low = Run({**FLOOD, "for": 0, "per": "cell", "tags": ["low_lying"]})
    low.signal = {"W1": 0.4, "W2": 0.5, "W3": 0.6}
    low.advance(30)
    assert set(low.states) == {"flood:c1"}
    heat = Run(
        {
            "name": "heat", "type": "threshold", "metric": "water_level", "per": "community",
            "agg": "median", "above": 0.3, "for": 0,
        }
    )  # fmt: skip
    heat.signal = {"W1": 0.1, "W2": 0.5}  # median of C1 = 0.3
    heat.advance(30)
    assert heat.status("heat:C1") == ("firing", "yellow") and heat.states["heat:C1"].value == 0.3
    heat.signal = {"W1": 0.1, "W2": 0.2}
    heat.advance(60)
    assert heat.status("heat:C1") == ("resolved", "yellow")


# --- rate --------------------------------------------------------------------------------------------

DISPUTES = {
    "name": "disputes",
    "type": "rate",
    "per": "cell",
    "category": "disputes",
    "count": 3,
    "window": "2h",
    "level": "blue",
    "levels": [{"at": 5, "level": "yellow"}],
}


def _event(run: Run, n: int, cell: str = "c2", category: str = "disputes", step: str = "reported") -> None:
    """Case ``n`` has an event now."""
    ev = CaseSeen(run.now(), f"E{n}-{step}", f"C{n}", cell, category, "DS-0101", step, "normal")
    run.inputs.events.add(ev)


@pytest.mark.parametrize(
    ("rows", "final"),
    [
        pytest.param(
            [
                (0, [1], ("normal", None)),
                (30 * MIN, [2], ("normal", None)),
                (60 * MIN, [3], ("firing", "blue")),  # 3 within 2 h
                (61 * MIN, [4, 5], ("firing", "yellow")),  # 5: a higher step
                (120 * MIN, [], ("firing", "yellow")),  # 0..120 min: still 5
                (121 * MIN, [], ("firing", "blue")),  # case 1 aged out: 4
                (151 * MIN, [], ("firing", "blue")),  # case 2 out: 3
                (181 * MIN, [], ("resolved", "blue")),  # case 3 out: 2 < 3
            ],
            None,
            id="the window slides",
        ),
        pytest.param(
            [
                (0, [1], ("normal", None)),
                (150 * MIN, [2], ("normal", None)),  # case 1 left the window before case 3 came
                (180 * MIN, [3], ("normal", None)),
            ],
            None,
            id="spread out: never 3 at once",
        ),
    ],
)
def test_rate_sequences(rows: list[tuple[float, list[int], tuple[str, str | None]]], final: Any) -> None:
    run = Run(DISPUTES)
    for t, cases, expected in rows:
        run.advance(t - 1)
        run.t = t
        for n in cases:
            _event(run, n)
        run.tick(t)
        assert run.status("disputes:c2") == expected, f"at t={t}s"


def test_rate_counts_cases_not_events_and_filters() -> None:
    run = Run(DISPUTES)
    for step in ("reported", "registered", "escalated"):
        _event(run, 1, step=step)  # one case, three steps: only the report counts, once
    _event(run, 2, category="city_management")  # another category
    _event(run, 3, cell="c3")  # another cell
    _event(run, 4)
    run.advance(30)
    assert run.status("disputes:c2") == ("normal", None)
    _event(run, 5)
    _event(run, 5)  # a repeat of the same event is one event
    run.advance(60)
    assert run.status("disputes:c2") == ("firing", "blue") and run.states["disputes:c2"].value == 3.0
    assert "disputes:c3" not in run.states


# --- offline, overdue, stale -------------------------------------------------------------------------

BLACKOUT = {
    "name": "blackout",
    "type": "offline",
    "target": "camera",
    "per": "community",
    "above_percent": 30,
    "clear_below_percent": 15,
    "min_devices": 10,
    "for": "5m",
    "clear_for": "5m",
}


@pytest.mark.parametrize(
    ("rows"),
    [
        pytest.param(
            [
                (0, 2, ("normal", None)),
                (MIN, 8, ("pending", "yellow")),  # 8 of 20 = 40 %
                (4 * MIN, 8, ("pending", "yellow")),
                (6 * MIN, 8, ("firing", "yellow")),
                (7 * MIN, 5, ("firing", "yellow")),  # 25 %: in the band
                (20 * MIN, 2, ("firing", "yellow")),  # 10 %
                (25 * MIN, 2, ("resolved", "yellow")),
            ],
            id="a power cut",
        ),
        pytest.param(
            [(0, 8, ("pending", "yellow")), (MIN, 2, ("normal", None)), (2 * MIN, 8, ("pending", "yellow"))],
            id="a flicker",
        ),
    ],
)
def test_offline_sequences(rows: list[tuple[float, int, tuple[str, str | None]]]) -> None:
    run = Run(BLACKOUT)
    for t, down, expected in rows:
        run.advance(t - 1)
        run.inputs.cameras = {"c1": CameraCount(online=10 - down, offline=down), "c2": CameraCount(online=10)}
        run.tick(t)
        assert run.status("blackout:C1") == expected, f"at t={t}s"


def test_offline_ignores_small_areas_and_counts_silent_sensors() -> None:
    run = Run(BLACKOUT, {**BLACKOUT, "name": "sensors", "target": "sensor", "min_devices": 2, "for": 0})
    run.inputs.cameras = {"c3": CameraCount(online=1, offline=4)}  # 5 < min_devices
    run.signal = {"W1": 0.0, "W2": 0.0, "W3": 0.0}
    run.advance(5 * MIN)
    assert run.states == {}
    run.signal = {"W3": 0.0}  # c1 and c2 (community C1) fall silent
    run.advance(7 * MIN)
    assert run.states == {}  # 2 minutes < 3 intervals of 60 s
    run.advance(9 * MIN)
    # C1 has W1, W2 (60 s) and T1 (300 s, silent since the engine began watching: not yet 3 intervals)
    assert run.status("sensors:C1") == ("firing", "yellow")
    assert run.states["sensors:C1"].reason.startswith("2 of 3 sensors down in C1")


def test_overdue_per_case_and_per_area() -> None:
    run = Run(
        {"name": "urgent", "type": "overdue", "per": "case", "priority": "urgent", "level": "orange"},
        {"name": "backlog", "type": "overdue", "per": "subdistrict", "min_count": 2, "level": "blue"},
    )
    od: dict[str, OverdueCase] = {}
    run.inputs.overdue = od
    od["K1"] = OverdueCase("K1", "c1", "urgent", "handle", T0 - 10 * 60_000)
    od["K2"] = OverdueCase("K2", "c2", "normal", "dispatch", T0)
    run.advance(30)
    assert run.status("urgent:K1") == ("firing", "orange") and "urgent:K2" not in run.states
    assert run.status("backlog:S1") == ("firing", "blue") and run.states["backlog:S1"].value == 2.0
    del od["K1"]  # it moved on
    run.advance(60)
    assert run.status("urgent:K1") == ("resolved", "orange") and run.status("backlog:S1") == (
        "resolved",
        "blue",
    )


@pytest.mark.parametrize(
    ("rows"),
    [
        pytest.param(
            [
                (0, True, ("normal", None)),
                (30, False, ("normal", None)),  # the beats stop
                (90, False, ("normal", None)),  # 60 s silent: not yet longer than 60 s
                (91, False, ("firing", "yellow")),
                (11 * MIN + 31, False, ("firing", "orange")),  # escalated after 10 min
                (12 * MIN, True, ("resolved", "orange")),  # back
            ],
            id="data stops, then returns",
        ),
    ],
)
def test_stale_feed(rows: list[tuple[float, bool, tuple[str, str | None]]]) -> None:
    run = Run(
        {
            "name": "stale", "type": "stale", "target": "feed", "feeds": ["simulator", "mqtt"],
            "max_silence": "60s", "escalate_after": [{"after": "10m", "level": "orange"}],
        }
    )  # fmt: skip
    beating = True
    for t, beat, expected in rows:
        while run.t < t:
            run.t = min(t, run.t + 1)
            if beating:
                run.inputs.feeds = {
                    "simulator": FeedBeat(run.now(), run.now()),
                    "mqtt": FeedBeat(run.now(), None),
                }
            if run.t == t:
                beating = beat
                if beat:
                    run.inputs.feeds = {
                        "simulator": FeedBeat(run.now(), run.now()),
                        "mqtt": FeedBeat(run.now(), None),
                    }
            run.evaluate()
        assert run.status("stale:simulator") == expected, f"at t={t}s"


def test_stale_sensor_and_a_feed_never_heard_from() -> None:
    run = Run(
        {"name": "quiet", "type": "stale", "target": "sensor", "metrics": ["water_level"], "level": "blue"},
        {"name": "gone", "type": "stale", "target": "feed", "feeds": ["camera-poll"], "max_silence": "4m"},
    )
    run.signal = {"W1": 0.0, "W2": 0.0}  # W3 never reports: silent since the engine began watching
    run.advance(3 * MIN)
    assert run.states == {}  # 3 min is not longer than 3 intervals of 60 s
    run.advance(3 * MIN + 30)
    assert run.status("quiet:W3") == ("firing", "blue") and "gone:camera-poll" not in run.states
    run.advance(4 * MIN + 30)
    assert run.status("gone:camera-poll") == ("firing", "yellow")
    assert "never heard from" in run.states["gone:camera-poll"].reason and "quiet:W1" not in run.states
    run.signal["W3"] = 0.0
    run.advance(5 * MIN)
    assert run.status("quiet:W3") == ("resolved", "blue")


# --- people: acknowledge and silence ------------------------------------------------------------------


def _firing() -> tuple[Run, AlertState]:
    """A run with flood:W1 firing."""
    run = Run({**FLOOD, "for": 0, "clear_for": "1m"})
    run.signal = {"W1": 0.4}
    run.advance(30)
    return run, run.states["flood:W1"]


def test_acknowledge_keeps_it_firing_until_it_clears() -> None:
    run, st = _firing()
    acked, tr = machine.acknowledge(st, "王值班", "派人核查", run.now())
    assert acked.status == "acknowledged" and tr.actor == "王值班" and tr.note == "派人核查"
    assert (tr.from_status, tr.to_status) == ("firing", "acknowledged")
    run.states["flood:W1"] = acked
    run.advance(5 * MIN)
    assert run.status("flood:W1") == ("acknowledged", "yellow")
    run.signal = {"W1": 0.05}
    run.advance(7 * MIN)
    assert run.status("flood:W1") == ("resolved", "yellow")
    with pytest.raises(AlertError) as err:
        machine.acknowledge(run.states["flood:W1"], "王值班", "", run.now())
    assert err.value.status == 409


def test_silence_mutes_until_its_time() -> None:
    run, st = _firing()
    until = run.now() + 10 * 60_000
    muted, tr = machine.silence(st, "李主任", until, "维修中", run.now())
    assert muted.status == "silenced" and (tr.from_status, tr.to_status) == ("firing", "silenced")
    run.states["flood:W1"] = muted
    run.advance(10 * MIN + 29)
    assert run.status("flood:W1") == ("silenced", "yellow")
    run.advance(10 * MIN + 30)
    assert run.status("flood:W1") == ("firing", "yellow")
    assert run.log[-1].reason.startswith("silence by 李主任 ended")


@pytest.mark.parametrize(
    ("call", "status", "field"),
    [
        (lambda st, now: machine.acknowledge(None, "a", "", now), 404, "id"),
        (lambda st, now: machine.acknowledge(st, " ", "", now), 422, "actor"),
        (lambda st, now: machine.silence(st, "a", now + 1000, "  ", now), 422, "reason"),
        (lambda st, now: machine.silence(st, "a", now, "why", now), 422, "until"),
        (lambda st, now: machine.silence(None, "a", now + 1000, "why", now), 404, "id"),
    ],
)
def test_bad_actions_name_the_field(call: Any, status: int, field: str) -> None:
    run, st = _firing()
    with pytest.raises(AlertError) as err:
        call(st, run.now())
    assert (err.value.status, err.value.field) == (status, field)


def test_state_round_trips_through_json() -> None:
    _, st = _firing()
    assert AlertState.from_json(st.to_json()) == st
    assert st.public()["status"] == "firing" and st.public()["area"] == "c1"
