"""The load: a seeded workload of contract records written straight into the input streams (16,000
cameras, 1,100 sensors, open cases over 478 cells), the probe cell whose colour only probes change, and
a background writer at a steady rate."""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Iterator, Sequence
from typing import ClassVar

import redis

from dashboard.domain.geo import load_default_geography
from dashboard.domain.registry import METRIC_BY_NAME, Registry, default_registry
from dashboard.store import keys
from dashboard.store.records import STREAM_OF, CameraStatus, CaseEvent, Record, SensorReading, encode, kind_of
from harness.stack import wait_drained
from layouts.look import cell_colour

PROBE_CELL = "SW-0001"  # the background load never touches it: its colour changes only by probes
# The probe cell's fill with no open case and with one: the wall's own colours.
FILL_CLOSED = cell_colour(0)
FILL_OPEN = cell_colour(1)


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
