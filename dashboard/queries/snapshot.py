"""The wall's live state in one consistent read: what ``GET /api/v1/snapshot`` answers and what a page
is built from, current to one delta ``seq``; and the pieces the push bridge reads again (the overdue
list, the last hour's flow, the stages' median times). docs/DATA.md ("Push to pages") has the shape.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dashboard.config import AppConfig
from dashboard.domain.counters import Path, median_minutes
from dashboard.domain.types import epoch_ms
from dashboard.queries.alerts import read_alerts
from dashboard.queries.health import shown_all
from dashboard.queries.status import read_freshness
from dashboard.store import keys
from dashboard.store.cases import read_cases
from dashboard.store.paths import hash_paths, nest

OVERDUE_TOP = 20
DUE_SOON_MS = 3_600_000  # "due within the hour"
DUE_SOON_SHOWN = 3
TICKER_SHOWN = 20  # kept by the page (and in a snapshot)
WALL_SCOPES = frozenset({"district", "subdistrict", "dept", "cat"})  # the wall's open and overdue groups
WALL_DAY_SCOPES = frozenset({"dept", "cat", "subdistrict"})  # per-day groups the wall keeps
PathFilter = Callable[[Path], bool]


def wall_path(path: Path) -> bool:
    """True for the counters the wall shows (the rest is for the drill-down pages)."""
    head = path[0]
    if head in ("cells", "kpi", "health"):
        return True
    if head in ("open", "overdue"):
        return path[1] in WALL_SCOPES
    if head == "days":
        kind = path[2]
        return kind in ("n", "dur") or (kind == "by" and path[3] in WALL_DAY_SCOPES)
    if head == "hours":
        return path[2] == "n" or path[3] == "cat"
    return False


def overdue_top(client: Any, now_ms: int, n: int = OVERDUE_TOP) -> list[dict[str, Any]]:
    """The ``n`` overdue cases a duty officer must see first: the urgent ones, then the others, each
    group longest past its deadline first; with what the officer needs to see."""
    urgent = client.zrange(keys.OVERDUE_URGENT, 0, n - 1, withscores=True)
    first = {i for i, _ in urgent}
    rest = [
        x for x in client.zrange(keys.OVERDUE, 0, n - 1 + len(urgent), withscores=True) if x[0] not in first
    ]
    ids = (urgent + rest)[:n]
    cases = read_cases(client, [i for i, _ in ids])
    out = []
    for case_id, due in ids:
        st = cases.get(case_id)
        if st is None:
            continue
        out.append(
            {"case": case_id, "cell": st.cell, "dept": st.department, "type": st.event_type,
             "stage": st.stage, "priority": st.priority, "deadline": int(due),
             "late_ms": max(0, now_ms - int(due))}
        )  # fmt: skip
    return out


def due_soon(
    client: Any, now_ms: int, within_ms: int = DUE_SOON_MS, n: int = DUE_SOON_SHOWN
) -> dict[str, Any]:
    """The open cases whose stage deadline falls within the next hour: how many, and the ``n`` soonest
    with what the duty officer needs to see (the overdue list's "due within the hour" section)."""
    total = int(client.zcount(keys.DEADLINES, now_ms, now_ms + within_ms))
    ids = client.zrangebyscore(keys.DEADLINES, now_ms, now_ms + within_ms, start=0, num=n, withscores=True)
    cases = read_cases(client, [i for i, _ in ids])
    top = [
        {"case": c, "cell": cases[c].cell, "type": cases[c].event_type, "stage": cases[c].stage,
         "priority": cases[c].priority, "deadline": int(due)}
        for c, due in ids
        if c in cases
    ]  # fmt: skip
    return {"n": total, "top": top}


def flow_last_hour(client: Any, tz: ZoneInfo, now: datetime | None = None) -> dict[str, int]:
    """Cases that entered each stage in the last hour (sum of the 5-minute slots)."""
    now = now or datetime.now(tz)
    slots = []
    for k in range(12):
        t = now - timedelta(minutes=5 * k)
        slots.append(keys.m5_key(t.strftime("%Y%m%d%H") + f"{t.minute // 5 * 5:02d}"))
    with client.pipeline(transaction=False) as pipe:
        for key in slots:
            pipe.hgetall(key)
        rows = pipe.execute()
    total: dict[str, int] = {}
    for key, row in zip(slots, rows, strict=True):
        for path, n in hash_paths(key, row):
            total[path[-1]] = total.get(path[-1], 0) + n
    return total


def stage_medians(day_key: str, day: dict[str, Any]) -> dict[str, float]:
    """Median minutes per stage from a day hash's stage-duration histograms."""
    hist: dict[str, dict[int, int]] = {}
    for path, n in hash_paths(day_key, day):
        if path[2] == "dur":
            hist.setdefault(path[3], {})[int(path[4])] = n
    out = {stage: median_minutes(h) for stage, h in hist.items()}
    return {k: round(v, 1) for k, v in out.items() if v is not None}


def flow_message(client: Any, tz: ZoneInfo) -> dict[str, Any]:
    """The periodic "flow" message: stage entries in the last hour and today's median stage times."""
    key = keys.day_key(datetime.now(tz).strftime("%Y%m%d"))
    return {
        "flow_hour": flow_last_hour(client, tz),
        "stage_median": stage_medians(key, client.hgetall(key)),
        "due_soon": due_soon(client, epoch_ms()),
    }


def redis_epoch(client: Any) -> str:
    """The Redis server's run id: it changes when Redis restarts (pages then resynchronise)."""
    return str(client.info("server").get("run_id", ""))[:16]


def counters_of(rows: Iterable[tuple[str, dict[str, Any]]], keep: PathFilter) -> dict[str, Any]:
    """Read-model hashes as the nested counters pages hold (only the paths ``keep`` accepts); a day or
    an hour without counters is left out."""
    return nest((p, n) for key, row in rows for p, n in hash_paths(key, row) if keep(p))


def read_snapshot(client: Any, tz: ZoneInfo, cfg: AppConfig | None = None) -> dict[str, Any]:
    """One consistent snapshot of what the wall shows, with the seq it is current to and the Redis run
    (``epoch``) it comes from and, given ``cfg``, the feeds' freshness. ``ticker`` is newest first."""
    now = datetime.now(tz)
    today = now.strftime("%Y%m%d")
    hashes = [keys.CELL_OPEN, keys.COUNTERS, keys.OPEN, keys.OVERDUE_N, keys.day_key(today)]
    hashes += [keys.hour_key((now - timedelta(hours=k)).strftime("%Y%m%d%H")) for k in range(24)]
    with client.pipeline(transaction=True) as pipe:
        pipe.get(keys.DELTA_SEQ)
        for key in hashes:
            pipe.hgetall(key)
        pipe.lrange(keys.TICKER, 0, TICKER_SHOWN - 1)
        pipe.hgetall(keys.HEALTH)
        seq, *rows, ticker, health = pipe.execute()
    now_ms = epoch_ms()
    snap: dict[str, Any] = {
        "cells": {},
        "kpi": {},
        "open": {},
        "overdue": {},
        "days": {today: {}},
        "hours": {},
    }
    snap.update(counters_of(zip(hashes, rows, strict=True), wall_path))
    snap["health"] = shown_all(health)
    snap.update(
        seq=int(seq or 0),
        ts=now_ms,
        epoch=redis_epoch(client),
        feeds=read_freshness(client, cfg, now_ms) if cfg is not None else {},
        today=today,
        ticker=sorted((json.loads(t) for t in ticker), key=lambda t: -int(t.get("ts") or 0)),  # newest first
        overdue_top=overdue_top(client, now_ms),
        due_soon=due_soon(client, now_ms),
        flow_hour=flow_last_hour(client, tz, now),
        stage_median=stage_medians(hashes[4], rows[4]),
        alerts=read_alerts(client),
    )
    return snap
