"""What every HTTP endpoint shares: bearer tokens, body limits, JSON answers and errors, accept-or-503."""

from __future__ import annotations

import hmac
import json
import logging
import re
from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any, TypeVar

from flask import Response, g, request
from werkzeug.exceptions import RequestEntityTooLarge

from dashboard.config import TOKEN_KINDS, AppConfig, TokenKind
from dashboard.store.client import bad_text
from dashboard.store.records import Record
from dashboard.store.sink import IngestEnv

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger(__name__)

MAX_INT_DIGITS = 20  # an integer in a payload: epoch ms and counts fit in 20 digits
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def parse_json(raw: bytes) -> Any:
    """A request body's JSON, or ValueError saying what is wrong with it, for every input (no other
    exception): not UTF-8, malformed, nested too deeply (the parser's recursion limit), an integer of more
    than 20 digits, NaN or Infinity, or a string with a lone surrogate (``"\\ud800"``), which no store can
    keep."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"not UTF-8 text (byte {err.start})") from None
    try:
        value = json.loads(text, parse_int=_int, parse_constant=_constant)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    if _SURROGATE_ESCAPE.search(raw) and _has_surrogate(value):
        raise ValueError("a string holds a lone UTF-16 surrogate (\\ud800-\\udfff), which is not text")
    return value


def _int(digits: str) -> int:
    """An integer of at most MAX_INT_DIGITS digits."""
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"a number of {len(digits)} digits (at most {MAX_INT_DIGITS})")
    return int(digits)


def _constant(name: str) -> Any:
    """NaN and Infinity are not JSON."""
    raise ValueError(f"{name} is not a JSON number")


def _has_surrogate(value: Any) -> bool:
    """Whether a string anywhere in ``value`` (keys included) holds a lone surrogate."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            if bad_text(v) is not None:
                return True
        elif isinstance(v, dict):
            stack += list(v.keys()) + list(v.values())
        elif isinstance(v, list):
            stack += v
    return False


class BadRequest(Exception):
    """Input that is rejected: an HTTP status and a list of {field, message} naming what was wrong."""

    def __init__(
        self, status: int, errors: Sequence[dict[str, Any]], headers: dict[str, str] | None = None
    ) -> None:
        """``errors``: one dict per problem with ``field`` and ``message`` (and ``index`` in a batch)."""
        super().__init__("; ".join(f"{e.get('field')}: {e.get('message')}" for e in errors))
        self.status = status
        self.errors = list(errors)
        self.headers = headers or {}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response (UTF-8, no ASCII escaping)."""
    resp = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json")
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def error_response(err: BadRequest) -> Response:
    """The JSON error body of a rejected request: ``{"error": summary, "errors": [...]}``."""
    return json_response({"error": str(err), "errors": err.errors}, err.status, err.headers)


def require_token(cfg: AppConfig, kind: TokenKind) -> Callable[[F], F]:
    """Decorator: the request must carry ``Authorization: Bearer <token>`` of a configured source whose
    kinds include ``kind`` (the endpoint's: case-events, sensor-readings, camera-status, alerts).

    Sets ``flask.g.source`` to the source name. No token or an unknown one: 401; a source's token used
    for a kind it was not given: 403 naming the kind (and logged). No tokens configured: nobody is let in.
    """
    known = [
        (token.encode(), source, frozenset(entry.kinds))
        for source, entry in cfg.ingest.tokens.items()
        for token in entry.tokens
        if token
    ]

    def deco(fn: F) -> F:
        @wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            auth = request.headers.get("Authorization", "")
            scheme, _, token = auth.partition(" ")
            if scheme.lower() != "bearer" or not token:
                return error_response(
                    BadRequest(
                        401,
                        [{"field": "Authorization", "message": "missing bearer token"}],
                        {"WWW-Authenticate": 'Bearer realm="citybrain"'},
                    )
                )
            given = token.encode()
            match = None
            for expected, source, kinds in known:  # every one compared: no early answer to time
                if hmac.compare_digest(given, expected):
                    match = (source, kinds)
            if match is None:
                return error_response(
                    BadRequest(
                        401,
                        [{"field": "Authorization", "message": "unknown token"}],
                        {"WWW-Authenticate": 'Bearer realm="citybrain", error="invalid_token"'},
                    )
                )
            source, kinds = match
            if kind not in kinds:
                log.warning("token of source %s refused for %s (%s %s)", source, kind, request.method,
                            request.path)  # fmt: skip
                allowed = ", ".join(k for k in TOKEN_KINDS if k in kinds)
                return error_response(
                    BadRequest(
                        403,
                        [{"field": "Authorization", "message": f"this token (source {source!r}) may not "
                          f"use {kind}; its kinds: {allowed} (ingest.tokens.{source}.kinds)"}],
                        {"WWW-Authenticate": 'Bearer realm="citybrain", error="insufficient_scope"'},
                    )
                )  # fmt: skip
            g.source = source
            return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return deco


def json_body(cfg: AppConfig) -> Any:
    """The request's JSON body, or BadRequest (413 too large, 415 not JSON, 400 malformed)."""
    limit = cfg.ingest.max_body_bytes
    too_large = BadRequest(413, [{"field": "body", "message": f"larger than {limit} bytes"}])
    length = request.content_length
    if length is not None and length > limit:
        raise too_large
    try:
        raw = request.get_data(cache=False)
    except RequestEntityTooLarge:
        raise too_large from None
    # A body without Content-Length (chunked) is cut at MAX_CONTENT_LENGTH (= max_body_bytes) by
    # Werkzeug without an error: reaching the limit means it was longer, not that it is malformed JSON.
    if len(raw) > limit or (length is None and len(raw) >= limit):
        raise too_large
    if not request.mimetype or request.mimetype != "application/json":
        raise BadRequest(415, [{"field": "Content-Type", "message": "must be application/json"}])
    try:
        return parse_json(raw)
    except ValueError as err:
        raise BadRequest(400, [{"field": "body", "message": f"not valid JSON: {err}"}]) from None


def accept(env: IngestEnv, feed: str, records: Sequence[Record]) -> bool:
    """Hand records to the feed's sink; False when its buffer is full (answer 503, drop nothing)."""
    return env.sink(feed).offer(records)


def busy(retry_after_s: int = 5) -> Response:
    """503 with Retry-After: the buffer is full while Redis is away; nothing of this request was kept."""
    return error_response(
        BadRequest(
            503,
            [{"field": "service", "message": "ingest buffer full (Redis unavailable); retry later"}],
            {"Retry-After": str(retry_after_s)},
        )
    )
