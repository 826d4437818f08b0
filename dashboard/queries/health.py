"""The areas' health scores as the processor stored them (``dashboard.processor.health``)."""

from __future__ import annotations

import json
from typing import Any

from dashboard.domain.health import Health
from dashboard.store import keys


def read_health(client: Any) -> dict[str, Health]:
    """Every area's stored health (unreadable entries are left out)."""
    out: dict[str, Health] = {}
    for area, raw in (client.hgetall(keys.HEALTH) or {}).items():
        try:
            out[area] = Health.from_dict(json.loads(raw))
        except (ValueError, TypeError, AttributeError):
            continue
    return out


def read_compact(client: Any) -> dict[str, list[Any]]:
    """{area id: [score, colour]}: the form pages receive."""
    return shown_all(client.hgetall(keys.HEALTH) or {})


def health_of(client: Any, area_id: str) -> Health | None:
    """One area's stored health (None before the processor has scored it)."""
    raw = client.hget(keys.HEALTH, area_id)
    try:
        return Health.from_dict(json.loads(raw)) if raw is not None else None
    except (ValueError, TypeError, AttributeError):
        return None


def shown(raw: str | None) -> list[Any] | None:
    """[score, colour] of one stored health (None when absent or unreadable)."""
    try:
        d = json.loads(raw) if raw is not None else None
        return [int(d["score"]), str(d["colour"])] if isinstance(d, dict) else None
    except (ValueError, KeyError, TypeError):
        return None


def shown_all(stored: dict[str, str]) -> dict[str, list[Any]]:
    """{area id: [score, colour]} of a stored health hash (unreadable entries left out)."""
    out = {}
    for area, raw in stored.items():
        value = shown(raw)
        if value is not None:
            out[area] = value
    return out
