"""Drill-down data: what the district, subdistrict, community and cell views show, read from Redis.

Every number comes from the processor's read models (dashboard/readmodel.py), the device registry and
its live status, the alert store and the roster; nothing here scans all cases. The page layer
(layouts/) formats; this module only reads and shapes. docs/DATA.md ("Drill-down") lists the keys.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Literal, TypeAlias
from zoneinfo import ZoneInfo

from dashboard import contract as c
from dashboard import healthscore as hs
from dashboard import processor as proc
from dashboard import readmodel as rm
from dashboard import roster
from dashboard.alerts import store
from dashboard.geo import Area, Geography, Level
from dashboard.lifecycle import STAGES
from dashboard.registry import Registry

Range: TypeAlias = Literal["today", "7d", "30d"]
RANGES: tuple[Range, ...] = ("today", "7d", "30d")
RANGE_DAYS: dict[Range, int] = {"today": 1, "7d": 7, "30d": 30}
HREF_PREFIX: dict[str, str] = {"subdistrict": "/subdistrict/", "community": "/community/", "cell": "/cell/"}
RECENTLY_CLOSED = 20
ALERT_LEVELS = ("red", "orange", "yellow", "blue")
ALERT_HISTORY_ROWS = 50


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


def scope(area: Area) -> str:
    """The read models' ``<scope>:<id>`` of an area (the district counts as ``district:all``)."""
    return f"district:{rm.DISTRICT}" if area.level == "district" else f"{area.level}:{area.id}"


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


HIST_BUCKETS = range(40)  # duration buckets read for medians (bucket 39 is about 2 years)


def _verdict_fields(area: Area) -> tuple[str, str, list[str]]:
    """The day-hash fields of on-time and late closures and of the handle-stage histogram."""
    if area.level == "district":
        return "ontime", "late", [f"dur:handle:{b}" for b in HIST_BUCKETS]
    sc = scope(area)
    return f"ontime:{sc}", f"late:{sc}", [f"hdur:{sc}:{b}" for b in HIST_BUCKETS]


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
    sc = scope(area)
    days = days_of(rng, tz, now_ms)
    ontime_f, late_f, hist_fields = _verdict_fields(area)
    flow_fields = [f"reported:{sc}", f"closed:{sc}", f"returned:{sc}", ontime_f, late_f]
    with client.pipeline(transaction=False) as pipe:
        for d in days:
            pipe.hmget(rm.day_key(d), flow_fields + hist_fields)
        pipe.hmget(rm.OPEN, [f"{sc}:{s}" for s in STAGES])
        pipe.hget(rm.OVERDUE_N, sc)
        rows = pipe.execute()
    day_rows, (stages, overdue) = rows[: len(days)], rows[len(days) :]
    total = [sum(int(row[i] or 0) for row in day_rows) for i in range(len(flow_fields) + len(hist_fields))]
    reported, closed, returned, ontime, late = total[: len(flow_fields)]
    median = rm.median_minutes(
        {b: n for b, n in zip(HIST_BUCKETS, total[len(flow_fields) :], strict=True) if n}
    )
    by_stage = {s: int(v or 0) for s, v in zip(STAGES, stages, strict=True)}
    dev = devices(client, geo, registry, area_id, _ms(now_ms))
    alerts = active_alerts(client, geo, area_id)
    health = _health(client, geo, registry, tz, now_ms)[area_id]
    return {
        "reported": reported,
        "closed": closed,
        "returned": returned,
        "open": sum(by_stage.values()),
        "open_by_stage": by_stage,
        "overdue": int(overdue or 0),
        "ontime_rate": ontime / (ontime + late) if ontime + late else None,
        "median_handle_min": round(median, 1) if median is not None else None,
        **dev,
        "alerts": {lv: sum(1 for a in alerts if a["level"] == lv) for lv in ALERT_LEVELS},
        "health": health.as_dict(),
    }


HEALTH_REUSE_S = 2.0
_health_memo: dict[tuple[int, int, int], tuple[float, dict[str, hs.Health]]] = {}


def _health(
    client: Any, geo: Geography, registry: Registry, tz: ZoneInfo, now_ms: int | None
) -> dict[str, hs.Health]:
    """compute_all; at the wall clock (``now_ms`` None) reused for 2 s, so that the KPIs and the
    children of one page render share one computation."""
    if now_ms is not None:
        return hs.compute_all(client, geo, registry, now_ms, tz)
    key = (id(client), id(geo), id(registry))
    hit = _health_memo.get(key)
    if hit is None or time.monotonic() - hit[0] > HEALTH_REUSE_S:
        if len(_health_memo) > 8:
            _health_memo.clear()
        hit = _health_memo[key] = (time.monotonic(), hs.compute_all(client, geo, registry, _ms(None), tz))
    return hit[1]


def _hmgets(client: Any, reads: list[tuple[str, list[str]]]) -> list[list[Any]]:
    """HMGET of several (key, fields) in one round trip; an empty field list reads nothing."""
    with client.pipeline(transaction=False) as pipe:
        for key, fields in reads:
            if fields:
                pipe.hmget(key, fields)
        got = iter(pipe.execute())
    return [next(got) if fields else [] for _key, fields in reads]


def _ms(now_ms: int | None) -> int:
    """``now_ms`` or the wall clock."""
    return now_ms if now_ms is not None else proc.now_ms()


def devices(client: Any, geo: Geography, registry: Registry, area_id: str, now_ms: int) -> dict[str, Any]:
    """Cameras (registered, online, online share of those with a known status) and sensors (alarms)."""
    cells = cells_under(geo, area_id)
    cams = [cid for cell in cells for cid in hs.cameras_by_cell(registry).get(cell, ())]
    sens = [sid for cell in cells for sid in hs.sensors_by_cell(registry).get(cell, ())]
    states, lasts = _hmgets(client, [(proc.CAMERA_STATE, cams), (proc.SENSOR_LAST, sens)])
    known = [s for s in states if s is not None]
    online = sum(1 for s in known if s == "online")
    alarms = sum(
        1
        for sid, raw in zip(sens, lasts, strict=True)
        if sensor_status(registry, sid, raw, now_ms)[0] == "alarm"
    )
    return {
        "cameras": len(cams),
        "cameras_online": online,
        "cameras_online_rate": online / len(known) if known else None,
        "sensors": len(sens),
        "sensor_alarms": alarms,
    }


def sensor_status(registry: Registry, sensor_id: str, raw: str | None, now_ms: int) -> tuple[str, Any]:
    """A sensor's status ("ok" | "alarm" | "stale" | "unknown") and its last reading (or None)."""
    if raw is None:
        return "unknown", None
    last = json.loads(raw)
    sensor = registry.sensors.get(sensor_id)
    if not hs.sensor_fresh(registry, sensor_id, int(last["ts"]), now_ms):
        return "stale", last
    if sensor is not None and float(last["value"]) >= sensor.thresholds.alarm:
        return "alarm", last
    return "ok", last


def children(
    client: Any, geo: Geography, registry: Registry, area_id: str, tz: ZoneInfo, now_ms: int | None = None
) -> list[dict[str, Any]]:
    """The area's children with their health and counts, the worst (lowest health) first."""
    kids = geo.children(area_id)
    if not kids:
        return []
    now = _ms(now_ms)
    health = _health(client, geo, registry, tz, now_ms)
    with client.pipeline(transaction=False) as pipe:
        pipe.hmget(rm.OPEN, [f"{scope(k)}:{s}" for k in kids for s in STAGES])
        pipe.hmget(rm.OVERDUE_N, [scope(k) for k in kids])
        open_, overdue = pipe.execute()
    alerts = store.active(client)
    out = []
    for i, k in enumerate(kids):
        h = health[k.id]
        out.append(
            {
                "id": k.id,
                "level": k.level,
                "name_zh": k.name_zh,
                "name_en": k.name_en,
                "health": h.score,
                "colour": h.colour,
                "open": sum(int(v or 0) for v in open_[i * len(STAGES) : (i + 1) * len(STAGES)]),
                "overdue": int(overdue[i] or 0),
                "alerts": sum(1 for a in alerts if _within(geo, a, k.id)),
                "cameras_online_rate": devices(client, geo, registry, k.id, now)["cameras_online_rate"],
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
    sc = f"district:{rm.DISTRICT}" if level == "district" else f"{level}:{area_id}"
    fields = [f"reported:{sc}", f"closed:{sc}"]
    key: Callable[[str], str]
    if rng == "today":
        unit, xs, key = "hour", hours_of(tz, now_ms), rm.hour_key
        if level == "district":
            fields = ["reported", "closed"]
    else:
        unit, xs, key = "day", days_of(rng, tz, now_ms), rm.day_key
    with client.pipeline(transaction=False) as pipe:
        for x in xs:
            pipe.hmget(key(x), fields)
        rows = pipe.execute()
    return {
        "unit": unit,
        "x": xs,
        "reported": [int(row[0] or 0) for row in rows],
        "closed": [int(row[1] or 0) for row in rows],
    }


def level_of_id(area_id: str) -> Level:
    """The level of an id by the grid's naming: "440604" district, "ZM" subdistrict, "ZM-C01"
    community, "ZM-0001" cell (for callers without a Geography)."""
    if area_id.isdigit():
        return "district"
    _head, sep, tail = area_id.partition("-")
    if not sep:
        return "subdistrict"
    return "community" if tail.startswith("C") else "cell"


def _within(geo: Geography, alert: Mapping[str, Any], area_id: str) -> bool:
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
    return [a for a in store.active(client) if _within(geo, a, area_id)]


def cell_detail(
    client: Any, geo: Geography, registry: Registry, cell_id: str, tz: ZoneInfo, now_ms: int | None = None
) -> dict[str, Any]:
    """Everything the cell view lists: devices with status, workers, open and closed cases, alerts.

    No terminal (worker location) feed exists, so workers carry no position.
    """
    geo.area(cell_id)
    now = _ms(now_ms)
    cams = hs.cameras_by_cell(registry).get(cell_id, [])
    sens = hs.sensors_by_cell(registry).get(cell_id, [])
    states, sinces, lasts = _hmgets(
        client, [(proc.CAMERA_STATE, cams), (proc.CAMERA_SINCE, cams), (proc.SENSOR_LAST, sens)]
    )
    with client.pipeline(transaction=False) as pipe:
        pipe.smembers(rm.cell_cases_key(cell_id))
        pipe.zrevrange(rm.cell_closed_key(cell_id), 0, RECENTLY_CLOSED - 1, withscores=True)
        open_ids, closed = pipe.execute()
    cameras = []
    for cid, state, since in zip(cams, states, sinces, strict=True):
        cam = registry.cameras[cid]
        cameras.append(
            {"id": cid, "name_zh": cam.name_zh, "name_en": cam.name_en, "name": cam.name_zh,
             "kind": cam.kind, "status": state or "unknown",
             "since_ms": int(since) if since else None, "lon": cam.lon, "lat": cam.lat,
             "stream_url": cam.stream_url or None}
        )  # fmt: skip
    series = sensor_series(client, sens, now)
    sensors = []
    for sid, raw in zip(sens, lasts, strict=True):
        s = registry.sensors[sid]
        status, last = sensor_status(registry, sid, raw, now)
        sensors.append(
            {"id": sid, "name_zh": s.name_zh, "name_en": s.name_en, "metric": s.metric, "unit": s.unit,
             "status": status, "value": float(last["value"]) if last else None,
             "ts": int(last["ts"]) if last else None, "lon": s.lon, "lat": s.lat,
             "warn": s.thresholds.warn, "alarm": s.thresholds.alarm, "series": series.get(sid, [])}
        )  # fmt: skip
    history, _more = store.history(client, area=cell_id, limit=ALERT_HISTORY_ROWS)
    return {
        "cameras": cameras,
        "sensors": sensors,
        "workers": [w.public() for w in roster.default_roster().get(cell_id, [])],
        "open_cases": _open_cases(client, sorted(open_ids), now),
        "recently_closed": _closed_cases(client, closed),
        "alert_history": history,
    }


def _open_cases(client: Any, case_ids: list[str], now_ms: int) -> dict[str, list[dict[str, Any]]]:
    """Open cases by stage (every stage present, maybe empty), the most urgent deadline first."""
    out: dict[str, list[dict[str, Any]]] = {s: [] for s in STAGES}
    raws = client.hmget(c.CASE_INDEX, case_ids) if case_ids else []
    for case_id, raw in zip(case_ids, raws, strict=True):
        if raw is None:
            continue
        st = proc.CaseState.from_json(raw)
        if not st.open or st.stage is None:
            continue
        out.setdefault(st.stage, []).append(
            {"case": case_id, "type": st.event_type, "priority": st.priority, "deadline": st.deadline,
             "overdue": st.overdue or (st.deadline is not None and now_ms >= st.deadline)}
        )  # fmt: skip
    for rows in out.values():
        rows.sort(key=lambda r: (r["deadline"] is None, r["deadline"] or 0, r["case"]))
    return out


def _closed_cases(client: Any, closed: list[tuple[str, float]]) -> list[dict[str, Any]]:
    """The recently closed cases (newest first) with their type."""
    ids = [case_id for case_id, _ in closed]
    raws = client.hmget(c.CASE_INDEX, ids) if ids else []
    out = []
    for (case_id, ts), raw in zip(closed, raws, strict=True):
        typ = proc.CaseState.from_json(raw).event_type if raw is not None else ""
        out.append({"case": case_id, "type": typ, "closed_ms": int(ts)})
    return out


def sensor_series(client: Any, sensor_ids: list[str], now_ms: int) -> dict[str, list[list[float]]]:
    """Each sensor's last 24 hours: [[slot start ms, value], ...] oldest first, one point per 5 minutes."""
    hours = rm.sensor_hist_hours(now_ms)
    with client.pipeline(transaction=False) as pipe:
        for sid in sensor_ids:
            for h in hours:
                pipe.hgetall(rm.sensor_hist_key(sid, h))
        rows = pipe.execute()
    out: dict[str, list[list[float]]] = {}
    horizon = now_ms - rm.SENSOR_HIST_MS
    for i, sid in enumerate(sensor_ids):
        points = []
        for j, h in enumerate(hours):
            for slot, v in rows[i * len(hours) + j].items():
                ts = h * 3_600_000 + int(slot) * rm.SENSOR_SLOT_MS
                if ts >= horizon - rm.SENSOR_SLOT_MS:
                    points.append([ts, float(v)])
        out[sid] = sorted(points)
    return out


# --------------------------------------------------------------------------- search


def search(geo: Geography, client: Any, q: str, limit: int = 10) -> list[dict[str, Any]]:
    """Cases by id (exact, then prefix), cells by id or name, communities and subdistricts by name.

    Case-insensitive substring match on names (zh or en) and ids; exact matches first, then prefixes,
    then other substrings; within a rank cases, subdistricts, communities, cells (the wider area
    first: "塔坡" finds 塔坡社区 before its grid cells), then by id.
    """
    text = q.strip()
    if not text:
        return []
    needle = text.casefold()
    hits: list[tuple[int, int, str, dict[str, Any]]] = []
    order = {"case": 0, "subdistrict": 1, "community": 2, "cell": 3}
    for level, areas in (
        ("cell", geo.cells),
        ("community", geo.communities),
        ("subdistrict", geo.subdistricts),
    ):
        for area in areas.values():
            keys = [area.name_zh.casefold(), area.name_en.casefold()]
            if level == "cell":
                keys.append(area.id.casefold())
            rank = _rank(needle, keys)
            if rank is not None:
                hits.append((rank, order[level], area.id, _area_hit(area)))
    for case_id, rank in _case_hits(client, text, limit):
        row = {
            "kind": "case",
            "id": case_id,
            "name_zh": case_id,
            "name_en": case_id,
            "href": f"/case/{case_id}",
        }
        hits.append((rank, order["case"], case_id, row))
    hits.sort(key=lambda h: h[:3])
    return [h[3] for h in hits[:limit]]


def _rank(needle: str, keys: list[str]) -> int | None:
    """0 for an exact match of any key, 1 for a prefix, 2 for a substring, None for no match."""
    best: int | None = None
    for k in keys:
        r = 0 if k == needle else 1 if k.startswith(needle) else 2 if needle in k else None
        if r is not None and (best is None or r < best):
            best = r
    return best


def _area_hit(area: Area) -> dict[str, Any]:
    """A search result for an area."""
    return {
        "kind": area.level,
        "id": area.id,
        "name_zh": area.name_zh,
        "name_en": area.name_en,
        "href": href(area),
    }


CASE_SCAN = 20_000  # the newest cases a prefix search looks at, at most
CASE_CHUNK = 5_000


def _case_hits(client: Any, text: str, limit: int) -> list[tuple[str, int]]:
    """Case ids equal to ``text`` (rank 0; also in upper case) or starting with it, case-insensitively
    (rank 1; 3+ characters, among the newest CASE_SCAN cases, newest first), up to ``limit``."""
    if len(text) > 64:
        return []
    exact = [x for x in dict.fromkeys((text, text.upper())) if client.hexists(c.CASE_INDEX, x)]
    out = [(x, 0) for x in exact[:1]]
    if len(text) < 3:
        return out
    needle = text.casefold()
    for start in range(0, CASE_SCAN, CASE_CHUNK):
        ids = client.zrevrange(c.CASES_BY_TIME, start, start + CASE_CHUNK - 1)
        out += [(k, 1) for k in ids if k.casefold().startswith(needle) and k not in exact]
        if len(out) >= limit or len(ids) < CASE_CHUNK:
            break
    return out[:limit]
