"""The device layer's cost in the browser: main-thread time per 50-camera status update with all 16,000
cameras loaded, zoomed out (group badges) and zoomed in (one circle per camera in view), against the
naive way of restyling every marker on each update.

Run: .venv/bin/python bench/bench_device_layer.py [--updates 40] [--changes 50]
Starts the product (bench/harness/stack.py: embedded Redis, processor, web), reports every camera online,
opens the wall in headless Chromium at 1920x1080 and feeds ``window.citybrain.devices.apply`` with
synthetic merged deltas of ``--changes`` random cameras each (the message a push carries), one every
100 ms. Per update: the renderer's main-thread task time (CDP ``TaskDuration``, which includes the canvas
redraw and style work of the next two frames) and the synchronous time of ``apply`` alone. The same is
measured for an empty update (the measuring overhead), for a power cut (all 16,000 cameras offline, then
online, in one update each) and for a full restyle of all 16,000 circles (the naive way, as
dash-leaflet's GeoJSON ``hideout`` re-adds every feature).
"""

from __future__ import annotations

import argparse
import random
import time
from typing import Any

from harness.page import chrome, main_thread_s
from harness.report import header, pct
from harness.stack import Stack
from harness.workload import Workload

STATUSES = ("online", "offline", "fault")
STORM_UPDATES = 6  # every camera offline, then online again, alternately

# One update in the page: apply a merged delta, then wait two frames so the redraw is inside the window.
APPLY_JS = """
var msg = arguments[0], done = arguments[arguments.length - 1], D = window.citybrain.devices;
msg.from = D.seq + 1; msg.to = D.seq + 1;
var r0 = D.restyles, t0 = performance.now();
D.apply(msg);
var js = performance.now() - t0;
requestAnimationFrame(function () { requestAnimationFrame(function () { done([js, D.restyles - r0]); }); });
"""
# The naive way, for comparison: every camera circle restyled on every update.
NAIVE_JS = """
var done = arguments[arguments.length - 1], map = window.citybrain.devices.map, t0 = performance.now();
if (!window.__naive) {
  var canvas = L.canvas({ padding: 0.3 }), layers = [];
  fetch("/geo/cameras.json").then(function (r) { return r.json(); }).then(function (g) {
    var x = 0, y = 0;
    for (var i = 0; i < g.n; i++) {
      x += g.lon[i]; y += g.lat[i];
      layers.push(L.circleMarker([y / 1e6, x / 1e6], { renderer: canvas, radius: 3.5, interactive: false }));
    }
    window.__naive = L.layerGroup(layers).addTo(map);
    done([0, 0]);
  });
  return;
}
var k = 0;
window.__naive.eachLayer(function (m) { m.setStyle({ fillColor: (k++ % 7) ? "#3ccf91" : "#ff4d5e" }); });
var js = performance.now() - t0;
requestAnimationFrame(function () { requestAnimationFrame(function () { done([js, k]); }); });
"""


def p(xs: list[float], q: float) -> str:
    """The q-th percentile of millisecond values, as text with one decimal."""
    v = pct(xs, q)
    return "–" if v is None else f"{v:,.1f} ms"


def measure(driver: Any, script: str, arg: Any, updates: int) -> tuple[list[float], list[float], list[int]]:
    """Run ``script`` ``updates`` times, 100 ms apart; return main-thread ms, apply ms and restyles."""
    main, js, restyled = [], [], []
    for _ in range(updates):
        before = main_thread_s(driver)
        got = driver.execute_async_script(script, arg() if callable(arg) else arg)
        main.append((main_thread_s(driver) - before) * 1000)
        js.append(float(got[0]))
        restyled.append(int(got[1]))
        time.sleep(0.1)
    return main, js, restyled


def main() -> None:
    """Start the product, load the wall, measure the updates, print the figures."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--updates", type=int, default=40)
    ap.add_argument("--changes", type=int, default=50)
    args = ap.parse_args()
    rep = header("Device layer: browser main thread per camera status update (16,000 cameras loaded)")
    rnd = random.Random(7)
    with Stack("product") as stack:
        assert stack.r is not None
        wl = Workload(stack.r, open_cases=0)
        wl.seed()
        ids = [cam.id for cam in wl.cameras]
        with chrome() as driver:
            driver.get(stack.url + "/")
            deadline = time.monotonic() + 60
            while not driver.execute_script(
                "return !!(window.citybrain.devices && window.citybrain.devices.ready)"
            ):
                if time.monotonic() > deadline:
                    raise RuntimeError("the device layer never loaded")
                time.sleep(0.2)
            time.sleep(2)

            def batch() -> dict[str, Any]:
                return {"dev": {cid: rnd.choice(STATUSES) for cid in rnd.sample(ids, args.changes)}}

            rows = []
            views = (
                ("zoomed out (badges)", None),
                ("zoomed in, zoom 16.5 (circles)", [23.035, 113.105, 16.5]),
            )
            for name, view in views:
                if view:
                    driver.execute_script(
                        "window.citybrain.devices.map.setView([arguments[0], arguments[1]], arguments[2])",
                        *view,
                    )
                    time.sleep(1.5)
                shown = driver.execute_script("return window.citybrain.devices.counts().cameras")
                idle, _, _ = measure(driver, APPLY_JS, {"dev": {}}, args.updates)
                main_ms, js_ms, restyled = measure(driver, APPLY_JS, batch, args.updates)
                drawn = f"{shown['badges']} badges / {shown['circles']} circles"
                rows.append([
                    name, drawn, p(main_ms, 50), p(main_ms, 95), p(js_ms, 50), p(js_ms, 95), p(idle, 50),
                    f"{sum(restyled) / len(restyled):.1f}",
                ])  # fmt: skip
                storms = iter(
                    [{"dev": dict.fromkeys(ids, st)} for st in ["offline", "online"] * STORM_UPDATES]
                )
                storm_ms, storm_js, storm_n = measure(driver, APPLY_JS, storms.__next__, STORM_UPDATES)
                rows.append([
                    f"{name}: power cut, all 16,000 in one update", drawn, p(storm_ms, 50), p(storm_ms, 95),
                    p(storm_js, 50), p(storm_js, 95), "", f"{sum(storm_n) / len(storm_n):.1f}",
                ])  # fmt: skip
            naive_ms, naive_js, _ = measure(driver, NAIVE_JS, None, 1)  # builds the naive layer
            naive_ms, naive_js, naive_n = measure(driver, NAIVE_JS, None, max(5, args.updates // 4))
            rows.append([
                "naive: restyle every circle", f"{naive_n[0]} circles", p(naive_ms, 50),
                p(naive_ms, 95), p(naive_js, 50), p(naive_js, 95), "", f"{naive_n[0]}",
            ])  # fmt: skip
            rep.table(
                f"{args.updates} updates of {args.changes} changed cameras each, one every 100 ms",
                ["view", "drawn", "main p50", "main p95", "apply p50", "apply p95", "empty p50", "restyles"],
                rows,
                "main: renderer main-thread task time per update incl. the next two frames (CDP"
                " TaskDuration); apply: the synchronous apply() alone; empty: the same for an update with"
                " no change (the measuring overhead)",
            )
    rep.done()


if __name__ == "__main__":
    main()
