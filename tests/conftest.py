"""Shared fixtures: a real Redis server, a real headless Chromium, and the real app as a subprocess.

The pieces themselves live in tests/support.py (bench/ uses them too); the names tests import from here
(``App``, ``wait_for``, ``http_get``, ``http_post``, ``ROOT``, ``_chrome_options``) still work.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from dashboard.store.client import connect
from dashboard.store.server import EmbeddedRedis
from tests import support
from tests.support import ROOT, App, http_get, http_post, wait_for
from tests.support import chrome_options as _chrome_options

__all__ = ["ROOT", "App", "_chrome_options", "http_get", "http_post", "wait_for"]


@pytest.fixture(scope="session")
def redis_server() -> Iterator[EmbeddedRedis]:
    """One real redis-server for the session (the same embedded server run.py starts)."""
    with support.redis_server() as server:
        yield server


@pytest.fixture
def r(redis_server: EmbeddedRedis) -> Iterator[redis.Redis]:
    """A client on an empty database, opened as every role opens one (``dashboard.store.client``)."""
    client = connect(redis_server.url)
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A short temporary folder (Unix socket paths must stay under ~100 bytes)."""
    with support.temp_dir() as d:
        yield d


@pytest.fixture
def browser() -> Iterator[Any]:
    """A real headless Chromium driven through Debian's chromedriver."""
    with support.chromium() as driver:
        yield driver
