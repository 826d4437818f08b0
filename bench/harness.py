"""What the wall benchmarks share: the system under test, the seeded workload, a browser, a Socket.IO
listener, figures and their printing.

The system under test is the real product started through ``run.py`` roles (``processor`` and ``web``)
on an embedded Redis of its own, or the baseline (``bench/baseline/app.py``, the naive way) on the same
processor and Redis. The load is written straight into the input streams with the data contract's
records, so the benchmark controls it (no simulator). Nothing here is imported by the product.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dashboard.domain.geo import load_default_geography  # noqa: E402
from dashboard.domain.registry import METRIC_BY_NAME, Registry, default_registry  # noqa: E402
from dashboard.store import keys  # noqa: E402
from dashboard.store.keys import CAMERA_STATE  # noqa: E402
from dashboard.store.records import (  # noqa: E402
    STREAM_OF,
    CameraStatus,
    CaseEvent,
    Record,
    SensorReading,
    encode,
    kind_of,
)
from dashboard.store.server import EmbeddedRedis, free_port, set_pdeathsig  # noqa: E402

RESULT_PREFIX = "BENCH_JSON "
BASELINE_APP = Path(__file__).resolve().parent / "baseline" / "app.py"
PROBE_CELL = "SW-0001"  # the background load never touches it: its colour changes only by probes
SYSTEMS = ("product", "baseline")
# Open cases per cell -> colour: the wall's own class breaks (layouts/wall.py BINS/COLORS).
FILL_CLOSED = "#12303a"  # 0 open cases
FILL_OPEN = "#1d5c63"  # 1 open case


# ------------------------------------------------------------------------------------------ figures


def machine() -> dict[str, str]:
    """This machine: CPU model, cores, memory, OS, Python, Chromium."""
    model = ""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        for line in subprocess.run(["lscpu"], capture_output=True, text=True, timeout=5).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    mem = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    chromium = ""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        exe = shutil.which("chromium") or "/usr/bin/chromium"
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=20).stdout
        chromium = out.strip().split(" built")[0]
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    return {
        "cpu": model or platform.processor() or platform.machine(),
        "cores": str(len(os.sched_getaffinity(0))),
        "memory": mem,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "chromium": chromium,
        "load average 1/5/15 min": load,
    }


def command() -> str:
    """The command line that ran this benchmark, as one would type it from the repository root."""
    script = Path(sys.argv[0]).resolve()
    with contextlib.suppress(ValueError):
        script = script.relative_to(ROOT)
    return " ".join([".venv/bin/python", str(script), *sys.argv[1:]])


def pct(xs: list[float], p: float) -> float | None:
    """The p-th percentile (nearest rank, 0..100) of ``xs``; None for no data."""
    if not xs:
        return None
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(len(s) * p / 100 + 0.5) - 1))]


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


def run_each(systems: str, fn: Any, rep: Report) -> tuple[list[str], dict[str, Any]]:
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


def header(title: str) -> Report:
    """Print the title, the command and the machine line; return the report to fill."""
    rep = Report(title)
    m = machine()
    print(title)
    print(f"command: {command()}")
    print(f"date: {rep.started}")
    print("machine: " + ", ".join(f"{k} {v}" for k, v in m.items() if v))
    return rep


# ------------------------------------------------------------------------------------------ the system


def _http_ok(url: str) -> bool:
    """True when ``url`` answers (any HTTP status but 5xx from a half-started server counts as up)."""
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return bool(resp.status < 500)
    except urllib.error.HTTPError as err:
        return err.code < 500 or err.code == 503
    except OSError:
        return False


class Stack:
    """An embedded Redis and the product's processor; a web front (product or baseline) on top."""

    def __init__(
        self, system: str = "product", keep_logs: bool = False, feeds: list[str] | None = None
    ) -> None:
        """Prepare a stack whose web front is ``system`` (``product`` or ``baseline``); ``feeds``: also run
        the product's feeds role (the simulator) with these arguments."""
        if system not in SYSTEMS:
            raise ValueError(f"system must be one of {SYSTEMS}, not {system!r}")
        self.system = system
        self.dir = Path(tempfile.mkdtemp(prefix="cbw-"))
        self.redis = EmbeddedRedis(self.dir / "redis")
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.port = 0
        self.keep_logs = keep_logs
        self.r: redis.Redis | None = None
        self.feeds = feeds

    @property
    def url(self) -> str:
        """Base URL of the web front."""
        return f"http://127.0.0.1:{self.port}"

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        """Start a child that dies with us, its output in a log file."""
        env = dict(os.environ, REDIS_URL=self.redis.url, PYTHONUNBUFFERED="1")
        log = open(self.dir / f"{name}.log", "ab")  # noqa: SIM115  (closed with the process)
        proc = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=set_pdeathsig
        )
        log.close()
        self.procs[name] = proc
        return proc

    def start(self) -> Stack:
        """Start Redis, the processor and the web front; wait until the page answers."""
        self.redis.start()
        self.r = redis.Redis.from_url(self.redis.url, decode_responses=True)
        run = [sys.executable, str(ROOT / "run.py")]
        self._spawn("processor", [*run, "processor", "--log-level", "WARNING"])
        if self.feeds is not None:
            self._spawn("feeds", [*run, "feeds", "--log-level", "WARNING", *self.feeds])
        self.start_web()
        return self

    def start_web(self) -> None:
        """Start (or restart) the web front on a fresh port and wait for it."""
        self.port = free_port()
        if self.system == "product":
            argv = [
                sys.executable,
                str(ROOT / "run.py"),
                "web",
                "--port",
                str(self.port),
                "--log-level",
                "WARNING",
            ]
        else:
            argv = [sys.executable, str(BASELINE_APP), "--port", str(self.port)]
        self._spawn("web", argv)
        deadline = time.monotonic() + 90
        while not _http_ok(self.url + "/"):
            if self.procs["web"].poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.system} web did not start; log: {self.dir / 'web.log'}")
            time.sleep(0.2)

    def pid(self, name: str) -> int:
        """The process id of a child (``web``, ``processor``)."""
        return self.procs[name].pid

    def stop_child(self, name: str) -> None:
        """Stop one child (e.g. ``feeds``: the generator) and wait for it."""
        proc = self.procs[name]
        proc.terminate()
        proc.wait(15)

    def stop(self) -> None:
        """Stop every child, then Redis; remove the folder."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self.r is not None:
            self.r.close()
        self.redis.stop()
        if not self.keep_logs:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Stack:
        """Start."""
        return self.start()

    def __exit__(self, *exc: object) -> None:
        """Stop."""
        self.stop()


def drained(r: redis.Redis, group: str = "processor") -> bool:
    """True when the processor's group has read and acknowledged every input stream entry."""
    for stream in STREAM_OF.values():
        if not r.exists(stream):
            continue
        last = r.xinfo_stream(stream)["last-generated-id"]
        groups = {g["name"]: g for g in r.xinfo_groups(stream)}
        g = groups.get(group)
        if g is None or g["last-delivered-id"] != last or int(g["pending"]) > 0:
            return False
    return True


def wait_caught_up(r: redis.Redis, within_ms: int = 2000, timeout: float = 600.0) -> None:
    """Wait until the processor is at most ``within_ms`` behind every input stream (while a generator
    keeps writing, "drained" may never hold at the instant it is checked)."""
    deadline = time.monotonic() + timeout

    def behind() -> int:
        worst = 0
        for stream in STREAM_OF.values():
            if not r.exists(stream):
                continue
            last = int(r.xinfo_stream(stream)["last-generated-id"].split("-")[0])
            g = {x["name"]: x for x in r.xinfo_groups(stream)}.get("processor")
            done = int(g["last-delivered-id"].split("-")[0]) if g else 0
            worst = max(worst, last - done)
        return worst

    while behind() > within_ms:
        if time.monotonic() > deadline:
            raise RuntimeError("the processor did not catch up with the generator")
        time.sleep(0.5)


def wait_drained(r: redis.Redis, timeout: float = 600.0) -> float:
    """Wait until the processor has caught up; return the seconds it took."""
    t0 = time.monotonic()
    while not drained(r):
        if time.monotonic() - t0 > timeout:
            raise RuntimeError("the processor did not catch up")
        time.sleep(0.1)
    return time.monotonic() - t0


# ------------------------------------------------------------------------------------------ workload


def now_ms() -> int:
    """Wall clock, epoch ms."""
    return int(time.time() * 1000)


class Workload:
    """The seeded load: 16,000 cameras, 1,100 sensors, open cases over 478 cells, and the probe cell.

    ``seed`` makes two runs (product, baseline) write the same records in the same order. Writes go
    straight into the input streams (pipelined XADD of contract records, as ``feeds.base.Sink`` does).
    """

    MIX: ClassVar[dict[str, float]] = {"sensor": 0.66, "camera": 0.2, "case": 0.14}  # shares of the load

    def __init__(self, r: redis.Redis, seed: int = 7, open_cases: int = 1500) -> None:
        """Prepare the registries and the random source."""
        self.r = r
        self.rnd = random.Random(seed)
        self.reg: Registry = default_registry()
        self.cells = sorted(c_ for c_ in load_default_geography().cells if c_ != PROBE_CELL)
        self.cameras = list(self.reg.cameras.values())
        self.sensors = list(self.reg.sensors.values())
        self.status = {cam.id: "online" for cam in self.cameras}
        self.open: list[tuple[str, str]] = []  # (case id, cell) of open background cases
        self.open_cases = open_cases
        self.n_case = 0
        self.n_probe = 0
        self.written: dict[str, int] = {"sensor": 0, "camera": 0, "case": 0, "probe": 0}
        self.lock = threading.Lock()

    # --- records

    def _case(self, case_id: str, cell: str, step: str, ts: int) -> CaseEvent:
        """A case event of the benchmark's own cases."""
        return CaseEvent(
            event_id=f"{case_id}-{step}", case_id=case_id, ts=ts, step=step,  # type: ignore[arg-type,unused-ignore]
            event_type="CM-0101", category="city_management", cell_id=cell, source="bench",
        )  # fmt: skip

    def sensor(self, ts: int) -> SensorReading:
        """A plausible, unremarkable reading of a random sensor (below its warning level)."""
        s = self.rnd.choice(self.sensors)
        spec = METRIC_BY_NAME[s.metric]
        top = min(s.thresholds.warn, spec.hi)
        v = spec.lo + (top - spec.lo) * self.rnd.uniform(0.1, 0.6)
        return SensorReading(
            sensor_id=s.id, metric=s.metric, value=round(v, 2), unit=spec.unit, ts=ts, cell_id=s.cell_id
        )

    def camera(self, ts: int) -> CameraStatus:
        """A random camera changes state (online <-> offline)."""
        cam = self.rnd.choice(self.cameras)
        st = "offline" if self.status[cam.id] == "online" else "online"
        self.status[cam.id] = st
        return CameraStatus(camera_id=cam.id, status=st, ts=ts, cell_id=cam.cell_id)

    def case(self, ts: int) -> CaseEvent:
        """A new case reported in a random cell, or (when enough are open) one cancelled."""
        if len(self.open) >= self.open_cases and self.rnd.random() < 0.5:
            case_id, cell = self.open.pop(self.rnd.randrange(len(self.open)))
            return self._case(case_id, cell, "cancelled", ts)
        self.n_case += 1
        case_id, cell = f"BW{self.n_case:07d}", self.rnd.choice(self.cells)
        self.open.append((case_id, cell))
        return self._case(case_id, cell, "reported", ts)

    def mixed(self, n: int, ts: int) -> list[tuple[str, Record]]:
        """``n`` records of the steady mix."""
        out: list[tuple[str, Record]] = []
        kinds, weights = list(self.MIX), list(self.MIX.values())
        for kind in self.rnd.choices(kinds, weights, k=n):
            rec: Record = (
                self.sensor(ts)
                if kind == "sensor"
                else self.camera(ts)
                if kind == "camera"
                else self.case(ts)
            )
            out.append((kind, rec))
        return out

    # --- writing

    def write(self, records: Sequence[tuple[str, Record]]) -> None:
        """Append records to their streams in one pipeline (as feeds.base.Sink does)."""
        if not records:
            return
        with self.r.pipeline(transaction=False) as pipe:
            for _kind, rec in records:
                pipe.xadd(
                    STREAM_OF[kind_of(rec)],
                    encode(rec),  # type: ignore[arg-type]
                    maxlen=keys.INPUT_STREAMS_MAXLEN,
                    approximate=True,
                )
            pipe.execute()
        with self.lock:
            for kind, _ in records:
                self.written[kind] += 1

    def seed(self) -> None:
        """The starting state: every camera online, every sensor read once, ``open_cases`` open cases."""
        ts = now_ms()
        recs: list[tuple[str, Record]] = [
            ("camera", CameraStatus(camera_id=cam.id, status="online", ts=ts, cell_id=cam.cell_id))
            for cam in self.cameras
        ]
        recs += [("sensor", self.sensor(ts)) for _ in self.sensors]
        while len(self.open) < self.open_cases:
            recs.append(("case", self.case(ts)))
        for i in range(0, len(recs), 2000):
            self.write(recs[i : i + 2000])
        wait_drained(self.r, 300)

    def probe(self) -> tuple[float, str]:
        """Toggle the probe cell (a case reported there, then cancelled); return (write time, fill)."""
        self.n_probe += 1
        k = (self.n_probe + 1) // 2
        step = "reported" if self.n_probe % 2 else "cancelled"
        t = time.time()
        self.write([("probe", self._case(f"BP{k:06d}", PROBE_CELL, step, int(t * 1000)))])
        return t, FILL_OPEN if step == "reported" else FILL_CLOSED

    def storm(self, status: str) -> tuple[float, float]:
        """Every camera to ``status`` at once (a power cut, or power back); return (first, last) write."""
        ts = now_ms()
        recs: list[tuple[str, Record]] = []
        for cam in self.cameras:
            recs.append(("camera", CameraStatus(camera_id=cam.id, status=status, ts=ts, cell_id=cam.cell_id)))
        with self.lock:
            self.status.update(dict.fromkeys(self.status, status))
        t0 = time.time()
        for i in range(0, len(recs), 4000):
            self.write(recs[i : i + 4000])
        return t0, time.time()


class Load(threading.Thread):
    """A background writer at ``rate`` records per second (10 pipelined writes a second)."""

    def __init__(self, wl: Workload, rate: float) -> None:
        """Prepare; ``rate`` 0 writes nothing."""
        super().__init__(daemon=True, name="bench-load")
        self.wl = wl
        self.rate = rate
        self.halt = threading.Event()

    def run(self) -> None:
        """Write ``rate``/10 records every 100 ms until stopped (carrying fractions over)."""
        carry = 0.0
        next_t = time.monotonic()
        while not self.halt.is_set():
            carry += self.rate / 10
            n, carry = int(carry), carry - int(carry)
            with self.wl.lock:
                recs = self.wl.mixed(n, now_ms())
            self.wl.write(recs)
            next_t += 0.1
            self.halt.wait(max(0.0, next_t - time.monotonic()))

    def stop(self) -> None:
        """Stop and wait."""
        self.halt.set()
        self.join(5)


@contextlib.contextmanager
def load(wl: Workload, rate: float) -> Iterator[Load]:
    """Background load at ``rate`` records/s for the duration of a ``with`` block."""
    th = Load(wl, rate)
    th.start()
    try:
        yield th
    finally:
        th.stop()


# ------------------------------------------------------------------------------------------ browser

# Installed in every page before its own scripts: records, with the page's wall clock (Date.now(), the
# same system clock as the benchmark's time.time()), every change of the probe cell's fill, of the
# cameras KPI, and when the screen is first complete ("full screen": the 478 cells painted with a
# fill, the KPIs filled, and, when the page has a device layer (window.citybrain.devices), its devices
# loaded).
OBSERVER_JS = r"""
(function () {
  if (window.__bench) { return; }
  var B = window.__bench = { fills: [], kpi: [], full: null, fullPerf: null, paints: [], longtasks: [] };
  var lastFill = null, lastKpi = null, scheduled = false;
  function devicesReady() {
    var d = window.citybrain && window.citybrain.devices;
    if (!d) { return true; }
    if (typeof d.ready === "function") { return !!d.ready(); }
    if (typeof d.ready === "boolean") { return d.ready; }
    if (typeof d.count === "function") { return d.count() > 0; }
    if (typeof d.count === "number") { return d.count > 0; }
    return true;
  }
  function check() {
    scheduled = false;
    var t = Date.now();
    var el = document.querySelector("path.cell-%PROBE%");
    if (el) {
      var f = el.getAttribute("fill");
      if (f !== lastFill) {
        lastFill = f;
        B.fills.push([t, f]);
        requestAnimationFrame(function () {
          setTimeout(function () { B.paints.push([t, Date.now()]); }, 0);
        });
      }
    }
    var k = document.getElementById("kpi-cameras-online");
    var kt = k ? k.textContent : null;
    if (kt !== lastKpi) { lastKpi = kt; B.kpi.push([t, kt]); }
    if (B.full === null) {
      var cells = document.querySelectorAll("path.cell[fill]").length >= 478;
      var kpi = document.getElementById("kpi-open");
      kpi = !!(kpi && kpi.textContent && kpi.textContent !== "–");
      var dev = devicesReady();
      if (cells && B.cellsPerf === undefined) { B.cellsPerf = performance.now(); }
      if (kpi && B.kpiPerf === undefined) { B.kpiPerf = performance.now(); }
      if (cells && kpi && dev) { B.full = t; B.fullPerf = performance.now(); }
    }
  }
  function start() {
    new MutationObserver(check).observe(document.documentElement, {
      subtree: true, childList: true, attributes: true, characterData: true,
      attributeFilter: ["fill", "class"],
    });
    check();
    setInterval(check, 100);  // devices drawn on a canvas change no DOM: look again now and then
  }
  try {
    new PerformanceObserver(function (l) {
      l.getEntries().forEach(function (e) {
        if (B.longtasks.length < 5000) { B.longtasks.push([e.startTime, e.duration]); }
      });
    }).observe({ type: "longtask", buffered: true });
  } catch (e) { /* no longtask support */ }
  B.responses = [];  // the baseline's callback responses: [end (epoch ms), bytes on the wire, duration ms]
  try {
    performance.setResourceTimingBufferSize(100000);
    new PerformanceObserver(function (l) {
      l.getEntries().forEach(function (e) {
        if (e.name.indexOf("_dash-update-component") >= 0 && B.responses.length < 20000) {
          B.responses.push([performance.timeOrigin + e.responseEnd, e.transferSize, e.duration]);
        }
      });
    }).observe({ type: "resource", buffered: true });
  } catch (e) { /* no resource timing */ }
  if (document.documentElement) { start(); } else { document.addEventListener("DOMContentLoaded", start); }
})();
""".replace("%PROBE%", PROBE_CELL)


def chrome(extra: list[str] | None = None, profile: Path | None = None) -> Any:
    """A headless Chromium (Debian's chromedriver), precise memory info, a profile of its own."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    opts = Options()
    for arg in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync",
        "--window-size=1920,1080", "--enable-precise-memory-info", "--disable-background-timer-throttling",
        "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows",
        f"--user-data-dir={profile or tempfile.mkdtemp(prefix='cbw-chrome-')}", *(extra or []),
    ):  # fmt: skip
        opts.add_argument(arg)
    opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    driver = webdriver.Chrome(
        service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=opts
    )
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": OBSERVER_JS})
    driver.execute_cdp_cmd("Performance.enable", {"timeDomain": "threadTicks"})
    return driver


def wait_full(driver: Any, timeout: float = 90.0) -> float:
    """Wait for the full-screen marker; return its time since navigation start (s)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = driver.execute_script("return window.__bench && window.__bench.fullPerf")
        if v is not None:
            return float(v) / 1000
        time.sleep(0.05)
    state = driver.execute_script(
        "var d = window.citybrain && window.citybrain.devices; return {cells: "
        "document.querySelectorAll('path.cell[fill]').length,"
        " kpi: (document.getElementById('kpi-open') || {}).textContent,"
        " devices: d ? String(d.ready) : 'no hook', ready: document.readyState, url: location.href,"
        " text: document.body ? document.body.innerText.slice(0, 80) : null,"
        " resources: performance.getEntriesByType('resource').map(function (e) {"
        " return e.name.split('/').pop().slice(0, 40) + ':' + Math.round(e.duration); }).slice(-8)}"
    )
    logs = [e.get("message", "")[:300] for e in driver.get_log("browser")[-3:]]
    raise RuntimeError(
        f"the page never showed a full screen (478 painted cells, KPIs, devices): {state}; {logs}"
    )


def devices_on(driver: Any) -> bool:
    """Turn the page's camera layer on if it has one (``window.citybrain.devices``); True if it has."""
    has = driver.execute_script(
        "var d = window.citybrain && window.citybrain.devices; if (!d || !d.counts) { return false; }"
        "var c = d.counts().cameras; if (c && !on) { var b = document.getElementById('layer-cameras');"
        " if (b) { b.click(); } } return true;"
    )
    return bool(has)


def open_wall(driver: Any, url: str) -> bool:
    """Open the wall at ``url``, wait for the full screen, turn the camera layer on (if the page has one);
    return whether it has one."""
    driver.get(url)
    wait_full(driver)
    has = devices_on(driver)
    time.sleep(1)
    return has


def main_thread_s(driver: Any) -> float:
    """The renderer's main-thread task time so far (CDP Performance metric TaskDuration, seconds)."""
    metrics = driver.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]
    return float(next(m["value"] for m in metrics if m["name"] == "TaskDuration"))


def heap_after_gc(driver: Any) -> int:
    """The page's used JS heap after a forced full garbage collection (bytes)."""
    driver.execute_cdp_cmd("HeapProfiler.enable", {})
    driver.execute_cdp_cmd("HeapProfiler.collectGarbage", {})
    return int(driver.execute_cdp_cmd("Runtime.getHeapUsage", {})["usedSize"])


def page_events(driver: Any) -> dict[str, Any]:
    """What the observer recorded in the page so far."""
    got: dict[str, Any] = driver.execute_script("return window.__bench")
    return got


def devices_hook(driver: Any) -> bool:
    """Whether the page has a device layer hook (``window.citybrain.devices``)."""
    return bool(driver.execute_script("return !!(window.citybrain && window.citybrain.devices)"))


def match_latencies(writes: list[tuple[float, str]], changes: list[list[Any]]) -> tuple[list[float], int]:
    """Per probe write, the delay to the first change of the probe cell to the expected fill after it
    (and before the probe after next sets that fill again); return (latencies in s, probes never seen)."""
    lat: list[float] = []
    missed = 0
    for i, (t, fill) in enumerate(writes):
        until = writes[i + 2][0] if i + 2 < len(writes) else float("inf")
        seen = [ch[0] / 1000 for ch in changes if ch[1] == fill and t <= ch[0] / 1000 < until]
        if seen:
            lat.append(seen[0] - t)
        else:
            missed += 1
    return lat, missed


# ------------------------------------------------------------------------------ the baseline's HTTP polling

ACCEPT_ENCODING = "gzip, deflate, br, zstd"  # what Chromium sends
_PROBE_COLOUR = re.compile(r'"id":\s*"' + PROBE_CELL + r'"[^}]*?"color":\s*"(#[0-9a-fA-F]{6})"')


def baseline_request(base_url: str) -> bytes:
    """The body a baseline page POSTs to ``/_dash-update-component`` when its 1 s interval fires."""
    with urllib.request.urlopen(base_url + "/_dash-dependencies", timeout=10) as resp:
        dep = json.loads(resp.read())[0]
    outputs = [o.split(".", 1) for o in dep["output"].strip(".").split("...")]
    return json.dumps(
        {
            "output": dep["output"],
            "outputs": [{"id": i, "property": p} for i, p in outputs],
            "inputs": [{"id": "tick", "property": "n_intervals", "value": 1}],
            "changedPropIds": ["tick.n_intervals"],
            "state": [],
        }
    ).encode()


def decode_body(raw: bytes, encoding: str | None) -> bytes:
    """A response body without its Content-Encoding (gzip, deflate, br, zstd)."""
    import gzip
    import zlib

    if encoding == "gzip":
        return gzip.decompress(raw)
    if encoding == "deflate":
        return zlib.decompress(raw)
    if encoding == "br":
        import brotli

        return bytes(brotli.decompress(raw))
    if encoding == "zstd":
        from backports import zstd

        return bytes(zstd.decompress(raw))
    return raw


class BaselinePoller(threading.Thread):
    """A baseline viewer without a browser: POSTs the interval callback every second, as the page
    does (the next request once the previous answered, at the next whole second), and records each
    response: (sent, answered, bytes on the wire incl. headers, decoded bytes, probe cell's colour)."""

    def __init__(self, base_url: str, body: bytes, find_probe: bool = False) -> None:
        """Poll ``base_url`` with ``body`` once started."""
        super().__init__(daemon=True, name="bench-poll")
        self.host, self.port = base_url.removeprefix("http://").split(":")
        self.body = body
        self.find_probe = find_probe
        self.responses: list[tuple[float, float, int, int, str | None]] = []
        self.errors = 0
        self.halt = threading.Event()

    def run(self) -> None:
        """Poll until stopped."""
        import http.client

        conn = http.client.HTTPConnection(self.host, int(self.port), timeout=60)
        headers = {"Content-Type": "application/json", "Accept-Encoding": ACCEPT_ENCODING}
        next_t = time.monotonic()
        while not self.halt.is_set():
            t0 = time.time()
            try:
                conn.request("POST", "/_dash-update-component", self.body, headers)
                resp = conn.getresponse()
                raw = resp.read()
            except OSError:
                self.errors += 1
                conn.close()
                self.halt.wait(1)
                continue
            t1 = time.time()
            head = sum(len(k) + len(v) + 4 for k, v in resp.getheaders()) + 17
            decoded = decode_body(raw, resp.getheader("Content-Encoding"))
            colour = None
            if self.find_probe:
                m = _PROBE_COLOUR.search(decoded.decode("utf-8", "replace"))
                colour = m.group(1) if m else None
            self.responses.append((t0, t1, len(raw) + head, len(decoded), colour))
            next_t += 1.0
            if next_t < time.monotonic():
                next_t = time.monotonic() + (1 - (time.monotonic() - next_t) % 1)
            self.halt.wait(max(0.0, next_t - time.monotonic()))
        conn.close()

    def stop(self) -> None:
        """Stop and wait (up to a minute: a request may be in flight)."""
        self.halt.set()
        self.join(60)


# ------------------------------------------------------------------------------------------ Socket.IO


class SioListener(threading.Thread):
    """A Socket.IO client as a page connects (Engine.IO 4 over a WebSocket; wsproto on a plain socket, no
    client library in between): records (time, bytes on the wire, event name, payload) per message.

    With ``compress`` (the default) it offers permessage-deflate as Chromium does, and the server's
    WebSocket (simple-websocket, wsproto) accepts it, so the bytes are what a browser receives. The bytes
    of each read from the socket are shared among the messages it completed, in proportion to their
    length (the total is exact); ``raw`` keeps each message's uncompressed length."""

    def __init__(
        self, base_url: str, keep_payload: bool = True, pathname: str = "/", compress: bool = True
    ) -> None:
        """Connect to ``base_url``'s /socket.io when started, as the page at ``pathname`` does
        (assets/js/socket.js sends ``{"pathname", "view"}`` as the connect auth; the server may put it in a
        room)."""
        super().__init__(daemon=True, name="bench-sio")
        hostport = base_url.removeprefix("http://").rstrip("/")
        host, port = hostport.rsplit(":", 1)
        self.addr = (host, int(port))
        self.keep_payload = keep_payload
        self.compress = compress
        self.auth = {"pathname": pathname}
        self.frames: list[tuple[float, int, str, Any]] = []
        self.raw: list[int] = []  # uncompressed length of each message in ``frames``
        self.compressed = False  # permessage-deflate was agreed
        self.connected = threading.Event()
        self.halt = threading.Event()
        self.error: str | None = None

    def run(self) -> None:
        """Handshake, then read messages until stopped; answer pings."""
        import socket

        from wsproto import ConnectionType, WSConnection
        from wsproto.events import AcceptConnection, CloseConnection, Message, Request
        from wsproto.extensions import PerMessageDeflate

        try:
            sock = socket.create_connection(self.addr, timeout=5)
            ws = WSConnection(ConnectionType.CLIENT)
            exts = [PerMessageDeflate()] if self.compress else []
            host = f"{self.addr[0]}:{self.addr[1]}"
            req = Request(host=host, target="/socket.io/?EIO=4&transport=websocket", extensions=exts)
            sock.sendall(ws.send(req))
            sock.settimeout(0.5)
            parts: list[str] = []
            while not self.halt.is_set():
                try:
                    data = sock.recv(65536)
                except TimeoutError:
                    continue
                if not data:
                    break
                t = time.time()
                ws.receive_data(data)
                done: list[str] = []
                for ev in ws.events():
                    if isinstance(ev, AcceptConnection):
                        self.compressed = any(isinstance(x, PerMessageDeflate) for x in ev.extensions)
                    elif isinstance(ev, Message):
                        text = ev.data if isinstance(ev.data, str) else ev.data.decode("utf-8", "replace")
                        parts.append(text)
                        if ev.message_finished:
                            done.append("".join(parts))
                            parts = []
                    elif isinstance(ev, CloseConnection):
                        self.halt.set()
                total = sum(len(m) for m in done) or 1
                for msg in done:
                    n = round(len(data) * len(msg) / total)
                    out = self._message(msg, t, n)
                    if out:
                        sock.sendall(ws.send(Message(data=out)))
            sock.close()
        except Exception as err:  # reported by the benchmark, which then says what it could not measure
            self.error = f"{type(err).__name__}: {err}"
            self.connected.set()

    def _message(self, msg: str, t: float, n: int) -> str | None:
        """Record one Engine.IO message; return what to answer (the handshake, a pong) or None."""
        self.raw.append(len(msg.encode()))
        if msg.startswith("0"):  # the Engine.IO open packet: connect to the default namespace
            self.frames.append((t, n, "other", None))
            return "40" + json.dumps(self.auth)
        if msg == "2":
            self.frames.append((t, n, "ping", None))
            return "3"
        if msg.startswith("40"):
            self.connected.set()
            self.frames.append((t, n, "connect", None))
        elif msg.startswith("42"):
            body = json.loads(msg[2:])
            self.frames.append((t, n, body[0], body[1] if self.keep_payload and len(body) > 1 else None))
        else:
            self.frames.append((t, n, "other", None))
        return None

    def stop(self) -> None:
        """Disconnect."""
        self.halt.set()
        self.join(5)


def probe_in(payload: Any) -> bool:
    """Whether a pushed delta changes the probe cell's open count."""
    if not isinstance(payload, dict):
        return False
    return PROBE_CELL in ((payload.get("set") or {}).get("cells") or {})


def median(xs: list[float]) -> float | None:
    """The median, or None for no data."""
    return statistics.median(xs) if xs else None


__all__ = ["CAMERA_STATE", "free_port"]
