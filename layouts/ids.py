"""Every component id that the Python layouts and the page's JS both use: the UI contract (docs/UI.md).

The layouts import these constants; the JS under ``assets/`` never spells one. Each page hands its JS
the ids it needs as data, in the meta the JS already receives (the ``*_JS`` maps below, under the key
``ids``), and ``tests/test_ids.py`` fails on any string literal in ``assets/**/*.js`` equal to an id
here. A template (``"fresh-{}"``) is filled with ``str.format`` in Python and by ``format.fill`` in JS.
Pattern-matching ids are dicts ``{"type": <type>, "index": ...}``; their types are here too.
"""

from __future__ import annotations

from typing import Final

# ---------------------------------------------------------------- the wall (/ and /wall)
WALL_MAP: Final = "wall-map"  # the district map (dash-leaflet Map)
WALL_CELLS: Final = "wall-cells"  # the 478 grid cells (GeoJSON)
WALL_SUBDISTRICTS: Final = "wall-subdistricts"
WALL_OUTLINE: Final = "wall-outline"
CONNECTION: Final = "connection-status"  # classes conn-ok | conn-wait | conn-lost (assets/js/socket.js)
CONNECTION_BANNER: Final = "connection-banner"  # "connection lost, last update hh:mm:ss"
ASOF: Final = "asof-mark"  # area and case pages: "数据截至 hh:mm:ss" / "As of hh:mm:ss" (stale: disconnected)
FEEDS: Final = "wall-feeds"  # store: the feeds' freshness per record kind in the snapshot
FRESH: Final = "fresh-{}"  # per panel: the age of its data, e.g. fresh-lifecycle-flow
WALL_EXPORT: Final = "wall-export-{}"  # /: a table's CSV link, wall-export-overdue|league|subdistricts
CLOCK: Final = "wall-clock"
LIVE: Final = "wall-live"  # store: the snapshot the page starts from (its JS then keeps its own state)
META: Final = "wall-meta"  # store: what the page's JS needs once (strings, names, ids)
TOP_CELLS: Final = "top-cells"
SUBDISTRICT_TOTALS: Final = "subdistrict-totals"
SUB_TOTAL: Final = "sub-total-{}"  # each subdistrict's value in subdistrict-totals
KPI_OPEN: Final = "kpi-open"
KPI_REPORTED: Final = "kpi-reported-today"
KPI_CLOSED: Final = "kpi-closed-today"
KPI_CAMERAS: Final = "kpi-cameras-online"
KPI_READINGS: Final = "kpi-readings-today"
FLOW: Final = "lifecycle-flow"
FLOW_OPEN: Final = "flow-open-{}"  # per stage: open cases now
FLOW_IN: Final = "flow-in-{}"  # per stage: cases that entered it in the last hour
FLOW_MEDIAN: Final = "flow-median-{}"  # per stage: its median time
OVERDUE_LIST: Final = "overdue-list"
OVERDUE_TOTAL: Final = "overdue-total"
LEAGUE: Final = "department-league"
TICKER: Final = "event-ticker"
CATEGORY_GRAPH: Final = "category-mix"
CATEGORY_TOTAL: Final = "category-total"
CATEGORY_LEGEND: Final = "category-legend"
TREND_GRAPH: Final = "trend-24h"
GRAPH_MOUNT: Final = "{}-mount"  # the box a figure's graph is mounted into after the first full screen
# the warnings
ALERTS: Final = "wall-alerts"  # store: {"seq", "alerts"}
ALERT_BANNER: Final = "alert-banner"
ALERT_LIST: Final = "alert-list"
ALERT_COUNTS: Final = "alert-counts"
ALERT_COUNT: Final = "alert-count-{}"  # per level key
ALERT_ACK: Final = "alert-ack"  # pattern-matching id type: {"type": ALERT_ACK, "index": <alert id>}
ALERT_SILENCE: Final = "alert-silence"  # pattern-matching id type of a silence button (and its box's class)
ALERT_NOTE: Final = "alert-note"
ALERT_MSG: Final = "alert-msg"
DUTY_NAME: Final = "duty-name"
SOUND: Final = "sound-toggle"
SOUND_NOTICE: Final = "sound-notice"  # /wall: "sound blocked: click to enable" while the browser blocks audio
ALERT_CELLS: Final = "alert-cells"
ALERT_COMMUNITIES: Final = "alert-communities"
ALERTS_HISTORY_LINK: Final = "alerts-history-link"
ABOUT: Final = "about"
# the device layers
DEVICE_LAYERS: Final = "device-layers"  # its data-devices attribute: what assets/js/devices*.js need
LAYER_CAMERAS: Final = "layer-cameras"
LAYER_SENSORS: Final = "layer-sensors"

# ---------------------------------------------------------------- the command wall (/wall)
FOCUS: Final = "wall-focus"  # the card naming the subdistrict in view (its class is its id, + hidden)
FOCUS_NAME: Final = "wall-focus-name"
FOCUS_SUB: Final = "wall-focus-sub"
FOCUS_VALUE: Final = "focus-{}-{}"  # focus-<kpi>-sub / focus-<kpi>-district
FOCUS_STEP: Final = "wall-focus-step"  # pattern-matching id type: {"type": FOCUS_STEP, "index": <view id>}
ROTATION: Final = "wallmode-meta"  # store: {"rotate_s", "views", "ids"}
VIEW: Final = "wallmode-view"  # store: {"index", "id"} of the view shown
TICK: Final = "wallmode-tick"
WALLMODE_ERROR: Final = "wallmode-error"

# ---------------------------------------------------------------- every page's navigation
SEARCH: Final = "search-box"
SEARCH_HITS: Final = "search-hits"
SEARCH_META: Final = "search-meta"
LANG_SWITCH: Final = "lang-switch"
COLOUR_SWITCH: Final = "map-colour-switch"
WALL_COLOUR_SINK: Final = "map-colour-state"  # the wall's colouring as applied
LOCATION: Final = "_pages_location"  # the pages router's dcc.Location (dash.page_container)

# ---------------------------------------------------------------- the drill-down pages and one case
AREA_ROOT: Final = "area-page"
AREA_META: Final = "area-meta"
AREA_REFRESH: Final = "area-refresh"  # store: set by the page's JS when a pushed change concerns the area
AREA_CHILD_LAYER: Final = "area-children-layer"
AREA_LEGEND: Final = "area-legend"
AREA_BREADCRUMBS: Final = "breadcrumbs"
AREA_TITLE: Final = "area-title"
AREA_HEALTH: Final = "health-score"
AREA_RANGE: Final = "area-range"
AREA_MAP: Final = "area-map"
AREA_OUTLINE_LAYER: Final = "area-outline"
AREA_BODY: Final = "area-body"
AREA_KPIS_BOX: Final = "area-kpis-box"
AREA_MAIN: Final = "area-main"
AREA_ALERTS_BOX: Final = "area-alerts-box"
AREA_TREND_TITLE: Final = "area-trend-title"
AREA_KPIS: Final = "area-kpis"
AREA_KPI: Final = "area-kpi-{}"
AREA_TREND: Final = "area-trend"
AREA_CHILDREN: Final = "area-children"
AREA_ALERTS: Final = "area-alerts"
AREA_UPDATED: Final = "area-updated"
AREA_NOT_FOUND: Final = "area-not-found"
AREA_TABLES: Final = "area-tables"
AREA_EXPORT: Final = (
    "export-{}"  # a table's CSV button: export-children, export-alerts, export-cases, export-history
)
AREA_DOWNLOAD: Final = "download-{}"
CELL_SENSORS_BOX: Final = "cell-sensors-box"
CELL_CAMERAS_BOX: Final = "cell-cameras-box"
CELL_DEVICES: Final = "cell-devices"
CELL_HEALTH: Final = "cell-health-parts"
CELL_CAMERAS: Final = "cell-cameras"
CELL_SENSORS: Final = "cell-sensors"
CELL_WORKERS: Final = "cell-workers"
CELL_CASES: Final = "cell-cases"
CELL_CLOSED: Final = "cell-closed"
CELL_HISTORY: Final = "cell-alert-history"
CASE_ROOT: Final = "case-page"
CASE_META: Final = "case-meta"
CASE_REFRESH: Final = "case-refresh"  # store: set by the page's JS when a pushed event is the case's
CASE_LIVE: Final = "case-live"
CASE_TICK: Final = "case-tick"
CASE_LATE: Final = "case-late"
CASE_TITLE: Final = "case-title"
CASE_FACTS: Final = "case-facts"
CASE_DESCRIPTION: Final = "case-description"
CASE_PHOTOS: Final = "case-photos"
CASE_TIMELINE: Final = "case-timeline"
CASE_MAP: Final = "case-map"
CASE_CAMERAS: Final = "case-cameras"
CASE_NOT_FOUND: Final = "case-not-found"
CASE_BODY: Final = "case-body"
CASE_NOW: Final = "case-now"  # the facts' one current status: "处置中（分拨至 城管执法局）"

# ---------------------------------------------------------------- what each page's JS receives
WALL_JS: Final[dict[str, str]] = {
    "map": WALL_MAP,
    "cells": WALL_CELLS,
    "connection": CONNECTION,
    "connectionBanner": CONNECTION_BANNER,
    "fresh": FRESH,
    "clock": CLOCK,
    "topCells": TOP_CELLS,
    "subTotals": SUBDISTRICT_TOTALS,
    "subTotal": SUB_TOTAL,
    "kpiOpen": KPI_OPEN,
    "kpiReported": KPI_REPORTED,
    "kpiClosed": KPI_CLOSED,
    "kpiCameras": KPI_CAMERAS,
    "kpiReadings": KPI_READINGS,
    "flow": FLOW,
    "flowOpen": FLOW_OPEN,
    "flowIn": FLOW_IN,
    "flowMedian": FLOW_MEDIAN,
    "overdue": OVERDUE_LIST,
    "overdueTotal": OVERDUE_TOTAL,
    "league": LEAGUE,
    "ticker": TICKER,
    "categoryGraph": CATEGORY_GRAPH,
    "categoryTotal": CATEGORY_TOTAL,
    "categoryLegend": CATEGORY_LEGEND,
    "trendGraph": TREND_GRAPH,
    "alerts": ALERTS,
    "alertAck": ALERT_ACK,
    "alertSilence": ALERT_SILENCE,
    "alertNote": ALERT_NOTE,
    "alertMsg": ALERT_MSG,
    "dutyName": DUTY_NAME,
    "sound": SOUND,
    "soundNotice": SOUND_NOTICE,
}
WALLMODE_JS: Final[dict[str, str]] = {"map": WALL_MAP, "view": VIEW, "focus": FOCUS}
DEVICES_JS: Final[dict[str, str]] = {"map": WALL_MAP, "cameras": LAYER_CAMERAS, "sensors": LAYER_SENSORS}
AREA_JS: Final[dict[str, str]] = {
    "root": AREA_ROOT, "refresh": AREA_REFRESH, "connection": CONNECTION, "asof": ASOF,
}  # fmt: skip
CASE_JS: Final[dict[str, str]] = {
    "root": CASE_ROOT, "refresh": CASE_REFRESH, "connection": CONNECTION, "asof": ASOF,
}  # fmt: skip
