"""``stale``: a feed or a sensor silent for longer than it should be (no data is a state, not "normal").

Feeds: the heartbeat (or the last record) in the feed's health hash (``contract.feed_key``), every feed
in ``contract.FEEDS`` unless ``feeds`` names some; a named feed that never reported is silent since the
engine began watching. Sensors: the last reading, against ``max_silence`` or ``factor`` times the
sensor's reporting interval; one alert per sensor, or per area (``min_count`` silent sensors).
Silence limits are wall-clock facts of the devices: the engine's time scale does not shorten them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from dashboard.alerts.inputs import Inputs
from dashboard.alerts.model import Cond, Observation
from dashboard.alerts.rules.base import Duration, FieldError, Metric, Rule, register_rule_config


@register_rule_config
class StaleRule(Rule):
    """A feed or sensors gone quiet."""

    type: Literal["stale"] = "stale"
    target: Literal["feed", "sensor"] = Field(description="What must keep talking: feed or sensor.")
    feeds: list[str] = Field(default_factory=list, description="Feeds: these names (default: every feed).")
    watch: Literal["heartbeat", "records"] = Field(
        "heartbeat", description="Feeds: the heartbeat (alive) or the last record (data flowing)."
    )
    max_silence: Duration | None = Field(
        None, gt=0, description="Silent longer than this; feeds default 60 s, sensors factor x interval."
    )
    factor: float = Field(3.0, gt=0, description="Sensors: silent longer than this many intervals.")
    per: Literal["sensor", "cell", "community", "subdistrict", "district"] = Field(
        "sensor", description="Sensors: one alert per sensor, or per area of this level."
    )
    min_count: int = Field(1, ge=1, description="Per area: fire at this many silent sensors.")
    metrics: list[Metric] = Field(default_factory=list, description="Sensors: only these metrics.")

    @model_validator(mode="after")
    def _check(self) -> StaleRule:
        """Feed rules take no sensor or area options; nobody steps levels on silence."""
        if self.target == "feed":
            for name in ("metrics", "tags"):
                if getattr(self, name):
                    raise FieldError(name, "only for target: sensor")
            if self.area is not None:
                raise FieldError("area", "only for target: sensor")
            if self.per != "sensor" or self.min_count != 1:
                raise FieldError("per" if self.per != "sensor" else "min_count", "only for target: sensor")
        elif self.feeds:
            raise FieldError("feeds", "only for target: feed")
        if self.levels:
            raise FieldError("levels", "a stale rule has no value to step on (use escalate_after)")
        return self

    def observe(self, inputs: Inputs, now: int) -> dict[str, Observation]:
        """How long each feed or sensor has been silent."""
        return self._feeds(inputs, now) if self.target == "feed" else self._sensors(inputs, now)

    def _feeds(self, inputs: Inputs, now: int) -> dict[str, Observation]:
        """Feeds silent longer than ``max_silence`` (default 60 s)."""
        limit_ms = round((self.max_silence or 60.0) * 1000)
        out: dict[str, Observation] = {}
        for name in self.feeds or sorted(inputs.feeds):
            beat = inputs.feeds.get(name)
            last = (
                None
                if beat is None
                else beat.heartbeat_ms
                if self.watch == "heartbeat"
                else beat.last_record_ms
            )
            age = now - (last if last is not None else inputs.watch_since)
            cond: Cond = "alerting" if age > limit_ms else "ok"
            what = "heartbeat" if self.watch == "heartbeat" else "record"
            never = " (never heard from)" if last is None else ""
            reason = f"feed {name}: no {what} for {age / 1000:.0f} s (limit {limit_ms / 1000:g} s){never}"
            out[name] = Observation(name, cond, self.level, round(age / 1000, 1), reason, ())
        return out

    def _sensors(self, inputs: Inputs, now: int) -> dict[str, Observation]:
        """Sensors silent too long, each or counted per area."""
        areas = inputs.areas
        wanted = set(self.metrics)
        out: dict[str, Observation] = {}
        silent: dict[str, list[str]] = {}
        known: dict[str, int] = {}
        for info in inputs.sensors.values():
            if wanted and info.metric not in wanted:
                continue
            if not areas.within(info.cell, self.area, self.tags):
                continue
            sample = inputs.samples.get(info.id)
            last = sample.ts if sample is not None else inputs.watch_since
            limit_ms = (
                round(self.max_silence * 1000) if self.max_silence else self.factor * info.interval_s * 1000
            )
            age = now - last
            quiet = age > limit_ms
            if self.per == "sensor":
                cond: Cond = "alerting" if quiet else "ok"
                silent_s, limit_s = age / 1000, limit_ms / 1000
                reason = f"{info.metric} sensor {info.id} silent for {silent_s:.0f} s (limit {limit_s:g} s)"
                out[info.id] = Observation(
                    info.id, cond, self.level, round(age / 1000, 1), reason, areas.path(info.cell)
                )
                continue
            key = areas.of(info.cell, self.per)
            if key is None:
                continue
            known[key] = known.get(key, 0) + 1
            if quiet:
                silent.setdefault(key, []).append(info.id)
        for key, n in known.items():
            ids = silent.get(key, [])
            cond = "alerting" if len(ids) >= self.min_count else "ok"
            shown = ", ".join(sorted(ids)[:5]) + (" ..." if len(ids) > 5 else "")
            reason = f"{len(ids)} of {n} sensors silent in {key}" + (f": {shown}" if ids else "")
            out[key] = Observation(key, cond, self.level, float(len(ids)), reason, areas.area_path(key))
        return out
