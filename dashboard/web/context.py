"""What the pages and endpoints of one web process share: the config, the district, Redis, the zone."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import redis
from flask import has_request_context, request

from dashboard.config import AppConfig
from dashboard.domain.geo import Geography
from dashboard.domain.i18n import Lang, normalize
from dashboard.queries.snapshot import read_snapshot

BOOT = uuid.uuid4().hex[:12]  # this web process: a page seeing another one resynchronises


@dataclass
class Context:
    """The running web process's shared objects."""

    cfg: AppConfig
    geo: Geography
    redis: redis.Redis
    tz: ZoneInfo


_ctx: Context | None = None


def set_context(context: Context) -> Context:
    """Install the web process's context (the app factory does, once)."""
    global _ctx
    _ctx = context
    return context


def ctx() -> Context:
    """The running web process's context (set by the app factory)."""
    if _ctx is None:
        raise RuntimeError("the web app has not been created (dashboard.web.app.create_app)")
    return _ctx


def request_lang(default: str, asked: str | None = None) -> Lang:
    """The page language: ``asked`` (a page's ``lang`` query parameter), ``?lang=``, then the default."""
    if not asked and has_request_context():
        asked = request.args.get("lang")
    return normalize(asked, normalize(default, "zh-CN"))


def snapshot() -> dict[str, Any]:
    """The wall's snapshot as pages receive it, marked with this web process (``boot``)."""
    c = ctx()
    return {**read_snapshot(c.redis, c.tz, c.cfg), "boot": BOOT}
