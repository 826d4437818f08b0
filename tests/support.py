"""What the tests and the benchmarks share: a real Redis server, the real app as a subprocess, a real
headless Chromium, waiting for a condition, and small HTTP helpers.

Plain functions and classes, no pytest fixtures (tests/conftest.py builds those from these): bench/
imports this module too, so it needs nothing of pytest.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import redis

from dashboard.store.server import EmbeddedRedis, free_port

ROOT = Path(__file__).resolve().parent.parent

# The project's headless Chromium: no GPU, no shared memory, nothing fetched or synced in the background.
CHROME_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--window-size=1920,1080",
)


class WaitTimeout(AssertionError):
    """A condition did not hold in time (an assertion failure in a test, an error in a benchmark)."""


# ------------------------------------------------------------------------------------------ waiting


def wait_for(
    predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.2, what: str = "condition"
) -> Any:
    """Poll ``predicate`` until it returns something truthy and return that; an exception it raises
    counts as not yet. Raise ``WaitTimeout`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            last = predicate()
            if last:
                return last
        time.sleep(interval)
    raise WaitTimeout(f"timed out waiting for {what} (last value: {last!r})")


# ------------------------------------------------------------------------------------------ HTTP


def _parsed(body: str) -> Any:
    """Parsed JSON, or the text as it is."""
    try:
        return json.loads(body)
    except ValueError:
        return body


def http_get(url: str, timeout: float = 5.0) -> tuple[int, Any]:
    """GET a URL; return (status, parsed JSON or text)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            body, status = resp.read().decode(), resp.status
    except urllib.error.HTTPError as err:
        body, status = err.read().decode(), err.code
    return status, _parsed(body)


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
    return status, _parsed(raw)


# ------------------------------------------------------------------------------------------ Redis


@contextlib.contextmanager
def temp_dir(prefix: str = "cb-", keep: bool = False) -> Iterator[Path]:
    """A short temporary folder (Unix socket paths must stay under ~100 bytes), removed afterwards
    unless ``keep``."""
    d = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield d
    finally:
        if not keep:
            shutil.rmtree(d, ignore_errors=True)


@contextlib.contextmanager
def redis_server(prefix: str = "cbt-") -> Iterator[EmbeddedRedis]:
    """A real redis-server (the embedded one run.py starts) in a temporary folder, stopped and removed
    afterwards."""
    with temp_dir(prefix) as d, EmbeddedRedis(d / "redis") as server:
        yield server


# ------------------------------------------------------------------------------------------ the app


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
        argv = [sys.executable, str(ROOT / "run.py"), "--port", str(self.port),
                "--data-dir", str(self.data_dir / "redis"), *self.extra]  # fmt: skip
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        if wait_healthy:
            wait_for(lambda: http_get(self.url + "/healthz", 2)[0] == 200, 60, 0.3, "/healthz 200")
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        """Signal run.py and wait for it to exit; return its exit code."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout)

    def child_pid(self, role: str) -> int | None:
        """The PID of run.py's child running ``role`` (or the program ``role``, e.g. redis-server; None
        while there is none)."""
        assert self.proc is not None
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
                argv = (proc / "cmdline").read_bytes().split(b"\0")
            except (OSError, IndexError, ValueError):
                continue
            program = argv[0].split(b" ")[0].rsplit(b"/", 1)[-1]  # redis-server retitles itself "path addr"
            if ppid == self.proc.pid and (role.encode() in argv or program == role.encode()):
                return int(proc.name)
        return None

    def health(self) -> tuple[int, list[str]]:
        """/healthz's status and problems; (0, ["no answer"]) while nothing answers."""
        try:
            status, body = http_get(self.url + "/healthz", 2)
        except OSError:
            return 0, ["no answer"]
        return status, list(body.get("problems", [])) if isinstance(body, dict) else []

    def client(self) -> redis.Redis:
        """A Redis client on the app's embedded server."""
        return redis.Redis.from_url(self.redis_url, decode_responses=True)

    def write_case_event(self, case: str, k: int, step: str, ts: int, **kw: Any) -> None:
        """Append the k-th event of ``case`` to the case input stream (a city-management case in ZM-0001
        unless ``kw`` says otherwise)."""
        from dashboard.store import keys
        from dashboard.store.records import CaseEvent, encode

        defaults = {"event_type": "CM-0101", "category": "city_management", "cell_id": "ZM-0001"}
        fields: dict[str, Any] = {**defaults, "source": "test", **kw}
        ev = CaseEvent(event_id=f"{case}-{k}", case_id=case, seq=k, ts=ts, step=step, **fields)
        self.client().xadd(keys.STREAM_CASE_EVENTS, encode(ev))  # type: ignore[arg-type]


def open_live(browser: Any, url: str) -> None:
    """Load a page and wait until its Socket.IO connection is live (its connection mark says so)."""
    from selenium.webdriver.common.by import By

    from layouts import ids

    browser.get(url)
    wait_for(
        lambda: "conn-ok" in (browser.find_element(By.ID, ids.CONNECTION).get_attribute("class") or ""),
        30,
        what="Socket.IO connected",
    )


VICTIMS = ("processor", "feeds", "redis-server", "web")  # what the chaos test and bench_faults kill, in turn


class CaseSender(threading.Thread):
    """Posts batches of new cases (one ``reported`` event each, in ``cell``) every 0.1 s until ``stop``
    is set; keeps the case ids answered 202 (the promise to check) and counts the other answers."""

    def __init__(self, url: str, token: str, cell: str, batch: int = 5) -> None:
        """Post to ``url``'s case-events endpoint with ``token``."""
        super().__init__(daemon=True)
        self.url, self.token, self.cell, self.batch = url + "/api/v1/case-events", token, cell, batch
        self.accepted: list[str] = []
        self.other = 0
        self.stop = threading.Event()

    def run(self) -> None:
        """Send until stopped."""
        n = 0
        while not self.stop.is_set():
            n += 1
            now = int(time.time() * 1000)
            events = [
                {"event_id": f"CH-{n:04d}-{i}", "case_id": f"CHC-{n:04d}-{i}", "time": now,
                 "step": "reported", "event_type": "CM-0101", "cell_id": self.cell}
                for i in range(self.batch)
            ]  # fmt: skip
            try:
                status, _ = http_post(self.url, events, self.token)
            except OSError:
                status = 0
            if status == 202:
                self.accepted += [e["case_id"] for e in events]
            else:
                self.other += 1
            self.stop.wait(0.1)


# ------------------------------------------------------------------------------------------ the browser


def chrome_options(*extra: str, profile: Path | None = None) -> Any:
    """Chromium options: the project's flags, ``extra`` ones, and a profile folder (``profile``, else a
    fresh temporary one that nobody removes: prefer ``chromium()``, which does)."""
    from selenium.webdriver.chrome.options import Options

    opts = Options()
    user_data = profile or Path(tempfile.mkdtemp(prefix="cb-chrome-"))
    for arg in (*CHROME_FLAGS, f"--user-data-dir={user_data}", *extra):
        opts.add_argument(arg)
    opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    return opts


@contextlib.contextmanager
def chromium(*extra: str, page_load_timeout: float = 30.0) -> Iterator[Any]:
    """A real headless Chromium driven through Debian's chromedriver, with a fresh profile; quit and
    its profile removed afterwards."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not Path(driver_path).exists():
        raise FileNotFoundError(
            "chromedriver not found: install Debian's chromium and chromium-driver (.ci/test does)"
        )
    with temp_dir("cb-chrome-") as profile:
        opts = chrome_options(*extra, profile=profile)
        driver = webdriver.Chrome(service=Service(driver_path), options=opts)
        try:
            driver.set_page_load_timeout(page_load_timeout)
            yield driver
        finally:
            driver.quit()
