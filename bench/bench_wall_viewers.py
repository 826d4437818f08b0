"""Wall benchmark 4: concurrent viewers. Delivery latency p95 and the web process's CPU per viewer at
one update a second, product vs the naive baseline.

Load: one 50-change batch a second (49 camera changes and a probe in the probe cell), as in
bench/bench_wall_latency.py. The web process's CPU (psutil, user + system) is measured first with no
viewer, then with the viewers. Product viewers: ``--clients`` Socket.IO clients connected as wall pages
(default 50) and ``--browsers`` real headless Chromium pages (default 2). Baseline viewers:
``--baseline-clients`` pollers of its 1 s callback (default 10: each costs a full callback a second,
more would only queue) and the same browsers. Delivery latency: probe write → the first message (or
response) carrying it at a client; in a browser, probe write → the cell's fill changed.

Run: ``.venv/bin/python bench/bench_wall_viewers.py [--seconds 60] [--clients 50] [--browsers 2] [--quick]``
"""

from __future__ import annotations

import argparse
import contextlib
import time
from typing import Any

import psutil
from harness.page import chrome, match_latencies, open_wall, page_events
from harness.poller import BaselinePoller, baseline_request
from harness.report import header, ms, pct, run_each
from harness.sio import SioListener, probe_in
from harness.stack import Stack
from harness.workload import FILL_OPEN, PROBE_CELL, Workload, now_ms


def cpu_s(proc: psutil.Process) -> float:
    """CPU seconds (user + system) the process and its live children have used (the web role serves
    from a gunicorn worker, a child of the role's process)."""
    total = 0.0
    for p in (proc, *proc.children(recursive=True)):
        with contextlib.suppress(psutil.Error):
            t = p.cpu_times()
            total += t.user + t.system
    return total


def one_per_second(wl: Workload, seconds: float) -> list[tuple[float, str]]:
    """Write one 50-change batch (49 camera changes and a probe) every second; return the probes."""
    writes: list[tuple[float, str]] = []
    t_next = time.monotonic()
    end = t_next + seconds
    while time.monotonic() < end:
        with wl.lock:
            recs = [("camera", wl.camera(now_ms())) for _ in range(49)]
        wl.write(recs)
        writes.append(wl.probe())
        t_next += 1.0
        time.sleep(max(0.0, t_next - time.monotonic()))
    return writes


def sio_latencies(writes: list[tuple[float, str]], frames: list[tuple[float, int, str, Any]]) -> list[float]:
    """Probe write → first message at this client that carries that probe's change."""
    out = []
    hits = [(t, p) for t, _n, event, p in frames if event == "delta" and probe_in(p)]
    for t_w, fill in writes:
        sign = 1 if fill == FILL_OPEN else -1
        t = next(
            (t for t, p in hits if t >= t_w and (p["set"]["cells"][PROBE_CELL] > 0) == (sign > 0)),
            None,
        )
        if t is not None:
            out.append(t - t_w)
    return out


def poll_latencies(
    writes: list[tuple[float, str]], responses: list[tuple[float, float, int, int, str | None]]
) -> list[float]:
    """Probe write → the first baseline response (sent after it) showing the probe's colour."""
    out = []
    for t_w, fill in writes:
        t = next((r[1] for r in responses if r[0] >= t_w and r[4] == fill), None)
        if t is not None:
            out.append(t - t_w)
    return out


def start_clients(system: str, url: str, n: int, viewers: contextlib.ExitStack) -> list[Any]:
    """``n`` viewers without a browser, started (stopped when ``viewers`` closes): Socket.IO clients
    connected as wall pages (product) or pollers of the 1 s callback (baseline)."""
    clients: list[Any]
    if system == "product":
        clients = [SioListener(url) for _ in range(n)]
    else:
        body = baseline_request(url)
        clients = [BaselinePoller(url, body, find_probe=True) for _ in range(n)]
    for cl in clients:
        cl.start()
        viewers.callback(cl.stop)
    if system == "product":
        for cl in clients:
            cl.connected.wait(10)
    return clients


def open_browsers(n: int, url: str, viewers: contextlib.ExitStack) -> tuple[list[Any], int]:
    """``n`` Chromium pages on the wall (quit when ``viewers`` closes); return them and how many never
    showed a full screen (counted: a page that never shows its screen is a finding too)."""
    browsers, incomplete = [], 0
    for _ in range(n):
        d = viewers.enter_context(chrome())
        browsers.append(d)
        try:
            open_wall(d, url)
        except RuntimeError:
            incomplete += 1
    return browsers, incomplete


def latencies(
    system: str, writes: list[tuple[float, str]], clients: list[Any], browsers: list[Any]
) -> dict[str, Any]:
    """Delivery latencies of the probes at the clients and in the browsers (stops the pollers)."""
    lat: list[float] = []
    errors = 0
    for cl in clients:
        if system == "product":
            lat += sio_latencies(writes, cl.frames)
            errors += 1 if cl.error else 0
        else:
            cl.stop()
            lat += poll_latencies(writes, cl.responses)
            errors += cl.errors
    blat: list[float] = []
    for d in browsers:
        blat += match_latencies(writes, page_events(d)["fills"])[0]
    return {"client_lat": lat, "client_errors": errors, "browser_lat": blat}


def run_system(system: str, args: argparse.Namespace) -> dict[str, Any]:
    """Idle CPU, then the viewers; return the figures."""
    out: dict[str, Any] = {}
    with Stack(system) as st, contextlib.ExitStack() as viewers:
        assert st.r is not None
        wl = Workload(st.r, seed=args.seed)
        wl.seed()
        web = psutil.Process(st.pid("web"))
        time.sleep(2)
        c0, t0 = cpu_s(web), time.monotonic()
        one_per_second(wl, args.seconds / 2)
        out["cpu_idle"] = (cpu_s(web) - c0) / (time.monotonic() - t0)
        n_clients = args.clients if system == "product" else args.baseline_clients
        clients = start_clients(system, st.url, n_clients, viewers)
        browsers, out["incomplete"] = open_browsers(args.browsers, st.url + "/", viewers)
        time.sleep(3)
        c0, t0 = cpu_s(web), time.monotonic()
        writes = one_per_second(wl, args.seconds)
        out["cpu_viewers"] = (cpu_s(web) - c0) / (time.monotonic() - t0)
        time.sleep(3)
        out.update(latencies(system, writes, clients, browsers))
        out["expected"] = len(writes) * n_clients
        out["browser_expected"] = len(writes) * len(browsers)
        out["viewers"] = n_clients + len(browsers)
        out["clients"] = n_clients
    return out


def main() -> None:
    """Both systems, side by side."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60, help="length of the measured window")
    ap.add_argument("--clients", type=int, default=50, help="product: Socket.IO clients")
    ap.add_argument("--baseline-clients", type=int, default=10, help="baseline: pollers")
    ap.add_argument("--browsers", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="a 12 s window")
    ap.add_argument("--systems", default="product,baseline")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    if args.quick:
        args.seconds = min(args.seconds, 12)
    rep = header("Wall: concurrent viewers at one update a second")
    systems, got = run_each(args.systems, lambda s: run_system(s, args), rep)
    rows = []
    for s in systems:
        f = got[s]
        per_viewer = (f["cpu_viewers"] - f["cpu_idle"]) / f["viewers"]
        rows.append(
            [
                s,
                f"{f['clients']} + {args.browsers} browsers",
                f"{len(f['client_lat'])}/{f['expected']}",
                ms(pct(f["client_lat"], 50)),
                ms(pct(f["client_lat"], 95)),
                ms(pct(f["browser_lat"], 95)),
                f"{100 * f['cpu_idle']:.1f} %",
                f"{100 * f['cpu_viewers']:.1f} %",
                f"{100 * per_viewer:.2f} %",
                f["client_errors"],
                f["incomplete"],
            ]
        )
    rep.table(
        "4. Concurrent viewers, one 50-change batch a second: delivery latency and the web process's CPU",
        [
            "system", "viewers", "deliveries seen", "client p50", "client p95", "browser DOM p95",
            "web CPU, no viewer", "web CPU, viewers", "CPU per viewer (of a core)", "client errors",
            "browsers never complete",
        ],
        rows,
        "target: ≤ 0.5 % of a core per viewer at 1 update/s; CPU per viewer = (with − without) / viewers",
    )  # fmt: skip
    rep.done()


if __name__ == "__main__":
    main()
