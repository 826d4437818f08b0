"""The supervisor's record of the roles it restarted (and of the embedded Redis), for ``/healthz``.

One writer: the supervisor (``run.py``), after it restarts a role that died. ``/healthz`` reads it: a
role restarted ``max_restarts`` times within ``restart_window_s`` is crash-looping, and the system is
unhealthy until it has stayed up for the window.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import redis

from dashboard.store import keys

KEEP_RECENT = 20  # restart times kept per role


def record_restart(client: Any, role: str, exit_code: int | None, now_ms: int, down: bool = True) -> None:
    """Note that ``role`` exited with ``exit_code`` and is being restarted at ``now_ms`` (``down`` until
    the new process says it is up, ``mark_up``)."""
    raw = client.hget(keys.ROLE_RESTARTS, role)
    try:
        old = json.loads(raw) if raw else {}
        total, recent = int(old.get("total", 0)), [int(t) for t in old.get("recent", [])]
    except (ValueError, TypeError, AttributeError):
        total, recent = 0, []
    entry = {"total": total + 1, "recent": [*recent, now_ms][-KEEP_RECENT:], "last_exit": exit_code}
    client.hset(keys.ROLE_RESTARTS, role, json.dumps({**entry, "down": down}))


def mark_up(client: Any, role: str) -> None:
    """A (re)started role is ready: it no longer counts as down."""
    raw = client.hget(keys.ROLE_RESTARTS, role)
    if not raw:
        return
    try:
        entry = json.loads(raw)
    except ValueError:
        return
    if isinstance(entry, dict) and entry.get("down"):
        client.hset(keys.ROLE_RESTARTS, role, json.dumps({**entry, "down": False}))


def restarts(client: Any, now_ms: int, window_ms: int) -> dict[str, dict[str, Any]]:
    """Per role: restarts in all (``total``), within the last ``window_ms`` (``recent``), the last exit
    code, and whether it is ``down`` (being restarted)."""
    out: dict[str, dict[str, Any]] = {}
    for role, raw in sorted(client.hgetall(keys.ROLE_RESTARTS).items()):
        try:
            entry = json.loads(raw)
            recent = [int(t) for t in entry.get("recent", []) if now_ms - int(t) <= window_ms]
            out[role] = {
                "total": int(entry["total"]),
                "recent": len(recent),
                "last_exit": entry.get("last_exit"),
                "down": bool(entry.get("down")),
            }
        except (ValueError, TypeError, KeyError):
            continue  # not ours to crash on
    return out


def mark_up_when_reachable(client: Any, role: str) -> threading.Thread:
    """``mark_up`` from a background thread, retrying every half second while Redis is away."""

    def loop() -> None:
        while True:
            try:
                mark_up(client, role)
                return
            except redis.RedisError:
                time.sleep(0.5)

    t = threading.Thread(target=loop, name=f"mark-up-{role}", daemon=True)
    t.start()
    return t
