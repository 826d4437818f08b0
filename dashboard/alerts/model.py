"""The alert engine's typed values: what a rule observes, an alert instance's state, a transition.

Everything here is immutable and JSON-serialisable; the pure functions of ``dashboard.alerts.machine``
map them to one another, and ``dashboard.alerts.store`` keeps them in Redis.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field

from dashboard.alerts.levels import LevelKey, rank

Cond: TypeAlias = Literal["alerting", "hold", "ok", "nodata"]
"""What a rule sees for one instance: past its trigger; between trigger and clear value (hysteresis
band: keep the current state); past its clear value; or no usable data (not "normal": keep the state)."""

State: TypeAlias = Literal["pending", "firing", "acknowledged", "resolved"]
Status: TypeAlias = Literal["normal", "pending", "firing", "acknowledged", "silenced", "resolved"]
STATUSES: tuple[Status, ...] = ("normal", "pending", "firing", "acknowledged", "silenced", "resolved")
ENGINE_ACTOR = "engine"


@dataclass(frozen=True)
class Observation:
    """One instance's condition as a rule evaluated it at one moment."""

    key: str  # what the instance is about: an area, sensor, case or feed id
    cond: Cond
    level: LevelKey  # the level the values warrant now (the rule's level or a higher step)
    value: float | None
    reason: str  # one line, e.g. "water_level 0.34 m >= 0.30 m at SEN-0123"
    areas: tuple[str, ...] = ()  # where: cell, community, subdistrict, district (as known)


@dataclass(frozen=True)
class Policy:
    """A rule's timing, in milliseconds (already divided by the engine's time scale)."""

    level: LevelKey
    for_ms: int = 0  # the condition must hold this long before firing
    clear_for_ms: int = 0  # ... and be clear this long before resolving
    deescalate_ms: int = 0  # a lower warranted level must hold this long before the level drops
    reopen_ms: int = 600_000  # firing again within this long after resolving re-opens the same alert
    escalate: tuple[tuple[int, LevelKey], ...] = ()  # (after ms of firing, level), ascending


@dataclass(frozen=True)
class Result:
    """A rule's evaluation: its policy and an observation per instance (absent instances are ``ok``)."""

    rule: str
    policy: Policy
    observations: Mapping[str, Observation]
    title_zh: str = ""
    title_en: str = ""

    def instance_id(self, key: str) -> str:
        """The id of the instance about ``key``: ``<rule>:<key>``."""
        return f"{self.rule}:{key}"


@dataclass(frozen=True)
class AlertState:
    """One alert instance (absent = normal). Stored as JSON in ``contract.ALERT_STATE``."""

    id: str
    rule: str
    key: str
    state: State
    level: LevelKey
    since: int  # when the current state was entered (epoch ms)
    started: int  # when this episode began (first pending)
    fired: int | None = None  # when this episode first fired
    episode: int = 1  # counts episodes of this instance; a re-open keeps the episode
    reopens: int = 0
    areas: tuple[str, ...] = ()
    value: float | None = None
    reason: str = ""
    title_zh: str = ""
    title_en: str = ""
    clear_since: int | None = None  # clear (past the clear value) since, while firing
    lower_since: int | None = None  # a lower level warranted since, while firing
    reopening: bool = False  # pending again within the re-open window of a resolved episode
    resolved_at: int | None = None
    acked_by: str | None = None
    acked_at: int | None = None
    ack_note: str = ""
    silenced_until: int | None = None
    silenced_by: str | None = None
    silence_reason: str = ""
    silenced_at: int | None = None  # when the silence was set (its length: silenced_until - silenced_at)
    updated: int = 0
    rev: int = 0  # bumped on every write, by the engine or a person

    @property
    def status(self) -> Status:
        """What the screen shows: the state, or ``silenced`` for a muted firing alert."""
        if self.silenced_until is not None and self.state in ("firing", "acknowledged"):
            return "silenced"
        return self.state

    @property
    def active(self) -> bool:
        """Firing (acknowledged or silenced too): listed among the active alerts."""
        return self.state in ("firing", "acknowledged")

    def to_json(self) -> str:
        """Compact JSON for the state hash."""
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> AlertState:
        """Parse the state hash's JSON (unknown keys of other versions are ignored)."""
        d = json.loads(raw)
        known = {x.name for x in fields(cls)}
        d = {k: v for k, v in d.items() if k in known}
        d["areas"] = tuple(d.get("areas") or ())
        return cls(**d)

    def public(self) -> dict[str, Any]:
        """What pages and the API show of this alert."""
        d = asdict(self)
        for k in ("clear_since", "lower_since", "reopening", "rev"):
            del d[k]
        d["status"] = self.status
        d["area"] = self.areas[0] if self.areas else None
        d["areas"] = list(self.areas)
        return d


@dataclass(frozen=True)
class Transition:
    """One change of an alert's status or level, as appended to the history stream."""

    ts: int
    instance: str
    rule: str
    episode: int
    from_status: Status
    to_status: Status
    level: LevelKey
    from_level: LevelKey | None
    reason: str
    value: float | None = None
    actor: str = ENGINE_ACTOR
    note: str = ""
    areas: tuple[str, ...] = field(default_factory=tuple)
    until: int | None = None  # a silence: until when (epoch ms)

    def to_fields(self) -> dict[str, str]:
        """History stream entry fields: the filterable ones flat, everything in ``d``."""
        return {
            "rule": self.rule,
            "level": self.level,
            "d": json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":")),
        }

    def public(self) -> dict[str, Any]:
        """The transition as JSON-able data (the API's and the pages' form)."""
        d = asdict(self)
        d["areas"] = list(self.areas)
        return d

    @classmethod
    def from_fields(cls, f: Mapping[str, str]) -> Transition:
        """Parse a history stream entry (unknown keys of other versions are ignored)."""
        d = json.loads(f["d"])
        known = {x.name for x in fields(cls)}
        d = {k: v for k, v in d.items() if k in known}
        d["areas"] = tuple(d.get("areas") or ())
        return cls(**d)


class AlertDelta(BaseModel):
    """Alert changes as published on ``keys.STREAM_ALERTS`` (a web process pushes them to pages)."""

    model_config = ConfigDict(extra="forbid")

    seq: int = Field(ge=1, description="Consecutive; a gap means a lost change: reload GET /api/v1/alerts.")
    ts: int = Field(description="When it was written (epoch ms).")
    alerts: list[dict[str, Any]] = Field(
        default_factory=list, description="Each changed alert, whole (AlertState.public())."
    )
    removed: list[str] = Field(default_factory=list, description="Alerts back to normal (gone).")
    transitions: list[dict[str, Any]] = Field(
        default_factory=list, description="The transitions behind the change, oldest first."
    )

    def to_fields(self) -> dict[str, str]:
        """Stream entry fields of this change."""
        return {"d": self.model_dump_json()}

    @classmethod
    def from_fields(cls, f: Mapping[str, str]) -> AlertDelta:
        """Parse a stream entry."""
        return cls.model_validate(json.loads(f["d"]))


_RANK_SPAN = 10**13  # larger than any epoch-ms time


def active_score(st: AlertState) -> float:
    """Sort key of the active alerts: the highest level first, then the newest first."""
    return -float(rank(st.level) * _RANK_SPAN + (st.fired or st.started))
