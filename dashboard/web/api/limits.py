"""Per-source rate limits of the ingest endpoints: a token bucket per bearer token's source and per
Open311 api_key, answered ``429`` with ``Retry-After`` (docs/API.md).

A bucket holds ``burst`` records and refills at ``rate`` records a second; a request takes as many as it
carries, all or nothing. Buckets live in each web process (N processes admit N times the rate: set the
rate per process); their number is bounded by the configured sources.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from flask import Response

from dashboard.web.api.common import BadRequest, error_response


class RateLimiter:
    """Token buckets by key: ``take(key, n)`` is 0 when allowed, else the seconds until it would be."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        """``rate`` records a second, up to ``burst`` at once."""
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    def take(self, key: str, n: int = 1) -> float:
        """Take ``n`` tokens of ``key``'s bucket (0.0), or none and say how long to wait (seconds)."""
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.rate)
            if n <= tokens:
                self._buckets[key] = (tokens - n, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            if n > self.burst:  # never allowed in one request: wait for a full bucket, then split it
                return max(0.001, (self.burst - tokens) / self.rate)
            return max(0.001, (n - tokens) / self.rate)


def too_many(source: str, wait_s: float, rate: float, burst: float) -> Response:
    """429 naming the limit, with Retry-After in whole seconds."""
    message = (
        f"source {source!r} is over its limit of {rate:g} records a second (bursts of {burst:g}); "
        "nothing of this request was kept"
    )
    return error_response(
        BadRequest(429, [{"field": "rate", "message": message}], {"Retry-After": str(math.ceil(wait_s))})
    )
