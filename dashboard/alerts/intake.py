"""What the alert engine reads: its input streams through its consumer group, applied to its aggregates.

Entries are read pending-first (what a failed write left unacknowledged), then new ones; each is applied
idempotently (``dashboard.alerts.aggregates``). People's commands among them are handed back to the
engine, which applies them with its next write. Feed health and the cases still overdue are read from
the processor's read models.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from typing import Any, TypeAlias

from dashboard.alerts.aggregates import Aggregates
from dashboard.alerts.commands import Command
from dashboard.alerts.inputs import FeedBeat, OverdueCase
from dashboard.store import keys
from dashboard.store.client import has_bad_text
from dashboard.store.records import KIND_OF_STREAM, RecordError, decode
from dashboard.store.validate import Admission

log = logging.getLogger(__name__)

INPUT_STREAMS: tuple[str, ...] = (
    keys.STREAM_CASE_EVENTS,
    keys.STREAM_SENSOR_READINGS,
    keys.STREAM_CAMERA_STATUS,
    keys.STREAM_OVERDUE,
    keys.ALERT_COMMANDS,
)

Entry: TypeAlias = tuple[str, str, dict[str, str]]
"""One stream entry as read: (stream, entry id, fields); no fields when trimmed while pending."""


def claim_pending(client: Any, group: str, consumer: str, count: int) -> None:
    """Adopt what a previous engine read and did not acknowledge (after taking the lease over)."""
    for stream in INPUT_STREAMS:
        start = "0-0"
        while True:
            reply = client.xautoclaim(stream, group, consumer, 0, start, count=count)
            start, claimed = reply[0], reply[1]
            if not claimed or start == "0-0":
                break


def read(client: Any, group: str, consumer: str, count: int, block_ms: int | None) -> list[Entry]:
    """This consumer's pending entries first (after a failed write), then new ones."""
    out: list[Entry] = []
    pending = client.xreadgroup(group, consumer, {s: "0" for s in INPUT_STREAMS}, count=count)
    for stream, entries in pending or []:
        out += [(stream, eid, f or {}) for eid, f in entries]
    if out:
        return out
    fresh = client.xreadgroup(group, consumer, {s: ">" for s in INPUT_STREAMS}, count=count, block=block_ms)
    for stream, entries in fresh or []:
        out += [(stream, eid, f) for eid, f in entries]
    return out


def parse_overdue(fields: Mapping[str, str]) -> OverdueCase:
    """An overdue-stream entry (KeyError, ValueError or TypeError when it is unreadable)."""
    d = json.loads(fields["d"])
    return OverdueCase(
        str(d["case"]), str(d["cell"]), str(d.get("priority") or "normal"),
        str(d.get("stage") or ""), int(d.get("deadline") or d.get("ts") or 0),
    )  # fmt: skip


def apply(
    client: Any, agg: Aggregates, entries: Iterable[Entry], admission: Admission | None = None, now: int = 0
) -> list[Command]:
    """Apply entries to ``agg`` (idempotently); return the people's commands among them, in order.

    An entry that is not UTF-8 text, does not decode, or that ``admission`` refuses at ``now`` is
    skipped (the processor dead-letters the input streams' ones); one that fails for any other reason is
    logged and skipped: no entry can stop the engine."""
    commands: list[Command] = []
    overdue: dict[str, OverdueCase] = {}
    for stream, eid, fields in entries:
        if not fields:
            continue  # an entry trimmed from the stream while pending: only acknowledged
        if (why := has_bad_text(fields)) is not None:
            log.warning("entry %s of %s skipped: %s", eid, stream, why)
            continue
        try:
            _apply_one(agg, stream, eid, fields, commands, overdue, admission, now)
        except Exception:  # a record no check foresaw: skip it, keep the engine running
            log.exception("entry %s of %s could not be applied; skipped", eid, stream)
    if overdue:  # the stream may be replayed from its start: track only cases still overdue
        ids = sorted(overdue)
        for case_id, score in zip(ids, client.zmscore(keys.OVERDUE, ids), strict=True):
            if score is not None:
                agg.set_overdue(overdue[case_id])
    return commands


def _apply_one(
    agg: Aggregates,
    stream: str,
    eid: str,
    fields: dict[str, str],
    commands: list[Command],
    overdue: dict[str, OverdueCase],
    admission: Admission | None,
    now: int,
) -> None:
    """Apply one entry: a command or an overdue case is collected, an input record applied to ``agg``."""
    if stream == keys.ALERT_COMMANDS:
        try:
            commands.append(Command.from_fields(fields))
        except (KeyError, ValueError, TypeError) as err:
            log.warning("alert command %s unreadable (%s); skipped", eid, err)
        return
    if stream == keys.STREAM_OVERDUE:
        try:
            case = parse_overdue(fields)
        except (KeyError, ValueError, TypeError) as err:
            log.warning("overdue entry %s unreadable (%s); skipped", eid, err)
            return
        overdue[case.case_id] = case
        return
    try:
        rec = decode(KIND_OF_STREAM[stream], fields)
    except RecordError:
        return  # the processor moves it to the dead-letter stream
    if admission is None or admission.problem(rec, now) is None:
        agg.apply(rec)


def feed_beats(client: Any, named: set[str]) -> dict[str, FeedBeat]:
    """Each feed's heartbeat and last record: the registered feeds' that reported, and every one ``named``."""
    names = sorted(client.smembers(keys.FEEDS))
    names = sorted(set(names) | named)
    with client.pipeline(transaction=False) as pipe:
        for name in names:
            pipe.hmget(keys.feed_key(name), ["heartbeat_ms", "last_record_ms"])
        rows = pipe.execute()
    return {
        name: FeedBeat(int(hb) if hb else None, int(lr) if lr else None)
        for name, (hb, lr) in zip(names, rows, strict=True)
        if hb or lr or name in named
    }


def drop_resolved(client: Any, agg: Aggregates) -> None:
    """Forget the cases in ``agg`` that are no longer overdue."""
    ids = sorted(agg.overdue)
    for case_id, score in zip(ids, client.zmscore(keys.OVERDUE, ids), strict=True):
        if score is None:
            agg.drop_overdue(case_id)
