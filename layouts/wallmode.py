"""The command-wall mode (``/wall``): the wall for a 16:9 screen nobody touches, all day and night.

The same page as ``/`` (``layouts.wall.page`` in mode ``wall``: no controls, large type, every panel a
fixed number of rows, no scrollbars), plus an optional rotation through the subdistricts: every
``rotate`` seconds the map flies to the next subdistrict (then back to the district), a card over the
map names it large and sets its live figures beside the district's. The view is a function of the clock
(``assets/js/wallmode.js``), evaluated by the page's one rotation timer (``wallmode-tick``, a ``dcc.Interval``
that goes with the page): every screen shows the same view, and a hidden tab is right at its next tick.
Every callback here takes its inputs from /wall's own ids only, so none of them runs on ``/``.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import ALL, ClientsideFunction, Input, Output, State, dcc, html

from dashboard.config import ConfigError
from dashboard.domain.geo import Geography
from dashboard.domain.i18n import Lang, t
from dashboard.web.context import ctx, request_lang
from layouts import ids, wall
from layouts.names import area_name, area_short

# Element ids: the UI contract (docs/UI.md), defined in layouts/ids.py.
FOCUS = ids.FOCUS  # the card over the map naming the subdistrict in view
FOCUS_NAME = ids.FOCUS_NAME
FOCUS_SUB = ids.FOCUS_SUB  # the card's column head: the subdistrict's short name
FOCUS_VALUE = ids.FOCUS_VALUE  # focus-<kpi>-sub / focus-<kpi>-district
FOCUS_STEP = ids.FOCUS_STEP  # pattern-matching id type of each view in the strip
FOCUS_KPIS: tuple[tuple[str, str], ...] = (
    ("open", "kpi_open"),
    ("overdue", "wallmode_overdue"),
    ("reported", "kpi_reported_today"),
    ("closed", "kpi_closed_today"),
)
ROTATION = ids.ROTATION  # store: {"rotate_s", "views": [{"id", "name", "short", "bounds"}], "ids"}
VIEW = ids.VIEW  # store: {"index", "id"} of the view shown (0 = the district)
TICK = ids.TICK  # the rotation's one timer: turns the views, refreshes the card's figures
ERROR = ids.WALLMODE_ERROR
DISTRICT_VIEW = "district"
MAX_ROTATE_S = 3600


def view_bounds(geo: Geography, area_id: str | None = None) -> list[list[float]]:
    """[[south, west], [north, east]] of a subdistrict (or of the district) for Leaflet's fitBounds."""
    minx, miny, maxx, maxy = geo.geometry(area_id).bounds if area_id else geo.bounds
    return [[round(miny, 5), round(minx, 5)], [round(maxy, 5), round(maxx, 5)]]


def views_of(geo: Geography, asked: list[str] | None, where: str, lang: Lang = "en") -> list[str]:
    """The subdistrict ids a rotation visits: ``asked`` (checked against the geography) or all."""
    if not asked:
        return list(geo.subdistricts)
    unknown = [v for v in asked if v not in geo.subdistricts]
    if unknown:
        known = ", ".join(geo.subdistricts)
        raise ValueError(
            t("wallmode_bad_views", lang).format(where=where, got=", ".join(unknown), known=known)
        )
    return list(dict.fromkeys(asked))


def rotation_meta(geo: Geography, lang: Lang, rotate_s: int, views: list[str]) -> dict[str, Any]:
    """What the page's rotation needs once: the interval and each view's names and bounds."""
    district = {
        "id": DISTRICT_VIEW,
        "name": t("district", lang),
        "short": t("wallmode_district_view", lang),
        "bounds": view_bounds(geo),
    }
    subs = [
        {
            "id": v,
            "name": area_name(geo.subdistricts[v], lang),
            "short": area_short(geo.subdistricts[v], lang),
            "bounds": view_bounds(geo, v),
        }
        for v in views
    ]
    return {"rotate_s": rotate_s, "views": [district, *subs], "ids": ids.WALLMODE_JS}


def parse_rotate(raw: str | None, default: int, lang: Lang) -> int:
    """The ``rotate`` URL parameter: whole seconds 0..3600 (0 = off); ``default`` when absent."""
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_ROTATE_S:
        raise ValueError(t("wallmode_bad_rotate", lang).format(got=raw, max=MAX_ROTATE_S))
    return value


def _focus_card(lang: Lang, meta: dict[str, Any]) -> html.Div:
    """The card naming the view's subdistrict, its figures beside the district's, and the rotation strip."""
    rows = [
        html.Tr(
            [
                html.Th(t(label, lang)),
                html.Td("–", id=FOCUS_VALUE.format(kpi, "sub"), className="fv-sub"),
                html.Td("–", id=FOCUS_VALUE.format(kpi, "district"), className="fv-district"),
            ],
            className=f"focus-row focus-{kpi}",
        )
        for kpi, label in FOCUS_KPIS
    ]
    head = html.Tr([html.Th(), html.Th(id=FOCUS_SUB), html.Th(t("wallmode_district_view", lang))])
    strip = html.Div(
        [html.Span(v["short"], id={"type": FOCUS_STEP, "index": v["id"]}) for v in meta["views"]],
        className="focus-steps",
    )
    return html.Div(
        [
            html.Div(id=FOCUS_NAME, className="focus-name"),
            html.Table([html.Thead(head), html.Tbody(rows)], className="focus-kpis"),
            strip,
        ],
        id=FOCUS,
        className="wall-focus hidden",
        role="status",
    )


def layout(lang: str | None = None, rotate: str | None = None, views: str | None = None, **_: Any) -> Any:
    """The command wall: ``/wall``, ``/wall?rotate=30``, ``/wall?views=ZM,NZ``, ``?lang=en``."""
    c = ctx()
    lang_: Lang = request_lang(c.cfg.locale, lang)
    try:
        seconds = parse_rotate(rotate, c.cfg.web.wall_rotate_s, lang_)
        asked = views.split(",") if views else c.cfg.web.wall_views
        shown = views_of(c.geo, asked, "views" if views else "web.wall_views", lang_)
    except ValueError as err:  # a bad URL parameter: say which, on the screen
        return html.Div(
            [html.H1(t("wall_title", lang_)), html.P(str(err), id=ERROR)], className="wallmode-error-page"
        )
    meta = rotation_meta(c.geo, lang_, seconds, shown)
    extra = [
        _focus_card(lang_, meta),
        dcc.Store(id=ROTATION, data=meta),
        dcc.Store(id=VIEW, data={"index": 0, "id": DISTRICT_VIEW}),
        dcc.Interval(id=TICK, interval=1000),
    ]
    return wall.page(lang_, mode="wall", map_extra=extra)


def check_config() -> None:
    """Refuse a ``web.wall_views`` naming no subdistrict of the geography (at start, with the page)."""
    c = ctx()
    try:
        views_of(c.geo, c.cfg.web.wall_views, "web.wall_views")
    except ValueError as err:
        raise ConfigError(str(err)) from None


# The rotation and the card's figures (assets/js/wallmode.js): no server call.
dash.clientside_callback(
    ClientsideFunction("wallmode", "rotate"),
    Output(VIEW, "data"),
    Input(TICK, "n_intervals"),
    Input(ROTATION, "data"),
    State(VIEW, "data"),
    State(wall.MAP, "bounds"),
)
dash.clientside_callback(
    ClientsideFunction("wallmode", "focus"),
    Output(FOCUS, "className"),
    Output(FOCUS_NAME, "children"),
    Output(FOCUS_SUB, "children"),
    *[
        Output(FOCUS_VALUE.format(kpi, col), "children")
        for kpi, _ in FOCUS_KPIS
        for col in ("sub", "district")
    ],
    Output({"type": FOCUS_STEP, "index": ALL}, "className"),
    Input(VIEW, "data"),
    Input(TICK, "n_intervals"),
    State(wall.LIVE, "data"),
    State(ROTATION, "data"),
    State(wall.META, "data"),
)
