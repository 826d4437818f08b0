"""The alert engine: the one impure loop around the pure rules and state machine.

It reads the input streams (sensor readings, case events, camera status) and the processor's overdue
stream through its own consumer group (``alerts``), applies each entry to in-memory windows and
aggregates (``dashboard.alerts.aggregates``), evaluates every rule once a second with the clock passed in,
and writes in one MULTI/EXEC: the inputs it must remember across a restart, the instance states that
changed, their history entries, one output-stream change (consecutive ``seq``) and the XACKs. So a
crash leaves all of a step or none of it; entries read again are applied idempotently (event ids
count once, readings and statuses are states). One engine runs at a time (a lease in Redis); a
second one waits and takes over when the first hands it back or stops renewing it (after a crash,
within ``alerts.lease_s``).

The engine is the one writer of alert state: a person's acknowledgement or silence reaches it as a
command (``dashboard.alerts.commands``) read through the same consumer group, applied to the states it
holds and answered in the same MULTI/EXEC as the change.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import redis

from dashboard.alerts import store
from dashboard.alerts.aggregates import Aggregates, Dirty, dumps
from dashboard.alerts.commands import Command, queue_reply
from dashboard.alerts.config import AlertsConfig
from dashboard.alerts.inputs import Areas, FeedBeat, OverdueCase, SensorInfo
from dashboard.alerts.machine import AlertError, evaluate, transition
from dashboard.alerts.model import ENGINE_ACTOR, AlertState, Transition
from dashboard.alerts.rules import Rule, RuleError, check_areas, load_rules
from dashboard.alerts.rules.rate import RateRule
from dashboard.domain.registry import Registry
from dashboard.domain.types import epoch_ms
from dashboard.store import keys
from dashboard.store.lease import Lease, new_token
from dashboard.store.records import KIND_OF_STREAM, RecordError, decode

log = logging.getLogger(__name__)

INPUT_STREAMS: tuple[str, ...] = (
    keys.STREAM_CASE_EVENTS,
    keys.STREAM_SENSOR_READINGS,
    keys.STREAM_CAMERA_STATUS,
    keys.STREAM_OVERDUE,
    keys.ALERT_COMMANDS,
)
VALUE_REFRESH_MS = 10_000  # a changed value alone (no transition) is written at most this often
FEEDS_EVERY_MS = 2_000
OVERDUE_EVERY_MS = 5_000
TRIM_EVERY_MS = 60_000


class Engine:
    """Consumer-group reader, rule evaluator and alert state writer (``run`` until stopped)."""

    def __init__(
        self,
        client: redis.Redis,
        cfg: AlertsConfig,
        rules: Sequence[Rule],
        areas: Areas,
        consumer: str,
        registry: Registry | None = None,
        clock: Callable[[], int] = epoch_ms,
        processor_group: str = "processor",
    ) -> None:
        """Bind to a Redis client (decode_responses=True); ``rules`` are checked against ``areas``.

        ``registry`` gives the sensors (and cameras' cells) to expect; ``processor_group`` is where a
        first start begins reading readings and camera states (seeded from the processor's read models).
        """
        check_areas(rules, areas)
        self.r: Any = client
        self.cfg = cfg
        self._check_windows(rules)
        self.consumer = consumer
        self.token = new_token(consumer)  # this engine's lease, unique
        self._lease = Lease(client, keys.ALERT_LEADER, self.token, int(cfg.lease_s * 1000))
        self.clock = clock
        self.registry = registry
        self.processor_group = processor_group
        self._rules: list[Rule] = list(rules)
        self._lock = threading.Lock()
        registered = SensorInfo.of_registry(registry) if registry is not None else {}
        self.agg = Aggregates(areas, registered, cfg.time_scale, cfg.reopen_window_s)
        self.inputs = self.agg.inputs
        self.states: dict[str, AlertState] = {}
        self._leader = False
        self._commands: list[Command] = []  # people's commands read and not yet applied
        self._next_eval = 0
        self._next_feeds = 0
        self._next_overdue = 0
        self._next_trim = 0
        self._claim = False

    # --- rules ---------------------------------------------------------------------------------

    @property
    def rules(self) -> list[Rule]:
        """The rule set running now."""
        with self._lock:
            return list(self._rules)

    def horizon_ms(self) -> int:
        """How long case events are kept: the longest rate window (over the time scale)."""
        windows = [r.window for r in self.rules if isinstance(r, RateRule) and r.enabled]
        return round(max(windows, default=0.0) * 1000 / self.cfg.time_scale)

    def _check_windows(self, rules: Sequence[Rule]) -> None:
        """Rate windows must fit in ``alerts.lookback_h`` (RuleError naming the rule)."""
        for i, rule in enumerate(rules):
            limit_h = self.cfg.lookback_h
            if isinstance(rule, RateRule) and rule.window > limit_h * 3600:
                raise RuleError(
                    f"rules[{i}] ({rule.name}).window: longer than alerts.lookback_h ({limit_h:g} h)"
                )

    def reload(self, data: Any) -> list[Rule]:
        """Swap in a new rule set (rules or their config data) from the next evaluation on.

        An invalid set raises RuleError with the reason and the old rules keep running. Instances of
        rules that still exist keep their state; those of removed or disabled rules go back to normal.
        """
        rules = load_rules(data, "rules", self.inputs.areas)
        self._check_windows(rules)
        with self._lock:
            self._rules = rules
        log.info("alert rules reloaded: %d rules (%s)", len(rules), ", ".join(r.name for r in rules))
        return rules

    # --- leadership, groups, loading ---------------------------------------------------------------

    def lease(self) -> bool:
        """Hold (or take) the engine lease; on taking it, (re)load everything from Redis."""
        got = self._lease.hold()
        if got == 2 or (got and not self._leader):  # taken (again: another engine may have run meanwhile)
            self.ensure_groups()
            self.load()
            self._leader = True
            self._claim = True
            log.info("alert engine %s is the active engine", self.consumer)
        elif not got and self._leader:
            log.warning("alert engine %s lost its lease", self.consumer)
            self._leader = False
        return self._leader

    def _groups(self) -> dict[str, dict[str, Any]]:
        """Per input stream: its consumer groups by name (empty when the stream does not exist)."""
        out: dict[str, dict[str, Any]] = {}
        for stream in INPUT_STREAMS:
            try:
                out[stream] = {g["name"]: g for g in self.r.xinfo_groups(stream)}
            except redis.ResponseError:
                out[stream] = {}
        return out

    def ensure_groups(self) -> None:
        """Create the consumer group on every stream; on a first start, seed the inputs.

        Case events are read from the longest rate window ago (``horizon_ms``); readings and camera states
        from where the processor's group is, seeded from its read models (replaying a suffix converges,
        as both are states); the overdue stream from its start (cases no longer overdue are dropped).
        """
        groups = self._groups()
        if self.r.hget(keys.ALERT_META, "bootstrapped") and all(self.cfg.group in g for g in groups.values()):
            return
        for stream, g in groups.items():
            if self.cfg.group in g:
                self.r.xgroup_destroy(stream, self.cfg.group)
        now = self.clock()
        processor = {s: g.get(self.processor_group, {}).get("last-delivered-id") for s, g in groups.items()}
        cameras = self.r.hgetall(keys.CAMERA_STATE) if processor[keys.STREAM_CAMERA_STATUS] else {}
        sensors = self.r.hgetall(keys.SENSOR_LAST) if processor[keys.STREAM_SENSOR_READINGS] else {}
        start = {
            keys.STREAM_CASE_EVENTS: f"{max(0, now - self.horizon_ms())}-0",
            keys.STREAM_SENSOR_READINGS: processor[keys.STREAM_SENSOR_READINGS] or "0",
            keys.STREAM_CAMERA_STATUS: processor[keys.STREAM_CAMERA_STATUS] or "0",
            keys.STREAM_OVERDUE: "0",
            keys.ALERT_COMMANDS: "0",  # commands too old when read are answered as expired
        }
        for stream, first in start.items():
            self.r.xgroup_create(stream, self.cfg.group, id=first, mkstream=True)
        seed_cameras: dict[str, str] = {}
        reg_cameras = self.registry.cameras if self.registry is not None else {}
        for cam, status in cameras.items():
            known = reg_cameras.get(cam)
            if known is not None and status in ("online", "offline", "fault"):
                seed_cameras[cam] = dumps([status, known.cell_id])
        seed_sensors: dict[str, str] = {}
        for sid, raw in sensors.items():
            try:
                d = json.loads(raw)
                seed_sensors[sid] = dumps([int(d["ts"]), float(d["value"]), str(d["metric"]), str(d["cell"])])
            except (ValueError, KeyError, TypeError):
                continue
        with self.r.pipeline(transaction=True) as pipe:
            pipe.delete(
                keys.ALERT_IN_SENSORS, keys.ALERT_IN_CAMERAS, keys.ALERT_IN_EVENTS, keys.ALERT_IN_OVERDUE
            )
            if seed_cameras:
                pipe.hset(keys.ALERT_IN_CAMERAS, mapping=seed_cameras)
            if seed_sensors:
                pipe.hset(keys.ALERT_IN_SENSORS, mapping=seed_sensors)
            pipe.hsetnx(keys.ALERT_META, "watch_since", now)
            pipe.hset(keys.ALERT_META, "bootstrapped", now)
            pipe.execute()
        log.info(
            "alert engine: consumer group %r created (seeded %d cameras, %d sensors)",
            self.cfg.group,
            len(seed_cameras),
            len(seed_sensors),
        )

    def load(self) -> None:
        """Read the states and remembered inputs from Redis (after a start or a take-over)."""
        now = self.clock()
        self.states = store.load_states(self.r)
        horizon = now - self.horizon_ms()
        self.agg.load(
            self.r.hgetall(keys.ALERT_IN_SENSORS),
            self.r.hgetall(keys.ALERT_IN_CAMERAS),
            self.r.zrangebyscore(keys.ALERT_IN_EVENTS, horizon, "+inf", withscores=True),
            self.r.hgetall(keys.ALERT_IN_OVERDUE),
            int(self.r.hget(keys.ALERT_META, "watch_since") or now),
        )
        self._next_feeds = self._next_overdue = 0
        log.info(
            "alert engine loaded %d alert states, %d sensors, %d cameras, %d events, %d overdue cases",
            len(self.states),
            len(self.agg.samples),
            len(self.agg.camera),
            len(self.inputs.events),
            len(self.agg.overdue),
        )

    # --- reading and applying ------------------------------------------------------------------------

    def _read(self, block_ms: int | None) -> list[tuple[str, str, dict[str, str]]]:
        """This consumer's pending entries first (after a failed write), then new ones."""
        out: list[tuple[str, str, dict[str, str]]] = []
        group, me, n = self.cfg.group, self.consumer, self.cfg.batch_size
        if self._claim:  # just took over: adopt what a previous engine read and did not acknowledge
            for stream in INPUT_STREAMS:
                start = "0-0"
                while True:
                    reply = self.r.xautoclaim(stream, group, me, 0, start, count=n)
                    start, claimed = reply[0], reply[1]
                    if not claimed or start == "0-0":
                        break
            self._claim = False
        for stream, entries in self.r.xreadgroup(group, me, {s: "0" for s in INPUT_STREAMS}, count=n) or []:
            out += [(stream, eid, f or {}) for eid, f in entries]
        if out:
            return out
        fresh = self.r.xreadgroup(group, me, {s: ">" for s in INPUT_STREAMS}, count=n, block=block_ms)
        for stream, entries in fresh or []:
            out += [(stream, eid, f) for eid, f in entries]
        return out

    def _apply(self, entries: Iterable[tuple[str, str, dict[str, str]]]) -> None:
        """Apply entries to the in-memory aggregates (idempotently)."""
        overdue: dict[str, OverdueCase] = {}
        for stream, eid, fields in entries:
            if not fields:
                continue  # an entry trimmed from the stream while pending: only acknowledged
            if stream == keys.ALERT_COMMANDS:
                try:
                    self._commands.append(Command.from_fields(fields))
                except (KeyError, ValueError, TypeError) as err:
                    log.warning("alert command %s unreadable (%s); skipped", eid, err)
                continue
            if stream == keys.STREAM_OVERDUE:
                try:
                    d = json.loads(fields["d"])
                    case = OverdueCase(
                        str(d["case"]), str(d["cell"]), str(d.get("priority") or "normal"),
                        str(d.get("stage") or ""), int(d.get("deadline") or d.get("ts") or 0),
                    )  # fmt: skip
                except (KeyError, ValueError, TypeError) as err:
                    log.warning("overdue entry %s unreadable (%s); skipped", eid, err)
                    continue
                overdue[case.case_id] = case
                continue
            try:
                self.agg.apply(decode(KIND_OF_STREAM[stream], fields))
            except RecordError:
                continue  # the processor moves it to the dead-letter stream
        if overdue:  # the stream may be replayed from its start: track only cases still overdue
            ids = sorted(overdue)
            for case_id, score in zip(ids, self.r.zmscore(keys.OVERDUE, ids), strict=True):
                if score is not None:
                    self.agg.set_overdue(overdue[case_id])

    def _refresh(self, now: int) -> None:
        """Feed health every 2 s; drop cases no longer overdue every 5 s; take a reload request."""
        if now >= self._next_feeds:
            self._next_feeds = now + FEEDS_EVERY_MS
            names = sorted(self.r.smembers(keys.FEEDS))
            named = {f for rule in self.rules if rule.type == "stale" for f in getattr(rule, "feeds", [])}
            names = sorted(set(names) | named)
            with self.r.pipeline(transaction=False) as pipe:
                for name in names:
                    pipe.hmget(keys.feed_key(name), ["heartbeat_ms", "last_record_ms"])
                rows = pipe.execute()
            self.inputs.feeds = {
                name: FeedBeat(int(hb) if hb else None, int(lr) if lr else None)
                for name, (hb, lr) in zip(names, rows, strict=True)
                if hb or lr or name in named
            }
            self._take_control(now)
        if now >= self._next_overdue and self.agg.overdue:
            self._next_overdue = now + OVERDUE_EVERY_MS
            ids = sorted(self.agg.overdue)
            for case_id, score in zip(ids, self.r.zmscore(keys.OVERDUE, ids), strict=True):
                if score is None:
                    self.agg.drop_overdue(case_id)
        if now >= self._next_trim:
            self._next_trim = now + TRIM_EVERY_MS
            self.agg.trim(now - self.horizon_ms())

    def _take_control(self, now: int) -> None:
        """Take a reload request from ``keys.ALERT_CONTROL`` (if any) and record its outcome."""
        with self.r.pipeline(transaction=True) as pipe:
            pipe.hgetall(keys.ALERT_CONTROL)
            pipe.delete(keys.ALERT_CONTROL)
            req, _ = pipe.execute()
        if not req or "rules" not in req:
            return
        outcome: dict[str, Any] = {"requested_ms": req.get("requested_ms", ""), "by": req.get("by", "")}
        try:
            rules = self.reload(json.loads(req["rules"]))
            outcome.update(ok=1, error="", loaded_ms=now, names=dumps([r.name for r in rules]))
        except (RuleError, ValueError) as err:
            log.warning("alert rule reload refused: %s", err)
            outcome.update(ok=0, error=str(err), refused_ms=now)
        self.r.hset(keys.ALERT_RULES, mapping=outcome)

    # --- evaluating and writing ---------------------------------------------------------------------

    def _apply_commands(
        self, states: dict[str, AlertState], now: int
    ) -> tuple[dict[str, AlertState], list[Transition], list[tuple[str, dict[str, Any]]]]:
        """People's commands applied to ``states`` (in place): (changed states, transitions, replies)."""
        changed: dict[str, AlertState] = {}
        trs: list[Transition] = []
        replies: list[tuple[str, dict[str, Any]]] = []
        for cmd in self._commands:
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

    def _evaluate(
        self, current: dict[str, AlertState], now: int
    ) -> tuple[dict[str, AlertState], dict[str, AlertState], list[str], list[Transition]]:
        """Every rule's next states from ``current``: (all states, changed ones, removed ids, transitions)."""
        rules = [r for r in self.rules if r.enabled]
        names = {r.name for r in rules}
        by_rule: dict[str, dict[str, AlertState]] = {}
        for inst, st in current.items():
            by_rule.setdefault(st.rule, {})[inst] = st
        new_all: dict[str, AlertState] = {}
        changes: list[Transition] = []
        for rule in rules:
            result = evaluate(rule, self.inputs, now)
            states, trs = transition(by_rule.get(rule.name, {}), result, now)
            new_all.update(states)
            changes += trs
        for inst, st in sorted(current.items()):
            if st.rule not in names:
                changes.append(
                    Transition(
                        ts=now,
                        instance=inst,
                        rule=st.rule,
                        episode=st.episode,
                        from_status=st.status,
                        to_status="normal",
                        level=st.level,
                        from_level=st.level,
                        reason="rule removed or disabled",
                        value=st.value,
                        actor=ENGINE_ACTOR,
                        areas=st.areas,
                    )
                )
        changed_ids = {t.instance for t in changes}
        changed: dict[str, AlertState] = {}
        for inst, st in new_all.items():
            old = current.get(inst)
            if old == st:
                continue
            if (
                old is not None
                and inst not in changed_ids
                and _only_value(old, st)
                and now - old.updated < VALUE_REFRESH_MS
            ):
                new_all[inst] = old  # a value alone changed: written at most every VALUE_REFRESH_MS
                continue
            changed[inst] = st
        removed = [inst for inst in current if inst not in new_all]
        return new_all, changed, removed, changes

    def step(self, block_ms: int | None = None) -> int:
        """Read and apply one batch, evaluate the rules when due, write it all; return entries acked."""
        if not self.lease():
            return 0
        entries = self._read(block_ms)
        self._apply(entries)
        now = self.clock()
        self._refresh(now)
        due = now >= self._next_eval
        if not (entries or due or self.agg.dirty.any()):
            return 0
        self._commit(entries, now, due)
        if due:
            self._next_eval = now + self.cfg.eval_interval_ms
        return len(entries)

    def _commit(self, entries: list[tuple[str, str, dict[str, str]]], now: int, due: bool) -> None:
        """Write inputs, state changes, history, output and acks in one MULTI/EXEC."""
        pipe: Any
        with self.r.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(keys.ALERT_LEADER, keys.ALERT_SEQ)
                    if not self._lease.held_by_me(pipe):
                        pipe.reset()
                        self._leader = False
                        self._commands = []  # left pending: the engine that holds the lease takes them
                        log.warning("alert engine %s lost its lease; not writing", self.consumer)
                        return
                    states = dict(self.states)
                    by_people, people_trs, replies = self._apply_commands(states, now)
                    new_all, changed, removed, trs = (
                        self._evaluate(states, now) if due else (states, {}, [], [])
                    )
                    changed, trs = {**by_people, **changed}, people_trs + trs
                    seq = int(pipe.get(keys.ALERT_SEQ) or 0)
                    pipe.multi()
                    self._queue_inputs(pipe)
                    store.queue_changes(pipe, changed, removed, trs, seq, now, self.cfg.history_maxlen)
                    for command_id, reply in replies:
                        queue_reply(pipe, command_id, reply)
                    for stream in INPUT_STREAMS:
                        ids = [eid for s, eid, _ in entries if s == stream]
                        if ids:
                            pipe.xack(stream, self.cfg.group, *ids)
                    pipe.execute()
                    self.states = new_all
                    self._commands = []
                    self.agg.dirty = Dirty()
                    for t in trs:
                        log.info(
                            "alert %s: %s -> %s (%s) %s",
                            t.instance,
                            t.from_status,
                            t.to_status,
                            t.level,
                            t.reason,
                        )
                    return
                except redis.WatchError:
                    continue

    def _queue_inputs(self, pipe: Any) -> None:
        """Queue the remembered inputs' changes."""
        d = self.agg.dirty
        if d.sensors:
            pipe.hset(keys.ALERT_IN_SENSORS, mapping=d.sensors)
        if d.cameras:
            pipe.hset(keys.ALERT_IN_CAMERAS, mapping=d.cameras)
        if d.events:
            pipe.zadd(keys.ALERT_IN_EVENTS, d.events)
        if d.overdue:
            pipe.hset(keys.ALERT_IN_OVERDUE, mapping=d.overdue)
        if d.overdue_gone:
            pipe.hdel(keys.ALERT_IN_OVERDUE, *sorted(d.overdue_gone))
        if d.trim_before is not None:
            pipe.zremrangebyscore(keys.ALERT_IN_EVENTS, "-inf", f"({d.trim_before}")

    def run(self, stop: threading.Event) -> None:
        """Evaluate until ``stop`` is set; wait while another engine holds the lease; survive outages."""
        backoff = 0.5
        while not stop.is_set():
            try:
                if not self.lease():
                    stop.wait(min(2.0, self.cfg.lease_s / 3))
                    continue
                wait = max(10, min(self.cfg.eval_interval_ms, self._next_eval - self.clock()))
                self.step(block_ms=wait)
                backoff = 0.5
            except redis.ConnectionError as err:
                log.warning("redis unavailable (%s); retrying in %.1f s", err, backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)
        if self._leader:  # hand over at once rather than after the lease runs out
            with contextlib.suppress(redis.RedisError):
                self._lease.release()
            self._leader = False


def _only_value(old: AlertState, new: AlertState) -> bool:
    """Whether ``new`` differs from ``old`` in its value and reason only."""
    same = dataclasses.replace(new, value=old.value, reason=old.reason, updated=old.updated, rev=old.rev)
    return same == old


def request_reload(client: redis.Redis, data: Any, by: str = "cli") -> int:
    """Validate a rule set here, then ask the running engine to load it; return the request's stamp.

    The engine answers in ``keys.ALERT_RULES`` (``requested_ms`` = the stamp, ``ok``, ``error``).
    Raises RuleError (nothing is sent) when the set is invalid.
    """
    rules = load_rules(data)
    payload = dumps(
        [r.model_dump(mode="json", by_alias=True, exclude_defaults=True) | {"type": r.type} for r in rules]
    )
    stamp = epoch_ms()
    client.hset(keys.ALERT_CONTROL, mapping={"rules": payload, "requested_ms": stamp, "by": by})
    return stamp
