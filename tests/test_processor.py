"""The processor against a real Redis: counts, idempotence, order-independence, dead letters, deltas,
SLA deadlines, crash recovery."""

from __future__ import annotations

import json
import random
from typing import Any

import redis

from dashboard.config import ProcessorConfig
from dashboard.domain import counters
from dashboard.processor.loop import Processor
from dashboard.store import keys
from dashboard.store.deltas import Delta
from dashboard.store.records import STREAM_OF, CameraStatus, CaseEvent, Record, encode, kind_of
from tests.conftest import wait_for

TS = 1_790_000_000_000  # 2026-09-21 22:13 in Shanghai
DAY = "20260921"
HOUR_MS = 3_600_000


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: int = TS) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def ev(
    case: str, step: str, n: int, cell: str = "ZM-0001", dept: str | None = "urban_mgmt", **kw: Any
) -> CaseEvent:
    return CaseEvent(
        event_id=f"{case}-{n}",
        case_id=case,
        seq=n,
        ts=kw.pop("ts", TS + n * 1000),
        step=step,  # type: ignore[arg-type]
        event_type="CM-0101",
        category="city_management",
        cell_id=cell,
        department=dept if step not in ("reported", "registered") else None,
        **kw,
    )


def xadd(r: redis.Redis, *recs: Record) -> None:
    for rec in recs:
        r.xadd(STREAM_OF[kind_of(rec)], encode(rec))  # type: ignore[arg-type]


def drain(p: Processor) -> int:
    total = 0
    while n := p.step():
        total += n
    return total


def make(r: redis.Redis, consumer: str = "t1", clock: Clock | None = None) -> Processor:
    places = {
        "ZM-0001": counters.Place("ZM-0001", "ZM-C01", "ZM"),
        "ZM-0002": counters.Place("ZM-0002", "ZM-C01", "ZM"),
        "SW-0001": counters.Place("SW-0001", "SW-C01", "SW"),
    }
    p = Processor(
        r, ProcessorConfig(batch_size=7, claim_idle_ms=1000), consumer, places=places, clock=clock or Clock()
    )
    p.ensure_groups()
    return p


def ints(h: dict[str, str]) -> dict[str, int]:
    return {k: int(v) for k, v in h.items() if int(v) != 0}


def models(r: redis.Redis) -> dict[str, dict[str, int]]:
    """Every counter hash of the read models (zeros dropped), for comparing two runs."""
    out = {}
    for key in sorted(r.scan_iter(f"{keys.TAG}:rm:*")):
        if r.type(key) == "hash" and key not in (
            keys.CASE_INDEX,
            keys.PROCESSOR_STATS,
            keys.CAMERA_STATE,
            keys.SENSOR_LAST,
            keys.HEALTH,  # scores at the time they were computed: not a function of the events alone
        ):
            out[key] = ints(r.hgetall(key))
    return out


def test_open_cases_per_cell_and_stage(r: redis.Redis) -> None:
    p = make(r)
    xadd(
        r,
        ev("A", "reported", 0),
        ev("A", "registered", 1),
        ev("A", "dispatched", 2),
        ev("B", "reported", 0, "ZM-0002"),
    )
    xadd(r, ev("C", "reported", 0), ev("C", "cancelled", 1), ev("D", "reported", 0, "SW-0001"))
    drain(p)
    assert ints(r.hgetall(keys.CELL_OPEN)) == {"ZM-0001": 1, "ZM-0002": 1, "SW-0001": 1}
    assert r.hget(keys.COUNTERS, "open") == "3"
    open_ = ints(r.hgetall(keys.OPEN))
    assert open_["district:all:handle"] == 1 and open_["district:all:registration"] == 2
    assert open_["subdistrict:ZM:handle"] == 1 and open_["dept:urban_mgmt:handle"] == 1
    day = ints(r.hgetall(keys.day_key(DAY)))
    assert day["reported"] == 4 and day["cancelled"] == 1 and day["dispatched:dept:urban_mgmt"] == 1
    assert r.xpending(keys.STREAM_CASE_EVENTS, "processor")["pending"] == 0


def test_invariants_hold_after_a_busy_mix(r: redis.Redis) -> None:
    p = make(r)
    rnd = random.Random(3)
    paths = [
        ["reported", "registered", "dispatched", "handled", "feedback", "verified", "closed"],
        ["reported", "registered", "dispatched", "returned", "dispatched"],
        ["reported", "cancelled"],
        ["reported", "escalated", "dispatched", "handled"],
        ["reported", "registered"],
    ]
    for i in range(60):
        path = paths[i % len(paths)][: rnd.randint(1, 7)]
        cell = rnd.choice(["ZM-0001", "ZM-0002", "SW-0001"])
        xadd(r, *[ev(f"K{i}", s, n, cell) for n, s in enumerate(path)])
    drain(p)
    open_ = ints(r.hgetall(keys.OPEN))
    total = int(r.hget(keys.COUNTERS, "open") or 0)
    assert sum(v for k, v in open_.items() if k.startswith("district:")) == total
    assert sum(v for k, v in open_.items() if k.startswith("subdistrict:")) == total
    assert sum(v for k, v in open_.items() if k.startswith("cell:")) == total
    assert sum(v for k, v in open_.items() if k.startswith("dept:")) == total
    assert sum(ints(r.hgetall(keys.CELL_OPEN)).values()) == total
    indexed = [json.loads(v) for v in r.hvals(keys.CASE_INDEX)]
    assert sum(1 for x in indexed if x["open"] and x["valid"]) == total


def test_shuffled_and_duplicated_delivery_gives_the_same_read_models(r: redis.Redis) -> None:
    path = ["reported", "registered", "dispatched", "returned", "dispatched", "handled", "feedback", "closed"]
    events = [ev(f"S{i}", s, n, ["ZM-0001", "SW-0001"][i % 2]) for i in range(6) for n, s in enumerate(path)]
    p = make(r)
    xadd(r, *events)
    drain(p)
    in_order = models(r)
    r.flushall()
    p = make(r)
    mixed = events + random.Random(1).sample(events, 10)
    random.Random(2).shuffle(mixed)
    xadd(r, *mixed)
    drain(p)
    assert models(r) == in_order
    assert int(r.hget(keys.PROCESSOR_STATS, "duplicates") or 0) == 10


def test_a_record_delivered_twice_counts_once(r: redis.Redis) -> None:
    p = make(r)
    batch = [ev("A", "reported", 0), ev("B", "reported", 0), ev("A", "reported", 0)]
    xadd(r, *batch)
    drain(p)
    xadd(r, *batch)
    drain(p)
    assert r.hget(keys.CELL_OPEN, "ZM-0001") == "2"
    stats = r.hgetall(keys.PROCESSOR_STATS)
    assert stats["applied"] == "2" and stats["duplicates"] == "4"


def test_illegal_transition_is_dead_lettered_and_not_applied(r: redis.Redis) -> None:
    p = make(r)
    xadd(r, ev("A", "reported", 0), ev("A", "closed", 1))
    drain(p)
    dead = r.xrange(keys.STREAM_DEAD_LETTER)
    assert len(dead) == 1 and "illegal transition: closed from reported" in dead[0][1]["reason"]
    assert r.hget(keys.PROCESSOR_STATS, "illegal") == "1"
    assert r.hget(keys.CELL_OPEN, "ZM-0001") == "1"
    assert json.loads(r.hget(keys.CASE_INDEX, "A") or "{}")["step"] == "reported"


def test_malformed_entries_go_to_dead_letter_and_processing_goes_on(r: redis.Redis) -> None:
    p = make(r)
    r.xadd(keys.STREAM_CASE_EVENTS, {"v": "1", "d": json.dumps({"event_id": "x"})})
    r.xadd(keys.STREAM_CAMERA_STATUS, {"garbage": "1"})
    xadd(r, ev("A", "reported", 0))
    drain(p)
    reasons = sorted(f["reason"] for _, f in r.xrange(keys.STREAM_DEAD_LETTER))
    assert len(reasons) == 2
    assert any("case_id" in x for x in reasons) and any("no 'd' field" in x for x in reasons)
    assert r.hget(keys.CELL_OPEN, "ZM-0001") == "1"


def test_deltas_are_consecutive_and_add_up_to_the_read_models(r: redis.Redis) -> None:
    p = make(r)
    for i in range(20):
        xadd(r, ev(f"K{i}", "reported", 0, ["ZM-0001", "ZM-0002", "SW-0001"][i % 3]))
    xadd(r, ev("K1", "registered", 1), ev("K1", "cancelled", 2))
    drain(p)
    deltas = [Delta.from_fields(f) for _, f in r.xrange(keys.STREAM_DELTAS)]
    assert [d.seq for d in deltas] == list(range(1, len(deltas) + 1))
    assert int(r.get(keys.DELTA_SEQ) or 0) == len(deltas)
    last: dict[tuple[str, ...], int] = {}  # each counter's newest value, as a page applying them has
    for d in deltas:
        last.update(d.vals)
    cells = {p[1]: n for p, n in last.items() if p[0] == "cells"}
    assert {k: v for k, v in cells.items() if v} == ints(r.hgetall(keys.CELL_OPEN))
    assert last[("kpi", "open")] == int(r.hget(keys.COUNTERS, "open") or 0) == 19
    assert last[("days", DAY, "n", "reported")] == 20 and last[("days", DAY, "n", "cancelled")] == 1
    assert sum(len(d.ticker) for d in deltas) == 22
    # a delta carries what it changed: the new values of the counters its batch touched, no others
    heads = {p[0] for d in deltas for p, _ in d.vals}
    assert heads <= {"cells", "kpi", "open", "overdue", "days", "hours", "m5"}


def test_stage_goes_overdue_exactly_at_its_deadline(r: redis.Redis) -> None:
    clock = Clock(TS)
    p = make(r, clock=clock)
    xadd(r, ev("A", "reported", 0, ts=TS), ev("A", "registered", 1, ts=TS), ev("A", "dispatched", 2, ts=TS))
    drain(p)
    due = TS + 24 * HOUR_MS  # ordinary case: handling within 24 h
    assert r.zscore(keys.DEADLINES, "A") == due
    clock.now = due - 1
    assert p.check_deadlines() == 0
    clock.now = due
    assert p.check_deadlines() == 1
    assert r.zscore(keys.OVERDUE, "A") == due and r.zscore(keys.DEADLINES, "A") is None
    assert ints(r.hgetall(keys.OVERDUE_N))["dept:urban_mgmt"] == 1
    assert r.hget(keys.COUNTERS, "overdue") == "1"
    item = json.loads(r.xrange(keys.STREAM_OVERDUE)[0][1]["d"])
    assert item["case"] == "A" and item["stage"] == "handle" and item["deadline"] == due
    assert p.check_deadlines() == 0  # once
    xadd(r, ev("A", "handled", 3, ts=due + 5))  # late, but it moves on: no longer overdue
    drain(p)
    assert r.zscore(keys.OVERDUE, "A") is None and int(r.hget(keys.COUNTERS, "overdue") or 0) == 0
    assert r.zscore(keys.DEADLINES, "A") is not None


def test_urgent_cases_have_shorter_deadlines_and_on_time_rate(r: redis.Redis) -> None:
    p = make(r)
    quick = ["reported", "registered", "dispatched", "handled", "feedback", "verified", "closed"]
    xadd(r, *[ev("U", s, n, priority="urgent", ts=TS + n * 60_000) for n, s in enumerate(quick)])
    slow = [("reported", 0), ("registered", 1), ("dispatched", 2), ("handled", 2 + 30 * 60),
            ("feedback", 2000), ("verified", 2001), ("closed", 2002)]  # fmt: skip
    xadd(r, *[ev("L", s, n, ts=TS + m * 60_000) for n, (s, m) in enumerate(slow)])
    drain(p)
    days = {k: ints(r.hgetall(k)) for k in r.scan_iter(f"{keys.TAG}:rm:day:*")}
    total_ontime = sum(d.get("ontime", 0) for d in days.values())
    total_late = sum(d.get("late", 0) for d in days.values())
    assert (total_ontime, total_late) == (1, 1)


def test_unacknowledged_entries_are_processed_after_a_crash(r: redis.Redis) -> None:
    xadd(r, *[ev(f"P{i}", "reported", 0) for i in range(10)])
    p = make(r, "crashy")
    r.xreadgroup("processor", "crashy", {keys.STREAM_CASE_EVENTS: ">"}, count=4)
    assert r.xpending(keys.STREAM_CASE_EVENTS, "processor")["pending"] == 4
    drain(p)
    assert r.hget(keys.CELL_OPEN, "ZM-0001") == "10"
    assert r.xpending(keys.STREAM_CASE_EVENTS, "processor")["pending"] == 0


def test_another_consumers_idle_pending_entries_are_claimed(r: redis.Redis) -> None:
    xadd(r, *[ev(f"Q{i}", "reported", 0) for i in range(5)])
    make(r, "gone")
    r.xreadgroup("processor", "gone", {keys.STREAM_CASE_EVENTS: ">"}, count=5)
    p = make(r, "other")
    assert p.step() == 0  # the dead consumer's entries are not idle long enough yet
    wait_for(
        lambda: all(e["time_since_delivered"] >= 1000 for e in r.xpending_range(keys.STREAM_CASE_EVENTS,
                                                                                  "processor", "-", "+", 10)),
        5, 0.05, "the dead consumer's entries to be idle for the claim time",
    )  # fmt: skip
    drain(p)
    assert r.hget(keys.CELL_OPEN, "ZM-0001") == "5"


def test_cameras_counted_by_state_change(r: redis.Redis) -> None:
    p = make(r)
    xadd(
        r,
        CameraStatus(camera_id="K1", status="online", ts=TS, cell_id="X"),
        CameraStatus(camera_id="K2", status="offline", ts=TS, cell_id="X"),
        CameraStatus(camera_id="K1", status="fault", ts=TS, cell_id="X"),
        CameraStatus(camera_id="K2", status="online", ts=TS, cell_id="X"),
        CameraStatus(camera_id="K2", status="online", ts=TS, cell_id="X"),
    )
    drain(p)
    assert r.hget(keys.COUNTERS, "cameras") == "2"
    assert r.hget(keys.COUNTERS, "cameras_down") == "1"


def test_trim_forgets_old_closed_cases_and_keeps_open_ones(r: redis.Redis) -> None:
    clock = Clock(TS)
    p = make(r, clock=clock)
    closed = ["reported", "registered", "dispatched", "handled", "feedback", "verified", "closed"]
    xadd(
        r,
        *[ev("OLD", s, n) for n, s in enumerate(closed)],
        ev("OPEN", "reported", 0),
        ev("NEW", "reported", 0),
    )
    drain(p)
    clock.now = TS + 91 * 24 * HOUR_MS
    xadd(r, ev("NEW2", "reported", 0, ts=clock.now))
    drain(p)
    assert p.trim() == 1
    assert r.hexists(keys.CASE_INDEX, "OLD") is False and r.zscore(keys.CASES_BY_TIME, "OLD") is None
    assert r.hexists(keys.CASE_INDEX, "OPEN") and r.hexists(keys.CASE_INDEX, "NEW2")
    assert p.trim() == 0


def test_median_stage_time_from_the_duration_histograms() -> None:
    from dashboard.queries.snapshot import stage_medians

    assert counters.median_minutes({}) is None
    # 3 stages of ~1 min (bucket 1: 1..1.41 min) and 2 of ~30 min: the median is in the 1-minute bucket
    day = {"dur:handle:1": "3", f"dur:handle:{counters.duration_bucket(30 * 60_000)}": "2", "reported": "9"}
    med = stage_medians(keys.day_key(DAY), day)
    assert set(med) == {"handle"} and 1.0 <= med["handle"] <= 1.5


def test_idle_open_cases_leave_the_live_counters_and_come_back_with_an_event(r: redis.Redis) -> None:
    """Issue 13: open cases no event touches for processor.idle_case_days (30) leave the live counters, so
    a flood cannot inflate the wall for ever; they stay in the case index marked stale."""
    clock = Clock()
    p = make(r, clock=clock)
    xadd(r, ev("IDLE", "reported", 0), ev("IDLE", "registered", 1), ev("BUSY", "reported", 2))
    drain(p)
    assert r.hget(keys.CELL_OPEN, "ZM-0001") == "2" and r.zscore(keys.DEADLINES, "IDLE") is not None
    clock.now += 29 * 24 * HOUR_MS
    xadd(r, ev("BUSY", "registered", 3, ts=clock.now))  # BUSY is touched, IDLE is not
    drain(p)
    assert p.check_idle() == 0  # 29 days: not yet
    clock.now += 2 * 24 * HOUR_MS
    assert p.check_idle() == 1 and p.check_idle() == 0
    idle = json.loads(r.hget(keys.CASE_INDEX, "IDLE") or "{}")
    assert idle["open"] and idle["stale"]  # findable, marked stale
    assert r.hget(keys.CELL_OPEN, "ZM-0001") == "1" and r.hget(keys.COUNTERS, "open") == "1"  # BUSY only
    assert r.zscore(keys.DEADLINES, "IDLE") is None and r.zscore(keys.OVERDUE, "IDLE") is None
    assert sum(int(v) for k, v in r.hgetall(keys.OPEN).items() if k.startswith("district:")) == 1
    xadd(r, ev("IDLE", "dispatched", 2, ts=clock.now))  # an event brings it back
    drain(p)
    assert not json.loads(r.hget(keys.CASE_INDEX, "IDLE") or "{}")["stale"]
    assert r.hget(keys.CELL_OPEN, "ZM-0001") == "2"


def test_cases_overdue_on_arrival_reach_the_alert_rules_and_urgent_ones_rank_first(r: redis.Redis) -> None:
    """Issue 14: back-filled cases already overdue never reached the overdue stream (the wall said "no
    active warnings" with 29 overdue cases), and an urgent case 7 h late came 11th."""
    from dashboard.queries.snapshot import overdue_top

    clock = Clock(TS + 10 * 24 * HOUR_MS)
    p = make(r, clock=clock)
    xadd(
        r,
        ev("WORST", "reported", 0, ts=TS - 5000),
        ev("LATE", "reported", 0, ts=TS),
        ev("URGENT", "reported", 0, ts=TS + 5000, priority="urgent"),
    )
    xadd(r, ev("GONE", "reported", 0, ts=TS))
    drain(p)
    xadd(r, ev("GONE", "cancelled", 1, ts=TS + 60_000))  # the back-fill's next event: no longer overdue
    drain(p)
    assert r.xlen(keys.STREAM_OVERDUE) == 0  # a back-fill's cases are told only if they stay overdue
    clock.now += 10_000
    assert p.check_arrived() == 4 and p.check_arrived() == 0
    went = [json.loads(f["d"])["case"] for _, f in r.xrange(keys.STREAM_OVERDUE)]
    assert sorted(went) == ["LATE", "URGENT", "WORST"]
    assert [c["case"] for c in overdue_top(r, clock.now)] == ["URGENT", "WORST", "LATE"]
    assert overdue_top(r, clock.now)[0]["priority"] == "urgent"
    xadd(r, ev("URGENT", "registered", 1, ts=clock.now))  # registered now: no longer overdue
    drain(p)
    assert [c["case"] for c in overdue_top(r, clock.now)] == ["WORST", "LATE"]
    assert r.zcard(keys.OVERDUE_URGENT) == 0


def test_cases_due_within_the_hour_are_counted_soonest_first(r: redis.Redis) -> None:
    from dashboard.queries.snapshot import due_soon

    clock = Clock(TS)
    p = make(r, clock=clock)
    xadd(
        r, ev("SOON", "reported", 0, ts=TS - 5 * 60_000, priority="urgent")
    )  # urgent: registered within 15 min
    xadd(r, ev("LATER", "reported", 0, ts=TS - 10 * 60_000))  # due in 50 min
    xadd(r, ev("FAR", "reported", 0, ts=TS), ev("FAR", "registered", 1, ts=TS))  # dispatch due in 30 min
    drain(p)
    got = due_soon(r, clock.now)
    assert got["n"] == 3 and [c["case"] for c in got["top"]] == ["SOON", "FAR", "LATER"]
    assert got["top"][0]["priority"] == "urgent" and got["top"][0]["deadline"] == TS + 10 * 60_000
    assert due_soon(r, clock.now, within_ms=35 * 60_000)["n"] == 2
