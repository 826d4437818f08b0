"""Benchmark: a 16,000-camera status sweep, from the platform's paged HTTP response to the changes in Redis.

Starts a real redis-server (the embedded one run.py uses, on a Unix socket in a temporary folder) and a
stdlib HTTP server standing in for the video platform (16 pages of 1,000 statuses), then times
``CameraPollFeed.poll_once`` for: the first sweep (every camera is new), a sweep without changes, one
with 60 changes, and one where every camera changed. Prints figures; asserts nothing.

Run: ``.venv/bin/python bench/bench_cameras.py [--rounds 5]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import threading
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dashboard.domain.registry import Registry, default_registry  # noqa: E402
from dashboard.store import keys  # noqa: E402
from feeds.base import Sink  # noqa: E402
from feeds.camera_poll import CameraPollConfig, CameraPollFeed, Sweep  # noqa: E402
from tests.support import redis_server  # noqa: E402


def serve(status: dict[str, int]) -> ThreadingHTTPServer:
    """A platform-like paged list of ``status`` on a free local port, served from a thread."""

    class Handler(BaseHTTPRequestHandler):
        """GET ?pageNo=&pageSize= -> {"code": 0, "data": {"total": n, "list": [...]}}."""

        def do_GET(self) -> None:
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            page, size = int(q["pageNo"][0]), int(q["pageSize"][0])
            rows = list(status.items())[(page - 1) * size : page * size]
            body = json.dumps(
                {
                    "code": 0,
                    "data": {"total": len(status), "list": [{"channelId": k, "online": v} for k, v in rows]},
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def timed(label: str, rounds: int, prepare: Callable[[], None], feed: CameraPollFeed) -> None:
    """Run ``prepare`` then one sweep, ``rounds`` times; print the medians."""
    sweeps: list[Sweep] = []
    for _ in range(rounds):
        prepare()
        sweep = feed.poll_once()
        assert sweep is not None, "sweep failed"
        sweeps.append(sweep)

    def med(f: Callable[[Sweep], float]) -> float:
        return statistics.median(f(s) for s in sweeps) * 1000

    total = med(lambda s: s.fetch_s + s.apply_s + s.commit_s)
    print(
        f"{label:28} changes {len(sweeps[-1].changes):6}  total {total:7.1f} ms  "
        f"(fetch+parse {med(lambda s: s.fetch_s):6.1f}, diff+validate {med(lambda s: s.apply_s):6.1f}, "
        f"redis MULTI {med(lambda s: s.commit_s):6.1f})"
    )


def main() -> None:
    """Start Redis and the stand-in platform, time the sweeps, print the figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="sweeps per case (median shown)")
    parser.add_argument("--quick", action="store_true", help="1 sweep per case")
    args = parser.parse_args()
    if args.quick:
        args.rounds = 1
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(
        f"machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {platform.machine()}, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )
    reg = default_registry()
    status = dict.fromkeys(reg.cameras, 1)
    with redis_server("cb-bench-") as server:
        http = serve(status)
        try:
            r = redis.Redis.from_url(server.url, decode_responses=True)
            print(f"redis: {server.executable} {r.info('server')['redis_version']} (unix socket)")
            sweeps(r, http.server_address[1], status, reg, args.rounds)
        finally:
            http.shutdown()


def sweeps(r: redis.Redis, port: int, status: dict[str, int], reg: Registry, rounds: int) -> None:
    """Time the four kinds of sweep against the stand-in platform on ``port`` (``status`` is what it
    serves)."""
    ids = list(status)
    cfg = CameraPollConfig(
        url=f"http://127.0.0.1:{port}/channels",
        name="bench-video",
        page_param="pageNo",
        size_param="pageSize",
        items_field="data.list",
        total_field="data.total",
        id_field="channelId",
        status_field="online",
        status_map={"1": "online", "0": "offline", "2": "fault"},
    )
    feed = CameraPollFeed("bench-video", Sink(r, "bench-video"), r, cfg, reg)

    def fresh() -> None:
        r.delete(keys.feed_state_key("bench-video"), keys.STREAM_CAMERA_STATUS)
        feed.state_loaded = False
        for k in ids:
            status[k] = 1

    def nothing() -> None:
        pass

    flip = {"n": 0}

    def sixty() -> None:
        flip["n"] += 1
        for k in ids[flip["n"] * 60 : flip["n"] * 60 + 60]:
            status[k] = 0 if status[k] else 1

    def everything() -> None:
        for k in ids:
            status[k] = 0 if status[k] else 1

    print(f"{len(ids)} cameras, 16 pages of 1,000; median of {rounds} sweeps each")
    timed("first sweep (all new)", rounds, fresh, feed)
    timed("no change", rounds, nothing, feed)
    timed("60 changed", rounds, sixty, feed)
    timed("all 16,000 changed", rounds, everything, feed)
    print(f"stream length now {r.xlen(keys.STREAM_CAMERA_STATUS)}")


if __name__ == "__main__":
    main()
