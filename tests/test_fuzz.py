"""Fuzz (issue 13): the findings of the review, and more of their kind, thrown at every route the web
process serves and at every input stream. No answer is a 500, the processes keep running, every bad
stream entry is dead-lettered and acknowledged, and what was accepted before is still there after."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from dashboard.store import keys
from dashboard.store.records import STREAM_OF
from tests.conftest import App, http_get, wait_for
from tests.support import ROOT
from tests.test_http_cases import API_KEY, CELL, TOKEN, event

DEEP = b"[" * 100_000 + b"]" * 100_000
BODIES: list[tuple[str, bytes]] = [
    ("deep JSON", DEEP),
    ("deep object", b'{"a":' * 50_000 + b"1" + b"}" * 50_000),
    ("400-digit number", b'{"events":[{"value":' + b"9" * 400 + b"}]}"),
    ("lone surrogate", b'{"description":"\\ud800","reason":"\\udfff","actor":"x\\ud800"}'),
    ("NaN", b'{"value": NaN}'),
    ("not UTF-8", "积水".encode("gbk")),
    ("null", b"null"),
    ("a string", b'"x"'),
    ("huge array", b"[" + b"0," * 200_000 + b"0]"),
    ("nested nulls", json.dumps({"events": [None, [], {}, {"event_id": None}]}).encode()),
    ("wrong types", json.dumps({"output": 1, "outputs": None, "inputs": {}, "changedPropIds": [0]}).encode()),
    ("dash with unknown ids", json.dumps({
        "output": "nope.children", "outputs": {"id": "nope", "property": "children"},
        "inputs": [{"id": "x", "property": "value", "value": "NOPE"}], "changedPropIds": ["x.value"],
    }).encode()),
]  # fmt: skip
PATH_VALUES = ["NOPE-1", "x" * 5000, "%00", "..%2F..%2Fetc%2Fpasswd", "%E7%A7%AF%E6%B0%B4", "%FF%FE"]
QUERIES = ["", "?q=" + "x" * 5000, "?lang=xx&limit=-1&status=%FF", "?start_date=yesterday&page=999999999999"]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    folder = Path(str(tmp_path_factory.mktemp("fz", numbered=True)))
    config = folder / "config.yaml"
    config.write_text(
        "ingest:\n  tokens:\n    field_app: ${CB_TEST_TOKEN}\n"
        "open311:\n  api_keys:\n    citizen_app: ${CB_TEST_311_KEY}\n",
        encoding="utf-8",
    )
    mp = pytest.MonkeyPatch()
    mp.setenv("CB_TEST_TOKEN", TOKEN)
    mp.setenv("CB_TEST_311_KEY", API_KEY)
    from tests.support import temp_dir

    with temp_dir("cbfz-") as short:
        running = App(short, "--no-simulator", "--config", str(config)).start()
        yield running
        running.stop()
    mp.undo()


def send(url: str, method: str, body: bytes | None, ctype: str = "application/json") -> int:
    req = urllib.request.Request(url, data=body, method=method)
    req.add_header("Content-Type", ctype)
    req.add_header("Authorization", f"Bearer {TOKEN}")
    req.add_header("Origin", url.split("/", 3)[0] + "//" + url.split("/", 3)[2])
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


ROUTES_SCRIPT = """
import json, re, sys
from dashboard.config import AppConfig
from dashboard.web.app import create_app
app, _ = create_app(AppConfig(), sys.argv[1])
print(json.dumps(sorted({(m, re.sub(r"<[^>]+>", "{}", r.rule)) for r in app.server.url_map.iter_rules()
                         for m in r.methods - {"HEAD", "OPTIONS"}})))
"""


def routes(app: App) -> list[tuple[str, str]]:
    """Every (method, path) the web process serves (its Flask URL map, read by building the same app in a
    subprocess), variables as ``{}``."""
    out = subprocess.run(
        [sys.executable, "-c", ROUTES_SCRIPT, app.redis_url], cwd=ROOT, capture_output=True, text=True,
        timeout=120, check=True,
    )  # fmt: skip
    found = [(m, p) for m, p in json.loads(out.stdout.strip().splitlines()[-1])]
    assert ("POST", "/api/v1/case-events") in found and ("POST", "/_dash-update-component") in found
    return found


def test_no_input_gets_a_500_and_good_data_survives(app: App) -> None:
    r: Any = app.client()
    good = event(event_id="FUZZ-GOOD", case_id="FUZZ-C1")
    assert send(app.url + "/api/v1/case-events", "POST", json.dumps(good).encode()) == 202
    wait_for(lambda: r.hget(keys.CASE_INDEX, "FUZZ-C1"), 20, 0.1, "the good case")
    answers: dict[str, int] = {}
    for method, path in routes(app):
        for value in PATH_VALUES if "{}" in path else [""]:
            url = app.url + path.replace("{}", value)
            if method == "GET":
                for q in QUERIES:
                    answers[f"GET {path} {value[:20]} {q[:30]}"] = send(url + q, "GET", None)
                continue
            for name, body in BODIES:
                answers[f"POST {path} {value[:20]} {name}"] = send(url, "POST", body)
            answers[f"POST {path} form"] = send(
                url, "POST", b"a=%FF&b=" + b"x" * 10_000, "application/x-www-form-urlencoded"
            )
    fives = sorted(k for k, v in answers.items() if v >= 500 and v != 503)
    assert not fives, "\n".join(fives)
    ingest = {k: v for k, v in answers.items() if k.startswith("POST /api/v1/") and "-" in k.split()[1]}
    assert ingest and all(400 <= v < 500 for v in ingest.values()), ingest
    assert http_get(app.url + "/healthz")[0] == 200
    assert r.hget(keys.CASE_INDEX, "FUZZ-C1") is not None


def test_every_input_stream_survives_garbage(app: App) -> None:
    r: Any = app.client()
    raw = redis.Redis.from_url(app.redis_url)
    rnd = random.Random(13)
    before = r.xlen(keys.STREAM_DEAD_LETTER)
    garbage: list[dict[bytes, bytes]] = [
        {b"v": b"1", b"d": DEEP},
        {b"v": b"1", b"d": b'{"value":' + b"9" * 400 + b"}"},
        {b"v": b"1", b"d": b'{"note":"\\ud800"}'},
        {b"v": b"2", b"d": b"{}"},
        {b"d": b"{}"},
        {b"v": b"1", b"d": "积水".encode("gbk")},
        {b"x": b"y"},
        *({b"v": b"1", b"d": bytes(rnd.randrange(256) for _ in range(64))} for _ in range(5)),
    ]
    n = 0
    for stream in STREAM_OF.values():
        for entry in garbage:
            raw.xadd(stream, entry)  # type: ignore[arg-type]
            n += 1
    good = event(event_id="FUZZ-AFTER", case_id="FUZZ-C2")
    assert send(app.url + "/api/v1/case-events", "POST", json.dumps(good).encode()) == 202
    wait_for(lambda: r.hget(keys.CASE_INDEX, "FUZZ-C2"), 30, 0.1, "the good case after the garbage")
    assert r.xlen(keys.STREAM_DEAD_LETTER) - before == n
    for stream in STREAM_OF.values():
        assert int(r.xpending(stream, "processor")["pending"]) == 0
    status, body = http_get(app.url + "/healthz")
    assert status == 200 and body["dead_letters"] >= n and not body["roles"], body
    assert CELL  # the good events were placed in a known cell
