"""Redis goes away mid-ingest: the API keeps accepting into its bounded buffer (journaled on disk),
answers 503 with Retry-After when the buffer is full; the web process is killed and restarted meanwhile;
once Redis is back every accepted event arrives in the stream in order, none twice, none of the refused
ones."""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from dashboard.store import keys
from dashboard.store.server import EmbeddedRedis
from tests.conftest import App, http_get, wait_for
from tests.test_http_cases import API_KEY, CELL, T0_MS, TOKEN, post

BUFFER = 200  # ingest.buffer_size: records the API holds while Redis is away
BATCH = 20


@pytest.fixture
def folder() -> Iterator[Path]:
    """A short folder (the Redis socket path must stay short)."""
    d = Path(tempfile.mkdtemp(prefix="cbx-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


def batch(n: int) -> list[dict[str, Any]]:
    """``BATCH`` valid events numbered from batch ``n``."""
    return [
        {
            "event_id": f"OUT-{n:03d}-{i:02d}",
            "case_id": f"OUTC-{n:03d}-{i:02d}",
            "time": T0_MS + n * 1000 + i,
            "step": "reported",
            "event_type": "CM-0101",
            "cell_id": CELL,
        }
        for i in range(BATCH)
    ]


def test_outage_buffers_then_refuses_then_delivers_everything_once(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = EmbeddedRedis(folder / "ext")
    url = server.start()
    config = folder / "config.yaml"
    config.write_text(
        f"redis:\n  url: {url}\n"
        f"ingest:\n  buffer_size: {BUFFER}\n  tokens:\n    field_app: ${{CB_TEST_TOKEN}}\n"
        "open311:\n  api_keys:\n    citizen_app: ${CB_TEST_311_KEY}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("CB_TEST_TOKEN", TOKEN)
    monkeypatch.setenv("CB_TEST_311_KEY", API_KEY)
    app = App(folder, "--no-simulator", "--config", str(config)).start()
    restarted: EmbeddedRedis | None = None
    try:
        r: Any = redis.Redis.from_url(url, decode_responses=True)
        endpoint = app.url + "/api/v1/case-events"
        accepted: list[str] = []
        refused: list[str] = []
        n = 0

        def post_batch() -> tuple[int, Any, dict[str, str]]:
            nonlocal n
            n += 1
            events = batch(n)
            status, body, headers = post(endpoint, events)
            ids = [e["event_id"] for e in events]
            if status == 202:
                assert body["accepted"] == BATCH, body
                accepted.extend(ids)
            else:
                refused.extend(ids)
            return status, body, headers

        # Redis up: accepted and written
        for _ in range(3):
            status, body, _ = post_batch()
            assert status == 202 and body["dedupe"] == "checked", body
        wait_for(lambda: r.xlen(keys.STREAM_CASE_EVENTS) == len(accepted), 10, 0.05, "the first batches")

        # Redis gone: accepted into the buffer (dedupe deferred) until it is full, then 503
        server.stop()
        r.close()
        answers = []
        while len(answers) < 30:
            status, body, headers = post_batch()
            answers.append(status)
            if status == 202:
                assert body["dedupe"] == "deferred", body
            else:
                assert status == 503, body
                assert int(headers["Retry-After"]) > 0 and "buffer full" in body["error"]
                if answers.count(503) == 2:
                    break
        assert answers == [202] * (BUFFER // BATCH) + [503, 503]
        assert http_get(app.url + "/healthz")[0] == 503  # the app says it is unhealthy meanwhile

        # the web process killed while Redis is away: what it answered 202 is in its journal
        web = app.child_pid("web")
        os.kill(web, signal.SIGKILL)
        wait_for(lambda: app.child_pid("web") not in (None, web), 30, 0.1, "the supervisor to restart web")
        wait_for(lambda: http_get(app.url + "/healthz", 2)[0] == 503, 30, 0.2, "the new web process")

        # Redis back on the same data: everything accepted arrives, in order, once
        restarted = EmbeddedRedis(folder / "ext")
        assert restarted.start() == url
        r = redis.Redis.from_url(url, decode_responses=True)

        def stream_ids() -> list[str]:
            return [json.loads(f["d"])["event_id"] for _id, f in r.xrange(keys.STREAM_CASE_EVENTS)]

        wait_for(lambda: len(stream_ids()) >= len(accepted), 30, 0.1, "the buffered events to arrive")
        ids = stream_ids()
        assert ids == accepted  # in order, none twice, none of the refused ones
        assert not set(refused) & set(ids)
        status, body, _ = post_batch()  # and ingest goes on normally
        assert status == 202 and body["dedupe"] == "checked", body
        wait_for(lambda: len(stream_ids()) == len(accepted), 10, 0.05, "the batch after recovery")
    finally:
        app.stop()
        (restarted or server).stop()
