"""The command wall: the district map with 478 live cells, a header of live counters, the case
lifecycle's panels left and right, a ticker of case events at the bottom.

The page loads one snapshot; after that Socket.IO deltas arrive and clientside callbacks
(assets/js/, docs/UI.md) apply them to the page's own state (started from ``wall-live``), restyle only
the changed cells through their Leaflet layers, write counters and panels straight into the DOM and
redraw the figures at most every 5 s: no server round trip, no Dash store write on that path.
Geometry comes from /geo/*.geojson (static, cached), never inside the layout or a delta.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dash
import dash_leaflet as dl
from dash import ClientsideFunction, Input, Output, State, dcc, html

from dashboard.alerts.levels import LEVELS
from dashboard.domain.i18n import Lang, bundle, t
from dashboard.domain.lifecycle import STAGES
from dashboard.web.context import ctx, request_lang, snapshot
from layouts import ids, maps, nav
from layouts.devices import device_layers
from layouts.look import BINS, COLORS, GRAPH_CONFIG, PLOT_LAYOUT
from layouts.maps import fitted_map, tiles
from layouts.names import area_name, area_short, catalogue_names
from layouts.panels import wall as panels
from layouts.panels.wall import FRESH_PANELS, KPIS, Mode

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
SOUND_NOTICE = ids.SOUND_NOTICE
ALERT_CELLS = ids.ALERT_CELLS
ALERT_COMMUNITIES = ids.ALERT_COMMUNITIES


def _meta(lang: Lang, mode: Mode) -> dict[str, Any]:
    """What the page's JS needs once: key names, strings, the names of areas and catalogue entries, and
    when it sounds (``auto``: by itself, as /wall does; else when the person turns sound on)."""
    c = ctx()
    geo = c.geo
    web = c.cfg.web
    return {
        "lang": lang,
        "view": WALL_VIEW,
        "sound": {
            "level": web.sound_level,
            "every_ms": int(web.sound_repeat_s * 1000),
            "auto": mode == "wall" and web.wall_sound,
        },
        "ids": ids.WALL_JS,
        "tz": c.cfg.timezone,
        "strings": bundle(lang),
        "stages": list(STAGES),
        "plot": PLOT_LAYOUT,
        "graph_config": GRAPH_CONFIG,
        "graphs": {
            GRAPH_MOUNT.format(g): panels.graph(g).to_plotly_json() for g in (CATEGORY_GRAPH, TREND_GRAPH)
        },
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


# The wall joins the Socket.IO room "wall" (dashboard/web/rooms.py), on / and /wall alike: its JS connects
# with ``auth: {"pathname", "view": WALL_VIEW}`` (assets/js/socket.js) and reads every event off the socket.
WALL_VIEW = "wall"


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
    body = html.Main(
        [
            _left(lang_),
            html.Div(
                [_cell_map(snap), *_overlays(lang_, mode, map_extra)], className=f"wall-map {maps.FIT_BOX}"
            ),
            _right(lang_, mode),
            _ticker(lang_),
        ],
        className="wall-body",
    )
    return html.Div(
        [
            _header(lang_, mode),
            body,
            html.Div(id=CONNECTION_BANNER, className="connection-banner hidden", role="alert"),
            dcc.Store(id=FEEDS, data={"ts": snap.get("ts", 0), "kinds": snap.pop("feeds", {})}),
            dcc.Store(id=ALERTS, data=alerts),
            dcc.Store(id=LIVE, data={k: v for k, v in snap.items() if k != "cells"}),
            dcc.Store(id=META, data=_meta(lang_, mode)),
        ],
        className=f"wall mode-{mode} lang-{lang_}",
        lang=lang_,
    )


def _cell_map(snap: dict[str, Any]) -> Any:
    """The district map: the cells coloured by open cases (the snapshot's counts), the subdistricts and
    the outline, and the warnings' outlines on top."""
    c = ctx()
    return fitted_map(
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
                style={"color": "#bfe9ff", "weight": 3.5, "fill": False, "className": maps.OUTLINE_CLASS},
                interactive=False,
            ),
            panels.alert_layer(ALERT_COMMUNITIES, "/geo/communities.geojson"),  # on top: the warnings
            panels.alert_layer(ALERT_CELLS, "/geo/cells.geojson"),
        ],
        MAP,
        c.geo.bounds,
        c.cfg.web,
        zoom=12,
        zoom_snap=0.1,
    )


def _header(lang: Lang, mode: Mode) -> html.Header:
    """The title and clock, the live counters, the connection mark (and, on a desk, the status row)."""
    return html.Header(
        [
            html.Div(
                [html.H1(t("wall_title", lang)), html.Span(id=CLOCK, className="clock")], className="title"
            ),
            html.Div([panels.kpi(k, label, lang) for k, label in KPIS], className="kpis"),
            html.Div(
                [
                    html.Span(t("connecting", lang), id=CONNECTION, className="conn conn-wait"),
                    *([panels.status_row(lang)] if mode == "desk" else [panels.sound_notice(lang)]),
                ],
                className="status",
            ),
        ],
        className="wall-header",
    )


def _left(lang: Lang) -> html.Aside:
    """The left column: the closed loop, the departments' league, the subdistricts, the categories."""
    return html.Aside(
        [
            panels.panel("flow_title", lang, html.Div(id=FLOW, className="flow"), FLOW),
            panels.panel("league_title", lang, html.Div(id=LEAGUE), LEAGUE),
            panels.panel(
                "subdistricts",
                lang,
                html.Div(id=SUBDISTRICT_TOTALS, className="sub-grid"),
                SUBDISTRICT_TOTALS,
            ),
            panels.panel("cat_title", lang, panels.category_box(), CATEGORY_GRAPH),
        ],
        className="wall-col wall-left",
    )


def _right(lang: Lang, mode: Mode) -> html.Aside:
    """The right column: the warnings, the overdue cases, the last 24 hours."""
    return html.Aside(
        [
            panels.alert_panel(lang, mode),
            panels.panel("overdue_title", lang, html.Div(id=OVERDUE_LIST, className="overdue"), OVERDUE_LIST),
            panels.panel("trend_title", lang, panels.trend_box(), TREND_GRAPH),
        ],
        className="wall-col wall-right",
    )


def _overlays(lang: Lang, mode: Mode, map_extra: Sequence[Any]) -> list[Any]:
    """What lies over the map: the alert banner, the top cells, the legend (with the colour switch and the
    about box on a desk) and the device layers."""
    desk = mode == "desk"  # the sound and language controls and the about box: an operator's screen only
    return [
        *map_extra,  # before the boxes it may hide (a CSS sibling rule, not :has(): see wallmode.css)
        html.Div(id=ALERT_BANNER, className="alert-banner hidden", role="alert"),
        maps.overlay(
            "top-cells",
            t("top_cells", lang),
            lang,
            [
                html.Div([t("top_cells", lang), panels.fresh(TOP_CELLS)], className="panel-title"),
                html.Ol(id=TOP_CELLS),
            ],
            "top-cells-box",
        ),
        maps.overlay(
            "legend",
            t("overlay_legend", lang),
            lang,
            [panels.legend(lang), *([nav.wall_colour_switch(lang), panels.about(lang)] if desk else [])],
            "legend-box",
        ),
        device_layers(lang, controls=desk),  # cameras and sensors: assets/js/devices.js draws them
    ]


def _ticker(lang: Lang) -> html.Section:
    """The latest case events, in words, along the bottom."""
    return html.Section(
        [
            html.Div([t("ticker_title", lang), panels.fresh(TICKER)], className="ticker-title"),
            html.Div(id=TICKER, className="ticker"),
        ],
        className="wall-ticker",
    )


# The page's JS starts here and owns the live path (deltas, alerts, feeds, the 1 s timer): it paints
# straight into the DOM (assets/js/wall.js, alertview.js, sound.js); none of these calls the server.
dash.clientside_callback(
    ClientsideFunction("citybrain", "init"),
    Output(CLOCK, "title"),  # the clock's time zone
    Input(META, "data"),
    State(LIVE, "data"),
    State(CELLS, "hideout"),
    State(FEEDS, "data"),
    State(ALERTS, "data"),
)
dash.clientside_callback(
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
dash.clientside_callback(
    ClientsideFunction("citybrain", "sound"),
    Output(SOUND, "className"),
    Output(SOUND, "aria-pressed"),
    Output(SOUND, "children"),
    Input(SOUND, "n_clicks"),
    State(META, "data"),
)
# A click on a cell opens its subdistrict; the colour switch restyles the cells through their hideout.
dash.clientside_callback(
    ClientsideFunction("citybrain", "wallGo"),
    Output(nav.LOCATION, "href", allow_duplicate=True),
    Input(CELLS, "clickData"),
    State(META, "data"),
    prevent_initial_call=True,
)
dash.clientside_callback(
    ClientsideFunction("citybrain", "wallColour"),
    Output(nav.WALL_COLOUR_SINK, "data"),
    Input(nav.COLOUR_SWITCH, "value"),
    Input(ALERTS, "data"),
    State(META, "data"),
)
