"""``rate``: at least ``count`` cases matching a filter in one area within a sliding ``window``.

E.g. three dispute reports in one grid cell within two hours. Cases are counted once each however many
of their events match (a case reported and escalated in the window is one case). The window slides
with the clock: as events age out the count falls and the alert resolves (after ``clear_for``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from dashboard.alerts.inputs import Inputs
from dashboard.alerts.model import Cond, Observation
from dashboard.alerts.rules.base import Duration, FieldError, Per, Rule, register_rule_config
from dashboard.domain.catalogue import default_catalogue
from dashboard.domain.lifecycle import CaseStep


@register_rule_config
class RateRule(Rule):
    """Count distinct cases per area in a sliding window."""

    type: Literal["rate"] = "rate"
    per: Per = Field("cell", description="One alert per area of this level.")
    count: int = Field(ge=1, description="Fire at this many cases in the window.")
    window: Duration = Field(gt=0, description="The sliding window, e.g. 2h.")
    clear_count: int | None = Field(
        None, ge=0, description="Resolve below this many (default: count); between the two it holds."
    )
    category: list[str] = Field(default_factory=list, description="Only these categories (e.g. disputes).")
    types: list[str] = Field(
        default_factory=list, description="Only these event type codes (a trailing * matches a prefix)."
    )
    steps: list[CaseStep] = Field(["reported"], min_length=1, description="Which case steps count.")
    priority: Literal["any", "normal", "urgent"] = Field("any", description="Only cases of this priority.")

    @field_validator("category", "types", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        """A single value is a list of one."""
        return [v] if isinstance(v, str) else v

    @field_validator("category")
    @classmethod
    def _known_categories(cls, v: list[str]) -> list[str]:
        """Every category must be in the catalogue."""
        known = default_catalogue().categories
        for c in v:
            if c not in known:
                raise ValueError(f"unknown category {c!r} (known: {', '.join(known)})")
        return v

    @field_validator("types")
    @classmethod
    def _known_types(cls, v: list[str]) -> list[str]:
        """Every code (or prefix*) must match the catalogue."""
        codes = default_catalogue().event_types
        for t in v:
            if not any(_matches(t, code) for code in codes):
                raise ValueError(f"{t!r} matches no event type of the catalogue (e.g. DS-0101, DS-*)")
        return v

    @model_validator(mode="after")
    def _check(self) -> RateRule:
        """The clear count is at most the count; level steps are counts above it."""
        if self.clear_count is not None and self.clear_count > self.count:
            raise FieldError("clear_count", f"{self.clear_count} is above count {self.count}")
        self.no_registry_steps("count")
        for i, s in enumerate(self.levels):
            if float(s.at) <= self.count:
                raise FieldError(f"levels.{i}.at", f"{s.at} is not above count {self.count}")
        return self

    def observe(self, inputs: Inputs, now: int) -> dict[str, Observation]:
        """Distinct matching cases per area among the events of the window ending now."""
        window_ms = round(self.window * 1000 / inputs.scale)
        start = now - window_ms  # inclusive: an event exactly one window ago still counts
        areas = inputs.areas
        steps, cats, prio = set(self.steps), set(self.category), self.priority
        cases: dict[str, set[str]] = {}
        for ev in inputs.events.since(start):
            if ev.step not in steps or (cats and ev.category not in cats):
                continue
            if prio != "any" and ev.priority != prio:
                continue
            if self.types and not any(_matches(t, ev.event_type) for t in self.types):
                continue
            if not areas.within(ev.cell, self.area, self.tags):
                continue
            key = areas.of(ev.cell, self.per)
            if key is not None:
                cases.setdefault(key, set()).add(ev.case_id)
        clear = self.count if self.clear_count is None else self.clear_count
        what = f" ({'/'.join(self.category)})" if self.category else ""
        out: dict[str, Observation] = {}
        steps_list = self.numeric_steps()
        for key, ids in cases.items():
            n = len(ids)
            cond: Cond = "alerting" if n >= self.count else "ok" if n < clear else "hold"
            reason = f"{n} cases{what} in {key} within {_span(self.window)} (fires at {self.count})"
            out[key] = Observation(
                key, cond, self.level_for(n, steps_list), float(n), reason, areas.area_path(key)
            )
        return out


def _matches(pattern: str, code: str) -> bool:
    """An event type code against a code or a ``prefix*``."""
    return code.startswith(pattern[:-1]) if pattern.endswith("*") else code == pattern


def _span(seconds: float) -> str:
    """A duration for messages: 2 h, 30 min, 45 s."""
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    if seconds >= 60:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"
