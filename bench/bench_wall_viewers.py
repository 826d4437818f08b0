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
import time
from typing import Any

import harness as h
import psutil


def cpu_s(proc: psutil.Process) -> float:
    """CPU seconds (user + system) the process has used."""
    t = proc.cpu_times()
    return float(t.user + t.system)


def one_per_second(wl: h.Workload, seconds: float) -> list[tuple[float, str]]:
    """Write one 50-change batch (49 camera changes and a probe) every second; return the probes."""
    writes: list[tuple[float, str]] = []
    t_next = time.monotonic()
    end = t_next + seconds
    while time.monotonic() < end:
        with wl.lock:
            recs = [("camera", wl.camera(h.now_ms())) for _ in range(49)]
        wl.write(recs)
        writes.append(wl.probe())
        t_next += 1.0
        time.sleep(max(0.0, t_next - time.monotonic()))
    return writes


def sio_latencies(writes: list[tuple[float, str]], frames: list[tuple[float, int, str, Any]]) -> list[float]:
    """Probe write → first message at this client that carries that probe's change."""
    out = []
    hits = [(t, p) for t, _n, event, p in frames if event == "delta" and h.probe_in(p)]
    for t_w, fill in writes:
        sign = 1 if fill == h.FILL_OPEN else -1
        t = next(
            (t for t, p in hits if t >= t_w and (p["set"]["cells"][h.PROBE_CELL] > 0) == (sign > 0)),
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


def run_system(system: str, args: argparse.Namespace) -> dict[str, Any]:
    """Idle CPU, then the viewers; return the figures."""
    out: dict[str, Any] = {}
    with h.Stack(system) as st:
        assert st.r is not None
        wl = h.Workload(st.r, seed=args.seed)
        wl.seed()
        web = psutil.Process(st.pid("web"))
        time.sleep(2)
        c0, t0 = cpu_s(web), time.monotonic()
        one_per_second(wl, args.seconds / 2)
        out["cpu_idle"] = (cpu_s(web) - c0) / (time.monotonic() - t0)
        n_clients = args.clients if system == "product" else args.baseline_clients
        clients: list[Any] = []
        browsers: list[Any] = []
        try:
            if system == "product":
                for _ in range(n_clients):
                    cl = h.SioListener(st.url)
                    cl.start()
                    clients.append(cl)
                for cl in clients:
                    cl.connected.wait(10)
                out["client_errors"] = sum(1 for cl in clients if cl.error)
            else:
                body = h.baseline_request(st.url)
                clients = [h.BaselinePoller(st.url, body, find_probe=True) for _ in range(n_clients)]
                for cl in clients:
                    cl.start()
                out["client_errors"] = 0
            out["incomplete"] = 0
            for _ in range(args.browsers):
                d = h.chrome()
                browsers.append(d)
                try:
                    h.open_wall(d, st.url + "/")
                except RuntimeError:  # counted: a page that never shows its screen is a finding too
                    out["incomplete"] += 1
            time.sleep(3)
            c0, t0 = cpu_s(web), time.monotonic()
            writes = one_per_second(wl, args.seconds)
            out["cpu_viewers"] = (cpu_s(web) - c0) / (time.monotonic() - t0)
            time.sleep(3)
            lat: list[float] = []
            for cl in clients:
                if system == "product":
                    lat += sio_latencies(writes, cl.frames)
                else:
                    cl.stop()
                    lat += poll_latencies(writes, cl.responses)
                    out["client_errors"] += cl.errors
            out["client_lat"] = lat
            out["expected"] = len(writes) * n_clients
            blat: list[float] = []
            for d in browsers:
                got, _missed = h.match_latencies(writes, h.page_events(d)["fills"])
                blat += got
            out["browser_lat"] = blat
            out["browser_expected"] = len(writes) * len(browsers)
            out["viewers"] = n_clients + len(browsers)
            out["clients"] = n_clients
        finally:
            for cl in clients:
                cl.stop()
            for d in browsers:
                d.quit()
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
    rep = h.header("Wall: concurrent viewers at one update a second")
    systems, got = h.run_each(args.systems, lambda s: run_system(s, args), rep)
    rows = []
    for s in systems:
        f = got[s]
        per_viewer = (f["cpu_viewers"] - f["cpu_idle"]) / f["viewers"]
        rows.append(
            [
                s,
                f"{f['clients']} + {args.browsers} browsers",
                f"{len(f['client_lat'])}/{f['expected']}",
                h.ms(h.pct(f["client_lat"], 50)),
                h.ms(h.pct(f["client_lat"], 95)),
                h.ms(h.pct(f["browser_lat"], 95)),
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
