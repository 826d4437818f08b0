"""``offline``: more than ``above_percent`` of an area's cameras (or sensors) down, e.g. a power cut.

Cameras count as down in the listed statuses (offline and fault by default); a sensor counts as down
when silent for longer than ``silent_after`` times its reporting interval (a sensor never heard from
since the engine began watching is silent since then). Areas with fewer than ``min_devices`` known
devices are not judged: two cameras of which one is down is not a blackout.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from dashboard.alerts.inputs import Inputs
from dashboard.alerts.model import Cond, Observation
from dashboard.alerts.rules.base import FieldError, Metric, Per, Rule, register_rule_config


@register_rule_config
class OfflineRule(Rule):
    """The share of devices down per area."""

    type: Literal["offline"] = "offline"
    target: Literal["camera", "sensor"] = Field(description="Which devices: camera or sensor.")
    per: Per = Field("community", description="One alert per area of this level.")
    above_percent: float = Field(gt=0, le=100, description="Fire when more than this share is down.")
    clear_below_percent: float | None = Field(
        None, ge=0, le=100, description="Resolve at or below this share (default: above_percent)."
    )
    min_devices: int = Field(5, ge=1, description="Areas with fewer known devices are not judged.")
    statuses: list[Literal["offline", "fault"]] = Field(
        ["offline", "fault"], min_length=1, description="Camera statuses that count as down."
    )
    silent_after: float = Field(3.0, gt=0, description="Sensors: silent this many intervals = down.")
    metrics: list[Metric] = Field(default_factory=list, description="Sensors: only these metrics.")

    @model_validator(mode="after")
    def _check(self) -> OfflineRule:
        """The clear share is at most the trigger; level steps are percents above it."""
        if self.clear_below_percent is not None and self.clear_below_percent > self.above_percent:
            raise FieldError("clear_below_percent", f"{self.clear_below_percent:g} is above above_percent")
        if self.metrics and self.target != "sensor":
            raise FieldError("metrics", "only for target: sensor")
        self.no_registry_steps("percent")
        for i, s in enumerate(self.levels):
            if float(s.at) <= self.above_percent:
                raise FieldError(f"levels.{i}.at", f"{s.at} is not above above_percent")
        return self

    def observe(self, inputs: Inputs, now: int) -> dict[str, Observation]:
        """Devices known and down per area; the share down against the limits."""
        areas = inputs.areas
        counts: dict[str, list[int]] = {}  # area -> [known, down]
        if self.target == "camera":
            for cell, cc in inputs.cameras.items():
                if not areas.within(cell, self.area, self.tags):
                    continue
                key = areas.of(cell, self.per)
                if key is None:
                    continue
                acc = counts.setdefault(key, [0, 0])
                acc[0] += cc.total()
                acc[1] += sum(getattr(cc, s) for s in self.statuses)
        else:
            wanted = set(self.metrics)
            for info in inputs.sensors.values():
                if wanted and info.metric not in wanted:
                    continue
                if not areas.within(info.cell, self.area, self.tags):
                    continue
                key = areas.of(info.cell, self.per)
                if key is None:
                    continue
                sample = inputs.samples.get(info.id)
                last = sample.ts if sample is not None else inputs.watch_since
                acc = counts.setdefault(key, [0, 0])
                acc[0] += 1
                acc[1] += now - last > self.silent_after * info.interval_s * 1000
        clear = self.above_percent if self.clear_below_percent is None else self.clear_below_percent
        steps = self.numeric_steps()
        out: dict[str, Observation] = {}
        noun = "cameras" if self.target == "camera" else "sensors"
        for key, (known, down) in counts.items():
            if known < self.min_devices:
                continue
            pct = 100.0 * down / known
            cond: Cond = "alerting" if pct > self.above_percent else "ok" if pct <= clear else "hold"
            reason = (
                f"{down} of {known} {noun} down in {key}: {pct:.0f} % (fires above {self.above_percent:g} %)"
            )
            out[key] = Observation(
                key, cond, self.level_for(pct, steps), round(pct, 1), reason, areas.area_path(key)
            )
        return out
