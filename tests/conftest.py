"""Shared fixtures: a real Redis server, a real headless Chromium, and the real app as a subprocess."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from dashboard.store.server import EmbeddedRedis, free_port

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def redis_server() -> Iterator[EmbeddedRedis]:
    """One real redis-server for the session (the same embedded server run.py starts)."""
    d = Path(tempfile.mkdtemp(prefix="cbt-"))
    server = EmbeddedRedis(d / "redis")
    server.start()
    yield server
    server.stop()
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def r(redis_server: EmbeddedRedis) -> Iterator[redis.Redis]:
    """A client on an empty database."""
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    client.flushall()
    yield client
    client.close()


def http_get(url: str, timeout: float = 5.0) -> tuple[int, Any]:
    """GET a URL; return (status, parsed JSON or text)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            body = resp.read().decode()
            status = resp.status
    except urllib.error.HTTPError as err:
        body, status = err.read().decode(), err.code
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body


def http_post(
    url: str, body: Any, token: str | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    """POST JSON (with a bearer token if given); return (status, parsed JSON or text)."""
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    if token is not None:
        hdrs["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers=hdrs, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            raw, status = resp.read().decode(), resp.status
    except urllib.error.HTTPError as err:
        raw, status = err.read().decode(), err.code
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw


def wait_for(predicate: Any, timeout: float = 30.0, interval: float = 0.2, what: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy; fail the test after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            last = predicate()
            if last:
                return last
        time.sleep(interval)
    pytest.fail(f"timed out waiting for {what} (last value: {last!r})")


class App:
    """run.py started as a subprocess on a free port with its own data folder."""

    def __init__(self, data_dir: Path, *extra: str) -> None:
        """Prepare (not start)."""
        self.data_dir = data_dir
        self.port = free_port()
        self.extra = extra
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = data_dir / f"run-{self.port}.log"

    @property
    def url(self) -> str:
        """Base URL of the web role."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def redis_url(self) -> str:
        """URL of the embedded Redis it started."""
        return f"unix://{self.data_dir / 'redis' / 'redis.sock'}"

    def start(self, wait_healthy: bool = True) -> App:
        """Start run.py and wait until /healthz answers 200."""
        env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    str(ROOT / "run.py"),
                    "--port",
                    str(self.port),
                    "--data-dir",
                    str(self.data_dir / "redis"),
                    *self.extra,
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        if wait_healthy:
            wait_for(lambda: http_get(self.url + "/healthz", 2)[0] == 200, 60, 0.3, "/healthz 200")
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        """Signal run.py and wait for it to exit; return its exit code."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout)

    def client(self) -> redis.Redis:
        """A Redis client on the app's embedded server."""
        return redis.Redis.from_url(self.redis_url, decode_responses=True)


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A short temporary folder (Unix socket paths must stay under ~100 bytes)."""
    d = Path(tempfile.mkdtemp(prefix="cb-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _chrome_options() -> Any:
    from selenium.webdriver.chrome.options import Options

    opts = Options()
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        "--window-size=1920,1080",
        f"--user-data-dir={tempfile.mkdtemp(prefix='cb-chrome-')}",
    ):
        opts.add_argument(arg)
    opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    return opts


@pytest.fixture
def browser() -> Iterator[Any]:
    """A real headless Chromium driven through Debian's chromedriver."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not Path(driver_path).exists():
        pytest.fail("chromedriver not found: install Debian's chromium and chromium-driver (.ci/test does)")
    driver = webdriver.Chrome(service=Service(driver_path), options=_chrome_options())
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
