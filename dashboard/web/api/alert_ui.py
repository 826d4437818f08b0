"""Same-origin endpoints of the screens: a duty officer acknowledges or silences a warning.

``POST /api/v1/alerts/<id>/ack`` needs a bearer token, and a page is no token holder. The screens post
here instead: ``POST /ui/alerts/<id>/ack`` with ``{"actor": "王值班", "note": "..."}`` (JSON only, so a
cross-site form cannot post it; a request whose ``Origin`` is another host is refused). There is no
login yet: the actor is the name typed into the wall's ``duty-name`` field, taken at its word. The
change is a command to the alert engine (``dashboard.alerts.commands``), which applies it (state, history,
output stream in one MULTI/EXEC) and answers; it reaches every open screen through the pushed "alerts"
event.

``POST /ui/alerts/<id>/silence`` with ``{"actor", "minutes", "reason"}`` (minutes one of 30, 60, 120,
240; a reason is required) mutes an alert the same way.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, request

from dashboard.alerts import commands
from dashboard.alerts.machine import AlertError
from dashboard.domain.types import epoch_ms
from dashboard.web.context import ctx

MAX_ACTOR = 64
MAX_NOTE = 500
SILENCE_MINUTES = (30, 60, 120, 240)  # the durations the wall offers


def _error(status: int, field: str, message: str) -> Response:
    """An error answer naming the field, as the API answers."""
    body = {"error": message, "errors": [{"field": field, "message": message}]}
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json")


def _same_origin() -> bool:
    """True unless the browser says the request comes from another origin."""
    origin = request.headers.get("Origin")
    return not origin or urlsplit(origin).netloc == request.host


def blueprint() -> Blueprint:
    """The screens' endpoints (registered by the wall)."""
    bp = Blueprint("alert_ui", __name__)

    @bp.post("/ui/alerts/<instance_id>/ack")
    def ack(instance_id: str) -> Response:
        """Acknowledge a firing alert in the name of the person at the screen."""
        if not _same_origin():
            return _error(403, "origin", "only the screens of this server may post here")
        if not request.is_json:
            return _error(415, "body", "send JSON (Content-Type: application/json)")
        body: Any = request.get_json(silent=True)
        if not isinstance(body, dict) or set(body) - {"actor", "note"}:
            return _error(400, "body", "a JSON object with actor and an optional note")
        actor, note = body.get("actor"), body.get("note") or ""
        if not isinstance(actor, str) or not actor.strip() or len(actor) > MAX_ACTOR:
            return _error(422, "actor", f"your name, 1-{MAX_ACTOR} characters")
        if not isinstance(note, str) or len(note) > MAX_NOTE:
            return _error(422, "note", f"at most {MAX_NOTE} characters")
        try:
            c = ctx()
            st = commands.send(
                c.redis,
                "ack",
                instance_id,
                actor.strip(),
                note.strip(),
                timeout_s=c.cfg.alerts.command_timeout_s,
            )
        except AlertError as err:
            return _error(err.status, err.field, str(err))
        except commands.CommandTimeout as err:
            return _error(503, "engine", str(err))
        return Response(json.dumps({"alert": st.public()}, ensure_ascii=False), mimetype="application/json")

    @bp.post("/ui/alerts/<instance_id>/silence")
    def silence(instance_id: str) -> Response:
        """Silence an alert: ``{"actor", "minutes": 30|60|120|240, "reason"}`` (the reason is required)."""
        if not _same_origin():
            return _error(403, "origin", "only the screens of this server may post here")
        if not request.is_json:
            return _error(415, "body", "send JSON (Content-Type: application/json)")
        body: Any = request.get_json(silent=True)
        if not isinstance(body, dict) or set(body) - {"actor", "minutes", "reason"}:
            return _error(400, "body", "a JSON object with actor, minutes and reason")
        actor, reason, minutes = body.get("actor"), body.get("reason"), body.get("minutes")
        if not isinstance(actor, str) or not actor.strip() or len(actor) > MAX_ACTOR:
            return _error(422, "actor", f"your name, 1-{MAX_ACTOR} characters")
        if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_NOTE:
            return _error(422, "reason", f"why it is silenced, 1-{MAX_NOTE} characters")
        if isinstance(minutes, bool) or minutes not in SILENCE_MINUTES:
            return _error(422, "minutes", f"one of {', '.join(map(str, SILENCE_MINUTES))}")
        until = epoch_ms() + int(minutes) * 60_000
        try:
            c = ctx()
            st = commands.send(
                c.redis,
                "silence",
                instance_id,
                actor.strip(),
                reason.strip(),
                until,
                timeout_s=c.cfg.alerts.command_timeout_s,
            )
        except AlertError as err:
            return _error(err.status, err.field, str(err))
        except commands.CommandTimeout as err:
            return _error(503, "engine", str(err))
        return Response(json.dumps({"alert": st.public()}, ensure_ascii=False), mimetype="application/json")

    return bp
