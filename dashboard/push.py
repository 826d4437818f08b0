"""The push bridge: tails the processor's delta stream and emits merged batches over Socket.IO."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import redis
from flask_socketio import SocketIO

from dashboard import contract as c
from dashboard import devices
from dashboard import healthscore as hs
from dashboard import readmodel as rm
from dashboard.config import AppConfig
from dashboard.freshness import read_freshness, status_changed
from dashboard.geo import Geography
from dashboard.registry import default_registry

log = logging.getLogger(__name__)

EVENT = "delta"
FLOW_EVENT = "flow"
ALERTS_EVENT = "alerts"
FEEDS_EVENT = "feeds"
FLOW_EVERY_S = 30.0
HEALTH_EVENT = "health"
HEALTH_EVERY_S = 10.0  # the areas whose health score changed are pushed this often
FEEDS_CHECK_S = 1.0  # feed health is read this often; pushed at once when a kind turns stale or fresh
FEEDS_EVERY_S = 5.0  # ... and this often anyway, so that the pages' data ages stay honest
BOOT = uuid.uuid4().hex[:12]  # this web process: a page seeing another one resynchronises
OVERDUE_TOP = 20
TICKER_SHOWN = 20  # kept by the page (and in a snapshot)
TICKER_SENT = 15  # at most this many new ticker items in a message: the wall shows 15
# A ticker item travels as a list of these fields, in this order (the page zips them back).
TICK_FIELDS = ("ts", "case", "cell", "type", "step", "dept", "priority")

# What the wall keeps of the read models: these scopes of the by-area hashes (not every cell's stages).
WALL_SCOPES = ("district:", "subdistrict:", "dept:", "cat:")
DAY_SCOPES = (":dept:", ":cat:", ":subdistrict:")  # per-day counts the wall keeps besides the totals
DAY_PREFIX = f"{c.TAG}:rm:day:"
HOUR_PREFIX = f"{c.TAG}:rm:hour:"


# On the wire a read-model key has a one-letter name (a day's and an hour's key: the letter and the
# date): the same keys come in every message, and a message for 50 changes must stay small.
WIRE_KEYS = {c.CELL_OPEN: "c", c.COUNTERS: "k", rm.OPEN: "o", rm.OVERDUE_N: "n"}
WIRE_PREFIXES = ((DAY_PREFIX, "d"), (HOUR_PREFIX, "h"))


def keys() -> dict[str, str]:
    """The names a page finds delta increments under (sent to the page once): see ``wire_key``."""
    return {
        "cells": WIRE_KEYS[c.CELL_OPEN],
        "counters": WIRE_KEYS[c.COUNTERS],
        "open": WIRE_KEYS[rm.OPEN],
        "overdue_n": WIRE_KEYS[rm.OVERDUE_N],
        "day": "d",
        "hour": "h",
    }


def wire_key(key: str) -> str:
    """A read-model key's name in a message (``{cb}:rm:day:20261128`` → ``d20261128``)."""
    short = WIRE_KEYS.get(key)
    if short is not None:
        return short
    for prefix, letter in WIRE_PREFIXES:
        if key.startswith(prefix):
            return letter + key.removeprefix(prefix)
    return key


def tick_items(items: list[list[Any]]) -> list[dict[str, Any]]:
    """A message's ticker items as dicts (for readers of messages other than the page)."""
    return [dict(zip(TICK_FIELDS, it, strict=True)) for it in items]


def wall_field(key: str, fld: str) -> bool:
    """True for the hash fields the wall shows (the rest is for drill-down pages)."""
    if key in (rm.OPEN, rm.OVERDUE_N):
        return fld.startswith(WALL_SCOPES)
    if key.startswith(DAY_PREFIX):
        # subdistrict scopes: /wall's rotation shows each subdistrict's reported/closed today
        return fld.count(":") == 0 or fld.startswith("dur:") or any(s in fld for s in DAY_SCOPES)
    if key.startswith(HOUR_PREFIX):
        return fld.count(":") == 0 or ":cat:" in fld
    return key in (c.CELL_OPEN, c.COUNTERS)


FieldFilter = Callable[[str, str], bool]
TickFilter = Callable[[dict[str, Any]], bool]
DevFilter = Callable[[str], bool]
Filters = tuple[FieldFilter, TickFilter | None, DevFilter | None]


def merge(
    deltas: list[c.Delta],
    keep: FieldFilter = wall_field,
    tick: TickFilter | None = None,
    device: DevFilter | None = None,
) -> dict[str, Any]:
    """One message for consecutive deltas: increments add up, ticker items concatenate.

    ``from``/``to`` are the first and last seq merged; a page that has applied up to ``from - 1``
    can apply it, any other page must resynchronise from a snapshot. ``keep`` picks the hash fields,
    ``tick`` the ticker items and ``device`` the device statuses a room shows (default: the wall's).
    """
    inc: dict[str, dict[str, int]] = {}
    ticker: list[dict[str, Any]] = []
    dev: dict[str, str] = {}  # device id -> status: the last in the batch wins
    for d in deltas:
        dev.update(d.dev if device is None else {k: v for k, v in d.dev.items() if device(k)})
        for key, fields in d.inc.items():
            slot = inc.setdefault(key, {})
            for fld, n in fields.items():
                if keep(key, fld):
                    slot[fld] = slot.get(fld, 0) + n
        ticker += d.ticker if tick is None else [t for t in d.ticker if tick(t)]
    msg: dict[str, Any] = {
        "from": deltas[0].seq,
        "to": deltas[-1].seq,
        "ts": deltas[-1].ts,
        "inc": {wire_key(k): {f: n for f, n in v.items() if n} for k, v in inc.items() if any(v.values())},
        "ticker": [[t.get(f) for f in TICK_FIELDS] for t in ticker[-TICKER_SENT:]],
        "overdue_changed": any(d.overdue_changed for d in deltas),
    }
    if dev:
        msg["dev"] = dev
    return msg


def _ints(h: dict[str, str], keep: Any = None) -> dict[str, int]:
    """A hash's values as ints, optionally only the fields ``keep(field)`` accepts."""
    return {k: int(v) for k, v in h.items() if keep is None or keep(k)}


def overdue_top(client: Any, now_ms: int, n: int = OVERDUE_TOP) -> list[dict[str, Any]]:
    """The ``n`` cases longest past their deadline, with what a duty officer needs to see."""
    ids = client.zrange(rm.OVERDUE, 0, n - 1, withscores=True)
    if not ids:
        return []
    raws = client.hmget(c.CASE_INDEX, [i for i, _ in ids])
    out = []
    for (case_id, due), raw in zip(ids, raws, strict=True):
        if raw is None:
            continue
        st = json.loads(raw)
        out.append(
            {"case": case_id, "cell": st.get("cell"), "dept": st.get("department"),
             "type": st.get("event_type"), "stage": st.get("stage"), "priority": st.get("priority"),
             "deadline": int(due), "late_ms": max(0, now_ms - int(due))}
        )  # fmt: skip
    return out


def flow_last_hour(client: Any, tz: ZoneInfo, now: datetime | None = None) -> dict[str, int]:
    """Cases that entered each stage in the last hour (sum of the 5-minute slots)."""
    now = now or datetime.now(tz)
    slots = []
    for k in range(12):
        t = now - timedelta(minutes=5 * k)
        slots.append(rm.m5_key(t.strftime("%Y%m%d%H") + f"{t.minute // 5 * 5:02d}"))
    with client.pipeline(transaction=False) as pipe:
        for key in slots:
            pipe.hgetall(key)
        rows = pipe.execute()
    total: dict[str, int] = {}
    for row in rows:
        for fld, v in row.items():
            stage = fld.removeprefix("into:")
            total[stage] = total.get(stage, 0) + int(v)
    return total


def read_alerts(client: Any) -> dict[str, Any]:
    """The active alerts and the alert seq they are current to, read as ``GET /api/v1/alerts`` does
    (the active set, never the history). The seq is read first: a change landing in between is in the
    list and is pushed again, which a page applies harmlessly (a change carries whole alerts)."""
    from dashboard.alerts import store  # imported here: the alerts package is not needed to push deltas

    seq = int(client.get(c.ALERT_SEQ) or 0)
    return {"seq": seq, "alerts": store.active(client)}


def alert_message(changes: list[dict[str, Any]]) -> dict[str, Any]:
    """One "alerts" Socket.IO message for consecutive alert changes (``AlertDelta`` dicts, seq order):
    ``from``/``to`` are the first and last seq; a page that has applied up to ``from - 1`` applies
    ``changes`` in order (each alert whole; ``removed`` ids are gone), any other page refetches
    ``GET /api/v1/alerts``."""
    return {
        "from": changes[0]["seq"],
        "to": changes[-1]["seq"],
        "changes": [
            {"seq": d["seq"], "ts": d["ts"], "alerts": d["alerts"], "removed": d["removed"]} for d in changes
        ],
    }


def stage_medians(day: dict[str, Any]) -> dict[str, float]:
    """Median minutes per stage from a day hash's duration histograms (``dur:<stage>:<bucket>``)."""
    hist: dict[str, dict[int, int]] = {}
    for fld, n in day.items():
        if fld.startswith("dur:"):
            _, stage, bucket = fld.split(":")
            hist.setdefault(stage, {})[int(bucket)] = int(n)
    out = {stage: rm.median_minutes(h) for stage, h in hist.items()}
    return {k: round(v, 1) for k, v in out.items() if v is not None}


def flow_message(client: Any, tz: ZoneInfo) -> dict[str, Any]:
    """The periodic "flow" message: stage entries in the last hour and today's median stage times."""
    today = datetime.now(tz).strftime("%Y%m%d")
    return {
        "flow_hour": flow_last_hour(client, tz),
        "stage_median": stage_medians(client.hgetall(rm.day_key(today))),
    }


def redis_epoch(client: Any) -> str:
    """The Redis server's run id: it changes when Redis restarts (pages then resynchronise)."""
    return str(client.info("server").get("run_id", ""))[:16]


def read_snapshot(client: Any, tz: ZoneInfo, cfg: AppConfig | None = None) -> dict[str, Any]:
    """One consistent snapshot of what the wall shows, with the seq it is current to, the web process
    (``boot``) and Redis run (``epoch``) it comes from and, given ``cfg``, the feeds' freshness."""
    now = datetime.now(tz)
    today = now.strftime("%Y%m%d")
    hours = [(now - timedelta(hours=k)).strftime("%Y%m%d%H") for k in range(24)]
    with client.pipeline(transaction=True) as pipe:
        pipe.get(c.DELTA_SEQ)
        pipe.hgetall(c.CELL_OPEN)
        pipe.hgetall(c.COUNTERS)
        pipe.hgetall(rm.OPEN)
        pipe.hgetall(rm.OVERDUE_N)
        pipe.hgetall(rm.day_key(today))
        for h in hours:
            pipe.hgetall(rm.hour_key(h))
        pipe.lrange(rm.TICKER, 0, TICKER_SHOWN - 1)
        seq, cells, counters, open_, overdue_n, day, *rest = pipe.execute()
    hour_rows, ticker = rest[:-1], rest[-1]
    recent = {today, (now - timedelta(days=1)).strftime("%Y%m%d")}
    now_ms = int(time.time() * 1000)
    return {
        "seq": int(seq or 0),
        "ts": now_ms,
        "boot": BOOT,
        "epoch": redis_epoch(client),
        "feeds": read_freshness(client, cfg, now_ms) if cfg is not None else {},
        "today": today,
        "cells": _ints(cells),
        # per-day counters: only today's and yesterday's go to the page; the rest is history
        "counters": _ints(counters, lambda k: ":" not in k or k.rsplit(":", 1)[1] in recent),
        "open": _ints(open_, lambda k: k.startswith(WALL_SCOPES)),
        "overdue_n": _ints(overdue_n, lambda k: k.startswith(WALL_SCOPES)),
        "day": _ints(day, lambda k: wall_field(rm.day_key(today), k)),
        "hours": {
            h: _ints(row, lambda k: ":" not in k or ":cat:" in k)
            for h, row in zip(hours, hour_rows, strict=True)
        },
        "ticker": [json.loads(t) for t in reversed(ticker)],
        "overdue_top": overdue_top(client, now_ms),
        "flow_hour": flow_last_hour(client, tz, now),
        "stage_median": stage_medians(day),
        "alerts": read_alerts(client),
        "health": hs.load(client),
    }


# ---------------------------------------------------------------- rooms: each view gets what it shows

WALL_ROOM = "wall"
AREA_LEVELS = ("subdistrict", "community", "cell")  # drill-down pages /<level>/<area id>
AREA_SCOPES = frozenset(AREA_LEVELS)


def room_for(view: str | None, geo: Geography) -> str | None:
    """The room of a page, from its path (or a view name): ``/`` and ``/wall`` → ``wall``;
    ``/<subdistrict|community|cell>/<id>`` → ``area:<id>``; ``/case/<id>`` → ``case:<id>``; else None."""
    parts = [p for p in (view or "").split("?")[0].split("/") if p]
    if parts in ([], ["wall"]):
        return WALL_ROOM
    if len(parts) == 2 and parts[0] == "case":
        return f"case:{parts[1]}"
    if len(parts) == 2 and parts[0] in AREA_LEVELS and parts[1] in _ids_at(geo, parts[0]):
        return f"area:{parts[1]}"
    return None


def _ids_at(geo: Geography, level: str) -> dict[str, Any]:
    """The areas of one drill-down level by id."""
    return {"subdistrict": geo.subdistricts, "community": geo.communities, "cell": geo.cells}[level]


def area_ids(geo: Geography, area_id: str) -> frozenset[str]:
    """The area and every area inside it (communities, cells)."""
    out, todo = set(), [area_id]
    while todo:
        a = todo.pop()
        out.add(a)
        todo += [ch.id for ch in geo.children(a)]
    return frozenset(out)


def area_filter(ids: frozenset[str]) -> FieldFilter:
    """The read-model fields whose scope is one of ``ids`` (``<scope>:<id>...`` in the open, overdue
    and day hashes; cell ids in the cell hash). District-wide counters are the wall's, not an area's."""

    def keep(key: str, fld: str) -> bool:
        if key == c.CELL_OPEN:
            return fld in ids
        if key in (rm.OPEN, rm.OVERDUE_N) or key.startswith(DAY_PREFIX):
            parts = fld.split(":", 3)
            return any(parts[i] in AREA_SCOPES and parts[i + 1] in ids for i in range(min(2, len(parts) - 1)))
        return False

    return keep


class Rooms:
    """Which Socket.IO rooms have members, and each room's message filter (built once, cached)."""

    def __init__(self, geo: Geography) -> None:
        """Rooms of pages on ``geo``."""
        self.geo = geo
        self._lock = threading.Lock()
        self._room_of: dict[str, str] = {}  # sid -> room
        self._filters: dict[str, Filters] = {}

    def join(self, sid: str, room: str) -> None:
        """A page joined ``room``."""
        with self._lock:
            self._room_of[sid] = room

    def leave(self, sid: str) -> None:
        """A page went away."""
        with self._lock:
            self._room_of.pop(sid, None)

    def active(self) -> list[str]:
        """The rooms with at least one member."""
        with self._lock:
            return sorted(set(self._room_of.values()))

    def filters(self, room: str) -> Filters:
        """(hash-field, ticker and device filters) of a room's deltas."""
        got = self._filters.get(room)
        if got is None:
            got = self._build(room)
            self._filters[room] = got
        return got

    def _build(self, room: str) -> Filters:
        """Make a room's filters."""
        if room.startswith("area:"):
            ids = area_ids(self.geo, room.removeprefix("area:"))
            reg = default_registry()
            inside = {i for i, d in reg.cameras.items() if d.cell_id in ids}
            inside |= {i for i, d in reg.sensors.items() if d.cell_id in ids}
            return area_filter(ids), lambda t: t.get("cell") in ids, inside.__contains__
        if room.startswith("case:"):
            case = room.removeprefix("case:")
            return (lambda _k, _f: False), lambda t: t.get("case") == case, lambda _d: False
        return WALL_FILTERS


WALL_FILTERS: Filters = (wall_field, None, None)


def room_message(room: str, batch: list[c.Delta], filters: Filters) -> dict[str, Any] | None:
    """The delta message for ``room`` (None: nothing for it: a case page wants only its own events).
    A wall message whose batch changed the overdue set has ``overdue_top`` to fill (None here)."""
    msg = merge(batch, *filters)
    overdue = msg.pop("overdue_changed")
    if room.startswith("case:"):  # a case page re-reads its case when the ticker mentions it
        return {k: msg[k] for k in ("from", "to", "ts", "ticker")} if msg["ticker"] else None
    if room == WALL_ROOM and overdue:
        msg["overdue_top"] = None
    return msg


class PushBridge:
    """A background task per web process: XREAD the deltas, batch them, emit to each room what it shows."""

    def __init__(
        self,
        socketio: SocketIO,
        client: redis.Redis,
        tz: ZoneInfo,
        interval_ms: int = 100,
        cfg: AppConfig | None = None,
        rooms: Rooms | None = None,
    ) -> None:
        """Emit through ``socketio`` what appears on the delta stream, every ``interval_ms``; to the
        members of ``rooms`` (without: every page gets the wall's); feed health too given ``cfg``."""
        self.tz = tz
        self.sio = socketio
        self.r: Any = client
        self.interval = interval_ms / 1000.0
        self.cfg = cfg
        self.rooms = rooms
        self.stop = threading.Event()
        self.emitted = 0
        self.epoch = ""
        self._feeds: dict[str, Any] | None = None
        self._feeds_at = 0.0
        self._feeds_sent = 0.0
        self._health: dict[str, list[Any]] = {}  # the health map pushed last: area -> [score, colour]
        self._health_at = 0.0
        self._stale: devices.StaleState | None = None  # the stale sensors (devices.stale_changes)
        self._stale_at = 0.0

    def start(self) -> None:
        """Run the loop as a Socket.IO background task."""
        self.sio.start_background_task(self._loop)

    def _loop(self) -> None:
        """Tail both streams from their newest entries; survive Redis outages."""
        last = {c.STREAM_DELTAS: "$", c.STREAM_ALERTS: "$"}
        last_flow = time.monotonic()
        while not self.stop.is_set():
            try:
                for stream, eid in last.items():
                    if eid == "$":
                        newest = self.r.xrevrange(stream, count=1)
                        last[stream] = newest[0][0] if newest else "0-0"
                got = self.r.xread(dict(last), count=1000, block=1000)
                deltas: list[c.Delta] = []
                changes: list[dict[str, Any]] = []
                for stream, entries in got or []:
                    for eid, fields in entries:
                        last[stream] = eid
                        if stream == c.STREAM_ALERTS:
                            changes.append(json.loads(fields["d"]))
                        else:
                            deltas.append(c.Delta.from_fields(fields))
                for run in _alert_runs(changes):
                    self.sio.emit(ALERTS_EVENT, alert_message(run))
                    self.emitted += 1
                if deltas:
                    for batch in _runs(deltas):
                        self._emit_deltas(batch)
                    self.stop.wait(self.interval)  # batch what arrives meanwhile into the next emit
                if time.monotonic() - last_flow >= FLOW_EVERY_S:
                    last_flow = time.monotonic()
                    self.sio.emit(FLOW_EVENT, flow_message(self.r, self.tz), to=self._wall())
                if self.rooms is not None and time.monotonic() - self._health_at >= HEALTH_EVERY_S:
                    self._health_at = time.monotonic()
                    self._emit_health(self.rooms.geo)
                self._emit_feeds()
                self._emit_stale()
            except redis.RedisError as err:
                log.warning("push: redis unavailable (%s)", err)
                self.epoch = ""  # Redis may come back as a new run: read its id again
                self.stop.wait(1.0)

    def _emit_health(self, geo: Geography) -> None:
        """Push {area: [score, colour]} for the areas whose health changed since the last push, and
        keep the whole map in Redis for snapshots (a bad stored value is logged, never stops the loop)."""
        try:
            scores = hs.compute_all(self.r, geo, default_registry(), int(time.time() * 1000), self.tz)
        except (ValueError, KeyError, TypeError) as err:
            log.warning("push: health not computed (%s)", err)
            return
        new = hs.compact(scores)
        hs.save(self.r, new)
        diff = hs.changed(self._health, new)
        self._health = new
        if diff:
            self.sio.emit(HEALTH_EVENT, diff)

    def _wall(self) -> str | None:
        """Where wall-only events go: the wall room (None, everyone, without rooms)."""
        return WALL_ROOM if self.rooms is not None else None

    def _stamp(self, msg: dict[str, Any]) -> dict[str, Any]:
        """Mark a message with this web process and the Redis run it comes from."""
        if not self.epoch:
            self.epoch = redis_epoch(self.r)
        msg["boot"], msg["epoch"] = BOOT, self.epoch
        return msg

    def _emit_deltas(self, batch: list[c.Delta]) -> None:
        """One message per room with members (every page gets the wall's message without rooms)."""
        rooms = self.rooms
        top: list[dict[str, Any]] | None = None  # read once for every wall page
        for room in rooms.active() if rooms is not None else [WALL_ROOM]:
            filters = rooms.filters(room) if rooms is not None else WALL_FILTERS
            msg = room_message(room, batch, filters)
            if msg is None:
                continue
            if "overdue_top" in msg:
                top = top if top is not None else overdue_top(self.r, int(time.time() * 1000))
                msg["overdue_top"] = top
            self.sio.emit(EVENT, self._stamp(msg), to=room if rooms is not None else None)
            self.emitted += 1

    def _emit_feeds(self) -> None:
        """Read the feeds' health every FEEDS_CHECK_S; push it when a kind turned stale or fresh, and
        every FEEDS_EVERY_S anyway (the data ages on the pages follow the feeds' heartbeats)."""
        mono = time.monotonic()
        if self.cfg is None or mono - self._feeds_at < FEEDS_CHECK_S:
            return
        self._feeds_at = mono
        now = int(time.time() * 1000)
        status = read_freshness(self.r, self.cfg, now)
        if status_changed(self._feeds, status) or mono - self._feeds_sent >= FEEDS_EVERY_S:
            self._feeds, self._feeds_sent = status, mono
            self.sio.emit(FEEDS_EVENT, self._stamp({"ts": now, "kinds": status}))

    def _emit_stale(self) -> None:
        """Every STALE_CHECK_S: push the sensors that turned stale or came back (docs/DEVICES.md)."""
        mono = time.monotonic()
        if mono - self._stale_at < devices.STALE_CHECK_S:
            return
        self._stale_at = mono
        now = int(time.time() * 1000)
        changes, self._stale = devices.stale_changes(self.r, default_registry(), now, self._stale)
        if changes:
            self.sio.emit(devices.STALE_EVENT, {"dev": changes})


def _alert_runs(changes: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Split alert changes into runs of consecutive seq (a page tells a gap from a batch)."""
    runs: list[list[dict[str, Any]]] = []
    for d in changes:
        if runs and d["seq"] == runs[-1][-1]["seq"] + 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    return runs


def _runs(deltas: list[c.Delta]) -> list[list[c.Delta]]:
    """Split deltas into runs of consecutive seq, so that a page can tell a gap from a batch."""
    runs: list[list[c.Delta]] = [[deltas[0]]]
    for d in deltas[1:]:
        if d.seq == runs[-1][-1].seq + 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    return runs
