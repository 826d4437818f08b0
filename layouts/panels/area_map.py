"""A drill-down page's map: the area's children (or the cell) coloured by health, open cases or alerts
through the layer's ``hideout`` (geometry stays the cached /geo/*.geojson), its outline, a cell's
devices, and the legend of each colouring."""

from __future__ import annotations

from typing import Any

import dash_leaflet as dl

from dashboard.alerts.levels import LEVEL_BY_KEY, LEVELS
from dashboard.domain.geo import Area
from dashboard.domain.health import BANDS
from dashboard.domain.i18n import Lang, t
from dashboard.queries import areas
from dashboard.web.context import ctx
from layouts import ids, nav
from layouts.look import BINS, COLORS
from layouts.maps import OUTLINE_CLASS, fitted_map, tiles
from layouts.panels.area import LEVEL_ORDER, level_name

CHILD_LEVEL = {"district": "subdistrict", "subdistrict": "community", "community": "cell"}

GEO_FILE = {
    "district": "district",
    "subdistrict": "subdistricts",
    "community": "communities",
    "cell": "cells",
}


def alert_levels(alerts: list[dict[str, Any]], ids: list[str]) -> dict[str, str]:
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
        "alerts": [[level_name(lv, lang), LEVEL_BY_KEY[lv].colour] for lv in LEVEL_ORDER]
        + [[t("alerts_legend_none", lang), "#12303a"]],
    }


def area_map(area: Area, hideout: dict[str, Any], devices: dict[str, Any] | None) -> dl.Map:
    """The map zoomed to the area: its children (or the cell) coloured, its own outline on top."""
    c = ctx()
    bounds = areas.bounds(c.geo, area.id)
    child_level = CHILD_LEVEL.get(area.level, "cell")
    return fitted_map(
        [
            *tiles(c.cfg.web),
            dl.GeoJSON(
                id=ids.AREA_CHILD_LAYER,
                url=f"/geo/{GEO_FILE[child_level]}.geojson",
                filter={"variable": "citybrain.areamap.keep"},
                style={"variable": "citybrain.areamap.style"},
                hoverStyle={"variable": "citybrain.map.hoverStyle"},
                onEachFeature={"variable": "citybrain.areamap.tooltip"},
                hideout=hideout,
            ),
            dl.GeoJSON(
                id=ids.AREA_OUTLINE_LAYER,
                url=f"/geo/{GEO_FILE[area.level]}.geojson",
                filter={"variable": "citybrain.areamap.keep"},
                style={"color": "#bfe9ff", "weight": 3, "fill": False, "className": OUTLINE_CLASS},
                hideout={"ids": [area.id]},
                interactive=False,
            ),
            *(
                [
                    dl.GeoJSON(
                        id=ids.CELL_DEVICES,
                        data=devices,
                        pointToLayer={"variable": "citybrain.areamap.device"},
                        onEachFeature={"variable": "citybrain.areamap.deviceTip"},
                    )
                ]
                if devices
                else []
            ),
        ],
        ids.AREA_MAP,
        bounds,
        c.cfg.web,
        zoom=13,
        zoom_snap=0.1,
    )


def hideout(
    area: Area,
    mode: str,
    shown: list[str],
    health: dict[str, list[Any]],
    open_: dict[str, int],
    active: list[dict[str, Any]],
    per_child: int,
) -> dict[str, Any]:
    """The map's colouring of the areas ``shown``: by ``mode`` (health, open cases, alerts), with the
    open-case bins scaled to the cells per area."""
    return {
        "ids": shown,
        "mode": mode if mode in nav.MODES else "health",
        "health": health,
        "open": open_,
        "alerts": alert_levels(active, shown),
        "bins": [b * per_child for b in BINS],
        "colors": COLORS,
        "level_colours": {lv.key: lv.colour for lv in LEVELS},
        "opacity": 0.35 if area.level == "cell" else 0.78,
    }
