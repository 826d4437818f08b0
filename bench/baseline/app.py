"""BASELINE FOR THE BENCHMARKS, NOT PART OF THE PRODUCT: the wall built the usual naive way.

A small Dash app whose ``dcc.Interval`` fires every second; its one server callback re-reads Redis (the
product's read models) and returns the full cell GeoJSON (478 cells with their colours), the full camera
GeoJSON (16,000 points with their status) and the KPIs. Served locally, gzip on, no dev-tools version
check. bench/baseline/README.md says why it exists; bench/harness/stack.py starts it.

Run: ``REDIS_URL=unix:///path/redis.sock .venv/bin/python bench/baseline/app.py --port 8060``
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import dash
import dash_leaflet as dl
import redis
from dash import Input, Output, dcc, html

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from dashboard.domain.geo import load_default_geography  # noqa: E402
from dashboard.domain.registry import default_registry  # noqa: E402
from dashboard.store.keys import CAMERA_STATE, CELL_OPEN, COUNTERS  # noqa: E402
from dashboard.store.paths import read_values  # noqa: E402
from layouts.look import cell_colour  # noqa: E402  (the same colours as the product)

TZ = ZoneInfo("Asia/Shanghai")
CAMERA_COLOURS = {"online": "#3ddc84", "offline": "#e5484d", "fault": "#f2c14e"}
KPI_IDS = ("kpi-open", "kpi-reported-today", "kpi-closed-today", "kpi-cameras-online", "kpi-readings-today")


def percent(x: float) -> str:
    """A share as the product's page writes it (at most one decimal)."""
    return f"{x:.1f}".rstrip("0").rstrip(".") + "%"


def build_app(redis_url: str) -> dash.Dash:
    """The naive app: layout plus one 1-second polling callback."""
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    with open(HERE.parent.parent / "data" / "cells.geojson", encoding="utf-8") as f:
        cell_features = json.load(f)["features"]
    cameras = list(default_registry().cameras.values())
    (minx, miny, maxx, maxy) = load_default_geography().bounds

    app = dash.Dash(__name__, serve_locally=True, assets_folder=str(HERE / "assets"), compress=True,
                    title="Baseline wall (naive)", update_title=None)  # type: ignore[arg-type]  # fmt: skip
    app.enable_dev_tools(
        debug=False, dev_tools_ui=False, dev_tools_props_check=False, dev_tools_disable_version_check=True
    )
    app.layout = html.Div(
        [
            html.Header([html.Div([html.Div("–", id=k), html.Small(k)], className="kpi") for k in KPI_IDS]),
            dl.Map(
                [
                    dl.GeoJSON(id="wall-cells", style={"variable": "baseline.cellStyle"}),
                    dl.GeoJSON(id="wall-cameras", pointToLayer={"variable": "baseline.cameraPoint"}),
                ],
                id="wall-map",
                center=[(miny + maxy) / 2, (minx + maxx) / 2],
                zoom=12,
                zoomSnap=0.1,
                style={"width": "100%", "height": "900px", "background": "#071219"},
            ),
            html.Ol(id="top-cells"),
            dcc.Interval(id="tick", interval=1000),
        ]
    )

    @app.callback(
        Output("wall-cells", "data"),
        Output("wall-cameras", "data"),
        *[Output(k, "children") for k in KPI_IDS],
        Output("top-cells", "children"),
        Input("tick", "n_intervals"),
    )
    def refresh(_n: int | None) -> list[Any]:
        """Every second: re-read Redis, rebuild every feature and panel."""
        with r.pipeline(transaction=False) as pipe:
            pipe.hgetall(CELL_OPEN)
            pipe.hgetall(CAMERA_STATE)
            pipe.hgetall(COUNTERS)
            cells_open, cam_state, counters = pipe.execute()
        counts = {k: int(v) for k, v in cells_open.items()}
        cells = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": f["geometry"],
                    "properties": {
                        **f["properties"],
                        "open": counts.get(f["properties"]["id"], 0),
                        "color": cell_colour(counts.get(f["properties"]["id"], 0)),
                    },
                }
                for f in cell_features
            ],
        }
        cams = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [cam.lon, cam.lat]},
                    "properties": {
                        "id": cam.id,
                        "status": cam_state.get(cam.id, "unknown"),
                        "color": CAMERA_COLOURS.get(cam_state.get(cam.id, ""), "#7c98a6"),
                    },
                }
                for cam in cameras
            ],
        }
        day = datetime.now(TZ).strftime("%Y%m%d")
        n_cams, down = int(counters.get("cameras", 0)), int(counters.get("cameras_down", 0))
        reported, closed, readings = read_values(
            r, [("days", day, "n", "reported"), ("days", day, "n", "closed"), ("days", day, "n", "readings")]
        )
        kpis = [
            f"{int(counters.get('open', 0)):,}",
            f"{reported:,}",
            f"{closed:,}",
            percent(100 * (n_cams - down) / n_cams) if n_cams else "–",
            f"{readings:,}",
        ]
        top = sorted((k for k, v in counts.items() if v > 0), key=lambda k: (-counts[k], k))[:10]
        return [cells, cams, *kpis, [html.Li(f"{k} {counts[k]}") for k in top]]

    return app


def main() -> None:
    """Serve the baseline on 127.0.0.1:--port (threaded Flask server, as a plain Dash app runs)."""
    ap = argparse.ArgumentParser(description="benchmark baseline (not the product): the naive wall")
    ap.add_argument("--port", type=int, default=8060)
    args = ap.parse_args()
    url = os.environ.get("REDIS_URL")
    if not url:
        raise SystemExit("baseline: set REDIS_URL to the product's Redis")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    build_app(url).run(host="127.0.0.1", port=args.port, debug=False)


if __name__ == "__main__":
    main()
