"""The screens' look as data: the colours of open cases per cell, and the figures' dark plotly layout
(a plain dict: no plotly template lookup, nothing from a CDN). assets/js/map.js draws the same bins."""

from __future__ import annotations

import bisect
from typing import Any

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
