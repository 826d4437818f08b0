"""Every id a callback names exists on some page: the check Dash's renderer would otherwise make in
every browser against every page's layout sent with each page (the app turns that off to keep 300 KB
out of each page load, dashboard/web/app.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import dash
import pytest
from dash._utils import split_callback_id

from dashboard.config import AppConfig
from dashboard.store.server import EmbeddedRedis

# A page's path variables, to build its layout as a request for it would.
SAMPLE_VARS = {"case_id": "SIM-TEST-000001", "area_id": "ZM-0001"}


def ids_in(node: Any) -> Iterator[str | dict[str, Any]]:
    """Every component id in a layout (string ids and pattern-matching dict ids)."""
    if isinstance(node, (list, tuple)):
        for child in node:
            yield from ids_in(child)
        return
    if not isinstance(node, dash.development.base_component.Component):
        return
    cid = getattr(node, "id", None)
    if cid is not None:
        yield cid
    for prop in node._prop_names:
        value = getattr(node, prop, None)
        if isinstance(value, (dash.development.base_component.Component, list, tuple)):
            yield from ids_in(value)


def named_ids(entry: dict[str, Any]) -> Iterator[str]:
    """The ids one callback names: its outputs, inputs and states, as Dash spells them."""
    outputs = split_callback_id(entry["output"])
    for dep in [*(outputs if isinstance(outputs, list) else [outputs]), *entry["inputs"], *entry["state"]]:
        yield dep["id"]


def pattern_keys(cid: str) -> frozenset[str] | None:
    """A pattern-matching id's keys (``{"type": ..., "index": ALL}``); None for a plain id."""
    if not cid.startswith("{"):
        return None
    return frozenset(json.loads(cid))


@pytest.fixture(scope="module")
def app(redis_server: EmbeddedRedis) -> dash.Dash:
    from dashboard.web.app import create_app

    built, _ = create_app(AppConfig(), redis_server.url)
    return built


def page_ids(app: dash.Dash) -> tuple[set[str], set[tuple[frozenset[str], str]]]:
    """The plain ids and the pattern-matching ids' (keys, type) of every page's layout, built as a
    request for the page would build it."""
    plain: set[str] = set()
    patterns: set[tuple[frozenset[str], str]] = set()
    with app.server.test_request_context("/"):
        for page in dash.page_registry.values():
            layout = page["layout"]
            if callable(layout):
                names = layout.__code__.co_varnames[: layout.__code__.co_argcount]
                layout = layout(**{k: v for k, v in SAMPLE_VARS.items() if k in names})
            for cid in ids_in([layout, app.layout]):
                if isinstance(cid, dict):
                    patterns.add((frozenset(cid), str(cid.get("type", ""))))
                else:
                    plain.add(cid)
    return plain, patterns


def missing_ids(callbacks: list[dict[str, Any]], app: dash.Dash) -> list[str]:
    """The ids ``callbacks`` name that no page has."""
    plain, patterns = page_ids(app)
    assert len(dash.page_registry) >= 7 and len(plain) > 50  # the pages were found and built
    missing = []
    for entry in callbacks:
        for cid in named_ids(entry):
            keys = pattern_keys(cid)
            if keys is None:
                if cid not in plain:
                    missing.append(cid)
            elif (keys, json.loads(cid).get("type", "")) not in patterns:
                missing.append(cid)
    return sorted(set(missing))


def test_every_callback_names_ids_that_a_page_has(app: dash.Dash) -> None:
    assert missing_ids(app._callback_list, app) == []


def test_a_callback_naming_an_unknown_id_is_found(app: dash.Dash) -> None:
    stray = {"output": "no-such-panel.children", "inputs": [{"id": "no-such-input", "property": "value"}],
             "state": [{"id": '{"index":["ALL"],"type":"no-such-row"}', "property": "n_clicks"}]}  # fmt: skip
    assert missing_ids([*app._callback_list, stray], app) == [
        "no-such-input",
        "no-such-panel",
        '{"index":["ALL"],"type":"no-such-row"}',
    ]
