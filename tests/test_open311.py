"""Open311 GeoReport v2 as a client speaks it: urllib over a real socket to the real app."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis

from dashboard.domain.catalogue import default_catalogue
from dashboard.store import keys
from dashboard.store.records import CaseEvent, encode
from tests.conftest import App, wait_for
from tests.test_http_cases import API_KEY, CELL, CELL_AT, TOKEN, stream_events, write_config

V2 = "/open311/v2"


def call(
    url: str, data: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Any, dict[str, str]]:
    """GET (or POST ``data``) a URL; return (status, parsed JSON, headers)."""
    req = urllib.request.Request(url, data=data, headers=headers or {}, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            status, raw, hdrs = resp.status, resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as err:
        status, raw, hdrs = err.code, err.read(), dict(err.headers)
    return status, json.loads(raw), hdrs


def post_form(url: str, fields: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
    """POST form-encoded fields, as most Open311 clients do."""
    return call(
        url,
        urllib.parse.urlencode(fields).encode(),
        {"Content-Type": "application/x-www-form-urlencoded"},
    )


def is_spec_error(body: Any, code: int) -> bool:
    """The spec's error format: a list of {code, description}."""
    return (
        isinstance(body, list)
        and len(body) >= 1
        and body[0]["code"] == code
        and isinstance(body[0]["description"], str)
        and body[0]["description"] != ""
    )


def iso(dt: datetime) -> str:
    """A date-time as the spec wants it (with offset), URL-safe."""
    return urllib.parse.quote(dt.isoformat(timespec="seconds"))


@pytest.fixture(scope="module")
def app() -> Iterator[App]:
    """The real app without the simulator (simulator cases are written into the stream directly)."""
    folder = Path(tempfile.mkdtemp(prefix="cbo-"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CB_TEST_TOKEN", TOKEN)
        mp.setenv("CB_TEST_311_KEY", API_KEY)
        a = App(folder, "--no-simulator", "--config", str(write_config(folder))).start()
    yield a
    a.stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def r(app: App) -> Iterator[redis.Redis]:
    """A client on the app's Redis."""
    client = app.client()
    yield client
    client.close()


def report(**over: str) -> dict[str, str]:
    """The fields of a citizen's report of street vending in CELL (with personal fields to drop)."""
    fields = {
        "api_key": API_KEY,
        "service_code": "CM-0101",
        "lat": str(CELL_AT[1]),
        "long": str(CELL_AT[0]),
        "description": "人行道上有流动摊贩 <b>占道</b>",
        "media_url": "https://photos.example.test/abc.jpg",
        "email": "citizen@example.test",
        "first_name": "小明",
        "last_name": "李",
        "phone": "13800000000",
        "device_id": "device-42",
    }
    fields.update(over)
    return {k: v for k, v in fields.items() if v != ""}


def test_services_are_the_catalogue(app: App) -> None:
    cat = default_catalogue()
    status, services, headers = call(app.url + V2 + "/services.json")
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    assert len(services) == 247 == len(cat.event_types)
    assert {s["group"] for s in services} == {k.name_zh for k in cat.categories.values()}  # default zh-CN
    first = services[0]
    assert set(first) == {
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    }
    assert first["metadata"] is False and first["type"] == "realtime"
    assert first["service_name"] == cat.event_type(first["service_code"]).name_zh

    _, en, _ = call(app.url + V2 + "/services.json?locale=en")
    assert {s["group"] for s in en} == {k.name_en for k in cat.categories.values()}
    _, accept_en, _ = call(app.url + V2 + "/services.json", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert accept_en == en

    status, definition, _ = call(app.url + V2 + "/services/CM-0101.json")
    assert status == 200 and definition == {"service_code": "CM-0101", "attributes": []}
    status, body, _ = call(app.url + V2 + "/services/XX-9999.json")
    assert status == 404 and is_spec_error(body, 404) and "XX-9999" in body[0]["description"]
    status, body, _ = call(app.url + V2 + "/services.xml")
    assert status == 400 and is_spec_error(body, 400) and "XML" in body[0]["description"]
    status, body, _ = call(app.url + "/open311/discovery.json")
    assert status == 200 and body["endpoints"][0]["url"].endswith(V2)


def test_post_a_request_and_follow_it(app: App, r: redis.Redis) -> None:
    before = time.time()
    status, body, _ = post_form(app.url + V2 + "/requests.json", report())
    assert status == 201, body
    assert len(body) == 1 and body[0]["account_id"] is None and body[0]["service_notice"]
    rid = body[0]["service_request_id"]
    assert re.fullmatch(r"311-\d{8}-[0-9A-F]{10}", rid)

    # the case event in the stream: the citizen's personal fields are not kept anywhere in it
    rec = wait_for(lambda: next((e for e in stream_events(r) if e["case_id"] == rid), None), 10, 0.05)
    assert rec["source"] == "open311" and rec["step"] == "reported" and rec["cell_id"] == CELL
    assert rec["actor"] == "citizen_app" and rec["note"] == "人行道上有流动摊贩 <b>占道</b>"
    assert rec["photos"] == ["https://photos.example.test/abc.jpg"]
    raw = json.dumps(rec, ensure_ascii=False)
    assert not any(p in raw for p in ("citizen@example.test", "小明", "13800000000", "device-42"))

    # GET by id: 404 in the spec's format until processed, then open with agency and expected time
    def fetched() -> Any:
        got_status, got, _ = call(app.url + V2 + f"/requests/{rid}.json?locale=en")
        return got if got_status == 200 else None

    got = wait_for(fetched, 15, 0.1, "the request to be processed")
    assert len(got) == 1
    req = got[0]
    et = default_catalogue().event_type("CM-0101")
    dept = default_catalogue().departments[et.department]
    assert req["service_request_id"] == rid and req["status"] == "open"
    assert req["service_code"] == "CM-0101" and req["service_name"] == et.name_en
    assert req["agency_responsible"] == dept.name_en
    assert req["description"] == "人行道上有流动摊贩 <b>占道</b>"
    assert req["lat"] == CELL_AT[1] and req["long"] == CELL_AT[0] and req["address_id"] == CELL
    assert "Tapo Community Grid 1" in req["address"]
    assert req["media_url"] == "https://photos.example.test/abc.jpg"
    requested = datetime.fromisoformat(req["requested_datetime"])
    assert abs(requested.timestamp() - before) < 5 and requested.utcoffset() == timedelta(hours=8)
    expected = datetime.fromisoformat(req["expected_datetime"])
    assert expected - requested == timedelta(hours=24)  # a normal-priority type's SLA
    assert datetime.fromisoformat(req["updated_datetime"]) >= requested

    # GET requests with filters
    since = datetime.now(UTC) - timedelta(hours=1)
    url = app.url + V2 + f"/requests.json?service_code=CM-0101&status=open&start_date={iso(since)}"
    status, listed, _ = call(url)
    assert status == 200 and rid in [x["service_request_id"] for x in listed]
    assert all(x["service_code"] == "CM-0101" and x["status"] == "open" for x in listed)
    for other in (
        "service_code=DS-0101",
        "status=closed",
        f"start_date={iso(datetime.now(UTC) + timedelta(hours=1))}",
    ):
        _, listed, _ = call(app.url + V2 + f"/requests.json?{other}")
        assert rid not in [x["service_request_id"] for x in listed], other
    _, listed, _ = call(app.url + V2 + f"/requests.json?service_request_id={rid},nope")
    assert [x["service_request_id"] for x in listed] == [rid]


def test_post_as_json_with_api_key_in_the_query(app: App) -> None:
    fields: dict[str, Any] = report(api_key="", media_url="", description="井盖缺失", service_code="PS-0101")
    fields.update(lat=CELL_AT[1], long=CELL_AT[0])  # numbers in JSON
    status, body, _ = call(
        app.url + V2 + f"/requests.json?api_key={API_KEY}",
        json.dumps(fields).encode(),
        {"Content-Type": "application/json"},
    )
    assert status == 201, body
    assert body[0]["service_request_id"].startswith("311-")


BAD: list[tuple[str, dict[str, str], int, str]] = [  # id, changed fields, status, words
    ("no api_key", {"api_key": ""}, 403, "api_key"),
    ("unknown api_key", {"api_key": "guess"}, 403, "api_key"),
    ("no service_code", {"service_code": ""}, 400, "service_code was not provided"),
    ("unknown service_code", {"service_code": "XX-0000"}, 404, "XX-0000"),
    (
        "address only",
        {"lat": "", "long": "", "address_string": "祖庙路 1 号"},
        400,
        "location point is required",
    ),
    ("no location", {"lat": "", "long": ""}, 400, "lat and long"),
    ("lat without long", {"long": ""}, 400, "long"),
    ("lat not a number", {"lat": "north"}, 400, "not a number"),
    ("outside the district", {"lat": "23.3", "long": "113.5"}, 400, "outside Chancheng District"),
    ("other jurisdiction", {"jurisdiction_id": "110101"}, 404, "jurisdiction_id"),
    ("description too long", {"description": "x" * 2001}, 400, "2000"),
    ("media_url not http", {"media_url": "javascript:alert(1)"}, 400, "media_url"),
]


@pytest.mark.parametrize(("change", "status", "words"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_requests_get_the_spec_error_format(
    app: App, r: redis.Redis, change: dict[str, str], status: int, words: str
) -> None:
    before = r.xlen(keys.STREAM_CASE_EVENTS)
    fields = report()
    fields.update(change)
    got, body, _ = post_form(app.url + V2 + "/requests.json", {k: v for k, v in fields.items() if v})
    assert got == status and is_spec_error(body, status), body
    assert words in body[0]["description"], body
    # nothing was kept: a good report posted now through the same (first in, first out) sink is the only
    # new entry once it has landed
    status, sent, _ = post_form(app.url + V2 + "/requests.json", report())
    assert status == 201, sent
    rid = sent[0]["service_request_id"]
    wait_for(lambda: any(e["case_id"] == rid for e in stream_events(r)), 10, 0.05, "the good report")
    assert [e["case_id"] for e in stream_events(r)[before:]] == [rid]


def test_cases_of_every_source_are_listed(app: App, r: redis.Redis) -> None:
    now = int(time.time() * 1000)
    base = {"event_type": "DS-0101", "category": "disputes", "cell_id": "ZM-0002", "source": "simulator"}
    events = [
        CaseEvent(event_id="SIM-T-1-00", case_id="SIM-T-1", seq=0, ts=now - 60_000, step="reported", **base),
        CaseEvent(event_id="SIM-T-1-01", case_id="SIM-T-1", seq=1, ts=now - 50_000, step="cancelled", **base),
        CaseEvent(event_id="SIM-T-2-00", case_id="SIM-T-2", seq=0, ts=now - 40_000, step="reported", **base),
        CaseEvent(
            event_id="SIM-T-2-01", case_id="SIM-T-2", seq=1, ts=now - 35_000, step="registered", **base
        ),
        CaseEvent(
            event_id="SIM-T-2-02",
            case_id="SIM-T-2",
            seq=2,
            ts=now - 30_000,
            step="dispatched",
            department="local_community",
            **base,
        ),
    ]
    client: Any = r
    for e in events:
        client.xadd(keys.STREAM_CASE_EVENTS, encode(e))

    def listed() -> dict[str, Any]:
        _, body, _ = call(app.url + V2 + "/requests.json?service_code=DS-0101&locale=en")
        return {x["service_request_id"]: x for x in body if x["service_request_id"].startswith("SIM-T-")}

    def both_applied() -> dict[str, Any] | None:
        got = listed()
        done = got.get("SIM-T-1", {}).get("status") == "closed"
        return got if done and "Dispatched" in got.get("SIM-T-2", {}).get("status_notes", "") else None

    found = wait_for(both_applied, 15, 0.1, "the simulator's cases to be applied")
    assert found["SIM-T-1"]["status"] == "closed" and found["SIM-T-1"]["status_notes"].startswith("Cancelled")
    assert found["SIM-T-2"]["status"] == "open" and "Dispatched" in found["SIM-T-2"]["status_notes"]
    assert found["SIM-T-2"]["lat"] is not None  # no point reported: the cell's centre stands in
    _, body, _ = call(app.url + V2 + "/requests.json?status=closed&service_code=DS-0101")
    assert [x["service_request_id"] for x in body if x["service_request_id"].startswith("SIM-T-")] == [
        "SIM-T-1"
    ]
    _, body, _ = call(app.url + V2 + "/requests/SIM-T-2.json")
    assert body[0]["agency_responsible"] == default_catalogue().departments["local_community"].name_zh


def test_request_errors(app: App) -> None:
    status, body, _ = call(app.url + V2 + "/requests/311-20000101-NOPE.json")
    assert status == 404 and is_spec_error(body, 404)
    now = datetime.now(UTC)
    status, body, _ = call(
        app.url + V2 + f"/requests.json?start_date={iso(now - timedelta(days=100))}&end_date={iso(now)}"
    )
    assert status == 400 and "90 days" in body[0]["description"]
    status, body, _ = call(app.url + V2 + "/requests.json?start_date=yesterday")
    assert status == 400 and "start_date" in body[0]["description"]
    status, body, _ = call(app.url + V2 + "/requests.json?status=pending")
    assert status == 400 and is_spec_error(body, 400)
    status, body, _ = call(app.url + V2 + "/requests.json?jurisdiction_id=110101")
    assert status == 404 and is_spec_error(body, 404)
