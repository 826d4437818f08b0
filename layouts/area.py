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

import functools
import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote

import dash
import dash_leaflet as dl
from dash import ClientsideFunction, Input, Output, State, dcc, html

from dashboard.domain.export import asof_iso
from dashboard.domain.geo import Area
from dashboard.domain.i18n import Lang, t
from dashboard.domain.registry import default_registry
from dashboard.domain.types import epoch_ms
from dashboard.queries import areas
from dashboard.queries.cells import cell_detail
from dashboard.web.context import ctx, request_lang
from layouts import ids, maps, nav
from layouts.look import GRAPH_CONFIG
from layouts.panels import area as panels
from layouts.panels import area_map, cell
from layouts.panels.area_map import CHILD_LEVEL
from layouts.panels.tables import Grid, to_csv

log = logging.getLogger(__name__)

# Element ids: the UI contract (docs/UI.md).
ROOT = ids.AREA_ROOT
BREADCRUMBS = ids.AREA_BREADCRUMBS
TITLE = ids.AREA_TITLE
HEALTH = ids.AREA_HEALTH
RANGE = ids.AREA_RANGE
MAP = ids.AREA_MAP
CHILD_LAYER = ids.AREA_CHILD_LAYER
OUTLINE_LAYER = ids.AREA_OUTLINE_LAYER
BODY = ids.AREA_BODY
KPIS_BOX = ids.AREA_KPIS_BOX
MAIN = ids.AREA_MAIN
ALERTS_BOX = ids.AREA_ALERTS_BOX
SENSORS_BOX = ids.CELL_SENSORS_BOX
CAMERAS_BOX = ids.CELL_CAMERAS_BOX
DEVICES = ids.CELL_DEVICES
TREND_TITLE = ids.AREA_TREND_TITLE
KPIS = ids.AREA_KPIS
KPI = ids.AREA_KPI
TREND = ids.AREA_TREND
CHILDREN = ids.AREA_CHILDREN
ALERTS = ids.AREA_ALERTS
UPDATED = ids.AREA_UPDATED
NOT_FOUND = ids.AREA_NOT_FOUND
META = ids.AREA_META
REFRESH = ids.AREA_REFRESH
LEGEND = ids.AREA_LEGEND
TABLES = ids.AREA_TABLES
CELL_HEALTH = ids.CELL_HEALTH
CELL_CAMERAS = ids.CELL_CAMERAS
CELL_SENSORS = ids.CELL_SENSORS
CELL_WORKERS = ids.CELL_WORKERS
CELL_CASES = ids.CELL_CASES
CELL_CLOSED = ids.CELL_CLOSED
CELL_HISTORY = ids.CELL_HISTORY
EXPORT = ids.AREA_EXPORT
DOWNLOAD = ids.AREA_DOWNLOAD
EXPORTS = ("children", "alerts", "cases", "history")

LEVELS_DOWN = ("subdistrict", "community", "cell")
RANGES = ("today", "7d", "30d")


# --------------------------------------------------------------------------- tables (screen = CSV)


# --------------------------------------------------------------------------- small pieces


# --------------------------------------------------------------------------- the cell view


# --------------------------------------------------------------------------- reading an area


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
    asof: int = 0  # when it was read (epoch ms): the page's as-of mark and its exports' first line


def _sig(data: Any) -> str:
    """A short signature of JSON-able data (a part is re-sent only when its signature changes)."""
    return hashlib.sha1(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass
class Below:
    """What lies below an area on its page: the children ranked (or a cell's own panels)."""

    ids: list[str]  # the areas the map colours
    health: dict[str, list[Any]]
    open: dict[str, int]
    main: list[Any]
    grids: dict[str, Grid]
    sigs: dict[str, Any]  # the data each part shows: main, cameras, sensors
    cameras: Any = None
    sensors: Any = None
    devices: dict[str, Any] | None = None
    per_child: int = 1  # cells per coloured area: the open-case bins scale with it


def _below_cell(area: Area, k: dict[str, Any], lang: Lang) -> Below:
    """A cell's own panels, cameras, sensors and devices."""
    c = ctx()
    h = k.get("health") or {}
    d = cell_detail(c.redis, c.geo, default_registry(), area.id, c.tz)
    main, cameras, sensors, grids = cell.cell_sections(d, h, lang)
    rest = {key: v for key, v in d.items() if key not in ("sensors", "cameras")}
    sigs = {"main": [h, rest], "cameras": d.get("cameras"), "sensors": d.get("sensors")}
    health = {area.id: [h.get("score"), h.get("colour")]}
    devices = cell.cell_devices(d, lang)
    return Below([area.id], health, {area.id: k.get("open", 0)}, main, grids, sigs, cameras, sensors, devices)


def _below_area(area: Area, lang: Lang) -> Below:
    """An area's children, ranked worst first."""
    c = ctx()
    kids = areas.children(c.redis, c.geo, default_registry(), area.id, c.tz)
    ids_ = [ch["id"] for ch in kids]
    ranking = panels.children_grid(kids, lang)
    main = [
        panels.panel(
            t(f"children_{CHILD_LEVEL[area.level]}", lang),
            ranking.table(CHILDREN, t("no_data", lang)),
            "area-children-panel",
            "children",
            lang,
        )
    ]
    return Below(
        ids_,
        {ch["id"]: [ch["health"], ch["colour"]] for ch in kids},
        {ch["id"]: ch.get("open", 0) for ch in kids},
        main,
        {"children": ranking},
        {"main": ranking.rows, "cameras": None, "sensors": None},
        [],
        [],
        per_child=max(1, round(len(_cells_under(area.id)) / max(1, len(ids_)))),
    )


def read_view(area: Area, rng: str, mode: str, lang: Lang) -> View:
    """Read the area through ``dashboard.queries`` and build what the page shows."""
    c = ctx()
    asof = epoch_ms()
    rng_ = rng if rng in RANGES else "today"
    k = areas.kpis(c.redis, c.geo, default_registry(), area.id, rng_, c.tz)  # type: ignore[arg-type]
    trend = areas.trend(c.redis, area.id, rng_, c.tz)  # type: ignore[arg-type]
    active = areas.active_alerts(c.redis, c.geo, area.id)
    alerts = panels.alerts_grid(active, lang)
    below = _below_cell(area, k, lang) if area.level == "cell" else _below_area(area, lang)
    hideout = area_map.hideout(area, mode, below.ids, below.health, below.open, active, below.per_child)
    parts = {
        "kpis": panels.kpi_tiles(k, rng_, lang),
        "trend": panels.trend_figure(trend, lang),
        "trend_title": t("trend_title" if rng_ == "today" else f"trend_title_{rng_}", lang),
        "alerts": alerts.table(ALERTS, t("alerts_none", lang)),
        "main": below.main,
        "cameras": below.cameras,
        "sensors": below.sensors,
        "hideout": hideout,
    }
    sigs = {
        "kpis": _sig([k, rng_]),
        "trend": _sig(trend),
        "trend_title": rng_,
        "alerts": _sig(alerts.rows),
        **{part: _sig(data) for part, data in below.sigs.items()},
        "hideout": _sig(hideout),
    }
    grids = {"alerts": alerts, **below.grids}
    return View(parts, sigs, {name: g.data() for name, g in grids.items()}, below.devices, asof)


def updated_line(lang: Lang) -> str:
    """When the page last read its data (local time, to the second)."""
    now = datetime.fromtimestamp(epoch_ms() / 1000, ctx().tz)
    return t("area_updated", lang).format(t=f"{now:%H:%M:%S}")


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
                    panels.panel(
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
                panels.header(
                    lang_, html.Nav(id=BREADCRUMBS, className="breadcrumbs"), html.Div(), live=False
                ),
                panels.not_found(level, area_id, lang_),
            ],
            className=f"area-page lang-{lang_}",
            id=ROOT,
            lang=lang_,
        )
    frame = area is None
    view = _first_view(area, lang_)
    heading = html.Div(
        [panels.title(area, lang_) if area is not None else html.H1(id=TITLE), _ranges(lang_)],
        className="area-titlebar",
    )
    crumbs = panels.breadcrumbs(area, lang_) if area is not None else html.Nav(id=BREADCRUMBS)
    return html.Div(
        [
            panels.header(lang_, crumbs, heading),
            html.Main(
                [_map_box(area, view, lang_), body(view, lang_)],
                className="area-grid" + (" frame" if frame else ""),
            ),
            dcc.Store(id=META, data=_meta(area, view, lang_)),
            dcc.Store(id=REFRESH),
            dcc.Store(id=TABLES, data=_tables(view)),
            *[dcc.Download(id=DOWNLOAD.format(name)) for name in EXPORTS],
            *[html.Button(id=EXPORT.format(name), hidden=True) for name in EXPORTS if frame],
        ],
        className=f"area-page level-{level} lang-{lang_}",
        id=ROOT,
        lang=lang_,
    )


def _first_view(area: Area | None, lang: Lang) -> View:
    """The page's first read (empty for the frame; a note when Redis is away: the page refreshes later)."""
    empty = {"trend": {}, "trend_title": "", "hideout": {"ids": []}}
    empty |= {k: [] for k in ("kpis", "alerts", "main", "cameras", "sensors")}
    if area is None:
        return View(empty, {}, {})
    try:
        return read_view(area, "today", "health", lang)
    except Exception as err:  # Redis away: the frame, the page refreshes when it can
        log.warning("area page %s: data unavailable (%s)", area.id, err)
        return View({**empty, "main": [html.Div(t("case_unavailable", lang), className="muted")]}, {}, {})


def _meta(area: Area | None, view: View, lang: Lang) -> dict[str, Any]:
    """What the page's JS needs: the area, the areas and cells whose changes concern it, the legends."""
    if area is None:
        return {}
    return {
        "id": area.id,
        "level": area.level,
        "lang": lang,
        "cells": list(_cells_under(area.id)),
        "areas": list(_areas_under(area.id)),
        "legend": area_map.legend(view.parts["hideout"], lang),
        "ids": ids.AREA_JS,
        "tz": ctx().cfg.timezone,
        "strings": nav.live_strings(lang),
    }


def _ranges(lang: Lang) -> dcc.RadioItems:
    """Today / 7 days / 30 days."""
    return dcc.RadioItems(
        id=RANGE,
        options=[{"label": t(f"ap_range_{r}", lang), "value": r} for r in RANGES],
        value="today",
        inline=True,
        className="area-range",
    )


def _map_box(area: Area | None, view: View, lang: Lang) -> html.Div:
    """The map with its colour switch and legend."""
    the_map = (
        area_map.area_map(area, view.parts["hideout"], view.devices)
        if area is not None
        else dl.Map(dl.GeoJSON(id=CHILD_LAYER), id=MAP)
    )
    switch = maps.overlay(
        "area-key",
        t("overlay_legend", lang),
        lang,
        [nav.colour_switch(lang), html.Div(id=LEGEND)],
        "area-switch",
    )
    return html.Div([the_map, switch], className=f"area-map-box {maps.FIT_BOX}")


def page_of(level: str) -> Any:
    """The layout function of one level's pages (the level is not a query parameter)."""

    def page(area_id: str | None = None, lang: str | None = None, **_: Any) -> html.Div:
        return layout(level, area_id, lang)

    return page


# The page's JS asks for a re-read when a pushed change concerns the area (assets/js/area.js); a click on
# a child area goes down; the legend follows the map's colouring.
dash.clientside_callback(
    ClientsideFunction("citybrainArea", "init"),
    Output(REFRESH, "data"),
    Input(META, "data"),
)
dash.clientside_callback(
    ClientsideFunction("citybrainArea", "go"),
    Output(nav.LOCATION, "href", allow_duplicate=True),
    Input(CHILD_LAYER, "clickData"),
    State(META, "data"),
    prevent_initial_call=True,
)
dash.clientside_callback(
    ClientsideFunction("citybrainArea", "asof"),
    Output(ids.ASOF, "title"),
    Input(TABLES, "data"),
    Input(META, "data"),  # an input nothing writes: the first call happens at page load
)
dash.clientside_callback(
    ClientsideFunction("citybrainArea", "legend"),
    Output(LEGEND, "children"),
    Input(nav.COLOUR_SWITCH, "value"),
    State(META, "data"),
)


@dash.callback(
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
    """Re-read the area (something in it changed, or the range or the map's colouring did); send only the
    parts whose data changed."""
    if not meta:
        return (dash.no_update,) * (len(PARTS) + 2)
    lang: Lang = meta["lang"]
    view = read_view(ctx().geo.area(meta["id"]), rng, mode, lang)
    old = (shown or {}).get("sigs") or {}
    out = [dash.no_update if old.get(k) == view.sigs[k] else view.parts[k] for k in PARTS]
    return (*out, updated_line(lang), _tables(view))


def _tables(view: View) -> dict[str, Any]:
    """The page's store of what it shows: the exportable tables, the parts' signatures, the read time."""
    return {"tables": view.tables, "sigs": view.sigs, "asof": view.asof}


def _export_of(name: str) -> None:
    """The CSV download of one table, from the rows the table on screen was built from."""

    @dash.callback(
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
        lang: Lang = meta.get("lang") or "zh-CN"
        asof = asof_iso(int((tables or {}).get("asof") or epoch_ms()), ctx().tz)
        return {
            "content": to_csv(data, t("ap_csv_asof", lang), asof),
            "filename": f"{meta.get('id', 'area')}-{name}-{meta.get('lang', '')}.csv",
            "type": "text/csv;charset=utf-8",
            "base64": False,
        }


for _name in EXPORTS:
    _export_of(_name)
