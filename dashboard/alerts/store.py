"""Alert state in Redis: instance states, the active set, the history stream and the output stream.

The engine and the web process both write here, each change in one MULTI/EXEC with its history entries
and one output-stream change (consecutive ``seq``). ``acknowledge`` and ``silence`` are what the web
process calls; they bump ``contract.ALERT_EXT`` so that the engine reloads the states it holds.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import redis

from dashboard import contract as c
from dashboard.alerts import machine
from dashboard.alerts.levels import LEVEL_BY_KEY, rank
from dashboard.alerts.model import AlertDelta, AlertState, Transition

log = logging.getLogger(__name__)

HISTORY_MAXLEN = 100_000
HISTORY_SCAN = 20_000  # the history API looks at most at this many newest transitions
_RANK_SPAN = 10**13  # larger than any epoch-ms time


def active_score(st: AlertState) -> float:
    """Sort key of the active set: the highest level first, then the newest first."""
    return -float(rank(st.level) * _RANK_SPAN + (st.fired or st.started))


def load_states(client: Any) -> dict[str, AlertState]:
    """Every stored instance state (unreadable entries are logged and skipped)."""
    out: dict[str, AlertState] = {}
    for inst, raw in (client.hgetall(c.ALERT_STATE) or {}).items():
        try:
            out[inst] = AlertState.from_json(raw)
        except (ValueError, TypeError) as err:
            log.warning("alert state %s unreadable (%s); ignored", inst, err)
    return out


def queue_changes(
    pipe: Any,
    changed: Mapping[str, AlertState],
    removed: Iterable[str],
    transitions: list[Transition],
    seq: int,
    now: int,
    history_maxlen: int = HISTORY_MAXLEN,
) -> int:
    """Queue the writes of a change on a MULTI pipeline; return the new output seq (``seq`` if none)."""
    removed = sorted(removed)
    if changed:
        pipe.hset(c.ALERT_STATE, mapping={k: v.to_json() for k, v in changed.items()})
        active = {k: active_score(v) for k, v in changed.items() if v.active}
        if active:
            pipe.zadd(c.ALERT_ACTIVE, active)
        gone = [k for k, v in changed.items() if not v.active]
        if gone:
            pipe.zrem(c.ALERT_ACTIVE, *gone)
    if removed:
        pipe.hdel(c.ALERT_STATE, *removed)
        pipe.zrem(c.ALERT_ACTIVE, *removed)
    for tr in transitions:
        pipe.xadd(c.ALERT_HISTORY, tr.to_fields(), maxlen=history_maxlen, approximate=True)
    if not (changed or removed):
        return seq
    delta = AlertDelta(
        seq=seq + 1,
        ts=now,
        alerts=[v.public() for _, v in sorted(changed.items())],
        removed=removed,
        transitions=[_tr_public(t) for t in transitions],
    )
    pipe.set(c.ALERT_SEQ, seq + 1)
    pipe.xadd(c.STREAM_ALERTS, delta.to_fields(), maxlen=c.ALERTS_MAXLEN, approximate=True)
    return seq + 1


def _tr_public(t: Transition) -> dict[str, Any]:
    """A transition as JSON-able data."""
    d: dict[str, Any] = json.loads(t.to_fields()["d"])
    return d


def _act(
    client: redis.Redis,
    instance_id: str,
    change: Callable[[AlertState | None], tuple[AlertState, Transition]],
    now: int,
    history_maxlen: int,
) -> AlertState:
    """Read one instance, apply a person's ``change``, write it with history and output atomically."""
    pipe: Any
    with client.pipeline(transaction=True) as pipe:
        while True:
            try:
                pipe.watch(c.ALERT_STATE, c.ALERT_SEQ)
                raw = pipe.hget(c.ALERT_STATE, instance_id)
                st = AlertState.from_json(raw) if raw is not None else None
                new, tr = change(st)
                seq = int(pipe.get(c.ALERT_SEQ) or 0)
                pipe.multi()
                queue_changes(pipe, {instance_id: new}, (), [tr], seq, now, history_maxlen)
                pipe.incr(c.ALERT_EXT)
                pipe.execute()
                return new
            except redis.WatchError:
                continue


def acknowledge(
    client: redis.Redis,
    instance_id: str,
    actor: str,
    note: str,
    now: int,
    history_maxlen: int = HISTORY_MAXLEN,
) -> AlertState:
    """A person takes a firing alert (it stays firing, acknowledged, until its condition clears).

    Raises ``machine.AlertError``: 404 for an unknown instance, 409 when it is not firing, 422 for a
    missing actor.
    """
    return _act(
        client, instance_id, lambda st: machine.acknowledge(st, actor, note, now), now, history_maxlen
    )


def silence(
    client: redis.Redis,
    instance_id: str,
    actor: str,
    until_ms: int,
    reason: str,
    now: int,
    history_maxlen: int = HISTORY_MAXLEN,
) -> AlertState:
    """A person mutes an alert until ``until_ms``, with a reason.

    Raises ``machine.AlertError``: 404 for an unknown instance, 422 without a reason or a future time.
    """
    return _act(
        client, instance_id, lambda st: machine.silence(st, actor, until_ms, reason, now), now, history_maxlen
    )


def active(client: redis.Redis) -> list[dict[str, Any]]:
    """The firing alerts (acknowledged and silenced ones too): the highest level first, then newest."""
    r: Any = client
    ids = r.zrange(c.ALERT_ACTIVE, 0, -1)
    if not ids:
        return []
    out = []
    for raw in r.hmget(c.ALERT_STATE, ids):
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
        entries = r.xrevrange(c.ALERT_HISTORY, top, "-", count=min(1000, scan - looked))
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
            d = _tr_public(t)
            d["id"] = eid
            out.append(d)
            if len(out) >= limit:
                break
    return out, True
