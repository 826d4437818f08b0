"""The audit trail (issue 15, item 4): every action on a warning, over the API or from the screens, is
recorded with who, how, what, where, when and the outcome, refusals included; the trail is append-only
and trimmed by age as it grows. Against a real Redis."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from dashboard.store import audit, keys
from tests.test_alerts_api import client, post  # noqa: F401  (the alerts API with an engine beside it)

DAY = audit.DAY_MS


def test_an_acknowledgement_is_recorded_with_who_what_where_and_outcome(client: FlaskClient, r: Any) -> None:  # noqa: F811
    assert (
        post(client, "/api/v1/alerts/flood:ZM-0001/ack", {"actor": "王值班", "note": "已派人"}).status_code
        == 200
    )
    (entry,) = audit.read(r, action="ack")
    assert entry["user"] == "王值班" and entry["via"] == "token:wall" and entry["target"] == "flood:ZM-0001"
    assert entry["area"] == "ZM-0001" and entry["outcome"] == "ok" and entry["detail"] == "已派人"
    assert int(entry["ts"]) > 0


def test_a_refused_action_is_recorded_with_why(client: FlaskClient, r: Any) -> None:  # noqa: F811
    post(client, "/api/v1/alerts/flood:ZM-0001/ack", {"actor": "王值班"})
    resp = post(client, "/api/v1/alerts/flood:ZM-0001/ack", {"actor": "李"})
    assert resp.status_code == 409
    newest = audit.read(r, action="ack")[0]
    assert newest["user"] == "李" and newest["outcome"].startswith("refused 409: ")
    assert "already acknowledged" in newest["outcome"]
    assert (
        post(
            client, "/api/v1/alerts/nope:1/silence", {"actor": "李", "minutes": 30, "reason": "x"}
        ).status_code
        == 404
    )
    assert audit.read(r, action="silence")[0]["outcome"].startswith("refused 404")


def test_the_trail_is_trimmed_by_age_and_filtered(r: Any) -> None:
    import time

    now = int(time.time() * 1000)
    fields = {k: "" for k in audit.FIELDS}
    # two entries from the past (written as they were then: a stream's id is its time)
    r.xadd(
        keys.AUDIT,
        {**fields, "ts": str(now - 40 * DAY), "user": "old", "action": "ack"},
        id=f"{now - 40 * DAY}-0",
    )
    r.xadd(
        keys.AUDIT,
        {**fields, "ts": str(now - 10 * DAY), "user": "recent", "action": "ack"},
        id=f"{now - 10 * DAY}-0",
    )
    audit.record(r, "silence", "now", target="c", keep_days=30, now_ms=now)
    users = [e["user"] for e in audit.read(r)]
    assert users == ["now", "recent"]  # newest first; the 40-day-old entry is gone
    assert r.xlen(keys.AUDIT) == 2
    assert [e["user"] for e in audit.read(r, action="ack")] == ["recent"]
    assert [e["user"] for e in audit.read(r, user="now")] == ["now"]
    assert [e["user"] for e in audit.read(r, since_ms=now - DAY)] == ["now"]
    # entries in the same millisecond all land
    for name in ("twin1", "twin2"):
        audit.record(r, "ack", name, keep_days=30, now_ms=now)
    assert {"twin1", "twin2"} <= {e["user"] for e in audit.read(r)}


def test_an_unreachable_redis_never_fails_the_action(r: Any) -> None:
    import redis

    dead = redis.Redis(unix_socket_path="/nonexistent/redis.sock", decode_responses=True)
    assert audit.record(dead, "ack", "x") is None
