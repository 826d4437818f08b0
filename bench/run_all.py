"""Run every benchmark in bench/ and rewrite docs/PERFORMANCE.md from what they print.

Each ``bench/bench_*.py`` runs as its own process (``--quick`` passed on with ``--quick``). A benchmark
that ends its output with a ``BENCH_JSON {...}`` line (bench/harness/report.py's Report) becomes tables; any
other's printed output is kept as it printed it. The document keeps everything above the marker line
(the hand-written explanations) and replaces everything below it with this run's machine, date,
commands and figures. Nothing is hard-coded: a benchmark that fails is reported as failed, with the
end of its output.

Run: ``.venv/bin/python bench/run_all.py [--quick] [--only wall_latency,cameras] [--no-write]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from harness import ROOT
from harness.report import RESULT_PREFIX, machine

BENCH = Path(__file__).resolve().parent
DOC = ROOT / "docs" / "PERFORMANCE.md"
MARKER = "<!-- bench/run_all.py rewrites everything below this line; edit only above it -->"
# Product-wide figures first, then the wall's (each against the baseline).
ORDER = [
    "bench_processor", "bench_health", "bench_http_ingest", "bench_ingest_sensors", "bench_cameras",
    "bench_storm_lag", "bench_wall_latency", "bench_wall_bytes", "bench_wall_viewers",
    "bench_wall_first_screen", "bench_wall_soak",
]  # fmt: skip


def scripts(only: str | None) -> list[Path]:
    """The benchmarks to run, in ORDER (any other bench_*.py after them)."""
    found = sorted(BENCH.glob("bench_*.py"))
    rank = {name: i for i, name in enumerate(ORDER)}
    found.sort(key=lambda p: (rank.get(p.stem, len(ORDER)), p.stem))
    if only:
        wanted = {w.strip().removeprefix("bench_") for w in only.split(",") if w.strip()}
        found = [p for p in found if p.stem.removeprefix("bench_") in wanted]
    return found


def run(script: Path, quick: bool, timeout: float) -> dict[str, Any]:
    """Run one benchmark, echoing its output; return its report (or its output and exit status).
    ``--quick`` goes only to a benchmark that has that option (others run as they are)."""
    quick = quick and '"--quick"' in script.read_text(encoding="utf-8")
    argv = [sys.executable, str(script), *(["--quick"] if quick else [])]
    print(f"\n=== {' '.join(argv)}", flush=True)
    t0 = time.monotonic()
    lines: list[str] = []
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if not line.startswith(RESULT_PREFIX):
                print(line, end="", flush=True)
            if time.monotonic() - t0 > timeout:
                proc.kill()
                lines.append(f"(stopped after {timeout:.0f} s)")
                break
    finally:
        code = proc.wait()
    out: dict[str, Any] = {"script": script.name, "exit": code, "seconds": time.monotonic() - t0}
    out["command"] = " ".join([".venv/bin/python", f"bench/{script.name}", *(["--quick"] if quick else [])])
    report = next((ln for ln in reversed(lines) if ln.startswith(RESULT_PREFIX)), None)
    if code == 0 and report is not None:
        out["report"] = json.loads(report.removeprefix(RESULT_PREFIX))
    else:
        out["output"] = [ln for ln in lines if not ln.startswith(RESULT_PREFIX)]
    return out


def md_table(columns: list[str], rows: list[list[str]]) -> list[str]:
    """A markdown table."""

    def esc(x: str) -> str:
        """A table cell with its pipes escaped."""
        return str(x).replace("|", "\\|")

    out = ["| " + " | ".join(esc(c) for c in columns) + " |", "|" + " --- |" * len(columns)]
    out += ["| " + " | ".join(esc(x) for x in row) + " |" for row in rows]
    return out


def section(res: dict[str, Any]) -> list[str]:
    """The markdown of one benchmark's results."""
    rep = res.get("report")
    if rep is None:
        title = res["script"]
        status = "finished" if res["exit"] == 0 else f"**failed** (exit {res['exit']})"
        body = res["output"] if res["exit"] == 0 else res["output"][-30:]
        return [f"### {title}", "", f"`{res['command']}`: {status}, {res['seconds']:.0f} s; its output:", "",
                "```", *body, "```", ""]  # fmt: skip
    out = [f"### {rep['title']}", "", f"`{rep['command']}` ({rep['date']}, {res['seconds']:.0f} s)", ""]
    for sec in rep["sections"]:
        out += [f"**{sec['heading']}**", "", *md_table(sec["columns"], sec["rows"]), ""]
        if sec.get("note"):
            out += [f"_{sec['note']}_", ""]
    for note in rep.get("notes", []):
        out += [f"- {note}", ""]
    return out


def document(header: str, results: list[dict[str, Any]], quick: bool, started: str) -> str:
    """The whole PERFORMANCE.md: the kept header, the marker, this run."""
    m = machine()
    lines = [
        header.rstrip(), "", MARKER, "",
        "## Measured by `bench/run_all.py`", "",
        f"Run {started}: `.venv/bin/python bench/run_all.py{' --quick' if quick else ''}`"
        + (" (quick mode: short phases, few samples; indicative only)" if quick else "") + ".",
        "",
        "Machine: " + "; ".join(f"{k} {v}" for k, v in m.items() if v) + ".",
        "",
        "The wall benchmarks (bench/bench_wall_*.py, shared code in bench/harness/) measure the product "
        "against a baseline built the usual naive way (bench/baseline/: a Dash app whose 1 s interval "
        "callback re-reads Redis and returns the full cell and camera GeoJSON and the KPIs), on the same "
        "seeded workload (478 cells, 16,000 cameras, 1,100 sensors, 1,500 open cases) and the same "
        "processor. "
        "Every benchmark's docstring says exactly what it measures and how.",
        "",
    ]  # fmt: skip
    for res in results:
        lines += section(res)
    return "\n".join(lines).rstrip() + "\n"


def main() -> None:
    """Run, collect, write."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="pass --quick to every benchmark")
    ap.add_argument("--only", default=None, help="comma-separated names, e.g. wall_latency,cameras")
    ap.add_argument("--timeout", type=float, default=3600, help="seconds per benchmark")
    ap.add_argument("--no-write", action="store_true", help="print only; leave docs/PERFORMANCE.md alone")
    args = ap.parse_args()
    started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    results = [run(p, args.quick, args.timeout) for p in scripts(args.only)]
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Performance\n"
    header = text.split(MARKER, 1)[0]
    doc = document(header, results, args.quick, started)
    failed = [r["script"] for r in results if r["exit"] != 0]
    if args.no_write:
        print(doc)
    else:
        DOC.write_text(doc, encoding="utf-8")
        print(f"\nwrote {DOC.relative_to(ROOT)} ({len(results)} benchmarks, failed: {failed or 'none'})")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
