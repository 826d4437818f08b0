"""The web process: the Dash app, Socket.IO push, health and geometry endpoints, on one Flask server."""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import dash
import redis
from flask import Flask, Response, has_request_context, request
from flask_socketio import SocketIO, join_room
from werkzeug.exceptions import MethodNotAllowed

from dashboard import devices
from dashboard.catalogue import default_catalogue
from dashboard.config import ROOT, AppConfig
from dashboard.geo import Geography, load_geography
from dashboard.health import check
from dashboard.i18n import normalize
from dashboard.push import PushBridge, Rooms, read_snapshot, room_for
from dashboard.registry import default_registry

log = logging.getLogger(__name__)

ASSETS = ROOT / "assets"


@dataclass(frozen=True)
class StaticFile:
    """A file served from memory with its gzip form and a strong ETag."""

    body: bytes
    gz: bytes
    etag: str
    mimetype: str

    @classmethod
    def from_path(cls, path: Path, mimetype: str) -> StaticFile:
        """Read and compress once."""
        return cls.from_bytes(path.read_bytes(), mimetype)

    @classmethod
    def from_bytes(cls, body: bytes, mimetype: str) -> StaticFile:
        """Compress once."""
        return cls(body, gzip.compress(body, 6, mtime=0), hashlib.sha1(body).hexdigest()[:16], mimetype)

    def response(self) -> Response:
        """200 with the (compressed) body, or 304 when the browser has this version."""
        if request.if_none_match.contains(self.etag):
            resp = Response(status=304)
        elif request.accept_encodings["gzip"]:
            resp = Response(self.gz, mimetype=self.mimetype)
            resp.headers["Content-Encoding"] = "gzip"
        else:
            resp = Response(self.body, mimetype=self.mimetype)
        resp.set_etag(self.etag)
        resp.headers["Cache-Control"] = "public, max-age=300, must-revalidate"
        resp.headers["Vary"] = "Accept-Encoding"
        return resp


@dataclass
class Context:
    """What the pages and endpoints of one web process share."""

    cfg: AppConfig
    geo: Geography
    redis: redis.Redis
    tz: ZoneInfo


_ctx: Context | None = None


def ctx() -> Context:
    """The running web process's context (set by create_app)."""
    if _ctx is None:
        raise RuntimeError("create_app() has not run")
    return _ctx


def create_app(cfg: AppConfig, redis_url: str) -> tuple[dash.Dash, SocketIO]:
    """Build the Flask server, the Dash app on it and the Socket.IO endpoint; start the push bridge."""
    global _ctx
    g = cfg.geography
    geo = load_geography(g.district, g.subdistricts, g.communities, g.cells)
    client = redis.Redis.from_url(redis_url, decode_responses=True, health_check_interval=30)
    _ctx = Context(cfg=cfg, geo=geo, redis=client, tz=ZoneInfo(cfg.timezone))

    server = Flask("citybrain")
    app = dash.Dash(
        "citybrain",
        server=server,  # type: ignore[arg-type]  # Dash's annotation omits Flask
        assets_folder=str(ASSETS),
        serve_locally=True,
        title="城市大脑 · City Brain",
        update_title=None,  # type: ignore[arg-type]  # None is documented: keep the title
        compress=True,
        use_pages=True,
        pages_folder="",  # pages are registered explicitly by the layouts' register()
    )
    app.enable_dev_tools(
        debug=False, dev_tools_ui=False, dev_tools_props_check=False, dev_tools_disable_version_check=True
    )

    from layouts import alerts_page, area, case, wall, wallmode  # imported here: layouts use ctx()

    wall.register(app)  # "/"
    wallmode.register(app)  # "/wall": the command-wall mode
    case.register(app)  # "/case/<case_id>"
    alerts_page.register(app)  # "/alerts"
    area.register(app)  # "/subdistrict/<id>", "/community/<id>", "/cell/<id>"
    app.layout = dash.page_container

    geo_files = {
        "district": StaticFile.from_path(g.district, "application/geo+json"),
        "subdistricts": StaticFile.from_path(g.subdistricts, "application/geo+json"),
        "communities": StaticFile.from_path(g.communities, "application/geo+json"),
        "cells": StaticFile.from_path(g.cells, "application/geo+json"),
    }

    @server.before_request
    def api_not_found() -> Response | None:
        """A path under /api/ that names no endpoint gets a JSON 404 (405: the wrong method) saying what
        was wrong, not the app's HTML page (Dash answers every other unknown path with the page)."""
        if not request.path.startswith("/api/"):
            return None
        where = f"{request.method} {request.path[:200]}"
        exc = request.routing_exception
        if isinstance(exc, MethodNotAllowed):
            allowed = sorted(exc.valid_methods or [])
            return _json({"error": f"{where}: method not allowed; allowed: {allowed}"}, 405)
        rule = request.url_rule
        if rule is None or "<path:" in rule.rule:  # no route, or only Dash's catch-all
            return _json({"error": f"{where}: no such API endpoint (docs/API.md)"}, 404)
        return None

    @server.get("/geo/<name>.geojson")
    def geometry(name: str) -> Response:
        """The district's geometry, static and cacheable: never inside the Dash layout or a delta."""
        return _static(geo_files, name, "geometry")

    reg = default_registry()
    device_files = {
        "cameras": StaticFile.from_bytes(devices.camera_geometry(reg), "application/json"),
        "sensors": StaticFile.from_bytes(devices.sensor_geometry(reg), "application/json"),
    }

    @server.get("/geo/<name>.json")
    def device_geometry(name: str) -> Response:
        """Where every camera and sensor is, compact, static and cacheable (docs/DEVICES.md)."""
        return _static(device_files, name, "device geometry")

    @server.get("/api/v1/devices")
    def device_statuses() -> Response:
        """Every device's live status that is not the default, and the delta seq it is current to."""
        try:
            return _json(devices.read_statuses(client, reg))
        except redis.RedisError as err:
            return _json({"error": f"redis unavailable: {err}"}, 503)

    @server.get("/api/v1/devices/<device_id>")
    def device(device_id: str) -> Response:
        """One camera or sensor: names, kind, cell, status (and since when, or the last reading)."""
        try:
            info = devices.device_info(client, reg, device_id)
        except redis.RedisError as err:
            return _json({"error": f"redis unavailable: {err}"}, 503)
        if info is None:
            return _json({"error": f"no camera or sensor with id {device_id[:64]!r}"}, 404)
        return _json(info)

    @server.get("/healthz")
    def healthz() -> Response:
        """Redis reachable, processor lag, feeds' last records: 200 when healthy, 503 with reasons."""
        ok, report = check(client, cfg)
        report["status"] = "ok" if ok else "unhealthy"
        return _json(report, 200 if ok else 503)

    @server.get("/api/v1/snapshot")
    def snapshot() -> Response:
        """One consistent snapshot of the wall's live state (pages resynchronise from it)."""
        try:
            return _json(read_snapshot(client, _ctx.tz if _ctx else ZoneInfo(cfg.timezone), cfg))
        except redis.RedisError as err:
            return _json({"error": f"redis unavailable: {err}"}, 503)

    # HTTP collectors (feeds/http_*.py, feeds/open311.py) run in this process, writing through sinks
    from feeds.base import FeedEnv
    from feeds.http_common import register_all

    server.config["MAX_CONTENT_LENGTH"] = cfg.ingest.max_body_bytes
    feed_env = FeedEnv(
        client=client, geo=geo, catalogue=default_catalogue(), buffer_size=cfg.ingest.buffer_size
    )
    register_all(server, cfg, feed_env)
    from dashboard.alerts.api import blueprint as alerts_api

    server.register_blueprint(alerts_api(cfg, client))

    socketio = SocketIO(server, async_mode="threading", logger=False)
    rooms = Rooms(geo)

    def on_connect(auth: Any = None) -> None:
        """A page joins the room of its view (dash-socketio sends ``auth.pathname``; a page may name
        ``auth.view``): it then receives only the deltas of what it shows (docs/UI.md, rooms)."""
        view = (auth.get("view") or auth.get("pathname")) if isinstance(auth, dict) else None
        room = room_for(view if isinstance(view, str) else None, geo)
        if room is not None:
            join_room(room)
            rooms.join(request.sid, room)  # type: ignore[attr-defined]  # Flask-SocketIO sets request.sid

    def on_disconnect(*_: Any) -> None:
        """A page went away: its room may now be empty."""
        rooms.leave(request.sid)  # type: ignore[attr-defined]

    socketio.on_event("connect", on_connect)
    socketio.on_event("disconnect", on_disconnect)

    PushBridge(socketio, client, ZoneInfo(cfg.timezone), cfg.web.push_interval_ms, cfg, rooms).start()
    return app, socketio


def _static(files: dict[str, StaticFile], name: str, what: str) -> Response:
    """One of ``files`` (ETag, gzip, cache header), or a JSON 404 naming the files there are."""
    f = files.get(name)
    if f is None:
        return _json({"error": f"no {what} named {name!r}; known: {sorted(files)}"}, 404)
    return f.response()


def _json(body: Any, status: int = 200) -> Response:
    """A JSON response (UTF-8, no ASCII escaping)."""
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json")


def request_lang(default: str, asked: str | None = None) -> str:
    """The page language: ``asked`` (a page's ``lang`` query parameter), ``?lang=``, then the default."""
    if not asked and has_request_context():
        asked = request.args.get("lang")
    return normalize(asked, normalize(default, "zh-CN"))


def serve(cfg: AppConfig, redis_url: str, host: str, port: int) -> None:
    """Run the web process until it is stopped."""
    app, socketio = create_app(cfg, redis_url)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no per-request lines, no dev-server banner
    log.info("wall on http://%s:%d", host, port)
    socketio.run(
        app.server, host=host, port=port, allow_unsafe_werkzeug=True, use_reloader=False, log_output=False
    )
