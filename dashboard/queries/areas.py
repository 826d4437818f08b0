"""Drill-down data: what the district, subdistrict, community and cell views show, read from Redis.

Every number comes from the processor's read models (counters by path, ``dashboard.store.paths``; the
health scores it stored), the device registry and its live status, and the active alerts; nothing here
scans all cases or computes a score. The page layer (layouts/) formats; this module only reads and
shapes. docs/DATA.md ("Drill-down") lists what is read.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Literal, TypeAlias
from zoneinfo import ZoneInfo

from dashboard.domain import counters
from dashboard.domain import health as hs
from dashboard.domain.counters import Path
from dashboard.domain.devices import map_status
from dashboard.domain.geo import Area, Geography, Level
from dashboard.domain.lifecycle import STAGES
from dashboard.domain.registry import Registry
from dashboard.queries.alerts import active
from dashboard.queries.health import read_health
from dashboard.store import keys
from dashboard.store.paths import read_values

Range: TypeAlias = Literal["today", "7d", "30d"]
RANGES: tuple[Range, ...] = ("today", "7d", "30d")
RANGE_DAYS: dict[Range, int] = {"today": 1, "7d": 7, "30d": 30}
HREF_PREFIX: dict[str, str] = {"subdistrict": "/subdistrict/", "community": "/community/", "cell": "/cell/"}
ALERT_LEVELS = ("red", "orange", "yellow", "blue")
HIST_BUCKETS = range(40)  # duration buckets read for medians (bucket 39 is about 2 years)


def find(geo: Geography, level: Level, area_id: str) -> Area | None:
    """The area with this id if it is of ``level`` (None when unknown or of another level)."""
    try:
        area = geo.area(area_id)
    except KeyError:
        return None
    return area if area.level == level else None


def crumbs(geo: Geography, area_id: str) -> list[Area]:
    """The path from the district down to the area (the area last); KeyError if unknown."""
    return [*geo.ancestors(area_id), geo.area(area_id)]


def bounds(geo: Geography, area_id: str) -> tuple[float, float, float, float]:
    """The area's bounding box: minx, miny, maxx, maxy (lon/lat); KeyError if unknown."""
    minx, miny, maxx, maxy = (float(v) for v in geo.geometry(area_id).bounds)
    return minx, miny, maxx, maxy


def href(area: Area) -> str:
    """The page URL of an area ("/" for the district)."""
    return HREF_PREFIX.get(area.level, "/") + (area.id if area.level in HREF_PREFIX else "")


def group(area: Area) -> tuple[str, str]:
    """The counters' group of an area: (scope, id); the district counts as ("district", "all")."""
    return ("district", counters.DISTRICT) if area.level == "district" else (area.level, area.id)


def cells_under(geo: Geography, area_id: str) -> list[str]:
    """The ids of the cells in an area (the cell itself for a cell)."""
    return list(_cells_under(geo, area_id))


@functools.lru_cache(maxsize=1024)
def _cells_under(geo: Geography, area_id: str) -> tuple[str, ...]:
    """Cached cells_under."""
    area = geo.area(area_id)
    if area.level == "cell":
        return (area.id,)
    return tuple(cell for child in geo.children(area_id) for cell in _cells_under(geo, child.id))


def days_of(rng: Range, tz: ZoneInfo, now_ms: int | None = None) -> list[str]:
    """The local days (yyyymmdd) of a range, oldest first, today last."""
    now = _now(tz, now_ms)
    return [(now - timedelta(days=k)).strftime("%Y%m%d") for k in range(RANGE_DAYS[rng] - 1, -1, -1)]


def hours_of(tz: ZoneInfo, now_ms: int | None = None) -> list[str]:
    """The last 24 local hours (yyyymmddhh), oldest first, this hour last."""
    now = _now(tz, now_ms)
    return [(now - timedelta(hours=k)).strftime("%Y%m%d%H") for k in range(23, -1, -1)]


def _now(tz: ZoneInfo, now_ms: int | None) -> datetime:
    """Local now (or at ``now_ms``)."""
    return datetime.now(tz) if now_ms is None else datetime.fromtimestamp(now_ms / 1000, tz)


def _verdict_paths(area: Area, day: str) -> list[Path]:
    """On-time and late closures of a day, then the handle stage's duration histogram."""
    g = group(area)
    out: list[Path] = []
    if area.level == "district":
        out += [("days", day, "n", "ontime"), ("days", day, "n", "late")]
        out += [("days", day, "dur", "handle", str(b)) for b in HIST_BUCKETS]
    else:
        out += [("days", day, "by", *g, "ontime"), ("days", day, "by", *g, "late")]
        out += [("days", day, "hdur", *g, str(b)) for b in HIST_BUCKETS]
    return out


def kpis(
    client: Any,
    geo: Geography,
    registry: Registry,
    area_id: str,
    rng: Range,
    tz: ZoneInfo,
    now_ms: int | None = None,
) -> dict[str, Any]:
    """The area's KPIs: flows over the range, stocks now, devices, alerts and health."""
    area = geo.area(area_id)
    g = group(area)
    days = days_of(rng, tz, now_ms)
    flows = ("reported", "closed", "returned")
    per_day = [[("days", d, "by", *g, s) for s in flows] + _verdict_paths(area, d) for d in days]
    width = len(per_day[0])
    stocks: list[Path] = [("open", *g, s) for s in STAGES] + [("overdue", *g)]
    values = read_values(client, [p for row in per_day for p in row] + stocks)
    total = [sum(values[i * width + j] for i in range(len(days))) for j in range(width)]
    reported, closed, returned, ontime, late = total[:5]
    median = counters.median_minutes({b: n for b, n in zip(HIST_BUCKETS, total[5:], strict=True) if n})
    by_stage = dict(zip(STAGES, values[len(days) * width : -1], strict=True))
    alerts = active_alerts(client, geo, area_id)
    health = read_health(client).get(area_id) or hs.make({})
    return {
        "reported": reported,
        "closed": closed,
        "returned": returned,
        "open": sum(by_stage.values()),
        "open_by_stage": by_stage,
        "overdue": values[-1],
        "ontime_rate": ontime / (ontime + late) if ontime + late else None,
        "median_handle_min": round(median, 1) if median is not None else None,
        **devices(client, geo, registry, area_id),
        "alerts": {lv: sum(1 for a in alerts if a["level"] == lv) for lv in ALERT_LEVELS},
        "health": health.as_dict(),
    }


def devices(client: Any, geo: Geography, registry: Registry, area_id: str) -> dict[str, Any]:
    """Cameras (registered, online, online share of those with a known status) and sensors (alarms)."""
    cells = cells_under(geo, area_id)
    cams = [cid for cell in cells for cid in hs.cameras_by_cell(registry).get(cell, ())]
    sens = [sid for cell in cells for sid in hs.sensors_by_cell(registry).get(cell, ())]
    with client.pipeline(transaction=False) as pipe:
        pipe.hmget(keys.CAMERA_STATE, cams or ["-"])
        pipe.hmget(keys.SENSOR_STATUS, sens or ["-"])
        pipe.smismember(keys.SENSOR_STALE, sens or ["-"])
        states, levels, stale = pipe.execute()
    known = [s for s in states[: len(cams)] if s is not None]
    online = sum(1 for s in known if s == "online")
    shown = [map_status(lv, bool(st)) for lv, st in zip(levels[: len(sens)], stale, strict=False)]
    return {
        "cameras": len(cams),
        "cameras_online": online,
        "cameras_online_rate": online / len(known) if known else None,
        "sensors": len(sens),
        "sensor_alarms": sum(1 for s in shown if s == "alarm"),
    }


def children(
    client: Any, geo: Geography, registry: Registry, area_id: str, tz: ZoneInfo, now_ms: int | None = None
) -> list[dict[str, Any]]:
    """The area's children with their health and counts, the worst (lowest health) first."""
    kids = geo.children(area_id)
    if not kids:
        return []
    health = read_health(client)
    paths: list[Path] = [("open", *group(k), s) for k in kids for s in STAGES]
    values = read_values(client, paths + [("overdue", *group(k)) for k in kids])
    alerts = active(client)
    n = len(STAGES)
    out = []
    for i, k in enumerate(kids):
        h = health.get(k.id) or hs.make({})
        out.append(
            {
                "id": k.id,
                "level": k.level,
                "name_zh": k.name_zh,
                "name_en": k.name_en,
                "health": h.score,
                "colour": h.colour,
                "open": sum(values[i * n : (i + 1) * n]),
                "overdue": values[len(paths) + i],
                "alerts": sum(1 for a in alerts if within(geo, a, k.id)),
                "cameras_online_rate": devices(client, geo, registry, k.id)["cameras_online_rate"],
            }
        )
    out.sort(key=lambda row: (row["health"], -row["overdue"], -row["open"], row["id"]))
    return out


def trend(
    client: Any,
    area_id: str,
    rng: Range,
    tz: ZoneInfo,
    now_ms: int | None = None,
    *,
    geo: Geography | None = None,
) -> dict[str, Any]:
    """Reported and closed per local hour (today: the last 24 hours) or per local day (7d, 30d)."""
    level = geo.area(area_id).level if geo is not None else level_of_id(area_id)
    g = ("district", counters.DISTRICT) if level == "district" else (level, area_id)
    if rng == "today":
        unit, xs, head = "hour", hours_of(tz, now_ms), "hours"
    else:
        unit, xs, head = "day", days_of(rng, tz, now_ms), "days"
    by: tuple[str, ...] = ("n",) if head == "hours" and level == "district" else ("by", *g)
    values = read_values(client, [(head, x, *by, step) for x in xs for step in ("reported", "closed")])
    return {"unit": unit, "x": xs, "reported": values[0::2], "closed": values[1::2]}


def level_of_id(area_id: str) -> Level:
    """The level of an id by the grid's naming: "440604" district, "ZM" subdistrict, "ZM-C01"
    community, "ZM-0001" cell (for callers without a Geography)."""
    if area_id.isdigit():
        return "district"
    _head, sep, tail = area_id.partition("-")
    if not sep:
        return "subdistrict"
    return "community" if tail.startswith("C") else "cell"


def within(geo: Geography, alert: Mapping[str, Any], area_id: str) -> bool:
    """Whether an alert is raised on the area or on an area inside it."""
    where = alert.get("area")
    if not where:
        return False
    if where == area_id:
        return True
    try:
        return any(a.id == area_id for a in geo.ancestors(str(where)))
    except KeyError:
        return area_id in (alert.get("areas") or ())


def active_alerts(client: Any, geo: Geography, area_id: str) -> list[dict[str, Any]]:
    """The active alerts raised on the area or inside it, red first, then newest."""
    return [a for a in active(client) if within(geo, a, area_id)]
