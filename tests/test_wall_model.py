"""What the wall's panels read, end to end on a real Redis with the real processor: every counter a panel
shows is in the snapshot and in the merged wall message, with the same value (the page applies the one
on top of the other). A group dropped from the wall's filter blanks a panel: these tests name which."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import redis

from dashboard.config import ProcessorConfig
from dashboard.domain.counters import places_of
from dashboard.domain.geo import load_default_geography
from dashboard.domain.types import epoch_ms
from dashboard.processor.loop import Processor
from dashboard.queries.snapshot import read_snapshot
from dashboard.store import keys
from dashboard.store.deltas import Delta
from dashboard.store.records import CaseEvent, encode
from dashboard.web.rooms import merge

TZ = ZoneInfo("Asia/Shanghai")
DEPT, CAT, CELL, SUB = "urban_mgmt", "city_management", "ZM-0001", "ZM"
CLOSED = ["reported", "registered", "dispatched", "handled", "feedback", "verified", "closed"]
RETURNED = ["reported", "registered", "dispatched", "returned"]


def feed(r: redis.Redis, now: int) -> None:
    """Two cases through the real processor: one closed on time, one returned by the department."""
    p = Processor(r, ProcessorConfig(), "t", places=places_of(load_default_geography()), clock=lambda: now)
    p.ensure_groups()
    for case, steps in (("C", CLOSED), ("R", RETURNED)):
        for n, step in enumerate(steps):
            rec = CaseEvent(
                event_id=f"{case}-{n}", case_id=case, seq=n, ts=now - 60_000 + n * 1000, step=step,  # type: ignore[arg-type]
                event_type="CM-0101", category=CAT, cell_id=CELL,
                department=DEPT if step not in ("reported", "registered") else None,
            )  # fmt: skip
            r.xadd(keys.STREAM_CASE_EVENTS, encode(rec))  # type: ignore[arg-type]
    while p.step():
        pass


def wall_message(r: redis.Redis) -> dict[str, Any]:
    """Every delta so far merged as the wall room gets it."""
    return merge([Delta.from_fields(f) for _, f in r.xrange(keys.STREAM_DELTAS)])


def test_every_panel_finds_its_counters_in_the_snapshot_and_the_message(r: redis.Redis) -> None:
    now = epoch_ms()
    today = datetime.fromtimestamp(now / 1000, TZ).strftime("%Y%m%d")
    hour = datetime.fromtimestamp((now - 60_000) / 1000, TZ).strftime("%Y%m%d%H")
    feed(r, now)
    snap, msg = read_snapshot(r, TZ), wall_message(r)["set"]
    for live in (snap, msg):
        day = live["days"][today]
        # the KPIs and the flow's footer
        assert live["kpi"]["open"] == 1 and day["n"]["reported"] == 2 and day["n"]["closed"] == 1
        assert day["n"]["returned"] == 1
        # the flow: open cases by stage in the district
        assert live["open"]["district"]["all"]["dispatch"] == 1
        # the departments' league: backlog, returned today, on-time today
        assert live["open"]["dept"][DEPT]["dispatch"] == 1
        assert day["by"]["dept"][DEPT]["returned"] == 1 and day["by"]["dept"][DEPT]["ontime"] == 1
        # the category donut, the subdistrict totals of /wall's rotation, the 24-hour trend
        assert day["by"]["cat"][CAT]["reported"] == 2
        assert (day["by"]["subdistrict"][SUB]["reported"], day["by"]["subdistrict"][SUB]["closed"]) == (2, 1)
        trend = live["hours"][hour]
        assert trend["n"]["reported"] == 2 and trend["by"]["cat"][CAT]["reported"] == 2
        # the map
        assert live["cells"][CELL] == 1
        # the wall keeps no cell-level groups (those are the drill-down pages')
        assert "cell" not in live["open"] and "cell" not in day["by"] and "community" not in day["by"]


def test_the_ticker_is_newest_first_in_the_snapshot_and_oldest_first_in_a_message(r: redis.Redis) -> None:
    feed(r, epoch_ms())
    snap_ts = [t["ts"] for t in read_snapshot(r, TZ)["ticker"]]
    msg_ts = [t[0] for t in wall_message(r)["ticker"]]
    assert snap_ts == sorted(snap_ts, reverse=True) and len(snap_ts) == 11
    assert msg_ts == sorted(msg_ts)
