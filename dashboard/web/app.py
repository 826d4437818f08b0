"""The web process: the Dash app, Socket.IO push and every HTTP API, on one Flask server."""

from __future__ import annotations

import logging
import os
import signal
import sys
from typing import Any
from zoneinfo import ZoneInfo

import dash
import redis
from flask import Flask, has_request_context, request
from flask_socketio import SocketIO, join_room
from gunicorn.app.base import BaseApplication

from dashboard.config import ROOT, AppConfig
from dashboard.store import keys
from dashboard.store.client import connect
from dashboard.store.roles import mark_up_when_reachable
from dashboard.store.server import set_pdeathsig
from dashboard.web.api import register_all
from dashboard.web.context import Context, ctx, request_lang, set_context
from dashboard.web.dash_guard import guard_callbacks
from dashboard.web.media import blueprint as media_blueprint
from dashboard.web.push import PushBridge
from dashboard.web.rooms import Rooms, room_for
from dashboard.web.security import guard_socketio
from dashboard.web.security import install as install_security

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
    install_security(app, cfg.web)  # allowed hosts, same-origin state changes, CSP and the other headers

    register_all(server, cfg, geo, client)
    server.register_blueprint(media_blueprint(cfg.web))  # case photos from web.media_hosts
    socketio = SocketIO(server, async_mode="threading", logger=False)
    guard_socketio(server, cfg.web)  # its middleware answers before Flask's hooks: the same checks
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
    """Run the web process under gunicorn until it is stopped (SIGTERM or Ctrl-C: a graceful stop)."""
    log.info("wall on http://%s:%d", host, port)
    WebServer(cfg, redis_url, host, port).run()


class WebServer(BaseApplication):  # type: ignore[misc]  # gunicorn has no type annotations
    """gunicorn, in this process, with one worker of ``web.threads`` threads (gthread; by default one per
    allowed Socket.IO connection and 64 more: a WebSocket holds its thread while it is open, and a pool
    too small would leave the pages beyond it waiting; the pool starts threads only as they are needed).

    One worker because a Socket.IO client's requests must all reach the process that holds its session
    (several web processes need sticky sessions in front of them, a later step); threads
    because Flask-SocketIO's ``async_mode="threading"`` serves each WebSocket (simple-websocket, on
    gunicorn's socket) in a thread of its own. The app is built in the worker, after the fork: the push
    bridge's threads and the Redis connections must live there. gunicorn answers SIGTERM by stopping the
    worker gracefully (in-flight requests get ``graceful_timeout``); the worker then leaves at once,
    without waiting for the threads that hold WebSockets, as the development server did.
    """

    SPARE_THREADS = 64  # beside one per allowed socket: page loads, callbacks, API calls
    GRACEFUL_S = 3  # in-flight requests' time to finish on SIGTERM (the supervisor kills after 5 s)

    def __init__(self, cfg: AppConfig, redis_url: str, host: str, port: int) -> None:
        """Serve ``cfg``'s app on ``host:port``."""
        self.cfg_app, self.redis_url = cfg, redis_url
        bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        threads = cfg.web.threads or cfg.web.max_connections + self.SPARE_THREADS
        self.options: dict[str, Any] = {
            "bind": [bind],
            "workers": 1,
            "worker_class": "gthread",
            "threads": threads,
            "worker_connections": threads + cfg.web.max_connections,
            "graceful_timeout": self.GRACEFUL_S,
            "timeout": 60,  # the worker's heartbeat (its main loop, never blocked by a request)
            "keepalive": 5,
            "loglevel": "warning",  # no per-request lines, no banner
            "accesslog": None,
            "control_socket_disable": True,
            "proc_name": "citybrain-web",
            "post_fork": _post_fork,
            "worker_exit": _worker_exit,
        }
        super().__init__()

    def load_config(self) -> None:
        """gunicorn's settings from ours (no command line, no config file)."""
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        """The WSGI app, built in the worker."""
        app, _ = create_app(self.cfg_app, self.redis_url)
        mark_up_when_reachable(ctx().redis, "web")
        return app.server


def _post_fork(_arbiter: Any, _worker: Any) -> None:
    """The worker dies with the server process, even when that one is killed."""
    set_pdeathsig(signal.SIGKILL)  # killed: the worker must free the port at once for the next one


def _worker_exit(_arbiter: Any, _worker: Any) -> None:
    """Leave now: threads holding WebSockets would keep the interpreter waiting (nothing to flush:
    accepted records are in the journal)."""
    exc = sys.exc_info()[1]
    code = exc.code if isinstance(exc, SystemExit) and isinstance(exc.code, int) else 0
    logging.shutdown()
    os._exit(code)
