"""Same-origin endpoints of the screens: a duty officer acknowledges or silences a warning.

``POST /api/v1/alerts/<id>/ack`` needs a bearer token, and a page is no token holder. The screens post
here instead: ``POST /ui/alerts/<id>/ack`` with ``{"actor": "王值班", "note": "..."}`` (JSON only, so a
cross-site form cannot post it; a request whose ``Origin`` or ``Referer`` is another origin, or whose
``Host`` is not allowed, is refused: ``dashboard.web.security``). There is no
login yet: the actor is the name typed into the wall's ``duty-name`` field, taken at its word. The
change is a command to the alert engine (``dashboard.alerts.commands``), which applies it (state, history,
output stream in one MULTI/EXEC) and answers; it reaches every open screen through the pushed "alerts"
event.

``POST /ui/alerts/<id>/silence`` with ``{"actor", "minutes", "reason"}`` (minutes one of 30, 60, 120,
240; a reason is required) mutes an alert the same way; ``POST /ui/alerts/<id>/unsilence`` with
``{"actor", "note"}`` ends the silence before its time (409 when it is not silenced).

``GET /ui/alerts/history.csv?level=&rule=&area=&range=&lang=`` downloads the history page's episodes as
CSV (``dashboard.queries.alert_history``): an as-of line and the filters first, then one row each.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, request

from dashboard.alerts import commands
from dashboard.alerts.machine import AlertError
from dashboard.domain.i18n import Lang
from dashboard.domain.types import epoch_ms
from dashboard.queries import alert_history
from dashboard.store import audit
from dashboard.web.api.common import parse_json
from dashboard.web.context import ctx, request_lang
from dashboard.web.security import allowed_hosts, same_origin

MAX_ACTOR = 64
MAX_NOTE = 500
SILENCE_MINUTES = (30, 60, 120, 240)  # the durations the wall offers


def _error(status: int, field: str, message: str) -> Response:
    """An error answer naming the field, as the API answers."""
    body = {"error": message, "errors": [{"field": field, "message": message}]}
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json")


class _Refused(Exception):
    """A request refused: its status, and the field and message the answer names."""

    def __init__(self, status: int, field: str, message: str) -> None:
        """Refuse with ``status``, naming ``field``."""
        super().__init__(message)
        self.status = status
        self.field = field


def _posted(allowed: set[str], shape: str) -> dict[str, Any]:
    """The JSON object a screen of this server posted, with only ``allowed`` keys (403, 415, 400)."""
    if not same_origin(allowed_hosts(ctx().cfg.web)):  # also checked for every request (web.security)
        raise _Refused(403, "origin", "only the screens of this server may post here")
    if not request.is_json:
        raise _Refused(415, "body", "send JSON (Content-Type: application/json)")
    try:
        body: Any = parse_json(request.get_data(cache=False))
    except ValueError as err:
        raise _Refused(400, "body", f"not valid JSON: {err}") from None
    if not isinstance(body, dict) or set(body) - allowed:
        raise _Refused(400, "body", shape)
    return body


def _actor(body: dict[str, Any]) -> str:
    """The name of the person at the screen (422 when missing or too long)."""
    actor = body.get("actor")
    if not isinstance(actor, str) or not actor.strip() or len(actor) > MAX_ACTOR:
        raise _Refused(422, "actor", f"your name, 1-{MAX_ACTOR} characters")
    return actor


def _note(body: dict[str, Any]) -> str:
    """The optional note (422 when not text or too long)."""
    note = body.get("note") or ""
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        raise _Refused(422, "note", f"at most {MAX_NOTE} characters")
    return note.strip()


def _send(kind: commands.Kind, instance_id: str, actor: str, note: str, until: int = 0) -> Response:
    """Have the alert engine apply a person's command; answer with the alert after it, or why not."""
    c = ctx()
    said: dict[str, Any] = {
        "user": actor,
        "via": "ui",
        "target": instance_id,
        "detail": note,
        "keep_days": c.cfg.auth.audit_days,
    }
    try:
        st = commands.send(
            c.redis, kind, instance_id, actor, note, until, timeout_s=c.cfg.alerts.command_timeout_s
        )
    except AlertError as err:
        audit.record(c.redis, kind, outcome=f"refused {err.status}: {err}", **said)
        return _error(err.status, err.field, str(err))
    except commands.CommandTimeout as err:
        audit.record(c.redis, kind, outcome=f"refused 503: {err}", **said)
        return _error(503, "engine", str(err))
    audit.record(c.redis, kind, area=st.public().get("area") or "", **said)
    return Response(json.dumps({"alert": st.public()}, ensure_ascii=False), mimetype="application/json")


def blueprint() -> Blueprint:
    """The screens' endpoints (registered by the wall)."""
    bp = Blueprint("alert_ui", __name__)

    @bp.errorhandler(_Refused)
    def _refused(err: _Refused) -> Response:
        return _error(err.status, err.field, str(err))

    @bp.post("/ui/alerts/<instance_id>/ack")
    def ack(instance_id: str) -> Response:
        """Acknowledge a firing alert in the name of the person at the screen."""
        body = _posted({"actor", "note"}, "a JSON object with actor and an optional note")
        actor = _actor(body)
        return _send("ack", instance_id, actor.strip(), _note(body))

    @bp.get("/ui/alerts/history.csv")
    def history_csv() -> Response:
        """The history page's episodes as CSV: ``?level=&rule=&area=&range=&lang=`` (as the page filters)."""
        c = ctx()
        lang: Lang = request_lang(c.cfg.locale)
        a = request.args
        filters = alert_history.Filters.of(a.get("level"), a.get("rule"), a.get("area"), a.get("range"))
        now = datetime.now(c.tz)
        eps, cut = alert_history.read(c.redis, filters, c.tz, now)

        def area_name(area_id: str) -> str:
            try:
                area = c.geo.area(area_id)
            except KeyError:
                return ""
            return area.name_zh if lang == "zh-CN" else area.name_en

        infos = alert_history.rule_infos(c.cfg.alerts.rules)
        body = alert_history.csv_text(eps, filters, lang, c.tz, now, infos, area_name, cut)
        name = f"alerts-{now:%Y%m%d-%H%M}-{lang}.csv"
        return Response(
            body,
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
        )

    @bp.post("/ui/alerts/<instance_id>/unsilence")
    def unsilence(instance_id: str) -> Response:
        """End a silence before its time, in the name of the person at the screen (an optional note)."""
        body = _posted({"actor", "note"}, "a JSON object with actor and an optional note")
        actor = _actor(body)
        return _send("unsilence", instance_id, actor.strip(), _note(body))

    @bp.post("/ui/alerts/<instance_id>/silence")
    def silence(instance_id: str) -> Response:
        """Silence an alert: ``{"actor", "minutes": 30|60|120|240, "reason"}`` (the reason is required)."""
        body = _posted({"actor", "minutes", "reason"}, "a JSON object with actor, minutes and reason")
        actor = _actor(body)
        reason, minutes = body.get("reason"), body.get("minutes")
        if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_NOTE:
            raise _Refused(422, "reason", f"why it is silenced, 1-{MAX_NOTE} characters")
        if isinstance(minutes, bool) or minutes not in SILENCE_MINUTES:
            raise _Refused(422, "minutes", f"one of {', '.join(map(str, SILENCE_MINUTES))}")
        return _send(
            "silence", instance_id, actor.strip(), reason.strip(), epoch_ms() + int(minutes) * 60_000
        )

    return bp
