"""The engine's in-memory inputs: records applied idempotently to windows and aggregates (no I/O).

``Aggregates`` turns contract records into what rules read (``Inputs``): each sensor's latest reading,
camera counts per cell by status, the case events of the last hours, the cases overdue now. Applying a
record twice changes nothing (at-least-once input). It also notes, as ``Dirty``, what changed since the
engine last wrote it to Redis, in the stored form ``load`` reads back after a restart.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dashboard.alerts.inputs import (
    Areas,
    CameraCount,
    CaseSeen,
    EventWindow,
    Inputs,
    OverdueCase,
    Sample,
    SensorInfo,
)
from dashboard.store.records import AnyRecord, CameraStatus, CaseEvent, SensorReading


def dumps(v: Any) -> str:
    """Compact JSON."""
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))


@dataclass
class Dirty:
    """Input changes applied in memory and not yet written (values in their stored form)."""

    sensors: dict[str, str] = field(default_factory=dict)  # sensor -> [ts, value, metric, cell]
    cameras: dict[str, str] = field(default_factory=dict)  # camera -> [status, cell]
    events: dict[str, int] = field(default_factory=dict)  # [event, case, cell, cat, type, step, prio] -> ts
    overdue: dict[str, str] = field(default_factory=dict)  # case -> [cell, priority, stage, deadline]
    overdue_gone: set[str] = field(default_factory=set)
    trim_before: int | None = None

    def any(self) -> bool:
        """Whether there is something to write."""
        return bool(self.sensors or self.cameras or self.events or self.overdue or self.overdue_gone) or (
            self.trim_before is not None
        )


class Aggregates:
    """What the rules read, kept up to date record by record."""

    def __init__(
        self,
        areas: Areas,
        registered: Mapping[str, SensorInfo] | None = None,
        scale: float = 1.0,
        reopen_s: float = 600.0,
    ) -> None:
        """Start empty; ``registered`` sensors are expected (silent until they report)."""
        self.registered = dict(registered or {})
        self.sensors: dict[str, SensorInfo] = dict(self.registered)
        self.samples: dict[str, Sample] = {}
        self.counts: dict[str, CameraCount] = {}  # cameras by cell
        self.overdue: dict[str, OverdueCase] = {}
        self.camera: dict[str, tuple[str, str]] = {}  # camera id -> (status, cell)
        self.inputs = Inputs(areas, scale=scale, reopen_s=reopen_s)
        self.dirty = Dirty()
        self._bind()

    def _bind(self) -> None:
        """Point the rules' read-only view at the current aggregates."""
        inp = self.inputs
        inp.sensors, inp.samples, inp.cameras, inp.overdue = (
            self.sensors,
            self.samples,
            self.counts,
            self.overdue,
        )
        inp.reindex()

    # --- applying records ----------------------------------------------------------------------------

    def apply(self, rec: AnyRecord) -> None:
        """Apply one input record (a repeat changes nothing)."""
        if isinstance(rec, SensorReading):
            self._reading(rec)
        elif isinstance(rec, CameraStatus):
            self._camera(rec)
        else:
            self._event(rec)

    def _reading(self, rec: SensorReading) -> None:
        """A sensor's latest reading by arrival (the stream's order), as the processor keeps it: a reading
        stamped ahead by a wrong clock cannot hold its place against the readings after it. The time bounds
        (``store.validate.TimeBounds``) keep every reading counted here within minutes of now."""
        if rec.sensor_id not in self.sensors:
            self.sensors[rec.sensor_id] = SensorInfo.unregistered(rec.sensor_id, rec.metric, rec.cell_id)
            self.inputs.reindex()
        self.samples[rec.sensor_id] = Sample(rec.ts, rec.value)
        self.dirty.sensors[rec.sensor_id] = dumps([rec.ts, rec.value, rec.metric, rec.cell_id])

    def _camera(self, rec: CameraStatus) -> None:
        """A camera's change of state, moved between the per-cell counts."""
        before = self.camera.get(rec.camera_id)
        if before == (rec.status, rec.cell_id):
            return
        if before is not None:
            self.counts.setdefault(before[1], CameraCount()).add(before[0], -1)
        self.counts.setdefault(rec.cell_id, CameraCount()).add(rec.status, 1)
        self.camera[rec.camera_id] = (rec.status, rec.cell_id)
        self.dirty.cameras[rec.camera_id] = dumps([rec.status, rec.cell_id])

    def _event(self, rec: CaseEvent) -> None:
        """A case event into the window (each event id once)."""
        ev = CaseSeen(
            rec.ts,
            rec.event_id,
            rec.case_id,
            rec.cell_id,
            rec.category,
            rec.event_type,
            rec.step,
            rec.priority,
        )
        if self.inputs.events.add(ev):
            row = [ev.event_id, ev.case_id, ev.cell, ev.category, ev.event_type, ev.step, ev.priority]
            self.dirty.events[dumps(row)] = ev.ts

    def set_overdue(self, case: OverdueCase) -> None:
        """A case overdue now."""
        self.overdue[case.case_id] = case
        self.dirty.overdue[case.case_id] = dumps([case.cell, case.priority, case.stage, case.since])
        self.dirty.overdue_gone.discard(case.case_id)

    def drop_overdue(self, case_id: str) -> None:
        """A case no longer overdue (it moved on or closed)."""
        if self.overdue.pop(case_id, None) is not None:
            self.dirty.overdue.pop(case_id, None)
            self.dirty.overdue_gone.add(case_id)

    def trim(self, before: int) -> None:
        """Forget case events older than ``before``."""
        self.inputs.events.trim(before)
        self.dirty.trim_before = before

    # --- the stored form -----------------------------------------------------------------------------

    def load(
        self,
        sensors: Mapping[str, str],
        cameras: Mapping[str, str],
        events: list[tuple[str, float]],
        overdue: Mapping[str, str],
        watch_since: int,
    ) -> None:
        """Replace everything with what was stored (the hashes' and sorted set's contents)."""
        self.sensors = dict(self.registered)
        self.samples = {}
        for sid, raw in sensors.items():
            ts, value, metric, cell = json.loads(raw)
            self.samples[sid] = Sample(int(ts), float(value))
            if sid not in self.sensors:
                self.sensors[sid] = SensorInfo.unregistered(sid, metric, cell)
        self.camera, self.counts = {}, {}
        for cam, raw in cameras.items():
            status, cell = json.loads(raw)
            self.camera[cam] = (status, cell)
            self.counts.setdefault(cell, CameraCount()).add(status, 1)
        window = EventWindow()
        for member, score in events:
            eid, case, cell, cat, etype, step, prio = json.loads(member)
            window.add(CaseSeen(int(score), eid, case, cell, cat, etype, step, prio))
        self.overdue = {}
        for case, raw in overdue.items():
            cell, prio, stage, since = json.loads(raw)
            self.overdue[case] = OverdueCase(case, cell, prio, stage, int(since))
        self.inputs.events = window
        self.inputs.watch_since = watch_since
        self.dirty = Dirty()
        self._bind()
