"""The command wall: the district map with 478 live cells, a header of live counters, side panels.

The page loads one snapshot; after that Socket.IO deltas arrive and clientside callbacks
(assets/citybrain.js) restyle the cells through the GeoJSON ``hideout`` and update the counters.
Geometry comes from /geo/*.geojson (static, cached), never inside the layout or a delta.
"""

from __future__ import annotations

from typing import Any

import dash_leaflet as dl
from dash import ClientsideFunction, Dash, Input, Output, State, dcc, html
from dash_socketio import DashSocketIO

from dashboard.app import ctx, request_lang
from dashboard.i18n import Lang, bundle, t
from dashboard.push import keys as push_keys
from dashboard.push import read_snapshot

# Element ids: the UI contract (docs/UI.md). Tests and other code use these constants.
MAP = "wall-map"
CELLS = "wall-cells"
SUBDISTRICTS = "wall-subdistricts"
OUTLINE = "wall-outline"
CONNECTION = "connection-status"
CLOCK = "wall-clock"
SOCKET = "wall-socket"
LIVE = "wall-live"
META = "wall-meta"
TOP_CELLS = "top-cells"
SUBDISTRICT_TOTALS = "subdistrict-totals"
KPI_OPEN = "kpi-open"
KPI_REPORTED = "kpi-reported-today"
KPI_CLOSED = "kpi-closed-today"
KPI_CAMERAS = "kpi-cameras-online"
KPI_READINGS = "kpi-readings-today"
KPIS: tuple[tuple[str, str], ...] = (
    (KPI_OPEN, "kpi_open"),
    (KPI_REPORTED, "kpi_reported_today"),
    (KPI_CLOSED, "kpi_closed_today"),
    (KPI_CAMERAS, "kpi_cameras_online"),
    (KPI_READINGS, "kpi_readings_today"),
)
TICK = "wall-tick"

# Open cases per cell: class breaks and colours (dark teal → amber → red), readable on a dark wall.
BINS = [0, 1, 2, 4, 6, 9, 13]
COLORS = ["#12303a", "#1d5c63", "#2f8f83", "#9bbf5a", "#f2c14e", "#f08a3e", "#e5484d"]


def _kpi(kpi_id: str, label_key: str, lang: Lang) -> html.Div:
    """One live counter tile."""
    return html.Div(
        [
            html.Div("–", id=kpi_id, className="kpi-value"),
            html.Div(t(label_key, lang), className="kpi-label"),
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


def layout(**_: Any) -> html.Div:
    """The wall, built at each page load from one snapshot of the read models."""
    c = ctx()
    lang: Lang = request_lang(c.cfg.locale)  # type: ignore[assignment]
    try:
        snap = read_snapshot(c.redis, c.tz)
    except Exception:  # Redis away at page load: show the map, the page resyncs when it can
        snap = {"seq": -1, "ts": 0, "cells": {}, "counters": {}}
    geo = c.geo
    (minx, miny, maxx, maxy) = geo.bounds
    meta = {
        "lang": lang,
        "keys": push_keys(),
        "tz": c.cfg.timezone,
        "strings": bundle(lang),
        "cells": {
            a.id: [a.name_zh if lang == "zh-CN" else a.name_en, a.parent_id] for a in geo.cells.values()
        },
        "communities": {a.id: a.parent_id for a in geo.communities.values()},
        "subdistricts": {
            a.id: a.name_zh if lang == "zh-CN" else a.name_en for a in geo.subdistricts.values()
        },
    }
    tiles = (
        [dl.TileLayer(url=c.cfg.web.tile_url, attribution=c.cfg.web.tile_attribution, opacity=0.35)]
        if c.cfg.web.tile_url
        else []
    )
    cell_map = dl.Map(
        [
            *tiles,
            dl.GeoJSON(
                id=CELLS,
                url="/geo/cells.geojson",
                style={"variable": "citybrain.map.cellStyle"},
                hideout={"counts": snap["cells"], "bins": BINS, "colors": COLORS, "seq": snap["seq"]},
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
        ],
        id=MAP,
        center=[(miny + maxy) / 2, (minx + maxx) / 2],
        zoom=12,
        viewport={
            "bounds": [[miny, minx], [maxy, maxx]],
            "transition": "fitBounds",
            "options": {"padding": [12, 12]},
        },
        zoomSnap=0.1,
        attributionControl=bool(c.cfg.web.tile_url),
        style={"width": "100%", "height": "100%", "background": "#071219"},
    )
    lang_href = "?lang=en" if lang == "zh-CN" else "?lang=zh-CN"
    header = html.Header(
        [
            html.Div(
                [html.H1(t("wall_title", lang)), html.Span(id=CLOCK, className="clock")], className="title"
            ),
            html.Div([_kpi(k, label, lang) for k, label in KPIS], className="kpis"),
            html.Div(
                [
                    html.Span(t("connecting", lang), id=CONNECTION, className="conn conn-wait"),
                    html.A(t("lang_other", lang), href=lang_href, className="lang", id="lang-switch"),
                ],
                className="status",
            ),
        ],
        className="wall-header",
    )
    side = html.Aside(
        [
            html.Div(
                [html.Div(t("subdistricts", lang), className="panel-title"), html.Div(id=SUBDISTRICT_TOTALS)]
            ),
            html.Div([html.Div(t("top_cells", lang), className="panel-title"), html.Ol(id=TOP_CELLS)]),
            _legend(lang),
            html.Details(
                [
                    html.Summary(t("about_title", lang)),
                    html.P(t("about_geo", lang)),
                    html.P(t("about_feed", lang)),
                ],
                className="about",
                id="about",
            ),
        ],
        className="wall-side",
    )
    return html.Div(
        [
            header,
            html.Main([html.Div(cell_map, className="wall-map"), side], className="wall-body"),
            DashSocketIO(id=SOCKET, eventNames=["delta"]),
            dcc.Store(id=LIVE, data={k: v for k, v in snap.items() if k != "cells"}),
            dcc.Store(id=META, data=meta),
            dcc.Interval(id=TICK, interval=1000),
        ],
        className=f"wall lang-{lang}",
        lang=lang,
    )


def register_callbacks(app: Dash) -> None:
    """Wire the clientside callbacks (assets/citybrain.js); none of them calls the server."""
    app.clientside_callback(
        ClientsideFunction("citybrain", "onDelta"),
        Output(CELLS, "hideout"),
        Output(LIVE, "data"),
        Input(SOCKET, "data-delta"),
        State(CELLS, "hideout"),
        State(LIVE, "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("citybrain", "render"),
        *[Output(k, "children") for k, _ in KPIS],
        Output(TOP_CELLS, "children"),
        Output(SUBDISTRICT_TOTALS, "children"),
        Input(LIVE, "data"),
        Input(CELLS, "hideout"),
        State(META, "data"),
    )
    app.clientside_callback(
        ClientsideFunction("citybrain", "connection"),
        Output(CONNECTION, "children"),
        Output(CONNECTION, "className"),
        Input(SOCKET, "connected"),
        State(META, "data"),
    )
    app.clientside_callback(
        ClientsideFunction("citybrain", "clock"),
        Output(CLOCK, "children"),
        Input(TICK, "n_intervals"),
        State(META, "data"),
    )
