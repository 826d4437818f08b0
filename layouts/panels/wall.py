"""The wall's panels and pieces (``/`` and ``/wall``): counter tiles, titled panels with their freshness
marks, the figures' mounts, the warnings panel and map outlines, the status row. Their content is painted
by the page's JS (assets/js/); these are the empty frames with their ids (layouts/ids.py)."""

from __future__ import annotations

from typing import Any, Literal

import dash_leaflet as dl
from dash import dcc, html

from dashboard.alerts.levels import LEVELS
from dashboard.domain.freshness import CAMERA, CASE, SENSOR
from dashboard.domain.i18n import Lang, t
from layouts import ids, nav
from layouts.look import BINS, COLORS, GRAPH_CONFIG, PLOT_LAYOUT

Mode = Literal["desk", "wall"]  # an operator's screen (/) or an unattended command wall (/wall)


KPIS: tuple[tuple[str, str], ...] = (
    (ids.KPI_OPEN, "kpi_open"),
    (ids.KPI_REPORTED, "kpi_reported_today"),
    (ids.KPI_CLOSED, "kpi_closed_today"),
    (ids.KPI_CAMERAS, "kpi_cameras_online"),
    (ids.KPI_READINGS, "kpi_readings_today"),
)


def fresh(panel_id: str) -> html.Span:
    """A panel's freshness mark (the page's JS writes the age into it every second)."""
    data: Any = {"data-fresh": ""}
    return html.Span(id=ids.FRESH.format(panel_id), className="fresh", **data)


def kpi(kpi_id: str, label_key: str, lang: Lang) -> html.Div:
    """One live counter tile."""
    return html.Div(
        [
            html.Div("–", id=kpi_id, className="kpi-value"),
            html.Div([t(label_key, lang), fresh(kpi_id)], className="kpi-label"),
        ],
        className="kpi",
    )


def legend(lang: Lang) -> html.Div:
    """The colour key of the cells."""
    items = []
    for i, (lo, col) in enumerate(zip(BINS, COLORS, strict=True)):
        hi = BINS[i + 1] - 1 if i + 1 < len(BINS) else None
        label = f"{lo}" if hi == lo else (f"{lo}–{hi}" if hi is not None else f"≥{lo}")
        items.append(html.Span([html.I(style={"background": col}), label], className="legend-item"))
    return html.Div([html.Div(t("legend_title", lang), className="panel-title"), *items], className="legend")


# The panels of ``/`` whose table downloads as CSV (``GET /ui/export/<table>.csv``: web/api/exports.py)
EXPORTS: dict[str, str] = {
    ids.OVERDUE_LIST: "overdue",
    ids.LEAGUE: "league",
    ids.SUBDISTRICT_TOTALS: "subdistricts",
}


def export_link(table: str, lang: Lang) -> html.A:
    """A panel's "CSV" link (id ``wall-export-<table>``); not shown on /wall (nothing to click there)."""
    return html.A(
        "CSV",
        href=nav.with_lang(f"/ui/export/{table}.csv", lang),
        id=ids.WALL_EXPORT.format(table),
        className="export-link",
        title=t("export_csv_title", lang),
        download="",
    )


def panel(title_key: str, lang: Lang, content: Any, panel_id: str) -> html.Section:
    """A titled side panel around ``content`` (which carries the panel's id); with its CSV link when its
    table exports (``EXPORTS``)."""
    link = [export_link(EXPORTS[panel_id], lang)] if panel_id in EXPORTS else []
    return html.Section(
        [html.Div([t(title_key, lang), fresh(panel_id), *link], className="panel-title"), content],
        className=f"panel {panel_id}-panel",
    )


def category_box() -> html.Div:
    """Today's events by category: the donut (plotly) with the total in its middle, the legend as text."""
    donut = html.Div(
        [graph_mount(ids.CATEGORY_GRAPH), html.Div("–", id=ids.CATEGORY_TOTAL, className="cat-total")],
        className="graph-box cat-donut",
    )
    return html.Div([donut, html.Div(id=ids.CATEGORY_LEGEND, className="cat-legend")], className="cat-box")


def trend_box() -> html.Div:
    """The last 24 hours' reports and closures (plotly)."""
    return html.Div(graph_mount(ids.TREND_GRAPH), className="graph-box")


def graph_mount(graph_id: str) -> html.Div:
    """Where a figure's graph goes: the page's JS mounts it (``meta["graphs"]``) after the first full screen,
    so that plotly.js (1 MB) loads after the map and the counters, not before them."""
    return html.Div(id=ids.GRAPH_MOUNT.format(graph_id), className="graph-mount")


def graph(graph_id: str) -> dcc.Graph:
    """A light figure the page's JS fills: no mode bar, no animation, dark from the first frame."""
    return dcc.Graph(
        id=graph_id,
        figure={"data": [], "layout": PLOT_LAYOUT},
        config=GRAPH_CONFIG,
        animate=False,
        className="wall-graph",
        style={"height": "100%"},
    )


# Which record kind each panel shows (dashboard/freshness.py): its feed's health greys it out.
FRESH_PANELS: dict[str, str] = {
    **{
        p: CASE
        for p in (
            ids.KPI_OPEN,
            ids.KPI_REPORTED,
            ids.KPI_CLOSED,
            ids.FLOW,
            ids.LEAGUE,
            ids.SUBDISTRICT_TOTALS,
        )
    },
    **{p: CASE for p in (ids.CATEGORY_GRAPH, ids.OVERDUE_LIST, ids.TREND_GRAPH, ids.TICKER, ids.TOP_CELLS)},
    ids.KPI_CAMERAS: CAMERA,
    ids.KPI_READINGS: SENSOR,
}


ARIA_OFF: Any = {"aria-pressed": "false"}  # the sound starts off; the page's JS sets it from localStorage


def alert_layer(layer_id: str, url: str) -> dl.GeoJSON:
    """Outlines of the areas with active alerts: the geometry is the cached static file, the alerts
    come through ``hideout`` ({"alerts": {area id: [level, firing]}, "colours": {level: colour}})."""
    return dl.GeoJSON(
        id=layer_id,
        url=url,
        style={"variable": "citybrain.map.alertStyle"},
        hideout={"alerts": {}, "colours": {lv.key: lv.colour for lv in LEVELS}},
        interactive=False,
    )


def alert_panel(lang: Lang, mode: Mode) -> html.Section:
    """The active warnings: counters by level, the duty officer's name and note (desk only), the list."""
    counts = html.Div(
        [
            html.Span(
                [html.I(), html.B("0", id=ids.ALERT_COUNT.format(lv.key))],
                className=f"alert-count level-{lv.key}",
                title=lv.label_zh if lang == "zh-CN" else lv.name_en,
            )
            for lv in reversed(LEVELS)
        ],
        id=ids.ALERT_COUNTS,
        className="alert-counts",
    )
    duty = html.Div(
        [
            dcc.Input(
                id=ids.DUTY_NAME,
                type="text",
                placeholder=t("duty_name", lang),
                maxLength=64,
                persistence=True,
                persistence_type="local",
                debounce=False,
                className="duty-name",
            ),
            dcc.Input(
                id=ids.ALERT_NOTE,
                type="text",
                placeholder=t("ack_note", lang),
                maxLength=500,
                className="alert-note",
            ),
            html.Span(id=ids.ALERT_MSG, className="alert-msg", role="status"),
        ],
        className="duty-row",
    )
    controls = (
        [duty, html.A(t("alerts_history", lang), href=f"/alerts?lang={lang}", id=ids.ALERTS_HISTORY_LINK)]
        if mode == "desk"
        else []
    )
    return html.Section(
        [
            html.Div([t("alerts_title", lang), counts], className="panel-title"),
            *controls,
            html.Div(id=ids.ALERT_LIST, className="alert-list"),
        ],
        className=f"panel {ids.ALERT_LIST}-panel",
    )


def sound_notice(lang: Lang) -> html.Button:
    """/wall: hidden while the wall can sound; says so plainly while the browser blocks audio (a click
    anywhere enables it)."""
    return html.Button(t("sound_blocked", lang), id=ids.SOUND_NOTICE, className="sound-notice hidden")


def status_row(lang: Lang) -> html.Div:
    """The sound toggle and the link to the other language."""
    other = "en" if lang == "zh-CN" else "zh-CN"
    return html.Div(
        [
            nav.search_box(lang),
            html.Button(
                t("sound_enable", lang), id=ids.SOUND, className="sound-toggle", n_clicks=0, **ARIA_OFF
            ),
            html.A(
                t("lang_other", lang),
                href=f"?lang={other}",
                className="lang",
                id=ids.LANG_SWITCH,
                **nav.data(lang=other),
            ),
        ],
        className="status-row",
    )


def about(lang: Lang) -> html.Details:
    """The about box: where the data comes from, and that the boundaries are approximate."""
    return html.Details(
        [html.Summary(t("about_title", lang)), html.P(t("about_geo", lang)), html.P(t("about_feed", lang))],
        className="about",
        id=ids.ABOUT,
    )
