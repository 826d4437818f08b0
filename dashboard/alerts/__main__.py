"""``python -m dashboard.alerts check|reload|defaults [--config PATH]``: validate, hot-reload, show rules.

- ``check``: validate the configured rules (or the shipped defaults) against the geography; exit 1 with
  the line naming the rule and the field when one is wrong;
- ``reload``: the same, then ask the running engine to load them (needs REDIS_URL or redis.url; the
  engine refuses an invalid set and keeps its rules, and says so in ``{cb}:alert:rules``);
- ``defaults``: print the shipped default rule set (YAML).
"""

from __future__ import annotations

import argparse
import sys
import time

import redis

from dashboard.alerts.engine import request_reload
from dashboard.alerts.inputs import Areas
from dashboard.alerts.rules import DEFAULTS_PATH, RuleError, load_rules, rules_of
from dashboard.config import ConfigError, load_config
from dashboard.domain.geo import load_geography
from dashboard.store import keys


def main(argv: list[str] | None = None) -> int:
    """Run one command; return the exit code."""
    p = argparse.ArgumentParser(prog="python -m dashboard.alerts", description=__doc__.splitlines()[0])
    p.add_argument("command", choices=("check", "reload", "defaults"))
    p.add_argument("--config", default=None, help="config file (default: config.yaml)")
    args = p.parse_args(argv)
    if args.command == "defaults":
        print(DEFAULTS_PATH.read_text(encoding="utf-8"), end="")
        return 0
    try:
        cfg = load_config(args.config)
        g = cfg.geography
        areas = Areas.from_geography(load_geography(g.district, g.subdistricts, g.communities, g.cells))
        rules = load_rules(rules_of(cfg.alerts.rules), areas=areas)
    except (ConfigError, RuleError) as err:
        print(f"citybrain: {err}", file=sys.stderr)
        return 1
    source = "alerts.rules" if cfg.alerts.rules is not None else str(DEFAULTS_PATH)
    print(f"{len(rules)} rules valid ({source}): {', '.join(r.name for r in rules)}")
    if args.command == "check":
        return 0
    url = cfg.redis_url()
    if url is None:
        print("citybrain: reload needs REDIS_URL (or redis.url in the config)", file=sys.stderr)
        return 2
    with redis.Redis.from_url(url, decode_responses=True) as client:
        stamp = str(request_reload(client, rules, by="cli"))
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


if __name__ == "__main__":
    raise SystemExit(main())
