"""Wall benchmark 2: bytes sent to one viewer per update and per minute, product vs the naive baseline.

Product: one Socket.IO client connected as a wall page is (``/socket.io``, Engine.IO 4 over a
WebSocket, connect auth ``{"pathname": "/"}``, permessage-deflate offered as Chromium offers it), every
byte counted as it comes off the socket; the messages' uncompressed size is shown beside it.
Baseline: one viewer polling the interval callback every second as its page
does, with Chromium's ``Accept-Encoding`` (the app compresses), every response counted (body as sent
plus headers). Same seeded state and load as the other wall benchmarks (bench/harness/): 50-change
batches of one kind (camera changes, sensor readings, case events), then the steady (~150 records/s)
and burst (~2,000 records/s) loads.

Run: ``.venv/bin/python bench/bench_wall_bytes.py [--seconds 60] [--batches 10] [--quick]``
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from harness.poller import BaselinePoller, baseline_request
from harness.report import header, median, pct, ratio, run_each, size
from harness.sio import SioListener
from harness.stack import Stack, wait_drained
from harness.workload import Workload, load, now_ms

KINDS = {"camera": "camera changes", "sensor": "sensor readings", "case": "case events"}


def viewer(system: str, st: Stack) -> Any:
    """A started viewer of ``system``: frames (product) or responses (baseline)."""
    if system == "product":
        v: Any = SioListener(st.url, keep_payload=False)
        v.start()
        v.connected.wait(10)
        if v.error:
            raise RuntimeError(f"socket.io client: {v.error}")
        return v
    p = BaselinePoller(st.url, baseline_request(st.url))
    p.start()
    return p


def received(system: str, v: Any, t0: float, t1: float, raw: bool = False) -> tuple[int, list[int]]:
    """(all bytes, sizes of each update) the viewer received in [t0, t1); ``raw``: uncompressed."""
    if system == "product":
        frames = [(f, r) for f, r in zip(v.frames, v.raw, strict=False) if t0 <= f[0] < t1]
        sizes = [(r if raw else f[1], f[2]) for f, r in frames]
        updates = [n for n, name in sizes if name not in ("ping", "connect", "other")]
        return sum(n for n, _e in sizes), updates
    resp = [r for r in v.responses if t0 <= r[1] < t1]
    return sum(r[2] for r in resp), [r[2] for r in resp]


def run_system(system: str, args: argparse.Namespace) -> dict[str, Any]:
    """The batches and the loads against one system."""
    out: dict[str, Any] = {}
    with Stack(system) as st:
        assert st.r is not None
        wl = Workload(st.r, seed=args.seed)
        wl.seed()
        v = viewer(system, st)
        try:
            time.sleep(3)
            for kind in KINDS:
                per_batch, raw_batch = [], []
                t_kind = time.time()
                for _ in range(args.batches):
                    with wl.lock:
                        ts = now_ms()
                        make = {"camera": wl.camera, "sensor": wl.sensor, "case": wl.case}[kind]
                        recs = [(kind, make(ts)) for _ in range(50)]
                    t0 = time.time()
                    wl.write(recs)
                    time.sleep(2.0)
                    total, updates = received(system, v, t0, t0 + 2.0)
                    if system == "product":
                        per_batch.append(sum(updates))
                        raw_batch.append(sum(received(system, v, t0, t0 + 2.0, raw=True)[1]))
                if system == "baseline":  # every response is the whole screen, whatever changed
                    _total, sizes = received(system, v, t_kind, time.time())
                    per_batch = sizes or received(system, v, 0, time.time())[1]
                out[kind] = per_batch
                out[kind + " raw"] = raw_batch
            for name, rate in (("steady", args.steady), ("burst", args.burst)):
                t0 = time.time()
                with load(wl, rate):
                    time.sleep(args.seconds)
                t1 = time.time()
                total, updates = received(system, v, t0, t1)
                out[name] = {
                    "per_min": total * 60 / (t1 - t0),
                    "updates": updates,
                    "per_s": len(updates) / (t1 - t0),
                }
                if system == "product":
                    by_event: dict[str, list[int]] = {}
                    for t, n, event, _p in v.frames:
                        if t0 <= t < t1:
                            by_event.setdefault(event, []).append(n)
                    out[name]["by_event"] = {
                        e: (len(ns), sum(ns) * 60 / (t1 - t0)) for e, ns in by_event.items()
                    }
                wait_drained(st.r)
        finally:
            if system == "product":
                out["compressed"] = v.compressed
            v.stop()
    return out


def main() -> None:
    """Both systems, side by side."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60, help="length of the steady and burst phases")
    ap.add_argument("--batches", type=int, default=10, help="50-change batches of each kind")
    ap.add_argument("--quick", action="store_true", help="12 s phases, 3 batches of each kind")
    ap.add_argument("--systems", default="product,baseline")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--steady", type=float, default=150)
    ap.add_argument("--burst", type=float, default=2000)
    args = ap.parse_args()
    if args.quick:
        args.seconds, args.batches = min(args.seconds, 12), min(args.batches, 3)
    rep = header("Wall: bytes sent to one viewer, per update and per minute")
    systems, got = run_each(args.systems, lambda s: run_system(s, args), rep)
    both = {"product", "baseline"} <= set(got)
    rows = []
    for kind, label in KINDS.items():
        row: list[Any] = [f"one batch of 50 {label}"]
        for s in systems:
            row.append(size(median(got[s][kind])))
            if s == "product":
                row.append(size(median(got[s][kind + " raw"])))
        if both:
            row.append(ratio(median(got["baseline"][kind]), median(got["product"][kind])))
        rows.append(row)
    rep.table(
        "2a. Bytes to one viewer for one 50-change batch (median; baseline: its responses meanwhile)",
        [
            "batch",
            *[c for s in systems for c in ([s, "product uncompressed"] if s == "product" else [s])],
            *(["baseline/product"] if both else []),
        ],
        rows,
        "target: ≤ 2 KB for a 50-change batch; ≥ 100× less than the baseline. Both as a browser receives "
        "them: product with permessage-deflate"
        + ("" if got.get("product", {}).get("compressed", True) else " (NOT agreed in this run)")
        + ", baseline gzip",
    )
    rows = []
    for ph in ("steady", "burst"):
        row = [ph]
        for s in systems:
            f = got[s][ph]
            row += [
                size(f["per_min"]),
                f"{f['per_s']:.1f}",
                size(median([float(x) for x in f["updates"]])),
                size(pct([float(x) for x in f["updates"]], 95)),
            ]
        if both:
            row.append(ratio(got["baseline"][ph]["per_min"], got["product"][ph]["per_min"]))
        rows.append(row)
    cols = ["phase"]
    for s in systems:
        cols += [f"{s} per minute", f"{s} updates/s", f"{s} update p50", f"{s} update p95"]
    if both:
        cols.append("baseline/product per minute")
    rep.table("2b. Bytes to one viewer under load", cols, rows)
    if "product" in got:
        rows = [
            [ph, event, n, size(per_min)]
            for ph in ("steady", "burst")
            for event, (n, per_min) in sorted(got["product"][ph]["by_event"].items())
        ]
        rep.table(
            "2c. The product's Socket.IO messages by event",
            ["phase", "event", "messages", "per minute"],
            rows,
        )
    rep.done()


if __name__ == "__main__":
    main()
