"""The audit trail: who did what, where, when, and with what outcome (issue 15), append-only in one
Redis stream (``keys.AUDIT``), trimmed by age (``auth.audit_days``) as entries are added.

Each entry: ``ts`` (ms), ``user`` (who asked: a person's name, for now the name they gave), ``via``
(``ui`` for the screens, ``token:<source>`` for the API), ``action`` (e.g. ``ack``, ``silence``,
``unsilence``), ``target`` (e.g. the alert's id), ``area`` (the area it concerns, when known),
``outcome`` (``ok`` or ``refused <status>: <why>``) and ``detail`` (the note or reason given). Writing
it never fails the action it records: an unreachable Redis is logged.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import redis

from dashboard.store import keys

log = logging.getLogger(__name__)

FIELDS = ("ts", "user", "via", "action", "target", "area", "outcome", "detail")
DAY_MS = 86_400_000
MAX_TEXT = 500  # a field's longest text (a note or a reason is cut, never refused, here)


def record(
    client: Any,
    action: str,
    user: str,
    *,
    via: str = "",
    target: str = "",
    area: str = "",
    outcome: str = "ok",
    detail: str = "",
    keep_days: float = 365,
    now_ms: int | None = None,
) -> str | None:
    """Append one entry (and drop those older than ``keep_days``); its stream id, or None when Redis
    could not take it."""
    now = int(time.time() * 1000) if now_ms is None else now_ms
    fields = {"ts": str(now), "user": user, "via": via, "action": action, "target": target, "area": area,
              "outcome": outcome, "detail": detail}  # fmt: skip
    fields = {k: v[:MAX_TEXT] for k, v in fields.items()}
    oldest = max(0, now - int(keep_days * DAY_MS))
    try:  # the entry's id is the server's time, so MINID (our clock) trims by age
        return str(client.xadd(keys.AUDIT, fields, minid=oldest, approximate=False))
    except redis.RedisError as err:
        log.error("audit entry not written (%s): %s", err, fields)
        return None


def read(
    client: Any,
    *,
    since_ms: int | None = None,
    until_ms: int | None = None,
    user: str | None = None,
    action: str | None = None,
    limit: int = 1000,
) -> list[dict[str, str]]:
    """Entries newest first, filtered, at most ``limit`` (each with its stream ``id``)."""
    top = str(until_ms) if until_ms is not None else "+"
    bottom = str(since_ms) if since_ms is not None else "-"
    out: list[dict[str, str]] = []
    while len(out) < limit:
        batch = client.xrevrange(keys.AUDIT, top, bottom, count=500)
        if not batch:
            break
        for eid, fields in batch:
            top = f"({eid}"
            if (user is None or fields.get("user") == user) and (
                action is None or fields.get("action") == action
            ):
                out.append({"id": eid, **{k: fields.get(k, "") for k in FIELDS}})
                if len(out) >= limit:
                    break
    return out
