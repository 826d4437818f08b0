"""HTTP ingest: requests/s and latency of POST /api/v1/case-events, single events and 1,000-event batches.

Run: .venv/bin/python bench/bench_http_ingest.py [--seconds 10] [--clients 4]
Starts the real system with run.py (embedded Redis, processor, web; no simulator) on a free port,
posts from client threads over keep-alive connections, prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dashboard.domain.geo import load_default_geography  # noqa: E402
from tests.support import App, temp_dir  # noqa: E402

TOKEN = "bench-token"


def event(i: int, cells: list[str], now_ms: int) -> dict[str, object]:
    """One reported case event."""
    return {
        "event_id": f"bench-{i}",
        "case_id": f"bench-{i}",
        "time": now_ms,
        "step": "reported",
        "event_type": "CM-0101",
        "cell_id": cells[i % len(cells)],
        "note": "人民路12号门前占道经营",
    }


def run_phase(port: int, seconds: float, clients: int, batch: int, start: int) -> tuple[int, list[float]]:
    """POST for ``seconds`` from ``clients`` threads; return (events accepted, latencies in s)."""
    cells = list(load_default_geography().cells)
    lat: list[float] = []
    accepted = [0]
    lock = threading.Lock()
    counter = [start]
    deadline = time.monotonic() + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
        while time.monotonic() < deadline:
            with lock:
                first = counter[0]
                counter[0] += batch
            now_ms = int(time.time() * 1000)
            items = [event(first + k, cells, now_ms) for k in range(batch)]
            body = json.dumps(items[0] if batch == 1 else {"events": items}).encode()
            t = time.perf_counter()
            conn.request("POST", "/api/v1/case-events", body, headers)
            resp = conn.getresponse()
            resp.read()
            dt = time.perf_counter() - t
            with lock:
                lat.append(dt)
                if resp.status == 202:
                    accepted[0] += batch
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return accepted[0], lat


def pct(xs: list[float], p: float) -> float:
    """The p-th percentile (0..100) of xs."""
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))]


def main() -> None:
    """Start the system, run both phases, print figures, stop."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--quick", action="store_true", help="3 s per phase")
    args = ap.parse_args()
    if args.quick:
        args.seconds = min(args.seconds, 3.0)
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"command: {' '.join(sys.argv)}")
    with temp_dir("cbh-") as d:
        cfg = d / "config.yaml"
        cfg.write_text(
            f"ingest:\n  tokens:\n    bench: {TOKEN}\n  buffer_size: 1000000\n"
            "  rate_per_s: 1000000\n  rate_burst: 1000000\n"  # the product's limit is not what is measured
            "simulator:\n  enabled: false\n"
        )
        app = App(d, "--config", str(cfg), "--log-level", "WARNING")
        try:
            app.start()  # run.py's output goes to a log in the folder
            for batch, clients in ((1, args.clients), (1000, 2)):
                n, lat = run_phase(app.port, args.seconds, clients, batch, start=batch * 10_000_000)
                reqs = len(lat)
                print(
                    f"batch {batch:>4}, {clients} clients: {reqs / args.seconds:,.0f} requests/s, "
                    f"{n / args.seconds:,.0f} events/s accepted; "
                    f"latency p50 {statistics.median(lat) * 1000:.1f} ms, "
                    f"p99 {pct(lat, 99) * 1000:.1f} ms"
                )
        finally:
            if app.proc is not None:
                app.stop(timeout=15)


if __name__ == "__main__":
    main()
