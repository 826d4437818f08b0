"""The district map as every screen builds it: optional tiles, a view fitted to bounds, the dark style, and
the boxes over it. A map inside a ``FIT_BOX`` element shows its outline layer (``OUTLINE_CLASS``) whole and
clear of the box's overlays (assets/js/fit.js refits it as the box or an overlay changes size)."""

from __future__ import annotations

from typing import Any

import dash_leaflet as dl
from dash import html

from dashboard.config import WebConfig
from dashboard.domain.i18n import Lang, t

Bounds = tuple[float, float, float, float]  # minx, miny, maxx, maxy (lon/lat)
FIT_BOX = "map-fit"  # the class of the box holding a map and its overlays
OUTLINE_CLASS = "fit-outline"  # the className (in its style) of the layer a map keeps whole and clear


def overlay(
    name: str, title: str, lang: Lang, children: list[Any], class_name: str, **attrs: Any
) -> html.Div:
    """A box over a map that folds away to a button with its ``title`` (remembered per browser as
    ``name``; folded by default on a phone; the wall shows it and no button)."""
    aria: Any = {"aria-expanded": "true"}
    toggle = html.Button(
        [html.Span(title, className="ot-name"), html.Span(className="ot-mark")],
        className="overlay-toggle",
        title=t("overlay_fold", lang),
        **aria,
    )
    data: Any = {"data-overlay": name}
    return html.Div([toggle, *children], className=f"map-overlay {class_name}", **data, **attrs)


def tiles(web: WebConfig, opacity: float = 0.35) -> list[Any]:
    """The configured XYZ tile layer (an intranet tile server), or none: the geometry is shipped."""
    if not web.tile_url:
        return []
    return [dl.TileLayer(url=web.tile_url, attribution=web.tile_attribution, opacity=opacity)]


def fitted_map(
    children: list[Any],
    map_id: str,
    bounds: Bounds,
    web: WebConfig,
    *,
    zoom: float,
    zoom_snap: float,
    center: tuple[float, float] | None = None,
    padding: int | None = None,
) -> dl.Map:
    """A map centred on ``center`` (lat, lon) or the middle of ``bounds``, at ``zoom``. With ``padding``
    dash-leaflet fits ``bounds`` at once (a map outside any ``FIT_BOX``, like the case's); without, inside
    a ``FIT_BOX``, fit.js fits its outline into its box (a dash-leaflet fitBounds landing after fit.js had
    placed the map would undo it: a slow machine showed it)."""
    minx, miny, maxx, maxy = bounds
    fit: dict[str, Any] = (
        {
            "viewport": {
                "bounds": [[miny, minx], [maxy, maxx]],
                "transition": "fitBounds",
                "options": {"padding": [padding, padding], "animate": False},
            }
        }
        if padding is not None
        else {}
    )
    return dl.Map(
        children,
        id=map_id,
        center=list(center) if center else [(miny + maxy) / 2, (minx + maxx) / 2],
        zoom=zoom,
        zoomSnap=zoom_snap,
        **fit,
        attributionControl=bool(web.tile_url),
        style={"width": "100%", "height": "100%", "background": "#071219"},
    )
