"""run.py's commands other than the roles: switch the simulator's scenario, and check, hot-reload or show
the alert rules (``python run.py scenario NAME``, ``python run.py rules check|reload|defaults``)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import redis

from dashboard.alerts.engine import request_reload
from dashboard.alerts.inputs import Areas
from dashboard.alerts.rules import DEFAULTS_PATH, RuleError, load_rules, rules_of
from dashboard.config import AppConfig
from dashboard.store import keys
from dashboard.store.client import connect
from feeds.sim.scenarios import SCENARIO_NAMES, describe
from feeds.simulator import request_scenario, scenario_status

RULE_COMMANDS = ("check", "reload", "defaults")


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
