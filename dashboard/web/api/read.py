"""The read endpoints: the wall's snapshot, devices, the district's geometry, and /healthz."""

from __future__ import annotations

import redis
from flask import Blueprint, Response

from dashboard.config import AppConfig
from dashboard.domain import devices
from dashboard.domain.geo import Geography, GeographyConfig
from dashboard.domain.registry import Registry, default_registry
from dashboard.queries.devices import device_info, read_statuses
from dashboard.queries.status import check
from dashboard.web.api.cases import quick_client
from dashboard.web.api.common import json_response
from dashboard.web.context import snapshot
from dashboard.web.static import StaticFile


def _static(files: dict[str, StaticFile], name: str, what: str) -> Response:
    """One of ``files`` (ETag, gzip, cache header), or a JSON 404 naming the files there are."""
    f = files.get(name)
    if f is None:
        return json_response({"error": f"no {what} named {name!r}; known: {sorted(files)}"}, 404)
    return f.response()


def _geo_files(g: GeographyConfig) -> dict[str, StaticFile]:
    """The geography's four GeoJSON files, served as they are."""
    return {
        "district": StaticFile.from_path(g.district, "application/geo+json"),
        "subdistricts": StaticFile.from_path(g.subdistricts, "application/geo+json"),
        "communities": StaticFile.from_path(g.communities, "application/geo+json"),
        "cells": StaticFile.from_path(g.cells, "application/geo+json"),
    }


def _device_files(reg: Registry) -> dict[str, StaticFile]:
    """Where every camera and every sensor is (docs/DEVICES.md)."""
    return {
        "cameras": StaticFile.from_bytes(devices.camera_geometry(reg), "application/json"),
        "sensors": StaticFile.from_bytes(devices.sensor_geometry(reg), "application/json"),
    }


def _redis_down(err: redis.RedisError) -> Response:
    """503: Redis did not answer."""
    return json_response({"error": f"redis unavailable: {err}"}, 503)


def blueprint(cfg: AppConfig, geo: Geography, client: redis.Redis) -> Blueprint:
    """The read endpoints on one Redis client (decode_responses=True)."""
    bp = Blueprint("read", __name__)
    geo_files = _geo_files(cfg.geography)
    reg = default_registry()
    device_files = _device_files(reg)

    @bp.get("/geo/<name>.geojson")
    def geometry(name: str) -> Response:
        """The district's geometry, static and cacheable: never inside the Dash layout or a delta."""
        return _static(geo_files, name, "geometry")

    @bp.get("/geo/<name>.json")
    def device_geometry(name: str) -> Response:
        """Where every camera and sensor is, compact, static and cacheable (docs/DEVICES.md)."""
        return _static(device_files, name, "device geometry")

    @bp.get("/api/v1/devices")
    def device_statuses() -> Response:
        """Every device's live status that is not the default, and the delta seq it is current to."""
        try:
            return json_response(read_statuses(client, reg))
        except redis.RedisError as err:
            return _redis_down(err)

    @bp.get("/api/v1/devices/<device_id>")
    def device(device_id: str) -> Response:
        """One camera or sensor: names, kind, cell, status (and since when, or the last reading)."""
        try:
            info = device_info(client, reg, device_id)
        except redis.RedisError as err:
            return _redis_down(err)
        if info is None:
            return json_response({"error": f"no camera or sensor with id {device_id[:64]!r}"}, 404)
        return json_response(info)

    health_client = quick_client(client, 1.0)  # says "unreachable" at once rather than retrying

    @bp.get("/healthz")
    def healthz() -> Response:
        """Redis reachable, processor lag, feeds' last records: 200 when healthy, 503 with reasons."""
        ok, report = check(health_client, cfg)
        report["status"] = "ok" if ok else "unhealthy"
        return json_response(report, 200 if ok else 503)

    @bp.get("/api/v1/snapshot")
    def snapshot_endpoint() -> Response:
        """One consistent snapshot of the wall's live state (pages resynchronise from it)."""
        try:
            return json_response(snapshot())
        except redis.RedisError as err:
            return _redis_down(err)

    return bp
