"""Files served from memory (the district's geometry, the device positions): gzip once, strong ETag."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path

from flask import Response, request


@dataclass(frozen=True)
class StaticFile:
    """A file served from memory with its gzip form and a strong ETag."""

    body: bytes
    gz: bytes
    etag: str
    mimetype: str

    @classmethod
    def from_path(cls, path: Path, mimetype: str) -> StaticFile:
        """Read and compress once."""
        return cls.from_bytes(path.read_bytes(), mimetype)

    @classmethod
    def from_bytes(cls, body: bytes, mimetype: str) -> StaticFile:
        """Compress once."""
        return cls(body, gzip.compress(body, 6, mtime=0), hashlib.sha1(body).hexdigest()[:16], mimetype)

    def response(self) -> Response:
        """200 with the (compressed) body, or 304 when the browser has this version."""
        if request.if_none_match.contains(self.etag):
            resp = Response(status=304)
        elif request.accept_encodings["gzip"]:
            resp = Response(self.gz, mimetype=self.mimetype)
            resp.headers["Content-Encoding"] = "gzip"
        else:
            resp = Response(self.body, mimetype=self.mimetype)
        resp.set_etag(self.etag)
        resp.headers["Cache-Control"] = "public, max-age=300, must-revalidate"
        resp.headers["Vary"] = "Accept-Encoding"
        return resp
