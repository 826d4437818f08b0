"""Honest freshness: which record kinds each feed delivers, and per kind whether its feeds are alive.

A wall panel shows data of one record kind (case panels: ``case_event``; the camera KPI:
``camera_status``; the readings KPI: ``sensor_reading``). The kind is stale when any feed that delivers
it is stale by the rule /healthz uses (``dashboard.queries.status.feeds_health``): its data on screen is
then incomplete, and the panel says since when.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, get_args

from dashboard.domain.types import Kind

KINDS: tuple[str, ...] = get_args(Kind)
CASE, SENSOR, CAMERA = "case_event", "sensor_reading", "camera_status"

# The built-in feeds by name, the pluggable ones by type; a feed known by neither counts for every kind
# (an unknown silent source greys the screen rather than hiding).
FEED_KINDS: dict[str, tuple[str, ...]] = {
    "simulator": KINDS,
    "http-cases": (CASE,),
    "open311": (CASE,),
    "http-devices": (SENSOR, CAMERA),
}
TYPE_KINDS: dict[str, tuple[str, ...]] = {"mqtt": (SENSOR,), "camera_poll": (CAMERA,)}


def feed_kinds(configured: Iterable[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    """The record kinds of every feed this deployment knows by name (``configured``: the pluggable
    feeds' (name, type))."""
    out = dict(FEED_KINDS)
    for name, type_ in configured:
        out[name] = TYPE_KINDS.get(type_, KINDS)
    return out


def kind_status(feeds: dict[str, dict[str, Any]], kinds_of: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    """Per record kind: ``stale`` (a feed of it is stale), ``since`` (the oldest last heartbeat of its
    stale feeds, None if never heard), ``asof`` (the oldest heartbeat of its feeds: its data is complete
    up to then) and the stale feeds' names. Kinds no feed delivers are left out."""
    out: dict[str, Any] = {}
    for name, f in feeds.items():
        for kind in kinds_of.get(name, KINDS):
            k = out.setdefault(kind, {"stale": False, "since": None, "asof": None, "feeds": []})
            beat = f["heartbeat_ms"]
            if beat is not None:
                k["asof"] = beat if k["asof"] is None else min(k["asof"], beat)
            if f["stale"]:
                k["stale"] = True
                k["feeds"].append(name)
                if beat is not None:
                    k["since"] = beat if k["since"] is None else min(k["since"], beat)
    return out


def status_changed(old: dict[str, Any] | None, new: dict[str, Any]) -> bool:
    """True when a kind turned stale or fresh, or its stale feeds changed (not a heartbeat moving)."""
    if old is None or old.keys() != new.keys():
        return True
    return any((old[k]["stale"], old[k]["feeds"]) != (new[k]["stale"], new[k]["feeds"]) for k in new)
