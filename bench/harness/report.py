"""A benchmark's report: its title, command and machine lines, its tables as they are printed, the
``BENCH_JSON`` line bench/run_all.py collects, and the formatting of figures."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support import ROOT

RESULT_PREFIX = "BENCH_JSON "


# ------------------------------------------------------------------------------------------ the machine


def _cpu_model() -> str:
    """The CPU model lscpu names ('' if it cannot)."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        for line in subprocess.run(["lscpu"], capture_output=True, text=True, timeout=5).stdout.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    return ""


def _memory() -> str:
    """Total memory in GiB ('' if unknown)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return ""


def _chromium() -> str:
    """Chromium's version line ('' if it cannot say)."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        exe = shutil.which("chromium") or "/usr/bin/chromium"
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=20).stdout
        return out.strip().split(" built")[0]
    return ""


def machine() -> dict[str, str]:
    """This machine: CPU model, cores, memory, OS, Python, Chromium, load."""
    return {
        "cpu": _cpu_model() or platform.processor() or platform.machine(),
        "cores": str(len(os.sched_getaffinity(0))),
        "memory": _memory(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "chromium": _chromium(),
        "load average 1/5/15 min": " / ".join(f"{x:.1f}" for x in os.getloadavg()),
    }


def command() -> str:
    """The command line that ran this benchmark, as one would type it from the repository root."""
    script = Path(sys.argv[0]).resolve()
    with contextlib.suppress(ValueError):
        script = script.relative_to(ROOT)
    return " ".join([".venv/bin/python", str(script), *sys.argv[1:]])


# ------------------------------------------------------------------------------------------ figures


def pct(xs: list[float], p: float) -> float | None:
    """The p-th percentile (nearest rank, 0..100) of ``xs``; None for no data."""
    if not xs:
        return None
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(len(s) * p / 100 + 0.5) - 1))]


def median(xs: list[float]) -> float | None:
    """The median, or None for no data."""
    return statistics.median(xs) if xs else None


def ms(x: float | None) -> str:
    """Seconds as milliseconds text (``–`` for no data)."""
    return "–" if x is None else f"{x * 1000:,.0f} ms"


def size(n: float | None) -> str:
    """Bytes as text (B, KB, MB; 1 KB = 1,000 B)."""
    if n is None:
        return "–"
    if abs(n) < 1000:
        return f"{n:,.0f} B"
    if abs(n) < 1e6:
        return f"{n / 1e3:,.1f} KB"
    return f"{n / 1e6:,.2f} MB"


def ratio(baseline: float | None, product: float | None) -> str:
    """How many times the product's figure is smaller than the baseline's (``–`` if unknown)."""
    if not baseline or not product:
        return "–"
    return f"{baseline / product:,.1f}×"


# ------------------------------------------------------------------------------------------ the report


@dataclass
class Report:
    """A benchmark's printed figures: sections of tables, then one JSON line for bench/run_all.py."""

    title: str
    started: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))
    sections: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def table(self, heading: str, columns: list[str], rows: list[list[Any]], note: str = "") -> None:
        """Add a table and print it at once."""
        rows = [[str(x) for x in row] for row in rows]
        self.sections.append({"heading": heading, "columns": columns, "rows": rows, "note": note})
        print(f"\n{heading}")
        widths = [max(len(str(x)) for x in col) for col in zip(columns, *rows, strict=True)]
        for row in [columns, *rows]:
            print("  " + "  ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=True)))
        if note:
            print(f"  ({note})")

    def note(self, text: str) -> None:
        """Add a remark (printed at once)."""
        self.notes.append(text)
        print(f"note: {text}")

    def done(self) -> None:
        """Print the JSON line bench/run_all.py collects."""
        body = {
            "title": self.title,
            "command": command(),
            "date": self.started,
            "machine": machine(),
            "sections": self.sections,
            "notes": self.notes,
        }
        print(RESULT_PREFIX + json.dumps(body, ensure_ascii=False))


def header(title: str) -> Report:
    """Print the title, the command and the machine line; return the report to fill."""
    rep = Report(title)
    m = machine()
    print(title)
    print(f"command: {command()}")
    print(f"date: {rep.started}")
    print("machine: " + ", ".join(f"{k} {v}" for k, v in m.items() if v))
    return rep


def run_each(systems: str, fn: Callable[[str], Any], rep: Report) -> tuple[list[str], dict[str, Any]]:
    """Run ``fn(system)`` for each of the comma-separated ``systems``; a system that fails is noted in
    the report (what went wrong) instead of stopping the others. Return (systems measured, results)."""
    got: dict[str, Any] = {}
    for s in [x.strip() for x in systems.split(",") if x.strip()]:
        try:
            got[s] = fn(s)
        except Exception as err:  # reported, not hidden: the figures say which system could not be measured
            first = (str(err).strip().splitlines() or [""])[0]
            rep.note(f"{s}: could not be measured: {type(err).__name__}: {first[:400]}")
    return list(got), got
