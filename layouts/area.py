"""The drill-down pages: ``/subdistrict/<id>``, ``/community/<id>`` and ``/cell/<id>``.

Each shows its area: the map zoomed to it with the child areas coloured by health (or open cases, or
alerts), the KPIs over a range (today / 7 days / 30 days), the children ranked worst first, the trend,
the active alerts. The cell page, the bottom of the map, adds its cameras and sensors, grid workers,
open and recently closed cases and its alert history. The data come from ``dashboard.queries.areas``.

Geometry is the static ``/geo/*.geojson``; the layers keep only this area's features through a
``hideout`` filter, so no geometry is ever in the layout or a refresh. The page stays live: a
filter on the Socket.IO events (assets/js/area.js) asks the server to re-read the area, at most
every few seconds, when a delta, an alert or a health change concerns it. Text from data is always a
text child, never HTML. The tables on screen are built from the same rows their CSV export writes.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import dash
import dash_leaflet as dl
from dash import ClientsideFunction, Dash, Input, Output, State, dcc, html
from dash.dash_table.DataTable import DataTable

from dashboard.alerts.levels import LEVEL_BY_KEY, LEVELS
from dashboard.domain.geo import Area
from dashboard.domain.health import BANDS
from dashboard.domain.i18n import Lang, t
from dashboard.domain.lifecycle import STAGES
from dashboard.domain.registry import CAMERA_KINDS, METRIC_BY_NAME, default_registry
from dashboard.domain.roster import ROLES
from dashboard.domain.types import epoch_ms
from dashboard.queries import areas
from dashboard.queries.cells import cell_detail
from dashboard.web.context import ctx, request_lang
from layouts import ids, nav
from layouts.alerts_page import rule_title
from layouts.maps import fitted_map, tiles
from layouts.names import area_name, type_name
from layouts.wall import BINS, COLORS, GRAPH_CONFIG, PLOT_LAYOUT

log = logging.getLogger(__name__)

# Element ids: the UI contract (docs/UI.md).
ROOT = ids.AREA_ROOT
BREADCRUMBS = "breadcrumbs"
TITLE = "area-title"
HEALTH = "health-score"
RANGE = "area-range"
MAP = "area-map"
CHILD_LAYER = ids.AREA_CHILD_LAYER
OUTLINE_LAYER = "area-outline"
BODY = "area-body"
KPIS_BOX = "area-kpis-box"
MAIN = "area-main"
ALERTS_BOX = "area-alerts-box"
SENSORS_BOX = "cell-sensors-box"
CAMERAS_BOX = "cell-cameras-box"
DEVICES = "cell-devices"
TREND_TITLE = "area-trend-title"
KPIS = "area-kpis"
KPI = "area-kpi-{}"
TREND = "area-trend"
CHILDREN = "area-children"
ALERTS = "area-alerts"
UPDATED = "area-updated"
NOT_FOUND = "area-not-found"
META = ids.AREA_META
REFRESH = ids.AREA_REFRESH
LEGEND = ids.AREA_LEGEND
TABLES = "area-tables"
CELL_HEALTH = "cell-health-parts"
CELL_CAMERAS = "cell-cameras"
CELL_SENSORS = "cell-sensors"
CELL_WORKERS = "cell-workers"
CELL_CASES = "cell-cases"
CELL_CLOSED = "cell-closed"
CELL_HISTORY = "cell-alert-history"
EXPORT = "export-{}"  # a table's CSV button: export-children, export-alerts, export-cases, export-history
DOWNLOAD = "download-{}"
EXPORTS = ("children", "alerts", "cases", "history")

LEVELS_DOWN = ("subdistrict", "community", "cell")
CHILD_LEVEL = {"district": "subdistrict", "subdistrict": "community", "community": "cell"}
GEO_FILE = {
    "district": "district",
    "subdistrict": "subdistricts",
    "community": "communities",
    "cell": "cells",
}
RANGES = ("today", "7d", "30d")
LEVEL_ORDER = [lv.key for lv in reversed(LEVELS)]  # red first
STATUS_CLASS = {
    "online": "ok",
    "offline": "bad",
    "fault": "warn",
    "ok": "ok",
    "alarm": "bad",
    "stale": "warn",
}


# --------------------------------------------------------------------------- tables (screen = CSV)


@dataclass
class Grid:
    """A table as the screen shows it and its CSV writes: header and rows of display text.

    ``hrefs`` (one per row, or None) makes the ``link_col`` cell a link; ``keys`` go into the rows'
    ``data-row`` attribute; ``classes`` are extra row classes."""

    head: list[str]
    rows: list[list[str]] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    hrefs: list[str | None] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    link_col: int = 0
    num_cols: tuple[int, ...] = ()

    def add(self, key: str, cells: list[str], href: str | None = None, cls: str = "") -> None:
        """One row."""
        self.rows.append(cells)
        self.keys.append(key)
        self.hrefs.append(href)
        self.classes.append(cls)

    def table(self, table_id: str, empty: str) -> Any:
        """The html table (or a line saying there is nothing)."""
        if not self.rows:
            return html.Div(empty, id=table_id, className="muted area-empty")
        body = []
        for cells, key, href, cls in zip(self.rows, self.keys, self.hrefs, self.classes, strict=True):
            tds = []
            for i, text in enumerate(cells):
                content: Any = dcc.Link(text, href=href) if href and i == self.link_col else text
                tds.append(html.Td(content, className="num" if i in self.num_cols else None))
            body.append(html.Tr(tds, className=f"area-row {cls}".strip(), **nav.data(row=key)))
        return html.Table(
            [
                html.Thead(
                    html.Tr(
                        [
                            html.Th(h, className="num" if i in self.num_cols else None)
                            for i, h in enumerate(self.head)
                        ]
                    )
                ),
                html.Tbody(body),
            ],
            id=table_id,
            className="area-table",
        )

    def data(self) -> dict[str, Any]:
        """What the export needs: the header and the rows, as shown."""
        return {"head": self.head, "rows": self.rows}


def to_csv(data: dict[str, Any]) -> str:
    """A table's CSV: UTF-8 with a byte-order mark (Excel then reads Chinese), header first."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(data["head"])
    w.writerows(data["rows"])
    return "\ufeff" + buf.getvalue()


# --------------------------------------------------------------------------- small pieces


def _level_name(key: str, lang: Lang) -> str:
    """A warning level's name."""
    lv = LEVEL_BY_KEY.get(key)
    return (lv.name_en if lang == "en" else lv.label_zh) if lv else key


def _area_label(area_id: str | None, lang: Lang) -> str:
    """An area's id and name ("–" for none, the id when unknown)."""
    if not area_id:
        return "–"
    try:
        return f"{area_id} {area_name(ctx().geo.area(area_id), lang)}"
    except KeyError:
        return area_id


def _http_url(url: str | None) -> str | None:
    """The URL when it is an absolute http(s) one (the only links made of data), else None."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def _panel(title: str, content: Any, cls: str = "", export: str | None = None, lang: Lang = "zh-CN") -> Any:
    """A titled panel; with ``export`` a CSV button and its download in the title line."""
    title_kids: list[Any] = [html.Span(title)]
    if export is not None:
        title_kids.append(
            html.Button(t("export_csv", lang), id=EXPORT.format(export), n_clicks=0, className="export-btn")
        )
    return html.Section(
        [html.Div(title_kids, className="panel-title"), content], className=f"panel area-panel {cls}".strip()
    )


def health_badge(h: dict[str, Any], lang: Lang) -> html.Div:
    """The health score: the number in its colour, the parts in the title (hover)."""
    parts = h.get("parts") or {}
    lost = [f"{t('hp_' + p, lang)} −{n}" for p, n in parts.items() if n]
    tip = f"{t('health_title', lang)} {h.get('score', '–')}/100" + (
        " · " + ", ".join(lost) if lost else " · " + t("health_no_loss", lang)
    )
    return html.Div(
        [
            html.Div(str(h.get("score", "–")), className="health-value", style={"color": h.get("colour")}),
            html.Div(t("health_title", lang), className="health-label"),
        ],
        id=HEALTH,
        className=f"health-score band-{h.get('band', 'none')}",
        title=tip,
        **nav.data(score=str(h.get("score", "")), band=str(h.get("band", ""))),
    )


def health_parts(h: dict[str, Any], lang: Lang) -> html.Div:
    """The points lost per part, written out (the cell view)."""
    parts = h.get("parts") or {}
    return html.Div(
        [
            html.Div(
                [html.Span(t("hp_" + p, lang)), html.B(f"−{parts[p]}" if parts.get(p) else "0")],
                className="hp-row" + (" lost" if parts.get(p) else ""),
                **nav.data(part=p),
            )
            for p in ("load", "overdue", "alerts", "devices", "freshness")
        ],
        id=CELL_HEALTH,
        className="health-parts",
    )


def kpi_tiles(k: dict[str, Any], rng: str, lang: Lang) -> html.Div:
    """The KPI tiles: cases over the range, open now by stage, devices, alerts by level."""
    rl = t(f"ap_range_{rng}", lang)

    def tile(key: str, value: str, label: str, cls: str = "") -> html.Div:
        return html.Div(
            [
                html.Div(value, id=KPI.format(key), className="kpi-value"),
                html.Div(label, className="kpi-label"),
            ],
            className=f"kpi {cls}".strip(),
        )

    alerts = k.get("alerts") or {}
    stages = k.get("open_by_stage") or {}
    return html.Div(
        [
            health_badge(k.get("health") or {}, lang),
            tile("reported", nav.num(k.get("reported"), lang), f"{t('kpi_reported', lang)} · {rl}"),
            tile("closed", nav.num(k.get("closed"), lang), f"{t('kpi_closed', lang)} · {rl}"),
            tile("returned", nav.num(k.get("returned"), lang), f"{t('kpi_returned', lang)} · {rl}"),
            tile("ontime", nav.pct(k.get("ontime_rate"), lang), f"{t('kpi_ontime', lang)} · {rl}"),
            tile("median", nav.minutes(k.get("median_handle_min"), lang), f"{t('kpi_median', lang)} · {rl}"),
            tile("open", nav.num(k.get("open"), lang), t("kpi_open", lang)),
            tile(
                "overdue",
                nav.num(k.get("overdue"), lang),
                t("kpi_overdue", lang),
                "bad" if k.get("overdue") else "",
            ),
            tile(
                "cameras",
                nav.pct(k.get("cameras_online_rate"), lang),
                f"{t('kpi_cameras_online', lang)} ({nav.num(k.get('cameras_online'), lang)}/"
                f"{nav.num(k.get('cameras'), lang)})",
            ),
            tile(
                "sensor-alarms",
                nav.num(k.get("sensor_alarms"), lang),
                f"{t('kpi_sensor_alarms', lang)} ({nav.num(k.get('sensors'), lang)})",
                "bad" if k.get("sensor_alarms") else "",
            ),
            html.Div(
                [
                    html.Div(
                        [html.Span(t(f"stage_{st}", lang)), html.B(nav.num(stages.get(st, 0), lang))],
                        className="stage-chip",
                        id=KPI.format(f"stage-{st}"),
                    )
                    for st in STAGES
                ],
                className="kpi stages",
                title=t("kpi_open_by_stage", lang),
            ),
            html.Div(
                [
                    html.Span(
                        [html.I(), html.B(nav.num(alerts.get(lv, 0), lang))],
                        className=f"alert-chip level-{lv}",
                        id=KPI.format(f"alerts-{lv}"),
                        title=_level_name(lv, lang),
                    )
                    for lv in LEVEL_ORDER
                ],
                className="kpi alerts",
                title=t("alerts_title", lang),
            ),
        ],
        id=KPIS,
        className="area-kpis",
    )


def trend_figure(tr: dict[str, Any], lang: Lang) -> dict[str, Any]:
    """Reported (bars) and closed (line) per hour or per day, oldest first."""
    hourly = tr.get("unit") == "hour"
    x = []
    for key in tr.get("x") or []:
        s = str(key)
        if hourly:
            x.append(t("hour_tick", lang).format(h=s[8:10]))
        else:
            x.append(f"{int(s[4:6])}月{int(s[6:8])}日" if lang == "zh-CN" else f"{int(s[6:8])}/{int(s[4:6])}")
    rep, clo = t("trend_reported", lang), t("trend_closed", lang)
    step = max(1, len(x) // 8)  # about eight labels on the axis
    return {
        "data": [
            {
                "type": "bar",
                "name": rep,
                "x": x,
                "y": tr.get("reported") or [],
                "marker": {"color": "#39c6f4"},
                "opacity": 0.85,
                "hovertemplate": "%{x} %{y}<extra>" + rep + "</extra>",
            },
            {
                "type": "scatter",
                "mode": "lines",
                "name": clo,
                "x": x,
                "y": tr.get("closed") or [],
                "line": {"color": "#3ddc84", "width": 2.5},
                "hovertemplate": "%{x} %{y}<extra>" + clo + "</extra>",
            },
        ],
        "layout": {
            **PLOT_LAYOUT,
            "bargap": 0.25,
            "margin": {"l": 40, "r": 8, "t": 26, "b": 28},
            "legend": {**PLOT_LAYOUT["legend"], "orientation": "h", "x": 1, "xanchor": "right", "y": 1.2},
            "xaxis": {**PLOT_LAYOUT["xaxis"], "type": "category", "tickmode": "array", "tickvals": x[::step]},
            "yaxis": {**PLOT_LAYOUT["yaxis"], "rangemode": "tozero"},
            "uirevision": "area",
        },
    }


def children_grid(rows: list[dict[str, Any]], lang: Lang) -> Grid:
    """The child areas, worst first."""
    g = Grid(
        [
            t(k, lang)
            for k in (
                "col_rank",
                "col_area",
                "col_id",
                "col_health",
                "col_open",
                "col_overdue",
                "col_alerts",
                "col_cameras",
            )
        ],
        link_col=1,
        num_cols=(0, 3, 4, 5, 6, 7),
    )
    for i, ch in enumerate(rows, 1):
        name = ch["name_en"] if lang == "en" else ch["name_zh"]
        g.add(
            ch["id"],
            [
                str(i),
                name,
                ch["id"],
                str(ch["health"]),
                nav.num(ch.get("open"), lang),
                nav.num(ch.get("overdue"), lang),
                nav.num(ch.get("alerts"), lang),
                nav.pct(ch.get("cameras_online_rate"), lang),
            ],
            nav.area_href(ch["level"], ch["id"], lang),
        )
    return g


def alerts_grid(rows: list[dict[str, Any]], lang: Lang) -> Grid:
    """The active alerts in or under the area, red first."""
    tz = ctx().tz
    g = Grid([t(k, lang) for k in ("ap_level", "ap_rule", "ap_area", "col_since", "ap_status")], link_col=-1)
    for a in rows:
        title = (a.get("title_en") if lang == "en" else a.get("title_zh")) or rule_title(a["rule"], lang)
        g.add(
            a["id"],
            [
                _level_name(a["level"], lang),
                title,
                _area_label(a.get("area"), lang),
                nav.when(a.get("fired") or a.get("started"), lang, tz),
                t(f"alert_{a['status']}", lang),
            ],
            cls=f"level-{a['level']}",
        )
    return g


def cases_grid(by_stage: dict[str, list[dict[str, Any]]], lang: Lang) -> Grid:
    """The cell's open cases by stage (stage order), each a link to its page."""
    tz = ctx().tz
    g = Grid(
        [t(k, lang) for k in ("col_case", "case_stage", "case_event_type", "case_priority", "case_deadline")],
        link_col=0,
    )
    for st in STAGES:
        for row in by_stage.get(st, []):
            late = bool(row.get("overdue"))
            g.add(
                row["case"],
                [
                    row["case"],
                    t(f"stage_{st}", lang),
                    type_name(str(row.get("type") or ""), lang),
                    t(f"priority_{row.get('priority') or 'normal'}", lang),
                    nav.when(row.get("deadline"), lang, tz)
                    + (f" · {t('case_stage_late', lang)}" if late else ""),
                ],
                nav.with_lang(f"/case/{row['case']}", lang),
                "late" if late else "",
            )
    return g


def history_grid(rows: list[dict[str, Any]], lang: Lang) -> Grid:
    """The cell's alert transitions, newest first."""
    tz = ctx().tz
    g = Grid(
        [t(k, lang) for k in ("case_col_time", "ap_level", "ap_rule", "col_change", "ap_actor")], link_col=-1
    )
    for i, tr in enumerate(rows):
        g.add(
            f"{tr.get('instance', '')}#{i}",
            [
                nav.when(tr.get("ts"), lang, tz),
                _level_name(tr.get("level", ""), lang),
                rule_title(str(tr.get("rule", "")), lang),
                f"{_status_word(tr.get('from_status'), lang)} → {_status_word(tr.get('to_status'), lang)}",
                str(tr.get("actor") or "–"),
            ],
            cls=f"level-{tr.get('level', '')}",
        )
    return g


STATUS_WORDS = frozenset({"firing", "acknowledged", "silenced", "pending", "resolved"})


def _status_word(status: str | None, lang: Lang) -> str:
    """An alert status in words (the key itself when it has none)."""
    return t(f"alert_{status}", lang) if status in STATUS_WORDS else str(status or "–")


# --------------------------------------------------------------------------- the cell view


def _camera_kinds(lang: Lang) -> dict[str, str]:
    """Camera kind labels."""
    return {k.key: (k.label_zh if lang == "zh-CN" else k.label_en) for k in CAMERA_KINDS}


def cell_sections(
    d: dict[str, Any], h: dict[str, Any], lang: Lang
) -> tuple[list[Any], Any, Any, dict[str, Grid]]:
    """The cell view's panels (health parts, workers, cases, recently closed, alert history), its
    cameras and its sensors with their last 24 h (each refreshed on its own: sensors change every
    minute, cameras seldom), and the grids that can be exported."""
    tz = ctx().tz
    kinds = _camera_kinds(lang)
    cam_rows: list[Any] = []
    for cam in d.get("cameras") or []:
        state = cam.get("status") or "unknown"
        url = _http_url(cam.get("stream_url"))
        cam_rows.append(
            {
                "id": cam["id"],
                "name": cam.get("name") or "",
                "kind": kinds.get(cam.get("kind", ""), cam.get("kind", "")),
                "status": t(f"cam_{state}", lang),
                "state": STATUS_CLASS.get(state, "unknown"),
                "since": nav.when(cam.get("since_ms"), lang, tz),
                "stream": f"[{t('col_stream', lang)}](<{url}>)" if url else "–",
            }
        )
    # one component for the whole list (a cell has ~30-100 cameras): the page stays light
    cameras = (
        DataTable(
            id=CELL_CAMERAS,
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
            style_cell={"backgroundColor": "#0b1a23", "color": "#d8eef7", "border": "none",
                        "borderBottom": "1px solid #0f2530", "fontFamily": "inherit", "textAlign": "left",
                        "padding": "3px 6px"},
            style_data_conditional=[
                {"if": {"filter_query": f'{{state}} = "{cls}"', "column_id": "status"}, "color": colour}
                for cls, colour in (("ok", "#3ddc84"), ("bad", "#e5484d"), ("warn", "#f2c14e"))
            ],
        )
        if cam_rows
        else html.Div(t("cell_no_cameras", lang), id=CELL_CAMERAS, className="muted")
    )  # fmt: skip
    sensor_boxes = []
    for s in d.get("sensors") or []:
        spec = METRIC_BY_NAME.get(s.get("metric", ""))
        label = (spec.label_en if lang == "en" else spec.label_zh) if spec else s.get("metric", "")
        state = s.get("status") or "unknown"
        value = "–" if s.get("value") is None else f"{s['value']:g} {s.get('unit', '')}"
        series = s.get("series") or []
        fig = {
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
        sensor_boxes.append(
            html.Div(
                [
                    html.Div(
                        [
                            html.Span(label, className="sensor-name"),
                            html.Span(s["id"], className="muted"),
                            html.Span(
                                t(f"sensor_{state}", lang), className=f"badge {STATUS_CLASS.get(state, '')}"
                            ),
                            html.B(value),
                            html.Span(nav.when(s.get("ts"), lang, tz), className="muted"),
                        ],
                        className="sensor-head",
                    ),
                    dcc.Graph(figure=fig, config=GRAPH_CONFIG, className="sensor-graph")
                    if series
                    else html.Div(t("no_data", lang), className="muted"),
                ],
                className="sensor-box",
                **nav.data(sensor=s["id"], status=state),
            )
        )
    sensors = html.Div(
        sensor_boxes or [html.Div(t("cell_no_sensors", lang), className="muted")], id=CELL_SENSORS
    )
    workers = html.Div(
        [
            *[
                html.Div(
                    [
                        html.B(
                            (w.get("name_en") if lang == "en" else w.get("name_zh")) or w.get("name") or ""
                        ),
                        html.Span(w.get("phone_masked") or "", className="phone"),
                        html.Span(
                            t(f"role_{w.get('role')}", lang) if w.get("role") in ROLES else "",
                            className="muted",
                        ),
                    ],
                    className="worker",
                    **nav.data(worker=str(w.get("id", ""))),
                )
                for w in d.get("workers") or []
            ],
            *([] if d.get("workers") else [html.Div(t("cell_no_workers", lang), className="muted")]),
            html.Div(t("cell_no_terminal", lang), className="muted no-terminal"),
        ],
        id=CELL_WORKERS,
    )
    closed = [
        html.Div(
            [
                dcc.Link(c_["case"], href=nav.with_lang(f"/case/{c_['case']}", lang)),
                html.Span(type_name(str(c_.get("type") or ""), lang)),
                html.Span(nav.when(c_.get("closed_ms"), lang, tz), className="muted"),
            ],
            className="closed-row",
            **nav.data(case=c_["case"]),
        )
        for c_ in d.get("recently_closed") or []
    ]
    cases = cases_grid(d.get("open_cases") or {}, lang)
    history = history_grid(d.get("alert_history") or [], lang)
    panels = [
        _panel(t("health_parts", lang), health_parts(h, lang), "cell-health"),
        _panel(t("cell_workers", lang), workers, "cell-workers"),
        _panel(
            t("cell_cases", lang),
            cases.table(CELL_CASES, t("cell_no_cases", lang)),
            "cell-cases",
            "cases",
            lang,
        ),
        _panel(
            t("cell_closed", lang),
            html.Div(closed or [html.Div(t("cell_no_closed", lang), className="muted")], id=CELL_CLOSED),
            "cell-closed",
        ),
        _panel(
            t("cell_history", lang),
            history.table(CELL_HISTORY, t("alerts_page_none", lang)),
            "cell-history",
            "history",
            lang,
        ),
    ]
    return panels, cameras, sensors, {"cases": cases, "history": history}


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
                        "tip": f"{row['id']} {row.get('name') or row.get('metric') or ''} · {word}",
                    },
                }
            )
    return {"type": "FeatureCollection", "features": feats}


# --------------------------------------------------------------------------- reading an area


def _alert_levels(alerts: list[dict[str, Any]], ids: list[str]) -> dict[str, str]:
    """The most severe active alert level in each of ``ids`` (an alert counts in the area it is raised
    on and in every area above it)."""
    geo = ctx().geo
    wanted = set(ids)
    out: dict[str, str] = {}
    for a in alerts:
        where = a.get("area")
        try:
            hit = {where, *(x.id for x in geo.ancestors(where))} if where else set()
        except KeyError:
            continue
        for area_id in hit & wanted:
            old = out.get(area_id)
            if old is None or LEVEL_BY_KEY[a["level"]].rank > LEVEL_BY_KEY[old].rank:
                out[area_id] = a["level"]
    return out


PARTS = (
    "kpis",
    "trend",
    "trend_title",
    "alerts",
    "main",
    "cameras",
    "sensors",
    "hideout",
)  # what a refresh may re-send


@dataclass
class View:
    """One read of an area: each part of the page (``PARTS``) with a signature of the data it shows,
    the exportable tables, and the cell's devices (GeoJSON points)."""

    parts: dict[str, Any]
    sigs: dict[str, str]
    tables: dict[str, dict[str, Any]]
    devices: dict[str, Any] | None = None


def _sig(data: Any) -> str:
    """A short signature of JSON-able data (a part is re-sent only when its signature changes)."""
    return hashlib.sha1(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def read_view(area: Area, rng: str, mode: str, lang: Lang) -> View:
    """Read the area through ``dashboard.queries.areas`` and build what the page shows."""
    c = ctx()
    reg = default_registry()
    rng_ = rng if rng in RANGES else "today"
    k = areas.kpis(c.redis, c.geo, reg, area.id, rng_, c.tz)  # type: ignore[arg-type]
    trend = areas.trend(c.redis, area.id, rng_, c.tz)  # type: ignore[arg-type]
    active = areas.active_alerts(c.redis, c.geo, area.id)
    alerts = alerts_grid(active, lang)
    grids: dict[str, Grid] = {"alerts": alerts}
    if area.level == "cell":
        ids = [area.id]
        h = k.get("health") or {}
        health = {area.id: [h.get("score"), h.get("colour")]}
        open_ = {area.id: k.get("open", 0)}
        d = cell_detail(c.redis, c.geo, reg, area.id, c.tz)
        main, cameras, sensors, cell_grids = cell_sections(d, h, lang)
        grids.update(cell_grids)
        devices = cell_devices(d, lang)
        main_data: Any = [h, {k: v for k, v in d.items() if k not in ("sensors", "cameras")}]
        sensor_data: Any = d.get("sensors")
        camera_data: Any = d.get("cameras")
        per_child = 1
    else:
        kids = areas.children(c.redis, c.geo, reg, area.id, c.tz)
        ids = [ch["id"] for ch in kids]
        health = {ch["id"]: [ch["health"], ch["colour"]] for ch in kids}
        open_ = {ch["id"]: ch.get("open", 0) for ch in kids}
        ranking = children_grid(kids, lang)
        grids["children"] = ranking
        main = [
            _panel(
                t(f"children_{CHILD_LEVEL[area.level]}", lang),
                ranking.table(CHILDREN, t("no_data", lang)),
                "area-children-panel",
                "children",
                lang,
            )
        ]
        main_data = ranking.rows
        sensors, sensor_data, cameras, camera_data, devices = [], None, [], None, None
        per_child = max(1, round(len(_cells_under(area.id)) / max(1, len(ids))))
    hideout = {
        "ids": ids,
        "mode": mode if mode in nav.MODES else "health",
        "health": health,
        "open": open_,
        "alerts": _alert_levels(active, ids),
        "bins": [b * per_child for b in BINS],
        "colors": COLORS,
        "level_colours": {lv.key: lv.colour for lv in LEVELS},
        "opacity": 0.35 if area.level == "cell" else 0.78,
    }
    parts = {
        "kpis": kpi_tiles(k, rng_, lang),
        "trend": trend_figure(trend, lang),
        "trend_title": t("trend_title" if rng_ == "today" else f"trend_title_{rng_}", lang),
        "alerts": alerts.table(ALERTS, t("alerts_none", lang)),
        "main": main,
        "cameras": cameras,
        "sensors": sensors,
        "hideout": hideout,
    }
    sigs = {
        "kpis": _sig([k, rng_]),
        "trend": _sig(trend),
        "trend_title": rng_,
        "alerts": _sig(alerts.rows),
        "main": _sig(main_data),
        "cameras": _sig(camera_data),
        "sensors": _sig(sensor_data),
        "hideout": _sig(hideout),
    }
    return View(parts, sigs, {name: g.data() for name, g in grids.items()}, devices)


def updated_line(lang: Lang) -> str:
    """When the page last read its data (local time, to the second)."""
    now = datetime.fromtimestamp(epoch_ms() / 1000, ctx().tz)
    return t("area_updated", lang).format(t=f"{now:%H:%M:%S}")


def legend(hideout: dict[str, Any], lang: Lang) -> dict[str, list[list[str]]]:
    """The colour keys of the map's three colourings: health bands, open cases, alert levels."""
    bins = hideout.get("bins") or BINS
    open_items = []
    for i, (lo, col) in enumerate(zip(bins, COLORS, strict=True)):
        hi = bins[i + 1] - 1 if i + 1 < len(bins) else None
        open_items.append([f"{lo}" if hi == lo else (f"{lo}–{hi}" if hi is not None else f"≥{lo}"), col])
    return {
        "health": [[t(f"band_{band}", lang), colour] for _lo, band, colour in BANDS],
        "open": open_items,
        "alerts": [[_level_name(lv, lang), LEVEL_BY_KEY[lv].colour] for lv in LEVEL_ORDER]
        + [[t("alerts_legend_none", lang), "#12303a"]],
    }


@functools.lru_cache(maxsize=256)
def _cells_under(area_id: str) -> tuple[str, ...]:
    """Every cell in or under an area (geography is fixed for the process)."""
    geo = ctx().geo
    area = geo.area(area_id)
    if area.level == "cell":
        return (area_id,)
    return tuple(cell for child in geo.children(area_id) for cell in _cells_under(child.id))


@functools.lru_cache(maxsize=256)
def _areas_under(area_id: str) -> tuple[str, ...]:
    """The area and every area inside it."""
    return (area_id, *(a for child in ctx().geo.children(area_id) for a in _areas_under(child.id)))


# --------------------------------------------------------------------------- the page


def breadcrumbs(area: Area, lang: Lang) -> html.Nav:
    """District › subdistrict › community › cell: every level above is a link up."""
    geo = ctx().geo
    chain = [*geo.ancestors(area.id), area]
    items: list[Any] = []
    for i, a in enumerate(chain):
        if i:
            items.append(html.Span("›", className="crumb-sep"))
        name = t("district", lang) if a.level == "district" else area_name(a, lang)
        if a is area:
            items.append(html.Span(name, className="crumb current", **nav.data(area=a.id)))
        else:
            items.append(dcc.Link(name, href=nav.area_href(a.level, a.id, lang), className="crumb"))
    return html.Nav(items, id=BREADCRUMBS, className="breadcrumbs")


def header(lang: Lang, crumbs: Any, title: Any) -> html.Header:
    """Breadcrumbs and title on the left; search and language on the right."""
    return html.Header(
        [
            html.Div([crumbs, title], className="area-heading"),
            html.Div([nav.search_box(lang), nav.lang_switch(lang)], className="area-tools"),
        ],
        className="area-header",
    )


def not_found(level: str, area_id: str, lang: Lang) -> html.Div:
    """The clear "no such area" page, with a way back to the district."""
    return html.Div(
        [
            html.H1(t("area_not_found_title", lang)),
            html.P(t("area_not_found_text", lang).format(level=t(f"level_{level}", lang), id=area_id)),
            html.A(t("area_back", lang), href=nav.with_lang("/", lang), className="back"),
        ],
        id=NOT_FOUND,
        className="area-not-found",
    )


def area_map(area: Area, hideout: dict[str, Any], devices: dict[str, Any] | None) -> dl.Map:
    """The map zoomed to the area: its children (or the cell) coloured, its own outline on top."""
    c = ctx()
    bounds = areas.bounds(c.geo, area.id)
    child_level = CHILD_LEVEL.get(area.level, "cell")
    return fitted_map(
        [
            *tiles(c.cfg.web),
            dl.GeoJSON(
                id=CHILD_LAYER,
                url=f"/geo/{GEO_FILE[child_level]}.geojson",
                filter={"variable": "citybrain.areamap.keep"},
                style={"variable": "citybrain.areamap.style"},
                hoverStyle={"variable": "citybrain.map.hoverStyle"},
                onEachFeature={"variable": "citybrain.areamap.tooltip"},
                hideout=hideout,
            ),
            dl.GeoJSON(
                id=OUTLINE_LAYER,
                url=f"/geo/{GEO_FILE[area.level]}.geojson",
                filter={"variable": "citybrain.areamap.keep"},
                style={"color": "#bfe9ff", "weight": 3, "fill": False},
                hideout={"ids": [area.id]},
                interactive=False,
            ),
            *(
                [
                    dl.GeoJSON(
                        id=DEVICES,
                        data=devices,
                        pointToLayer={"variable": "citybrain.areamap.device"},
                        onEachFeature={"variable": "citybrain.areamap.deviceTip"},
                    )
                ]
                if devices
                else []
            ),
        ],
        MAP,
        bounds,
        c.cfg.web,
        zoom=13,
        padding=20,
        zoom_snap=0.1,
    )


def _title(area: Area, lang: Lang) -> html.H1:
    """The area's name, level and id."""
    return html.H1(
        [
            html.Span(area_name(area, lang), className="area-name"),
            html.Span(t(f"level_{area.level}", lang), className="area-level"),
            html.Span(area.id, className="area-id"),
        ],
        id=TITLE,
    )


def body(view: View, lang: Lang) -> html.Div:
    """The page's right side: KPIs, trend and alerts, the children or the cell's panels."""
    p = view.parts
    return html.Div(
        [
            html.Div(p["kpis"], id=KPIS_BOX),
            html.Div(
                [
                    html.Section(
                        [
                            html.Div(p["trend_title"], id=TREND_TITLE, className="panel-title"),
                            dcc.Graph(
                                id=TREND, figure=p["trend"], config=GRAPH_CONFIG, className="area-graph"
                            ),
                        ],
                        className="panel area-panel area-trend-panel",
                    ),
                    _panel(
                        t("alerts_title", lang),
                        html.Div(p["alerts"], id=ALERTS_BOX),
                        "area-alerts-panel",
                        "alerts",
                        lang,
                    ),
                ],
                className="area-row2",
            ),
            html.Div(p["main"], id=MAIN, className="area-main"),
            *[
                html.Section(
                    [html.Div(t(title, lang), className="panel-title"), html.Div(p[part], id=box)],
                    className=f"panel area-panel {cls}",
                    hidden=not p[part],
                )
                for title, part, box, cls in (
                    ("cell_cameras", "cameras", CAMERAS_BOX, "cell-cameras"),
                    ("cell_sensors", "sensors", SENSORS_BOX, "cell-sensors"),
                )
            ],
            html.Div(updated_line(lang), id=UPDATED, className="muted area-updated"),
        ],
        id=BODY,
        className="area-body",
    )


def layout(level: str, area_id: str | None, lang: str | None) -> html.Div:
    """An area's page (``area_id`` None: the page's frame, as Dash's callback validation sees it)."""
    c = ctx()
    lang_: Lang = request_lang(c.cfg.locale, lang)
    area_id = unquote(area_id) if area_id is not None else None  # the path's id, percent-decoded
    area = areas.find(c.geo, level, area_id) if area_id else None  # type: ignore[arg-type]
    if area_id is not None and area is None:
        return html.Div(
            [
                header(lang_, html.Nav(id=BREADCRUMBS, className="breadcrumbs"), html.Div()),
                not_found(level, area_id, lang_),
            ],
            className=f"area-page lang-{lang_}",
            id=ROOT,
            lang=lang_,
        )
    frame = area is None
    empty = {"trend": {}, "trend_title": "", "hideout": {"ids": []}}
    empty |= {k: [] for k in ("kpis", "alerts", "main", "cameras", "sensors")}
    view = View(empty, {}, {})
    if area is not None:
        try:
            view = read_view(area, "today", "health", lang_)
        except Exception as err:  # Redis away: the frame, the page refreshes when it can
            log.warning("area page %s: data unavailable (%s)", area.id, err)
            view = View(
                {**empty, "main": [html.Div(t("case_unavailable", lang_), className="muted")]}, {}, {}
            )
    meta = (
        {}
        if area is None
        else {
            "id": area.id,
            "level": area.level,
            "lang": lang_,
            "cells": list(_cells_under(area.id)),
            "areas": list(_areas_under(area.id)),
            "legend": legend(view.parts["hideout"], lang_),
            "ids": ids.AREA_JS,
        }
    )
    ranges = dcc.RadioItems(
        id=RANGE,
        options=[{"label": t(f"ap_range_{r}", lang_), "value": r} for r in RANGES],
        value="today",
        inline=True,
        className="area-range",
    )
    map_box = html.Div(
        [
            area_map(area, view.parts["hideout"], view.devices)
            if area is not None
            else dl.Map(dl.GeoJSON(id=CHILD_LAYER), id=MAP),
            html.Div([nav.colour_switch(lang_), html.Div(id=LEGEND)], className="map-overlay area-switch"),
        ],
        className="area-map-box",
    )
    return html.Div(
        [
            header(
                lang_,
                breadcrumbs(area, lang_) if area is not None else html.Nav(id=BREADCRUMBS),
                html.Div(
                    [_title(area, lang_) if area is not None else html.H1(id=TITLE), ranges],
                    className="area-titlebar",
                ),
            ),
            html.Main(
                [map_box, body(view, lang_)],
                className="area-grid" + (" frame" if frame else ""),
            ),
            dcc.Store(id=META, data=meta),
            dcc.Store(id=REFRESH),
            dcc.Store(id=TABLES, data={"tables": view.tables, "sigs": view.sigs}),
            *[dcc.Download(id=DOWNLOAD.format(name)) for name in EXPORTS],
            *[html.Button(id=EXPORT.format(name), hidden=True) for name in EXPORTS if frame],
        ],
        className=f"area-page level-{level} lang-{lang_}",
        id=ROOT,
        lang=lang_,
    )


def _layout_of(level: str) -> Any:
    """The layout function of one level's pages (the level is not a query parameter)."""

    def page(area_id: str | None = None, lang: str | None = None, **_: Any) -> html.Div:
        return layout(level, area_id, lang)

    return page


def register(app: Dash) -> None:
    """Make the three drill-down pages and wire their callbacks."""
    for level in LEVELS_DOWN:
        dash.register_page(
            f"layouts.area.{level}",
            path_template=f"/{level}/<area_id>",
            layout=_layout_of(level),
            title=nav.tab_title,
        )
    nav.register(app)
    app.clientside_callback(
        ClientsideFunction("citybrainArea", "init"),
        Output(REFRESH, "data"),
        Input(META, "data"),
    )
    app.clientside_callback(
        ClientsideFunction("citybrainArea", "go"),
        Output(nav.LOCATION, "href", allow_duplicate=True),
        Input(CHILD_LAYER, "clickData"),
        State(META, "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("citybrainArea", "legend"),
        Output(LEGEND, "children"),
        Input(nav.COLOUR_SWITCH, "value"),
        State(META, "data"),
    )

    @app.callback(
        Output(KPIS_BOX, "children"),
        Output(TREND, "figure"),
        Output(TREND_TITLE, "children"),
        Output(ALERTS_BOX, "children"),
        Output(MAIN, "children"),
        Output(CAMERAS_BOX, "children"),
        Output(SENSORS_BOX, "children"),
        Output(CHILD_LAYER, "hideout"),
        Output(UPDATED, "children"),
        Output(TABLES, "data"),
        Input(REFRESH, "data"),
        Input(RANGE, "value"),
        Input(nav.COLOUR_SWITCH, "value"),
        State(TABLES, "data"),
        State(META, "data"),
        prevent_initial_call=True,
    )
    def refresh(_stamp: Any, rng: str, mode: str, shown: dict[str, Any], meta: dict[str, Any]) -> Any:
        """Re-read the area (something in it changed, or the range or the map's colouring did); send
        only the parts whose data changed."""
        if not meta:
            return (dash.no_update,) * (len(PARTS) + 2)
        lang: Lang = meta["lang"]
        view = read_view(ctx().geo.area(meta["id"]), rng, mode, lang)
        old = (shown or {}).get("sigs") or {}
        out = [dash.no_update if old.get(k) == view.sigs[k] else view.parts[k] for k in PARTS]
        return (*out, updated_line(lang), {"tables": view.tables, "sigs": view.sigs})

    for name in EXPORTS:
        _register_export(app, name)
    register_wall(app)


def register_wall(app: Dash) -> None:
    """On the wall at ``/``: a click on a cell opens its subdistrict; the colour switch restyles the
    cells through their hideout (assets/js/wall.js, no server call)."""
    from layouts import wall

    app.clientside_callback(
        ClientsideFunction("citybrain", "wallGo"),
        Output(nav.LOCATION, "href", allow_duplicate=True),
        Input(wall.CELLS, "clickData"),
        State(wall.META, "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("citybrain", "wallColour"),
        Output(nav.WALL_COLOUR_SINK, "data"),
        Input(nav.COLOUR_SWITCH, "value"),
        Input(wall.ALERTS, "data"),
        State(wall.META, "data"),
    )


def _register_export(app: Dash, name: str) -> None:
    """The CSV download of one table, from the rows the table on screen was built from."""

    @app.callback(
        Output(DOWNLOAD.format(name), "data"),
        Input(EXPORT.format(name), "n_clicks"),
        State(TABLES, "data"),
        State(META, "data"),
        prevent_initial_call=True,
    )
    def export(n: int | None, tables: dict[str, Any], meta: dict[str, Any]) -> Any:
        """The table as CSV, named after the area, the table and the language."""
        data = ((tables or {}).get("tables") or {}).get(name)
        if not n or not data:
            return dash.no_update
        return {
            "content": to_csv(data),
            "filename": f"{meta.get('id', 'area')}-{name}-{meta.get('lang', '')}.csv",
            "type": "text/csv;charset=utf-8",
            "base64": False,
        }
