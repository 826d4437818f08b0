"""One grid cell in full for its page: devices with status, grid workers, open and recently closed cases,
each sensor's last 24 hours, the alert history. Read from the processor's per-cell indexes."""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

from dashboard.domain import counters, roster
from dashboard.domain import health as hs
from dashboard.domain.devices import map_status
from dashboard.domain.geo import Geography
from dashboard.domain.lifecycle import STAGES
from dashboard.domain.registry import Registry
from dashboard.domain.types import epoch_ms
from dashboard.queries.alerts import history
from dashboard.store import keys
from dashboard.store.cases import read_cases

RECENTLY_CLOSED = 20
ALERT_HISTORY_ROWS = 50


def cell_detail(
    client: Any, geo: Geography, registry: Registry, cell_id: str, tz: ZoneInfo, now: int | None = None
) -> dict[str, Any]:
    """Everything the cell view lists: devices with status, workers, open and closed cases, alerts.

    No terminal (worker location) feed exists, so workers carry no position.
    """
    geo.area(cell_id)
    now = now if now is not None else epoch_ms()
    cams = hs.cameras_by_cell(registry).get(cell_id, [])
    sens = hs.sensors_by_cell(registry).get(cell_id, [])
    with client.pipeline(transaction=False) as pipe:
        pipe.hmget(keys.CAMERA_STATE, cams or ["-"])
        pipe.hmget(keys.CAMERA_SINCE, cams or ["-"])
        pipe.hmget(keys.SENSOR_LAST, sens or ["-"])
        pipe.hmget(keys.SENSOR_STATUS, sens or ["-"])
        pipe.smismember(keys.SENSOR_STALE, sens or ["-"])
        pipe.smembers(keys.cell_cases_key(cell_id))
        pipe.zrevrange(keys.cell_closed_key(cell_id), 0, RECENTLY_CLOSED - 1, withscores=True)
        states, sinces, lasts, levels, stale, open_ids, closed = pipe.execute()
    cameras = []
    for cid, state, since in zip(cams, states, sinces, strict=False):
        cam = registry.cameras[cid]
        cameras.append(
            {"id": cid, "name_zh": cam.name_zh, "name_en": cam.name_en, "name": cam.name_zh,
             "kind": cam.kind, "status": state or "unknown",
             "since_ms": int(since) if since else None, "lon": cam.lon, "lat": cam.lat,
             "stream_url": cam.stream_url or None}
        )  # fmt: skip
    series = sensor_series(client, sens, now)
    sensors = []
    for sid, raw, level, is_stale in zip(sens, lasts, levels, stale, strict=False):
        s = registry.sensors[sid]
        last = json.loads(raw) if raw else None
        sensors.append(
            {"id": sid, "name_zh": s.name_zh, "name_en": s.name_en, "metric": s.metric, "unit": s.unit,
             "status": map_status(level, bool(is_stale)), "value": float(last["value"]) if last else None,
             "ts": int(last["ts"]) if last else None, "lon": s.lon, "lat": s.lat,
             "warn": s.thresholds.warn, "alarm": s.thresholds.alarm, "series": series.get(sid, [])}
        )  # fmt: skip
    alert_history, _more = history(client, area=cell_id, limit=ALERT_HISTORY_ROWS)
    return {
        "cameras": cameras,
        "sensors": sensors,
        "workers": [w.public() for w in roster.default_roster().get(cell_id, [])],
        "open_cases": _open_cases(client, sorted(open_ids), now),
        "recently_closed": _closed_cases(client, closed),
        "alert_history": alert_history,
    }


def _open_cases(client: Any, case_ids: list[str], now: int) -> dict[str, list[dict[str, Any]]]:
    """Open cases by stage (every stage present, maybe empty), the most urgent deadline first."""
    out: dict[str, list[dict[str, Any]]] = {s: [] for s in STAGES}
    for case_id, st in read_cases(client, case_ids).items():
        if not st.open or st.stage is None:
            continue
        out.setdefault(st.stage, []).append(
            {"case": case_id, "type": st.event_type, "priority": st.priority, "deadline": st.deadline,
             "overdue": st.overdue or (st.deadline is not None and now >= st.deadline)}
        )  # fmt: skip
    for rows in out.values():
        rows.sort(key=lambda r: (r["deadline"] is None, r["deadline"] or 0, r["case"]))
    return out


def _closed_cases(client: Any, closed: list[tuple[str, float]]) -> list[dict[str, Any]]:
    """The recently closed cases (newest first) with their type."""
    cases = read_cases(client, [case_id for case_id, _ in closed])
    return [
        {"case": case_id, "type": cases[case_id].event_type if case_id in cases else "", "closed_ms": int(ts)}
        for case_id, ts in closed
    ]


def sensor_series(client: Any, sensor_ids: list[str], now: int) -> dict[str, list[list[float]]]:
    """Each sensor's last 24 hours: [[slot start ms, value], ...] oldest first, one point per 5 minutes."""
    hours = counters.sensor_hist_hours(now)
    with client.pipeline(transaction=False) as pipe:
        for sid in sensor_ids:
            for h in hours:
                pipe.hgetall(keys.sensor_hist_key(sid, h))
        rows = pipe.execute()
    out: dict[str, list[list[float]]] = {}
    horizon = now - counters.SENSOR_HIST_MS
    for i, sid in enumerate(sensor_ids):
        points = []
        for j, h in enumerate(hours):
            for slot, v in rows[i * len(hours) + j].items():
                ts = h * 3_600_000 + int(slot) * counters.SENSOR_SLOT_MS
                if ts >= horizon - counters.SENSOR_SLOT_MS:
                    points.append([ts, float(v)])
        out[sid] = sorted(points)
    return out
