"""The alert state machine as pure functions, the clock passed in.

``evaluate(rule, inputs, now) -> Result`` asks a rule what it sees; ``transition(states, result, now)``
moves each of the rule's instances on and says what changed. States::

    normal ──alerting──► pending ──held `for`──► firing ──past clear for `clear_for`──► resolved
       ▲                   │ (a blip: back)          │ ▲ acknowledge (a person)            │
       └───────────────────┘                         ▼ │                                   │
                                              acknowledged ─────────────────────────────────┘
    resolved ──alerting within the re-open window──► pending ──► firing again (same episode, re-opened)
    resolved ──quiet for the re-open window──► normal (the instance is dropped)

``silenced`` (a person mutes a firing alert until a time, with a reason) is shown instead of firing or
acknowledged while the silence lasts; the machine keeps evaluating underneath and the silence ends by
itself. Levels rise at once (a higher value step, or ``escalate_after`` while the condition holds) and
fall only after the lower level has been warranted for ``deescalate_for``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from dashboard.alerts.inputs import Inputs
from dashboard.alerts.levels import LevelKey, rank
from dashboard.alerts.model import (
    ENGINE_ACTOR,
    AlertState,
    Observation,
    Policy,
    Result,
    Status,
    Transition,
)
from dashboard.alerts.rules.base import Rule

_NO_SILENCE: dict[str, Any] = {
    "silenced_until": None,
    "silenced_by": None,
    "silence_reason": "",
    "silenced_at": None,
}


class AlertError(ValueError):
    """A person's action that cannot be done: ``status`` is the HTTP status, ``field`` what was wrong."""

    def __init__(self, status: int, field: str, message: str) -> None:
        """``str(err)`` is the message."""
        super().__init__(message)
        self.status = status
        self.field = field


def evaluate(rule: Rule, inputs: Inputs, now: int) -> Result:
    """What ``rule`` sees in ``inputs`` at ``now``: its policy and one observation per instance."""
    return Result(
        rule.name,
        rule.policy(inputs.scale, inputs.reopen_s),
        rule.observe(inputs, now),
        rule.title_zh,
        rule.title_en,
    )


def transition(
    states: Mapping[str, AlertState], result: Result, now: int
) -> tuple[dict[str, AlertState], list[Transition]]:
    """Move the rule's instances (``states``, by instance id) on by ``result``; return the new states
    (normal instances absent) and the transitions, in instance order.

    An instance with a state but no observation is judged ``ok`` (its condition is gone).
    """
    out: dict[str, AlertState] = {}
    changes: list[Transition] = []
    ids = {result.instance_id(k): k for k in result.observations}
    for inst in states:
        ids.setdefault(inst, states[inst].key)
    for inst in sorted(ids):
        obs = result.observations.get(ids[inst])
        new, tr = step(states.get(inst), obs, result, inst, ids[inst], now)
        if new is not None:
            out[inst] = new
        changes += tr
    return out, changes


def step(
    st: AlertState | None, obs: Observation | None, result: Result, inst: str, key: str, now: int
) -> tuple[AlertState | None, list[Transition]]:
    """One instance's next state and its transitions (at most one: status and level together)."""
    pol = result.policy
    cond = obs.cond if obs is not None else "ok"
    notes: list[str] = []
    before = st
    if st is not None and st.silenced_until is not None and now >= st.silenced_until:
        notes.append(f"silence by {st.silenced_by} ended")
        st = dataclasses.replace(st, **_NO_SILENCE)
    new = _next(st, obs, cond, pol, result, inst, key, now, notes)
    if new is not None and obs is not None and obs.value is not None and new.state != "resolved":
        new = dataclasses.replace(
            new, value=obs.value, reason=obs.reason if obs.cond != "nodata" else new.reason
        )
    return _emit(before, new, obs, now, notes)


def _next(
    st: AlertState | None,
    obs: Observation | None,
    cond: str,
    pol: Policy,
    result: Result,
    inst: str,
    key: str,
    now: int,
    notes: list[str],
) -> AlertState | None:
    """The next state (before values are copied), noting why in ``notes``."""
    level: LevelKey = obs.level if obs is not None and cond in ("alerting", "hold") else pol.level
    if st is None:
        if cond != "alerting":
            return None
        assert obs is not None
        notes.append(obs.reason)
        return _pending(_fresh(result, inst, key, obs, level, now), pol, now, notes)
    if st.state == "pending":
        return _from_pending(st, obs, cond, pol, level, now, notes)
    if st.state in ("firing", "acknowledged"):
        return _from_active(st, obs, cond, pol, now, notes)
    # resolved
    if cond == "alerting":
        assert obs is not None
        notes.append(obs.reason)
        if st.resolved_at is not None and now - st.resolved_at <= pol.reopen_ms:
            again = dataclasses.replace(
                st, state="pending", since=now, reopening=True, level=_max(pol.level, level)
            )
            return _pending(again, pol, now, notes)
        return _pending(_fresh(result, inst, key, obs, level, now, st), pol, now, notes)
    if st.resolved_at is None or now - st.resolved_at > pol.reopen_ms:
        notes.append("no recurrence within the re-open window")
        return None
    return st


def _fresh(
    result: Result,
    inst: str,
    key: str,
    obs: Observation,
    level: LevelKey,
    now: int,
    previous: AlertState | None = None,
) -> AlertState:
    """A new episode, pending from ``now`` (after a ``previous`` one: its next, its silence kept)."""
    if previous is None:
        return AlertState(
            id=inst, rule=result.rule, key=key, state="pending", level=level, since=now, started=now,
            areas=obs.areas, value=obs.value, reason=obs.reason, title_zh=result.title_zh,
            title_en=result.title_en,
        )  # fmt: skip
    return AlertState(
        id=inst, rule=result.rule, key=key, state="pending", level=level, since=now, started=now,
        episode=previous.episode + 1, areas=obs.areas, value=obs.value, reason=obs.reason,
        title_zh=result.title_zh, title_en=result.title_en, silenced_until=previous.silenced_until,
        silenced_by=previous.silenced_by, silence_reason=previous.silence_reason,
        silenced_at=previous.silenced_at, rev=previous.rev,
    )  # fmt: skip


def _pending(st: AlertState, pol: Policy, now: int, notes: list[str]) -> AlertState:
    """A pending state as it stands, or fired at once when the rule has no ``for``."""
    return _fire(st, pol, now, notes) if pol.for_ms == 0 else st


def _from_pending(
    st: AlertState,
    obs: Observation | None,
    cond: str,
    pol: Policy,
    level: LevelKey,
    now: int,
    notes: list[str],
) -> AlertState | None:
    """Pending: fires once the condition held for ``for``; a blip ends it (back to normal or resolved)."""
    if cond == "alerting":
        st = dataclasses.replace(st, level=_max(st.level, level))
        if now - st.since >= pol.for_ms:
            return _fire(st, pol, now, notes)
        return st
    if cond == "nodata":
        return st
    notes.append("condition gone before `for` elapsed" + (f": {obs.reason}" if obs is not None else ""))
    if st.reopening and st.resolved_at is not None:
        return dataclasses.replace(st, state="resolved", since=now, reopening=False)
    return None


def _from_active(
    st: AlertState, obs: Observation | None, cond: str, pol: Policy, now: int, notes: list[str]
) -> AlertState:
    """Firing or acknowledged: levels move; resolved once the condition was clear for ``clear_for``."""
    st = _level(st, obs, cond, pol, now, notes)
    if cond == "ok":
        since = st.clear_since if st.clear_since is not None else now
        if now - since >= pol.clear_for_ms:
            notes.append("condition cleared" + (f": {obs.reason}" if obs is not None else ""))
            return dataclasses.replace(
                st, state="resolved", since=now, resolved_at=now, clear_since=None, lower_since=None
            )
        return dataclasses.replace(st, clear_since=since)
    return dataclasses.replace(st, clear_since=None) if st.clear_since is not None else st


def _fire(st: AlertState, pol: Policy, now: int, notes: list[str]) -> AlertState:
    """Pending → firing (or acknowledged again, when a person had taken the re-opened episode)."""
    if st.reopening:
        notes.append("re-opened within the re-open window")
        return dataclasses.replace(
            st,
            state="acknowledged" if st.acked_by else "firing",
            since=now,
            reopening=False,
            reopens=st.reopens + 1,
            resolved_at=None,
            clear_since=None,
        )
    return dataclasses.replace(st, state="firing", since=now, fired=now)


def _level(
    st: AlertState, obs: Observation | None, cond: str, pol: Policy, now: int, notes: list[str]
) -> AlertState:
    """Escalate at once; de-escalate once the lower level has been warranted for ``deescalate_ms``."""
    if cond in ("ok", "nodata") or obs is None:
        return st if st.lower_since is None else dataclasses.replace(st, lower_since=None)
    want: LevelKey = _max(pol.level, obs.level)
    if cond == "alerting" and st.fired is not None:
        for after, lv in pol.escalate:
            if now - st.fired >= after:
                want = _max(want, lv)
    if rank(want) > rank(st.level):
        notes.append(f"escalated to {want}")
        return dataclasses.replace(st, level=want, lower_since=None)
    if rank(want) < rank(st.level):
        since = st.lower_since if st.lower_since is not None else now
        if now - since >= pol.deescalate_ms:
            notes.append(f"de-escalated to {want}")
            return dataclasses.replace(st, level=want, lower_since=None)
        return dataclasses.replace(st, lower_since=since) if st.lower_since is None else st
    return st if st.lower_since is None else dataclasses.replace(st, lower_since=None)


def _max(a: LevelKey, b: LevelKey) -> LevelKey:
    """The higher of two levels."""
    return a if rank(a) >= rank(b) else b


def _status(st: AlertState | None) -> Status:
    """The status of a state (normal when absent)."""
    return "normal" if st is None else st.status


def _emit(
    before: AlertState | None, new: AlertState | None, obs: Observation | None, now: int, notes: list[str]
) -> tuple[AlertState | None, list[Transition]]:
    """Stamp the new state and describe the change (none when status and level are unchanged)."""
    a, b = _status(before), _status(new)
    level_changed = before is not None and new is not None and before.level != new.level
    if new is not None and new != before:
        new = dataclasses.replace(new, updated=now, rev=(before.rev if before else new.rev) + 1)
    if a == b and not level_changed:
        return new, []
    ref = new if new is not None else before
    assert ref is not None
    tr = Transition(
        ts=now,
        instance=ref.id,
        rule=ref.rule,
        episode=ref.episode,
        from_status=a,
        to_status=b,
        level=ref.level,
        from_level=before.level if before is not None else None,
        reason="; ".join(dict.fromkeys(n for n in notes if n)) or (obs.reason if obs else ""),
        value=obs.value if obs is not None else ref.value,
        actor=ENGINE_ACTOR,
        areas=ref.areas,
    )
    return new, [tr]


# --- what people do (the engine applies these as commands: dashboard.alerts.commands) ------------


def acknowledge(st: AlertState | None, actor: str, note: str, now: int) -> tuple[AlertState, Transition]:
    """A person takes a firing alert: it stays firing (acknowledged) until its condition clears."""
    actor, note = _check_actor(actor), note.strip()
    if st is None:
        raise AlertError(404, "id", "no such alert (it is normal or never existed)")
    if st.state == "acknowledged":
        raise AlertError(409, "id", f"already acknowledged by {st.acked_by}")
    if st.state != "firing":
        raise AlertError(409, "id", f"only a firing alert can be acknowledged; this one is {st.state}")
    new = dataclasses.replace(
        st, state="acknowledged", acked_by=actor, acked_at=now, ack_note=note, updated=now, rev=st.rev + 1
    )
    return new, _manual(st, new, now, actor, note, f"acknowledged by {actor}")


def silence(
    st: AlertState | None, actor: str, until_ms: int, reason: str, now: int
) -> tuple[AlertState, Transition]:
    """A person mutes an alert until ``until_ms`` (a future time), giving a reason."""
    actor, reason = _check_actor(actor), reason.strip()
    if st is None:
        raise AlertError(404, "id", "no such alert (it is normal or never existed)")
    if not reason:
        raise AlertError(422, "reason", "a silence needs a reason")
    if until_ms <= now:
        raise AlertError(422, "until", "a silence must end in the future")
    new = dataclasses.replace(
        st, silenced_until=until_ms, silenced_by=actor, silence_reason=reason, silenced_at=now, updated=now,
        rev=st.rev + 1,
    )  # fmt: skip
    until = datetime.fromtimestamp(until_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return new, _manual(st, new, now, actor, reason, f"silenced by {actor} until {until}", until_ms)


def unsilence(st: AlertState | None, actor: str, note: str, now: int) -> tuple[AlertState, Transition]:
    """A person ends a silence before its time (409 when the alert is not silenced)."""
    actor, note = _check_actor(actor), note.strip()
    if st is None:
        raise AlertError(404, "id", "no such alert (it is normal or never existed)")
    if st.silenced_until is None or st.silenced_until <= now:
        raise AlertError(409, "id", f"not silenced; this one is {st.status}")
    new = dataclasses.replace(st, **_NO_SILENCE, updated=now, rev=st.rev + 1)
    return new, _manual(st, new, now, actor, note, f"silence by {st.silenced_by} ended by {actor}")


def _check_actor(actor: str) -> str:
    """A person's name or id: 1-64 characters."""
    actor = actor.strip() if isinstance(actor, str) else ""
    if not actor or len(actor) > 64:
        raise AlertError(422, "actor", "who did it: 1-64 characters")
    return actor


def _manual(
    before: AlertState,
    after: AlertState,
    now: int,
    actor: str,
    note: str,
    what: str,
    until: int | None = None,
) -> Transition:
    """The history entry of a person's action."""
    return Transition(
        ts=now,
        instance=after.id,
        rule=after.rule,
        episode=after.episode,
        from_status=before.status,
        to_status=after.status,
        level=after.level,
        from_level=before.level,
        reason=what,
        value=after.value,
        actor=actor,
        note=note,
        areas=after.areas,
        until=until,
    )
