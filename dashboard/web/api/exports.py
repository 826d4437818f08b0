"""The overview's (``/``) tables as CSV files for the screens: ``GET /ui/export/<table>.csv?lang=`` with
``<table>`` one of ``overdue``, ``league``, ``subdistricts`` (``dashboard.queries.exports``); 404 for
another. Read-only, same as the page shows, no token (the screens are no token holders)."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, abort

from dashboard.domain.i18n import Lang
from dashboard.queries import exports
from dashboard.web.context import ctx, request_lang


def blueprint() -> Blueprint:
    """The overview's CSV exports."""
    bp = Blueprint("exports", __name__)

    @bp.get("/ui/export/<table>.csv")
    def table_csv(table: str) -> Response:
        """One table of ``/`` as CSV (an as-of first line, dates with the year, formula cells escaped)."""
        if table not in exports.TABLES:
            abort(404)
        c = ctx()
        lang: Lang = request_lang(c.cfg.locale)
        now = datetime.now(c.tz)
        body = exports.table_csv(c.redis, c.geo, table, lang, c.tz, now)
        name = f"{table}-{now:%Y%m%d-%H%M}-{lang}.csv"
        return Response(
            body,
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
        )

    return bp
