"""The command wall: the district map with 478 live cells, a header of live counters, the case
lifecycle's panels left and right, a ticker of case events at the bottom.

The page loads one snapshot; after that Socket.IO deltas arrive and clientside callbacks
(assets/js/, docs/UI.md) apply them to the page's own state (started from ``wall-live``), restyle only
the changed cells through their Leaflet layers, write counters and panels straight into the DOM and
redraw the figures at most every 5 s: no server round trip, no Dash store write on that path.
Geometry comes from /geo/*.geojson (static, cached), never inside the layout or a delta.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Any, Literal

import dash
import dash_leaflet as dl
from dash import ClientsideFunction, Dash, Input, Output, State, dcc, html

from dashboard.alerts.levels import LEVELS
from dashboard.domain.freshness import CAMERA, CASE, SENSOR
from dashboard.domain.i18n import Lang, bundle, t
from dashboard.domain.lifecycle import STAGES
from dashboard.web.context import ctx, request_lang, snapshot
from layouts import ids, nav
from layouts.devices import device_layers
from layouts.maps import fitted_map, tiles
from layouts.names import area_name, area_short, catalogue_names

# Element ids: the UI contract (docs/UI.md), defined in layouts/ids.py; tests use these names.
MAP = ids.WALL_MAP
CELLS = ids.WALL_CELLS
SUBDISTRICTS = ids.WALL_SUBDISTRICTS
OUTLINE = ids.WALL_OUTLINE
CONNECTION = ids.CONNECTION
CONNECTION_BANNER = ids.CONNECTION_BANNER
FEEDS = ids.FEEDS
FRESH = ids.FRESH
CLOCK = ids.CLOCK
LIVE = ids.LIVE
META = ids.META
TOP_CELLS = ids.TOP_CELLS
SUBDISTRICT_TOTALS = ids.SUBDISTRICT_TOTALS
KPI_OPEN = ids.KPI_OPEN
KPI_REPORTED = ids.KPI_REPORTED
KPI_CLOSED = ids.KPI_CLOSED
KPI_CAMERAS = ids.KPI_CAMERAS
KPI_READINGS = ids.KPI_READINGS
KPIS: tuple[tuple[str, str], ...] = (
    (KPI_OPEN, "kpi_open"),
    (KPI_REPORTED, "kpi_reported_today"),
    (KPI_CLOSED, "kpi_closed_today"),
    (KPI_CAMERAS, "kpi_cameras_online"),
    (KPI_READINGS, "kpi_readings_today"),
)
# the case-lifecycle panels
FLOW = ids.FLOW
OVERDUE_LIST = ids.OVERDUE_LIST
OVERDUE_LATE = "od-late"  # class of each row's "late by" (data-index: the row), ticked by the page
LEAGUE = ids.LEAGUE
TICKER = ids.TICKER
CATEGORY_GRAPH = ids.CATEGORY_GRAPH
GRAPH_MOUNT = ids.GRAPH_MOUNT
CATEGORY_TOTAL = ids.CATEGORY_TOTAL
CATEGORY_LEGEND = ids.CATEGORY_LEGEND
TREND_GRAPH = ids.TREND_GRAPH
# the warnings (预警): banner, list, sound, map outlines (docs/UI.md)
ALERTS = ids.ALERTS
ALERT_BANNER = ids.ALERT_BANNER
ALERT_LIST = ids.ALERT_LIST
ALERT_COUNTS = ids.ALERT_COUNTS
ALERT_COUNT = ids.ALERT_COUNT
ALERT_ACK = ids.ALERT_ACK
ALERT_NOTE = ids.ALERT_NOTE
ALERT_MSG = ids.ALERT_MSG
DUTY_NAME = ids.DUTY_NAME
SOUND = ids.SOUND
ALERT_CELLS = ids.ALERT_CELLS
ALERT_COMMUNITIES = ids.ALERT_COMMUNITIES
Mode = Literal["desk", "wall"]  # an operator's screen (/) or an unattended command wall (/wall)
GRAPH_CONFIG: Any = {"displayModeBar": False, "displaylogo": False, "scrollZoom": False}

# The figures' dark look, a plain dict (no plotly template lookup, nothing from a CDN); the page's JS
# builds the figures from the live store on top of it.
FONT = '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif'
PLOT_LAYOUT: dict[str, Any] = {
    "paper_bgcolor": "rgba(0,0,0,0)",
    "plot_bgcolor": "rgba(0,0,0,0)",
    "font": {"family": FONT, "color": "#d8eef7", "size": 13},
    "margin": {"l": 40, "r": 8, "t": 8, "b": 28},
    "xaxis": {
        "gridcolor": "#16313d",
        "linecolor": "#16313d",
        "zeroline": False,
        "tickfont": {"color": "#7c98a6"},
    },
    "yaxis": {
        "gridcolor": "#16313d",
        "linecolor": "#16313d",
        "zeroline": False,
        "tickfont": {"color": "#7c98a6"},
    },
    "legend": {"font": {"color": "#d8eef7", "size": 13}, "bgcolor": "rgba(0,0,0,0)"},
    "hoverlabel": {
        "bgcolor": "#0b1a23",
        "bordercolor": "#39c6f4",
        "font": {"family": FONT, "color": "#d8eef7"},
    },
    "uirevision": "wall",
}

# Open cases per cell: class breaks and colours (dark teal → amber → red), readable on a dark wall.
BINS = [0, 1, 2, 4, 6, 9, 13]
COLORS = ["#12303a", "#1d5c63", "#2f8f83", "#9bbf5a", "#f2c14e", "#f08a3e", "#e5484d"]


def cell_colour(n: int) -> str:
    """The colour of a cell with ``n`` open cases (assets/js/map.js binColour draws the same on the page)."""
    return COLORS[max(0, bisect.bisect_right(BINS, n) - 1)]


def _fresh(panel_id: str) -> html.Span:
    """A panel's freshness mark (the page's JS writes the age into it every second)."""
    data: Any = {"data-fresh": ""}
    return html.Span(id=FRESH.format(panel_id), className="fresh", **data)


def _kpi(kpi_id: str, label_key: str, lang: Lang) -> html.Div:
    """One live counter tile."""
    return html.Div(
        [
            html.Div("–", id=kpi_id, className="kpi-value"),
            html.Div([t(label_key, lang), _fresh(kpi_id)], className="kpi-label"),
        ],
        className="kpi",
    )


def _legend(lang: Lang) -> html.Div:
    """The colour key of the cells."""
    items = []
    for i, (lo, col) in enumerate(zip(BINS, COLORS, strict=True)):
        hi = BINS[i + 1] - 1 if i + 1 < len(BINS) else None
        label = f"{lo}" if hi == lo else (f"{lo}–{hi}" if hi is not None else f"≥{lo}")
        items.append(html.Span([html.I(style={"background": col}), label], className="legend-item"))
    return html.Div([html.Div(t("legend_title", lang), className="panel-title"), *items], className="legend")


def _panel(title_key: str, lang: Lang, content: Any, panel_id: str) -> html.Section:
    """A titled side panel around ``content`` (which carries the panel's id)."""
    return html.Section(
        [html.Div([t(title_key, lang), _fresh(panel_id)], className="panel-title"), content],
        className=f"panel {panel_id}-panel",
    )


def _meta(lang: Lang) -> dict[str, Any]:
    """What the page's JS needs once: key names, strings, and the names of areas and catalogue entries."""
    c = ctx()
    geo = c.geo
    return {
        "lang": lang,
        "view": WALL_VIEW,
        "ids": ids.WALL_JS,
        "tz": c.cfg.timezone,
        "strings": bundle(lang),
        "stages": list(STAGES),
        "plot": PLOT_LAYOUT,
        "graph_config": GRAPH_CONFIG,
        "graphs": {GRAPH_MOUNT.format(g): _graph(g).to_plotly_json() for g in (CATEGORY_GRAPH, TREND_GRAPH)},
        "fresh": FRESH_PANELS,
        "cells": {a.id: [area_name(a, lang), a.parent_id] for a in geo.cells.values()},
        "communities": {a.id: a.parent_id for a in geo.communities.values()},
        "subdistricts": {a.id: area_name(a, lang) for a in geo.subdistricts.values()},
        "sub_short": {a.id: area_short(a, lang) for a in geo.subdistricts.values()},
        "community_names": {a.id: area_name(a, lang) for a in geo.communities.values()},
        "district_name": t("district", lang),
        "levels": {
            lv.key: {
                "rank": lv.rank,
                "colour": lv.colour,
                "name": lv.label_zh if lang == "zh-CN" else lv.name_en,
            }
            for lv in LEVELS
        },
        **catalogue_names(lang),
    }


def _category_box() -> html.Div:
    """Today's events by category: the donut (plotly) with the total in its middle, the legend as text."""
    donut = html.Div(
        [_graph_mount(CATEGORY_GRAPH), html.Div("–", id=CATEGORY_TOTAL, className="cat-total")],
        className="graph-box cat-donut",
    )
    return html.Div([donut, html.Div(id=CATEGORY_LEGEND, className="cat-legend")], className="cat-box")


def _trend_box() -> html.Div:
    """The last 24 hours' reports and closures (plotly)."""
    return html.Div(_graph_mount(TREND_GRAPH), className="graph-box")


def _graph_mount(graph_id: str) -> html.Div:
    """Where a figure's graph goes: the page's JS mounts it (``meta["graphs"]``) after the first full screen,
    so that plotly.js (1 MB) loads after the map and the counters, not before them."""
    return html.Div(id=GRAPH_MOUNT.format(graph_id), className="graph-mount")


def _graph(graph_id: str) -> dcc.Graph:
    """A light figure the page's JS fills: no mode bar, no animation, dark from the first frame."""
    return dcc.Graph(
        id=graph_id,
        figure={"data": [], "layout": PLOT_LAYOUT},
        config=GRAPH_CONFIG,
        animate=False,
        className="wall-graph",
        style={"height": "100%"},
    )


# The wall joins the Socket.IO room "wall" (dashboard/push.py rooms), on / and /wall alike: its JS connects
# with ``auth: {"pathname", "view": WALL_VIEW}`` (assets/js/socket.js) and reads every event off the socket.
WALL_VIEW = "wall"
# Which record kind each panel shows (dashboard/freshness.py): its feed's health greys it out.
FRESH_PANELS: dict[str, str] = {
    **{p: CASE for p in (KPI_OPEN, KPI_REPORTED, KPI_CLOSED, FLOW, LEAGUE, SUBDISTRICT_TOTALS)},
    **{p: CASE for p in (CATEGORY_GRAPH, OVERDUE_LIST, TREND_GRAPH, TICKER, TOP_CELLS)},
    KPI_CAMERAS: CAMERA,
    KPI_READINGS: SENSOR,
}

ARIA_OFF: Any = {"aria-pressed": "false"}  # the sound starts off; the page's JS sets it from localStorage


def _alert_layer(layer_id: str, url: str) -> dl.GeoJSON:
    """Outlines of the areas with active alerts: the geometry is the cached static file, the alerts
    come through ``hideout`` ({"alerts": {area id: [level, firing]}, "colours": {level: colour}})."""
    return dl.GeoJSON(
        id=layer_id,
        url=url,
        style={"variable": "citybrain.map.alertStyle"},
        hideout={"alerts": {}, "colours": {lv.key: lv.colour for lv in LEVELS}},
        interactive=False,
    )


def _alert_panel(lang: Lang, mode: Mode) -> html.Section:
    """The active warnings: counters by level, the duty officer's name and note (desk only), the list."""
    counts = html.Div(
        [
            html.Span(
                [html.I(), html.B("0", id=ALERT_COUNT.format(lv.key))],
                className=f"alert-count level-{lv.key}",
                title=lv.label_zh if lang == "zh-CN" else lv.name_en,
            )
            for lv in reversed(LEVELS)
        ],
        id=ALERT_COUNTS,
        className="alert-counts",
    )
    duty = html.Div(
        [
            dcc.Input(
                id=DUTY_NAME,
                type="text",
                placeholder=t("duty_name", lang),
                maxLength=64,
                persistence=True,
                persistence_type="local",
                debounce=False,
                className="duty-name",
            ),
            dcc.Input(
                id=ALERT_NOTE,
                type="text",
                placeholder=t("ack_note", lang),
                maxLength=500,
                className="alert-note",
            ),
            html.Span(id=ALERT_MSG, className="alert-msg", role="status"),
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
            html.Div(id=ALERT_LIST, className="alert-list"),
        ],
        className=f"panel {ALERT_LIST}-panel",
    )


def _status_row(lang: Lang) -> html.Div:
    """The sound toggle and the link to the other language."""
    other = "en" if lang == "zh-CN" else "zh-CN"
    return html.Div(
        [
            nav.search_box(lang),
            html.Button(t("sound_enable", lang), id=SOUND, className="sound-toggle", n_clicks=0, **ARIA_OFF),
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


def _about(lang: Lang) -> html.Details:
    """The about box: where the data comes from, and that the boundaries are approximate."""
    return html.Details(
        [html.Summary(t("about_title", lang)), html.P(t("about_geo", lang)), html.P(t("about_feed", lang))],
        className="about",
        id=ids.ABOUT,
    )


def layout(lang: str | None = None, **_: Any) -> html.Div:
    """The wall at ``/``, built at each page load from one snapshot of the read models."""
    return page(lang)


def page(lang: str | None, mode: Mode = "desk", map_extra: Sequence[Any] = ()) -> html.Div:
    """The wall page: ``desk`` for an operator (``/``), ``wall`` for an unattended command wall
    (``/wall``: no controls, root class ``mode-wall``); ``map_extra`` goes over the map."""
    c = ctx()
    lang_: Lang = request_lang(c.cfg.locale, lang)
    try:
        snap = snapshot()
    except Exception:  # Redis away at page load: show the map, the page resyncs when it can
        snap = {"seq": -1, "ts": 0, "cells": {}, "kpi": {}, "alerts": {"seq": -1, "alerts": []}}
    alerts = snap.pop("alerts", None) or {"seq": -1, "alerts": []}
    geo = c.geo
    cell_map = fitted_map(
        [
            *tiles(c.cfg.web),
            dl.GeoJSON(
                id=CELLS,
                url="/geo/cells.geojson",
                style={"variable": "citybrain.map.cellStyle"},
                hideout={
                    **{"counts": snap["cells"], "bins": BINS, "colors": COLORS, "seq": snap["seq"]},
                    **{"mode": "open", "health": snap.get("health") or {}},  # the colour switch (wall.js)
                },
                hoverStyle={"variable": "citybrain.map.hoverStyle"},
                onEachFeature={"variable": "citybrain.map.cellTooltip"},
            ),
            dl.GeoJSON(
                id=SUBDISTRICTS,
                url="/geo/subdistricts.geojson",
                style={"color": "#7fd4ff", "weight": 2.2, "fill": False, "opacity": 0.9},
                interactive=False,
            ),
            dl.GeoJSON(
                id=OUTLINE,
                url="/geo/district.geojson",
                style={"color": "#bfe9ff", "weight": 3.5, "fill": False},
                interactive=False,
            ),
            _alert_layer(ALERT_COMMUNITIES, "/geo/communities.geojson"),  # on top: the warnings
            _alert_layer(ALERT_CELLS, "/geo/cells.geojson"),
        ],
        MAP,
        geo.bounds,
        c.cfg.web,
        zoom=12,
        padding=16,
        zoom_snap=0.1,
    )
    desk = mode == "desk"  # the sound and language controls and the about box: an operator's screen only
    header = html.Header(
        [
            html.Div(
                [html.H1(t("wall_title", lang_)), html.Span(id=CLOCK, className="clock")], className="title"
            ),
            html.Div([_kpi(k, label, lang_) for k, label in KPIS], className="kpis"),
            html.Div(
                [
                    html.Span(t("connecting", lang_), id=CONNECTION, className="conn conn-wait"),
                    *([_status_row(lang_)] if desk else []),
                ],
                className="status",
            ),
        ],
        className="wall-header",
    )
    left = html.Aside(
        [
            _panel("flow_title", lang_, html.Div(id=FLOW, className="flow"), FLOW),
            _panel("league_title", lang_, html.Div(id=LEAGUE), LEAGUE),
            _panel(
                "subdistricts",
                lang_,
                html.Div(id=SUBDISTRICT_TOTALS, className="sub-grid"),
                SUBDISTRICT_TOTALS,
            ),
            _panel("cat_title", lang_, _category_box(), CATEGORY_GRAPH),
        ],
        className="wall-col wall-left",
    )
    right = html.Aside(
        [
            _alert_panel(lang_, mode),
            _panel("overdue_title", lang_, html.Div(id=OVERDUE_LIST, className="overdue"), OVERDUE_LIST),
            _panel("trend_title", lang_, _trend_box(), TREND_GRAPH),
        ],
        className="wall-col wall-right",
    )
    overlays = [
        *map_extra,  # before the boxes it may hide (a CSS sibling rule, not :has(): see wallmode.css)
        html.Div(id=ALERT_BANNER, className="alert-banner hidden", role="alert"),
        html.Div(
            [
                html.Div([t("top_cells", lang_), _fresh(TOP_CELLS)], className="panel-title"),
                html.Ol(id=TOP_CELLS),
            ],
            className="map-overlay top-cells-box",
        ),
        html.Div(
            [
                _legend(lang_),
                *([nav.wall_colour_switch(lang_), _about(lang_)] if desk else []),
            ],
            className="map-overlay legend-box",
        ),
        device_layers(lang_, controls=desk),  # cameras and sensors: assets/js/devices.js draws them
    ]
    ticker = html.Section(
        [
            html.Div([t("ticker_title", lang_), _fresh(TICKER)], className="ticker-title"),
            html.Div(id=TICKER, className="ticker"),
        ],
        className="wall-ticker",
    )
    return html.Div(
        [
            header,
            html.Main(
                [left, html.Div([cell_map, *overlays], className="wall-map"), right, ticker],
                className="wall-body",
            ),
            html.Div(id=CONNECTION_BANNER, className="connection-banner hidden", role="alert"),
            dcc.Store(id=FEEDS, data={"ts": snap.get("ts", 0), "kinds": snap.pop("feeds", {})}),
            dcc.Store(id=ALERTS, data=alerts),
            dcc.Store(id=LIVE, data={k: v for k, v in snap.items() if k != "cells"}),
            dcc.Store(id=META, data=_meta(lang_)),
        ],
        className=f"wall mode-{mode} lang-{lang_}",
        lang=lang_,
    )


def register(app: Dash) -> None:
    """Make the wall the page at ``/`` and wire its callbacks."""
    dash.register_page("layouts.wall", path="/", layout=layout, title="禅城区城市大脑 · City Brain")
    register_callbacks(app)


def register_callbacks(app: Dash) -> None:
    """Wire the clientside callbacks (assets/js/wall.js, alertview.js, sound.js); none of them calls the
    server. The live path (deltas, alerts, feeds, the 1 s timer) is the page's JS alone: it paints straight
    into the DOM."""
    app.clientside_callback(
        ClientsideFunction("citybrain", "init"),
        Output(CLOCK, "title"),  # the clock's time zone: the page's JS starts here
        Input(META, "data"),
        State(LIVE, "data"),
        State(CELLS, "hideout"),
        State(FEEDS, "data"),
        State(ALERTS, "data"),
    )
    app.clientside_callback(
        ClientsideFunction("citybrain", "alerts"),
        Output(ALERT_BANNER, "children"),
        Output(ALERT_BANNER, "className"),
        Output(ALERT_LIST, "children"),
        *[Output(ALERT_COUNT.format(lv.key), "children") for lv in LEVELS],
        Output(ALERT_CELLS, "hideout"),
        Output(ALERT_COMMUNITIES, "hideout"),
        Input(ALERTS, "data"),
        State(META, "data"),
    )
    app.clientside_callback(
        ClientsideFunction("citybrain", "sound"),
        Output(SOUND, "className"),
        Output(SOUND, "aria-pressed"),
        Output(SOUND, "children"),
        Input(SOUND, "n_clicks"),
        State(META, "data"),
    )
