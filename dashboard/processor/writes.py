"""The processor's writes: a batch's ``Effects`` queued on one MULTI pipeline, with its delta.

Everything a batch changes (case records and indexes, device states, counters, the ticker, the overdue
stream, dead letters, statistics) and the one delta entry that tells pages the new values go in the
same MULTI/EXEC as the batch's acknowledgements, so a crash leaves all of it or none.
"""

from __future__ import annotations

import json
from typing import Any

from dashboard.processor.applier import Effects
from dashboard.store import keys
from dashboard.store.cases import CaseState
from dashboard.store.deltas import queue_publish

TICKER_IN_DELTA = 20  # a delta carries at most the batch's last this many ticker items

# A sensor's history point keeps the highest value of its 5-minute slot; each hour hash expires.
_HMAX_MANY = """
for i = 2, #ARGV, 3 do
  local key = KEYS[tonumber(ARGV[i])]
  local cur = redis.call('HGET', key, ARGV[i + 1])
  if not cur or tonumber(ARGV[i + 2]) > tonumber(cur) then
    redis.call('HSET', key, ARGV[i + 1], ARGV[i + 2])
  end
end
for _, key in ipairs(KEYS) do
  redis.call('EXPIRE', key, ARGV[1])
end
return #KEYS
"""

# The per-cell case indexes in one command: ops (sadd|srem|zrem|zadd, key index, case, score) after
# ARGV[1], how many closed cases a cell keeps.
_CELL_CASES = """
for i = 2, #ARGV, 4 do
  local op, key, member = ARGV[i], KEYS[tonumber(ARGV[i + 1])], ARGV[i + 2]
  if op == 'zadd' then
    redis.call('ZADD', key, ARGV[i + 3], member)
    redis.call('ZREMRANGEBYRANK', key, 0, -tonumber(ARGV[1]) - 1)
  else
    redis.call(op, key, member)
  end
end
return #ARGV
"""


ARRIVED_GRACE_MS = 10_000  # a case overdue on arrival is told to the rules if still so this much later


def queue_effects(pipe: Any, eff: Effects, now: int) -> None:
    """Queue every write of a batch (or a deadline check) on a MULTI pipeline."""
    _queue_cases(pipe, eff)
    _queue_devices(pipe, eff)
    _index_cell_cases(pipe, eff.cell_cases)
    _queue_logs(pipe, eff, now)
    if eff.changed():
        queue_publish(
            pipe,
            now,
            eff.inc,
            ticker=eff.ticker[-TICKER_IN_DELTA:],
            overdue_changed=bool(eff.overdue or eff.clear_overdue),
            dev=eff.dev(),
        )


def _queue_cases(pipe: Any, eff: Effects) -> None:
    """The case records, the by-time index, and the deadline and overdue sorted sets."""
    if eff.cases:
        eff.written = {k: v.to_json() for k, v in eff.cases.items()}
        pipe.hset(keys.CASE_INDEX, mapping=eff.written)
        live = {k: v.ts for k, v in eff.cases.items() if v.open and not v.stale and v.valid}
        if live:
            pipe.zadd(keys.OPEN_TOUCHED, live)
        if gone := sorted(set(eff.cases) - set(live)):
            pipe.zrem(keys.OPEN_TOUCHED, *gone)
    if eff.new_cases:
        pipe.zadd(keys.CASES_BY_TIME, eff.new_cases)
    if drop := sorted(eff.clear_deadline - set(eff.deadlines)):
        pipe.zrem(keys.DEADLINES, *drop)
    if drop := sorted(eff.clear_overdue - set(eff.overdue)):
        pipe.zrem(keys.OVERDUE, *drop)
    if eff.deadlines:
        pipe.zadd(keys.DEADLINES, eff.deadlines)
    if eff.overdue:
        pipe.zadd(keys.OVERDUE, eff.overdue)
    if eff.cases:  # the urgent ones among the overdue, so the wall can rank them first
        urgent = {
            k: eff.overdue[k] for k, v in eff.cases.items() if k in eff.overdue and v.priority == "urgent"
        }
        if urgent:
            pipe.zadd(keys.OVERDUE_URGENT, urgent)
        # only an urgent case is ever in the set (a case's priority only rises: lifecycle.fold)
        if no_longer := sorted(k for k, v in eff.cases.items() if v.priority == "urgent" and k not in urgent):
            pipe.zrem(keys.OVERDUE_URGENT, *no_longer)


def _queue_devices(pipe: Any, eff: Effects) -> None:
    """Camera states, sensors' last readings, levels and 24-hour history; stale sensors back."""
    if eff.cameras:
        pipe.hset(keys.CAMERA_STATE, mapping=eff.cameras)
        pipe.hset(keys.CAMERA_SINCE, mapping=eff.camera_since)
    if eff.sensor_status:
        pipe.hset(keys.SENSOR_STATUS, mapping=eff.sensor_status)
    if eff.unstale:
        pipe.srem(keys.SENSOR_STALE, *sorted(eff.unstale))
    if eff.sensors:
        pipe.hset(keys.SENSOR_LAST, mapping=eff.sensors)
    if eff.sensor_hist:
        hours = sorted({keys.sensor_hist_key(sensor, hour) for sensor, hour, _ in eff.sensor_hist})
        at = {k: str(i + 1) for i, k in enumerate(hours)}
        points = [
            x
            for (sensor, hour, slot), v in eff.sensor_hist.items()
            for x in (at[keys.sensor_hist_key(sensor, hour)], str(slot), repr(v))
        ]
        pipe.eval(_HMAX_MANY, len(hours), *hours, keys.SENSOR_HIST_TTL_S, *points)


def _queue_logs(pipe: Any, eff: Effects, now: int) -> None:
    """Seen event ids, the ticker, the overdue stream, dead letters and the processor's statistics."""
    if eff.seen:
        pipe.zadd(keys.SEEN_EVENTS, eff.seen)
    if eff.ticker:
        pipe.lpush(keys.TICKER, *[json.dumps(t, ensure_ascii=False) for t in eff.ticker])
        pipe.ltrim(keys.TICKER, 0, keys.TICKER_LEN - 1)
    if eff.arrived_overdue:
        pipe.zadd(keys.ARRIVED_OVERDUE, {c: now + ARRIVED_GRACE_MS for c in eff.arrived_overdue})
    for item in eff.went_overdue:
        pipe.xadd(keys.STREAM_OVERDUE, {"d": json.dumps(item)}, maxlen=keys.OVERDUE_MAXLEN, approximate=True)
    for stream, eid, reason, raw in eff.dead:
        pipe.xadd(
            keys.STREAM_DEAD_LETTER,
            {"stream": stream, "id": eid, "reason": reason, "raw": raw, "ts": str(now)},
            maxlen=keys.DEAD_LETTER_MAXLEN,
            approximate=True,
        )
    stats = {
        "applied": eff.applied,
        "duplicates": eff.duplicates,
        "dead": len(eff.dead),
        "illegal": eff.illegal,
        "overdue_marked": len(eff.went_overdue),
    }
    for k, v in stats.items():
        if v:
            pipe.hincrby(keys.PROCESSOR_STATS, k, v)
    pipe.hset(keys.PROCESSOR_STATS, "last_ms", now)


def _index_cell_cases(pipe: Any, changes: list[tuple[str, str | None, CaseState]]) -> None:
    """Queue one script keeping the per-cell case indexes: open case ids, and the newest closed cases."""
    index: dict[str, str] = {}
    args: list[str | int] = []

    def op(code: str, key: str, case_id: str, score: int = 0) -> None:
        args.extend((code, index.setdefault(key, str(len(index) + 1)), case_id, score))

    for case_id, old_cell, st in changes:
        if old_cell is not None and old_cell != st.cell:
            op("srem", keys.cell_cases_key(old_cell), case_id)
            op("zrem", keys.cell_closed_key(old_cell), case_id)
        op("sadd" if st.open and st.valid else "srem", keys.cell_cases_key(st.cell), case_id)
        if st.valid and st.step == "closed" and st.closed_ts is not None:
            op("zadd", keys.cell_closed_key(st.cell), case_id, st.closed_ts)
    if args:
        pipe.eval(_CELL_CASES, len(index), *index, keys.CELL_CLOSED_KEEP, *args)
