"""POST /api/v1/case-events over a real socket on the real app: valid payloads, every kind of bad one
(rejected with a message naming it, nothing written), tokens, atomic batches and idempotency."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import redis

from dashboard.domain.catalogue import default_catalogue
from dashboard.domain.coords import wgs84_to_gcj02
from dashboard.domain.geo import Geography, load_default_geography
from dashboard.domain.registry import default_registry
from dashboard.store import keys
from tests.conftest import App, wait_for

TOKEN = "test-token-field-app"
API_KEY = "test-key-citizen-app"
MAX_BATCH = 50
MAX_BODY = 100_000
CELL = "ZM-0001"
CELL_AT = (113.112251, 23.038938)  # a WGS-84 point inside CELL (its inner point)
T0_MS = (int(time.time()) // 60 - 24 * 60) * 60_000  # yesterday, on a whole minute: never "in the future"
AHEAD_23H = int(time.time() * 1000) + 23 * 3_600_000  # a wrong clock (issue 13): refused, not kept
# (its message says how far ahead when the test runs: "22.9 h" once the suite has run a few minutes)
T0_ISO = datetime.fromtimestamp(T0_MS / 1000, ZoneInfo("Asia/Shanghai")).isoformat()  # with +08:00


def write_config(folder: Path, extra: str = "") -> Path:
    """A config file whose secrets come from the environment (CB_TEST_TOKEN, CB_TEST_311_KEY)."""
    path = folder / "config.yaml"
    path.write_text(
        "ingest:\n"
        "  tokens:\n"
        "    field_app: ${CB_TEST_TOKEN}\n"
        f"  max_batch: {MAX_BATCH}\n"
        f"  max_body_bytes: {MAX_BODY}\n"
        "open311:\n"
        "  api_keys:\n"
        "    citizen_app: ${CB_TEST_311_KEY}\n" + extra,
        encoding="utf-8",
    )
    return path


def post(
    url: str,
    body: Any,
    token: str | None = TOKEN,
    content_type: str = "application/json",
    timeout: float = 10.0,
) -> tuple[int, Any, dict[str, str]]:
    """POST ``body`` (bytes as they are, anything else as JSON); return (status, parsed body, headers)."""
    data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    req = urllib.request.Request(url, data=data, method="POST")
    req.add_header("Content-Type", content_type)
    if token is not None:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, raw, headers = resp.status, resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as err:
        status, raw, headers = err.code, err.read(), dict(err.headers)
    try:
        return status, json.loads(raw), headers
    except ValueError:
        return status, raw.decode("utf-8", "replace"), headers


def stream_events(r: redis.Redis) -> list[dict[str, Any]]:
    """Every case event in the input stream, decoded, oldest first."""
    client: Any = r
    return [json.loads(f["d"]) for _id, f in client.xrange(keys.STREAM_CASE_EVENTS)]


@pytest.fixture(scope="module")
def app() -> Iterator[App]:
    """The real app (run.py, embedded Redis, processor, web) without the simulator."""
    folder = Path(tempfile.mkdtemp(prefix="cbh-"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CB_TEST_TOKEN", TOKEN)
        mp.setenv("CB_TEST_311_KEY", API_KEY)
        a = App(folder, "--no-simulator", "--config", str(write_config(folder))).start()
    yield a
    a.stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def geo() -> Geography:
    """The shipped geography."""
    return load_default_geography()


@pytest.fixture
def r(app: App) -> Iterator[redis.Redis]:
    """A client on the app's Redis."""
    client = app.client()
    yield client
    client.close()


_n = iter(range(1, 1_000_000))


def event(**over: Any) -> dict[str, Any]:
    """A valid event with fresh ids; keyword arguments replace (or, as None, drop) fields."""
    n = next(_n)
    ev: dict[str, Any] = {
        "event_id": f"T-{os.getpid()}-{n}",
        "case_id": f"TC-{os.getpid()}-{n}",
        "time": T0_ISO,
        "step": "reported",
        "event_type": "CM-0101",
        "point": {"lon": CELL_AT[0], "lat": CELL_AT[1]},
        "actor": "网格员 张三",
        "note": "摊贩占道经营",
    }
    for k, v in over.items():
        if v is None:
            ev.pop(k, None)
        else:
            ev[k] = v
    return ev


def landed(r: redis.Redis, event_ids: list[str]) -> list[dict[str, Any]]:
    """Wait until these ids are in the stream; return the stream."""
    return wait_for(
        lambda: (s := stream_events(r)) and set(event_ids) <= {e["event_id"] for e in s} and s,
        10,
        0.05,
        f"events {event_ids[:3]} in the stream",
    )


def assert_nothing_written(app: App, r: redis.Redis, before: int) -> None:
    """Nothing was kept since ``before``: a valid sentinel posted now is the only new entry (FIFO sink)."""
    sentinel = event()
    status, body, _ = post(app.url + "/api/v1/case-events", sentinel)
    assert status == 202, body
    stream = landed(r, [sentinel["event_id"]])
    assert [e["event_id"] for e in stream[before:]] == [sentinel["event_id"]]


# --- accepted -------------------------------------------------------------------------------------


def test_single_event_is_accepted_with_catalogue_defaults(app: App, r: redis.Redis) -> None:
    ev = event()
    status, body, _ = post(app.url + "/api/v1/case-events", ev)
    assert status == 202, body
    assert body["accepted"] == 1 and body["duplicates"] == [] and body["dedupe"] == "checked"
    assert body["results"] == [
        {"index": 0, "event_id": ev["event_id"], "status": "accepted", "cell_id": CELL}
    ]
    rec = next(e for e in landed(r, [ev["event_id"]]) if e["event_id"] == ev["event_id"])
    et = default_catalogue().event_type("CM-0101")
    assert rec["source"] == "field_app"  # the token's source name
    assert rec["cell_id"] == CELL and (rec["lon"], rec["lat"]) == CELL_AT
    assert rec["category"] == et.category and rec["priority"] == et.priority
    assert rec["department"] is None  # a report has no department yet
    assert rec["ts"] == T0_MS
    assert rec["seq"] == 0 and rec["actor"] == "网格员 张三"


@pytest.mark.parametrize("shape", ["events", "list"])
def test_batch_is_kept_in_order(app: App, r: redis.Redis, shape: str) -> None:
    evs = [
        event(),
        event(step="dispatched", point=None, cell_id="ZM-0002", time=T0_MS, seq=1),
        event(
            event_type="PS-0101", point=None, cell_id=CELL, priority="urgent", photos=["https://x.test/1.jpg"]
        ),
    ]
    status, body, _ = post(app.url + "/api/v1/case-events", {"events": evs} if shape == "events" else evs)
    assert status == 202, body
    assert body["accepted"] == 3 and [x["status"] for x in body["results"]] == ["accepted"] * 3
    ids = [e["event_id"] for e in evs]
    stream = landed(r, ids)
    recs = [e for e in stream if e["event_id"] in ids]
    assert [e["event_id"] for e in recs] == ids
    cat = default_catalogue()
    assert recs[1]["department"] == cat.event_type("CM-0101").department  # dispatched: type's default
    assert recs[1]["cell_id"] == "ZM-0002" and recs[1]["lon"] is None
    assert recs[2]["category"] == cat.event_type("PS-0101").category and recs[2]["priority"] == "urgent"
    assert recs[2]["photos"] == ["https://x.test/1.jpg"]


def test_gcj02_point_is_converted_to_the_right_cell(app: App, r: redis.Redis, geo: Geography) -> None:
    lon, lat = geo.cells["ZM-0002"].centroid
    glon, glat = wgs84_to_gcj02(lon, lat)
    assert geo.cell_at(glon, glat) != "ZM-0002"  # read as WGS-84 the point would land elsewhere
    ev = event(point={"lon": glon, "lat": glat, "crs": "GCJ-02"})
    status, body, _ = post(app.url + "/api/v1/case-events", ev)
    assert status == 202, body
    assert body["results"][0]["cell_id"] == "ZM-0002"
    rec = next(e for e in landed(r, [ev["event_id"]]) if e["event_id"] == ev["event_id"])
    assert rec["lon"] == pytest.approx(lon, abs=1e-6) and rec["lat"] == pytest.approx(lat, abs=1e-6)


def test_script_in_note_is_kept_verbatim_as_text(app: App, r: redis.Redis) -> None:
    note = '<script>alert("x")</script> <img src=x onerror=alert(1)> 井盖缺失 & "quotes"\nline 2'
    ev = event(note=note)
    status, body, _ = post(app.url + "/api/v1/case-events", ev)
    assert status == 202, body
    rec = next(e for e in landed(r, [ev["event_id"]]) if e["event_id"] == ev["event_id"])
    assert rec["note"] == note


# --- rejected -------------------------------------------------------------------------------------

BAD: list[tuple[str, dict[str, Any], str, str]] = [  # id, replaced fields, error field, words in message
    ("missing field", {"step": None}, "step", "required"),
    ("missing event id", {"event_id": None}, "event_id", "required"),
    ("wrong type", {"seq": "3"}, "seq", "integer"),
    ("wrong type of point", {"point": {"lon": "113.1", "lat": 23.0}}, "point.lon", "number"),
    ("bad id", {"case_id": "a b/c"}, "case_id", "pattern"),
    ("unknown step", {"step": "done"}, "step", "reported"),
    ("unknown cell", {"point": None, "cell_id": "ZM-9999"}, "cell_id", "unknown grid cell 'ZM-9999'"),
    ("no location", {"point": None}, "cell_id", "cell_id or point"),
    ("unknown event type", {"event_type": "XX-0000"}, "event_type", "unknown event type 'XX-0000'"),
    ("wrong category", {"category": "disputes"}, "category", "city_management"),
    ("unknown department", {"department": "nobody"}, "department", "unknown department"),
    ("point outside", {"point": {"lon": 113.5, "lat": 23.3}}, "point", "(113.5, 23.3) is outside Chancheng"),
    ("wrong crs", {"point": {"lon": 113.1, "lat": 23.0, "crs": "BD-09"}}, "point.crs", "WGS-84, GCJ-02"),
    ("bad time", {"time": "yesterday"}, "time", "ISO-8601"),
    ("time without offset", {"time": T0_ISO[:19]}, "time", "UTC offset"),
    ("time in seconds", {"time": T0_MS // 1000}, "time", "seconds"),
    ("time as float", {"time": float(T0_MS)}, "time", "epoch milliseconds"),
    ("time in the future", {"time": "2099-01-01T00:00:00Z"}, "time", "future"),
    ("time a wrong clock's 23 h ahead", {"time": AHEAD_23H}, "time", " h in the future (at most 5 min ahead"),
    ("time in 2001", {"time": "2001-01-01T00:00:00Z"}, "time", "old (at most 90 d back"),
    ("note too long", {"note": "x" * 2001}, "note", "2000"),
    ("photo not a URL", {"photos": ["file:///etc/passwd"]}, "photos", "http(s) URL"),
    ("too many photos", {"photos": [f"https://x.test/{i}.jpg" for i in range(11)]}, "photos", "10"),
    ("unknown field", {"colour": "red"}, "colour", "unknown field"),
    ("unknown priority", {"priority": "high"}, "priority", "urgent"),
]


@pytest.mark.parametrize(("replace", "field", "words"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_event_is_rejected_naming_the_problem(
    app: App, r: redis.Redis, replace: dict[str, Any], field: str, words: str
) -> None:
    before = r.xlen(keys.STREAM_CASE_EVENTS)
    batch = [event(), event(), event(**replace)]  # two good ones and a bad one at index 2
    status, body, _ = post(app.url + "/api/v1/case-events", {"events": batch})
    assert status == 422, body
    assert any(e["index"] == 2 and e["field"] == field and words in e["message"] for e in body["errors"]), (
        body
    )
    assert {e["index"] for e in body["errors"]} == {2}
    assert "nothing was kept" in body["error"] and f"[2] {field}" in body["error"]
    assert_nothing_written(app, r, before)


def test_every_bad_item_is_named(app: App, r: redis.Redis) -> None:
    batch = [event(event_type="XX-1"), event(), "not an object", event(point={"lon": 1, "lat": 2})]
    status, body, _ = post(app.url + "/api/v1/case-events", batch)
    assert status == 422, body
    assert [(e["index"], e["field"]) for e in body["errors"]] == [
        (0, "event_type"),
        (2, "event"),
        (3, "point"),
    ]


ENVELOPES: list[tuple[str, Any, str, int, str]] = [  # id, body, content type, status, words
    ("non-JSON content type", b"event_id=1", "text/plain", 415, "application/json"),
    ("malformed JSON", b'{"event_id": ', "application/json", 400, "not valid JSON"),
    ("empty batch", {"events": []}, "application/json", 400, "no items"),
    ("events not a list", {"events": {"a": 1}}, "application/json", 400, "list"),
    ("key beside events", {"events": [], "source": "x"}, "application/json", 400, "unknown key"),
    (
        "batch over the limit",
        {"events": [{}] * (MAX_BATCH + 1)},
        "application/json",
        413,
        f"at most {MAX_BATCH}",
    ),
    ("oversize body", {"events": [{"note": "x" * MAX_BODY}]}, "application/json", 413, f"{MAX_BODY} bytes"),
]


@pytest.mark.parametrize(
    ("body", "ctype", "status", "words"), [e[1:] for e in ENVELOPES], ids=[e[0] for e in ENVELOPES]
)
def test_bad_request_body_is_rejected(
    app: App, r: redis.Redis, body: Any, ctype: str, status: int, words: str
) -> None:
    before = r.xlen(keys.STREAM_CASE_EVENTS)
    got, answer, _ = post(app.url + "/api/v1/case-events", body, content_type=ctype)
    assert got == status, answer
    assert words in answer["error"], answer
    assert_nothing_written(app, r, before)


def test_oversize_chunked_body_is_413(app: App, r: redis.Redis) -> None:
    """A body without Content-Length is cut at the limit by the server: that is 413, not bad JSON."""
    before = r.xlen(keys.STREAM_CASE_EVENTS)
    body = json.dumps({"events": [event(note="x" * MAX_BODY)]}).encode()
    conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=10)
    try:
        conn.request(
            "POST",
            "/api/v1/case-events",
            body=iter([body[i : i + 8192] for i in range(0, len(body), 8192)]),
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
            encode_chunked=True,
        )
        resp = conn.getresponse()
        status, answer = resp.status, json.loads(resp.read())
    finally:
        conn.close()
    assert status == 413 and f"{MAX_BODY} bytes" in answer["error"], answer
    assert_nothing_written(app, r, before)


@pytest.mark.parametrize("token", [None, "wrong-token", ""])
def test_missing_or_wrong_token_is_401(app: App, r: redis.Redis, token: str | None) -> None:
    before = r.xlen(keys.STREAM_CASE_EVENTS)
    status, body, headers = post(app.url + "/api/v1/case-events", event(), token=token)
    assert status == 401 and body["errors"][0]["field"] == "Authorization"
    assert headers.get("WWW-Authenticate", "").startswith("Bearer")
    assert_nothing_written(app, r, before)


# --- idempotency ----------------------------------------------------------------------------------


def test_same_batch_twice_is_kept_once(app: App, r: redis.Redis) -> None:
    batch = [event(), event(), event()]
    ids = [e["event_id"] for e in batch]
    status, first, _ = post(app.url + "/api/v1/case-events", batch)
    assert status == 202 and first["accepted"] == 3 and first["duplicates"] == []
    landed(r, ids)
    status, again, _ = post(app.url + "/api/v1/case-events", batch)
    assert status == 202, again
    assert again["accepted"] == 0 and again["duplicates"] == ids
    assert [x["status"] for x in again["results"]] == ["duplicate"] * 3
    before = r.xlen(keys.STREAM_CASE_EVENTS)
    assert_nothing_written(app, r, before)
    assert sorted(e["event_id"] for e in stream_events(r) if e["event_id"] in ids) == sorted(ids)


def test_duplicates_within_a_batch_count_once(app: App, r: redis.Redis) -> None:
    a, b = event(), event()
    status, body, _ = post(app.url + "/api/v1/case-events", [a, b, a, dict(a, note="changed")])
    assert status == 202, body
    assert body["accepted"] == 2 and body["duplicates"] == [a["event_id"], a["event_id"]]
    assert [x["status"] for x in body["results"]] == ["accepted", "accepted", "duplicate", "duplicate"]
    stream = landed(r, [a["event_id"], b["event_id"]])
    kept = [e for e in stream if e["event_id"] == a["event_id"]]
    assert len(kept) == 1 and kept[0]["note"] == a["note"]  # the first occurrence wins


# --- the device endpoints (same conventions) --------------------------------------------------------


def reading(**over: Any) -> dict[str, Any]:
    """A valid smoke reading of SEN-0001."""
    item: dict[str, Any] = {
        "sensor_id": "SEN-0001",
        "metric": "smoke",
        "value": 0.02,
        "unit": "dB/m",
        "time": T0_ISO,
    }
    item.update(over)
    return {k: v for k, v in item.items() if v is not None}


def test_sensor_readings_and_camera_statuses_are_kept(app: App, r: redis.Redis) -> None:
    client: Any = r
    reg = default_registry()
    before = client.xlen(keys.STREAM_SENSOR_READINGS)
    status, body, _ = post(
        app.url + "/api/v1/sensor-readings", {"readings": [reading(), reading(value=0.03)]}
    )
    assert status == 202 and body == {"accepted": 2}, body
    wait_for(lambda: client.xlen(keys.STREAM_SENSOR_READINGS) == before + 2, 10, 0.05)
    last = json.loads(client.xrevrange(keys.STREAM_SENSOR_READINGS, count=1)[0][1]["d"])
    assert last["value"] == 0.03 and last["cell_id"] == reg.sensors["SEN-0001"].cell_id
    assert last["ts"] == T0_MS

    before = client.xlen(keys.STREAM_CAMERA_STATUS)
    statuses = [{"camera_id": "CAM-00001", "status": "offline", "time": T0_MS}]
    status, body, _ = post(app.url + "/api/v1/camera-status", {"statuses": statuses})
    assert status == 202 and body == {"accepted": 1}, body
    wait_for(lambda: client.xlen(keys.STREAM_CAMERA_STATUS) == before + 1, 10, 0.05)
    last = json.loads(client.xrevrange(keys.STREAM_CAMERA_STATUS, count=1)[0][1]["d"])
    assert last["status"] == "offline" and last["cell_id"] == reg.cameras["CAM-00001"].cell_id


BAD_DEVICE: list[tuple[str, str, dict[str, Any], str, str]] = [  # id, path, item, field, words
    ("unknown sensor", "sensor-readings", reading(sensor_id="SEN-9999"), "sensor_id", "unknown sensor"),
    ("wrong metric", "sensor-readings", reading(metric="gas"), "metric", "measures smoke"),
    ("wrong unit", "sensor-readings", reading(unit="ppm"), "unit", "dB/m"),
    ("out of range", "sensor-readings", reading(value=99.0), "value", "physical range"),
    ("value not a number", "sensor-readings", reading(value="0.1"), "value", "number"),
    ("missing time", "sensor-readings", reading(time=None), "time", "required"),
    ("bad time", "sensor-readings", reading(time="08:30"), "time", "ISO-8601"),
    ("time 23 h ahead", "sensor-readings", reading(time=AHEAD_23H), "time", " h in the future (at most 5"),
    ("time in 2001", "sensor-readings", reading(time="2001-01-01T00:00:00+08:00"), "time", "old"),
    ("status 23 h ahead", "camera-status", {"camera_id": "CAM-00001", "status": "online", "time": AHEAD_23H},
     "time", "in the future"),
    ("extra field", "sensor-readings", reading(battery=3.1), "battery", "unknown field"),
    ("unknown camera", "camera-status", {"camera_id": "CAM-X", "status": "online", "time": T0_MS},
     "camera_id", "unknown camera"),
    ("bad status", "camera-status", {"camera_id": "CAM-00001", "status": "broken", "time": T0_MS},
     "status", "online, offline or fault"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "item", "field", "words"), [b[1:] for b in BAD_DEVICE], ids=[b[0] for b in BAD_DEVICE]
)
def test_bad_device_items_are_rejected(
    app: App, r: redis.Redis, path: str, item: dict[str, Any], field: str, words: str
) -> None:
    client: Any = r
    stream = keys.STREAM_SENSOR_READINGS if path == "sensor-readings" else keys.STREAM_CAMERA_STATUS
    good = (
        reading()
        if path == "sensor-readings"
        else {"camera_id": "CAM-00002", "status": "online", "time": T0_MS}
    )
    before = client.xlen(stream)
    status, body, _ = post(app.url + f"/api/v1/{path}", [good, item])
    assert status == 422, body
    assert [(e["index"], e["field"]) for e in body["errors"]] == [(1, field)], body
    assert words in body["errors"][0]["message"] and "nothing was kept" in body["error"]
    status, body, _ = post(app.url + f"/api/v1/{path}", [good], token="wrong")
    assert status == 401
    status, body, _ = post(app.url + f"/api/v1/{path}", [good])  # a sentinel after the rejected ones
    assert status == 202
    wait_for(lambda: client.xlen(stream) == before + 1, 10, 0.05, "only the sentinel")
