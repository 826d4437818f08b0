"""A sink's journal: every record a source accepted, on local disk until Redis has it.

``Sink.offer`` appends the records here before it says yes, so an HTTP endpoint answers 202 only for
records that would survive the web process being killed while Redis is away: a process that starts
finds the journals that no living process holds (``flock``) and writes their records first. Lines are
JSON ``[kind, fields]`` (the stream entry's fields), in segments of ``SEGMENT_RECORDS``; a segment goes
once all of its records are in Redis. ``os.write`` puts each line in the kernel before ``offer``
returns (a killed process loses nothing); ``sync`` (the sink calls it about once a second) puts them on
the disk, like Redis' own ``appendfsync everysec``. Files are the owner's only (0600 in a 0700 folder).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
from collections import deque
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger(__name__)

SEGMENT_RECORDS = 10_000
Line = tuple[str, dict[str, str]]  # (record kind, stream entry fields)


class Journal:
    """The append-only segments of one source (``feed``) in ``folder``."""

    def __init__(self, folder: Path, feed: str) -> None:
        """Keep ``feed``'s segments in ``folder`` (made 0700 if missing)."""
        self.folder = Path(folder)
        self.feed = feed
        self._closed: deque[tuple[Path, int]] = deque()  # full segments: (path, seq of their last record)
        self._fd: int | None = None
        self._path: Path | None = None
        self._in_segment = 0
        self._n = 0  # segments opened by this process
        self.appended = 0  # records appended by this process (their seq)
        self._dirty = False

    def _open(self) -> None:
        """Start a new segment, held by this process (flock) until it is removed."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.folder.chmod(0o700)
        self._n += 1
        self._path = self.folder / f"{self.feed}.{os.getpid()}.{self._n:06d}.journal"
        self._fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_TRUNC, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._in_segment = 0

    def append(self, lines: Sequence[Line]) -> None:
        """Append records (OSError when the disk refuses: the caller then refuses them too)."""
        if not lines:
            return
        if self._fd is None or self._in_segment >= SEGMENT_RECORDS:
            if self._fd is not None and self._path is not None:
                self._closed.append((self._path, self.appended))
                os.close(self._fd)
            self._open()
        assert self._fd is not None
        data = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode()
        os.write(self._fd, data)
        self.appended += len(lines)
        self._in_segment += len(lines)
        self._dirty = True

    def written(self, upto: int) -> None:
        """Records up to seq ``upto`` are in Redis: remove the segments they fill; empty the current one
        when all of it is written."""
        while self._closed and self._closed[0][1] <= upto:
            path, _ = self._closed.popleft()
            path.unlink(missing_ok=True)
        if self._fd is not None and upto >= self.appended and self._in_segment:
            os.ftruncate(self._fd, 0)
            self._in_segment = 0

    def sync(self) -> None:
        """Put what was appended on the disk (fsync)."""
        if self._fd is not None and self._dirty:
            self._dirty = False
            os.fsync(self._fd)

    def recover(self) -> list[Line]:
        """The records of every segment of this source that no living process holds, oldest first; those
        segments are removed (call before appending them again)."""
        if not self.folder.is_dir():
            return []
        out: list[Line] = []
        for path in sorted(self.folder.glob(f"{self.feed}.*.journal"), key=_segment_order):
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # a living process writes it
                os.close(fd)
                continue
            with os.fdopen(fd, "rb") as f:
                out += _lines(f.read(), path)
            path.unlink(missing_ok=True)
        if out:
            log.warning("journal %s: %d accepted records not yet in Redis, recovered", self.feed, len(out))
        return out

    def close(self) -> None:
        """Release the current segment (kept on disk: a next start recovers what is in it)."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None


def _segment_order(path: Path) -> tuple[int, int]:
    """Oldest first: by modification time, then segment number."""
    try:
        n = int(path.name.split(".")[-2])
    except (ValueError, IndexError):
        n = 0
    return (path.stat().st_mtime_ns if path.exists() else 0, n)


def _lines(data: bytes, path: Path) -> list[Line]:
    """The records of a segment's bytes (a torn last line, from a crash mid-write, is skipped)."""
    out: list[Line] = []
    for i, raw in enumerate(data.split(b"\n")):
        if not raw.strip():
            continue
        try:
            kind, fields = json.loads(raw)
            out.append((str(kind), {str(k): str(v) for k, v in fields.items()}))
        except (ValueError, TypeError, AttributeError):
            log.warning("journal %s line %d unreadable; skipped", path.name, i + 1)
    return out
