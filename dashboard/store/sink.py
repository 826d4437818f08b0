"""The writer into the input streams: a bounded, ordered, retrying buffer per source, and its health.

A source (a feed of the feeds process, an HTTP endpoint of the web process) hands accepted records to
its ``Sink``. The sink appends records to their streams in batches, in the order accepted. When Redis is
unreachable, records wait in a bounded buffer and are written when it returns; when the buffer is full,
``offer`` says no, so that an HTTP endpoint can answer 503 instead of dropping.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import redis

from dashboard.domain.catalogue import Catalogue
from dashboard.domain.geo import Geography
from dashboard.domain.types import epoch_ms
from dashboard.store import keys
from dashboard.store.records import STREAM_OF, Record, encode, kind_of

log = logging.getLogger(__name__)


class Sink:
    """A bounded FIFO of accepted records and the thread that writes them to Redis."""

    def __init__(
        self,
        client: redis.Redis,
        feed: str,
        capacity: int = 100_000,
        batch: int = 500,
        flush_interval: float = 0.05,
    ) -> None:
        """Write for feed ``feed``; hold at most ``capacity`` records while Redis is away."""
        self.r = client
        self.feed = feed
        self.capacity = capacity
        self.batch = batch
        self.flush_interval = flush_interval
        self._buf: deque[Record] = deque()
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.written = 0
        self.errors = 0
        self.healthy = True
        self.last_error = ""
        self._last_heartbeat = 0.0
        self.rate = 0.0
        self._window = 0
        self._window_start = time.monotonic()

    def offer(self, records: Sequence[Record]) -> bool:
        """Accept all of ``records`` (True) or none of them when the buffer lacks room (False)."""
        with self._cond:
            if len(self._buf) + len(records) > self.capacity:
                return False
            self._buf.extend(records)
            self._cond.notify()
            return True

    def pending(self) -> int:
        """Records accepted and not yet written."""
        with self._cond:
            return len(self._buf)

    def start(self) -> Sink:
        """Start the writer thread."""
        self._thread = threading.Thread(target=self._loop, name=f"sink-{self.feed}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Write what is buffered (for at most ``timeout`` s) and stop."""
        self._stop.set()
        with self._cond:
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        """Write batches until stopped and drained; back off while Redis is unreachable."""
        backoff = 0.1
        while True:
            with self._cond:
                if not self._buf:
                    if self._stop.is_set():
                        return
                    self._cond.wait(self.flush_interval)
                chunk = [self._buf[i] for i in range(min(self.batch, len(self._buf)))]
            try:
                self._write(chunk)
                backoff = 0.1
            except redis.RedisError as err:
                self.errors += 1
                self.healthy = False
                self.last_error = str(err)
                log.warning("feed %s: redis write failed (%s); %d buffered", self.feed, err, self.pending())
                if self._stop.wait(backoff) and self._stop.is_set() and backoff >= 2:
                    return  # stopping while Redis is away: give up after a few tries
                backoff = min(backoff * 2, 5.0)
                continue
            with self._cond:
                for _ in chunk:
                    self._buf.popleft()
            self.healthy = True

    def _write(self, chunk: list[Record]) -> None:
        """Append ``chunk`` to its streams and refresh this feed's health, in one round trip."""
        if not chunk and time.monotonic() - self._last_heartbeat < 1.0:
            return
        now = epoch_ms()
        # MULTI/EXEC: a connection lost mid-batch leaves none of it written, so the retry cannot append
        # a record twice (a plain pipeline may have applied a prefix before the error).
        pipe = self.r.pipeline(transaction=True)
        for record in chunk:
            pipe.xadd(
                STREAM_OF[kind_of(record)],
                encode(record),  # type: ignore[arg-type]
                maxlen=keys.INPUT_STREAMS_MAXLEN,
                approximate=True,
            )
        health: dict[str, float] = {
            "heartbeat_ms": now,
            "write_errors": self.errors,
            "buffered": len(self._buf),
        }
        if chunk:
            health["last_record_ms"] = now
            pipe.hincrby(keys.feed_key(self.feed), "records", len(chunk))
        mono = time.monotonic()
        self._window += len(chunk)
        if mono - self._window_start >= 5.0:  # records/s over the last ~5 s
            self.rate = self._window / (mono - self._window_start)
            self._window, self._window_start = 0, mono
        health["rate"] = round(self.rate, 2)
        pipe.hset(keys.feed_key(self.feed), mapping=health)  # type: ignore[arg-type]
        pipe.sadd(keys.FEEDS, self.feed)
        pipe.execute()
        self._last_heartbeat = mono
        self.written += len(chunk)


@dataclass
class IngestEnv:
    """What a source of records may use: Redis, the district's geography and catalogue, a sink each."""

    client: redis.Redis
    geo: Geography
    catalogue: Catalogue
    sinks: dict[str, Sink] = field(default_factory=dict)
    buffer_size: int = 100_000

    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def sink(self, feed: str) -> Sink:
        """The (started) sink of source ``feed``, made on first use (thread-safe)."""
        with self._lock:
            if feed not in self.sinks:
                self.sinks[feed] = Sink(self.client, feed, capacity=self.buffer_size).start()
            return self.sinks[feed]
