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
from pathlib import Path

import redis

from dashboard.domain.catalogue import Catalogue
from dashboard.domain.geo import Geography
from dashboard.domain.types import epoch_ms
from dashboard.store import keys
from dashboard.store.journal import Journal, Line
from dashboard.store.records import STREAM_OF, Record, encode, kind_of
from dashboard.store.validate import DEFAULT_BOUNDS, TimeBounds

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
        journal: Journal | None = None,
    ) -> None:
        """Write for feed ``feed``; hold at most ``capacity`` records while Redis is away; with a
        ``journal``, keep every accepted record on disk until Redis has it (``dashboard.store.journal``)."""
        self.r = client
        self.feed = feed
        self.capacity = capacity
        self.batch = batch
        self.flush_interval = flush_interval
        self._buf: deque[Line] = deque()  # (kind, stream entry fields): encoded once, on offer
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
        self.journal = journal
        self._done = 0  # records written to Redis (the journal's seq)
        self._synced = time.monotonic()

    def offer(self, records: Sequence[Record]) -> bool:
        """Accept all of ``records`` (True) or none of them when the buffer lacks room (False)."""
        lines: list[Line] = [(kind_of(r), encode(r)) for r in records]
        with self._cond:
            if len(self._buf) + len(lines) > self.capacity:
                return False
            if self.journal is not None:
                try:
                    self.journal.append(lines)
                except OSError as err:  # a full or read-only disk: refuse rather than promise
                    log.error("feed %s: journal write failed (%s); refusing records", self.feed, err)
                    return False
            self._buf.extend(lines)
            self._cond.notify()
            return True

    def pending(self) -> int:
        """Records accepted and not yet written."""
        with self._cond:
            return len(self._buf)

    def start(self) -> Sink:
        """Start the writer thread, first taking back what a process that died had journaled."""
        if self.journal is not None:
            self._recover(self.journal)
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
        if self.journal is not None:
            self.journal.close()

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
                self._done += len(chunk)
                if self.journal is not None:
                    self._journal_done(self.journal)
            self.healthy = True

    def _recover(self, journal: Journal) -> None:
        """Put the records of dead processes' journals first in the buffer (and in our journal), as they
        were written there: entries of the input streams (the processor checks them as any other)."""
        lines = [line for line in journal.recover() if line[0] in STREAM_OF]
        if lines:
            with self._cond:
                journal.append(lines)
                self._buf.extendleft(reversed(lines))

    def _journal_done(self, journal: Journal) -> None:
        """After a write (under the lock): drop what Redis has; sync the journal about once a second."""
        try:
            journal.written(self._done)
            if time.monotonic() - self._synced >= 1.0:
                journal.sync()
                self._synced = time.monotonic()
        except OSError as err:
            log.warning("feed %s: journal upkeep failed: %s", self.feed, err)

    def _write(self, chunk: list[Line]) -> None:
        """Append ``chunk`` to its streams and refresh this feed's health, in one round trip."""
        if not chunk and time.monotonic() - self._last_heartbeat < 1.0:
            return
        now = epoch_ms()
        # MULTI/EXEC: a connection lost mid-batch leaves none of it written, so the retry cannot append
        # a record twice (a plain pipeline may have applied a prefix before the error).
        pipe = self.r.pipeline(transaction=True)
        for kind, fields in chunk:
            pipe.xadd(
                STREAM_OF[kind],  # type: ignore[index]  # a kind offered or recovered (checked) above
                fields,  # type: ignore[arg-type]
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
    bounds: TimeBounds = DEFAULT_BOUNDS  # the times a record may carry
    journal_dir: Path | None = None  # where each sink journals what it accepted (None: no journal)

    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def sink(self, feed: str) -> Sink:
        """The (started) sink of source ``feed``, made on first use (thread-safe)."""
        with self._lock:
            if feed not in self.sinks:
                journal = Journal(self.journal_dir, feed) if self.journal_dir is not None else None
                self.sinks[feed] = Sink(self.client, feed, capacity=self.buffer_size, journal=journal).start()
            return self.sinks[feed]
