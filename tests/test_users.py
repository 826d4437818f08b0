"""The users store on a real Redis (dashboard.store.users), ``python run.py user ...`` and the first admin:
argon2 hashes (rehashed when the parameters change), roles checked against the geography, the session
generation raised by every change that must end sessions, clear errors and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from argon2 import PasswordHasher

import run
from dashboard import cli
from dashboard.config import AppConfig, parse_config
from dashboard.domain.access import Role
from dashboard.store import keys
from dashboard.store.server import EmbeddedRedis
from dashboard.store.users import UserError, Users
from tests.conftest import ROOT

CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)  # fast for the store's own tests
GOOD = "correct horse battery"
T0 = 1_790_000_000_000


@pytest.fixture
def users(r: redis.Redis) -> Users:
    """The store on an empty Redis, with a cheap hasher."""
    return Users(r, CHEAP)


def test_add_get_list(users: Users, r: redis.Redis) -> None:
    u = users.add("Wang", GOOD, [Role("subdistrict", "ZM")], T0)
    assert (u.name, u.roles, u.disabled, u.created_ms, u.changed_ms, u.generation) == (
        "wang", ("subdistrict:ZM",), False, T0, T0, 1
    )  # fmt: skip
    assert u.password_hash.startswith("$argon2id$") and GOOD not in u.password_hash
    assert users.get("WANG") == u
    users.add("li", GOOD, [Role("wall", "440604")], T0)
    assert [x.name for x in users.all()] == ["li", "wang"] and users.count() == 2
    assert "password_hash" not in u.public()
    assert set(r.hkeys(keys.USERS)) == {"li", "wang"}  # one hash, name -> JSON
    assert json.loads(r.hget(keys.USERS, "wang") or "")["roles"] == ["subdistrict:ZM"]
    assert users.get("nobody") is None


@pytest.mark.parametrize(
    ("name", "password", "roles", "field", "says"),
    [
        ("wang", GOOD, [], "roles", "at least one role"),
        ("", GOOD, [Role("district")], "name", "bad user name"),
        ("wang li", GOOD, [Role("district")], "name", "bad user name"),
        ("-x", GOOD, [Role("district")], "name", "bad user name"),
        ("wang", "", [Role("district")], "password", "empty"),
        ("wang", "          ", [Role("district")], "password", "empty"),
        ("wang", "short1234", [Role("district")], "password", "at least 10"),
        ("wangwangwang", "WangWangWang", [Role("district")], "password", "user's name"),
        ("wang", "x" * 1025, [Role("district")], "password", "too long"),
    ],
)
def test_bad_users_are_refused(
    users: Users, name: str, password: str, roles: list[Role], field: str, says: str
) -> None:
    with pytest.raises(ValueError, match=says) as err:
        users.add(name, password, roles, T0)
    assert getattr(err.value, "field", "roles") == field
    assert users.count() == 0


def test_a_name_is_taken_once(users: Users) -> None:
    users.add("wang", GOOD, [Role("district")], T0)
    with pytest.raises(UserError, match="exists already"):
        users.add("WANG", "another password", [Role("admin")], T0)
    assert users.get("wang").roles == ("district",)  # type: ignore[union-attr]


def test_verify(users: Users) -> None:
    users.add("wang", GOOD, [Role("district")], T0)
    assert users.verify("wang", GOOD, T0) is not None
    assert users.verify("Wang", GOOD, T0) is not None
    assert users.verify("wang", GOOD + "x", T0) is None
    assert users.verify("nobody", GOOD, T0) is None
    assert users.verify("bad name!", GOOD, T0) is None
    assert users.verify("wang", "x" * 5000, T0) is None
    users.set_disabled("wang", True, T0 + 1)
    assert users.verify("wang", GOOD, T0) is None  # the right password of a disabled user


def test_changes_raise_the_session_generation(users: Users) -> None:
    users.add("wang", GOOD, [Role("district")], T0)
    steps = [
        (lambda: users.set_password("wang", "a new password", T0 + 1), 2),
        (lambda: users.set_disabled("wang", True, T0 + 2), 3),
        (lambda: users.set_disabled("wang", True, T0 + 3), 3),  # no change, no sessions ended
        (lambda: users.set_disabled("wang", False, T0 + 4), 4),
        (lambda: users.set_roles("wang", [Role("community", "ZM-C01")], T0 + 5), 5),
        (lambda: users.set_roles("wang", [Role("community", "ZM-C01")], T0 + 6), 5),
    ]
    for change, generation in steps:
        u = change()
        assert u.generation == generation
        assert users.get("wang") == u
    last = users.get("wang")
    assert (
        last is not None
        and last.changed_ms == T0 + 5
        and last.created_ms == T0
        and last.roles == ("community:ZM-C01",)
    )
    assert users.verify("wang", "a new password", T0) is not None and users.verify("wang", GOOD, T0) is None
    for change in (
        lambda: users.set_password("nobody", GOOD, T0),
        lambda: users.set_disabled("nobody", True, T0),
        lambda: users.set_roles("nobody", [Role("district")], T0),
    ):
        with pytest.raises(UserError, match="no user 'nobody'"):
            change()
    with pytest.raises(ValueError, match="display account's only role"):
        users.set_roles("wang", [Role("wall", "ZM"), Role("district")], T0)


def test_a_hash_of_old_parameters_is_replaced_at_sign_in(r: redis.Redis) -> None:
    Users(r, CHEAP).add("wang", GOOD, [Role("district")], T0)
    standard = Users(r)  # argon2-cffi's standard parameters
    old = standard.get("wang")
    assert old is not None and standard.hasher.check_needs_rehash(old.password_hash)
    assert standard.verify("wang", GOOD + "!", T0) is None
    assert standard.get("wang") == old  # a wrong password changes nothing
    assert standard.verify("wang", GOOD, T0) is not None
    new = standard.get("wang")
    assert new is not None and new.password_hash != old.password_hash
    assert not standard.hasher.check_needs_rehash(new.password_hash)
    assert new.generation == old.generation  # the same password: sessions stay
    assert standard.verify("wang", GOOD, T0) is not None


def test_the_first_admin_is_made_once(users: Users) -> None:
    made = users.ensure_first_admin(None, T0)
    assert made is not None and len(made) >= 20
    admin = users.verify("admin", made, T0)
    assert admin is not None and admin.roles == ("admin",)
    assert users.ensure_first_admin(None, T0) is None
    assert users.ensure_first_admin("another good one", T0) is None
    assert users.verify("admin", made, T0) is not None


def test_the_first_admin_waits_for_an_empty_store(users: Users) -> None:
    users.add("wang", GOOD, [Role("district")], T0)
    assert users.ensure_first_admin(None, T0) is None
    assert users.get("admin") is None


def test_the_first_admin_from_the_environment(users: Users) -> None:
    with pytest.raises(UserError, match="too short"):
        users.ensure_first_admin("short", T0)
    assert users.count() == 0
    assert users.ensure_first_admin("from the environment", T0) == "from the environment"
    assert users.verify("admin", "from the environment", T0) is not None


def test_web_processes_starting_together_make_one_admin(r: redis.Redis, redis_server: EmbeddedRedis) -> None:
    made: list[str | None] = []
    start = threading.Barrier(4)

    def one() -> None:
        client = redis.Redis.from_url(redis_server.url, decode_responses=True)
        start.wait()
        made.append(Users(client, CHEAP).ensure_first_admin(None, T0))
        client.close()

    threads = [threading.Thread(target=one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    passwords = [m for m in made if m is not None]
    assert len(made) == 4 and len(passwords) == 1
    assert Users(r, CHEAP).verify("admin", passwords[0], T0) is not None


def config_on(server: EmbeddedRedis, **auth: Any) -> AppConfig:
    """A config pointing at the test Redis."""
    return parse_config({"redis": {"url": server.url}, "auth": auth})


def test_run_py_prints_a_generated_admin_password_once(
    r: redis.Redis, redis_server: EmbeddedRedis, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    monkeypatch.delenv("CB_ADMIN_PASSWORD", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    run.first_admin(config_on(redis_server), redis_server.url)
    out = capsys.readouterr()
    lines = [ln for ln in out.out.splitlines() if "first admin" in ln]
    assert len(lines) == 1 and "user 'admin'" in lines[0], out
    password = lines[0].split("password ", 1)[1].split(" ", 1)[0]
    assert Users(r).verify("admin", password, T0) is not None
    assert password not in out.err
    run.first_admin(config_on(redis_server), redis_server.url)  # the next start: nothing, never again
    again = capsys.readouterr()
    assert "first admin" not in again.out and password not in again.out + again.err


def test_run_py_takes_the_admin_password_from_the_environment(
    r: redis.Redis, redis_server: EmbeddedRedis, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    monkeypatch.setenv("CB_ADMIN_PASSWORD", "set by the deployment")
    run.first_admin(config_on(redis_server), redis_server.url)
    out = capsys.readouterr()
    assert "set by the deployment" not in out.out + out.err
    assert Users(r).verify("admin", "set by the deployment", T0) is not None
    r.delete(keys.USERS)
    monkeypatch.setenv("CB_ADMIN_PASSWORD", "weak")  # refused: no admin, the web role goes on
    run.first_admin(config_on(redis_server), redis_server.url)
    assert Users(r).count() == 0


# ------------------------------------------------------------------------------ python run.py user ...


@pytest.fixture
def cfg(r: redis.Redis, redis_server: EmbeddedRedis, monkeypatch: Any) -> AppConfig:
    """The CLI's config on the test Redis (no REDIS_URL in the environment)."""
    monkeypatch.delenv("REDIS_URL", raising=False)
    return config_on(redis_server)


def typed(monkeypatch: Any, *answers: str) -> list[str]:
    """Answer the CLI's password prompts with ``answers``; return the prompts asked."""
    asked: list[str] = []
    queue = list(answers)

    def fake(prompt: str = "") -> str:
        asked.append(prompt)
        if not queue:
            raise EOFError
        return queue.pop(0)

    monkeypatch.setattr("getpass.getpass", fake)
    return asked


def test_user_add_asks_twice(
    cfg: AppConfig, r: redis.Redis, monkeypatch: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    asked = typed(monkeypatch, GOOD, GOOD)
    assert cli.user(cfg, "add", "Wang", ["subdistrict:ZM", "community:NZ-C01"], None) == 0
    assert len(asked) == 2
    assert "added user wang (roles: community:NZ-C01, subdistrict:ZM)" in capsys.readouterr().out
    assert Users(r).verify("wang", GOOD, T0) is not None


@pytest.mark.parametrize(
    ("argv", "answers", "says"),
    [
        (("add", "wang", ["mayor"]), (GOOD, GOOD), "unknown role 'mayor'"),
        (("add", "wang", ["subdistrict:XX"]), (GOOD, GOOD), "unknown area 'XX'"),
        (("add", "wang", ["community:ZM"]), (GOOD, GOOD), "is a subdistrict, not a community"),
        (("add", "wang", ["wall:ZM", "district"]), (GOOD, GOOD), "display account's only role"),
        (("add", "wang", []), (GOOD, GOOD), "at least one --role"),
        (("add", None, ["district"]), (GOOD, GOOD), "wants a user name"),
        (("add", "wang", ["district"]), ("", ""), "the password is empty"),
        (("add", "wang", ["district"]), ("short", "short"), "at least 12 characters"),
        (("add", "wang", ["district"]), (GOOD, GOOD + "!"), "the two passwords differ"),
        (("add", "wang", ["district"]), (), "no password given"),
        (("add", "bad name", ["district"]), (GOOD, GOOD), "bad user name"),
        (("passwd", "nobody", []), (GOOD, GOOD), "no user 'nobody'"),
        (("disable", "nobody", []), (), "no user 'nobody'"),
        (("enable", "nobody", []), (), "no user 'nobody'"),
        (("roles", "nobody", ["district"]), (), "no user 'nobody'"),
        (("roles", "nobody", []), (), "at least one --role"),
        (("disable", "nobody", ["district"]), (), "takes no --role"),
        (("list", "wang", []), (), "takes no name"),
        (("frobnicate", "wang", []), (), "user wants one of add, passwd"),
        ((None, None, []), (), "user wants one of add, passwd"),
    ],
)
def test_user_errors_are_clear(
    r: redis.Redis,
    redis_server: EmbeddedRedis,
    monkeypatch: Any,
    capsys: pytest.CaptureFixture[str],
    argv: tuple[Any, Any, list[str]],
    answers: tuple[str, ...],
    says: str,
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    typed(monkeypatch, *answers)
    command, name, roles = argv
    assert cli.user(config_on(redis_server, min_password_length=12), command, name, roles, None) == 2
    err = capsys.readouterr().err
    assert says in err and err.startswith("citybrain: ")
    assert GOOD not in err
    assert Users(r).count() == 0


def test_user_commands(
    cfg: AppConfig, r: redis.Redis, monkeypatch: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CB_TEST_PW", GOOD)
    typed(monkeypatch)  # no prompt may be asked
    assert cli.user(cfg, "add", "wang", ["district"], "CB_TEST_PW") == 0
    assert cli.user(cfg, "add", "wang", ["district"], "CB_TEST_PW") == 2
    assert "exists already" in capsys.readouterr().err
    assert cli.user(cfg, "add", "li", ["wall:SW"], "CB_NOT_SET") == 2
    assert "environment variable CB_NOT_SET is not set" in capsys.readouterr().err
    store = Users(r)
    generation = store.get("wang").generation  # type: ignore[union-attr]
    monkeypatch.setenv("CB_TEST_PW", "the next password")
    assert cli.user(cfg, "passwd", "wang", [], "CB_TEST_PW") == 0
    assert store.verify("wang", "the next password", T0) is not None
    assert cli.user(cfg, "disable", "wang", [], None) == 0
    assert store.verify("wang", "the next password", T0) is None
    assert cli.user(cfg, "enable", "wang", [], None) == 0
    assert cli.user(cfg, "roles", "wang", ["subdistrict:ZM", "admin"], None) == 0
    u = store.get("wang")
    assert u is not None and u.roles == ("admin", "subdistrict:ZM") and u.generation == generation + 4
    assert cli.user(cfg, "disable", "wang", [], None) == 0
    capsys.readouterr()
    assert cli.user(cfg, "list", None, [], None) == 0
    listing = capsys.readouterr().out
    assert "wang" in listing and "disabled" in listing and "roles: admin, subdistrict:ZM" in listing
    assert "argon2" not in listing and "+08:00" in listing


def test_user_commands_need_redis(monkeypatch: Any, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    gone = parse_config({"redis": {"url": "redis://127.0.0.1:1/0"}})
    assert cli.user(gone, "list", None, [], None) == 1
    assert "cannot reach Redis" in capsys.readouterr().err


def test_run_py_user_from_a_script(r: redis.Redis, redis_server: EmbeddedRedis) -> None:
    """The whole command line: options anywhere, the password from the environment, no terminal."""
    env = {**os.environ, "REDIS_URL": redis_server.url, "CB_TEST_PW": GOOD}
    argv = [sys.executable, str(ROOT / "run.py"), "user", "add", "--role", "community:ZM-C01", "zhao",
            "--password-env", "CB_TEST_PW"]  # fmt: skip
    no_tty: dict[str, Any] = {"stdin": subprocess.DEVNULL, "start_new_session": True}  # no /dev/tty to ask at
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, **no_tty)
    assert done.returncode == 0, done.stderr
    assert "added user zhao (roles: community:ZM-C01)" in done.stdout
    assert Users(r).verify("zhao", GOOD, T0) is not None
    typed_at_no_terminal = subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "user", "passwd", "zhao"],
        env=env, capture_output=True, text=True, timeout=60, **no_tty,
    )  # fmt: skip
    assert typed_at_no_terminal.returncode == 2
    assert "no password given" in typed_at_no_terminal.stderr


@pytest.fixture(autouse=True)
def _no_admin_password(monkeypatch: Any) -> Iterator[None]:
    """Tests set CB_ADMIN_PASSWORD themselves."""
    monkeypatch.delenv("CB_ADMIN_PASSWORD", raising=False)
    yield


def test_run_py_leaves_the_first_admin_for_later_while_redis_is_away(monkeypatch: Any) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    gone = parse_config({"redis": {"url": "redis://127.0.0.1:1/0"}})
    assert run.first_admin(gone, "redis://127.0.0.1:1/0", retry_s=None) is False


@pytest.mark.parametrize(
    "argv", [["web", "--role", "district"], ["scenario", "--password-env", "X"], ["rules", "check", "wang"]]
)
def test_run_py_user_options_belong_to_user(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert run.main(argv) == 2
    assert "citybrain: " in capsys.readouterr().err
