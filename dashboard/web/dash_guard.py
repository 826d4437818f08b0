"""Dash's callback endpoint answers bad input with a 4xx, never a 500.

Our pages only send what their callbacks expect; anything else was crafted. ``guard_callbacks`` checks
the body's shape before Dash reads it (400 naming what is wrong) and turns an exception a callback raises
on such input into a 400 (503 when it was Redis that failed); the exception is still logged with its
traceback, so a real bug stays visible in the log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import dash
import redis
from flask import Response, request

from dashboard.web.api.common import BadRequest, error_response

log = logging.getLogger(__name__)

ENDPOINT = "_dash-update-component"
SUITES = "_dash-component-suites/<string:package_name>/<path:fingerprinted_path>"  # Dash's script route


def problem(body: Any) -> str | None:
    """What is wrong with a callback request body's shape, else None."""
    if not isinstance(body, dict):
        return "must be a JSON object"
    if not isinstance(body.get("output"), str):
        return "output: must be a string"
    if not isinstance(body.get("outputs"), dict | list):
        return "outputs: must be an object or a list"
    for key in ("inputs", "state"):
        deps = body.get(key, [])
        if not isinstance(deps, list):
            return f"{key}: must be a list"
        for i, dep in enumerate(deps):
            items = dep if isinstance(dep, list) else [dep]  # pattern-matching inputs come as lists
            if not all(_dep(d) for d in items):
                return f"{key}[{i}]: must be an object with id and property"
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        return "changedPropIds: must be a list of strings"
    return None


def _dep(d: Any) -> bool:
    """An input or state: an object with an id and a property name."""
    return isinstance(d, dict) and "id" in d and isinstance(d.get("property"), str)


def guard_callbacks(app: dash.Dash) -> None:
    """Wrap Dash's callback endpoint: bad shapes 400, callbacks failing on their input 400 (Redis: 503)."""
    server = app.server
    name = app.config.routes_pathname_prefix + ENDPOINT
    view: Callable[..., Any] = server.view_functions[name]

    def guarded(*args: Any, **kwargs: Any) -> Any:
        why = problem(_body())
        if why is not None:
            return _refuse(400, why)
        try:
            return view(*args, **kwargs)
        except redis.RedisError as err:
            log.warning("callback %s: redis unavailable (%s)", _output(), err)
            return _refuse(503, "the live store is unavailable; retry", {"Retry-After": "5"})
        except Exception as err:
            log.exception("callback %s failed on its input", _output())
            return _refuse(400, f"the callback could not use this input ({type(err).__name__})")

    server.view_functions[name] = guarded
    _guard_suites(app)


def _guard_suites(app: dash.Dash) -> None:
    """Dash's script route raises on a package it does not know: answer 404 instead of 500."""
    server = app.server
    name = app.config.routes_pathname_prefix + SUITES
    view: Callable[..., Any] = server.view_functions[name]

    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except Exception as err:  # dash raises DependencyException, KeyError... for unknown files
            log.info("component suite request refused: %s: %s", type(err).__name__, str(err)[:200])
            return _refuse(404, "no such script")

    server.view_functions[name] = guarded


def _body() -> Any:
    """The request's JSON (None when it is not JSON), parsed once: Flask keeps it for Dash to read."""
    try:
        return request.get_json(silent=True)
    except RecursionError:  # nested too deeply for the parser
        return None


def _output() -> str:
    """The callback's output as the request named it (for the log)."""
    body = _body()
    return str(body.get("output"))[:120] if isinstance(body, dict) else "?"


def _refuse(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """A JSON error naming the body."""
    return error_response(BadRequest(status, [{"field": "body", "message": message}], headers))
