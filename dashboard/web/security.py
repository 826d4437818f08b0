"""The web process's guard at the door: which hosts it answers to, which origins may change state, and
the security headers on every response (docs/API.md, "Security").

One owner for three things that would otherwise be spelled in every endpoint:

- **Allowed hosts** (``web.allowed_hosts``): a request whose ``Host`` (port stripped) is not one of them
  gets ``400 host not allowed``. A page of a foreign site whose DNS name is rebound to this server's
  address sends its own name as ``Host``, so it is refused before any page, callback or API sees it.
  ``/healthz`` is exempt: probes call it by address, and it changes nothing.
- **Origin of state-changing requests**: a ``POST``/``PUT``/``PATCH``/``DELETE`` that carries ``Origin``
  (else ``Referer``), as every browser's does, must come from this very origin (its host allowed and its
  ``host:port`` equal to ``Host``), else ``403``. Devices and duty systems calling the API with a bearer
  token send neither header and are not affected. This covers Dash's callback endpoint, the screens'
  ``/ui/...`` endpoints and the APIs alike; ``same_origin()`` is the test they share.
- **Headers**: a Content-Security-Policy that fits Dash without ``'unsafe-inline'`` scripts (Dash's own
  inline scripts are allowed by their hashes), ``frame-ancestors 'none'`` unless ``web.frame_ancestors``
  names the portals that may frame the pages (then no ``X-Frame-Options``, which cannot name them),
  ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin``; no ``Server`` banner beyond the
  server's bare name.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import dash
from flask import Flask, Response, request

from dashboard.config import WebConfig

log = logging.getLogger(__name__)

LOOPBACK = ("127.0.0.1", "localhost", "::1")
ANY_INTERFACE = ("0.0.0.0", "::", "")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
HOST_EXEMPT = frozenset({"/healthz"})  # probes call it by address; it only reads
_NETLOC = re.compile(r"^(\[[0-9a-f:.]+\]|[a-z0-9_.\-]+|[0-9a-f:]+)(:[0-9]{1,5})?$")


def allowed_hosts(web: WebConfig) -> frozenset[str]:
    """The host names the web process answers to (lower case, no port; ``*`` = any)."""
    if web.allowed_hosts is not None:
        return frozenset(h.strip().lower().strip("[]") for h in web.allowed_hosts)
    hosts = set(LOOPBACK)
    if web.host not in ANY_INTERFACE:
        hosts.add(web.host.lower().strip("[]"))
    return frozenset(hosts)


def host_name(netloc: str) -> str:
    """The host of ``host[:port]`` or ``[v6]:port``, lower case, without brackets or port ("" when it
    is not a well-formed host)."""
    netloc = netloc.strip().lower()
    if not _NETLOC.match(netloc):
        return ""
    if netloc.startswith("["):
        return netloc[1 : netloc.find("]")] if "]" in netloc else netloc[1:]
    if netloc.count(":") == 1:
        return netloc.split(":", 1)[0]
    return netloc  # a name, or a bare IPv6 address


def host_allowed(netloc: str, hosts: frozenset[str]) -> bool:
    """Whether ``host[:port]`` names an allowed host."""
    name = host_name(netloc)
    return bool(name) and ("*" in hosts or name in hosts)


def _browser_origin() -> str | None:
    """The ``scheme://host:port`` a browser says the request comes from (Origin, else Referer); None
    when it says nothing (a device or a script); ``"null"`` for an opaque origin."""
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin
    referer = request.headers.get("Referer")
    if referer is None:
        return None
    parts = urlsplit(referer)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else "null"


def same_origin(hosts: frozenset[str]) -> bool:
    """True unless the browser says the request comes from another origin than this server as it was
    addressed (``Host``), or from a host not allowed."""
    origin = _browser_origin()
    if origin is None:
        return True
    netloc = urlsplit(origin).netloc
    return bool(netloc) and netloc.lower() == request.host.lower() and host_allowed(netloc, hosts)


def _refuse(status: int, field: str, message: str) -> Response:
    """A JSON error in the API's shape (docs/API.md)."""
    body = {"error": message, "errors": [{"field": field, "message": message}]}
    return Response(json.dumps(body), status=status, mimetype="application/json")


# ------------------------------------------------------------------------------------------ the CSP


def tile_source(tile_url: str | None) -> str | None:
    """The CSP source of the tile server (``{s}.`` subdomains as ``*.``), None without tiles."""
    if not tile_url:
        return None
    parts = urlsplit(tile_url.replace("{s}.", "*."))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(web: WebConfig, script_hashes: list[str], host: str) -> str:
    """The Content-Security-Policy of a response to a request for ``host`` (its Host header)."""
    tiles = tile_source(web.tile_url)
    frames = " ".join(web.frame_ancestors) or "'none'"
    directives = {
        "default-src": ["'self'"],
        # Dash's own inline scripts (the renderer's start, inline clientside callbacks) by their hashes;
        # everything else is a file of ours or of a component package served from /_dash-component-suites.
        # No 'unsafe-eval': Plotly 7, Leaflet and Dash run without it (tests/test_security.py, Chromium).
        "script-src": ["'self'", *script_hashes],
        # Plotly and Leaflet insert <style> elements and style attributes; styles cannot run code.
        "style-src": ["'self'", "'unsafe-inline'"],
        # data: and blob: for Leaflet's and Plotly's generated images; the tile server when configured.
        "img-src": ["'self'", "data:", "blob:", *([tiles] if tiles else [])],
        "font-src": ["'self'", "data:"],
        "media-src": ["'self'", "data:", "blob:"],  # the wall's alarm tones
        # Dash's callbacks and Socket.IO over HTTP and WebSocket, same origin only (named explicitly:
        # not every browser lets 'self' match ws:).
        "connect-src": ["'self'", f"ws://{host}", f"wss://{host}"],
        "worker-src": ["'self'", "blob:"],
        "frame-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": [frames],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


class _ScriptHashes:
    """Dash's inline scripts' hashes, computed once Dash has set itself up (its first request moves the
    inline clientside callbacks into the app) and again if their number changes."""

    def __init__(self, app: dash.Dash) -> None:
        """For ``app``."""
        self.app = app
        self.key: int = -1
        self.hashes: list[str] = []

    def __call__(self) -> list[str]:
        """The current hash sources (``'sha256-...'``)."""
        key = len(getattr(self.app, "_inline_scripts", []))
        if key != self.key:
            self.hashes = list(self.app.csp_hashes())  # quoted: "'sha256-...'"
            self.key = key
        return self.hashes


# ------------------------------------------------------------------------------------------ the hooks


def install(app: dash.Dash, web: WebConfig) -> None:
    """Check hosts and origins before every request and add the security headers to every response."""
    server: Flask = app.server
    hosts = allowed_hosts(web)
    hashes: Callable[[], list[str]] = _ScriptHashes(app)
    framed = bool(web.frame_ancestors)

    def check_request() -> Response | None:
        """400 for a Host not allowed; 403 for a browser's state change from another origin."""
        if request.path not in HOST_EXEMPT and not host_allowed(request.host, hosts):
            log.warning("refused %s %s: host %r not allowed", request.method, request.path[:100],
                        request.host[:100])  # fmt: skip
            return _refuse(400, "host", "host not allowed")
        if request.method in UNSAFE_METHODS and not same_origin(hosts):
            log.warning("refused %s %s from origin %r", request.method, request.path[:100],
                        (_browser_origin() or "")[:100])  # fmt: skip
            return _refuse(403, "origin", "only the screens of this server may post here")
        return None

    def add_headers(resp: Response) -> Response:
        """The security headers, on every response (errors included)."""
        h = resp.headers
        host = request.host if host_allowed(request.host, hosts) else "localhost"
        h.setdefault("Content-Security-Policy", content_security_policy(web, hashes(), host))
        if not framed:
            h["X-Frame-Options"] = "DENY"
        h["X-Content-Type-Options"] = "nosniff"
        h["Referrer-Policy"] = "same-origin"
        h["Cross-Origin-Opener-Policy"] = "same-origin"
        return resp

    server.before_request_funcs.setdefault(None, []).insert(0, check_request)
    server.after_request(add_headers)


def guard_socketio(server: Flask, web: WebConfig, path: str = "/socket.io") -> None:
    """The same host and origin checks for Socket.IO, whose middleware answers before Flask's hooks run
    (call after ``SocketIO(server)``): a rebound page's polling request carries no Origin, so the Host
    decides; a WebSocket's Origin must be this origin."""
    hosts = allowed_hosts(web)
    inner = server.wsgi_app

    def guarded(environ: dict[str, Any], start_response: Any) -> Any:
        if not str(environ.get("PATH_INFO", "")).startswith(path):
            return inner(environ, start_response)
        host = str(environ.get("HTTP_HOST", ""))
        origin = environ.get("HTTP_ORIGIN")
        if not host_allowed(host, hosts):
            why = "400 Bad Request", b"host not allowed"
        elif origin is not None and (urlsplit(origin).netloc.lower() != host.lower()):
            why = "403 Forbidden", b"only the screens of this server may connect"
        else:
            return inner(environ, start_response)
        log.warning("refused socket.io request: host %r origin %r", host[:100], str(origin)[:100])
        start_response(why[0], [("Content-Type", "text/plain"), ("Content-Length", str(len(why[1])))])
        return [why[1]]

    server.wsgi_app = guarded  # type: ignore[method-assign]
