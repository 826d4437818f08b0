"""One owner of every Redis name: ``dashboard/store`` spells keys, streams and hash fields; nothing else
does. Checked twice: by reading the tree (no key or field grammar spelled outside the store, in Python or
in the browser's code), and by running the whole system and looking at every key it wrote (each carries
the hash tag, so that one operation stays in one Redis Cluster slot). The tests themselves are left out:
they check the stored layout against literal expectations."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dashboard.domain.types import epoch_ms
from dashboard.store import keys
from tests.conftest import ROOT, App, http_post, wait_for

SCANNED = ["dashboard", "feeds", "layouts", "bench", "data", "assets", "run.py"]
OWNER = ROOT / "dashboard" / "store"
SUFFIXES = {".py", ".js"}
STEPS = (
    "reported|registered|cancelled|dispatched|returned|handled|feedback|verified|closed|reopened|escalated"
)
SPELLINGS = {
    "the hash tag": re.compile(r"\{cb\}"),
    "a key name": re.compile(r"""["'`][\w{}]*:(?:rm|in|out|alert|sim|feed|ingest):"""),
    "a counter field (scope)": re.compile(r"""["'`](?:district|subdistrict|community|cell|dept|cat):"""),
    "a counter field (inner scope)": re.compile(
        r""":(?:district|subdistrict|community|cell|dept|cat):["'`]"""
    ),
    "a counter field (step or part)": re.compile(
        rf"""["'`](?:{STEPS}|ontime|late|readings|dur|hdur|into):"""
    ),
}


def scanned_files() -> list[Path]:
    """The tree's code outside the store (and outside tests, docs and vendored files)."""
    out = []
    for top in SCANNED:
        base = ROOT / top
        for path in [base] if base.is_file() else sorted(base.rglob("*")):
            if path.suffix in SUFFIXES and OWNER not in path.parents and "vendor" not in path.parts:
                out.append(path)
    return out


def test_no_redis_name_is_spelled_outside_the_store() -> None:
    found = []
    for path in scanned_files():
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for what, pattern in SPELLINGS.items():
                if pattern.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{n}: {what}: {line.strip()[:100]}")
    assert len(scanned_files()) > 80  # the scan sees the tree
    assert found == [], "Redis names spelled outside dashboard/store:\n" + "\n".join(found)


@pytest.mark.parametrize("line", ['x = "{cb}:rm:open"', "k = f'{TAG}:rm:day:{d}'", 'day["reported:cat:" + c]',
                                  'open_["dept:" + d]', "f'{step}:dept:'", 'h["hdur:cell:X:3"]'])  # fmt: skip
def test_the_scan_finds_each_kind_of_spelling(line: str) -> None:
    assert any(p.search(line) for p in SPELLINGS.values()), line


def test_every_key_the_running_system_writes_carries_the_hash_tag(short_tmp: Path) -> None:
    """The whole system (simulator at 60x in a storm, so flood warnings fire within a minute or two;
    processor, health job, alert engine, web) and an HTTP ingest and an acknowledgement: afterwards every
    key in Redis starts with the tag."""
    app = App(short_tmp, "--speed", "60", "--scenario", "storm", "--config", str(short_tmp / "c.yaml"))
    (short_tmp / "c.yaml").write_text('ingest:\n  tokens:\n    t: "secret-token-1"\n', encoding="utf-8")
    app.start()
    try:
        r = app.client()
        status, _ = http_post(app.url + "/api/v1/case-events", {
            "event_id": "TAG-1", "case_id": "TAG-CASE", "time": epoch_ms(), "step": "reported",
            "event_type": "CM-0101", "cell_id": "ZM-0001",
        }, token="secret-token-1")  # fmt: skip
        assert status == 202
        wait_for(
            lambda: r.hlen(keys.HEALTH) > 0 and r.exists(keys.SENSOR_LAST), 90, what="health and readings"
        )
        alert = wait_for(lambda: r.zrange(keys.ALERT_ACTIVE, 0, 0), 120, what="an alert")
        http_post(app.url + f"/ui/alerts/{alert[0]}/ack", {"actor": "王值班"})
        found = list(r.scan_iter(count=1000))
        assert len(found) > 20
        assert [k for k in found if not k.startswith(keys.TAG + ":")] == []
    finally:
        app.stop()
