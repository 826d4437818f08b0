"""Alert state in Redis as the engine writes it: instance states, the active set, the history stream
and the output stream, each change in one MULTI/EXEC with its history entries and one output-stream
change (consecutive ``seq``). The engine is the only writer; pages read through
``dashboard.queries.alerts``; people act through ``dashboard.alerts.commands``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from dashboard.alerts.model import AlertDelta, AlertState, Transition, active_score
from dashboard.store import keys

log = logging.getLogger(__name__)

HISTORY_MAXLEN = 100_000


def load_states(client: Any) -> dict[str, AlertState]:
    """Every stored instance state (unreadable entries are logged and skipped)."""
    out: dict[str, AlertState] = {}
    for inst, raw in (client.hgetall(keys.ALERT_STATE) or {}).items():
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
        pipe.hset(keys.ALERT_STATE, mapping={k: v.to_json() for k, v in changed.items()})
        active = {k: active_score(v) for k, v in changed.items() if v.active}
        if active:
            pipe.zadd(keys.ALERT_ACTIVE, active)
        gone = [k for k, v in changed.items() if not v.active]
        if gone:
            pipe.zrem(keys.ALERT_ACTIVE, *gone)
    if removed:
        pipe.hdel(keys.ALERT_STATE, *removed)
        pipe.zrem(keys.ALERT_ACTIVE, *removed)
    for tr in transitions:
        pipe.xadd(keys.ALERT_HISTORY, tr.to_fields(), maxlen=history_maxlen, approximate=True)
    if not (changed or removed):
        return seq
    delta = AlertDelta(
        seq=seq + 1,
        ts=now,
        alerts=[v.public() for _, v in sorted(changed.items())],
        removed=removed,
        transitions=[t.public() for t in transitions],
    )
    pipe.set(keys.ALERT_SEQ, seq + 1)
    pipe.xadd(keys.STREAM_ALERTS, delta.to_fields(), maxlen=keys.ALERTS_MAXLEN, approximate=True)
    return seq + 1
