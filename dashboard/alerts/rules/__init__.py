"""Alert rule types, one module each, and ``load_rules``: a rule set validated as a whole.

Importing this package registers every rule type (``dashboard.config.RULE_TYPES``). A new type is a new
module here (a ``Rule`` subclass with ``type: Literal[...]``, decorated with ``register_rule_config``)
plus its import below; nothing else lists the types.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from dashboard.alerts.inputs import Areas
from dashboard.alerts.rules import offline, overdue, rate, stale, threshold
from dashboard.alerts.rules.base import RULE_TYPES, FieldError, Rule

__all__ = ["DEFAULTS_PATH", "FieldError", "Rule", "RuleError", "check_areas", "default_rules", "load_rules"]
_MODULES = (offline, overdue, rate, stale, threshold)  # imported for their registration
DEFAULTS_PATH = Path(__file__).resolve().parent.parent / "defaults.yaml"


class RuleError(ValueError):
    """A rule set that cannot be used: one line naming the rule (index and name) and the field."""


def _label(source: str, i: int, item: Any) -> str:
    """``rules[3] (heat)``: where a rule is, for messages."""
    name = item.get("name") if isinstance(item, dict) else None
    return f"{source}[{i}]" + (f" ({name})" if isinstance(name, str) and name else "")


def _describe(err: ValidationError, where: str) -> str:
    """Each problem of a rule's validation as ``<where>.<field>: message``."""
    parts = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"])
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown field"
        elif e["type"] == "missing":
            msg = "required field missing"
        if not loc and ": " in msg:  # a FieldError from a model validator carries its field
            loc, msg = msg.split(": ", 1)
        got = e.get("input")
        if e["type"] not in ("missing", "extra_forbidden") and not isinstance(got, dict | list):
            msg += "" if repr(got) in msg else f" (got {got!r})"
        parts.append(f"{where}.{loc or 'rule'}: {msg}")
    return "; ".join(parts)


def load_rules(data: Any, source: str = "rules", areas: Areas | None = None) -> list[Rule]:
    """Validate a rule set (a list of mappings, or Rule objects) and return the rules.

    Raises RuleError naming the rule and the field of the first bad one: an unknown ``type``, a
    missing or wrong field, a threshold on an unknown metric, a bad level, a duplicate name; with
    ``areas``, also an unknown area id or tag.
    """
    if data is None:
        return []
    if not isinstance(data, list | tuple):
        raise RuleError(f"{source}: want a list of rules, got {type(data).__name__}")
    out: list[Rule] = []
    names: dict[str, int] = {}
    for i, item in enumerate(data):
        where = _label(source, i, item)
        if isinstance(item, Rule):
            rule = item
        else:
            if not isinstance(item, dict):
                raise RuleError(f"{where}: want a mapping with a type and a name")
            kind = item.get("type")
            if kind is None:
                raise RuleError(
                    f"{where}.type: required field missing (one of: {', '.join(sorted(RULE_TYPES))})"
                )
            model = RULE_TYPES.get(str(kind))
            if model is None:
                raise RuleError(
                    f"{where}.type: unknown rule type {kind!r} (known: {', '.join(sorted(RULE_TYPES))})"
                )
            try:
                validated = model.model_validate(item)
            except ValidationError as err:
                raise RuleError(_describe(err, where)) from None
            except FieldError as err:
                raise RuleError(f"{where}.{err}") from None
            assert isinstance(validated, Rule)
            rule = validated
        if rule.name in names:
            raise RuleError(f"{where}.name: duplicate rule name (also rules[{names[rule.name]}])")
        names[rule.name] = i
        if areas is not None:
            try:
                rule.check_areas(areas)
            except FieldError as err:
                raise RuleError(f"{where}.{err}") from None
        out.append(rule)
    return out


def check_areas(rules: Iterable[Rule], areas: Areas, source: str = "rules") -> None:
    """Check every rule's area ids and tags against the district's areas (RuleError naming them)."""
    for i, rule in enumerate(rules):
        try:
            rule.check_areas(areas)
        except FieldError as err:
            raise RuleError(f"{source}[{i}] ({rule.name}).{err}") from None


def default_rules(path: Path = DEFAULTS_PATH) -> list[Rule]:
    """The shipped default rule set (docs/ALERTS.md explains each rule)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    rules = data.get("rules") if isinstance(data, dict) else data
    return load_rules(rules, f"{path.name}: rules")


def rules_of(config_rules: Sequence[Any] | None) -> list[Rule]:
    """The configured rules (already validated by the config), or the defaults when unset."""
    if config_rules is None:
        return default_rules()
    return [r for r in config_rules if isinstance(r, Rule)]
