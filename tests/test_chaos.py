"""Chaos (issue 13): under a bounded stream of known case events, kill -9 each role in turn and the
embedded Redis. Every event answered 202 ends up in the read models (compared with what was sent), and
/healthz says 503 with a reason during each outage (no answer at all while the web process itself is
down) and 200 after."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dashboard.store import keys
from tests.conftest import App, http_get, wait_for
from tests.support import VICTIMS, CaseSender
from tests.test_http_cases import API_KEY, CELL, TOKEN

BATCH = 5
WHY = {  # what /healthz names while each is down
    "processor": "processor down",
    "feeds": "feeds down",
    "redis-server": "redis unreachable",
    "web": "no answer",
}


@pytest.fixture
def app(short_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    config = short_tmp / "config.yaml"
    config.write_text(
        "ingest:\n  tokens:\n    field_app: ${CB_TEST_TOKEN}\n"
        "open311:\n  api_keys:\n    citizen_app: ${CB_TEST_311_KEY}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("CB_TEST_TOKEN", TOKEN)
    monkeypatch.setenv("CB_TEST_311_KEY", API_KEY)
    running = App(short_tmp, "--no-simulator", "--config", str(config)).start()
    yield running
    running.stop()


def test_kill_every_role_and_redis_and_lose_nothing_answered_202(app: App) -> None:
    sender = CaseSender(app.url, TOKEN, CELL)
    sender.start()
    seen: dict[str, list[str]] = {}
    try:
        wait_for(lambda: len(sender.accepted) >= 20, 30, 0.1, "the first accepted events")
        for victim in VICTIMS:
            pid = app.child_pid(victim)
            assert pid is not None, f"no {victim} process"
            os.kill(pid, signal.SIGKILL)

            def outage(victim: str = victim) -> bool:
                status, problems = app.health()
                if status != 200 and any(WHY[victim] in p for p in problems):
                    seen[victim] = problems
                return victim in seen

            wait_for(outage, 20, 0.05, f"/healthz to name the {victim} outage")
            wait_for(lambda: app.health()[0] == 200, 60, 0.2, f"/healthz 200 after the {victim} outage")
            before = len(sender.accepted)
            wait_for(lambda n=before: len(sender.accepted) > n, 20, 0.1, f"events accepted after {victim}")
    finally:
        sender.stop.set()
        sender.join(10)
    assert set(seen) == set(VICTIMS)
    r: Any = app.client()
    wanted = sender.accepted

    def missing() -> list[str]:
        got = r.hmget(keys.CASE_INDEX, wanted)
        return [c for c, v in zip(wanted, got, strict=True) if v is None]

    wait_for(lambda: not missing(), 60, 0.2, "every accepted event in the read models")
    assert int(r.hget(keys.COUNTERS, "open")) == len(wanted)  # each once, none of the refused
    status, body = http_get(app.url + "/healthz")
    roles = body["roles"]
    assert status == 200 and {v for v in VICTIMS if v != "redis-server"} <= set(roles) and "redis" in roles
    assert all(r["total"] == 1 and not r["down"] for r in roles.values()), roles
