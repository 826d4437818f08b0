"""The camera status collector against a stand-in video platform (real HTTP) and a real Redis.

The video platform is a boundary we do not own, so the test serves a platform-like paged JSON list of
16,000 camera statuses from a small stdlib ``http.server`` on a free port (its shape follows common
Chinese video platforms: ``{"code": 0, "data": {"total": n, "list": [{"channelId", "online"}]}}``).
Everything on our side is real: the collector, its HTTP client, Redis.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import redis

from dashboard.config import ConfigError, parse_config
from dashboard.domain.catalogue import load_catalogue
from dashboard.domain.geo import load_default_geography
from dashboard.domain.registry import Registry, default_registry
from dashboard.store import keys
from dashboard.store.records import CameraStatus, decode
from dashboard.store.sink import IngestEnv
from feeds.camera_poll import CameraPollConfig, CameraPollFeed
from tests.conftest import wait_for

TOKEN = "Bearer video-t0ken"
CODE = {"online": 1, "offline": 0, "fault": 2}


class Platform:
    """The stand-in video platform: every registered camera with a status, served in pages."""

    def __init__(self, camera_ids: list[str]) -> None:
        """All cameras online; 1 in 40 offline, 1 in 200 faulty (a fixed pattern)."""
        self.status = {
            cid: 0 if i % 40 == 7 else 2 if i % 200 == 13 else 1 for i, cid in enumerate(camera_ids)
        }
        self.extra: list[dict[str, Any]] = []  # items the registry does not know
        self.fail_with: int | None = None
        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            """GET /api/channels?pageNo=&pageSize= with a bearer token."""

            def do_GET(self) -> None:
                outer.requests += 1
                if self.headers.get("Authorization") != TOKEN:
                    return self._send(401, {"code": 401, "msg": "unauthorised"})
                if outer.fail_with is not None:
                    return self._send(outer.fail_with, {"code": 500, "msg": "internal error"})
                q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                page, size = int(q["pageNo"][0]), int(q["pageSize"][0])
                rows = [{"channelId": k, "online": v, "name": "…"} for k, v in outer.status.items()]
                rows += outer.extra
                chunk = rows[(page - 1) * size : page * size]
                self._send(200, {"code": 0, "msg": "ok", "data": {"total": len(rows), "list": chunk}})

            def _send(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args: Any) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        """The list endpoint."""
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/channels"

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def reg() -> Registry:
    """The shipped registries."""
    return default_registry()


@pytest.fixture
def platform(reg: Registry) -> Iterator[Platform]:
    """A running stand-in platform with every registered camera."""
    p = Platform(list(reg.cameras))
    yield p
    p.close()


@pytest.fixture
def env(r: redis.Redis) -> Iterator[IngestEnv]:
    """A feed environment on the test Redis; its sinks are stopped afterwards."""
    e = IngestEnv(client=r, geo=load_default_geography(), catalogue=load_catalogue())
    yield e
    for s in e.sinks.values():
        s.stop()


def make_cfg(platform: Platform, **over: Any) -> CameraPollConfig:
    """The config a deployment would write for this platform."""
    data: dict[str, Any] = {
        "type": "camera_poll",
        "name": "video",
        "url": platform.url,
        "interval_s": 0.2,
        "page_param": "pageNo",
        "size_param": "pageSize",
        "items_field": "data.list",
        "id_field": "channelId",
        "status_field": "online",
        "status_map": {"1": "online", "0": "offline", "2": "fault"},
        "headers": {"Authorization": TOKEN},
        **over,
    }
    cfg = parse_config({"feeds": [data]}).feeds[0]
    assert isinstance(cfg, CameraPollConfig)
    return cfg


def statuses(r: redis.Redis) -> list[CameraStatus]:
    """Every camera record in the input stream, decoded through the contract."""
    out = []
    for _id, fields in r.xrange(keys.STREAM_CAMERA_STATUS):  # type: ignore[union-attr]
        rec = decode("camera_status", fields)
        assert isinstance(rec, CameraStatus)
        out.append(rec)
    return out


def test_sweeps_emit_changes_only(r: redis.Redis, env: IngestEnv, platform: Platform, reg: Registry) -> None:
    """First sweep: every camera once; then exactly the changed ones; an HTTP 500 changes nothing."""
    feed = CameraPollFeed.from_config(make_cfg(platform), env)
    stop = threading.Event()
    th = threading.Thread(target=feed.run, args=(stop,), daemon=True)
    th.start()
    try:
        wait_for(lambda: r.xlen(keys.STREAM_CAMERA_STATUS) == 16_000, 20, 0.05, "the first sweep")
    finally:
        stop.set()
        th.join(10)
    first = statuses(r)
    assert len({x.camera_id for x in first}) == 16_000
    assert all(
        x.status == ("online", "offline", "fault")[[1, 0, 2].index(platform.status[x.camera_id])]
        for x in first
    )
    assert all(x.cell_id == reg.cameras[x.camera_id].cell_id for x in first)
    assert r.hlen(keys.feed_state_key("video")) == 16_000
    h = r.hgetall(keys.feed_key("video"))
    assert (h["healthy"], h["cameras_seen"], h["records"]) == ("1", "16000", "16000")
    assert int(h["last_poll_ms"]) > 0 and "last_poll_duration_ms" in h

    flipped = list(reg.cameras)[100:137]
    for cid in flipped:
        platform.status[cid] = 2 if platform.status[cid] == 1 else 1
    sweep = feed.poll_once()
    assert sweep is not None and len(sweep.changes) == 37
    new = statuses(r)[16_000:]
    assert sorted(x.camera_id for x in new) == sorted(flipped)
    now_status = new[[x.camera_id for x in new].index(flipped[0])].status
    assert r.hget(keys.feed_state_key("video"), flipped[0]) == now_status

    platform.fail_with = 500
    platform.status[flipped[0]] = 0
    assert feed.poll_once() is None
    h = r.hgetall(keys.feed_key("video"))
    assert h["healthy"] == "0" and "HTTP 500" in h["last_error"] and h["errors"] == "1"
    assert r.xlen(keys.STREAM_CAMERA_STATUS) == 16_037
    assert feed.state[flipped[0]] != "offline"

    platform.fail_with = None
    sweep = feed.poll_once()
    assert sweep is not None and sweep.changes == {flipped[0]: "offline"}
    assert r.hgetall(keys.feed_key("video"))["healthy"] == "1"
    assert r.xlen(keys.STREAM_CAMERA_STATUS) == 16_038


def test_restart_emits_nothing_unchanged(r: redis.Redis, env: IngestEnv, platform: Platform) -> None:
    """A new collector on the same Redis resumes from the stored states: no records without changes."""
    cfg = make_cfg(platform)
    first = CameraPollFeed.from_config(cfg, env).poll_once()
    assert first is not None and len(first.records) == 16_000
    again = CameraPollFeed.from_config(cfg, env)
    sweep = again.poll_once()
    assert sweep is not None and sweep.seen == 16_000 and not sweep.records
    assert r.xlen(keys.STREAM_CAMERA_STATUS) == 16_000
    platform.status["CAM-00042"] = 0 if platform.status["CAM-00042"] else 1
    sweep = again.poll_once()
    assert sweep is not None and [x.camera_id for x in sweep.records] == ["CAM-00042"]


def test_unknown_cameras_and_statuses_are_rejected(
    r: redis.Redis, env: IngestEnv, platform: Platform
) -> None:
    """Unknown ids and unmapped statuses are counted, not emitted; the sweep still succeeds."""
    platform.extra = [{"channelId": f"CAM-9{i:04d}", "online": 1} for i in range(3)]
    platform.status["CAM-00001"] = 9
    platform.status["CAM-00002"] = "?"  # type: ignore[assignment]
    feed = CameraPollFeed.from_config(make_cfg(platform), env)
    sweep = feed.poll_once()
    assert sweep is not None
    assert (sweep.unknown_ids, sweep.unknown_status, len(sweep.records)) == (3, 2, 15_998)
    h = r.hgetall(keys.feed_key("video"))
    assert (h["rejected"], h["unknown_ids"], h["unknown_status"]) == ("5", "3", "2")
    assert (
        "unknown camera 'CAM-90002'" in h["last_rejection"] or "is not in status_map" in h["last_rejection"]
    )


@pytest.mark.parametrize(("total_field", "pages"), [(None, 17), ("data.total", 16)])
def test_paging(env: IngestEnv, platform: Platform, total_field: str | None, pages: int) -> None:
    """Without a total, paging stops at a short (here: empty) page; with one, when all are read."""
    feed = CameraPollFeed.from_config(make_cfg(platform, total_field=total_field), env)
    before = platform.requests
    sweep = feed.poll_once()
    assert sweep is not None and sweep.pages == pages and sweep.seen == 16_000
    assert platform.requests - before == pages


def test_wrong_token_and_shape_fail_the_sweep(r: redis.Redis, env: IngestEnv, platform: Platform) -> None:
    """A 401 and a response without the item list mark the feed unhealthy and emit nothing."""
    feed = CameraPollFeed.from_config(make_cfg(platform, headers={"Authorization": "Bearer nope"}), env)
    assert feed.poll_once() is None
    assert "HTTP 401" in r.hget(keys.feed_key("video"), "last_error")  # type: ignore[operator]
    feed = CameraPollFeed.from_config(make_cfg(platform, items_field="data.items"), env)
    assert feed.poll_once() is None
    assert "no list at 'data.items'" in r.hget(keys.feed_key("video"), "last_error")  # type: ignore[operator]
    assert not r.exists(keys.STREAM_CAMERA_STATUS) and r.hget(keys.feed_key("video"), "errors") == "2"


def test_config_errors_name_the_field() -> None:
    """A bad status_map value or URL is named."""
    with pytest.raises(ConfigError, match=r"feeds\[0\]\.status_map\.1: Input should be 'online'"):
        parse_config({"feeds": [{"type": "camera_poll", "url": "http://x", "status_map": {"1": "up"}}]}, "c")
    with pytest.raises(ConfigError, match=r"feeds\[0\]\.url: String should match pattern"):
        parse_config({"feeds": [{"type": "camera_poll", "url": "ftp://x"}]}, "c")
