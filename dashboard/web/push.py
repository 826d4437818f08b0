"""The push bridge: one background task per web process that tails the delta and alert streams and emits
to each Socket.IO room what its pages show (docs/DATA.md, "Push to pages").

It computes nothing: the processor publishes the new values (counters, health scores, device states);
the bridge filters and merges them per room, adds the overdue list when it changed, and sends the
feeds' freshness and the last hour's flow on timers.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any
from zoneinfo import ZoneInfo

import redis
from flask_socketio import SocketIO

from dashboard.config import AppConfig
from dashboard.domain.freshness import status_changed
from dashboard.domain.types import epoch_ms
from dashboard.queries.snapshot import flow_message, overdue_top, redis_epoch
from dashboard.queries.status import read_freshness
from dashboard.store import keys
from dashboard.store.deltas import Delta
from dashboard.web.context import BOOT
from dashboard.web.rooms import WALL_FILTERS, WALL_ROOM, Rooms, room_message

log = logging.getLogger(__name__)

EVENT = "delta"
FLOW_EVENT = "flow"
ALERTS_EVENT = "alerts"
FEEDS_EVENT = "feeds"
FLOW_EVERY_S = 30.0
FEEDS_CHECK_S = 1.0  # feed health is read this often; pushed at once when a kind turns stale or fresh
FEEDS_EVERY_S = 5.0  # ... and this often anyway, so that the pages' data ages stay honest


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


def runs(items: list[Any], seq_of: Any) -> list[list[Any]]:
    """Split items into runs of consecutive seq, so that a page can tell a gap from a batch."""
    out: list[list[Any]] = []
    for item in items:
        if out and seq_of(item) == seq_of(out[-1][-1]) + 1:
            out[-1].append(item)
        else:
            out.append([item])
    return out


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

    def start(self) -> None:
        """Run the loop as a Socket.IO background task."""
        self.sio.start_background_task(self._loop)

    def _loop(self) -> None:
        """Tail both streams from their newest entries; survive Redis outages."""
        last = {keys.STREAM_DELTAS: "$", keys.STREAM_ALERTS: "$"}
        last_flow = time.monotonic()
        while not self.stop.is_set():
            try:
                for stream, eid in last.items():
                    if eid == "$":
                        newest = self.r.xrevrange(stream, count=1)
                        last[stream] = newest[0][0] if newest else "0-0"
                if self._read(last):
                    self.stop.wait(self.interval)  # batch what arrives meanwhile into the next emit
                if time.monotonic() - last_flow >= FLOW_EVERY_S:
                    last_flow = time.monotonic()
                    self.sio.emit(FLOW_EVENT, flow_message(self.r, self.tz), to=self._wall())
                self._emit_feeds()
            except redis.RedisError as err:
                log.warning("push: redis unavailable (%s)", err)
                self.epoch = ""  # Redis may come back as a new run: read its id again
                self.stop.wait(1.0)

    def _read(self, last: dict[str, str]) -> bool:
        """Read what follows ``last`` on both streams (blocking up to a second) and emit it; True when
        deltas came."""
        got = self.r.xread(dict(last), count=1000, block=1000)
        deltas: list[Delta] = []
        changes: list[dict[str, Any]] = []
        for stream, entries in got or []:
            for eid, fields in entries:
                last[stream] = eid
                if stream == keys.STREAM_ALERTS:
                    changes.append(json.loads(fields["d"]))
                else:
                    deltas.append(Delta.from_fields(fields))
        for run in runs(changes, lambda d: d["seq"]):
            self.sio.emit(ALERTS_EVENT, alert_message(run))
            self.emitted += 1
        for batch in runs(deltas, lambda d: d.seq):
            self._emit_deltas(batch)
        return bool(deltas)

    def _wall(self) -> str | None:
        """Where wall-only events go: the wall room (None, everyone, without rooms)."""
        return WALL_ROOM if self.rooms is not None else None

    def _stamp(self, msg: dict[str, Any]) -> dict[str, Any]:
        """Mark a message with this web process and the Redis run it comes from."""
        if not self.epoch:
            self.epoch = redis_epoch(self.r)
        msg["boot"], msg["epoch"] = BOOT, self.epoch
        return msg

    def _emit_deltas(self, batch: list[Delta]) -> None:
        """One message per room with members (every page gets the wall's message without rooms)."""
        rooms = self.rooms
        top: list[dict[str, Any]] | None = None  # read once for every wall page
        for room in rooms.active() if rooms is not None else [WALL_ROOM]:
            filters = rooms.filters(room) if rooms is not None else WALL_FILTERS
            msg = room_message(room, batch, filters)
            if msg is None:
                continue
            if "overdue_top" in msg:
                top = top if top is not None else overdue_top(self.r, epoch_ms())
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
        now = epoch_ms()
        status = read_freshness(self.r, self.cfg, now)
        if status_changed(self._feeds, status) or mono - self._feeds_sent >= FEEDS_EVERY_S:
            self._feeds, self._feeds_sent = status, mono
            self.sio.emit(FEEDS_EVENT, self._stamp({"ts": now, "kinds": status}))
