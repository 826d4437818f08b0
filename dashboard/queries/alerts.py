"""Alerts for pages and the API: the active warnings, and the history of transitions (read only).

The alert engine is their one writer (``dashboard.alerts``); this module only reads what it stored.
"""

from __future__ import annotations

from typing import Any

import redis

from dashboard.alerts.levels import LEVEL_BY_KEY
from dashboard.alerts.model import AlertState, Transition, active_score
from dashboard.store import keys

HISTORY_SCAN = 20_000  # the history API looks at most at this many newest transitions


def read_alerts(client: Any) -> dict[str, Any]:
    """The active alerts and the alert seq they are current to, as ``GET /api/v1/alerts`` answers. The
    seq is read first: a change landing in between is in the list and is pushed again, which a page
    applies harmlessly (a change carries whole alerts)."""
    seq = int(client.get(keys.ALERT_SEQ) or 0)
    return {"seq": seq, "alerts": active(client)}


def active(client: redis.Redis) -> list[dict[str, Any]]:
    """The firing alerts (acknowledged and silenced ones too): the highest level first, then newest."""
    r: Any = client
    ids = r.zrange(keys.ALERT_ACTIVE, 0, -1)
    if not ids:
        return []
    out = []
    for raw in r.hmget(keys.ALERT_STATE, ids):
        if raw is not None:
            st = AlertState.from_json(raw)
            if st.active:
                out.append(st)
    out.sort(key=active_score)
    return [st.public() for st in out]


def history(
    client: redis.Redis,
    level: str | None = None,
    rule: str | None = None,
    area: str | None = None,
    since: int | None = None,
    until: int | None = None,
    limit: int = 200,
    scan: int = HISTORY_SCAN,
) -> tuple[list[dict[str, Any]], bool]:
    """Transitions matching the filters, newest first, at most ``limit``; and whether the search
    stopped (at ``limit`` matches or after the newest ``scan`` entries) before the history's start."""
    if level is not None and level not in LEVEL_BY_KEY:
        raise ValueError(f"unknown level {level!r}")
    r: Any = client
    out: list[dict[str, Any]] = []
    looked = 0
    top = "+"
    while looked < scan and len(out) < limit:
        entries = r.xrevrange(keys.ALERT_HISTORY, top, "-", count=min(1000, scan - looked))
        if not entries:
            return out, False
        for eid, fields in entries:
            looked += 1
            top = f"({eid}"
            if level is not None and fields.get("level") != level:
                continue
            if rule is not None and fields.get("rule") != rule:
                continue
            t = Transition.from_fields(fields)
            if area is not None and area not in t.areas:
                continue
            if (since is not None and t.ts < since) or (until is not None and t.ts > until):
                continue
            d = t.public()
            d["id"] = eid
            out.append(d)
            if len(out) >= limit:
                break
    return out, True
