"""``overdue``: at least ``min_count`` overdue cases in an area, or (``per: case``) each overdue case.

The processor writes a record to its overdue stream when a case's stage deadline passes; the engine
keeps the set of cases overdue now (a case leaves it when it moves on or closes). ``per: case`` with
``priority: urgent`` is "any urgent case overdue": one alert per case, resolved when the case moves on.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import Field, model_validator

from dashboard.alerts.inputs import Inputs
from dashboard.alerts.model import Cond, Observation
from dashboard.alerts.rules.base import FieldError, Rule, register_rule_config
from dashboard.domain.lifecycle import STAGES


@register_rule_config
class OverdueRule(Rule):
    """Overdue cases per area, or each one."""

    type: Literal["overdue"] = "overdue"
    per: Literal["case", "cell", "community", "subdistrict", "district"] = Field(
        "community", description="One alert per overdue case, or per area of this level."
    )
    min_count: int = Field(1, ge=1, description="Per area: fire at this many overdue cases.")
    clear_count: int | None = Field(
        None, ge=0, description="Per area: resolve below this many (default: min_count)."
    )
    priority: Literal["any", "normal", "urgent"] = Field("any", description="Only cases of this priority.")
    stages: list[str] = Field(default_factory=list, description="Only cases overdue in these stages.")

    @model_validator(mode="after")
    def _check(self) -> OverdueRule:
        """Counts make sense for the chosen ``per``; stages exist."""
        known = list(STAGES)
        for i, stage in enumerate(self.stages):
            if stage not in known:
                raise FieldError(f"stages.{i}", f"unknown stage {stage!r} (known: {', '.join(known)})")
        if self.per == "case" and self.min_count != 1:
            raise FieldError("min_count", "per: case fires for each case; leave min_count at 1")
        if self.clear_count is not None and self.clear_count > self.min_count:
            raise FieldError("clear_count", f"{self.clear_count} is above min_count {self.min_count}")
        self.no_registry_steps("count")
        if self.per == "case" and self.levels:
            raise FieldError("levels", "per: case has no count to step on")
        for i, s in enumerate(self.levels):
            if float(s.at) <= self.min_count:
                raise FieldError(f"levels.{i}.at", f"{s.at} is not above min_count {self.min_count}")
        return self

    def observe(self, inputs: Inputs, now: int) -> dict[str, Observation]:
        """Each matching overdue case, or their count per area."""
        areas = inputs.areas
        out: dict[str, Observation] = {}
        counts: dict[str, int] = {}
        stages = set(self.stages)
        for case in inputs.overdue.values():
            if self.priority != "any" and case.priority != self.priority:
                continue
            if stages and case.stage not in stages:
                continue
            if not areas.within(case.cell, self.area, self.tags):
                continue
            if self.per == "case":
                late_min = max(0, now - case.since) / 60_000
                when = datetime.fromtimestamp(case.since / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")
                reason = (
                    f"{case.priority} case {case.case_id} in {case.cell} overdue in {case.stage or '?'} "
                    f"since {when} ({late_min:.0f} min)"
                )
                out[case.case_id] = Observation(
                    case.case_id, "alerting", self.level, round(late_min, 1), reason, areas.path(case.cell)
                )
                continue
            key = areas.of(case.cell, self.per)
            if key is not None:
                counts[key] = counts.get(key, 0) + 1
        clear = self.min_count if self.clear_count is None else self.clear_count
        steps = self.numeric_steps()
        for key, n in counts.items():
            cond: Cond = "alerting" if n >= self.min_count else "ok" if n < clear else "hold"
            reason = f"{n} overdue cases in {key} (fires at {self.min_count})"
            out[key] = Observation(
                key, cond, self.level_for(n, steps), float(n), reason, areas.area_path(key)
            )
        return out
