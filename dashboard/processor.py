"""The processor: reads input streams through a consumer group and keeps the read models.

Each batch is applied in one MULTI/EXEC with its XACKs, so a crash leaves either all of a batch's
effects and acknowledgements or none; unacknowledged entries are read again (at-least-once) and the
seen-set makes a record delivered twice count once. Every batch that changes something appends one
delta (consecutive ``seq``) to the delta stream that web processes push to browsers.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import redis

from dashboard import contract as c
from dashboard.config import ProcessorConfig

log = logging.getLogger(__name__)

Entry = tuple[str, str, dict[Any, Any]]  # (stream, id, fields)


def day_key(ts_ms: int, tz: ZoneInfo) -> str:
    """The local calendar day (yyyymmdd) of an epoch-ms time."""
    return datetime.fromtimestamp(ts_ms / 1000, tz).strftime("%Y%m%d")


@dataclass
class CaseState:
    """What the processor remembers of one case (the case index; Open311 and pages read it)."""

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

    def to_json(self) -> str:
        """Compact JSON for the case index."""
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> CaseState:
        """Parse the case index's JSON (older entries may lack the later fields)."""
        d = json.loads(raw)
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


@dataclass
class Effects:
    """The writes one batch makes, computed purely from the batch and the state it read."""

    cases: dict[str, CaseState] = field(default_factory=dict)
    cells: dict[str, int] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    cameras: dict[str, str] = field(default_factory=dict)
    sensors: dict[str, str] = field(default_factory=dict)
    seen: dict[str, int] = field(default_factory=dict)
    new_cases: dict[str, int] = field(default_factory=dict)  # case_id -> reported time
    dead: list[tuple[str, str, str, str]] = field(default_factory=list)  # stream, id, reason, raw
    duplicates: int = 0
    applied: int = 0

    def changed(self) -> bool:
        """True when the batch changed something a screen shows."""
        return bool(self.cells or self.counters)


def apply_batch(
    records: Iterable[tuple[str, str, c.AnyRecord]],
    cases: Mapping[str, CaseState],
    cells: Mapping[str, int],
    counters: Mapping[str, int],
    cameras: Mapping[str, str],
    seen: set[str],
    tz: ZoneInfo,
) -> Effects:
    """Apply decoded records to the state read from Redis; return the effects (no I/O).

    ``seen`` holds the event ids already applied earlier; duplicates inside the batch count once too.
    """
    eff = Effects()
    case_view: dict[str, CaseState] = {}
    seen_now = set(seen)

    def cell_count(cell: str) -> int:
        return eff.cells.get(cell, cells.get(cell, 0))

    def counter(name: str) -> int:
        return eff.counters.get(name, counters.get(name, 0))

    def bump(name: str, by: int = 1) -> None:
        eff.counters[name] = counter(name) + by

    for _stream, _entry_id, rec in records:
        if isinstance(rec, c.CaseEvent):
            if rec.event_id in seen_now:
                eff.duplicates += 1
                continue
            seen_now.add(rec.event_id)
            eff.seen[rec.event_id] = rec.ts
            eff.applied += 1
            day = day_key(rec.ts, tz)
            bump(f"{rec.step}:{day}")
            prev = case_view.get(rec.case_id) or cases.get(rec.case_id)
            closing = rec.step in c.CLOSING_STEPS
            if prev is None:
                now_open = not closing
                st = CaseState(
                    cell=rec.cell_id,
                    step=rec.step,
                    ts=rec.ts,
                    open=now_open,
                    event_type=rec.event_type,
                    category=rec.category,
                    department=rec.department,
                    priority=rec.priority,
                    source=rec.source,
                    reported_ts=rec.ts,
                    closed_ts=rec.ts if closing else None,
                    lon=rec.lon,
                    lat=rec.lat,
                    description=rec.note[:500],
                )
                eff.new_cases[rec.case_id] = rec.ts
                if now_open:
                    eff.cells[rec.cell_id] = cell_count(rec.cell_id) + 1
                    bump("open")
            else:
                now_open = not closing if (prev.open or rec.step == "reopened") else False
                if prev.open and not now_open:
                    eff.cells[prev.cell] = max(0, cell_count(prev.cell) - 1)
                    bump("open", -1)
                elif not prev.open and now_open:
                    eff.cells[prev.cell] = cell_count(prev.cell) + 1
                    bump("open")
                st = replace(
                    prev,
                    step=rec.step,
                    ts=max(prev.ts, rec.ts),
                    open=now_open,
                    department=rec.department or prev.department,
                    priority=rec.priority if rec.step == "escalated" else prev.priority,
                    closed_ts=None if now_open else (prev.closed_ts or rec.ts),
                )
            case_view[rec.case_id] = st
        elif isinstance(rec, c.CameraStatus):
            eff.applied += 1
            before = eff.cameras.get(rec.camera_id, cameras.get(rec.camera_id))
            if before != rec.status:
                was_down = before in ("offline", "fault")
                is_down = rec.status in ("offline", "fault")
                if is_down and not was_down:
                    bump("cameras_down")
                elif was_down and not is_down:
                    bump("cameras_down", -1)
                if before is None:
                    bump("cameras")
                eff.cameras[rec.camera_id] = rec.status
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
            bump(f"readings:{day_key(rec.ts, tz)}")
    eff.cases = case_view
    return eff


CAMERA_STATE = f"{c.TAG}:rm:camera"  # hash camera_id -> status
SENSOR_LAST = f"{c.TAG}:rm:sensor-last"  # hash sensor_id -> JSON of the last reading


class Processor:
    """Consumer-group reader applying batches atomically and publishing deltas."""

    def __init__(
        self, client: redis.Redis, cfg: ProcessorConfig, consumer: str, tz: str = "Asia/Shanghai"
    ) -> None:
        """Bind to a Redis client (decode_responses=True) under a stable consumer name."""
        self.r: Any = client  # redis-py's return types are bytes|str unions; replies here are str
        self.cfg = cfg
        self.consumer = consumer
        self.tz = ZoneInfo(tz)
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
        pipe: Any
        with self.r.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(c.CASE_INDEX, c.CELL_OPEN, c.COUNTERS, CAMERA_STATE, c.DELTA_SEQ)
                    cases = {
                        k: CaseState.from_json(v) for k, v in _hmget(pipe, c.CASE_INDEX, case_ids).items()
                    }
                    scores = pipe.zmscore(c.SEEN_EVENTS, event_ids) if event_ids else []
                    seen = {e for e, s in zip(event_ids, scores, strict=True) if s is not None}
                    cameras = _hmget(pipe, CAMERA_STATE, camera_ids)
                    touched_cells = sorted(
                        {s.cell for s in cases.values()}
                        | {r.cell_id for _, _, r in decoded if isinstance(r, c.CaseEvent)}
                    )
                    cells = {k: int(v) for k, v in _hmget(pipe, c.CELL_OPEN, touched_cells).items()}
                    eff = apply_batch(decoded, cases, cells, _LazyCounters(pipe), cameras, seen, self.tz)
                    seq = int(pipe.get(c.DELTA_SEQ) or 0)
                    pipe.multi()
                    self._write(pipe, eff, dead, seq)
                    for stream in self.streams:
                        ids = [eid for s, eid, _ in entries if s == stream]
                        if ids:
                            pipe.xack(stream, self.cfg.group, *ids)
                    pipe.execute()
                    return
                except redis.WatchError:
                    continue

    def _write(self, pipe: Any, eff: Effects, dead: list[tuple[str, str, str, str]], seq: int) -> None:
        """Queue the batch's writes on a MULTI pipeline."""
        now = int(time.time() * 1000)
        if eff.cases:
            pipe.hset(c.CASE_INDEX, mapping={k: v.to_json() for k, v in eff.cases.items()})
        if eff.new_cases:
            pipe.zadd(c.CASES_BY_TIME, eff.new_cases)
        if eff.cells:
            pipe.hset(c.CELL_OPEN, mapping=eff.cells)
        if eff.counters:
            pipe.hset(c.COUNTERS, mapping=eff.counters)
        if eff.cameras:
            pipe.hset(CAMERA_STATE, mapping=eff.cameras)
        if eff.sensors:
            pipe.hset(SENSOR_LAST, mapping=eff.sensors)
        if eff.seen:
            pipe.zadd(c.SEEN_EVENTS, eff.seen)
        for stream, eid, reason, raw in dead:
            pipe.xadd(
                c.STREAM_DEAD_LETTER,
                {"stream": stream, "id": eid, "reason": reason, "raw": raw, "ts": str(now)},
                maxlen=c.DEAD_LETTER_MAXLEN,
                approximate=True,
            )
        stats: dict[str, int] = {"applied": eff.applied, "duplicates": eff.duplicates, "dead": len(dead)}
        for k, v in stats.items():
            if v:
                pipe.hincrby(c.PROCESSOR_STATS, k, v)
        pipe.hset(c.PROCESSOR_STATS, "last_ms", now)
        if eff.changed():
            delta = c.Delta(seq=seq + 1, ts=now, cells=eff.cells, counters=eff.counters)
            pipe.set(c.DELTA_SEQ, seq + 1)
            pipe.xadd(c.STREAM_DELTAS, delta.to_fields(), maxlen=c.DELTAS_MAXLEN, approximate=True)

    def trim(self, now_ms: int | None = None) -> None:
        """Forget event ids older than the idempotency window (bounded memory)."""
        now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
        self.r.zremrangebyscore(c.SEEN_EVENTS, "-inf", now_ms - c.SEEN_KEEP_MS)

    def run(self, stop: threading.Event) -> None:
        """Process until ``stop`` is set; survive Redis outages by retrying."""
        backoff = 0.5
        while not stop.is_set():
            try:
                self.ensure_groups()
                while not stop.is_set():
                    self.step(block_ms=self.cfg.block_ms)
                    if time.monotonic() - self._last_trim > 60:
                        self._last_trim = time.monotonic()
                        self.trim()
                    backoff = 0.5
            except redis.ConnectionError as err:
                log.warning("redis unavailable (%s); retrying in %.1f s", err, backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)


def _hmget(pipe: Any, key: str, fields: list[str]) -> dict[str, str]:
    """HMGET as a dict of the fields that exist (no round trip for no fields)."""
    if not fields:
        return {}
    values = pipe.hmget(key, fields)
    return {f: v for f, v in zip(fields, values, strict=True) if v is not None}


class _LazyCounters(Mapping[str, int]):
    """Counters read from Redis on first use (inside WATCH), so a batch reads only what it touches."""

    def __init__(self, pipe: Any) -> None:
        """Wrap a watching pipeline."""
        self._pipe = pipe
        self._cache: dict[str, int] = {}

    def __getitem__(self, key: str) -> int:
        """The counter's current value; KeyError when unset."""
        if key not in self._cache:
            v = self._pipe.hget(c.COUNTERS, key)
            if v is None:
                raise KeyError(key)
            self._cache[key] = int(v)
        return self._cache[key]

    def __iter__(self) -> Any:
        """Not iterable on purpose: a batch never needs every counter."""
        raise TypeError("counters are read lazily")

    def __len__(self) -> int:
        """Unknown without reading all."""
        return 0
