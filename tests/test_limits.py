"""Bounded by construction (issue 13): per-source rate limits answered 429 with Retry-After, nothing of a
refused request kept."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dashboard.store import keys
from dashboard.web.api.limits import RateLimiter
from tests.conftest import App, wait_for
from tests.test_http_cases import API_KEY, TOKEN, event, post, write_config
from tests.test_open311 import V2, post_form, report


class Clock:
    """A clock the test moves (the limiter's own clock parameter)."""

    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_a_bucket_refills_at_its_rate_and_takes_all_or_nothing() -> None:
    clock = Clock()
    lim = RateLimiter(rate=10, burst=20, clock=clock)
    assert lim.take("a", 20) == 0
    assert lim.take("a", 1) == pytest.approx(0.1)  # empty: one more in a tenth of a second
    assert lim.take("b", 5) == 0  # each source its own bucket
    clock.t += 0.5
    assert lim.take("a", 6) == pytest.approx(0.1)  # 5 back, 6 asked: nothing taken
    assert lim.take("a", 5) == 0
    assert lim.take("a", 25) > 0  # more than a burst is never taken at once


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    from tests.support import temp_dir

    mp = pytest.MonkeyPatch()
    mp.setenv("CB_TEST_TOKEN", TOKEN)
    mp.setenv("CB_TEST_311_KEY", API_KEY)
    with temp_dir("cbl-") as folder:
        extra = "  rate_per_s: 0.01\n  rate_burst: 3\n"  # open311's (the last section written)
        config = write_config(Path(folder), extra)
        text = config.read_text(encoding="utf-8").replace(
            "ingest:\n", "ingest:\n  rate_per_s: 0.01\n  rate_burst: 10\n"
        )
        config.write_text(text, encoding="utf-8")
        running = App(Path(folder), "--no-simulator", "--config", str(config)).start()
        yield running
        running.stop()
    mp.undo()


def test_a_token_over_its_rate_gets_429_and_nothing_is_kept(app: App) -> None:
    r: Any = app.client()
    status, body, _ = post(app.url + "/api/v1/case-events", [event() for _ in range(8)])
    assert status == 202, body
    refused = [event() for _ in range(3)]
    status, body, headers = post(app.url + "/api/v1/case-events", refused)
    assert status == 429 and int(headers["Retry-After"]) >= 1, body
    assert "field_app" in body["error"] and "nothing of this request was kept" in body["error"]
    reading = {
        "sensor_id": "SEN-0001",
        "metric": "smoke",
        "value": 0.02,
        "unit": "dB/m",
        "time": event()["time"],
    }
    status, body, _ = post(app.url + "/api/v1/sensor-readings", {"readings": [reading] * 3})
    assert status == 429, body  # the same source's bucket, whichever endpoint
    last = [event(), event()]
    status, body, _ = post(app.url + "/api/v1/case-events", last)
    assert status == 202, body  # what is left of the burst

    def ids() -> set[str]:
        return {json.loads(f["d"])["event_id"] for _, f in r.xrange(keys.STREAM_CASE_EVENTS)}

    wait_for(lambda: {e["event_id"] for e in last} <= ids(), 10, 0.05, "the last accepted events")
    assert not {e["event_id"] for e in refused} & ids()  # written in order: the refused never will be


def test_an_open311_key_over_its_rate_gets_429(app: App) -> None:
    answers = [post_form(app.url + V2 + "/requests.json", report())[0] for _ in range(5)]
    assert answers[:3] == [201, 201, 201] or answers[:3] == [200, 200, 200], answers
    assert answers[3:] == [429, 429], answers
