"""Hot reload of the alert rules: SIGHUP to run.py (or `run.py reload`) applies a valid rule set without a
restart; an invalid file is refused with the reason and the old rules keep running."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

from dashboard.store import keys
from tests.conftest import ROOT, App, wait_for

RULE = """
    - name: {name}
      type: threshold
      level: yellow
      metric: water_level
      above: 0.3
      clear: 0.15
      for: 5m
"""


def write_rules(cfg: Path, *names: str) -> None:
    """A config file with threshold rules of these names."""
    cfg.write_text("alerts:\n  rules:" + "".join(RULE.format(name=n) for n in names))


def running_rules(app: App) -> list[str]:
    """The rule names the engine reported after its last reload."""
    raw = app.client().hget(keys.ALERT_RULES, "names")
    return list(json.loads(raw)) if raw else []


def test_sighup_reloads_and_a_bad_file_keeps_the_old_rules(short_tmp: Path) -> None:
    cfg = short_tmp / "config.yaml"
    write_rules(cfg, "flood-a")
    app = App(short_tmp, "--no-simulator", "--config", str(cfg)).start()
    try:
        assert app.proc is not None
        write_rules(cfg, "flood-a", "flood-b")
        app.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: running_rules(app) == ["flood-a", "flood-b"], 30, 0.2, "the reloaded rules")
        assert app.proc.poll() is None  # reloaded, not restarted

        cfg.write_text("alerts:\n  rules:\n    - name: broken\n      type: threshold\n      level: yellow\n")
        out = subprocess.run(
            [sys.executable, str(ROOT / "run.py"), "reload", "--config", str(cfg),
             "--data-dir", str(short_tmp / "redis")],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert out.returncode != 0
        assert "broken" in out.stderr  # the error names the rule
        assert running_rules(app) == ["flood-a", "flood-b"]  # the old rules keep running
    finally:
        app.stop()
