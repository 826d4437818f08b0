"""The push bridge: tails the processor's delta stream and emits merged batches over Socket.IO."""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import redis
from flask_socketio import SocketIO

from dashboard import contract as c
from dashboard import readmodel as rm

log = logging.getLogger(__name__)

EVENT = "delta"
FLOW_EVENT = "flow"
ALERTS_EVENT = "alerts"
FLOW_EVERY_S = 30.0
OVERDUE_TOP = 20
TICKER_SHOWN = 20

# What the wall keeps of the read models: these scopes of the by-area hashes (not every cell's stages).
WALL_SCOPES = ("district:", "subdistrict:", "dept:", "cat:")
DAY_PREFIX = f"{c.TAG}:rm:day:"
HOUR_PREFIX = f"{c.TAG}:rm:hour:"


def keys() -> dict[str, str]:
    """The Redis key names a page maps delta increments onto (sent to the page once)."""
    return {
        "cells": c.CELL_OPEN,
        "counters": c.COUNTERS,
        "open": rm.OPEN,
        "overdue_n": rm.OVERDUE_N,
        "day": DAY_PREFIX,
        "hour": HOUR_PREFIX,
    }


def wall_field(key: str, fld: str) -> bool:
    """True for the hash fields the wall shows (the rest is for drill-down pages)."""
    if key in (rm.OPEN, rm.OVERDUE_N):
        return fld.startswith(WALL_SCOPES)
    if key.startswith(DAY_PREFIX):
        return fld.count(":") == 0 or ":dept:" in fld or ":cat:" in fld or fld.startswith("dur:")
    if key.startswith(HOUR_PREFIX):
        return fld.count(":") == 0 or ":cat:" in fld
    return key in (c.CELL_OPEN, c.COUNTERS)


def merge(deltas: list[c.Delta]) -> dict[str, Any]:
    """One message for consecutive deltas: increments add up, ticker items concatenate.

    ``from``/``to`` are the first and last seq merged; a page that has applied up to ``from - 1``
    can apply it, any other page must resynchronise from a snapshot.
    """
    inc: dict[str, dict[str, int]] = {}
    ticker: list[dict[str, Any]] = []
    for d in deltas:
        for key, fields in d.inc.items():
            slot = inc.setdefault(key, {})
            for fld, n in fields.items():
                if wall_field(key, fld):
                    slot[fld] = slot.get(fld, 0) + n
        ticker += d.ticker
    return {
        "from": deltas[0].seq,
        "to": deltas[-1].seq,
        "ts": deltas[-1].ts,
        "inc": {k: {f: n for f, n in v.items() if n} for k, v in inc.items() if v},
        "ticker": ticker[-TICKER_SHOWN:],
        "overdue_changed": any(d.overdue_changed for d in deltas),
    }


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


def read_snapshot(client: Any, tz: ZoneInfo) -> dict[str, Any]:
    """One consistent snapshot of what the wall shows, with the seq it is current to."""
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
    }


class PushBridge:
    """A background task per web process: XREAD the deltas, batch them, emit to every page."""

    def __init__(self, socketio: SocketIO, client: redis.Redis, tz: ZoneInfo, interval_ms: int = 100) -> None:
        """Emit through ``socketio`` what appears on the delta stream, every ``interval_ms``."""
        self.tz = tz
        self.sio = socketio
        self.r: Any = client
        self.interval = interval_ms / 1000.0
        self.stop = threading.Event()
        self.emitted = 0

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
                        msg = merge(batch)
                        if msg.pop("overdue_changed"):
                            msg["overdue_top"] = overdue_top(self.r, int(time.time() * 1000))
                        self.sio.emit(EVENT, msg)
                        self.emitted += 1
                    self.stop.wait(self.interval)  # batch what arrives meanwhile into the next emit
                if time.monotonic() - last_flow >= FLOW_EVERY_S:
                    last_flow = time.monotonic()
                    self.sio.emit(FLOW_EVENT, flow_message(self.r, self.tz))
            except redis.RedisError as err:
                log.warning("push: redis unavailable (%s)", err)
                self.stop.wait(1.0)


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
