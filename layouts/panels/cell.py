"""A grid cell's own panels: its cameras (one table) and sensors (each with its last 24 hours), its grid
workers, its open and recently closed cases and its alert history, and its devices as map points."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from dash import dcc, html
from dash.dash_table.DataTable import DataTable

from dashboard.domain.actors import camera_name
from dashboard.domain.i18n import Lang, t
from dashboard.domain.registry import CAMERA_KINDS, METRIC_BY_NAME, default_registry
from dashboard.domain.roster import ROLES
from dashboard.web.context import ctx
from layouts import ids, nav
from layouts.look import GRAPH_CONFIG, PLOT_LAYOUT
from layouts.names import type_name
from layouts.panels.area import cases_grid, health_parts, history_grid, panel
from layouts.panels.tables import Grid

STATUS_CLASS = {
    "online": "ok",
    "offline": "bad",
    "fault": "warn",
    "ok": "ok",
    "alarm": "bad",
    "stale": "warn",
}


def http_url(url: str | None) -> str | None:
    """The URL when it is an absolute http(s) one (the only links made of data), else None."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def camera_kinds(lang: Lang) -> dict[str, str]:
    """Camera kind labels."""
    return {k.key: (k.label_zh if lang == "zh-CN" else k.label_en) for k in CAMERA_KINDS}


def cell_sections(
    d: dict[str, Any], h: dict[str, Any], lang: Lang
) -> tuple[list[Any], Any, Any, dict[str, Grid]]:
    """The cell view's panels (health parts, workers, cases, recently closed, alert history), its
    cameras and its sensors with their last 24 h (each refreshed on its own: sensors change every
    minute, cameras seldom), and the grids that can be exported."""
    cases = cases_grid(d.get("open_cases") or {}, lang)
    history = history_grid(d.get("alert_history") or [], lang)
    panels = [
        panel(t("health_parts", lang), health_parts(h, lang), "cell-health"),
        panel(t("cell_workers", lang), workers(d.get("workers") or [], lang), "cell-workers"),
        panel(
            t("cell_cases", lang),
            cases.table(ids.CELL_CASES, t("cell_no_cases", lang)),
            "cell-cases",
            "cases",
            lang,
        ),
        panel(t("cell_closed", lang), closed_list(d.get("recently_closed") or [], lang), "cell-closed"),
        panel(
            t("cell_history", lang),
            history.table(ids.CELL_HISTORY, t("alerts_page_none", lang)),
            "cell-history",
            "history",
            lang,
        ),
    ]
    cameras = camera_table(d.get("cameras") or [], lang)
    return panels, cameras, sensor_boxes(d.get("sensors") or [], lang), {"cases": cases, "history": history}


def device_name(row: dict[str, Any], lang: Lang) -> str:
    """A camera's or sensor's name in the language (a camera's English name made from its cell's when
    the registry's is Chinese: ``dashboard.domain.actors.camera_name``)."""
    cam = default_registry().cameras.get(str(row.get("id")))
    if cam is not None:
        return camera_name(cam, lang, ctx().geo)
    return str((row.get("name_en") if lang == "en" else row.get("name_zh")) or row.get("name") or "")


def camera_table(rows: list[dict[str, Any]], lang: Lang) -> Any:
    """The cell's cameras in one table component (a cell has ~30-100 cameras: the page stays light);
    a stream is a link only for an http(s) URL, never HTML."""
    tz = ctx().tz
    kinds = camera_kinds(lang)
    cam_rows: list[Any] = []
    for cam in rows:
        state = cam.get("status") or "unknown"
        url = http_url(cam.get("stream_url"))
        cam_rows.append(
            {
                "id": cam["id"],
                "name": device_name(cam, lang),
                "kind": kinds.get(cam.get("kind", ""), cam.get("kind", "")),
                "status": t(f"cam_{state}", lang),
                "state": STATUS_CLASS.get(state, "unknown"),
                "since": nav.when(cam.get("since_ms"), lang, tz),
                "stream": f"[{t('col_stream', lang)}](<{url}>)" if url else "–",
            }
        )
    if not cam_rows:
        return html.Div(t("cell_no_cameras", lang), id=ids.CELL_CAMERAS, className="muted")
    return DataTable(
        id=ids.CELL_CAMERAS,
        data=cam_rows,
        columns=[
            {"id": "id", "name": t("col_id", lang)},
            {"id": "name", "name": t("col_name", lang)},
            {"id": "kind", "name": t("col_kind", lang)},
            {"id": "status", "name": t("col_status", lang)},
            {"id": "since", "name": t("col_since", lang)},
            {"id": "stream", "name": t("col_stream", lang), "presentation": "markdown"},
        ],
        markdown_options={"link_target": "_blank", "html": False},
        page_size=12,
        sort_action="native",
        style_as_list_view=True,
        style_table={"overflowX": "auto"},
        style_header={"backgroundColor": "#0b1a23", "color": "#7c98a6", "border": "none"},
        style_cell=TABLE_CELL,
        style_data_conditional=[
            {"if": {"filter_query": f'{{state}} = "{cls}"', "column_id": "status"}, "color": colour}
            for cls, colour in (("ok", "#3ddc84"), ("bad", "#e5484d"), ("warn", "#f2c14e"))
        ],
    )


TABLE_CELL = {
    "backgroundColor": "#0b1a23",
    "color": "#d8eef7",
    "border": "none",
    "borderBottom": "1px solid #0f2530",
    "fontFamily": "inherit",
    "textAlign": "left",
    "padding": "3px 6px",
}


def sensor_figure(s: dict[str, Any]) -> dict[str, Any]:
    """One sensor's last 24 hours, a light line figure."""
    series = s.get("series") or []
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines",
                "x": [p[0] for p in series],
                "y": [p[1] for p in series],
                "line": {"color": "#39c6f4", "width": 1.5},
                "hovertemplate": "%{y}<extra></extra>",
            }
        ],
        "layout": {
            **PLOT_LAYOUT,
            "margin": {"l": 36, "r": 4, "t": 4, "b": 20},
            "showlegend": False,
            "xaxis": {**PLOT_LAYOUT["xaxis"], "type": "date", "tickformat": "%H:%M"},
            "uirevision": s["id"],
        },
    }


def sensor_boxes(rows: list[dict[str, Any]], lang: Lang) -> html.Div:
    """Each sensor: its name, status, last value and time, and its last 24 hours."""
    tz = ctx().tz
    boxes = []
    for s in rows:
        spec = METRIC_BY_NAME.get(s.get("metric", ""))
        label = (spec.label_en if lang == "en" else spec.label_zh) if spec else s.get("metric", "")
        state = s.get("status") or "unknown"
        value = "–" if s.get("value") is None else f"{s['value']:g} {s.get('unit', '')}"
        head = html.Div(
            [
                html.Span(label, className="sensor-name"),
                html.Span(s["id"], className="muted"),
                html.Span(t(f"sensor_{state}", lang), className=f"badge {STATUS_CLASS.get(state, '')}"),
                html.B(value),
                html.Span(nav.when(s.get("ts"), lang, tz), className="muted"),
            ],
            className="sensor-head",
        )
        graph = (
            dcc.Graph(figure=sensor_figure(s), config=GRAPH_CONFIG, className="sensor-graph")
            if s.get("series")
            else html.Div(t("no_data", lang), className="muted")
        )
        boxes.append(
            html.Div([head, graph], className="sensor-box", **nav.data(sensor=s["id"], status=state))
        )
    return html.Div(boxes or [html.Div(t("cell_no_sensors", lang), className="muted")], id=ids.CELL_SENSORS)


def workers(rows: list[dict[str, Any]], lang: Lang) -> html.Div:
    """The cell's grid workers (phones masked); no terminal feed exists, so no positions."""
    people = [
        html.Div(
            [
                html.B((w.get("name_en") if lang == "en" else w.get("name_zh")) or w.get("name") or ""),
                html.Span(w.get("phone_masked") or "", className="phone"),
                html.Span(
                    t(f"role_{w.get('role')}", lang) if w.get("role") in ROLES else "", className="muted"
                ),
            ],
            className="worker",
            **nav.data(worker=str(w.get("id", ""))),
        )
        for w in rows
    ]
    return html.Div(
        [
            *people,
            *([] if rows else [html.Div(t("cell_no_workers", lang), className="muted")]),
            html.Div(t("cell_no_terminal", lang), className="muted no-terminal"),
        ],
        id=ids.CELL_WORKERS,
    )


def closed_list(rows: list[dict[str, Any]], lang: Lang) -> html.Div:
    """The cell's recently closed cases, newest first, each a link to its page."""
    tz = ctx().tz
    items = [
        html.Div(
            [
                dcc.Link(c["case"], href=nav.with_lang(f"/case/{c['case']}", lang)),
                html.Span(type_name(str(c.get("type") or ""), lang)),
                html.Span(nav.when(c.get("closed_ms"), lang, tz), className="muted"),
            ],
            className="closed-row",
            **nav.data(case=c["case"]),
        )
        for c in rows
    ]
    return html.Div(items or [html.Div(t("cell_no_closed", lang), className="muted")], id=ids.CELL_CLOSED)


def cell_devices(d: dict[str, Any], lang: Lang) -> dict[str, Any]:
    """The cell's cameras and sensors as GeoJSON points with their status and tooltip text (one map
    layer, drawn by assets/js/areamap.js: a few kilobytes for one cell)."""
    feats = []
    for kind, rows in (("camera", d.get("cameras") or []), ("sensor", d.get("sensors") or [])):
        for row in rows:
            state = row.get("status") or "unknown"
            word = t(f"cam_{state}" if kind == "camera" else f"sensor_{state}", lang)
            feats.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [row["lon"], row["lat"]]},
                    "properties": {
                        "id": row["id"],
                        "kind": kind,
                        "status": STATUS_CLASS.get(state, "unknown"),
                        "tip": f"{row['id']} {device_name(row, lang) or row.get('metric') or ''} · {word}",
                    },
                }
            )
    return {"type": "FeatureCollection", "features": feats}
