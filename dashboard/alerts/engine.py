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

Starting (groups, seeding, loading) is ``dashboard.alerts.bootstrap``; reading and applying the input
entries is ``dashboard.alerts.intake``; evaluating and writing are here.
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

from dashboard.alerts import bootstrap, commands, intake, store
from dashboard.alerts.aggregates import Aggregates, Dirty, dumps
from dashboard.alerts.commands import Command, queue_reply
from dashboard.alerts.config import AlertsConfig
from dashboard.alerts.inputs import Areas, SensorInfo
from dashboard.alerts.intake import INPUT_STREAMS, Entry
from dashboard.alerts.machine import evaluate, transition
from dashboard.alerts.model import ENGINE_ACTOR, AlertState, Transition
from dashboard.alerts.rules import Rule, RuleError, check_areas, load_rules
from dashboard.alerts.rules.rate import RateRule
from dashboard.domain.registry import Registry
from dashboard.domain.types import epoch_ms
from dashboard.store import keys
from dashboard.store.lease import Lease, new_token
from dashboard.store.validate import Admission

log = logging.getLogger(__name__)

__all__ = ["INPUT_STREAMS", "Engine", "request_reload"]

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
        admission: Admission | None = None,
    ) -> None:
        """Bind to a Redis client (``dashboard.store.client.connect``); ``rules`` are checked against
        ``areas``; records ``admission`` refuses are not counted (the processor dead-letters them).

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
        self.admission = admission
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

    def ensure_groups(self) -> None:
        """Create the consumer group on every stream; on a first start, seed the inputs.

        Case events are read from the longest rate window ago (``horizon_ms``); readings and camera states
        from where the processor's group is, seeded from its read models (replaying a suffix converges,
        as both are states); the overdue stream from its start (cases no longer overdue are dropped).
        """
        seeded = bootstrap.ensure_groups(
            self.r, self.cfg.group, self.processor_group, self.registry, self.clock, self.horizon_ms()
        )
        if seeded is not None:
            log.info(
                "alert engine: consumer group %r created (seeded %d cameras, %d sensors)",
                self.cfg.group,
                *seeded,
            )

    def load(self) -> None:
        """Read the states and remembered inputs from Redis (after a start or a take-over)."""
        now = self.clock()
        self.states = bootstrap.load(self.r, self.agg, now, self.horizon_ms())
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

    def _read(self, block_ms: int | None) -> list[Entry]:
        """This consumer's pending entries first (after a failed write or a take-over), then new ones."""
        if self._claim:  # just took over: adopt what a previous engine read and did not acknowledge
            intake.claim_pending(self.r, self.cfg.group, self.consumer, self.cfg.batch_size)
            self._claim = False
        return intake.read(self.r, self.cfg.group, self.consumer, self.cfg.batch_size, block_ms)

    def _apply(self, entries: Iterable[Entry]) -> None:
        """Apply entries to the in-memory aggregates (idempotently); keep people's commands for the write."""
        self._commands += intake.apply(self.r, self.agg, entries, self.admission, self.clock())

    def _refresh(self, now: int) -> None:
        """Feed health every 2 s; drop cases no longer overdue every 5 s; take a reload request."""
        if now >= self._next_feeds:
            self._next_feeds = now + FEEDS_EVERY_MS
            named = {f for rule in self.rules if rule.type == "stale" for f in getattr(rule, "feeds", [])}
            self.inputs.feeds = intake.feed_beats(self.r, named)
            self._take_control(now)
        if now >= self._next_overdue and self.agg.overdue:
            self._next_overdue = now + OVERDUE_EVERY_MS
            intake.drop_resolved(self.r, self.agg)
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

    def _evaluate(
        self, current: dict[str, AlertState], now: int
    ) -> tuple[dict[str, AlertState], dict[str, AlertState], list[str], list[Transition]]:
        """Every rule's next states from ``current``: (all states, changed ones, removed ids, transitions)."""
        rules = [r for r in self.rules if r.enabled]
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
        changes += _retired(current, {r.name for r in rules}, now)
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

    def _commit(self, entries: list[Entry], now: int, due: bool) -> None:
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
                    by_people, people_trs, replies = commands.apply_all(self._commands, states, now)
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


def _retired(current: dict[str, AlertState], names: set[str], now: int) -> list[Transition]:
    """Back to normal, the instances of rules no longer running (removed or disabled)."""
    return [
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
        for inst, st in sorted(current.items())
        if st.rule not in names
    ]


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
