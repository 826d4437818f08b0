"""The web process: the Dash app, Socket.IO push and every HTTP API, on one Flask server."""

from __future__ import annotations

import logging
from typing import Any
from zoneinfo import ZoneInfo

import dash
import redis
from flask import Flask, has_request_context, request
from flask_socketio import SocketIO, join_room

from dashboard.config import ROOT, AppConfig
from dashboard.store import keys
from dashboard.store.client import connect
from dashboard.store.roles import mark_up_when_reachable
from dashboard.web.api import register_all
from dashboard.web.context import Context, ctx, request_lang, set_context
from dashboard.web.dash_guard import guard_callbacks
from dashboard.web.push import PushBridge
from dashboard.web.rooms import Rooms, room_for

log = logging.getLogger(__name__)

ASSETS = ROOT / "assets"
SCREENS = "layouts"  # the package whose pages/ folder holds the screens (docs/UI.md)


def create_app(cfg: AppConfig, redis_url: str) -> tuple[dash.Dash, SocketIO]:
    """Build the Flask server, the Dash app on it and the Socket.IO endpoint; start the push bridge."""
    geo = cfg.geography.load()
    client = connect(redis_url)
    set_context(Context(cfg=cfg, geo=geo, redis=client, tz=ZoneInfo(cfg.timezone)))

    server = Flask("citybrain")
    app = dash.Dash(
        SCREENS,  # Dash finds the pages in <SCREENS>/pages/ and imports them itself: the app imports none
        server=server,  # type: ignore[arg-type]  # Dash's annotation omits Flask
        assets_folder=str(ASSETS),
        serve_locally=True,
        title="城市大脑 · City Brain",
        update_title=None,  # type: ignore[arg-type]  # None is documented: keep the title
        compress=True,
        use_pages=True,
        pages_folder="pages",
        # Dash would otherwise send every page's layout with every page (300 KB of JSON in the HTML) so
        # the browser can check the callbacks' ids against it, reporting to dev tools we turn off;
        # tests/test_callback_ids.py makes that check once, in the suite.
        suppress_callback_exceptions=True,
    )
    app.enable_dev_tools(
        debug=False, dev_tools_ui=False, dev_tools_props_check=False, dev_tools_disable_version_check=True
    )

    app.layout = dash.page_container
    page_html: Any = app.interpolate_index

    def interpolate_index(**kwargs: Any) -> str:
        """Dash's page HTML with ``<html lang>`` the page's language (``?lang=``, else the default;
        assets/js/lang.js follows a language remembered in the browser)."""
        lang = request_lang(cfg.locale) if has_request_context() else cfg.locale
        return str(page_html(**kwargs)).replace("<html>", f'<html lang="{lang}">', 1)

    app.interpolate_index = interpolate_index  # type: ignore[method-assign,assignment]
    guard_callbacks(app)

    register_all(server, cfg, geo, client)
    socketio = SocketIO(server, async_mode="threading", logger=False)
    rooms = Rooms(geo, cfg.web.max_connections)

    def case_exists(case_id: str) -> bool:
        """A case room only for a case the read models know (else any string would make a room)."""
        try:
            return bool(client.hexists(keys.CASE_INDEX, case_id))
        except redis.RedisError:
            return False

    def on_connect(auth: Any = None) -> bool | None:
        """A page joins the room of its view (its socket sends ``auth.pathname``; a page may name
        ``auth.view``): it then receives only the deltas of what it shows (docs/DATA.md, rooms). Past
        ``web.max_connections`` sockets the connection is refused (the page retries)."""
        if not rooms.connect(request.sid):  # type: ignore[attr-defined]  # Flask-SocketIO sets request.sid
            log.warning("socket refused: %d connections open (web.max_connections)", rooms.connections())
            return False
        view = (auth.get("view") or auth.get("pathname")) if isinstance(auth, dict) else None
        room = room_for(view if isinstance(view, str) else None, geo, case_exists)
        if room is not None:
            join_room(room)
            rooms.join(request.sid, room)  # type: ignore[attr-defined]
        return None

    def on_disconnect(*_: Any) -> None:
        """A page went away: its room may now be empty."""
        rooms.leave(request.sid)  # type: ignore[attr-defined]

    socketio.on_event("connect", on_connect)
    socketio.on_event("disconnect", on_disconnect)

    PushBridge(socketio, client, ZoneInfo(cfg.timezone), cfg.web.push_interval_ms, cfg, rooms).start()
    return app, socketio


def serve(cfg: AppConfig, redis_url: str, host: str, port: int) -> None:
    """Run the web process until it is stopped."""
    app, socketio = create_app(cfg, redis_url)
    mark_up_when_reachable(ctx().redis, "web")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no per-request lines, no dev-server banner
    log.info("wall on http://%s:%d", host, port)
    socketio.run(
        app.server, host=host, port=port, allow_unsafe_werkzeug=True, use_reloader=False, log_output=False
    )
