"""The district map as every screen builds it: optional tiles, a view fitted to bounds, the dark style."""

from __future__ import annotations

from typing import Any

import dash_leaflet as dl

from dashboard.config import WebConfig

Bounds = tuple[float, float, float, float]  # minx, miny, maxx, maxy (lon/lat)


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
    padding: int,
    zoom_snap: float,
    center: tuple[float, float] | None = None,
) -> dl.Map:
    """A map showing ``bounds`` (with ``padding`` px), centred on ``center`` (lat, lon) or the bounds."""
    minx, miny, maxx, maxy = bounds
    return dl.Map(
        children,
        id=map_id,
        center=list(center) if center else [(miny + maxy) / 2, (minx + maxx) / 2],
        zoom=zoom,
        viewport={
            "bounds": [[miny, minx], [maxy, maxx]],
            "transition": "fitBounds",
            "options": {"padding": [padding, padding]},
        },
        zoomSnap=zoom_snap,
        attributionControl=bool(web.tile_url),
        style={"width": "100%", "height": "100%", "background": "#071219"},
    )
