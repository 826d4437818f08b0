"""Case photos without the operator's browser fetching arbitrary hosts (docs/API.md, ``/media``).

A photo URL comes from the field (an ingest client, an Open311 app): any address, on the internet or the
intranet. A page never puts it in ``<img src>``: a photo on a host of ``web.media_hosts`` (an allow-list,
empty by default) is fetched by the server through ``GET /media?url=...`` and shown as a same-origin
thumbnail; any other is shown as a link the person may choose to open. ``/media`` fetches only from the
allow-listed hosts, passes on only raster images (no SVG: it could carry script), at most
``web.media_max_bytes``, waits at most ``web.media_timeout_s`` and follows a redirect only on the same
host (three at most).
"""

from __future__ import annotations

import http.client
import logging
from urllib.parse import quote, urljoin, urlsplit

from flask import Blueprint, Response, request

from dashboard.config import WebConfig

log = logging.getLogger(__name__)

PATH = "/media"
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "image/avif", "image/bmp"})
MAX_REDIRECTS = 3
MAX_URL = 2000


def proxied(url: str, media_hosts: list[str]) -> bool:
    """Whether the server fetches ``url`` for the page: http(s) on a host of ``media_hosts`` (an entry
    is ``name`` for any port, or ``name:port``)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > MAX_URL:
        return False
    name = parts.hostname.lower()
    allowed = {h.strip().lower() for h in media_hosts}
    return name in allowed or (port is not None and f"{name}:{port}" in allowed)


def media_src(url: str) -> str:
    """The same-origin address of a proxied photo."""
    return f"{PATH}?url={quote(url, safe='')}"


class _Refused(Exception):
    """A fetch refused or failed: the status and why."""

    def __init__(self, status: int, message: str) -> None:
        """Answer ``status`` saying ``message``."""
        super().__init__(message)
        self.status = status


def fetch(url: str, web: WebConfig) -> tuple[str, bytes]:
    """The image at ``url`` (its content type and bytes), fetched under the rules above."""
    if not proxied(url, web.media_hosts):
        raise _Refused(403, "not an allowed media host (web.media_hosts)")
    origin = urlsplit(url)
    for _ in range(MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        if (parts.scheme, parts.netloc.lower()) != (origin.scheme, origin.netloc.lower()):
            raise _Refused(502, "the media host redirected to another host")
        conn_type = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        conn = conn_type(parts.hostname or "", parts.port, timeout=web.media_timeout_s)
        try:
            path = parts.path or "/"
            conn.request("GET", path + (f"?{parts.query}" if parts.query else ""),
                         headers={"Accept": "image/*", "User-Agent": "citybrain-media"})  # fmt: skip
            resp = conn.getresponse()
            if resp.status in (301, 302, 303, 307, 308):
                url = urljoin(url, resp.getheader("Location") or "")
                continue
            if resp.status != 200:
                raise _Refused(502, f"the media host answered {resp.status}")
            ctype = (resp.getheader("Content-Type") or "").split(";")[0].strip().lower()
            if ctype not in IMAGE_TYPES:
                raise _Refused(502, f"not an image ({ctype or 'no content type'})")
            length = resp.getheader("Content-Length")
            if length is not None and length.isdigit() and int(length) > web.media_max_bytes:
                raise _Refused(502, "the image is too large (web.media_max_bytes)")
            data = resp.read(web.media_max_bytes + 1)
            if len(data) > web.media_max_bytes:
                raise _Refused(502, "the image is too large (web.media_max_bytes)")
            return ctype, data
        except (OSError, http.client.HTTPException) as err:
            raise _Refused(
                504 if isinstance(err, TimeoutError) else 502, f"the media host failed ({err})"
            ) from None
        finally:
            conn.close()
    raise _Refused(502, "too many redirects")


def blueprint(web: WebConfig) -> Blueprint:
    """``GET /media?url=``: an allow-listed host's image, passed on."""
    bp = Blueprint("media", __name__)

    @bp.get(PATH)
    def media() -> Response:
        """The image at ``?url=`` when its host is allowed (403 otherwise, 502/504 when it fails)."""
        url = request.args.get("url", "")
        try:
            ctype, data = fetch(url, web)
        except _Refused as err:
            if err.status != 403:
                log.info("media %s: %s", url[:200], err)
            return Response(str(err), status=err.status, mimetype="text/plain")
        return Response(
            data,
            mimetype=ctype,
            headers={
                "Cache-Control": "private, max-age=300",
                "Content-Security-Policy": "default-src 'none'",
            },
        )

    return bp
