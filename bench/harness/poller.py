"""A baseline viewer without a browser: the naive page's 1 s interval callback (POST
``/_dash-update-component``) sent over HTTP as the page sends it, each response counted."""

from __future__ import annotations

import gzip
import http.client
import json
import re
import threading
import time
import zlib

from harness.workload import PROBE_CELL
from tests.support import http_get

ACCEPT_ENCODING = "gzip, deflate, br, zstd"  # what Chromium sends
_PROBE_COLOUR = re.compile(r'"id":\s*"' + PROBE_CELL + r'"[^}]*?"color":\s*"(#[0-9a-fA-F]{6})"')


def baseline_request(base_url: str) -> bytes:
    """The body a baseline page POSTs to ``/_dash-update-component`` when its 1 s interval fires."""
    status, deps = http_get(base_url + "/_dash-dependencies", 10)
    if status != 200 or not isinstance(deps, list):
        raise RuntimeError(f"the baseline's /_dash-dependencies answered {status}: {str(deps)[:200]}")
    dep = deps[0]
    outputs = [o.split(".", 1) for o in dep["output"].strip(".").split("...")]
    return json.dumps(
        {
            "output": dep["output"],
            "outputs": [{"id": i, "property": p} for i, p in outputs],
            "inputs": [{"id": "tick", "property": "n_intervals", "value": 1}],
            "changedPropIds": ["tick.n_intervals"],
            "state": [],
        }
    ).encode()


def decode_body(raw: bytes, encoding: str | None) -> bytes:
    """A response body without its Content-Encoding (gzip, deflate, br, zstd)."""
    if encoding == "gzip":
        return gzip.decompress(raw)
    if encoding == "deflate":
        return zlib.decompress(raw)
    if encoding == "br":
        import brotli

        return bytes(brotli.decompress(raw))
    if encoding == "zstd":
        from backports import zstd

        return bytes(zstd.decompress(raw))
    return raw


class BaselinePoller(threading.Thread):
    """A baseline viewer without a browser: POSTs the interval callback every second, as the page
    does (the next request once the previous answered, at the next whole second), and records each
    response: (sent, answered, bytes on the wire incl. headers, decoded bytes, probe cell's colour)."""

    def __init__(self, base_url: str, body: bytes, find_probe: bool = False) -> None:
        """Poll ``base_url`` with ``body`` once started."""
        super().__init__(daemon=True, name="bench-poll")
        self.host, self.port = base_url.removeprefix("http://").split(":")
        self.body = body
        self.find_probe = find_probe
        self.responses: list[tuple[float, float, int, int, str | None]] = []
        self.errors = 0
        self.halt = threading.Event()

    def run(self) -> None:
        """Poll until stopped."""
        conn = http.client.HTTPConnection(self.host, int(self.port), timeout=60)
        headers = {"Content-Type": "application/json", "Accept-Encoding": ACCEPT_ENCODING}
        next_t = time.monotonic()
        while not self.halt.is_set():
            t0 = time.time()
            try:
                conn.request("POST", "/_dash-update-component", self.body, headers)
                resp = conn.getresponse()
                raw = resp.read()
            except OSError:
                self.errors += 1
                conn.close()
                self.halt.wait(1)
                continue
            t1 = time.time()
            head = sum(len(k) + len(v) + 4 for k, v in resp.getheaders()) + 17
            decoded = decode_body(raw, resp.getheader("Content-Encoding"))
            colour = None
            if self.find_probe:
                m = _PROBE_COLOUR.search(decoded.decode("utf-8", "replace"))
                colour = m.group(1) if m else None
            self.responses.append((t0, t1, len(raw) + head, len(decoded), colour))
            next_t += 1.0
            if next_t < time.monotonic():
                next_t = time.monotonic() + (1 - (time.monotonic() - next_t) % 1)
            self.halt.wait(max(0.0, next_t - time.monotonic()))
        conn.close()

    def stop(self) -> None:
        """Stop and wait (up to a minute: a request may be in flight)."""
        self.halt.set()
        self.join(60)
