"""The device layers' controls over the wall map: a toggle per family (cameras, sensors) with its status
colours, and what assets/js/devices.js needs (strings, kind names, colours, ids) as a ``data-devices``
attribute.

The markers themselves are drawn by assets/js/devicedraw.js straight into the Leaflet map (docs/DEVICES.md):
no Dash prop carries the 17,000 devices.
"""

from __future__ import annotations

import json
from typing import Any

from dash import html

from dashboard.domain.devices import STATUSES, Family
from dashboard.domain.i18n import Lang, t
from dashboard.domain.registry import CAMERA_KINDS, METRICS
from dashboard.web.context import ctx
from layouts import ids, maps

# Element ids (docs/UI.md), defined in layouts/ids.py
DEVICE_LAYERS = ids.DEVICE_LAYERS
LAYER_CAMERAS = ids.LAYER_CAMERAS
LAYER_SENSORS = ids.LAYER_SENSORS
TOGGLES: dict[Family, str] = {"cameras": LAYER_CAMERAS, "sensors": LAYER_SENSORS}
SHOWN_BY_DEFAULT: dict[Family, bool] = {"cameras": True, "sensors": False}

# Status colours on the dark map, the same for both families' levels: fine, no report, degraded, down.
STATUS_COLOURS: dict[str, str] = {
    "online": "#3ccf91",
    "ok": "#3ccf91",
    "unknown": "#8a99a3",
    "stale": "#5f6e78",  # a sensor silent too long: a darker grey, dashed edge (assets/devices.css, .js)
    "offline": "#f5a524",
    "warn": "#f5d04a",
    "fault": "#ff4d5e",
    "alarm": "#ff4d5e",
}
_STRINGS = (
    "dev_cameras", "dev_sensors", "dev_cluster_cameras", "dev_cluster_sensors", "dev_since", "dev_reading",
    "dev_thresholds", "dev_zoom_hint",
)  # fmt: skip


def _meta(lang: Lang) -> dict[str, Any]:
    """What assets/js/devices.js needs once: language, time zone, strings, status and kind names, colours,
    and the ids of the map that gets the devices and of the toggles."""
    zh = lang == "zh-CN"
    statuses = {s for family in STATUSES.values() for s in family}
    return {
        "lang": lang,
        "tz": ctx().cfg.timezone,
        "strings": {k: t(k, lang) for k in _STRINGS},
        "status": {s: t(f"dev_st_{s}", lang) for s in sorted(statuses)},
        "kinds": {
            "cameras": {k.key: k.label_zh if zh else k.label_en for k in CAMERA_KINDS},
            "sensors": {m.metric: m.label_zh if zh else m.label_en for m in METRICS},
        },
        "colours": STATUS_COLOURS,
        "shown": SHOWN_BY_DEFAULT,
        "ids": ids.DEVICES_JS,
    }


def _key(family: Family, lang: Lang) -> list[Any]:
    """A family's name and its status colours, worst first (a key to the map)."""
    keys = [
        html.Span(
            [html.I(style={"background": STATUS_COLOURS[s]}), t(f"dev_st_{s}", lang)], className="dev-key"
        )
        for s in reversed(STATUSES[family])
    ]
    return [html.Span(t(f"dev_{family}", lang), className="dev-name"), html.Span(keys, className="dev-keys")]


def _toggle(family: Family, lang: Lang) -> html.Button:
    """One family's toggle, showing its key."""
    on = SHOWN_BY_DEFAULT[family]
    aria: Any = {"aria-pressed": "true" if on else "false", "data-family": family}
    return html.Button(
        _key(family, lang),
        id=TOGGLES[family],
        className=f"layer-toggle fam-{family}" + (" on" if on else ""),
        n_clicks=0,
        **aria,
    )


def device_layers(lang: Lang, controls: bool = True) -> html.Div:
    """The overlay with the toggles; without ``controls`` (an unattended wall) the families shown by
    default, each with its key, and nothing to click."""
    data: Any = {"data-devices": json.dumps(_meta(lang), ensure_ascii=False)}
    children = (
        [_toggle(f, lang) for f in TOGGLES]
        if controls
        else [html.Div(_key(f, lang), className=f"layer-key fam-{f}") for f in TOGGLES if SHOWN_BY_DEFAULT[f]]
    )
    return maps.overlay(
        "devices", t("overlay_devices", lang), lang, children, "device-layers", id=DEVICE_LAYERS, **data
    )
