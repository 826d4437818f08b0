"""The processor: reads input streams through a consumer group and keeps the read models.

Each batch is applied in one MULTI/EXEC with its XACKs, so a crash leaves either all of a batch's
effects and acknowledgements or none; unacknowledged entries are read again (at-least-once) and the
seen-set makes a record delivered twice count once. A case is the fold of its events through the
lifecycle state machine (dashboard/lifecycle.py), so late and out-of-order events give the same state
as in-order ones; counters change by the difference of the case's contributions
(dashboard/readmodel.py). Every batch that changes something appends one delta (consecutive ``seq``,
increments) to the delta stream that web processes push to browsers. A timer finds cases whose stage
deadline has passed (a sorted set, O(log n)) and marks them overdue. Beside the counters it keeps each
cell's open and recently closed case ids and each sensor's last 24 hours, one point (the highest) per
5 minutes (key names in dashboard/readmodel.py).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import redis

from dashboard import contract as c
from dashboard import readmodel as rm
from dashboard.config import ProcessorConfig, SlaConfig
from dashboard.lifecycle import Case, Rejected, Step, fold
from dashboard.registry import METRIC_BY_NAME, Thresholds, default_registry

log = logging.getLogger(__name__)

Entry = tuple[str, str, dict[Any, Any]]  # (stream, id, fields)
CAMERA_STATE = f"{c.TAG}:rm:camera"  # hash camera_id -> status
SENSOR_LAST = f"{c.TAG}:rm:sensor-last"  # hash sensor_id -> JSON of the last reading
CAMERA_SINCE = f"{c.TAG}:rm:camera-since"  # hash camera_id -> epoch ms of its last change of status
SENSOR_STATUS = f"{c.TAG}:rm:sensor-status"  # hash sensor_id -> ok|warn|alarm (see sensor_level)
NOTE_KEEP = 500  # characters of a note kept per event in the case record


def now_ms() -> int:
    """The wall clock in epoch milliseconds."""
    return int(time.time() * 1000)


def sensor_level(value: float, th: Thresholds) -> str:
    """A sensor's status from its last reading: ``alarm`` at or above its alarm threshold, ``warn`` at
    or above its warning threshold, else ``ok`` (docs/DEVICES.md)."""
    return "alarm" if value >= th.alarm else "warn" if value >= th.warn else "ok"


@dataclass
class CaseState:
    """One case as stored in the case index (a JSON value of ``contract.CASE_INDEX``).

    The first fields are the case's summary (Open311 and pages read them); ``events`` holds every
    event accepted for the case, applied or held as illegal, so a late event can re-fold it.
    """

    cell: str
    step: str
    ts: int
    open: bool
    event_type: str = ""
    category: str = ""
    department: str | None = None
    priority: str = "normal"
    source: str = ""
    reported_ts: int = 0
    closed_ts: int | None = None
    lon: float | None = None
    lat: float | None = None
    description: str = ""
    photos: list[str] = field(default_factory=list)
    stage: str | None = None
    stage_since: int = 0
    deadline: int | None = None
    overdue: bool = False
    level: str = "community"
    returns: int = 0
    escalations: int = 0
    reopens: int = 0
    valid: bool = True
    events: list[list[Any]] = field(default_factory=list)  # [ts, seq, id, step, dept, actor, prio, note]

    def to_json(self) -> str:
        """Compact JSON for the case index."""
        return json.dumps({f: getattr(self, f) for f in _FIELDS}, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> CaseState:
        """Parse the case index's JSON (older entries may lack later fields)."""
        d = json.loads(raw)
        return cls(**{k: v for k, v in d.items() if k in _FIELDS})

    def steps(self) -> list[Step]:
        """The case's events as lifecycle steps."""
        return [
            Step(ts=e[0], seq=e[1], event_id=e[2], step=e[3], department=e[4], actor=e[5], priority=e[6])
            for e in self.events
        ]

    def summary(self, places: Mapping[str, rm.Place], case: Case | None = None) -> rm.Summary | None:
        """What this case contributes through (None for a case with no legal report yet).

        ``case`` is this record's fold when the caller has it already.
        """
        if not self.valid:
            return None
        if case is None:
            case, _ = fold("", self.steps())
        if case is None:
            return None
        return rm.Summary(
            case=case,
            place=places.get(self.cell) or rm.Place(self.cell, None, None),
            category=self.category,
            overdue=self.overdue,
            deadline=self.deadline,
        )


_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(CaseState))


@dataclass
class Effects:
    """The writes one batch makes, computed from the batch and the state it read."""

    cases: dict[str, CaseState] = field(default_factory=dict)
    inc: Counter[tuple[str, str]] = field(default_factory=Counter)
    cameras: dict[str, str] = field(default_factory=dict)
    sensors: dict[str, str] = field(default_factory=dict)
    camera_since: dict[str, int] = field(default_factory=dict)  # camera -> time of its change of status
    levels: dict[str, str] = field(default_factory=dict)  # sensor -> status after the batch's readings
    sensor_status: dict[str, str] = field(default_factory=dict)  # sensor -> status, where it changed
    sensor_hist: dict[tuple[str, str], float] = field(default_factory=dict)  # (hour key, slot) -> max
    cell_cases: list[tuple[str, str | None, CaseState]] = field(default_factory=list)  # case, old cell, new
    seen: dict[str, int] = field(default_factory=dict)
    new_cases: dict[str, int] = field(default_factory=dict)
    folds: dict[str, Case | None] = field(default_factory=dict)  # case -> its fold after the batch
    written: dict[str, str] = field(default_factory=dict)  # case -> the JSON written for it
    deadlines: dict[str, int] = field(default_factory=dict)  # case -> deadline (add to DEADLINES)
    overdue: dict[str, int] = field(default_factory=dict)  # case -> deadline (add to OVERDUE)
    clear_deadline: set[str] = field(default_factory=set)
    clear_overdue: set[str] = field(default_factory=set)
    ticker: list[dict[str, Any]] = field(default_factory=list)
    went_overdue: list[dict[str, Any]] = field(default_factory=list)
    dead: list[tuple[str, str, str, str]] = field(default_factory=list)  # stream, id, reason, raw
    duplicates: int = 0
    applied: int = 0
    illegal: int = 0

    def changed(self) -> bool:
        """True when the batch changed something a screen shows."""
        cases = self.inc or self.ticker or self.overdue or self.clear_overdue
        return bool(cases or self.cameras or self.sensor_status)

    def dev(self) -> dict[str, str]:
        """The devices whose status changed in this batch (``Delta.dev``)."""
        return {**self.cameras, **self.sensor_status}


class CaseApplier:
    """Pure batch logic for case events: fold, contributions diff, index updates (no I/O)."""

    def __init__(self, sla: SlaConfig, tz: ZoneInfo, places: Mapping[str, rm.Place]) -> None:
        """Use ``sla`` deadlines, local days in ``tz``, and each cell's community and subdistrict."""
        self.sla = sla
        self.tz = tz
        self.places = places
        self.clock = rm.Clock(tz)
        # The records this process wrote last, by case: (JSON, record, fold). A record read back
        # unchanged is not parsed or folded again; one changed by anyone else misses the cache.
        self._cache: OrderedDict[str, tuple[str, CaseState, Case | None]] = OrderedDict()
        self._pending_fold: dict[str, Case | None] = {}
        self._thresholds: Mapping[str, Thresholds] | None = None

    def level(self, rec: c.SensorReading) -> str | None:
        """The sensor's status after ``rec`` against its registry thresholds (its metric's defaults for
        a sensor the registry does not know; None for an unknown metric)."""
        if self._thresholds is None:
            self._thresholds = {k: s.thresholds for k, s in default_registry().sensors.items()}
        th = self._thresholds.get(rec.sensor_id)
        if th is None:
            spec = METRIC_BY_NAME.get(rec.metric)
            th = Thresholds(spec.warn, spec.alarm) if spec is not None else None
        return sensor_level(rec.value, th) if th is not None else None

    CACHE_SIZE = 50_000

    def parse(self, case_id: str, raw: str) -> CaseState:
        """The record of ``raw`` (from the cache when this process wrote exactly that)."""
        hit = self._cache.get(case_id)
        if hit is not None and hit[0] == raw:
            self._cache.move_to_end(case_id)
            self._pending_fold[case_id] = hit[2]
            return hit[1]
        self._pending_fold.pop(case_id, None)
        return CaseState.from_json(raw)

    def known_fold(self, case_id: str) -> Case | None:
        """The fold of the record ``parse`` returned from the cache, if it did."""
        return self._pending_fold.get(case_id)

    def remember(self, eff: Effects) -> None:
        """After a committed batch: keep what was written for the next batch."""
        for case_id, raw in eff.written.items():
            self._cache[case_id] = (raw, eff.cases[case_id], eff.folds.get(case_id))
            self._cache.move_to_end(case_id)
        while len(self._cache) > self.CACHE_SIZE:
            self._cache.popitem(last=False)
        self._pending_fold.clear()

    def contrib(self, st: CaseState | None, case: Case | None = None) -> rm.Contrib:
        """The counters a stored case contributes to (``case``: its fold, if known)."""
        s = st.summary(self.places, case) if st is not None else None
        return rm.contributions(s, self.sla, self.tz, self.clock) if s is not None else Counter()

    def change(
        self, old: CaseState | None, old_case: Case | None, new: CaseState, new_case: Case | None
    ) -> dict[tuple[str, str], int]:
        """How the counters change when a case record goes from ``old`` to ``new``."""
        if old is not None and old.valid and new.valid:
            if old_case is None:
                old_case, _ = fold("", old.steps())
            before = old.summary(self.places, old_case)
            after = new.summary(self.places, new_case)
            if before is not None and after is not None:
                fast = rm.append_diff(before, after, self.sla, self.tz, self.clock)
                if fast is not None:
                    return fast
        return rm.diff(self.contrib(old, old_case), self.contrib(new, new_case))

    def rebuild(
        self, old: CaseState | None, events: list[c.CaseEvent], now: int
    ) -> tuple[CaseState, Case | None, list[Rejected]]:
        """The case record after adding ``events`` (already de-duplicated) to ``old``."""
        first = next((e for e in events if e.step == "reported"), events[0])
        if old is None:
            st = CaseState(
                cell=first.cell_id,
                step=first.step,
                ts=first.ts,
                open=True,
                event_type=first.event_type,
                category=first.category,
                priority=first.priority,
                source=first.source,
                lon=first.lon,
                lat=first.lat,
                description=first.note[:NOTE_KEEP] if first.step == "reported" else "",
                photos=list(first.photos) if first.step == "reported" else [],
            )
        else:
            st = dataclasses.replace(old, events=list(old.events), photos=list(old.photos))
            if first.step == "reported" and not any(e[3] == "reported" for e in old.events):
                st.cell, st.event_type, st.category = first.cell_id, first.event_type, first.category
                st.source, st.lon, st.lat = first.source, first.lon, first.lat
                st.description, st.photos = first.note[:NOTE_KEEP], list(first.photos)
        for e in events:
            st.events.append(
                [e.ts, e.seq, e.event_id, e.step, e.department, e.actor, e.priority, e.note[:NOTE_KEEP]]
            )
        st.events.sort(key=lambda x: (x[0], x[1], x[2]))
        case, rejected = fold("", st.steps())
        self._summarise(st, case, now)
        return st, case, rejected

    def _summarise(self, st: CaseState, case: Case | None, now: int) -> None:
        """Copy the folded case's facts onto the record, with its current deadline."""
        if case is None:
            st.valid, st.open, st.step, st.stage, st.deadline, st.overdue = (
                False,
                False,
                "-",
                None,
                None,
                False,
            )
            return
        st.valid = True
        st.step, st.open, st.ts = case.state, case.open, case.updated_ts
        st.reported_ts, st.closed_ts = case.reported_ts, case.closed_ts
        st.department, st.priority, st.level = case.department, case.priority, case.level
        st.returns, st.escalations, st.reopens = case.returns, case.escalations, case.reopens
        st.stage, st.stage_since = case.stage, case.stage_since
        st.deadline = rm.current_deadline(case, self.sla, self.tz)
        st.overdue = st.deadline is not None and now >= st.deadline

    def apply(
        self,
        records: Iterable[tuple[str, str, c.AnyRecord]],
        cases: Mapping[str, CaseState],
        cameras: Mapping[str, str],
        seen: set[str],
        now: int,
        sensor_status: Mapping[str, str] | None = None,
    ) -> Effects:
        """Apply decoded records to the state read from Redis; return the effects.

        ``sensor_status``: the stored status of the batch's sensors (a change of it goes in the delta).
        """
        eff = Effects()
        by_case: dict[str, list[c.CaseEvent]] = {}
        seen_now = set(seen)
        for _stream, _eid, rec in records:
            if isinstance(rec, c.CaseEvent):
                if rec.event_id in seen_now:
                    eff.duplicates += 1
                    continue
                seen_now.add(rec.event_id)
                eff.seen[rec.event_id] = rec.ts
                by_case.setdefault(rec.case_id, []).append(rec)
            elif isinstance(rec, c.CameraStatus):
                eff.applied += 1
                before = eff.cameras.get(rec.camera_id, cameras.get(rec.camera_id))
                if before != rec.status:
                    was_down, is_down = before in ("offline", "fault"), rec.status in ("offline", "fault")
                    if is_down != was_down:
                        eff.inc[(c.COUNTERS, "cameras_down")] += 1 if is_down else -1
                    if before is None:
                        eff.inc[(c.COUNTERS, "cameras")] += 1
                    eff.cameras[rec.camera_id] = rec.status
                    eff.camera_since[rec.camera_id] = rec.ts
            else:
                eff.applied += 1
                eff.sensors[rec.sensor_id] = json.dumps(
                    {
                        "metric": rec.metric,
                        "value": rec.value,
                        "unit": rec.unit,
                        "ts": rec.ts,
                        "cell": rec.cell_id,
                    }
                )
                eff.inc[(c.COUNTERS, f"readings:{self.clock.minute(rec.ts)[:8]}")] += 1
                if (lv := self.level(rec)) is not None:
                    eff.levels[rec.sensor_id] = lv
                if rec.ts > now - rm.SENSOR_HIST_MS:
                    point = (rm.sensor_hist_key(rec.sensor_id, rec.ts // 3_600_000),
                             str(rec.ts % 3_600_000 // rm.SENSOR_SLOT_MS))  # fmt: skip
                    eff.sensor_hist[point] = max(rec.value, eff.sensor_hist.get(point, rec.value))
        for case_id, events in by_case.items():
            self._apply_case(eff, case_id, cases.get(case_id), events, now, self.known_fold(case_id))
        stored = sensor_status or {}
        eff.sensor_status = {k: v for k, v in eff.levels.items() if stored.get(k) != v}
        eff.inc = Counter({k: v for k, v in eff.inc.items() if v})
        return eff

    def _apply_case(
        self,
        eff: Effects,
        case_id: str,
        old: CaseState | None,
        events: list[c.CaseEvent],
        now: int,
        old_case: Case | None = None,
    ) -> None:
        """Re-fold one case with its new events and record what changed."""
        new, case, rejected = self.rebuild(old, events, now)
        eff.inc.update(self.change(old, old_case, new, case))
        eff.cases[case_id] = new
        eff.folds[case_id] = case
        eff.cell_cases.append((case_id, old.cell if old is not None else None, new))
        new_ids = {e.event_id for e in events}
        for r in rejected:
            if r.event_id in new_ids:
                eff.illegal += 1
                ev = next(e for e in events if e.event_id == r.event_id)
                eff.dead.append((c.STREAM_CASE_EVENTS, r.event_id, r.reason, ev.model_dump_json()))
        eff.applied += len(new_ids) - sum(1 for r in rejected if r.event_id in new_ids)
        if (old is None or not old.valid) and new.valid:
            eff.new_cases[case_id] = new.reported_ts
        held = {r.event_id for r in rejected}
        for e in sorted(events, key=lambda x: (x.ts, x.seq)):
            if e.event_id not in held and new.valid:
                eff.ticker.append(
                    {"ts": e.ts, "case": case_id, "cell": new.cell, "type": new.event_type,
                     "step": e.step, "dept": e.department or new.department, "priority": new.priority}
                )  # fmt: skip
        self._index_deadline(eff, case_id, new)

    @staticmethod
    def _index_deadline(eff: Effects, case_id: str, st: CaseState) -> None:
        """Keep the case in exactly one of the deadline and overdue sorted sets (or neither)."""
        if st.open and st.deadline is not None and not st.overdue:
            eff.deadlines[case_id] = st.deadline
            eff.clear_overdue.add(case_id)
        elif st.open and st.deadline is not None and st.overdue:
            eff.overdue[case_id] = st.deadline
            eff.clear_deadline.add(case_id)
        else:
            eff.clear_deadline.add(case_id)
            eff.clear_overdue.add(case_id)

    def mark_overdue(self, cases: Mapping[str, CaseState], now: int) -> Effects:
        """Effects of the cases whose current stage deadline has passed by ``now``."""
        eff = Effects()
        for case_id, st in cases.items():
            if not st.open or st.overdue or st.deadline is None or st.deadline > now:
                continue
            new = dataclasses.replace(st, overdue=True)
            case, _ = fold("", st.steps())
            eff.inc.update(self.change(st, case, new, case))
            eff.cases[case_id] = new
            eff.folds[case_id] = case
            self._index_deadline(eff, case_id, new)
            eff.went_overdue.append(
                {"case": case_id, "cell": st.cell, "dept": st.department or "", "stage": st.stage or "",
                 "priority": st.priority, "deadline": st.deadline, "ts": now}
            )  # fmt: skip
        eff.inc = Counter({k: v for k, v in eff.inc.items() if v})
        return eff


class Processor:
    """Consumer-group reader applying batches atomically and publishing deltas."""

    def __init__(
        self,
        client: redis.Redis,
        cfg: ProcessorConfig,
        consumer: str,
        tz: str = "Asia/Shanghai",
        sla: SlaConfig | None = None,
        places: Mapping[str, rm.Place] | None = None,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        """Bind to a Redis client (decode_responses=True) under a stable consumer name."""
        self.r: Any = client  # redis-py's return types are bytes|str unions; replies here are str
        self.cfg = cfg
        self.consumer = consumer
        self.tz = ZoneInfo(tz)
        self.applier = CaseApplier(sla or SlaConfig(), self.tz, places or {})
        self.clock = clock
        self.streams = list(c.STREAM_OF.values())
        self._last_trim = 0.0

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
            self.cfg.group,
            self.consumer,
            {s: ">" for s in self.streams},
            count=self.cfg.batch_size,
            block=block_ms,
        )
        for stream, entries in fresh or []:
            out += [(stream, eid, f) for eid, f in entries]
        return out

    def step(self, block_ms: int | None = None) -> int:
        """Read and apply one batch; return how many entries it acknowledged."""
        entries = self._read(block_ms)
        if not entries:
            return 0
        decoded: list[tuple[str, str, c.AnyRecord]] = []
        dead: list[tuple[str, str, str, str]] = []
        for stream, eid, fields in entries:
            try:
                decoded.append((stream, eid, c.decode(c.KIND_OF_STREAM[stream], fields)))
            except c.RecordError as err:
                dead.append((stream, eid, str(err), json.dumps(fields, ensure_ascii=False)))
        self._commit(entries, decoded, dead)
        return len(entries)

    def _commit(
        self,
        entries: list[Entry],
        decoded: list[tuple[str, str, c.AnyRecord]],
        dead: list[tuple[str, str, str, str]],
    ) -> None:
        """Read the state the batch touches, compute effects, and write them with the acks atomically."""
        case_ids = sorted({r.case_id for _, _, r in decoded if isinstance(r, c.CaseEvent)})
        event_ids = [r.event_id for _, _, r in decoded if isinstance(r, c.CaseEvent)]
        camera_ids = sorted({r.camera_id for _, _, r in decoded if isinstance(r, c.CameraStatus)})
        sensor_ids = sorted({r.sensor_id for _, _, r in decoded if isinstance(r, c.SensorReading)})
        pipe: Any
        with self.r.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(c.CASE_INDEX, CAMERA_STATE, SENSOR_STATUS, c.DELTA_SEQ)
                    cases = {
                        k: self.applier.parse(k, v) for k, v in _hmget(pipe, c.CASE_INDEX, case_ids).items()
                    }
                    scores = pipe.zmscore(c.SEEN_EVENTS, event_ids) if event_ids else []
                    seen = {e for e, s in zip(event_ids, scores, strict=True) if s is not None}
                    cameras = _hmget(pipe, CAMERA_STATE, camera_ids)
                    levels = _hmget(pipe, SENSOR_STATUS, sensor_ids)
                    eff = self.applier.apply(decoded, cases, cameras, seen, self.clock(), levels)
                    eff.dead += dead
                    seq = int(pipe.get(c.DELTA_SEQ) or 0)
                    pipe.multi()
                    self._write(pipe, eff, seq)
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
        pipe: Any
        with self.r.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(c.CASE_INDEX, c.DELTA_SEQ)
                    due = pipe.zrangebyscore(rm.DEADLINES, "-inf", now, start=0, num=limit)
                    if not due:
                        pipe.reset()
                        return 0
                    cases = {k: CaseState.from_json(v) for k, v in _hmget(pipe, c.CASE_INDEX, due).items()}
                    eff = self.applier.mark_overdue(cases, now)
                    eff.clear_deadline.update(set(due) - set(eff.cases))  # stale entries: drop them
                    seq = int(pipe.get(c.DELTA_SEQ) or 0)
                    pipe.multi()
                    self._write(pipe, eff, seq)
                    pipe.execute()
                    self.applier.remember(eff)
                    return len(eff.went_overdue)
                except redis.WatchError:
                    continue

    def _write(self, pipe: Any, eff: Effects, seq: int) -> None:
        """Queue the batch's writes on a MULTI pipeline."""
        now = self.clock()
        if eff.cases:
            eff.written = {k: v.to_json() for k, v in eff.cases.items()}
            pipe.hset(c.CASE_INDEX, mapping=eff.written)
        if eff.new_cases:
            pipe.zadd(c.CASES_BY_TIME, eff.new_cases)
        if drop := sorted(eff.clear_deadline - set(eff.deadlines)):
            pipe.zrem(rm.DEADLINES, *drop)
        if drop := sorted(eff.clear_overdue - set(eff.overdue)):
            pipe.zrem(rm.OVERDUE, *drop)
        if eff.deadlines:
            pipe.zadd(rm.DEADLINES, eff.deadlines)
        if eff.overdue:
            pipe.zadd(rm.OVERDUE, eff.overdue)
        ttl_keys: dict[str, int] = {}
        if eff.inc:
            hash_keys = sorted({key for key, _ in eff.inc})
            index = {k: str(i + 1) for i, k in enumerate(hash_keys)}
            args: list[str | int] = []
            for (key, fld), n in eff.inc.items():
                args += (index[key], fld, n)
            pipe.eval(_HINCRBY_MANY, len(hash_keys), *hash_keys, *args)
        for key, _fld in eff.inc:
            if key.startswith(f"{c.TAG}:rm:day:"):
                ttl_keys[key] = rm.DAY_TTL_S
            elif key.startswith(f"{c.TAG}:rm:hour:"):
                ttl_keys[key] = rm.HOUR_TTL_S
            elif key.startswith(f"{c.TAG}:rm:m5:"):
                ttl_keys[key] = rm.M5_TTL_S
        for key, ttl in ttl_keys.items():
            pipe.expire(key, ttl)
        if eff.cameras:
            pipe.hset(CAMERA_STATE, mapping=eff.cameras)
            pipe.hset(CAMERA_SINCE, mapping=eff.camera_since)
        if eff.sensor_status:
            pipe.hset(SENSOR_STATUS, mapping=eff.sensor_status)
        if eff.sensors:
            pipe.hset(SENSOR_LAST, mapping=eff.sensors)
        if eff.sensor_hist:
            hist_keys = sorted({key for key, _ in eff.sensor_hist})
            at = {k: str(i + 1) for i, k in enumerate(hist_keys)}
            points = [x for (key, slot), v in eff.sensor_hist.items() for x in (at[key], slot, repr(v))]
            pipe.eval(_HMAX_MANY, len(hist_keys), *hist_keys, rm.SENSOR_HIST_TTL_S, *points)
        _index_cell_cases(pipe, eff.cell_cases)
        if eff.seen:
            pipe.zadd(c.SEEN_EVENTS, eff.seen)
        if eff.ticker:
            pipe.lpush(rm.TICKER, *[json.dumps(t, ensure_ascii=False) for t in eff.ticker])
            pipe.ltrim(rm.TICKER, 0, rm.TICKER_LEN - 1)
        for item in eff.went_overdue:
            pipe.xadd(rm.STREAM_OVERDUE, {"d": json.dumps(item)}, maxlen=100_000, approximate=True)
        for stream, eid, reason, raw in eff.dead:
            pipe.xadd(
                c.STREAM_DEAD_LETTER,
                {"stream": stream, "id": eid, "reason": reason, "raw": raw, "ts": str(now)},
                maxlen=c.DEAD_LETTER_MAXLEN,
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
                pipe.hincrby(c.PROCESSOR_STATS, k, v)
        pipe.hset(c.PROCESSOR_STATS, "last_ms", now)
        if eff.changed():
            inc: dict[str, dict[str, int]] = {}
            for (key, fld), n in eff.inc.items():
                inc.setdefault(key, {})[fld] = n
            delta = c.Delta(
                seq=seq + 1,
                ts=now,
                inc=inc,
                ticker=eff.ticker[-20:],
                overdue_changed=bool(eff.overdue or eff.clear_overdue),
                dev=eff.dev(),
            )
            pipe.set(c.DELTA_SEQ, seq + 1)
            pipe.xadd(c.STREAM_DELTAS, delta.to_fields(), maxlen=c.DELTAS_MAXLEN, approximate=True)

    def trim(self, now: int | None = None, limit: int = 2000) -> int:
        """Bound memory: forget event ids older than the idempotency window, and closed cases
        reported more than ``keep_closed_days`` ago; return how many cases went.

        Open cases stay however old they are. Per-day counters expire by themselves (92 days), hourly
        ones after 49 hours; streams are capped by length.
        """
        now = now if now is not None else self.clock()
        self.r.zremrangebyscore(c.SEEN_EVENTS, "-inf", now - c.SEEN_KEEP_MS)
        horizon = now - int(self.cfg.keep_closed_days * 86_400_000)
        old = self.r.zrangebyscore(c.CASES_BY_TIME, "-inf", horizon, start=0, num=limit)
        if not old:
            return 0
        gone = [
            cid for cid, raw in zip(old, self.r.hmget(c.CASE_INDEX, old), strict=True)
            if raw is None or not CaseState.from_json(raw).open
        ]  # fmt: skip
        if gone:
            with self.r.pipeline(transaction=True) as pipe:
                pipe.hdel(c.CASE_INDEX, *gone)
                pipe.zrem(c.CASES_BY_TIME, *gone)
                pipe.execute()
        return len(gone)

    def run(self, stop: threading.Event) -> None:
        """Process until ``stop`` is set; check deadlines every second; survive Redis outages."""
        backoff = 0.5
        last_deadline_check = 0.0
        while not stop.is_set():
            try:
                self.ensure_groups()
                while not stop.is_set():
                    self.step(block_ms=self.cfg.block_ms)
                    if time.monotonic() - last_deadline_check >= 1.0:
                        last_deadline_check = time.monotonic()
                        while self.check_deadlines() and not stop.is_set():
                            pass
                    if time.monotonic() - self._last_trim > 60:
                        self._last_trim = time.monotonic()
                        self.trim()
                    backoff = 0.5
            except redis.ConnectionError as err:
                log.warning("redis unavailable (%s); retrying in %.1f s", err, backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)


# One command for all of a batch's counter increments (HINCRBY per field costs ~7 µs of client time).
_HINCRBY_MANY = """
for i = 1, #ARGV, 3 do
  redis.call('HINCRBY', KEYS[tonumber(ARGV[i])], ARGV[i + 1], ARGV[i + 2])
end
return #ARGV / 3
"""


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


def _index_cell_cases(pipe: Any, changes: list[tuple[str, str | None, CaseState]]) -> None:
    """Queue one script keeping the per-cell case indexes: open case ids, and the newest closed cases."""
    keys: dict[str, str] = {}
    args: list[str | int] = []

    def op(code: str, key: str, case_id: str, score: int = 0) -> None:
        args.extend((code, keys.setdefault(key, str(len(keys) + 1)), case_id, score))

    for case_id, old_cell, st in changes:
        if old_cell is not None and old_cell != st.cell:
            op("srem", rm.cell_cases_key(old_cell), case_id)
            op("zrem", rm.cell_closed_key(old_cell), case_id)
        op("sadd" if st.open and st.valid else "srem", rm.cell_cases_key(st.cell), case_id)
        if st.valid and st.step == "closed" and st.closed_ts is not None:
            op("zadd", rm.cell_closed_key(st.cell), case_id, st.closed_ts)
    if args:
        pipe.eval(_CELL_CASES, len(keys), *keys, rm.CELL_CLOSED_KEEP, *args)


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


def _hmget(pipe: Any, key: str, fields: list[str]) -> dict[str, str]:
    """HMGET as a dict of the fields that exist (no round trip for no fields)."""
    if not fields:
        return {}
    values = pipe.hmget(key, fields)
    return {f: v for f, v in zip(fields, values, strict=True) if v is not None}


def places_of(geo: Any) -> dict[str, rm.Place]:
    """Each cell's place (community and subdistrict) from a Geography."""
    out: dict[str, rm.Place] = {}
    for cell in geo.cells.values():
        community = geo.communities.get(cell.parent_id)
        out[cell.id] = rm.Place(cell.id, cell.parent_id, community.parent_id if community else None)
    return out
