"""Alert rules as configuration: bad rule sets stop with one line naming the rule and the field; the
shipped defaults load; a running engine refuses an invalid new rule set and keeps the old one."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml

from dashboard.alerts.config import AlertsConfig
from dashboard.alerts.engine import Engine, request_reload
from dashboard.alerts.inputs import Areas
from dashboard.alerts.rules import DEFAULTS_PATH, RuleError, default_rules, load_rules, rules_of
from dashboard.config import ROOT, ConfigError, load_config, parse_config
from dashboard.domain.geo import load_default_geography
from dashboard.domain.registry import default_registry
from dashboard.store import keys
from tests.test_alerts_engine import AREAS, RULES, Clock, drive, engine, history, must, state

GOOD: dict[str, Any] = {"name": "gas", "type": "threshold", "metric": "gas", "above": "warn", "for": "1m"}


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (
            {"name": "x", "type": "humidity"},
            "alerts.rules[1] (x).type: unknown rule type 'humidity' (known: off",
        ),
        ({"name": "x", "metric": "gas"}, "alerts.rules[1] (x).type: required field missing"),
        (
            {"name": "flood", "type": "threshold", "above": 0.3},
            "rules[1] (flood).metric: required field missing",
        ),
        (
            {"name": "flood", "type": "threshold", "metric": "water_depth", "above": 0.3},
            "alerts.rules[1] (flood).metric: unknown metric 'water_depth' (known: water_level,",
        ),
        (
            {"name": "flood", "type": "threshold", "metric": "water_level", "above": 0.3, "level": "purple"},
            "rules[1] (flood).level: Input should be 'blue', 'yellow', 'orange' or 'red' (got 'purple')",
        ),
        (
            {"name": "flood", "type": "threshold", "metric": "water_level"},
            "alerts.rules[1] (flood).above: set exactly one of above or below",
        ),
        (
            {"name": "flood", "type": "threshold", "metric": "water_level", "above": 30},
            "alerts.rules[1] (flood).above: 30 is outside water_level's range -1..10",
        ),
        (
            {"name": "flood", "type": "threshold", "metric": "water_level", "above": 0.3, "for": "soon"},
            "alerts.rules[1] (flood).for: want a duration such as 90s, 5m, 2h",
        ),
        (
            {"name": "flood", "type": "threshold", "metric": "water_level", "above": 0.3, "colour": "red"},
            "alerts.rules[1] (flood).colour: unknown field",
        ),
        (
            {
                "name": "flood",
                "type": "threshold",
                "metric": "water_level",
                "above": 0.3,
                "escalate_after": [{"after": "30m", "level": "blue"}],
            },
            "alerts.rules[1] (flood).escalate_after.0.level: blue is not above yellow",
        ),
        (
            {"name": "d", "type": "rate", "count": 3, "window": "2h", "category": "fights"},
            "alerts.rules[1] (d).category: unknown category 'fights'",
        ),
        ({"name": "d", "type": "rate", "count": 3}, "alerts.rules[1] (d).window: required field missing"),
        (
            {"name": "o", "type": "offline", "target": "camera", "above_percent": 130},
            "alerts.rules[1] (o).above_percent: Input should be less than or equal to 100",
        ),
        (
            {"name": "s", "type": "stale", "target": "feed", "tags": ["low_lying"]},
            "alerts.rules[1] (s).tags: only for target: sensor",
        ),
        ({**GOOD, "name": "Gas Leak"}, "alerts.rules[1] (Gas Leak).name: String should match pattern"),
        (GOOD, "alerts.rules[1] (gas).name: duplicate rule name (also rules[0])"),
    ],
)
def test_bad_rules_name_the_rule_and_the_field(rule: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config({"alerts": {"rules": [GOOD, rule]}}, "cfg.yaml")
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith("cfg.yaml: ")
    assert expected in msg


def test_unknown_area_is_refused_against_the_geography() -> None:
    areas = Areas.from_geography(load_default_geography())
    with pytest.raises(RuleError, match=r"rules\[0\] \(gas\)\.area: unknown area id 'ZM-C99'"):
        load_rules([{**GOOD, "area": "ZM-C99"}], areas=areas)
    with pytest.raises(RuleError, match=r"rules\[0\] \(gas\)\.tags\.0: no cell has tag 'lowlying'"):
        load_rules([{**GOOD, "tags": ["lowlying"]}], areas=areas)
    assert load_rules([{**GOOD, "area": "ZM-C01", "tags": ["low_lying"]}], areas=areas)[0].area == "ZM-C01"


def test_config_rules_and_defaults() -> None:
    cfg = parse_config({"alerts": {"rules": [GOOD], "time_scale": 60}})
    assert [r.name for r in rules_of(cfg.alerts.rules)] == ["gas"]
    assert cfg.alerts.time_scale == 60
    assert parse_config({}).alerts.rules is None  # unset: the shipped defaults
    names = [r.name for r in rules_of(None)]
    assert {
        "flood-low-lying",
        "heat",
        "camera-blackout",
        "dispute-cluster",
        "urgent-overdue",
        "feed-stale",
    } <= set(names)
    load_rules(default_rules(), areas=Areas.from_geography(load_default_geography()))
    assert load_config(ROOT / "config.yaml").alerts.enabled


def test_default_thresholds_follow_the_registry() -> None:
    """The defaults name metrics the registry has; warn/alarm mean each sensor's own thresholds."""
    metrics = {s.metric for s in default_registry().sensors.values()}
    for rule in default_rules():
        metric = getattr(rule, "metric", None)
        assert metric is None or metric in metrics, rule.name


def test_docs_carry_the_shipped_defaults() -> None:
    """docs/ALERTS.md shows defaults.yaml verbatim, as a config block one can paste into config.yaml."""
    doc = (ROOT / "docs" / "ALERTS.md").read_text(encoding="utf-8")
    body = DEFAULTS_PATH.read_text(encoding="utf-8").split("rules:\n", 1)[1]
    assert body.strip() in doc
    block = re.search(r"```yaml\n(alerts:\n.*?)```", doc, re.S)
    assert block is not None
    cfg = parse_config(yaml.safe_load(block.group(1)))
    assert [r.name for r in rules_of(cfg.alerts.rules)] == [r.name for r in default_rules()]


def test_a_rules_file(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("alerts:\n  rules:\n    - {name: heat, type: threshold, metric: temp, above: 37}\n")
    with pytest.raises(ConfigError, match=r"alerts\.rules\[0\] \(heat\)\.metric: unknown metric 'temp'"):
        load_config(p)


# --- hot reload ---------------------------------------------------------------------------------------


def test_hot_reload_refuses_an_invalid_set_and_keeps_the_old_rules(r: redis.Redis) -> None:
    clock = Clock()
    e = engine(r, clock)
    drive(r, e, clock, clock.t + 6 * 60_000, 0.4)
    assert must(r, "flood:W1").status == "firing"
    bad = [*RULES, {"name": "heat", "type": "threshold", "metric": "temperatur", "above": 37}]
    with pytest.raises(RuleError, match=r"rules\[2\] \(heat\)\.metric: unknown metric"):
        e.reload(bad)
    assert [x.name for x in e.rules] == ["flood", "urgent"]
    drive(r, e, clock, clock.t + 2 * 60_000, 0.4)
    assert must(r, "flood:W1").status == "firing"

    # a valid set: kept rules keep their instances, a changed level applies, a new rule starts fresh
    changed = [{**RULES[0], "level": "orange"}, RULES[1], {**RULES[0], "name": "flood2", "for": 0}]
    e.reload(changed)
    drive(r, e, clock, clock.t + 60_000, 0.4)
    st = state(r, "flood:W1")
    assert st is not None and st.status == "firing" and st.level == "orange"
    assert must(r, "flood2:W1").status == "firing"
    assert sum(1 for t in history(r, "flood:W1") if t.from_status == "normal") == 1

    e.reload([RULES[1]])  # flood removed: its alert goes back to normal, with the reason
    drive(r, e, clock, clock.t + 60_000, 0.4)
    assert state(r, "flood:W1") is None and state(r, "flood2:W1") is None
    assert history(r, "flood:W1")[-1].reason == "rule removed or disabled"


def test_reload_through_redis(r: redis.Redis) -> None:
    clock = Clock()
    e = engine(r, clock)
    e.step()
    with pytest.raises(RuleError):
        request_reload(r, [{"name": "x", "type": "nope"}])
    assert not r.exists(keys.ALERT_CONTROL)  # an invalid set is not even sent
    request_reload(r, [RULES[0]])
    clock.t += 5000
    e.step()
    assert [x.name for x in e.rules] == ["flood"]
    outcome = r.hgetall(keys.ALERT_RULES)
    assert outcome["ok"] == "1" and json.loads(outcome["names"]) == ["flood"]
    # valid where it was checked, invalid against the engine's areas: refused, old rules kept
    r.hset(keys.ALERT_CONTROL, mapping={"rules": json.dumps([{**RULES[0], "area": "NOWHERE"}])})
    clock.t += 5000
    e.step()
    assert [x.name for x in e.rules] == ["flood"]
    outcome = r.hgetall(keys.ALERT_RULES)
    assert outcome["ok"] == "0" and "area: unknown area id 'NOWHERE'" in outcome["error"]


def test_engine_refuses_rules_for_unknown_areas(r: redis.Redis) -> None:
    with pytest.raises(RuleError, match=r"\(flood\)\.tags\.0: no cell has tag"):
        Engine(r, AlertsConfig(), load_rules([{**RULES[0], "tags": ["riverside"]}]), AREAS, "e")
