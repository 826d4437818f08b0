"""Wall benchmark 5: time to the first full screen, cold and warm, product vs the naive baseline.

"Full screen" (the marker bench/harness/observer.js sets): all 478 cells are SVG paths with a
fill, the open-cases KPI (``kpi-open``) shows a number, and, when the page has a device layer
(``window.citybrain.devices``), its devices are loaded (``ready``). Time is the page's
``performance.now()`` at that moment, i.e. since navigation start (Chromium's own start is not counted).
Cold: a fresh Chromium profile each time (empty HTTP cache). Warm: the same browser opening the wall
again (its cache holds the scripts and the static geometry; ETag revalidation). Also: bytes transferred
until then (Resource Timing ``transferSize``, navigation included).

Run: ``.venv/bin/python bench/bench_wall_first_screen.py [--runs 5] [--quick]``
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from harness.page import chrome, page_events, wait_full
from harness.report import header, median, ms, run_each, size
from harness.stack import Stack
from harness.workload import Workload

BYTES_JS = (
    "var n = performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'));"
    "return n.filter(function (e) { return e.responseEnd <= window.__bench.fullPerf; })"
    ".reduce(function (a, e) { return a + (e.transferSize || 0); }, 0);"
)


def one(driver: Any, url: str) -> dict[str, float]:
    """Open the wall once; the marker times (s) and the bytes transferred until the full screen."""
    driver.get("about:blank")
    driver.get(url)
    full = wait_full(driver)
    ev = page_events(driver)
    return {
        "full": full,
        "cells": float(ev.get("cellsPerf") or 0) / 1000,
        "kpi": float(ev.get("kpiPerf") or 0) / 1000,
        "bytes": float(driver.execute_script(BYTES_JS)),
    }


def run_system(system: str, runs: int) -> dict[str, list[dict[str, float]]]:
    """``runs`` cold loads (fresh profiles), then ``runs`` warm loads in one browser."""
    out: dict[str, list[dict[str, float]]] = {"cold": [], "warm": []}
    with Stack(system) as st:
        assert st.r is not None
        Workload(st.r).seed()
        url = st.url + "/"
        for _ in range(runs):
            with chrome() as d:
                out["cold"].append(one(d, url))
        with chrome() as d:
            one(d, url)  # fills the cache
            time.sleep(1)
            for _ in range(runs):
                out["warm"].append(one(d, url))
    return out


def main() -> None:
    """Both systems, side by side."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--runs", type=int, default=5, help="cold and warm loads each (median shown)")
    ap.add_argument("--quick", action="store_true", help="2 runs each")
    ap.add_argument("--systems", default="product,baseline")
    args = ap.parse_args()
    runs = min(args.runs, 2) if args.quick else args.runs
    rep = header("Wall: time to the first full screen, cold and warm")
    systems, got = run_each(args.systems, lambda s: run_system(s, runs), rep)
    rows = []
    for s in systems:
        for kind in ("cold", "warm"):
            xs = got[s][kind]

            def med(key: str, xs: list[dict[str, float]] = xs) -> float | None:
                """The median of one marker over the runs."""
                return median([x[key] for x in xs if x[key]])

            rows.append(
                [s, kind, ms(med("full")), ms(max(x["full"] for x in xs)), ms(med("cells")),
                 ms(med("kpi")), size(med("bytes")), len(xs)]
            )  # fmt: skip
    rep.table(
        "5. Navigation start → first full screen (478 painted cells + KPIs + devices if any)",
        [
            "system",
            "cache",
            "full screen (median)",
            "worst",
            "cells painted",
            "KPIs filled",
            "bytes until then",
            "runs",
        ],
        rows,
        "targets: ≤ 2.0 s cold, ≤ 1.0 s warm",
    )
    rep.done()


if __name__ == "__main__":
    main()
