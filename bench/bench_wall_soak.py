"""Wall benchmark 6: a compressed soak. Hours of simulated city at high speed in front of one open wall:
the browser's JS heap after GC, the DOM size and the servers' memory sampled, and at the end the
screen compared with Redis (no missed events).

The generator is the product's own simulator (``run.py feeds --speed S --seed 7``: ~13 records a
simulated second, so ~800/s at 60×) on the product's processor and a fresh Redis; the page is the
product's wall or the naive baseline. After the warm start (the simulator back-fills 48 h) is processed,
one Chromium opens ``/`` and, every ``--sample`` seconds: a forced full GC (CDP
``HeapProfiler.collectGarbage``) then ``Runtime.getHeapUsage``, the number of DOM elements, the RSS of
the web and processor processes. At the end the simulator is stopped, the processor drains, and the
page is compared with Redis: every cell's colour (from ``keys.CELL_OPEN``), the KPIs (open cases,
readings today, cameras online) and, with a device layer, every camera's status; the records the
simulator says it wrote against the input streams' lengths (all consumed by the processor).

Run: ``.venv/bin/python bench/bench_wall_soak.py [--minutes 3] [--speed 60] [--warmup 20] [--quick]``
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import psutil
from harness.page import chrome, heap_after_gc, open_wall
from harness.report import header, run_each, size
from harness.stack import Stack, drained, wait_caught_up, wait_drained
from selenium.common.exceptions import TimeoutException

from dashboard.store import keys
from dashboard.store.keys import CAMERA_STATE
from dashboard.store.paths import read_values
from dashboard.store.records import STREAM_OF
from layouts.look import cell_colour

CELL_FILLS_JS = (
    "var out = {}; document.querySelectorAll('path.cell').forEach(function (p) {"
    " var m = /cell-([A-Za-z0-9-]+)/.exec(p.getAttribute('class') || '');"
    " if (m) { out[m[1]] = p.getAttribute('fill'); } });"
    " return out;"
)
KPIS_JS = (
    "var g = function (id) { var e = document.getElementById(id); return e ? e.textContent : null; };"
    " return {open: g('kpi-open'), readings: g('kpi-readings-today'), cameras: g('kpi-cameras-online')};"
)
CAMERAS_JS = (
    "var d = window.citybrain && window.citybrain.devices; if (!d || !d.state) { return null; }"
    " var out = {}; arguments[0].forEach(function (id) {"
    " var s = d.state(id); out[id] = s ? s.status : null; });"
    " return out;"
)
# The bench's own observer (bench/harness/observer.js) records every change of the cameras KPI: its lists are
# emptied before each heap sample, so that the heap is the page's own.
FORGET_JS = "var B = window.__bench; if (B) { B.kpi = []; B.fills = []; B.paints = []; B.responses = []; }"
PAGE_COUNTS_JS = (
    "var cb = window.citybrain || {}, d = cb.devices || {};"
    " return {applied: cb.applied || 0, resyncs: cb.resyncs || 0, dev_resyncs: d.resyncs || 0,"
    " nodes: document.getElementsByTagName('*').length};"
)


def slope_per_hour(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of (seconds, value) points, per hour."""
    if len(points) < 3:
        return None
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / sxx * 3600 if sxx else None


def ask(driver: Any, script: str, *args: Any) -> Any:
    """Run a script in the page; None when the page did not answer in time (its main thread busy)."""
    from selenium.common.exceptions import TimeoutException

    try:
        return driver.execute_script(script, *args)
    except TimeoutException:
        return None


def compare(driver: Any, st: Stack) -> dict[str, Any]:
    """The page against Redis, after the generator stopped and the processor drained."""
    assert st.r is not None
    r = st.r
    cells = {k: int(v) for k, v in r.hgetall(keys.CELL_OPEN).items()}
    fills = ask(driver, CELL_FILLS_JS) or {}
    wrong_cells = sorted(k for k, f in fills.items() if f != cell_colour(cells.get(k, 0)))
    counters = r.hgetall(keys.COUNTERS)
    day = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y%m%d")
    kpis = ask(driver, KPIS_JS) or {}
    n_cams, down = int(counters.get("cameras", 0)), int(counters.get("cameras_down", 0))
    share = f"{100 * (n_cams - down) / n_cams:.1f}".rstrip("0").rstrip(".") + "%" if n_cams else "–"
    want = {
        "open": f"{int(counters.get('open', 0)):,}",
        "readings": f"{read_values(r, [('days', day, 'n', 'readings')])[0]:,}",
        "cameras": share,
    }
    wrong_kpis = {
        k: (kpis.get(k), v) for k, v in want.items() if (kpis.get(k) or "").replace("\u202f", "") != v
    }
    truth = r.hgetall(CAMERA_STATE)
    shown = ask(driver, CAMERAS_JS, sorted(truth))
    wrong_cams = None if shown is None else sum(1 for k, v in truth.items() if shown.get(k) != v)
    sim = r.hgetall(keys.feed_key("simulator"))
    in_streams = sum(r.xlen(s) for s in STREAM_OF.values())
    return {
        "cells": len(fills), "wrong_cells": wrong_cells, "wrong_kpis": wrong_kpis, "wrong_cams": wrong_cams,
        "sim_records": int(sim.get("records", 0)), "in_streams": in_streams, "drained": drained(r),
    }  # fmt: skip


def run_system(system: str, args: argparse.Namespace) -> dict[str, Any]:
    """One soak against one system."""
    out: dict[str, Any] = {"samples": []}
    feeds = ["--speed", str(args.speed), "--seed", "7"]
    with Stack(system, feeds=feeds) as st:
        assert st.r is not None
        time.sleep(5)  # the simulator's warm start is written...
        wait_caught_up(st.r)  # ...and processed
        web, proc = psutil.Process(st.pid("web")), psutil.Process(st.pid("processor"))
        with chrome() as d:
            out["devices"] = open_wall(d, st.url + "/")
            time.sleep(args.warmup)  # first draws, the figures' and formatters' caches: not a leak
            t0 = time.monotonic()
            while True:
                t = time.monotonic() - t0
                try:
                    d.execute_script(FORGET_JS)
                    heap = heap_after_gc(d)
                    counts = d.execute_script(PAGE_COUNTS_JS)
                except TimeoutException:  # the page's main thread did not answer within a minute
                    out["unresponsive"] = out.get("unresponsive", 0) + 1
                    if t >= args.minutes * 60:
                        break
                    continue
                out["samples"].append(
                    {"t": t, "heap": heap, "nodes": counts["nodes"], "web": web.memory_info().rss,
                     "proc": proc.memory_info().rss, "applied": counts["applied"],
                     "resyncs": counts["resyncs"]}
                )  # fmt: skip
                if t >= args.minutes * 60:
                    break
                time.sleep(max(0.0, min(args.sample, args.minutes * 60 - t)))
            out["wall_s"] = time.monotonic() - t0
            st.stop_child("feeds")
            wait_drained(st.r, 300)
            t_end = time.monotonic()
            while True:  # the page converges on Redis (or does not, within a minute)
                time.sleep(2)
                out["check"] = ch = compare(d, st)
                out["settle_s"] = time.monotonic() - t_end
                if not (ch["wrong_cells"] or ch["wrong_kpis"] or ch["wrong_cams"]) or out["settle_s"] > 60:
                    break
    return out


def main() -> None:
    """Soak each system; print the memory figures and the end check side by side."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--minutes", type=float, default=3.0, help="wall minutes of soak (default 3)")
    ap.add_argument("--speed", type=float, default=60, help="simulated seconds per second (default 60)")
    ap.add_argument("--sample", type=float, default=10, help="seconds between samples")
    ap.add_argument("--warmup", type=float, default=20, help="seconds of soak before the first sample")
    ap.add_argument("--quick", action="store_true", help="30 s of soak, a sample every 5 s")
    ap.add_argument("--systems", default="product,baseline")
    args = ap.parse_args()
    if args.quick:
        args.minutes, args.sample = min(args.minutes, 0.5), min(args.sample, 5)
        args.warmup = min(args.warmup, 5)
    rep = header("Wall: compressed soak (simulator at high speed), memory and missed events")
    systems, got = run_each(args.systems, lambda s: run_system(s, args), rep)
    rows = []
    for s in systems:
        f = got[s]
        sm = f["samples"]
        if not sm:
            rows.append([s, "no sample: the page never answered", *["–"] * 8])
            continue
        sim_h = f["wall_s"] * args.speed / 3600
        heap = [(x["t"], float(x["heap"])) for x in sm]
        growth = sm[-1]["heap"] - sm[0]["heap"]
        fit = slope_per_hour(heap)  # per wall hour: per simulated hour is that / speed
        rows.append(
            [s, f"{f['wall_s']:.0f} s = {sim_h:.2f} h", size(sm[0]["heap"]), size(sm[-1]["heap"]),
             size(growth), size(growth / sim_h) if sim_h else "–",
             size(fit / args.speed) if fit is not None else "–", f"{sm[0]['nodes']} → {sm[-1]['nodes']}",
             f"{size(sm[0]['web'])} → {size(sm[-1]['web'])}",
             f"{size(sm[0]['proc'])} → {size(sm[-1]['proc'])}"]
        )  # fmt: skip
    rep.table(
        "6a. JS heap after GC, DOM size, server RSS over the soak",
        ["system", "soak (wall = simulated)", "heap after warm-up", "heap end", "growth",
         "growth per simulated hour (end − start)", "per simulated hour (least-squares fit)", "DOM elements",
         "web RSS", "processor RSS"],
        rows,
        f"target: heap growth ≤ 1 MB/h. Samples start after a {args.warmup:.0f} s warm-up (the first draws "
        "and caches); a forced full GC before each. A short soak measures what events cost; a leak by wall "
        "time alone (timers) would need a long run at speed 1",
    )  # fmt: skip
    rows = []
    for s in systems:
        ch = got[s]["check"]
        sm = got[s]["samples"] or [{"applied": 0, "resyncs": 0}]
        rows.append(
            [s, f"{ch['sim_records']:,}", f"{ch['in_streams']:,}", "yes" if ch["drained"] else "NO",
             f"{ch['cells'] - len(ch['wrong_cells'])}/{ch['cells']}",
             "all equal" if not ch["wrong_kpis"] else str(ch["wrong_kpis"]),
             "no device layer" if ch["wrong_cams"] is None else f"{ch['wrong_cams']} differ",
             f"{sm[-1]['applied'] - sm[0]['applied']} / {sm[-1]['resyncs'] - sm[0]['resyncs']}",
             f"{got[s]['settle_s']:.0f} s"]
        )  # fmt: skip
    for s in systems:
        if got[s].get("unresponsive"):
            rep.note(f"{s}: the page did not answer {got[s]['unresponsive']} sample(s) within a minute")
    rep.table(
        "6b. Missed events: the screen against Redis at the end (generator stopped, processor drained; "
        "checked every 2 s until equal, at most a minute)",
        ["system", "records the simulator wrote", "records in the input streams", "all consumed",
         "cells with the right colour", "KPIs vs Redis (shown, Redis)", "cameras vs Redis",
         "deltas applied / resyncs", "checked after"],
        rows,
    )  # fmt: skip
    rep.done()


if __name__ == "__main__":
    main()
