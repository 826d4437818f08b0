"""The alert engine's configuration: its consumer group, timing, and the rules (each by its type)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from dashboard.alerts.rules import load_rules  # registers every rule type
from dashboard.alerts.rules.base import RuleConfig
from dashboard.domain.types import ConfigModel


class AlertsConfig(ConfigModel):
    """The alert rule engine (docs/ALERTS.md): its consumer group, timing, and the rules."""

    enabled: bool = Field(True, description="Run the alert engine (beside the processor).")
    group: str = Field("alerts", min_length=1, description="Consumer group name on the input streams.")
    consumer: str | None = Field(None, description="This engine's consumer name; default: host name.")
    rules: list[RuleConfig] | None = Field(
        None, description="The rule set, each with its type; unset: dashboard/alerts/defaults.yaml."
    )
    eval_interval_ms: int = Field(1000, ge=100, le=60000, description="Rules are evaluated this often.")
    batch_size: int = Field(1000, ge=1, le=10000, description="Input entries read per batch.")
    reopen_window_s: float = Field(
        600, ge=0, description="A resolved alert firing again within this long re-opens the same alert."
    )
    lookback_h: float = Field(
        24, gt=0, le=168, description="The longest rate window allowed (case events are kept that long)."
    )
    time_scale: float = Field(
        1.0,
        gt=0,
        le=10000,
        description="Divide every rule duration by this (set it to simulator.speed for a compressed demo).",
    )
    history_maxlen: int = Field(100_000, ge=1000, description="Transitions kept in the history stream.")
    command_timeout_s: float = Field(
        5.0, gt=0, le=60, description="How long an acknowledge or silence waits for the engine's answer."
    )
    lease_s: float = Field(
        10, ge=1, le=300, description="One engine runs at a time, holding a lease this long."
    )

    @field_validator("rules", mode="before")
    @classmethod
    def _rules_by_type(cls, v: Any) -> list[RuleConfig] | None:
        """Validate each rule with its own type's model (an error names the rule and the field)."""
        if v is None:
            return None
        return list(load_rules(v, source=""))
