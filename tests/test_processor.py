"""The processor against a real Redis: counts, idempotence, dead letters, deltas, crash recovery."""

from __future__ import annotations

import json
import time
from zoneinfo import ZoneInfo

import redis

from dashboard import contract as c
from dashboard.config import ProcessorConfig
from dashboard.processor import CaseState, Processor, apply_batch

TS = 1_790_000_000_000
TZ = ZoneInfo("Asia/Shanghai")


def ev(case: str, step: str, n: int, cell: str = "ZM-0001") -> c.CaseEvent:
    return c.CaseEvent(
        event_id=f"{case}-{n}",
        case_id=case,
        seq=n,
        ts=TS + n * 1000,
        step=step,  # type: ignore[arg-type]
        event_type="CM-0101",
        category="city_management",
        cell_id=cell,
    )


def xadd(r: redis.Redis, *recs: c.Record) -> None:
    for rec in recs:
        r.xadd(c.STREAM_OF[c.kind_of(rec)], c.encode(rec))  # type: ignore[arg-type]


def drain(p: Processor) -> int:
    total = 0
    while n := p.step():
        total += n
    return total


def make(r: redis.Redis, consumer: str = "t1") -> Processor:
    p = Processor(r, ProcessorConfig(batch_size=7, claim_idle_ms=1000), consumer)
    p.ensure_groups()
    return p


def test_open_cases_per_cell(r: redis.Redis) -> None:
    p = make(r)
    xadd(r, ev("A", "reported", 0), ev("A", "dispatched", 1), ev("B", "reported", 0, "ZM-0002"))
    xadd(r, ev("C", "reported", 0), ev("C", "closed", 1), ev("D", "reported", 0), ev("D", "cancelled", 1))
    drain(p)
    assert r.hgetall(c.CELL_OPEN) == {"ZM-0001": "1", "ZM-0002": "1"}
    assert r.hget(c.COUNTERS, "open") == "2"
    day = "20260921"  # TS in Asia/Shanghai
    assert r.hget(c.COUNTERS, f"reported:{day}") == "4"
    assert r.hget(c.COUNTERS, f"closed:{day}") == "1"
    assert r.xpending(c.STREAM_CASE_EVENTS, "processor")["pending"] == 0


def test_a_record_delivered_twice_counts_once(r: redis.Redis) -> None:
    p = make(r)
    batch = [ev("A", "reported", 0), ev("B", "reported", 0), ev("A", "reported", 0)]  # dup inside batch
    xadd(r, *batch)
    drain(p)
    xadd(r, *batch)  # the same events again later (a feed retried)
    drain(p)
    assert r.hget(c.CELL_OPEN, "ZM-0001") == "2"
    assert r.hget(c.COUNTERS, "open") == "2"
    stats = r.hgetall(c.PROCESSOR_STATS)
    assert stats["applied"] == "2" and stats["duplicates"] == "4"


def test_malformed_entries_go_to_dead_letter_and_processing_goes_on(r: redis.Redis) -> None:
    p = make(r)
    r.xadd(c.STREAM_CASE_EVENTS, {"v": "1", "d": json.dumps({"event_id": "x"})})
    r.xadd(c.STREAM_CAMERA_STATUS, {"garbage": "1"})
    xadd(r, ev("A", "reported", 0))
    drain(p)
    dead = r.xrange(c.STREAM_DEAD_LETTER)
    assert len(dead) == 2
    reasons = sorted(f["reason"] for _, f in dead)
    assert any("case_id" in x for x in reasons) and any("no 'd' field" in x for x in reasons)
    assert r.hget(c.CELL_OPEN, "ZM-0001") == "1"
    assert r.xpending(c.STREAM_CASE_EVENTS, "processor")["pending"] == 0


def test_deltas_are_consecutive_and_carry_new_values(r: redis.Redis) -> None:
    p = make(r)
    for i in range(20):
        xadd(r, ev(f"K{i}", "reported", 0, f"SW-{i % 3:04d}"))
    drain(p)
    deltas = [c.Delta.from_fields(f) for _, f in r.xrange(c.STREAM_DELTAS)]
    assert [d.seq for d in deltas] == list(range(1, len(deltas) + 1))
    assert int(r.get(c.DELTA_SEQ) or 0) == len(deltas)
    final: dict[str, int] = {}
    for d in deltas:
        final.update(d.cells)
    assert final == {k: int(v) for k, v in r.hgetall(c.CELL_OPEN).items()}


def test_unacknowledged_entries_are_processed_after_a_crash(r: redis.Redis) -> None:
    xadd(r, *[ev(f"P{i}", "reported", 0) for i in range(10)])
    p = make(r, "crashy")
    # the processor read a batch and "died" before committing: entries are pending, nothing applied
    r.xreadgroup("processor", "crashy", {c.STREAM_CASE_EVENTS: ">"}, count=4)
    assert r.xpending(c.STREAM_CASE_EVENTS, "processor")["pending"] == 4
    drain(p)  # restarted under the same consumer name: its own pending first, then the rest
    assert r.hget(c.CELL_OPEN, "ZM-0001") == "10"
    assert r.xpending(c.STREAM_CASE_EVENTS, "processor")["pending"] == 0


def test_another_consumers_idle_pending_entries_are_claimed(r: redis.Redis) -> None:
    xadd(r, *[ev(f"Q{i}", "reported", 0) for i in range(5)])
    make(r, "gone")
    r.xreadgroup("processor", "gone", {c.STREAM_CASE_EVENTS: ">"}, count=5)
    p = Processor(r, ProcessorConfig(claim_idle_ms=1000), "other")
    assert p.step() == 0  # the dead consumer's entries are not idle long enough yet
    time.sleep(1.1)  # not a timed assertion: lets the entries become idle
    drain(p)
    assert r.hget(c.CELL_OPEN, "ZM-0001") == "5"


def test_apply_batch_is_pure_and_reopens() -> None:
    cases = {"A": CaseState(cell="X", step="closed", ts=TS, open=False)}
    recs = [("s", "1-0", ev("A", "reopened", 5)), ("s", "2-0", ev("A", "handled", 6))]
    eff = apply_batch(recs, cases, {"X": 3}, {"open": 3}, {}, set(), TZ)
    assert eff.cells == {"X": 4} and eff.counters["open"] == 4
    assert eff.cases["A"].open and eff.cases["A"].step == "handled"
    assert cases["A"].open is False  # inputs untouched


def test_cameras_counted_by_state_change(r: redis.Redis) -> None:
    p = make(r)
    xadd(
        r,
        c.CameraStatus(camera_id="K1", status="online", ts=TS, cell_id="X"),
        c.CameraStatus(camera_id="K2", status="offline", ts=TS, cell_id="X"),
        c.CameraStatus(camera_id="K1", status="fault", ts=TS, cell_id="X"),
        c.CameraStatus(camera_id="K2", status="online", ts=TS, cell_id="X"),
        c.CameraStatus(camera_id="K2", status="online", ts=TS, cell_id="X"),
    )
    drain(p)
    assert r.hget(c.COUNTERS, "cameras") == "2"
    assert r.hget(c.COUNTERS, "cameras_down") == "1"
