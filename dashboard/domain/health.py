"""A health score 0-100 for every grid cell, rolled up to community, subdistrict and the district.

``score`` is a pure function of one cell's inputs: 100 minus the points lost in five parts (open cases
against the cell's usual load, overdue cases, active alerts by level, cameras offline, sensors gone
quiet). ``rollup`` combines children into their parent; ``score_all`` scores the whole hierarchy. The
processor computes it (``dashboard.processor.health``); pages read what it stored. docs/HEALTH.md gives
the formula and the reasons behind each number.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from dashboard.domain.geo import Geography
from dashboard.domain.registry import Registry

Band: TypeAlias = Literal["good", "fair", "poor", "bad"]
PARTS: tuple[str, ...] = ("load", "overdue", "alerts", "devices", "freshness")

# Points a part can cost at most, and what costs them (docs/HEALTH.md explains each choice).
LOAD_MAX = 20  # open cases beyond the usual daily load
LOAD_PER_EXCESS = 8  # points per usual-day's worth of open cases above one usual day
OVERDUE_MAX = 25
OVERDUE_PER_USUAL = 25  # overdue cases equal to a usual day's reports cost the whole part
ALERT_POINTS: dict[str, int] = {"red": 55, "orange": 30, "yellow": 15, "blue": 5}
ALERTS_MAX = 70
DEVICES_MAX = 20  # all cameras offline
FRESHNESS_MAX = 10  # all sensors silent
USUAL_FLOOR = 3.0  # cases a day: a quiet cell is judged as if it had at least this load
ROLLUP_SLACK = 30  # an area scores at most its worst child plus this
WORSE_WEIGHT = 3.0  # a child at 0 weighs 1 + this in its parent's mean; a child at 100 weighs 1
BANDS: tuple[tuple[int, Band, str], ...] = (
    (85, "good", "#1a9850"),
    (70, "fair", "#d9c31c"),
    (50, "poor", "#f47b20"),
    (0, "bad", "#d7191c"),
)


@dataclass(frozen=True)
class HealthInputs:
    """What one cell's score is made of (counts now, and its usual load)."""

    open: int = 0
    overdue: int = 0
    usual: float = 0.0  # mean reported cases a day over the last 30 days
    alerts: Mapping[str, int] = field(default_factory=dict)  # level -> active alerts
    cameras: int = 0  # cameras with a known status
    cameras_online: int = 0
    sensors: int = 0  # sensors that ever reported
    sensors_fresh: int = 0


@dataclass(frozen=True)
class Health:
    """A score 0-100 (100 = healthy), its colour and band, and the points lost per part."""

    score: int
    colour: str
    band: Band
    parts: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form for pages and the API."""
        return {"score": self.score, "colour": self.colour, "band": self.band, "parts": dict(self.parts)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Health:
        """The Health of ``as_dict``'s form (its score and colour recomputed from the parts)."""
        return make({p: int(v) for p, v in d.get("parts", {}).items() if p in PARTS})


def band_of(value: int) -> tuple[Band, str]:
    """The band and colour of a score."""
    for lo, band, colour in BANDS:
        if value >= lo:
            return band, colour
    return BANDS[-1][1], BANDS[-1][2]


def make(parts: Mapping[str, int]) -> Health:
    """The Health whose score is 100 minus the parts (at least 0)."""
    full = {p: int(parts.get(p, 0)) for p in PARTS}
    value = max(0, 100 - sum(full.values()))
    band, colour = band_of(value)
    return Health(value, colour, band, full)


def score(inputs: HealthInputs) -> Health:
    """One cell's health from its inputs (a pure function)."""
    usual = max(inputs.usual, USUAL_FLOOR)
    excess = max(0.0, inputs.open / usual - 1.0)
    alert_pts = sum(ALERT_POINTS.get(level, 0) * n for level, n in inputs.alerts.items())
    down = inputs.cameras - inputs.cameras_online
    stale = inputs.sensors - inputs.sensors_fresh
    return make(
        {
            "load": min(LOAD_MAX, round(LOAD_PER_EXCESS * excess)),
            "overdue": min(OVERDUE_MAX, round(OVERDUE_PER_USUAL * inputs.overdue / usual)),
            "alerts": min(ALERTS_MAX, alert_pts),
            "devices": round(DEVICES_MAX * down / inputs.cameras) if inputs.cameras else 0,
            "freshness": round(FRESHNESS_MAX * stale / inputs.sensors) if inputs.sensors else 0,
        }
    )


def rollup(children: Iterable[Health], own_alerts: Mapping[str, int] | None = None) -> Health:
    """A parent's health from its children's, less the points of alerts raised on the parent itself.

    The mean of the children weighted towards the worse ones (weight 1 at 100, 1 + WORSE_WEIGHT at 0),
    capped at the worst child plus ROLLUP_SLACK; the points lost are split over the parts in
    proportion to the children's weighted parts.
    """
    kids = list(children)
    own = sum(ALERT_POINTS.get(level, 0) * n for level, n in (own_alerts or {}).items())
    if not kids:
        return make({"alerts": min(ALERTS_MAX, own)})
    weights = [1.0 + WORSE_WEIGHT * (100 - h.score) / 100 for h in kids]
    total_w = sum(weights)
    mean = sum(w * h.score for w, h in zip(weights, kids, strict=True)) / total_w
    value = min(mean, min(h.score for h in kids) + ROLLUP_SLACK)
    lost = round(100 - value)
    shares = {p: sum(w * h.parts[p] for w, h in zip(weights, kids, strict=True)) for p in PARTS}
    parts = _split(lost, shares)
    parts["alerts"] += min(ALERTS_MAX, own)
    return make(parts)


def _split(total: int, shares: Mapping[str, float]) -> dict[str, int]:
    """``total`` points split over the parts in proportion to ``shares`` (largest remainders)."""
    weight = sum(shares.values())
    if total <= 0 or weight <= 0:
        return {p: 0 for p in PARTS}
    exact = {p: total * shares[p] / weight for p in PARTS}
    out = {p: int(v) for p, v in exact.items()}
    for p in sorted(PARTS, key=lambda p: out[p] - exact[p])[: total - sum(out.values())]:
        out[p] += 1
    return out


# --------------------------------------------------------------------------- reading the read models


def alerts_by_area(alerts: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """Active alerts counted by the area they are raised on (the most specific one) and level."""
    out: dict[str, dict[str, int]] = {}
    for a in alerts:
        area = a.get("area")
        if area:
            levels = out.setdefault(str(area), {})
            levels[a["level"]] = levels.get(a["level"], 0) + 1
    return out


def cameras_by_cell(registry: Registry) -> dict[str, list[str]]:
    """Camera ids per cell."""
    return _by_cell(registry)[0]


def sensors_by_cell(registry: Registry) -> dict[str, list[str]]:
    """Sensor ids per cell."""
    return _by_cell(registry)[1]


@functools.lru_cache(maxsize=4)
def _by_cell(registry: Registry) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Camera and sensor ids per cell (once per registry)."""
    cams: dict[str, list[str]] = {}
    sens: dict[str, list[str]] = {}
    for cam in registry.cameras.values():
        cams.setdefault(cam.cell_id, []).append(cam.id)
    for sensor in registry.sensors.values():
        sens.setdefault(sensor.cell_id, []).append(sensor.id)
    return cams, sens


def score_all(
    geo: Geography, cells: Mapping[str, HealthInputs], alerts: Mapping[str, Mapping[str, int]]
) -> dict[str, Health]:
    """The health of every cell (from its inputs; a cell without inputs scores as an empty one), rolled
    up to its community, subdistrict and the district with the alerts raised on each area itself."""
    out = {cell: score(cells.get(cell, HealthInputs())) for cell in geo.cells}
    for level in (geo.communities, geo.subdistricts, {geo.district.id: geo.district}):
        for area_id in level:
            out[area_id] = rollup((out[k.id] for k in geo.children(area_id)), alerts.get(area_id))
    return out


def compact(health: Mapping[str, Health]) -> dict[str, list[Any]]:
    """{area id: [score, colour]}: the form pushed to pages."""
    return {k: [h.score, h.colour] for k, h in health.items()}


def changed(old: Mapping[str, list[Any]], new: Mapping[str, list[Any]]) -> dict[str, list[Any]]:
    """The entries of ``new`` that differ from ``old``."""
    return {k: v for k, v in new.items() if old.get(k) != v}
