"""The system under test: an embedded Redis, the product's processor (and, if asked, its feeds role),
and a web front, the product's (``run.py web``) or the naive baseline (bench/baseline/app.py), each role
its own process; and whether the processor has caught up with the input streams."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import redis

from dashboard.store.records import STREAM_OF
from dashboard.store.server import EmbeddedRedis, free_port, set_pdeathsig
from tests.support import ROOT, WaitTimeout, http_get, temp_dir, wait_for

SYSTEMS = ("product", "baseline")
BASELINE_APP = Path(__file__).resolve().parent.parent / "baseline" / "app.py"
RUN = [sys.executable, str(ROOT / "run.py")]


def answers(url: str) -> bool:
    """True when ``url`` answers: any status but a 5xx (a 503 from a half-started server counts)."""
    status = http_get(url, 2)[0]
    return status < 500 or status == 503


class Stack:
    """An embedded Redis and the product's processor; a web front (product or baseline) on top."""

    def __init__(
        self, system: str = "product", keep_logs: bool = False, feeds: list[str] | None = None
    ) -> None:
        """Prepare a stack whose web front is ``system`` (``product`` or ``baseline``); ``feeds``: also run
        the product's feeds role (the simulator) with these arguments; ``keep_logs``: leave the folder
        with the roles' logs (and Redis's files) behind."""
        if system not in SYSTEMS:
            raise ValueError(f"system must be one of {SYSTEMS}, not {system!r}")
        self.system = system
        self.keep_logs = keep_logs
        self.feeds = feeds
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.port = 0
        self.r: redis.Redis | None = None
        self.dir = Path()
        self.redis_url = ""
        self._cleanup = contextlib.ExitStack()

    @property
    def url(self) -> str:
        """Base URL of the web front."""
        return f"http://127.0.0.1:{self.port}"

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        """Start a child that dies with us, its output in a log file."""
        env = dict(os.environ, REDIS_URL=self.redis_url, PYTHONUNBUFFERED="1")
        with open(self.dir / f"{name}.log", "ab") as log:
            proc = subprocess.Popen(
                argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=set_pdeathsig
            )
        self.procs[name] = proc
        return proc

    def start(self) -> Stack:
        """Start Redis, the processor (and the feeds) and the web front; wait until the page answers.
        If any of it fails, what did start is stopped again."""
        try:
            self.dir = self._cleanup.enter_context(temp_dir("cbw-", keep=self.keep_logs))
            server = self._cleanup.enter_context(EmbeddedRedis(self.dir / "redis"))
            self.redis_url = server.url
            self.r = redis.Redis.from_url(server.url, decode_responses=True)
            self._spawn("processor", [*RUN, "processor", "--log-level", "WARNING"])
            if self.feeds is not None:
                self._spawn("feeds", [*RUN, "feeds", "--log-level", "WARNING", *self.feeds])
            self.start_web()
        except BaseException:
            self.stop()
            raise
        return self

    def start_web(self) -> None:
        """Start (or restart) the web front on a fresh port and wait for it."""
        self.port = free_port()
        if self.system == "product":
            argv = [*RUN, "web", "--port", str(self.port), "--log-level", "WARNING"]
        else:
            argv = [sys.executable, str(BASELINE_APP), "--port", str(self.port)]
        web = self._spawn("web", argv)
        try:
            wait_for(lambda: web.poll() is not None or answers(self.url + "/"), 90, 0.2, "the web front")
        except WaitTimeout:
            raise RuntimeError(
                f"{self.system} web did not answer in 90 s; {self._last_line('web')}"
            ) from None
        if web.poll() is not None:
            raise RuntimeError(f"{self.system} web did not start; {self._last_line('web')}")

    def _last_line(self, name: str) -> str:
        """The last line a child wrote to its log (or what became of it)."""
        proc = self.procs[name]
        with contextlib.suppress(OSError, IndexError):
            lines = (self.dir / f"{name}.log").read_text(errors="replace").strip().splitlines()
            return f"exit {proc.poll()}, its log ends: {lines[-1][:300]}"
        return f"exit {proc.poll()}, no log"

    def pid(self, name: str) -> int:
        """The process id of a child (``web``, ``processor``)."""
        return self.procs[name].pid

    def stop_child(self, name: str) -> None:
        """Stop one child (e.g. ``feeds``: the generator) and wait for it."""
        proc = self.procs[name]
        proc.terminate()
        proc.wait(15)

    def stop(self) -> None:
        """Stop every child, then Redis; remove the folder (unless ``keep_logs``)."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self.r is not None:
            self.r.close()
        self._cleanup.close()

    def __enter__(self) -> Stack:
        """Start."""
        return self.start()

    def __exit__(self, *exc: object) -> None:
        """Stop."""
        self.stop()


# ------------------------------------------------------------------------------------------ catching up


def drained(r: redis.Redis, group: str = "processor") -> bool:
    """True when the processor's group has read and acknowledged every input stream entry."""
    for stream in STREAM_OF.values():
        if not r.exists(stream):
            continue
        last = r.xinfo_stream(stream)["last-generated-id"]
        groups = {g["name"]: g for g in r.xinfo_groups(stream)}
        g = groups.get(group)
        if g is None or g["last-delivered-id"] != last or int(g["pending"]) > 0:
            return False
    return True


def behind_ms(r: redis.Redis, group: str = "processor") -> int:
    """How far (ms of entry ids) the processor's group is behind the most lagging input stream."""
    worst = 0
    for stream in STREAM_OF.values():
        if not r.exists(stream):
            continue
        last = int(r.xinfo_stream(stream)["last-generated-id"].split("-")[0])
        g = {x["name"]: x for x in r.xinfo_groups(stream)}.get(group)
        done = int(g["last-delivered-id"].split("-")[0]) if g else 0
        worst = max(worst, last - done)
    return worst


def wait_caught_up(r: redis.Redis, within_ms: int = 2000, timeout: float = 600.0) -> None:
    """Wait until the processor is at most ``within_ms`` behind every input stream (while a generator
    keeps writing, "drained" may never hold at the instant it is checked)."""
    wait_for(lambda: behind_ms(r) <= within_ms, timeout, 0.5, "the processor to catch up with the generator")


def wait_drained(r: redis.Redis, timeout: float = 600.0) -> float:
    """Wait until the processor has caught up; return the seconds it took."""
    t0 = time.monotonic()
    wait_for(lambda: drained(r), timeout, 0.1, "the processor to drain the input streams")
    return time.monotonic() - t0
