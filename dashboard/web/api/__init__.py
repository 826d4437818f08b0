"""Every HTTP API of the web process, registered in one place (docs/API.md).

| module | paths |
| --- | --- |
| ``read`` | ``/api/v1/snapshot``, ``/api/v1/devices[/<id>]``, ``/geo/*``, ``/healthz`` |
| ``cases`` | ``POST /api/v1/case-events`` |
| ``devices`` | ``POST /api/v1/sensor-readings``, ``POST /api/v1/camera-status`` |
| ``open311`` | ``/open311/v2/...`` (GeoReport v2) |
| ``alerts`` | ``/api/v1/alerts``, ``/api/v1/alerts/history``, ``POST /api/v1/alerts/<id>/ack|silence`` |
| ``alert_ui`` | ``POST /ui/alerts/<id>/ack|silence`` (the screens, same origin) |
| ``exports`` | ``GET /ui/export/overdue.csv``, ``league.csv``, ``subdistricts.csv`` (the overview's tables) |
"""

from __future__ import annotations

import redis
from flask import Flask, Response, request
from werkzeug.exceptions import MethodNotAllowed

from dashboard.config import AppConfig
from dashboard.domain.catalogue import default_catalogue
from dashboard.domain.geo import Geography
from dashboard.store.sink import IngestEnv
from dashboard.web.api import alert_ui, alerts, cases, devices, exports, open311, read
from dashboard.web.api.common import json_response
from dashboard.web.api.limits import RateLimiter


def register_all(server: Flask, cfg: AppConfig, geo: Geography, client: redis.Redis) -> IngestEnv:
    """Register every endpoint on the web server; return the ingest sinks' environment."""
    server.config["MAX_CONTENT_LENGTH"] = cfg.ingest.max_body_bytes
    env = IngestEnv(
        client=client, geo=geo, catalogue=default_catalogue(), buffer_size=cfg.ingest.buffer_size,
        bounds=cfg.time_bounds(), journal_dir=cfg.journal_dir(),
    )  # fmt: skip
    server.before_request(_api_not_found)
    server.register_blueprint(read.blueprint(cfg, geo, client))
    per_token = RateLimiter(cfg.ingest.rate_per_s, cfg.ingest.rate_burst)  # shared by the token's endpoints
    per_key = RateLimiter(cfg.open311.rate_per_s, cfg.open311.rate_burst)
    for module in (cases, devices):
        server.register_blueprint(module.blueprint(cfg, env, per_token))
    server.register_blueprint(open311.blueprint(cfg, env, per_key))
    server.register_blueprint(alerts.blueprint(cfg, client))
    server.register_blueprint(alert_ui.blueprint())
    server.register_blueprint(exports.blueprint())
    return env


def _api_not_found() -> Response | None:
    """A path under /api/ that names no endpoint gets a JSON 404 (405: the wrong method) saying what was
    wrong, not the app's HTML page (Dash answers every other unknown path with the page)."""
    if not request.path.startswith("/api/"):
        return None
    where = f"{request.method} {request.path[:200]}"
    exc = request.routing_exception
    if isinstance(exc, MethodNotAllowed):
        allowed = sorted(exc.valid_methods or [])
        return json_response({"error": f"{where}: method not allowed; allowed: {allowed}"}, 405)
    rule = request.url_rule
    if rule is None or "<path:" in rule.rule:  # no route, or only Dash's catch-all
        return json_response({"error": f"{where}: no such API endpoint (docs/API.md)"}, 404)
    return None
