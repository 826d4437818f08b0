"""The camera status collector: polls the video platform's paged status list, emits only changes.

Every ``interval_s`` it reads all pages (``?page=1&size=1000``, ...) of the platform's camera list,
maps each item's status through ``status_map`` to online / offline / fault, compares it with the last
known state and appends a ``CameraStatus`` for each camera whose state changed. The last known states
live in memory and in the Redis hash ``keys.feed_state_key(<name>)``, written in the same MULTI/EXEC as the
records, so a restart resumes without re-announcing 16,000 cameras and a crash can never separate a
record from the state it set. The platform is the buffer: when Redis or the platform is away the sweep
fails, nothing changes, and the next sweep catches up. The first sweep ever announces every camera.
Unknown camera ids and unmapped status values are counted as rejected. docs/FEEDS.md has an example.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import redis
from pydantic import Field, field_validator

from dashboard.domain.registry import DEFAULT_DIR, Registry, load_registry
from dashboard.domain.types import epoch_ms
from dashboard.store import keys
from dashboard.store.records import CameraStatus, encode
from dashboard.store.sink import IngestEnv, Sink
from dashboard.store.validate import ReadingError, parse_ts, validate_camera_status
from feeds.base import Feed, FeedConfig, register_feed_config

log = logging.getLogger(__name__)

CameraState = Literal["online", "offline", "fault"]


_IDENTITY_MAP: dict[str, CameraState] = {"online": "online", "offline": "offline", "fault": "fault"}


@register_feed_config
class CameraPollConfig(FeedConfig):
    """A video platform's camera status list to poll (``type: camera_poll`` under ``feeds:``)."""

    type: Literal["camera_poll"] = "camera_poll"
    url: str = Field(pattern=r"^https?://", description="The status list endpoint (paged).")
    interval_s: float = Field(30.0, gt=0, le=3600, description="Seconds between sweeps.")
    page_param: str = Field("page", min_length=1, description="Query parameter of the page number.")
    size_param: str = Field("size", min_length=1, description="Query parameter of the page size.")
    page_size: int = Field(1000, ge=1, le=100_000, description="Items asked for per page.")
    first_page: int = Field(1, ge=0, description="Number of the first page (1, or 0 on some platforms).")
    max_pages: int = Field(1000, ge=1, description="A sweep needing more pages than this is an error.")
    items_field: str = Field("data.items", min_length=1, description="Dotted path of the item list.")
    total_field: str | None = Field(None, description="Dotted path of the total item count, if any.")
    id_field: str = Field("id", min_length=1, description="Dotted path, in an item, of the camera id.")
    status_field: str = Field("status", min_length=1, description="Dotted path, in an item, of the status.")
    ts_field: str | None = Field(
        None, description="Dotted path, in an item, of its time (epoch ms or ISO-8601); default: poll time."
    )
    status_map: dict[str, CameraState] = Field(
        default_factory=lambda: dict(_IDENTITY_MAP),
        description='Platform status value (as text) -> state, e.g. {"1": online, "0": offline, "2": fault}.',
    )
    headers: dict[str, str] = Field(
        default_factory=dict, description="Request headers, e.g. Authorization: Bearer ${CB_VIDEO_TOKEN}."
    )
    timeout_s: float = Field(10.0, gt=0, le=300, description="Timeout of one page request.")
    proxy: str | None = Field(None, description="HTTP proxy URL; default none (proxy env vars ignored).")
    registry_dir: Path | None = Field(None, description="Folder of cameras.csv; default data/registry.")

    @field_validator("status_map")
    @classmethod
    def _not_empty(cls, v: dict[str, CameraState]) -> dict[str, CameraState]:
        """A map that maps nothing would reject every camera."""
        if not v:
            raise ValueError("must map at least one platform value")
        return v


class PollError(Exception):
    """A sweep that failed (HTTP error, timeout, unexpected JSON); nothing of it is applied."""


@dataclass
class Sweep:
    """What one sweep saw and what it changed."""

    seen: int = 0
    changes: dict[str, CameraState] = field(default_factory=dict)
    records: list[CameraStatus] = field(default_factory=list)
    unknown_ids: int = 0
    unknown_status: int = 0
    bad_ts: int = 0
    last_rejection: str = ""
    pages: int = 0
    fetch_s: float = 0.0
    apply_s: float = 0.0
    commit_s: float = 0.0

    @property
    def rejected(self) -> int:
        """Items not applied: unknown camera, unmapped status or bad time."""
        return self.unknown_ids + self.unknown_status + self.bad_ts


def _path(dotted: str) -> tuple[str, ...]:
    """A dotted field path as its parts."""
    return tuple(dotted.split("."))


def _dig(obj: Any, path: tuple[str, ...]) -> Any:
    """The value at ``path`` in nested objects, or None."""
    for part in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def _status_text(value: Any) -> str:
    """A platform status value as the text ``status_map`` is keyed by (1 -> "1", true -> "true")."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class CameraPollFeed(Feed):
    """Camera states polled from the video platform; a record per change of state."""

    type_key: ClassVar[str] = "camera_poll"

    def __init__(
        self, name: str, sink: Sink, client: redis.Redis, cfg: CameraPollConfig, registry: Registry
    ) -> None:
        """Poll for feed ``name`` the platform ``cfg`` names; ``sink`` keeps the heartbeat."""
        super().__init__(name, sink)
        self.r = client
        self.cfg = cfg
        self.reg = registry
        self.key = keys.feed_key(name)
        self.state_key = keys.feed_state_key(name)
        self.state: dict[str, str] = {}
        self.state_loaded = False
        self._items = _path(cfg.items_field)
        self._total = _path(cfg.total_field) if cfg.total_field else None
        self._id = _path(cfg.id_field)
        self._status = _path(cfg.status_field)
        self._ts = _path(cfg.ts_field) if cfg.ts_field else None
        handlers: list[urllib.request.BaseHandler] = [
            urllib.request.ProxyHandler({"http": cfg.proxy, "https": cfg.proxy} if cfg.proxy else {})
        ]
        self._opener = urllib.request.build_opener(*handlers)

    @classmethod
    def from_config(cls, cfg: FeedConfig, env: IngestEnv) -> CameraPollFeed:
        """Build the collector its config describes (the registry is checked against the cells)."""
        assert isinstance(cfg, CameraPollConfig)
        reg = load_registry(cfg.registry_dir or DEFAULT_DIR, env.geo)
        return cls(cfg.feed_name, env.sink(cfg.feed_name), env.client, cfg, reg)

    # --- the steps of a sweep ----------------------------------------------------------------------

    def load_state(self) -> None:
        """Seed the last known states from Redis (what a previous run emitted)."""
        stored: Any = self.r.hgetall(self.state_key)
        self.state = {_text(k): _text(v) for k, v in stored.items()}
        self.state_loaded = True

    def _get_page(self, page: int) -> Any:
        """One page of the platform's list, parsed; PollError on any failure."""
        query = urllib.parse.urlencode({self.cfg.page_param: page, self.cfg.size_param: self.cfg.page_size})
        sep = "&" if urllib.parse.urlsplit(self.cfg.url).query else "?"
        req = urllib.request.Request(
            f"{self.cfg.url}{sep}{query}", headers={"Accept": "application/json", **self.cfg.headers}
        )
        try:
            with self._opener.open(req, timeout=self.cfg.timeout_s) as resp:
                body = resp.read()
        except urllib.error.HTTPError as err:
            raise PollError(f"page {page}: HTTP {err.code} {err.reason}") from None
        except (urllib.error.URLError, OSError) as err:
            reason = getattr(err, "reason", err)
            raise PollError(f"page {page}: {reason}") from None
        try:
            return json.loads(body)
        except (UnicodeDecodeError, ValueError, RecursionError) as err:
            raise PollError(f"page {page}: not JSON ({str(err)[:200]})") from None

    def fetch(self) -> tuple[list[Any], int]:
        """Every item of every page, and the number of pages read; PollError on any failure."""
        items: list[Any] = []
        total: int | None = None
        for n in range(self.cfg.max_pages):
            page = self.cfg.first_page + n
            data = self._get_page(page)
            chunk = _dig(data, self._items)
            if chunk is None and n > 0 and isinstance(_dig(data, self._items[:-1]), dict):
                chunk = []  # "items": null (or absent) past the last page; on page one: misconfigured
            if not isinstance(chunk, list):
                raise PollError(f"page {page}: no list at {self.cfg.items_field!r}")
            if self._total is not None and total is None:
                raw_total = _dig(data, self._total)
                if isinstance(raw_total, bool) or not isinstance(raw_total, int) or raw_total < 0:
                    raise PollError(f"page {page}: no count at {self.cfg.total_field!r}")
                total = raw_total
            items.extend(chunk)
            if not chunk or len(chunk) < self.cfg.page_size or (total is not None and len(items) >= total):
                return items, n + 1
        raise PollError(f"more than max_pages ({self.cfg.max_pages}) pages")

    def apply(self, items: list[Any], now_ms: int) -> Sweep:
        """Compare a sweep's items with the last known states; the records of the changes (no I/O)."""
        sweep = Sweep(seen=len(items))
        smap = self.cfg.status_map
        cameras = self.reg.cameras
        single_id = self._id[0] if len(self._id) == 1 else None
        single_status = self._status[0] if len(self._status) == 1 else None
        for item in items:
            if not isinstance(item, dict):
                sweep.unknown_ids += 1
                sweep.last_rejection = f"item is not an object: {str(item)[:64]!r}"
                continue
            cid = item.get(single_id) if single_id else _dig(item, self._id)
            raw = item.get(single_status) if single_status else _dig(item, self._status)
            if isinstance(cid, int) and not isinstance(cid, bool):
                cid = str(cid)  # platforms with numeric channel ids
            if not isinstance(cid, str) or cid not in cameras:
                sweep.unknown_ids += 1
                sweep.last_rejection = f"camera_id: unknown camera {str(cid)[:64]!r}"
                continue
            status = smap.get(_status_text(raw))
            if status is None:
                sweep.unknown_status += 1
                sweep.last_rejection = f"status: {str(raw)[:32]!r} of {cid} is not in status_map"
                continue
            if self.state.get(cid) == status:
                continue
            ts = now_ms
            try:
                if self._ts is not None and _dig(item, self._ts) is not None:
                    ts = parse_ts(_dig(item, self._ts))
                rec = validate_camera_status(self.reg, cid, status, ts, now_ms=now_ms)
            except ReadingError as err:
                sweep.bad_ts += 1
                sweep.last_rejection = f"{cid}: {err}"
                continue
            sweep.changes[cid] = status
            sweep.records.append(rec)
        return sweep

    def commit(self, sweep: Sweep, now_ms: int) -> None:
        """Append the records, set the states and the health, in one MULTI/EXEC; then adopt the states."""
        pipe = self.r.pipeline(transaction=True)
        maxlen = str(keys.INPUT_STREAMS_MAXLEN)
        for rec in sweep.records:  # XADD stream MAXLEN ~ n * v 1 d <json>, without xadd()'s overhead
            fields = encode(rec)
            pipe.execute_command(
                "XADD",
                keys.STREAM_CAMERA_STATUS,
                "MAXLEN",
                "~",
                maxlen,
                "*",
                "v",
                fields["v"],
                "d",
                fields["d"],
            )
        if sweep.changes:
            pipe.hset(self.state_key, mapping=sweep.changes)  # type: ignore[arg-type]
            pipe.hincrby(self.key, "records", len(sweep.records))
        health: dict[str, str | int] = {
            "healthy": 1,
            "last_poll_ms": now_ms,
            "last_poll_duration_ms": round((sweep.fetch_s + sweep.apply_s) * 1000),
            "cameras_seen": sweep.seen,
            "last_changes": len(sweep.changes),
            "heartbeat_ms": now_ms,
        }
        if sweep.records:
            health["last_record_ms"] = now_ms
        if sweep.rejected:
            pipe.hincrby(self.key, "rejected", sweep.rejected)
            for name in ("unknown_ids", "unknown_status", "bad_ts"):
                if getattr(sweep, name):
                    pipe.hincrby(self.key, name, getattr(sweep, name))
            health["last_rejection"] = sweep.last_rejection
        pipe.hset(self.key, mapping=health)  # type: ignore[arg-type]
        pipe.sadd(keys.FEEDS, self.name)
        pipe.execute()
        self.state.update(sweep.changes)

    def _mark_failed(self, message: str) -> None:
        """Record a failed sweep in the health hash (best effort: Redis may be the failure)."""
        log.warning("feed %s: sweep failed: %s", self.name, message)
        try:
            pipe = self.r.pipeline(transaction=False)
            pipe.hset(self.key, mapping={"healthy": 0, "last_error": message, "last_error_ms": epoch_ms()})
            pipe.hincrby(self.key, "errors", 1)
            pipe.sadd(keys.FEEDS, self.name)
            pipe.execute()
        except redis.RedisError as err:
            log.warning("feed %s: cannot write health (%s)", self.name, err)

    def poll_once(self) -> Sweep | None:
        """One sweep: fetch every page, diff, commit; None (and unhealthy) when it failed."""
        try:
            if not self.state_loaded:
                self.load_state()
            t0 = time.perf_counter()
            items, pages = self.fetch()
            t1 = time.perf_counter()
            now = epoch_ms()
            sweep = self.apply(items, now)
            t2 = time.perf_counter()
            sweep.pages, sweep.fetch_s, sweep.apply_s = pages, t1 - t0, t2 - t1
            self.commit(sweep, now)
            sweep.commit_s = time.perf_counter() - t2
        except PollError as err:
            self._mark_failed(str(err))
            return None
        except redis.RedisError as err:
            self._mark_failed(f"redis: {err}")
            return None
        if sweep.changes or sweep.rejected:
            log.info(
                "feed %s: %d cameras, %d changed, %d rejected (%.0f ms)",
                self.name,
                sweep.seen,
                len(sweep.changes),
                sweep.rejected,
                (sweep.fetch_s + sweep.apply_s + sweep.commit_s) * 1000,
            )
        return sweep

    def run(self, stop: threading.Event) -> None:
        """Sweep every ``interval_s`` until ``stop``; a failed sweep is retried at the next interval."""
        while not stop.is_set():
            started = time.monotonic()
            try:
                self.poll_once()
            except Exception as err:  # a bug must not end the feed: report it, retry next interval
                log.exception("feed %s: sweep crashed", self.name)
                self._mark_failed(f"internal error: {type(err).__name__}: {err}")
            stop.wait(max(0.0, self.cfg.interval_s - (time.monotonic() - started)))


def _text(value: Any) -> str:
    """A Redis reply (bytes or str) as text."""
    return value.decode() if isinstance(value, bytes) else str(value)
