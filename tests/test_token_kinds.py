"""Ingest tokens scoped to record kinds and rotatable (issue 15, item 3), over real HTTP against the whole
system: a device's token posts readings but neither case events nor anything about warnings (403 naming
the kind); a duty system's alerts-token acknowledges; both tokens of a source being rotated work; the
old one-string form still posts the ingest kinds. And the first start makes the first admin, printing a
generated password once."""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard.config import ConfigError, parse_config
from dashboard.store.users import Users
from tests.conftest import App, http_get, http_post, wait_for
from tests.test_http_cases import event

FIELD, IOT_OLD, IOT_NEW, DUTY = "t-field-app-1", "t-iot-old-22", "t-iot-new-333", "t-duty-4444"
SENSOR, RULE = "SEN-0007", "flood-kinds"  # a water-level gauge of the registry
ALERT_ID = f"{RULE}:{SENSOR}"

CONFIG = f"""\
ingest:
  tokens:
    field_app: ${{CB_TEST_FIELD}}
    iot: {{tokens: ["${{CB_TEST_IOT_OLD}}", "${{CB_TEST_IOT_NEW}}"], kinds: [sensor-readings, camera-status]}}
    duty: {{tokens: ["${{CB_TEST_DUTY}}"], kinds: [alerts]}}
alerts:
  rules:
  - {{name: {RULE}, type: threshold, metric: water_level, per: sensor, above: 0.30, clear: 0.15, for: 0s,
     level: red}}
"""


@pytest.fixture(scope="module")
def app() -> Iterator[App]:
    """The whole system without the simulator, three sources and one rule that fires at once."""
    d = Path(tempfile.mkdtemp(prefix="cbk-"))  # short: the Redis socket path must stay short
    cfg = d / "config.yaml"
    cfg.write_text(CONFIG, encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        for var, value in [("CB_TEST_FIELD", FIELD), ("CB_TEST_IOT_OLD", IOT_OLD),
                           ("CB_TEST_IOT_NEW", IOT_NEW), ("CB_TEST_DUTY", DUTY)]:  # fmt: skip
            mp.setenv(var, value)
        mp.delenv("CB_ADMIN_PASSWORD", raising=False)
        a = App(d, "--no-simulator", "--config", str(cfg)).start()
    yield a
    a.stop()
    shutil.rmtree(d, ignore_errors=True)


def reading(value: float) -> dict[str, object]:
    """One water-level reading of the gauge, now."""
    return {"sensor_id": SENSOR, "metric": "water_level", "value": value, "unit": "m",
            "time": int(time.time() * 1000)}  # fmt: skip


def camera() -> dict[str, object]:
    """One camera status, now."""
    return {"camera_id": "CAM-00001", "status": "online", "time": int(time.time() * 1000)}


def refused(status: int, answer: object, kind: str) -> bool:
    """A 403 whose message names the kind."""
    text = str(answer)
    return status == 403 and f"may not use {kind}" in text and "ingest.tokens" in text


def test_a_device_token_posts_readings_only(app: App) -> None:
    for token in (IOT_OLD, IOT_NEW):  # a source being rotated: both of its tokens work
        status, answer = http_post(f"{app.url}/api/v1/sensor-readings", {"readings": [reading(0.1)]}, token)
        assert status == 202, answer
        status, answer = http_post(f"{app.url}/api/v1/camera-status", {"statuses": [camera()]}, token)
        assert status == 202, answer
        status, answer = http_post(f"{app.url}/api/v1/case-events", {"events": [event()]}, token)
        assert refused(status, answer, "case-events"), answer
        status, answer = http_post(f"{app.url}/api/v1/alerts/{ALERT_ID}/ack", {"actor": "设备"}, token)
        assert refused(status, answer, "alerts"), answer


def test_the_short_form_posts_every_ingest_kind_but_no_alerts(app: App) -> None:
    status, answer = http_post(f"{app.url}/api/v1/case-events", {"events": [event()]}, FIELD)
    assert status == 202, answer
    status, answer = http_post(f"{app.url}/api/v1/sensor-readings", {"readings": [reading(0.1)]}, FIELD)
    assert status == 202, answer
    status, answer = http_post(f"{app.url}/api/v1/camera-status", {"statuses": [camera()]}, FIELD)
    assert status == 202, answer
    for action, body in [("ack", {"actor": "王"}), ("unsilence", {"actor": "王"}),
                         ("silence", {"actor": "王", "minutes": 10080, "reason": "一周"})]:  # fmt: skip
        status, answer = http_post(f"{app.url}/api/v1/alerts/{ALERT_ID}/{action}", body, FIELD)
        assert refused(status, answer, "alerts"), answer


def test_an_alerts_token_acknowledges_and_posts_nothing(app: App) -> None:
    status, answer = http_post(f"{app.url}/api/v1/sensor-readings", {"readings": [reading(0.1)]}, DUTY)
    assert refused(status, answer, "sensor-readings"), answer
    status, answer = http_post(f"{app.url}/api/v1/case-events", {"events": [event()]}, DUTY)
    assert refused(status, answer, "case-events"), answer
    assert http_post(f"{app.url}/api/v1/sensor-readings", {"readings": [reading(0.45)]}, IOT_NEW)[0] == 202

    def firing() -> bool:
        _, body = http_get(f"{app.url}/api/v1/alerts")
        return any(a["id"] == ALERT_ID and a["status"] == "firing" for a in body["alerts"])

    wait_for(firing, 30, what="the flood warning firing")
    status, answer = http_post(f"{app.url}/api/v1/alerts/{ALERT_ID}/ack", {"actor": "王值班"}, DUTY)
    assert status == 200, answer
    assert answer["via"] == "duty" and answer["alert"]["status"] == "acknowledged"


def test_unknown_and_missing_tokens_are_401(app: App) -> None:
    for token in ("not-a-token", None):
        status, answer = http_post(f"{app.url}/api/v1/sensor-readings", {"readings": [reading(0.1)]}, token)
        assert status == 401, answer


def test_the_first_start_prints_the_first_admins_password_once(app: App) -> None:
    def lines() -> list[str]:
        return [ln for ln in app.log.read_text(errors="replace").splitlines() if "first admin" in ln]

    wait_for(lambda: lines(), 30, what="the first admin's line")
    (line,) = lines()
    m = re.search(r"user 'admin', password (\S+) ", line)
    assert m is not None, line
    client = app.client()
    admin = Users(client).verify("admin", m.group(1), int(time.time() * 1000))
    assert admin is not None and admin.roles == ("admin",)
    assert app.log.read_text(errors="replace").count(m.group(1)) == 1  # printed once, logged nowhere
    client.close()


# ------------------------------------------------------------------------------ the config's two forms


def test_token_config_forms() -> None:
    tokens = parse_config({"ingest": {"tokens": {
        "field_app": "a-token",
        "iot": {"tokens": ["new-token", "old-token"], "kinds": ["sensor-readings"]},
        "duty": {"tokens": ["duty-token"], "kinds": ["alerts"]},
    }}}).ingest.tokens  # fmt: skip
    assert tokens["field_app"].tokens == ["a-token"]
    assert tokens["field_app"].kinds == ["case-events", "sensor-readings", "camera-status"]  # not alerts
    assert tokens["iot"].tokens == ["new-token", "old-token"] and tokens["iot"].kinds == ["sensor-readings"]
    assert tokens["duty"].kinds == ["alerts"]


@pytest.mark.parametrize(
    ("tokens", "says"),
    [
        (
            {"a": "same-token", "b": {"tokens": ["same-token"]}},
            "ingest.tokens: sources 'a' and 'b' share a token",
        ),
        ({"a": {"tokens": []}}, "ingest.tokens.a.tokens: List should have at least 1 item"),
        (
            {"a": {"tokens": ["t"], "kinds": ["cases"]}},
            "ingest.tokens.a.kinds.0: Input should be 'case-events'",
        ),
        ({"a": {"tokens": ["t"], "kinds": []}}, "ingest.tokens.a.kinds: List should have at least 1 item"),
        (
            {"a": {"tokens": ["t"], "scope": "x"}},
            "ingest.tokens.a.scope: unknown key (expected one of: tokens, kinds)",
        ),
        ({"a": {"kinds": ["alerts"]}}, "ingest.tokens.a.tokens: Field required"),
    ],
)
def test_bad_token_configs_are_named(tokens: dict[str, object], says: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config({"ingest": {"tokens": tokens}})
    assert says in str(err.value)
    assert "same-token" not in str(err.value)  # a token is never shown
