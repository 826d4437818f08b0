"""The embedded Redis: local only, persistent, and gone when its parent dies, even by SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil
import redis

from dashboard.store.server import EmbeddedRedis, RedisServerError
from tests.conftest import ROOT, wait_for


def test_local_only_with_aof(short_tmp: Path) -> None:
    with EmbeddedRedis(short_tmp / "r") as srv:
        assert srv.url.startswith("unix://")
        r = redis.Redis.from_url(srv.url, decode_responses=True)
        cfg = r.config_get("*")
        assert cfg["appendonly"] == "yes" and cfg["appendfsync"] == "everysec"
        assert cfg["port"] == "0"  # no TCP listener at all
        assert cfg["bind"].split() == ["127.0.0.1"]
        assert Path(cfg["dir"]) == (short_tmp / "r").resolve()


def test_tcp_fallback_binds_loopback(short_tmp: Path) -> None:
    with EmbeddedRedis(short_tmp / "r", use_unix_socket=False) as srv:
        r = redis.Redis.from_url(srv.url, decode_responses=True)
        assert srv.url.startswith("redis://127.0.0.1:")
        assert r.config_get("bind")["bind"].split() == ["127.0.0.1"]
        conns = [c for c in psutil.Process(srv.proc.pid).net_connections() if c.status == "LISTEN"]  # type: ignore[union-attr]
        assert conns and all(c.laddr.ip == "127.0.0.1" for c in conns)


def test_data_survives_a_restart(short_tmp: Path) -> None:
    with EmbeddedRedis(short_tmp / "r") as srv:
        redis.Redis.from_url(srv.url).set("k", "kept")
    with EmbeddedRedis(short_tmp / "r") as srv:
        assert redis.Redis.from_url(srv.url).get("k") == b"kept"


def test_second_instance_on_same_data_dir_is_refused(short_tmp: Path) -> None:
    with EmbeddedRedis(short_tmp / "r"):
        try:
            EmbeddedRedis(short_tmp / "r").start()
        except RedisServerError as err:
            assert "already runs" in str(err)
        else:
            raise AssertionError("a second server on the same data dir must be refused")


def test_server_dies_with_a_parent_killed_by_sigkill(short_tmp: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from dashboard.store.server import EmbeddedRedis
        s = EmbeddedRedis({str(short_tmp / "r")!r})
        s.start()
        print(s.proc.pid, flush=True)
        time.sleep(60)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child_pid = int(parent.stdout.readline())
    assert psutil.pid_exists(child_pid)
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()

    def gone() -> bool:
        try:
            return psutil.Process(child_pid).status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True

    wait_for(gone, 10, 0.1, f"redis-server {child_pid} to exit")
