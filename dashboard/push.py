"""The push bridge: tails the processor's delta stream and emits merged batches over Socket.IO."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import redis
from flask_socketio import SocketIO

from dashboard import contract as c

log = logging.getLogger(__name__)

EVENT = "delta"


def merge(deltas: list[c.Delta]) -> dict[str, Any]:
    """One message for consecutive deltas: values are absolute, so later ones win.

    ``from``/``to`` are the first and last seq merged; a page that has applied up to ``from - 1``
    can apply it, any other page must resynchronise from a snapshot.
    """
    cells: dict[str, int] = {}
    counters: dict[str, int] = {}
    for d in deltas:
        cells.update(d.cells)
        counters.update(d.counters)
    return {
        "from": deltas[0].seq,
        "to": deltas[-1].seq,
        "ts": deltas[-1].ts,
        "cells": cells,
        "counters": counters,
    }


def read_snapshot(client: redis.Redis, tz: ZoneInfo) -> dict[str, Any]:
    """One consistent snapshot of what the wall shows, with the seq it is current to."""
    with client.pipeline(transaction=True) as pipe:
        pipe.get(c.DELTA_SEQ)
        pipe.hgetall(c.CELL_OPEN)
        pipe.hgetall(c.COUNTERS)
        seq, cells, counters = pipe.execute()
    now = datetime.now(tz)
    recent = {now.strftime("%Y%m%d"), (now - timedelta(days=1)).strftime("%Y%m%d")}
    return {
        "seq": int(seq or 0),
        "ts": int(time.time() * 1000),
        "cells": {k: int(v) for k, v in cells.items()},
        # per-day counters: only today's and yesterday's go to the page; the rest is history
        "counters": {k: int(v) for k, v in counters.items() if ":" not in k or k.rsplit(":", 1)[1] in recent},
    }


class PushBridge:
    """A background task per web process: XREAD the deltas, batch them, emit to every page."""

    def __init__(self, socketio: SocketIO, client: redis.Redis, interval_ms: int = 100) -> None:
        """Emit through ``socketio`` what appears on the delta stream, every ``interval_ms``."""
        self.sio = socketio
        self.r: Any = client
        self.interval = interval_ms / 1000.0
        self.stop = threading.Event()
        self.emitted = 0

    def start(self) -> None:
        """Run the loop as a Socket.IO background task."""
        self.sio.start_background_task(self._loop)

    def _loop(self) -> None:
        """Tail from the newest entry; survive Redis outages."""
        last_id = "$"
        while not self.stop.is_set():
            try:
                if last_id == "$":
                    newest = self.r.xrevrange(c.STREAM_DELTAS, count=1)
                    last_id = newest[0][0] if newest else "0-0"
                got = self.r.xread({c.STREAM_DELTAS: last_id}, count=1000, block=1000)
                deltas: list[c.Delta] = []
                for _stream, entries in got or []:
                    for eid, fields in entries:
                        last_id = eid
                        deltas.append(c.Delta.from_fields(fields))
                if deltas:
                    for batch in _runs(deltas):
                        self.sio.emit(EVENT, merge(batch))
                        self.emitted += 1
                    self.stop.wait(self.interval)  # batch what arrives meanwhile into the next emit
            except redis.RedisError as err:
                log.warning("push: redis unavailable (%s)", err)
                self.stop.wait(1.0)


def _runs(deltas: list[c.Delta]) -> list[list[c.Delta]]:
    """Split deltas into runs of consecutive seq, so that a page can tell a gap from a batch."""
    runs: list[list[c.Delta]] = [[deltas[0]]]
    for d in deltas[1:]:
        if d.seq == runs[-1][-1].seq + 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    return runs
