"""The processor's batch logic: what a batch of records changes, computed from the state it read.

Pure (no I/O): a case is the fold of its events through the lifecycle state machine
(``dashboard.domain.lifecycle``), so late and out-of-order events give the same state as in-order ones;
counters change by the difference of the case's contributions (``dashboard.domain.counters``).
``dashboard.processor.writes`` turns the ``Effects`` into Redis writes.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter, OrderedDict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from dashboard.domain import counters
from dashboard.domain.counters import Path
from dashboard.domain.devices import is_stale, sensor_level
from dashboard.domain.lifecycle import Case, Rejected, fold, spans
from dashboard.domain.registry import METRIC_BY_NAME, Thresholds, default_registry
from dashboard.domain.sla import SlaConfig, deadline
from dashboard.store import keys
from dashboard.store.cases import CaseState
from dashboard.store.records import AnyRecord, CameraStatus, CaseEvent, SensorReading

NOTE_KEEP = 500  # characters of a note kept per event in the case record


@dataclass
class Effects:
    """The writes one batch makes, computed from the batch and the state it read."""

    cases: dict[str, CaseState] = field(default_factory=dict)
    inc: Counter[Path] = field(default_factory=Counter)  # counter path -> increment
    cameras: dict[str, str] = field(default_factory=dict)
    sensors: dict[str, str] = field(default_factory=dict)
    camera_since: dict[str, int] = field(default_factory=dict)  # camera -> time of its change of status
    levels: dict[str, str] = field(default_factory=dict)  # sensor -> status after the batch's readings
    sensor_status: dict[str, str] = field(default_factory=dict)  # sensor -> stored level, where it changed
    sensor_dev: dict[str, str] = field(default_factory=dict)  # sensor -> its new status on the map
    sensor_hist: dict[tuple[str, int, int], float] = field(
        default_factory=dict
    )  # (sensor, hour, slot) -> max
    unstale: set[str] = field(default_factory=set)  # stale sensors that reported again
    cell_cases: list[tuple[str, str | None, CaseState]] = field(default_factory=list)  # case, old cell, new
    seen: dict[str, int] = field(default_factory=dict)
    new_cases: dict[str, int] = field(default_factory=dict)
    folds: dict[str, Case | None] = field(default_factory=dict)  # case -> its fold after the batch
    written: dict[str, str] = field(default_factory=dict)  # case -> the JSON written for it
    deadlines: dict[str, int] = field(default_factory=dict)  # case -> deadline (add to DEADLINES)
    overdue: dict[str, int] = field(default_factory=dict)  # case -> deadline (add to OVERDUE)
    clear_deadline: set[str] = field(default_factory=set)
    clear_overdue: set[str] = field(default_factory=set)
    ticker: list[dict[str, Any]] = field(default_factory=list)
    went_overdue: list[dict[str, Any]] = field(default_factory=list)
    arrived_overdue: set[str] = field(default_factory=set)  # cases overdue on arrival (checked again later)
    dead: list[tuple[str, str, str, str]] = field(default_factory=list)  # stream, id, reason, raw
    duplicates: int = 0
    applied: int = 0
    illegal: int = 0

    def changed(self) -> bool:
        """True when the batch changed something a screen shows."""
        cases = self.inc or self.ticker or self.overdue or self.clear_overdue
        return bool(cases or self.cameras or self.sensor_dev)

    def dev(self) -> dict[str, str]:
        """The devices whose status changed in this batch (``Delta.dev``)."""
        return {**self.cameras, **self.sensor_dev}


class CaseApplier:
    """Pure batch logic for case events: fold, contributions diff, index updates (no I/O)."""

    def __init__(self, sla: SlaConfig, tz: ZoneInfo, places: Mapping[str, counters.Place]) -> None:
        """Use ``sla`` deadlines, local days in ``tz``, and each cell's community and subdistrict."""
        self.sla = sla
        self.tz = tz
        self.places = places
        self.clock = counters.Clock(tz)
        # The records this process wrote last, by case: (JSON, record, fold). A record read back
        # unchanged is not parsed or folded again; one changed by anyone else misses the cache.
        self._cache: OrderedDict[str, tuple[str, CaseState, Case | None]] = OrderedDict()
        self._pending_fold: dict[str, Case | None] = {}
        self._thresholds: Mapping[str, Thresholds] | None = None

    def level(self, rec: SensorReading) -> str | None:
        """The sensor's status after ``rec`` against its registry thresholds (its metric's defaults for
        a sensor the registry does not know; None for an unknown metric)."""
        if self._thresholds is None:
            self._thresholds = {k: s.thresholds for k, s in default_registry().sensors.items()}
        th = self._thresholds.get(rec.sensor_id)
        if th is None:
            spec = METRIC_BY_NAME.get(rec.metric)
            th = Thresholds(spec.warn, spec.alarm) if spec is not None else None
        return sensor_level(rec.value, th) if th is not None else None

    CACHE_SIZE = 50_000

    def parse(self, case_id: str, raw: str) -> CaseState:
        """The record of ``raw`` (from the cache when this process wrote exactly that)."""
        hit = self._cache.get(case_id)
        if hit is not None and hit[0] == raw:
            self._cache.move_to_end(case_id)
            self._pending_fold[case_id] = hit[2]
            return hit[1]
        self._pending_fold.pop(case_id, None)
        return CaseState.from_json(raw)

    def known_fold(self, case_id: str) -> Case | None:
        """The fold of the record ``parse`` returned from the cache, if it did."""
        return self._pending_fold.get(case_id)

    def remember(self, eff: Effects) -> None:
        """After a committed batch: keep what was written for the next batch."""
        for case_id, raw in eff.written.items():
            self._cache[case_id] = (raw, eff.cases[case_id], eff.folds.get(case_id))
            self._cache.move_to_end(case_id)
        while len(self._cache) > self.CACHE_SIZE:
            self._cache.popitem(last=False)
        self._pending_fold.clear()

    def forget(self) -> None:
        """After a batch that failed: keep nothing of it (records are read and parsed again)."""
        self._cache.clear()
        self._pending_fold.clear()

    def contrib(self, st: CaseState | None, case: Case | None = None) -> counters.Contrib:
        """The counters a stored case contributes to (``case``: its fold, if known)."""
        s = st.summary(self.places, case) if st is not None else None
        return counters.contributions(s, self.sla, self.tz, self.clock) if s is not None else Counter()

    def change(
        self, old: CaseState | None, old_case: Case | None, new: CaseState, new_case: Case | None
    ) -> dict[Path, int]:
        """How the counters change when a case record goes from ``old`` to ``new``."""
        if old is not None and old.valid and new.valid:
            if old_case is None:
                old_case, _ = fold("", old.steps())
            before = old.summary(self.places, old_case)
            after = new.summary(self.places, new_case)
            if before is not None and after is not None:
                fast = counters.append_diff(before, after, self.sla, self.tz, self.clock)
                if fast is not None:
                    return fast
        return counters.diff(self.contrib(old, old_case), self.contrib(new, new_case))

    def rebuild(
        self, old: CaseState | None, events: list[CaseEvent], now: int
    ) -> tuple[CaseState, Case | None, list[Rejected]]:
        """The case record after adding ``events`` (already de-duplicated) to ``old``."""
        first = next((e for e in events if e.step == "reported"), events[0])
        if old is None:
            st = CaseState(
                cell=first.cell_id,
                step=first.step,
                ts=first.ts,
                open=True,
                event_type=first.event_type,
                category=first.category,
                priority=first.priority,
                source=first.source,
                lon=first.lon,
                lat=first.lat,
                description=first.note[:NOTE_KEEP] if first.step == "reported" else "",
                photos=list(first.photos) if first.step == "reported" else [],
            )
        else:
            st = dataclasses.replace(old, events=list(old.events), photos=list(old.photos))
            if first.step == "reported" and not any(e[3] == "reported" for e in old.events):
                st.cell, st.event_type, st.category = first.cell_id, first.event_type, first.category
                st.source, st.lon, st.lat = first.source, first.lon, first.lat
                st.description, st.photos = first.note[:NOTE_KEEP], list(first.photos)
        for e in events:
            st.events.append(
                [e.ts, e.seq, e.event_id, e.step, e.department, e.actor, e.priority, e.note[:NOTE_KEEP]]
            )
        st.events.sort(key=lambda x: (x[0], x[1], x[2]))
        case, rejected = fold("", st.steps())
        st.held = [r.event_id for r in rejected]
        self._summarise(st, case, now)
        return st, case, rejected

    def _summarise(self, st: CaseState, case: Case | None, now: int) -> None:
        """Copy the folded case's facts onto the record, with its current deadline."""
        if case is None:
            st.valid, st.open, st.step, st.stage, st.deadline, st.overdue = (
                False,
                False,
                "-",
                None,
                None,
                False,
            )
            st.spans = []
            return
        st.valid, st.stale = True, False  # an event touched it: back in the live counters if it had left
        st.step, st.open, st.ts = case.state, case.open, case.updated_ts
        st.reported_ts, st.closed_ts = case.reported_ts, case.closed_ts
        st.department, st.priority, st.level = case.department, case.priority, case.level
        st.returns, st.escalations, st.reopens = case.returns, case.escalations, case.reopens
        st.stage, st.stage_since = case.stage, case.stage_since
        st.deadline = counters.current_deadline(case, self.sla, self.tz)
        st.overdue = st.deadline is not None and now >= st.deadline
        st.spans = [
            [sp.event_id, sp.stage, sp.entered, sp.exited,
             deadline(self.sla, sp.stage, "urgent" if sp.urgent else "normal", sp.entered, self.tz)]
            for sp in spans(case)
        ]  # fmt: skip

    def apply(
        self,
        records: Iterable[tuple[str, str, AnyRecord]],
        cases: Mapping[str, CaseState],
        cameras: Mapping[str, str],
        seen: set[str],
        now: int,
        sensor_status: Mapping[str, str] | None = None,
        stale: Collection[str] = (),
    ) -> Effects:
        """Apply decoded records to the state read from Redis; return the effects.

        ``sensor_status``: the stored status of the batch's sensors (a change of it goes in the delta);
        ``stale``: those of them marked stale (a reading brings them back).
        """
        eff = Effects()
        by_case: dict[str, list[CaseEvent]] = {}
        seen_now = set(seen)
        for _stream, _eid, rec in records:
            if isinstance(rec, CaseEvent):
                self._collect_event(eff, rec, seen_now, by_case)
            elif isinstance(rec, CameraStatus):
                self._apply_camera(eff, rec, cameras)
            else:
                self._apply_reading(eff, rec, now)
        for case_id, events in by_case.items():
            self._apply_case(eff, case_id, cases.get(case_id), events, now, self.known_fold(case_id))
        eff.ticker.sort(key=lambda t: t["ts"])  # the batch's events in time order, whatever their case
        self._sensor_statuses(eff, sensor_status or {}, stale, now)
        eff.inc = Counter({k: v for k, v in eff.inc.items() if v})
        return eff

    @staticmethod
    def _collect_event(
        eff: Effects, rec: CaseEvent, seen: set[str], by_case: dict[str, list[CaseEvent]]
    ) -> None:
        """A case event, by its case (a duplicate, seen before or earlier in the batch, only counted)."""
        if rec.event_id in seen:
            eff.duplicates += 1
            return
        seen.add(rec.event_id)
        eff.seen[rec.event_id] = rec.ts
        by_case.setdefault(rec.case_id, []).append(rec)

    @staticmethod
    def _apply_camera(eff: Effects, rec: CameraStatus, cameras: Mapping[str, str]) -> None:
        """A camera's status: counted as down or up (and as a camera when first seen) when it changed."""
        eff.applied += 1
        before = eff.cameras.get(rec.camera_id, cameras.get(rec.camera_id))
        if before != rec.status:
            was_down, is_down = before in ("offline", "fault"), rec.status in ("offline", "fault")
            if is_down != was_down:
                eff.inc[("kpi", "cameras_down")] += 1 if is_down else -1
            if before is None:
                eff.inc[("kpi", "cameras")] += 1
            eff.cameras[rec.camera_id] = rec.status
            eff.camera_since[rec.camera_id] = rec.ts

    def _apply_reading(self, eff: Effects, rec: SensorReading, now: int) -> None:
        """A sensor reading: the sensor's last value, the day's count, its level, its 24-hour history."""
        eff.applied += 1
        eff.sensors[rec.sensor_id] = json.dumps(
            {
                "metric": rec.metric,
                "value": rec.value,
                "unit": rec.unit,
                "ts": rec.ts,
                "cell": rec.cell_id,
            }
        )
        eff.inc[("days", self.clock.minute(rec.ts)[:8], "n", "readings")] += 1
        if (lv := self.level(rec)) is not None:
            eff.levels[rec.sensor_id] = lv
        if rec.ts > now - counters.SENSOR_HIST_MS:
            point = (
                rec.sensor_id,
                rec.ts // 3_600_000,
                rec.ts % 3_600_000 // counters.SENSOR_SLOT_MS,
            )
            eff.sensor_hist[point] = max(rec.value, eff.sensor_hist.get(point, rec.value))

    @staticmethod
    def _sensor_statuses(eff: Effects, stored: Mapping[str, str], stale: Collection[str], now: int) -> None:
        """After the batch's readings: the stored levels that changed, the stale sensors back, the map's."""
        registry = default_registry()
        eff.unstale = {
            sid for sid in set(eff.levels) & set(stale)
            if not is_stale(registry, sid, json.loads(eff.sensors[sid])["ts"], now)
        }  # fmt: skip
        eff.sensor_status = {k: v for k, v in eff.levels.items() if stored.get(k) != v}
        still = set(stale) - eff.unstale  # a late reading of a stale sensor: stale it stays on the map
        eff.sensor_dev = {
            k: v
            for k, v in eff.levels.items()
            if (k in eff.sensor_status or k in eff.unstale) and k not in still
        }

    def _apply_case(
        self,
        eff: Effects,
        case_id: str,
        old: CaseState | None,
        events: list[CaseEvent],
        now: int,
        old_case: Case | None = None,
    ) -> None:
        """Re-fold one case with its new events and record what changed."""
        new, case, rejected = self.rebuild(old, events, now)
        eff.inc.update(self.change(old, old_case, new, case))
        eff.cases[case_id] = new
        eff.folds[case_id] = case
        eff.cell_cases.append((case_id, old.cell if old is not None else None, new))
        new_ids = {e.event_id for e in events}
        for r in rejected:
            if r.event_id in new_ids:
                eff.illegal += 1
                ev = next(e for e in events if e.event_id == r.event_id)
                eff.dead.append((keys.STREAM_CASE_EVENTS, r.event_id, r.reason, ev.model_dump_json()))
        eff.applied += len(new_ids) - sum(1 for r in rejected if r.event_id in new_ids)
        if (old is None or not old.valid) and new.valid:
            eff.new_cases[case_id] = new.reported_ts
        held = {r.event_id for r in rejected}
        for e in sorted(events, key=lambda x: (x.ts, x.seq)):
            if e.event_id not in held and new.valid:
                eff.ticker.append(
                    {"ts": e.ts, "case": case_id, "cell": new.cell, "type": new.event_type,
                     "step": e.step, "dept": e.department or new.department, "priority": new.priority}
                )  # fmt: skip
        self._index_deadline(eff, case_id, new)
        arrived_late = new.open and new.overdue and not new.stale and new.deadline is not None
        if arrived_late and (old is None or not old.overdue or old.deadline != new.deadline):
            eff.arrived_overdue.add(case_id)  # a back-fill: told to the rules if still so in a few seconds

    @staticmethod
    def _index_deadline(eff: Effects, case_id: str, st: CaseState) -> None:
        """Keep the case in exactly one of the deadline and overdue sorted sets (or neither; a stale case
        in neither)."""
        if st.stale:
            eff.clear_deadline.add(case_id)
            eff.clear_overdue.add(case_id)
        elif st.open and st.deadline is not None and not st.overdue:
            eff.deadlines[case_id] = st.deadline
            eff.clear_overdue.add(case_id)
        elif st.open and st.deadline is not None and st.overdue:
            eff.overdue[case_id] = st.deadline
            eff.clear_deadline.add(case_id)
        else:
            eff.clear_deadline.add(case_id)
            eff.clear_overdue.add(case_id)

    def _restate(self, eff: Effects, case_id: str, old: CaseState, new: CaseState) -> None:
        """A timer changes a stored case (overdue, stale) without a new event: its counters move from
        ``old`` to ``new`` and it is indexed again."""
        case, _ = fold("", old.steps())
        eff.inc.update(self.change(old, case, new, case))
        eff.cases[case_id] = new
        eff.folds[case_id] = case
        self._index_deadline(eff, case_id, new)

    def mark_idle(self, cases: Mapping[str, CaseState], before: int) -> Effects:
        """Effects of the open cases no event has touched since ``before``: they leave the live counters
        (open, overdue, the deadline sets) and stay in the case index marked ``stale``."""
        eff = Effects()
        for case_id, st in cases.items():
            if not st.open or st.stale or not st.valid or st.ts >= before:
                continue
            self._restate(eff, case_id, st, dataclasses.replace(st, stale=True))
        eff.inc = Counter({k: v for k, v in eff.inc.items() if v})
        return eff

    @staticmethod
    def still_overdue(cases: Mapping[str, CaseState], now: int) -> Effects:
        """The overdue stream's records of cases that arrived overdue and still are (a back-fill's cases
        move on within seconds as their later events arrive: only those that stay overdue are told)."""
        eff = Effects()
        for case_id, st in cases.items():
            if st.open and st.overdue and not st.stale and st.deadline is not None:
                eff.went_overdue.append(_overdue_item(case_id, st, now))
        return eff

    def mark_overdue(self, cases: Mapping[str, CaseState], now: int) -> Effects:
        """Effects of the cases whose current stage deadline has passed by ``now``."""
        eff = Effects()
        for case_id, st in cases.items():
            if not st.open or st.overdue or st.deadline is None or st.deadline > now:
                continue
            self._restate(eff, case_id, st, dataclasses.replace(st, overdue=True))
            eff.went_overdue.append(_overdue_item(case_id, st, now))
        eff.inc = Counter({k: v for k, v in eff.inc.items() if v})
        return eff


def _overdue_item(case_id: str, st: CaseState, now: int) -> dict[str, Any]:
    """The overdue stream's record of a case gone past its stage deadline (the alert rules read it)."""
    return {"case": case_id, "cell": st.cell, "dept": st.department or "", "stage": st.stage or "",
            "priority": st.priority, "deadline": st.deadline, "ts": now}  # fmt: skip
