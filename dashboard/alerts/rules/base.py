"""What every alert rule shares: name, level, timing (``for``, ``clear_for``, escalation), area filters.

A rule type is one module of this package: a model subclassing ``Rule`` with ``type: Literal[...]``,
decorated with ``register_rule_config``, implementing ``observe`` (a pure function of
the inputs and the time: one ``Observation`` per instance). ``dashboard/alerts/rules/__init__.py``
imports every module.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from dashboard.alerts.inputs import Areas, Inputs
from dashboard.alerts.levels import LevelKey, rank
from dashboard.alerts.model import Observation, Policy
from dashboard.domain.registry import METRIC_BY_NAME, METRICS
from dashboard.domain.types import ConfigModel


class RuleConfig(ConfigModel):
    """Base of an alert rule's config: ``type`` picks the module (dashboard/alerts/rules/<type>.py)."""

    type: str = Field(description="The rule type (registered by its module).")
    name: str = Field(
        pattern=r"^[a-z0-9][a-z0-9_-]{0,47}$",
        description="Unique rule name (lower-case letters, digits, - and _); alert ids start with it.",
    )
    enabled: bool = Field(True, description="Evaluate this rule.")


RULE_TYPES: dict[str, type[RuleConfig]] = {}


def register_rule_config(cls: type[RuleConfig]) -> type[RuleConfig]:
    """Class decorator: make an alert rule type known by its ``type`` literal."""
    default = cls.model_fields["type"].default
    if not isinstance(default, str):
        raise TypeError(f"{cls.__name__}.type needs a Literal default, e.g. type: Literal['rate'] = 'rate'")
    RULE_TYPES[default] = cls
    return cls


_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")


def parse_duration(v: Any) -> float:
    """Seconds from a number of seconds or a text like ``90s``, ``5m``, ``2h``, ``1h30m``, ``1d``."""
    if isinstance(v, bool):
        raise ValueError("want a duration such as 90s, 5m, 2h or a number of seconds")
    if isinstance(v, int | float):
        if v < 0:
            raise ValueError("must not be negative")
        return float(v)
    if isinstance(v, str):
        text = v.strip().replace(" ", "")
        if text and _PART.sub("", text) == "":
            return sum(float(n) * _UNITS[u] for n, u in _PART.findall(text))
    raise ValueError(f"want a duration such as 90s, 5m, 2h or a number of seconds, got {v!r}")


def known_metric(v: str) -> str:
    """A metric the sensor registry knows (``water_level``, ``gas``...), or a ValueError naming them."""
    if v not in METRIC_BY_NAME:
        raise ValueError(f"unknown metric {v!r} (known: {', '.join(m.metric for m in METRICS)})")
    return v


Duration = Annotated[float, BeforeValidator(parse_duration)]
Metric = Annotated[str, AfterValidator(known_metric)]
Bound: TypeAlias = float | Literal["warn", "alarm"]  # a number, or each sensor's registry threshold
Per: TypeAlias = Literal["cell", "community", "subdistrict", "district"]


class FieldError(ValueError):
    """A rule field that is wrong: ``field`` is its dotted path."""

    def __init__(self, field: str, message: str) -> None:
        """``str(err)`` is ``"<field>: <message>"``."""
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class _Part(BaseModel):
    """Base of a rule's nested entries (strict like every config model)."""

    model_config = ConfigDict(extra="forbid")


class Escalation(_Part):
    """Raise the level once the alert has been firing this long while its condition still holds."""

    after: Duration = Field(gt=0, description="How long firing before the level rises.")
    level: LevelKey = Field(description="The level it rises to.")


class LevelStep(_Part):
    """A higher level while the value (or count, or percent) is at or past ``at``."""

    at: Bound = Field(description="The value, count or percent from which this level applies.")
    level: LevelKey = Field(description="The level warranted from there.")


class Rule(RuleConfig):
    """Fields every rule has. Durations are ``90s``/``5m``/``2h`` or seconds."""

    model_config = ConfigDict(populate_by_name=True)

    title_zh: str = Field("", max_length=64, description="Title on screen (Chinese).")
    title_en: str = Field("", max_length=96, description="Title on screen (English).")
    description: str = Field("", max_length=500, description="What it means and whom it concerns.")
    level: LevelKey = Field("yellow", description="Level when it fires: blue, yellow, orange or red.")
    for_: Duration = Field(0.0, alias="for", description="The condition must hold this long to fire.")
    clear_for: Duration | None = Field(
        None, description="Past the clear value this long to resolve; default: the same as `for`."
    )
    escalate_after: list[Escalation] = Field(
        default_factory=list, description="Higher levels after firing this long while it holds."
    )
    deescalate_for: Duration | None = Field(
        None, description="A lower warranted level must hold this long to step down; default: clear_for."
    )
    reopen_window: Duration | None = Field(
        None, description="Firing again within this long after resolving re-opens it; default: the engine's."
    )
    levels: list[LevelStep] = Field(default_factory=list, description="Higher levels by value, ascending.")
    area: str | None = Field(None, description="Only inside this area (any level's id).")
    tags: list[str] = Field(default_factory=list, description="Only in cells with one of these tags.")

    @model_validator(mode="after")
    def _check_levels(self) -> Rule:
        """Escalations and level steps must go up from the rule's level, in order."""
        last = rank(self.level)
        prev_after = 0.0
        for i, e in enumerate(self.escalate_after):
            if rank(e.level) <= last:
                raise FieldError(f"escalate_after.{i}.level", f"{e.level} is not above {self.level}")
            if e.after <= prev_after:
                raise FieldError(f"escalate_after.{i}.after", "must be longer than the step before")
            last, prev_after = rank(e.level), e.after
        last = rank(self.level)
        for i, s in enumerate(self.levels):
            if rank(s.level) <= last:
                raise FieldError(f"levels.{i}.level", f"{s.level} is not above the level before it")
            last = rank(s.level)
        return self

    # --- what subclasses implement ------------------------------------------------------------

    def observe(self, inputs: Inputs, now: int) -> dict[str, Observation]:
        """One observation per instance (keyed by the instance's key) at ``now``."""
        raise NotImplementedError

    def check_areas(self, areas: Areas) -> None:
        """Check area ids and tags against the district's areas (ValueError naming the field)."""
        if self.area is not None and self.area not in areas.level:
            raise FieldError("area", f"unknown area id {self.area!r}")
        for i, tag in enumerate(self.tags):
            if tag not in areas.tags:
                raise FieldError(
                    f"tags.{i}", f"no cell has tag {tag!r} (known: {', '.join(sorted(areas.tags))})"
                )

    # --- shared helpers -----------------------------------------------------------------------

    def policy(self, scale: float = 1.0, reopen_s: float = 600.0) -> Policy:
        """The rule's timing in milliseconds, divided by the time ``scale``."""

        def ms(seconds: float) -> int:
            return round(seconds * 1000 / scale)

        clear_for = self.for_ if self.clear_for is None else self.clear_for
        deescalate = clear_for if self.deescalate_for is None else self.deescalate_for
        reopen = reopen_s if self.reopen_window is None else self.reopen_window
        return Policy(
            level=self.level,
            for_ms=ms(self.for_),
            clear_for_ms=ms(clear_for),
            deescalate_ms=ms(deescalate),
            reopen_ms=ms(reopen),
            escalate=tuple((ms(e.after), e.level) for e in self.escalate_after),
        )

    def level_for(
        self, value: float, steps: Sequence[tuple[float, LevelKey]], upward: bool = True
    ) -> LevelKey:
        """The level ``value`` warrants: the highest step it reaches (at or past), else the rule's."""
        out: LevelKey = self.level
        for at, level in steps:
            if (value >= at) if upward else (value <= at):
                out = level
        return out

    def numeric_steps(self) -> list[tuple[float, LevelKey]]:
        """The level steps whose ``at`` is a number."""
        return [(float(s.at), s.level) for s in self.levels if not isinstance(s.at, str)]

    def no_registry_steps(self, what: str) -> None:
        """Reject ``warn``/``alarm`` in level steps of rules that count (ValueError naming the field)."""
        for i, s in enumerate(self.levels):
            if isinstance(s.at, str):
                raise FieldError(f"levels.{i}.at", f"want a {what}, not {s.at!r}")
