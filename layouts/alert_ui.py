"""Same-origin endpoints of the screens: a duty officer acknowledges a warning from the wall.

``POST /api/v1/alerts/<id>/ack`` needs a bearer token, and a page is no token holder. The screens post
here instead: ``POST /ui/alerts/<id>/ack`` with ``{"actor": "王值班", "note": "..."}`` (JSON only, so a
cross-site form cannot post it; a request whose ``Origin`` is another host is refused). There is no
login yet: the actor is the name typed into the wall's ``duty-name`` field, taken at its word. The
change goes through ``dashboard.alerts.store.acknowledge`` (state, history, output stream in one
MULTI/EXEC) and reaches every open screen through the pushed "alerts" event.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, request

from dashboard.alerts import store
from dashboard.alerts.machine import AlertError
from dashboard.app import ctx

MAX_ACTOR = 64
MAX_NOTE = 500


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
        c = ctx()
        try:
            st = store.acknowledge(
                c.redis,
                instance_id,
                actor.strip(),
                note.strip(),
                int(time.time() * 1000),
                c.cfg.alerts.history_maxlen,
            )
        except AlertError as err:
            return _error(err.status, err.field, str(err))
        return Response(json.dumps({"alert": st.public()}, ensure_ascii=False), mimetype="application/json")

    return bp
