"""A health score 0-100 for every grid cell, rolled up to community, subdistrict and the district.

``score`` is a pure function of one cell's inputs: 100 minus the points lost in five parts (open cases
against the cell's usual load, overdue cases, active alerts by level, cameras offline, sensors gone
quiet). ``rollup`` combines children into their parent. ``compute_all`` reads the read models once and
scores the whole hierarchy. docs/HEALTH.md gives the formula and the reasons behind each number.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, TypeAlias
from zoneinfo import ZoneInfo

from dashboard import contract as c
from dashboard import processor as proc
from dashboard import readmodel as rm
from dashboard.alerts import store
from dashboard.geo import Geography
from dashboard.registry import Registry

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
USUAL_DAYS = 30
STALE_INTERVALS = 3  # a sensor is stale when its last reading is older than this many intervals
ROLLUP_SLACK = 30  # an area scores at most its worst child plus this
WORSE_WEIGHT = 3.0  # a child at 0 weighs 1 + this in its parent's mean; a child at 100 weighs 1
BANDS: tuple[tuple[int, Band, str], ...] = (
    (85, "good", "#1a9850"),
    (70, "fair", "#d9c31c"),
    (50, "poor", "#f47b20"),
    (0, "bad", "#d7191c"),
)
HEALTH_KEY = f"{c.TAG}:health"  # hash area id -> "score,colour": the latest map a web process computed
HEALTH_TTL_S = 60


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


_USUAL_CACHE: dict[tuple[int, int], tuple[tuple[str | None, ...], dict[str, float]]] = {}


def usual_loads(client: Any, cells: list[str], today: datetime) -> dict[str, float]:
    """Each cell's mean reported cases a day over the 30 complete days before ``today``.

    Only days the read models hold count (a young deployment divides by the days it has); with none,
    today so far stands for one day. Reused while the district's daily totals of those days are
    unchanged (one cheap read instead of 31 x 478 fields).
    """
    days = [(today - timedelta(days=k)).strftime("%Y%m%d") for k in range(USUAL_DAYS, -1, -1)]
    with client.pipeline(transaction=False) as pipe:
        for d in days:
            pipe.hget(rm.day_key(d), "reported")
        totals = tuple(pipe.execute())
    key = (id(client), len(cells))
    hit = _USUAL_CACHE.get(key)
    if hit is not None and hit[0] == totals:
        return hit[1]
    used = [d for d, n in zip(days[:-1], totals[:-1], strict=True) if n is not None] or days[-1:]
    fields = [f"reported:cell:{cell}" for cell in cells]
    with client.pipeline(transaction=False) as pipe:
        for d in used:
            pipe.hmget(rm.day_key(d), fields)
        rows = pipe.execute()
    out = {cell: sum(int(row[i] or 0) for row in rows) / len(used) for i, cell in enumerate(cells)}
    if len(_USUAL_CACHE) > 16:
        _USUAL_CACHE.clear()
    _USUAL_CACHE[key] = (totals, out)
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


def sensor_fresh(registry: Registry, sensor_id: str, last_ts: int | None, now_ms: int) -> bool | None:
    """Whether a sensor's last reading is recent (None: it never reported)."""
    if last_ts is None:
        return None
    sensor = registry.sensors.get(sensor_id)
    interval = sensor.interval_s if sensor is not None else 60
    return now_ms - last_ts <= STALE_INTERVALS * interval * 1000


def compute_all(
    client: Any, geo: Geography, registry: Registry, now_ms: int, tz: ZoneInfo | None = None
) -> dict[str, Health]:
    """The health of every cell, community, subdistrict and the district, read in a few round trips."""
    tz = tz or ZoneInfo("Asia/Shanghai")
    cells = list(geo.cells)
    with client.pipeline(transaction=False) as pipe:
        pipe.hmget(c.CELL_OPEN, cells)
        pipe.hmget(rm.OVERDUE_N, [f"cell:{cell}" for cell in cells])
        pipe.hgetall(proc.CAMERA_STATE)
        pipe.hgetall(proc.SENSOR_LAST)
        open_, overdue, cam_state, sensor_last = pipe.execute()
    usual = usual_loads(client, cells, datetime.fromtimestamp(now_ms / 1000, tz))
    alerts = alerts_by_area(store.active(client))
    cams, sens = cameras_by_cell(registry), sensors_by_cell(registry)
    out: dict[str, Health] = {}
    for i, cell in enumerate(cells):
        states = [cam_state.get(cid) for cid in cams.get(cell, ())]
        known = [s for s in states if s is not None]
        fresh = [
            sensor_fresh(registry, sid, _reading_ts(sensor_last.get(sid)), now_ms)
            for sid in sens.get(cell, ())
        ]
        reported = [f for f in fresh if f is not None]
        out[cell] = score(
            HealthInputs(
                open=int(open_[i] or 0),
                overdue=int(overdue[i] or 0),
                usual=usual.get(cell, 0.0),
                alerts=alerts.get(cell, {}),
                cameras=len(known),
                cameras_online=sum(1 for s in known if s == "online"),
                sensors=len(reported),
                sensors_fresh=sum(1 for f in reported if f),
            )
        )
    for level in (geo.communities, geo.subdistricts, {geo.district.id: geo.district}):
        for area_id in level:
            out[area_id] = rollup((out[k.id] for k in geo.children(area_id)), alerts.get(area_id))
    return out


def _reading_ts(raw: str | None) -> int | None:
    """The time of a SENSOR_LAST JSON value (None when absent or unreadable)."""
    if raw is None:
        return None
    try:
        ts = json.loads(raw).get("ts")
    except (ValueError, AttributeError):
        return None
    return int(ts) if isinstance(ts, int | float) else None


def compact(health: Mapping[str, Health]) -> dict[str, list[Any]]:
    """{area id: [score, colour]}: the form pushed to pages."""
    return {k: [h.score, h.colour] for k, h in health.items()}


def changed(old: Mapping[str, list[Any]], new: Mapping[str, list[Any]]) -> dict[str, list[Any]]:
    """The entries of ``new`` that differ from ``old``."""
    return {k: v for k, v in new.items() if old.get(k) != v}


def save(client: Any, health: Mapping[str, list[Any]]) -> None:
    """Keep the latest map in Redis for snapshots (expires if no web process refreshes it)."""
    if not health:
        return
    with client.pipeline(transaction=True) as pipe:
        pipe.delete(HEALTH_KEY)
        pipe.hset(HEALTH_KEY, mapping={k: f"{v[0]},{v[1]}" for k, v in health.items()})
        pipe.expire(HEALTH_KEY, HEALTH_TTL_S)
        pipe.execute()


def load(client: Any) -> dict[str, list[Any]]:
    """The latest map a web process saved ({} when none is fresh; unreadable entries are skipped)."""
    out: dict[str, list[Any]] = {}
    for k, v in (client.hgetall(HEALTH_KEY) or {}).items():
        value, _, colour = v.partition(",")
        if value.isdigit() and colour:
            out[k] = [int(value), colour]
    return out
