"""``threshold``: a sensor metric at or above (or at or below) a value, with a separate clear value.

Per sensor (``per: sensor``, one alert per sensor) or per area (``per: cell|community|...``: all the
metric's sensors in each area, one alert per area; ``agg: any`` judges each sensor against its own
threshold, ``max``/``min``/``mean``/``median`` judge the aggregate). ``above``/``below``/``clear`` and
level steps take a number or ``warn``/``alarm``: each sensor's own registry threshold. A sensor whose
last reading is older than ``stale_after`` times its reporting interval gives no data, which keeps the
alert as it is (silence is not "normal").
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Literal

from pydantic import Field, model_validator

from dashboard.alerts.inputs import Inputs, SensorInfo
from dashboard.alerts.levels import LevelKey, rank
from dashboard.alerts.model import Cond, Observation
from dashboard.alerts.rules.base import Bound, FieldError, Metric, Rule, register_rule_config
from dashboard.domain.registry import METRIC_BY_NAME

_COND_ORDER: dict[Cond, int] = {"nodata": 0, "ok": 1, "hold": 2, "alerting": 3}
_AGG: dict[str, Callable[[list[float]], float]] = {
    "max": max,
    "min": min,
    "mean": statistics.fmean,
    "median": statistics.median,
}


@register_rule_config
class ThresholdRule(Rule):
    """A sensor metric past a value for ``for``; resolved past ``clear`` for ``clear_for``."""

    type: Literal["threshold"] = "threshold"
    metric: Metric = Field(description="The metric, as in the registry (water_level, gas, temperature...).")
    above: Bound | None = Field(None, description="Fire at or above this (a number, warn or alarm).")
    below: Bound | None = Field(None, description="Fire at or below this (instead of above).")
    clear: Bound | None = Field(
        None, description="Resolve only below (with below: above) this; default: the trigger value."
    )
    per: Literal["sensor", "cell", "community", "subdistrict", "district"] = Field(
        "sensor", description="One alert per sensor, or per area of this level."
    )
    agg: Literal["any", "max", "min", "mean", "median"] = Field(
        "any", description="Per area: any sensor past its threshold, or an aggregate of the values."
    )
    sensors: list[str] = Field(default_factory=list, description="Only these sensor ids.")
    stale_after: float = Field(
        3.0, gt=0, description="A reading older than this many reporting intervals is no data."
    )

    @model_validator(mode="after")
    def _check(self) -> ThresholdRule:
        """One of above/below; numbers in the metric's range; clear on the right side; agg with numbers."""
        if (self.above is None) == (self.below is None):
            raise FieldError("above", "set exactly one of above or below")
        spec = METRIC_BY_NAME[self.metric]
        for name in ("above", "below", "clear"):
            v = getattr(self, name)
            if isinstance(v, float | int) and not spec.lo <= v <= spec.hi:
                raise FieldError(name, f"{v:g} is outside {self.metric}'s range {spec.lo:g}..{spec.hi:g}")
        trigger = self.trigger
        if self.clear is not None and not _on_clear_side(self.clear, trigger, self.upward):
            side = "above" if self.upward else "below"
            raise FieldError("clear", f"{self.clear} must not be {side} the trigger value {trigger}")
        for i, s in enumerate(self.levels):
            if not _on_clear_side(trigger, s.at, self.upward):
                raise FieldError(f"levels.{i}.at", f"{s.at} is not past the trigger value {trigger}")
        if self.per == "sensor" and self.agg != "any":
            raise FieldError("agg", "only per area (per: cell, community, subdistrict or district)")
        if self.agg != "any":
            for name, v in (("above", self.above), ("below", self.below), ("clear", self.clear)):
                if isinstance(v, str):
                    raise FieldError(name, f"agg: {self.agg} compares one value: want a number, not {v!r}")
            self.no_registry_steps("number")
        return self

    @property
    def upward(self) -> bool:
        """True for ``above`` rules."""
        return self.above is not None

    @property
    def trigger(self) -> Bound:
        """The trigger value (``above`` or ``below``)."""
        v = self.above if self.above is not None else self.below
        assert v is not None
        return v

    # --- evaluation -----------------------------------------------------------------------------

    def _judge(self, v: float, info: SensorInfo | None) -> tuple[Cond, LevelKey, str]:
        """Condition, warranted level and the comparison that decided it (``info`` resolves warn/alarm)."""
        t = _resolve(self.trigger, info)
        c = _resolve(self.clear if self.clear is not None else self.trigger, info)
        steps = [(_resolve(s.at, info), s.level) for s in self.levels]
        if self.upward:
            cond: Cond = "alerting" if v >= t else "ok" if v < c else "hold"
            why = {"alerting": f">= {t:g}", "ok": f"< {c:g}", "hold": f"below {t:g}, not yet below {c:g}"}
        else:
            cond = "alerting" if v <= t else "ok" if v > c else "hold"
            why = {"alerting": f"<= {t:g}", "ok": f"> {c:g}", "hold": f"above {t:g}, not yet above {c:g}"}
        return cond, self.level_for(v, steps, self.upward), why[cond]

    def observe(self, inputs: Inputs, now: int) -> dict[str, Observation]:
        """Judge each matching sensor's latest fresh reading; per area, combine them."""
        unit = METRIC_BY_NAME[self.metric].unit
        wanted = set(self.sensors)
        per_sensor: dict[str, Observation] = {}
        groups: dict[str, list[tuple[SensorInfo, float | None]]] = {}
        areas = inputs.areas
        for info in inputs.by_metric.get(self.metric, ()):
            if wanted and info.id not in wanted:
                continue
            if not areas.within(info.cell, self.area, self.tags):
                continue
            sample = inputs.samples.get(info.id)
            fresh = sample is not None and now - sample.ts <= self.stale_after * info.interval_s * 1000
            value = sample.value if fresh and sample is not None else None
            if self.per == "sensor":
                per_sensor[info.id] = self._one(info, value, unit, areas.path(info.cell))
            else:
                key = areas.of(info.cell, self.per)
                if key is not None:
                    groups.setdefault(key, []).append((info, value))
        if self.per == "sensor":
            return per_sensor
        return {key: self._area(key, members, unit, areas.area_path(key)) for key, members in groups.items()}

    def _one(self, info: SensorInfo, value: float | None, unit: str, where: tuple[str, ...]) -> Observation:
        """The observation of one sensor."""
        if value is None:
            return Observation(info.id, "nodata", self.level, None, f"{info.id}: no recent reading", where)
        cond, level, why = self._judge(value, info)
        reason = f"{self.metric} {value:g} {unit} at {info.id} ({why})"
        return Observation(info.id, cond, level, value, reason, where)

    def _area(
        self,
        key: str,
        members: list[tuple[SensorInfo, float | None]],
        unit: str,
        where: tuple[str, ...],
    ) -> Observation:
        """The observation of one area from its sensors."""
        fresh = [(info, v) for info, v in members if v is not None]
        if not fresh:
            return Observation(
                key, "nodata", self.level, None, f"{key}: no recent {self.metric} reading", where
            )
        if self.agg != "any":
            values = [v for _, v in fresh]
            value = float(_AGG[self.agg](values))
            cond, level, why = self._judge(value, None)
            reason = f"{self.agg} {self.metric} {value:.4g} {unit} of {len(values)} sensors in {key} ({why})"
            return Observation(key, cond, level, value, reason, where)
        judged = [(info, v, *self._judge(v, info)) for info, v in fresh]
        worst = max(judged, key=lambda j: (_COND_ORDER[j[2]], rank(j[3]), j[1] if self.upward else -j[1]))
        info, v, cond, _, why = worst
        levels = [j[3] for j in judged if j[2] != "ok"] or [self.level]
        level = max(levels, key=rank)
        n_past = sum(1 for j in judged if j[2] == "alerting")
        reason = f"{self.metric} {v:g} {unit} at {info.id} ({why}); {n_past} of {len(fresh)} sensors past"
        return Observation(key, cond, level, v, reason, where)


def _resolve(b: Bound, info: SensorInfo | None) -> float:
    """A bound's number: itself, or the sensor's registry threshold."""
    if isinstance(b, str):
        if info is None:
            raise ValueError(f"{b!r} needs a sensor")
        return info.warn if b == "warn" else info.alarm
    return float(b)


def _on_clear_side(a: Bound, b: Bound, upward: bool) -> bool:
    """Whether ``a`` is at or on the clear side of ``b`` (below it for upward rules).

    Registry names compare as warn <= alarm; a number and a name cannot be compared statically.
    """
    if isinstance(a, str) and isinstance(b, str):
        order = {"warn": 0, "alarm": 1}
        return order[a] <= order[b] if upward else order[a] >= order[b]
    if isinstance(a, str) or isinstance(b, str):
        return True
    return a <= b if upward else a >= b
