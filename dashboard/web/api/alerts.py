"""HTTP API of the alerts: list, history, acknowledge, silence, end a silence (``blueprint(cfg, client)``).

``POST /api/v1/alerts/<id>/ack``, ``/silence`` and ``/unsilence`` need a bearer token of a source given the
``alerts`` kind (``ingest.tokens.<source>.kinds``; a device's ingest token gets 403) and answer like the
ingest endpoints: JSON, 4xx with
``{"error", "errors": [{"field", "message"}]}``.
``GET /api/v1/alerts`` and ``/api/v1/alerts/history`` are read-only, like ``/api/v1/snapshot``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import redis
from flask import Blueprint, Response, g, request

from dashboard.alerts import commands
from dashboard.alerts.levels import LEVEL_BY_KEY, LEVEL_KEYS
from dashboard.alerts.machine import AlertError
from dashboard.config import AppConfig
from dashboard.domain.types import epoch_ms
from dashboard.queries import alerts as queries
from dashboard.store import audit, keys
from dashboard.web.api.common import BadRequest, error_response, json_body, json_response, require_token

MAX_SILENCE_MIN = 7 * 24 * 60
MAX_TEXT = 500
HISTORY_LIMIT = 1000


def _text(body: dict[str, Any], key: str, required: bool, limit: int) -> str:
    """A string field of the body (422 naming it when missing, not text, or too long)."""
    v = body.get(key)
    if v is None and not required:
        return ""
    if not isinstance(v, str) or (required and not v.strip()):
        raise BadRequest(422, [{"field": key, "message": "required text" if required else "must be text"}])
    if len(v) > limit:
        raise BadRequest(422, [{"field": key, "message": f"at most {limit} characters"}])
    return v


def _object(body: Any, allowed: set[str]) -> dict[str, Any]:
    """The body as an object with only ``allowed`` keys (400 otherwise)."""
    if not isinstance(body, dict):
        raise BadRequest(400, [{"field": "body", "message": "must be a JSON object"}])
    extra = sorted(set(body) - allowed)
    if extra:
        raise BadRequest(
            400, [{"field": extra[0], "message": f"unknown key (expected: {', '.join(sorted(allowed))})"}]
        )
    return body


def _int_arg(name: str) -> int | None:
    """An optional integer query argument (400 naming it when not one)."""
    v = request.args.get(name)
    if v is None or v == "":
        return None
    try:
        return int(v)
    except ValueError:
        raise BadRequest(400, [{"field": name, "message": "must be an integer (epoch ms)"}]) from None


def _state_error(err: AlertError) -> Response:
    """A person's action refused by the state machine."""
    return error_response(BadRequest(err.status, [{"field": err.field, "message": str(err)}]))


def _no_engine(err: commands.CommandTimeout) -> Response:
    """503: the alert engine did not answer (not running, or far behind)."""
    return error_response(BadRequest(503, [{"field": "engine", "message": str(err)}], {"Retry-After": "5"}))


def _minutes(body: dict[str, Any]) -> float:
    """How long to silence, in minutes (422 unless a number, 0 < m <= ``MAX_SILENCE_MIN``)."""
    minutes = body.get("minutes")
    if (
        isinstance(minutes, bool)
        or not isinstance(minutes, int | float)
        or not 0 < minutes <= MAX_SILENCE_MIN
    ):
        raise BadRequest(
            422, [{"field": "minutes", "message": f"a number of minutes, 0 < m <= {MAX_SILENCE_MIN}"}]
        )
    return minutes


def _level_arg() -> str | None:
    """The optional ``level`` query argument (400 unless a level's key)."""
    level = request.args.get("level") or None
    if level is not None and level not in LEVEL_BY_KEY:
        raise BadRequest(400, [{"field": "level", "message": f"one of {', '.join(LEVEL_KEYS)}"}])
    return level


def _limit_arg() -> int:
    """The ``limit`` query argument: 200 when absent, else 1..``HISTORY_LIMIT`` (400 otherwise)."""
    limit = _int_arg("limit")
    limit = 200 if limit is None else limit
    if not 1 <= limit <= HISTORY_LIMIT:
        raise BadRequest(400, [{"field": "limit", "message": f"1..{HISTORY_LIMIT}"}])
    return limit


def _send(
    client: redis.Redis,
    kind: commands.Kind,
    instance_id: str,
    actor: str,
    note: str,
    until: int,
    wait: float,
    audit_days: float,
) -> Response:
    """Have the alert engine apply a command; answer with the alert after it, or why not (a silence
    refused for its ``until`` names ``minutes``, the field the caller sent)."""
    via = f"token:{g.source}"
    said: dict[str, Any] = {
        "user": actor,
        "via": via,
        "target": instance_id,
        "detail": note,
        "keep_days": audit_days,
    }
    try:
        st = commands.send(client, kind, instance_id, actor, note, until, timeout_s=wait)
    except AlertError as err:
        if kind == "silence" and err.field == "until":
            err.field = "minutes"
        audit.record(client, kind, outcome=f"refused {err.status}: {err}", **said)
        return _state_error(err)
    except commands.CommandTimeout as err:
        audit.record(client, kind, outcome=f"refused 503: {err}", **said)
        return _no_engine(err)
    audit.record(client, kind, area=st.public().get("area") or "", **said)
    return json_response({"alert": st.public(), "via": g.source})


def blueprint(cfg: AppConfig, client: redis.Redis) -> Blueprint:
    """The alert endpoints on a Redis client (decode_responses=True)."""
    bp = Blueprint("alerts", __name__)
    auth = require_token(cfg, "alerts")
    wait = cfg.alerts.command_timeout_s

    @bp.errorhandler(BadRequest)
    def _bad(err: BadRequest) -> Response:
        return error_response(err)

    @bp.post("/api/v1/alerts/<instance_id>/ack")
    @auth
    def ack(instance_id: str) -> Response:
        """Acknowledge a firing alert: ``{"actor": "...", "note": "..."}``."""
        body = _object(json_body(cfg), {"actor", "note"})
        actor = _text(body, "actor", True, 64)
        note = _text(body, "note", False, MAX_TEXT)
        return _send(client, "ack", instance_id, actor, note, 0, wait, cfg.auth.audit_days)

    @bp.post("/api/v1/alerts/<instance_id>/silence")
    @auth
    def silence(instance_id: str) -> Response:
        """Silence an alert for some minutes: ``{"actor": "...", "minutes": 60, "reason": "..."}``."""
        body = _object(json_body(cfg), {"actor", "minutes", "reason"})
        actor = _text(body, "actor", True, 64)
        reason = _text(body, "reason", True, MAX_TEXT)
        minutes = _minutes(body)
        until = epoch_ms() + round(minutes * 60_000)
        return _send(client, "silence", instance_id, actor, reason, until, wait, cfg.auth.audit_days)

    @bp.post("/api/v1/alerts/<instance_id>/unsilence")
    @auth
    def unsilence(instance_id: str) -> Response:
        """End a silence before its time: ``{"actor": "...", "note": "..."}`` (409 when not silenced)."""
        body = _object(json_body(cfg), {"actor", "note"})
        actor = _text(body, "actor", True, 64)
        note = _text(body, "note", False, MAX_TEXT)
        return _send(client, "unsilence", instance_id, actor, note, 0, wait, cfg.auth.audit_days)

    @bp.get("/api/v1/alerts")
    def active() -> Response:
        """The firing alerts, the highest level first, then the newest; with the output ``seq``."""
        r: Any = client
        seq = int(r.get(keys.ALERT_SEQ) or 0)
        return json_response(
            {
                "seq": seq,
                "alerts": queries.active(client),
                "levels": {k: dataclasses.asdict(LEVEL_BY_KEY[k]) for k in LEVEL_KEYS},
            }
        )

    @bp.get("/api/v1/alerts/history")
    def history() -> Response:
        """Transitions, newest first: ``?level=&rule=&area=&since=&until=&limit=`` (bounded)."""
        level = _level_arg()
        since, until = _int_arg("since"), _int_arg("until")
        limit = _limit_arg()
        items, more = queries.history(
            client,
            level=level,
            rule=request.args.get("rule") or None,
            area=request.args.get("area") or None,
            since=since,
            until=until,
            limit=limit,
        )
        return json_response({"history": items, "more": more})

    return bp
