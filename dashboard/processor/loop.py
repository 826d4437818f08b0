"""The processor's loop: reads the input streams through a consumer group and keeps the read models.

Each batch is applied in one MULTI/EXEC with its XACKs (``dashboard.processor.writes``), so a crash
leaves either all of a batch's effects and acknowledgements or none; unacknowledged entries are read
again (at-least-once) and the seen-set makes a record delivered twice count once. Every batch that
changes something appends one delta with the new values (``dashboard.store.deltas``). Timers find the
cases whose stage deadline has passed (a sorted set, O(log n)) and mark them overdue, and the sensors
silent too long and mark them stale. The health scores are computed beside it
(``dashboard.processor.health``).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

import redis

from dashboard.config import ProcessorConfig
from dashboard.domain import counters
from dashboard.domain.devices import STALE, STALE_CHECK_S, is_stale, reading_ts
from dashboard.domain.registry import Registry, default_registry
from dashboard.domain.sla import SlaConfig
from dashboard.domain.types import epoch_ms
from dashboard.processor.applier import CaseApplier, Effects
from dashboard.processor.writes import queue_effects
from dashboard.store import keys
from dashboard.store.cases import CaseState, read_cases
from dashboard.store.client import has_bad_text
from dashboard.store.deltas import queue_publish
from dashboard.store.records import (
    KIND_OF_STREAM,
    STREAM_OF,
    AnyRecord,
    CameraStatus,
    CaseEvent,
    RecordError,
    SensorReading,
    decode,
)
from dashboard.store.validate import Admission

log = logging.getLogger(__name__)

Entry = tuple[str, str, dict[Any, Any]]  # (stream, id, fields)
Dead = tuple[str, str, str, str]  # (stream, id, reason, the entry's fields as JSON)
Queue = Callable[[Any], None]  # more writes a timer queues on the MULTI pipeline
DEADLINE_CHECK_S = 1.0
TRIM_EVERY_S = 60.0
IDLE_CHECK_S = 60.0


class Processor:
    """Consumer-group reader applying batches atomically and publishing deltas."""

    def __init__(
        self,
        client: redis.Redis,
        cfg: ProcessorConfig,
        consumer: str,
        tz: str = "Asia/Shanghai",
        sla: SlaConfig | None = None,
        places: Mapping[str, counters.Place] | None = None,
        clock: Callable[[], int] = epoch_ms,
        registry: Registry | None = None,
        admission: Admission | None = None,
    ) -> None:
        """Bind to a Redis client (``dashboard.store.client.connect``) under a stable consumer name;
        records that ``admission`` refuses are dead-lettered (None: only the schema is checked)."""
        self.r: Any = client  # redis-py's return types are bytes|str unions; replies here are str
        self.cfg = cfg
        self.consumer = consumer
        self.tz = ZoneInfo(tz)
        self.applier = CaseApplier(sla or SlaConfig(), self.tz, places or {})
        self.clock = clock
        self.registry = registry or default_registry()
        self.admission = admission
        self.streams = list(STREAM_OF.values())
        self._due: dict[str, float] = {}  # timer -> monotonic time it last ran

    def ensure_groups(self) -> None:
        """Create the consumer group on every input stream (from the beginning) if missing."""
        for stream in self.streams:
            try:
                self.r.xgroup_create(stream, self.cfg.group, id="0", mkstream=True)
            except redis.ResponseError as err:
                if "BUSYGROUP" not in str(err):
                    raise

    def _read(self, block_ms: int | None) -> list[Entry]:
        """Read this consumer's own pending entries first, then idle ones of others, then new ones."""
        out: list[Entry] = []
        pending = self.r.xreadgroup(
            self.cfg.group, self.consumer, {s: "0" for s in self.streams}, count=self.cfg.batch_size
        )
        for stream, entries in pending or []:
            out += [(stream, eid, f) for eid, f in entries if f is not None]
        if out:
            return out
        for stream in self.streams:
            claimed = self.r.xautoclaim(
                stream,
                self.cfg.group,
                self.consumer,
                self.cfg.claim_idle_ms,
                "0-0",
                count=self.cfg.batch_size,
            )
            out += [(stream, eid, f) for eid, f in claimed[1] if f is not None]
        if out:
            return out
        fresh = self.r.xreadgroup(
            self.cfg.group, self.consumer, {s: ">" for s in self.streams}, count=self.cfg.batch_size,
            block=block_ms,
        )  # fmt: skip
        for stream, entries in fresh or []:
            out += [(stream, eid, f) for eid, f in entries]
        return out

    def step(self, block_ms: int | None = None) -> int:
        """Read and apply one batch; return how many entries it acknowledged.

        An entry that cannot be decoded or admitted is dead-lettered with its reason. Should applying the
        batch fail for any other reason than Redis (a record no check foresaw), the entries are applied
        one by one and the one that fails alone is dead-lettered: no record can stop the processor."""
        entries = self._read(block_ms)
        if not entries:
            return 0
        decoded, dead = self._sort(entries)
        try:
            self._commit(entries, decoded, dead)
        except redis.RedisError:
            raise
        except Exception:
            log.exception("a batch of %d entries failed; applying them one by one", len(entries))
            self.applier.forget()
            for entry in entries:
                self._commit_alone(entry)
        return len(entries)

    def _sort(self, entries: list[Entry]) -> tuple[list[tuple[str, str, AnyRecord]], list[Dead]]:
        """The records to apply, and the entries to dead-letter (with why)."""
        decoded: list[tuple[str, str, AnyRecord]] = []
        dead: list[Dead] = []
        now = self.clock()
        for stream, eid, fields in entries:
            try:
                rec = decode(KIND_OF_STREAM[stream], fields)
            except RecordError as err:
                dead.append((stream, eid, str(err), raw_copy(fields)))
                continue
            problem = self.admission.problem(rec, now) if self.admission is not None else None
            if problem is not None:
                dead.append((stream, eid, problem, raw_copy(fields)))
            else:
                decoded.append((stream, eid, rec))
        return decoded, dead

    def _commit_alone(self, entry: Entry) -> None:
        """Apply one entry; dead-letter it when applying it fails for another reason than Redis."""
        decoded, dead = self._sort([entry])
        try:
            self._commit([entry], decoded, dead)
        except redis.RedisError:
            raise
        except Exception as err:
            log.exception("entry %s of %s failed; dead-lettered", entry[1], entry[0])
            self.applier.forget()
            reason = f"processing failed: {type(err).__name__}: {str(err)[:200]}"
            self._commit([entry], [], [(entry[0], entry[1], reason, raw_copy(entry[2]))])

    def _commit(
        self,
        entries: list[Entry],
        decoded: list[tuple[str, str, AnyRecord]],
        dead: list[Dead],
    ) -> None:
        """Read the state the batch touches, compute effects, and write them with the acks atomically."""
        case_ids = sorted({r.case_id for _, _, r in decoded if isinstance(r, CaseEvent)})
        event_ids = [r.event_id for _, _, r in decoded if isinstance(r, CaseEvent)]
        camera_ids = sorted({r.camera_id for _, _, r in decoded if isinstance(r, CameraStatus)})
        sensor_ids = sorted({r.sensor_id for _, _, r in decoded if isinstance(r, SensorReading)})
        pipe: Any
        with self.r.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(keys.CASE_INDEX, keys.CAMERA_STATE, keys.SENSOR_STATUS, keys.SENSOR_STALE)
                    cases = {
                        k: self.applier.parse(k, v)
                        for k, v in _hmget(pipe, keys.CASE_INDEX, case_ids).items()
                    }
                    scores = pipe.zmscore(keys.SEEN_EVENTS, event_ids) if event_ids else []
                    seen = {e for e, s in zip(event_ids, scores, strict=True) if s is not None}
                    cameras = _hmget(pipe, keys.CAMERA_STATE, camera_ids)
                    levels = _hmget(pipe, keys.SENSOR_STATUS, sensor_ids)
                    marked = pipe.smismember(keys.SENSOR_STALE, sensor_ids) if sensor_ids else []
                    stale = {s for s, m in zip(sensor_ids, marked, strict=True) if m}
                    now = self.clock()
                    eff = self.applier.apply(decoded, cases, cameras, seen, now, levels, stale)
                    eff.dead += dead
                    pipe.multi()
                    queue_effects(pipe, eff, now)
                    for stream in self.streams:
                        ids = [eid for s, eid, _ in entries if s == stream]
                        if ids:
                            pipe.xack(stream, self.cfg.group, *ids)
                    pipe.execute()
                    self.applier.remember(eff)
                    return
                except redis.WatchError:
                    continue

    def check_deadlines(self, limit: int = 1000) -> int:
        """Mark the cases whose stage deadline has passed as overdue; return how many."""
        now = self.clock()

        def effects(due: list[str], cases: dict[str, CaseState]) -> tuple[Effects, Queue | None]:
            eff = self.applier.mark_overdue(cases, now)
            eff.clear_deadline.update(set(due) - set(eff.cases))  # stale entries: drop them
            return eff, None

        eff = self._sweep(keys.DEADLINES, now, limit, now, effects)
        return len(eff.went_overdue) if eff is not None else 0

    def check_arrived(self, limit: int = 1000) -> int:
        """Tell the alert rules (the overdue stream) of the cases that arrived overdue some seconds ago
        and still are; return how many."""
        now = self.clock()
        due = self.r.zrangebyscore(keys.ARRIVED_OVERDUE, "-inf", now, start=0, num=limit)
        if not due:
            return 0
        eff = self.applier.still_overdue(read_cases(self.r, due), now)
        with self.r.pipeline(transaction=True) as pipe:
            pipe.zrem(keys.ARRIVED_OVERDUE, *due)
            queue_effects(pipe, eff, now)
            pipe.execute()
        return len(due)

    def check_idle(self, limit: int = 1000) -> int:
        """Take the open cases untouched for ``idle_case_days`` out of the live counters; return how many."""
        now = self.clock()
        before = now - int(self.cfg.idle_case_days * 86_400_000)

        def effects(due: list[str], cases: dict[str, CaseState]) -> tuple[Effects, Queue | None]:
            eff = self.applier.mark_idle(cases, before)
            rest = {c: cases.get(c) for c in due if c not in eff.cases}
            fresh = {c: st.ts for c, st in rest.items() if st and st.open and st.valid and not st.stale}
            gone = sorted(set(rest) - set(fresh))  # gone, closed or stale already

            def index(pipe: Any) -> None:
                if gone:
                    pipe.zrem(keys.OPEN_TOUCHED, *gone)
                if fresh:  # touched after all: the index had an older time
                    pipe.zadd(keys.OPEN_TOUCHED, fresh)

            return eff, index

        eff = self._sweep(keys.OPEN_TOUCHED, f"({before}", limit, now, effects)
        return len(eff.cases) if eff is not None else 0

    def _sweep(
        self,
        index: str,
        upto: int | str,
        limit: int,
        now: int,
        effects: Callable[[list[str], dict[str, CaseState]], tuple[Effects, Queue | None]],
    ) -> Effects | None:
        """The timers' shape: under a WATCH of the case index, read the cases ``index`` scores up to
        ``upto`` (at most ``limit``), and write the effects ``effects`` makes of them (with what else it
        queues) in one MULTI/EXEC; None when nothing is due."""
        pipe: Any
        with self.r.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(keys.CASE_INDEX)
                    due = pipe.zrangebyscore(index, "-inf", upto, start=0, num=limit)
                    if not due:
                        pipe.reset()
                        return None
                    eff, more = effects(due, read_cases(pipe, due))
                    pipe.multi()
                    if more is not None:
                        more(pipe)
                    queue_effects(pipe, eff, now)
                    pipe.execute()
                    self.applier.remember(eff)
                    return eff
                except redis.WatchError:
                    continue

    def check_stale(self) -> int:
        """Mark the sensors whose last reading is too old as stale (``docs/DEVICES.md``) and publish
        them; return how many turned stale. A reading brings a sensor back (in its batch)."""
        now = self.clock()
        pipe: Any
        with self.r.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(keys.SENSOR_LAST, keys.SENSOR_STALE)
                    lasts = pipe.hgetall(keys.SENSOR_LAST)
                    marked = pipe.smembers(keys.SENSOR_STALE)
                    turned = sorted(
                        sid
                        for sid, raw in lasts.items()
                        if sid not in marked and (ts := reading_ts(raw)) is not None
                        and is_stale(self.registry, sid, ts, now)
                    )  # fmt: skip
                    if not turned:
                        pipe.reset()
                        return 0
                    pipe.multi()
                    pipe.sadd(keys.SENSOR_STALE, *turned)
                    queue_publish(pipe, now, dev={sid: STALE for sid in turned})
                    pipe.execute()
                    return len(turned)
                except redis.WatchError:
                    continue

    def trim(self, now: int | None = None, limit: int = 2000) -> int:
        """Bound memory: forget event ids older than the idempotency window, and closed cases
        reported more than ``keep_closed_days`` ago; return how many cases went.

        Open cases stay however old they are. Per-day counters expire by themselves (92 days), hourly
        ones after 49 hours; streams are capped by length.
        """
        now = now if now is not None else self.clock()
        self.r.zremrangebyscore(keys.SEEN_EVENTS, "-inf", now - keys.SEEN_KEEP_MS)
        horizon = now - int(self.cfg.keep_closed_days * 86_400_000)
        old = self.r.zrangebyscore(keys.CASES_BY_TIME, "-inf", horizon, start=0, num=limit)
        if not old:
            return 0
        gone = [
            cid for cid, raw in zip(old, self.r.hmget(keys.CASE_INDEX, old), strict=True)
            if raw is None or not CaseState.from_json(raw).open
        ]  # fmt: skip
        if gone:
            with self.r.pipeline(transaction=True) as pipe:
                pipe.hdel(keys.CASE_INDEX, *gone)
                pipe.zrem(keys.CASES_BY_TIME, *gone)
                pipe.execute()
        return len(gone)

    def _every(self, name: str, seconds: float) -> bool:
        """True (and the timer restarted) when ``name`` last ran at least ``seconds`` ago."""
        mono = time.monotonic()
        if mono - self._due.get(name, -1e9) < seconds:
            return False
        self._due[name] = mono
        return True

    def tick(self, stop: threading.Event) -> None:
        """The timers between batches: deadlines every second, staleness every STALE_CHECK_S, trim."""
        if self._every("deadlines", DEADLINE_CHECK_S):
            while self.check_deadlines() and not stop.is_set():
                pass
            while self.check_arrived() and not stop.is_set():
                pass
        if self._every("stale", STALE_CHECK_S):
            self.check_stale()
        if self._every("idle", IDLE_CHECK_S):
            while self.check_idle() and not stop.is_set():
                pass
        if self._every("trim", TRIM_EVERY_S):
            self.trim()

    def run(self, stop: threading.Event) -> None:
        """Process until ``stop`` is set; run the timers between batches; survive Redis outages."""
        backoff = 0.5
        while not stop.is_set():
            try:
                self.ensure_groups()
                while not stop.is_set():
                    self.step(block_ms=self.cfg.block_ms)
                    self.tick(stop)
                    backoff = 0.5
            except redis.ConnectionError as err:
                log.warning("redis unavailable (%s); retrying in %.1f s", err, backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)


def raw_copy(fields: Mapping[Any, Any]) -> str:
    """A stream entry's fields as JSON for the dead-letter stream (bytes that were not UTF-8 escaped)."""
    return json.dumps(fields, ensure_ascii=has_bad_text(fields) is not None)


def _hmget(pipe: Any, key: str, fields: list[str]) -> dict[str, str]:
    """HMGET as a dict of the fields that exist (no round trip for no fields)."""
    if not fields:
        return {}
    values = pipe.hmget(key, fields)
    return {f: v for f, v in zip(fields, values, strict=True) if v is not None}
