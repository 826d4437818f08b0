"""The alerts HTTP API over Flask's test client on a real Redis with a real alert engine (its clock held
still, so that the stored alerts stay as they are): tokens, unknown ids, bad fields named, acknowledge and
silence applied by the engine and answered with the new state, 503 without an engine; the active list
and the history with filters."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from dashboard.alerts import commands, store
from dashboard.alerts.config import AlertsConfig
from dashboard.alerts.engine import Engine
from dashboard.alerts.inputs import Areas
from dashboard.alerts.levels import LevelKey
from dashboard.alerts.machine import AlertError
from dashboard.alerts.model import AlertState, State, Transition
from dashboard.alerts.rules import load_rules
from dashboard.config import parse_config
from dashboard.store import keys
from dashboard.web.api import alerts as api

TOKEN = "test-token-wall"
T0 = 1_790_000_000_000


def put(r: Any, inst: str, level: LevelKey, fired: int, area: str, state: State = "firing") -> AlertState:
    """Store an alert (as the engine would) with a history entry."""
    rule = inst.split(":", 1)[0]
    st = AlertState(
        id=inst, rule=rule, key=inst.split(":", 1)[1], state=state, level=level,
        since=fired, started=fired, fired=fired, areas=(area, "ZM-C01", "ZM", "440604"), reason="test",
        resolved_at=fired if state == "resolved" else None,
    )  # fmt: skip
    tr = Transition(
        fired, inst, rule, 1, "pending", st.status, st.level, "yellow", "test", 1.0, areas=st.areas
    )
    with r.pipeline(transaction=True) as pipe:
        seq = int(r.get(keys.ALERT_SEQ) or 0)
        store.queue_changes(pipe, {inst: st}, (), [tr], seq, fired)
        pipe.execute()
    return st


# The rules of the stored alerts; with no readings and the clock held still they keep firing (clearing
# takes clear_for of clock time), so the engine only applies what people ask.
RULES = [
    {"name": name, "type": "threshold", "metric": "water_level", "above": 1.0, "clear": 0.5,
     "clear_for": "5m", "level": "yellow"}
    for name in ("flood", "gas-leak", "heat", "dispute")
]  # fmt: skip


def app_for(r: redis.Redis, timeout_s: float = 5.0) -> FlaskClient:
    """A Flask app with only the alerts blueprint, on the test Redis."""
    cfg = parse_config(
        {"ingest": {"tokens": {"wall": {"tokens": [TOKEN], "kinds": ["alerts"]}}},
         "alerts": {"command_timeout_s": timeout_s}}
    )  # fmt: skip
    app = Flask(__name__)
    app.register_blueprint(api.blueprint(cfg, r))
    return app.test_client()


@pytest.fixture
def client(r: redis.Redis) -> Iterator[FlaskClient]:
    """The alerts API, four stored alerts and an engine running beside it."""
    put(r, "flood:ZM-0001", "yellow", T0, "ZM-0001")
    put(r, "gas-leak:SEN-0003", "orange", T0 + 1000, "ZM-0002")
    put(r, "heat:ZM", "yellow", T0 + 2000, "ZM")
    put(r, "dispute:ZM-0003", "blue", T0 + 3000, "ZM-0003", state="resolved")
    cfg = AlertsConfig(eval_interval_ms=100)
    engine = Engine(r, cfg, load_rules(RULES), Areas("440604", {}), "api-test", clock=lambda: T0 + 4000)
    stop = threading.Event()
    thread = threading.Thread(target=engine.run, args=(stop,), daemon=True)
    thread.start()
    # the engine's first step (its first evaluation) is done once it has answered a command
    with pytest.raises(AlertError):
        commands.answer(r, commands.submit(r, "ack", "nope:0", "test"), 10)
    yield app_for(r)
    stop.set()
    thread.join(5)


def js(resp: Any) -> Any:
    """The JSON body of a test response."""
    return resp.get_json()


def post(client: FlaskClient, path: str, body: Any, token: str | None = TOKEN) -> Any:
    """POST JSON; return the response."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(path, json=body, headers=headers)


def test_tokens_are_required(client: FlaskClient) -> None:
    resp = post(client, "/api/v1/alerts/flood:ZM-0001/ack", {"actor": "王"}, token=None)
    assert resp.status_code == 401 and js(resp)["errors"][0]["field"] == "Authorization"
    resp = post(client, "/api/v1/alerts/flood:ZM-0001/silence", {"actor": "王"}, token="wrong")
    assert resp.status_code == 401


@pytest.mark.parametrize(
    ("path", "body", "status", "field"),
    [
        ("/api/v1/alerts/nope:1/ack", {"actor": "王"}, 404, "id"),
        ("/api/v1/alerts/nope:1/silence", {"actor": "王", "minutes": 30, "reason": "r"}, 404, "id"),
        ("/api/v1/alerts/flood:ZM-0001/ack", {}, 422, "actor"),
        ("/api/v1/alerts/flood:ZM-0001/ack", {"actor": "  "}, 422, "actor"),
        ("/api/v1/alerts/flood:ZM-0001/ack", {"actor": "王", "note": 5}, 422, "note"),
        ("/api/v1/alerts/flood:ZM-0001/ack", {"actor": "王", "by": "x"}, 400, "by"),
        ("/api/v1/alerts/flood:ZM-0001/ack", [1], 400, "body"),
        ("/api/v1/alerts/flood:ZM-0001/silence", {"actor": "王", "reason": "r"}, 422, "minutes"),
        (
            "/api/v1/alerts/flood:ZM-0001/silence",
            {"actor": "王", "minutes": 0, "reason": "r"},
            422,
            "minutes",
        ),
        (
            "/api/v1/alerts/flood:ZM-0001/silence",
            {"actor": "王", "minutes": "60", "reason": "r"},
            422,
            "minutes",
        ),
        ("/api/v1/alerts/flood:ZM-0001/silence", {"actor": "王", "minutes": 60}, 422, "reason"),
        ("/api/v1/alerts/flood:ZM-0001/silence", {"actor": "王", "minutes": 60, "reason": ""}, 422, "reason"),
        ("/api/v1/alerts/dispute:ZM-0003/ack", {"actor": "王"}, 409, "id"),  # resolved: nothing to take
    ],
)
def test_bad_requests_name_the_field(
    client: FlaskClient, path: str, body: Any, status: int, field: str
) -> None:
    resp = post(client, path, body)
    assert resp.status_code == status, js(resp)
    assert js(resp)["errors"][0]["field"] == field and js(resp)["error"]


def test_not_json(client: FlaskClient) -> None:
    resp = client.post(
        "/api/v1/alerts/flood:ZM-0001/ack",
        data="actor=王",
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert resp.status_code == 415 and js(resp)["errors"][0]["field"] == "Content-Type"


def test_ack_and_silence_answer_the_new_state(client: FlaskClient, r: Any) -> None:
    resp = post(client, "/api/v1/alerts/flood:ZM-0001/ack", {"actor": "王值班", "note": "已派人"})
    assert resp.status_code == 200
    alert = js(resp)["alert"]
    assert alert["status"] == "acknowledged" and alert["acked_by"] == "王值班" and js(resp)["via"] == "wall"
    resp = post(client, "/api/v1/alerts/flood:ZM-0001/ack", {"actor": "李"})
    assert resp.status_code == 409 and "already acknowledged by 王值班" in js(resp)["error"]
    resp = post(
        client, "/api/v1/alerts/heat:ZM/silence", {"actor": "李主任", "minutes": 90, "reason": "已发布预警"}
    )
    assert resp.status_code == 200
    alert = js(resp)["alert"]
    assert alert["status"] == "silenced" and alert["silence_reason"] == "已发布预警"
    assert alert["silenced_until"] > T0
    last = Transition.from_fields(r.xrevrange(keys.ALERT_HISTORY, count=1)[0][1])
    assert (last.actor, last.to_status, last.note) == ("李主任", "silenced", "已发布预警")
    stored = AlertState.from_json(r.hget(keys.ALERT_STATE, "flood:ZM-0001"))
    assert (stored.state, stored.acked_by, stored.ack_note) == ("acknowledged", "王值班", "已派人")


def test_without_an_engine_an_action_is_answered_503(r: redis.Redis) -> None:
    put(r, "flood:ZM-0001", "yellow", T0, "ZM-0001")
    resp = post(app_for(r, timeout_s=0.3), "/api/v1/alerts/flood:ZM-0001/ack", {"actor": "王值班"})
    assert resp.status_code == 503 and js(resp)["errors"][0]["field"] == "engine"
    assert resp.headers["Retry-After"] == "5"
    assert AlertState.from_json(r.hget(keys.ALERT_STATE, "flood:ZM-0001")).state == "firing"


def test_active_alerts_by_level_then_newest(client: FlaskClient, r: Any) -> None:
    resp = client.get("/api/v1/alerts")
    assert resp.status_code == 200
    ids = [a["id"] for a in js(resp)["alerts"]]
    assert ids == ["gas-leak:SEN-0003", "heat:ZM", "flood:ZM-0001"]  # resolved ones are not active
    assert js(resp)["seq"] == int(r.get(keys.ALERT_SEQ)) >= 4  # current: the four stored, then the engine's
    assert js(resp)["levels"]["red"]["name_zh"] == "特别严重"


def test_history_filters(client: FlaskClient) -> None:
    everything = js(client.get("/api/v1/alerts/history"))["history"]
    assert [h["instance"] for h in everything] == [
        "dispute:ZM-0003", "heat:ZM", "gas-leak:SEN-0003", "flood:ZM-0001",
    ]  # fmt: skip
    assert everything[0]["actor"] == "engine" and everything[0]["reason"] == "test"

    def ids(query: str) -> list[str]:
        resp = client.get(f"/api/v1/alerts/history?{query}")
        assert resp.status_code == 200, js(resp)
        return [h["instance"] for h in js(resp)["history"]]

    assert ids("level=yellow") == ["heat:ZM", "flood:ZM-0001"]
    assert ids("rule=gas-leak") == ["gas-leak:SEN-0003"]
    assert ids("area=ZM-0002") == ["gas-leak:SEN-0003"]
    assert ids("area=ZM-C01") == ["dispute:ZM-0003", "heat:ZM", "gas-leak:SEN-0003", "flood:ZM-0001"]
    assert ids(f"since={T0 + 1000}&until={T0 + 2000}") == ["heat:ZM", "gas-leak:SEN-0003"]
    assert ids("limit=2") == ["dispute:ZM-0003", "heat:ZM"]
    for query, field in (("level=purple", "level"), ("since=yesterday", "since"), ("limit=0", "limit")):
        resp = client.get(f"/api/v1/alerts/history?{query}")
        assert resp.status_code == 400 and js(resp)["errors"][0]["field"] == field


def test_unsilence_ends_a_silence_and_refuses_what_is_not_silenced(client: FlaskClient, r: Any) -> None:
    path = "/api/v1/alerts/heat:ZM/unsilence"
    resp = post(client, path, {"actor": "王值班"})
    assert resp.status_code == 409 and js(resp)["errors"][0]["field"] == "id"
    assert "not silenced" in js(resp)["error"]
    silence = {"actor": "李主任", "minutes": 60, "reason": "已发布预警"}
    assert post(client, "/api/v1/alerts/heat:ZM/silence", silence).status_code == 200
    for body, status, field in (
        ({}, 422, "actor"),
        ({"actor": " "}, 422, "actor"),
        ({"actor": "王", "note": 5}, 422, "note"),
        ({"actor": "王", "note": "x" * 501}, 422, "note"),
        ({"actor": "王", "minutes": 5}, 400, "minutes"),
        ([1], 400, "body"),
    ):
        resp = post(client, path, body)
        assert resp.status_code == status and js(resp)["errors"][0]["field"] == field, (body, js(resp))
    assert post(client, path, {"actor": "王"}, token=None).status_code == 401
    assert post(client, "/api/v1/alerts/nope:1/unsilence", {"actor": "王"}).status_code == 404
    resp = post(client, path, {"actor": "王值班", "note": "高温已缓解"})
    assert resp.status_code == 200, js(resp)
    alert = js(resp)["alert"]
    assert alert["status"] == "firing" and alert["silenced_until"] is None and js(resp)["via"] == "wall"
    last = Transition.from_fields(r.xrevrange(keys.ALERT_HISTORY, count=1)[0][1])
    assert (last.from_status, last.to_status, last.actor, last.note) == (
        "silenced",
        "firing",
        "王值班",
        "高温已缓解",
    )
    assert post(client, path, {"actor": "王值班"}).status_code == 409  # ended already
