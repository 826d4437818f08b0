"""run.py's commands other than the roles: switch the simulator's scenario, check, hot-reload or show
the alert rules, and manage the users (``python run.py scenario NAME``, ``python run.py rules
check|reload|defaults``, ``python run.py user add|passwd|disable|enable|roles|list``)."""

from __future__ import annotations

import getpass
import os
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import redis

from dashboard.alerts.engine import request_reload
from dashboard.alerts.inputs import Areas
from dashboard.alerts.rules import DEFAULTS_PATH, RuleError, load_rules, rules_of
from dashboard.config import AppConfig
from dashboard.domain.access import RoleError, parse_roles
from dashboard.domain.types import epoch_ms
from dashboard.store import keys
from dashboard.store.client import connect
from dashboard.store.users import User, UserError, Users, check_password, normal_name
from feeds.sim.scenarios import SCENARIO_NAMES, describe
from feeds.simulator import request_scenario, scenario_status

RULE_COMMANDS = ("check", "reload", "defaults")
USER_COMMANDS = ("add", "passwd", "disable", "enable", "roles", "list")


def redis_url(cfg: AppConfig) -> str:
    """The external Redis, else the embedded server's socket in the data folder."""
    return cfg.redis_url() or f"unix://{Path(cfg.redis.data_dir) / 'redis.sock'}"


def scenario(cfg: AppConfig, name: str | None, area: str | None) -> int:
    """Set the simulator's control key (``scenario NAME``), or list the scenarios and the current one."""
    url = redis_url(cfg)
    client = connect(url, socket_connect_timeout=5)
    try:
        if name is None:
            print(describe())
            now = scenario_status(client)
            print(
                f"now: {now.get('scenario', 'unknown (no simulator state)')} {now.get('area', '')}".rstrip()
            )
            return 0
        if name not in SCENARIO_NAMES:
            print(f"citybrain: unknown scenario {name!r}; known:\n{describe()}", file=sys.stderr)
            return 2
        if area:
            try:
                cfg.geography.load().area(area)
            except KeyError:
                print(f"citybrain: unknown area {area!r} (want a subdistrict, community or cell id)",
                      file=sys.stderr)  # fmt: skip
                return 2
        fields = request_scenario(client, name, area)
    except redis.RedisError as err:
        print(f"citybrain: cannot reach Redis at {url}: {err}", file=sys.stderr)
        return 1
    finally:
        client.close()
    shown = " ".join(f"{k}={v}" for k, v in fields.items())
    print(f"set {keys.SIM_CONTROL}: {shown} (the simulator takes it within about a second)")
    return 0


def rules(cfg: AppConfig, command: str) -> int:
    """``check``: validate the configured rules (or the shipped defaults) against the geography; exit 1
    with the line naming the rule and the field when one is wrong. ``reload``: the same, then ask the
    running engine to load them (it refuses an invalid set and keeps its rules, and says so in
    ``keys.ALERT_RULES``). ``defaults``: print the shipped default rule set (YAML)."""
    if command == "defaults":
        print(DEFAULTS_PATH.read_text(encoding="utf-8"), end="")
        return 0
    try:
        checked = load_rules(rules_of(cfg.alerts.rules), areas=Areas.from_geography(cfg.geography.load()))
    except RuleError as err:
        print(f"citybrain: {err}", file=sys.stderr)
        return 1
    source = "alerts.rules" if cfg.alerts.rules is not None else str(DEFAULTS_PATH)
    print(f"{len(checked)} rules valid ({source}): {', '.join(r.name for r in checked)}")
    if command == "check":
        return 0
    with connect(redis_url(cfg)) as client:
        stamp = str(request_reload(client, checked, by="cli"))
        outcome: dict[str, str] = {}
        for _ in range(60):  # the engine takes requests about every 2 s
            time.sleep(0.1)
            outcome = client.hgetall(keys.ALERT_RULES)
            if outcome.get("requested_ms") == stamp:
                break
        else:
            print("sent; no engine has answered within 6 s (is the processor role running?)")
            return 0
    if outcome.get("ok") == "1":
        print("engine: loaded")
        return 0
    print(f"engine: refused, old rules kept: {outcome.get('error', '')}", file=sys.stderr)
    return 1


def user(
    cfg: AppConfig, command: str | None, name: str | None, roles: Sequence[str], password_env: str | None
) -> int:
    """``user add NAME --role R [--role R2]``, ``passwd NAME``, ``disable NAME``, ``enable NAME``, ``roles
    NAME --role R ...``, ``list``, on the running system's Redis (as ``scenario``). A password comes from a
    prompt asked twice, or from the environment variable ``--password-env`` names; never from the command
    line. Exit 0 done, 2 a wrong request (unknown user, bad role or area, weak password), 1 no Redis."""
    if command not in USER_COMMANDS:
        return _fail(f"user wants one of {', '.join(USER_COMMANDS)}")
    if command == "list":
        if name is not None or roles:
            return _fail("user list takes no name and no --role")
    elif name is None:
        return _fail(f"user {command} wants a user name: python run.py user {command} NAME")
    if command in ("add", "roles") and not roles:
        return _fail(f"user {command} wants at least one --role (district, subdistrict:<id>, community:<id>, "
                     "wall:<area id>, admin)")  # fmt: skip
    if command not in ("add", "roles") and roles:
        return _fail(f"user {command} takes no --role")
    if password_env is not None and command not in ("add", "passwd"):
        return _fail(f"user {command} takes no --password-env")
    url = redis_url(cfg)
    client = connect(url, socket_connect_timeout=5)
    users = Users(client, min_password=cfg.auth.min_password_length)
    try:
        if command == "list":
            _list(users.all(), cfg.timezone)
            return 0
        assert name is not None
        name = normal_name(name)
        parsed = parse_roles(roles, cfg.geography.load()) if roles else ()
        now = epoch_ms()
        if command == "add":
            if users.get(name) is not None:  # asked before the password is typed
                raise UserError("name", f"user {name!r} exists already")
            done = users.add(name, _password(name, password_env, cfg.auth.min_password_length), parsed, now)
            print(f"added user {done.name} (roles: {', '.join(done.roles)})")
        elif command == "passwd":
            if users.get(name) is None:
                raise UserError("name", f"no user {name!r}")
            users.set_password(name, _password(name, password_env, cfg.auth.min_password_length), now)
            print(f"new password for {name}; their sessions end")
        elif command == "roles":
            done = users.set_roles(name, parsed, now)
            print(f"roles of {name}: {', '.join(done.roles)}; their sessions end")
        else:
            done = users.set_disabled(name, command == "disable", now)
            state = "disabled: they cannot sign in, their sessions end" if done.disabled else "enabled"
            print(f"{name} {state}")
    except (UserError, RoleError) as err:
        return _fail(str(err))
    except redis.RedisError as err:
        print(f"citybrain: cannot reach Redis at {url}: {err}", file=sys.stderr)
        return 1
    finally:
        client.close()
    return 0


def _fail(message: str) -> int:
    """Say what is wrong on stderr; exit code 2."""
    print(f"citybrain: {message}", file=sys.stderr)
    return 2


def _password(name: str, env_var: str | None, min_length: int) -> str:
    """The new password: from the environment variable ``env_var``, else typed twice at a prompt."""
    if env_var is not None:
        value = os.environ.get(env_var)
        if value is None:
            raise UserError("password", f"environment variable {env_var} is not set")
        check_password(name, value, min_length)
        return value
    try:
        first = getpass.getpass(f"new password for {name} (at least {min_length} characters): ")
        check_password(name, first, min_length)
        second = getpass.getpass("the same again: ")
    except EOFError:
        raise UserError(
            "password", "no password given: type it at a terminal, or use --password-env VAR"
        ) from None
    if first != second:
        raise UserError("password", "the two passwords differ; nothing changed")
    return first


def _list(users: list[User], timezone: str) -> None:
    """One line per user: name, state, roles, when created and last changed (no hashes)."""
    tz = ZoneInfo(timezone)

    def when(ms: int) -> str:
        return datetime.fromtimestamp(ms / 1000, tz).isoformat(sep=" ", timespec="seconds")

    if not users:
        print("no users")
        return
    width = max(len(u.name) for u in users)
    for u in users:
        state = "disabled" if u.disabled else "enabled"
        print(f"{u.name:<{width}}  {state:<8}  created {when(u.created_ms)}  changed {when(u.changed_ms)}  "
              f"roles: {', '.join(u.roles)}")  # fmt: skip
