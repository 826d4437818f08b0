"""People's actions on alerts as commands: the web process asks, the alert engine (their one writer)
applies and answers.

``send`` appends a command (acknowledge, silence or end a silence, with who and why) to
``keys.ALERT_COMMANDS`` and waits for the engine's answer on the command's own reply list; the engine
reads the commands through its consumer group, applies each to the state it holds
(``dashboard.alerts.machine``) and writes the change, its history entry, the pushed alert change and the
answer in one MULTI/EXEC. No answer within ``timeout_s`` (no engine running) is ``CommandTimeout``; the
command may still be applied later.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from dashboard.alerts import machine
from dashboard.alerts.machine import AlertError
from dashboard.alerts.model import AlertState, Transition
from dashboard.domain.types import epoch_ms
from dashboard.store import keys

Kind = Literal["ack", "silence", "unsilence"]
KINDS: tuple[str, ...] = ("ack", "silence", "unsilence")
REPLY_TTL_S = 60
STALE_MS = 30_000  # a command older than this when the engine reads it is answered as expired


class CommandTimeout(Exception):
    """The engine did not answer in time (it is not running, or far behind)."""


@dataclass(frozen=True)
class Command:
    """One person's action on one alert instance."""

    id: str
    kind: Kind
    instance: str
    actor: str
    ts: int
    note: str = ""  # ack, unsilence: the note; silence: the reason
    until: int = 0  # silence: until when (epoch ms)

    def to_fields(self) -> dict[str, str]:
        """Stream entry fields."""
        return {"d": json.dumps(self.__dict__, ensure_ascii=False, separators=(",", ":"))}

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> Command:
        """Parse a stream entry (ValueError, KeyError or TypeError when it is not a command)."""
        d = json.loads(fields["d"])
        if d.get("kind") not in KINDS:
            raise ValueError(f"unknown command {d.get('kind')!r}")
        return cls(**d)

    def apply(self, st: AlertState | None, now: int) -> tuple[AlertState, Transition]:
        """The alert after this command (``AlertError`` when it cannot be done)."""
        if now - self.ts > STALE_MS:
            raise AlertError(408, "command", "the command waited too long and was not applied")
        if self.kind == "ack":
            return machine.acknowledge(st, self.actor, self.note, now)
        if self.kind == "unsilence":
            return machine.unsilence(st, self.actor, self.note, now)
        return machine.silence(st, self.actor, self.until, self.note, now)


Reply: TypeAlias = tuple[str, dict[str, Any]]
"""The engine's answer to one command: (command id, what the person is told)."""


def apply_all(
    commands: Iterable[Command], states: dict[str, AlertState], now: int
) -> tuple[dict[str, AlertState], list[Transition], list[Reply]]:
    """Apply ``commands`` in order to ``states`` (in place): (changed states, transitions, replies)."""
    changed: dict[str, AlertState] = {}
    trs: list[Transition] = []
    replies: list[Reply] = []
    for cmd in commands:
        try:
            new, tr = cmd.apply(states.get(cmd.instance), now)
        except AlertError as err:
            refused = {"ok": False, "status": err.status, "field": err.field, "message": str(err)}
            replies.append((cmd.id, refused))
            continue
        states[cmd.instance] = changed[cmd.instance] = new
        trs.append(tr)
        replies.append((cmd.id, {"ok": True, "alert": new.to_json()}))
    return changed, trs, replies


def queue_reply(pipe: Any, command_id: str, reply: dict[str, Any]) -> None:
    """Queue the engine's answer to one command."""
    key = keys.alert_reply_key(command_id)
    pipe.lpush(key, json.dumps(reply, ensure_ascii=False))
    pipe.expire(key, REPLY_TTL_S)


def submit(
    client: Any, kind: Kind, instance: str, actor: str, note: str = "", until: int = 0, ts: int | None = None
) -> str:
    """Append a command for the engine (stamped ``ts``, default now); return its id."""
    cmd = Command(uuid.uuid4().hex, kind, instance, actor, ts if ts is not None else epoch_ms(), note, until)
    client.xadd(keys.ALERT_COMMANDS, cmd.to_fields(), maxlen=keys.ALERT_COMMANDS_MAXLEN, approximate=True)
    return cmd.id


def answer(client: Any, command_id: str, timeout_s: float) -> AlertState:
    """Wait for the engine's answer to a command: the alert after it, ``AlertError`` when the engine
    refused it (404, 409, 422 ...), ``CommandTimeout`` when no answer came within ``timeout_s``."""
    got = client.blpop([keys.alert_reply_key(command_id)], timeout=timeout_s)
    if got is None:
        raise CommandTimeout("the alert engine did not answer; is the processor role running?")
    reply = json.loads(got[1])
    if not reply.get("ok"):
        raise AlertError(int(reply["status"]), str(reply["field"]), str(reply["message"]))
    return AlertState.from_json(reply["alert"])


def send(
    client: Any, kind: Kind, instance: str, actor: str, note: str = "", until: int = 0, timeout_s: float = 5.0
) -> AlertState:
    """Ask the engine to apply a command and wait for its answer (``answer``)."""
    return answer(client, submit(client, kind, instance, actor, note, until), timeout_s)
