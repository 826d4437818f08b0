"""Smoke test of the benchmark runner: bench/run_all.py runs a benchmark's smallest mode and renders its
figures (the values are not asserted: speed is for bench/, never for tests)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))


def test_run_all_renders_a_benchmark_without_touching_the_doc() -> None:
    """``run_all.py --only cameras --quick --no-write`` runs it and prints the document with its figures."""
    doc = ROOT / "docs" / "PERFORMANCE.md"
    before = doc.read_bytes()
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run_all.py"), "--only", "cameras", "--quick", "--no-write"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    generated = out.stdout.split("<!-- bench/run_all.py rewrites everything below this line", 1)
    assert len(generated) == 2, "the document's marker is missing"
    assert "## Measured by `bench/run_all.py`" in generated[1]
    assert "bench_cameras.py" in generated[1] and "all 16,000 changed" in generated[1]
    assert "Machine: " in generated[1] and "cores " in generated[1]
    assert doc.read_bytes() == before


def test_a_report_line_becomes_markdown_tables() -> None:
    """A benchmark's BENCH_JSON line (harness.Report) is rendered as a titled table with its command."""
    import harness
    import run_all

    rep = harness.Report("Demo")
    rep.table(
        "1. Something", ["system", "p95"], [["product", "12 ms"], ["baseline", "1,200 ms"]], "target: x"
    )
    body = {"title": rep.title, "command": "cmd --quick", "date": rep.started, "machine": {},
            "sections": rep.sections, "notes": ["a remark"]}  # fmt: skip
    line = harness.RESULT_PREFIX + json.dumps(body)
    parsed = json.loads(line.removeprefix(harness.RESULT_PREFIX))
    md = "\n".join(run_all.section({"report": parsed, "seconds": 3.0, "script": "bench_demo.py", "exit": 0}))
    assert "### Demo" in md and "`cmd --quick`" in md
    assert "| system | p95 |" in md and "| baseline | 1,200 ms |" in md
    assert "_target: x_" in md and "- a remark" in md
