"""The camera fleet of the registry: about 97 % online, network drop-outs, faults, a few flapping.

Only changes of state become records. Rates are per simulated second, so they mean the same at any
speed: a camera drops off the network now and then (about 2 % are offline at any time, for about two
hours each), a hardware fault takes one out for a day or two (about 1 %), and a handful flap (a bad
link: off for a minute or two every few minutes, for a few hours). A power cut forces every camera of
an area offline and, when the power returns, puts each back as it was.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import numpy as np

from dashboard.domain.registry import Camera, Registry
from dashboard.store.records import Record
from dashboard.store.validate import validate_camera_status

STATES: tuple[str, ...] = ("online", "offline", "fault")
ONLINE, OFFLINE, FAULT = 0, 1, 2
SHARE_OFFLINE = 0.02
SHARE_FAULT = 0.01
OUTAGE_S = 2 * 3600.0  # mean network outage
REPAIR_S = 36 * 3600.0  # mean time to repair a fault
FLAP_EPISODES_PER_H = 5.0  # new flapping cameras per hour (each flaps for 1-5 h)
FLAP_DOWN_S = 6 * 60.0  # a flapping camera stays up this long on average ...
FLAP_UP_S = 90.0  # ... and down this long


class CameraBank:
    """Every registry camera's state, the rates that change it, flapping episodes and power cuts."""

    def __init__(self, cameras: Sequence[Camera], registry: Registry) -> None:
        """Index ``cameras``; all start online until ``announce`` or ``load`` sets their states."""
        self.registry = registry
        self.ids = [cam.id for cam in cameras]
        self.cell = [cam.cell_id for cam in cameras]
        self.index = {cid: i for i, cid in enumerate(self.ids)}
        n = len(self.ids)
        self.state = np.zeros(n, dtype=np.int8)
        river = np.array([cam.kind == "river" for cam in cameras])  # damp and exposed: more faults
        self.r_fault = np.where(river, 2.0, 1.0) * SHARE_FAULT / (1 - SHARE_OFFLINE - SHARE_FAULT) / REPAIR_S
        self.r_off = SHARE_OFFLINE / (1 - SHARE_OFFLINE - SHARE_FAULT) / OUTAGE_S
        self.flap_until = np.zeros(n)
        self.forced: dict[int, int] = {}  # camera index -> its state before a power cut

    def _record(self, i: int, now_ms: int) -> Record:
        """The status record of camera ``i``."""
        return validate_camera_status(self.registry, self.ids[i], STATES[self.state[i]], now_ms, now_ms)

    def announce(self, rng: np.random.Generator, now_ms: int) -> list[Record]:
        """Draw every camera's state from the steady shares and announce each one (the first start)."""
        u = rng.random(len(self.ids))
        self.state[:] = np.where(
            u < SHARE_FAULT, FAULT, np.where(u < SHARE_FAULT + SHARE_OFFLINE, OFFLINE, ONLINE)
        )
        return [self._record(i, now_ms) for i in range(len(self.ids))]

    def step(self, sim_s: float, dt: float, rng: np.random.Generator, now_ms: int) -> list[Record]:
        """Advance by ``dt`` simulated seconds; return the changes of state."""
        n = len(self.ids)
        self.flap_until[(self.flap_until > 0) & (self.flap_until <= sim_s)] = 0.0
        for _ in range(int(rng.poisson(FLAP_EPISODES_PER_H * dt / 3600.0))):
            i = int(rng.integers(n))
            if self.state[i] != FAULT:
                self.flap_until[i] = sim_s + rng.uniform(3600.0, 5 * 3600.0)
        flap = self.flap_until > sim_s
        r_down = np.where(flap, 1.0 / FLAP_DOWN_S, self.r_off)
        r_up = np.where(flap, 1.0 / FLAP_UP_S, 1.0 / OUTAGE_S)
        st = self.state
        rate = np.where(st == ONLINE, r_down + self.r_fault, np.where(st == OFFLINE, r_up, 1.0 / REPAIR_S))
        p = -np.expm1(-rate * dt)
        u = rng.random(n)
        go = u < p
        if self.forced:
            go[list(self.forced)] = False
        changed = np.nonzero(go)[0]
        if not len(changed):
            return []
        to_fault = u[changed] < p[changed] * self.r_fault[changed] / np.maximum(rate[changed], 1e-30)
        new = np.where(st[changed] != ONLINE, ONLINE, np.where(to_fault, FAULT, OFFLINE))
        st[changed] = new
        return [self._record(int(i), now_ms) for i in changed]

    def power_cut(self, cells: Collection[str], now_ms: int) -> list[Record]:
        """Force every camera in ``cells`` offline (remembering its state); return the changes."""
        out: list[Record] = []
        cells = set(cells)
        for i, cell in enumerate(self.cell):
            if cell in cells and i not in self.forced:
                self.forced[i] = int(self.state[i])
                if self.state[i] != OFFLINE:
                    self.state[i] = OFFLINE
                    out.append(self._record(i, now_ms))
        return out

    def power_back(self, now_ms: int) -> list[Record]:
        """Put every camera a power cut forced offline back as it was; return the changes."""
        out: list[Record] = []
        for i, before in sorted(self.forced.items()):
            if self.state[i] != before:
                self.state[i] = before
                out.append(self._record(i, now_ms))
        self.forced = {}
        return out

    def statuses(self, idx: Sequence[int] | None = None) -> dict[str, str]:
        """Camera id -> status, of ``idx`` (default: all)."""
        rows = range(len(self.ids)) if idx is None else idx
        return {self.ids[i]: STATES[self.state[i]] for i in rows}

    def load(self, statuses: dict[str, str]) -> int:
        """Set states from a saved id -> status map; return how many registry cameras it named."""
        known = 0
        for cid, status in statuses.items():
            i = self.index.get(cid)
            if i is not None and status in STATES:
                self.state[i] = STATES.index(status)
                known += 1
        return known

    def snapshot(self) -> dict[str, Any]:
        """Flapping episodes and power-cut memory as JSON-able data (states are saved apart)."""
        flapping = np.nonzero(self.flap_until > 0)[0]
        return {
            "flap_until": {self.ids[i]: float(self.flap_until[i]) for i in flapping},
            "forced": {self.ids[i]: STATES[s] for i, s in self.forced.items()},
        }

    def restore(self, d: dict[str, Any], sim_s: float) -> None:
        """Load what ``snapshot`` returned; drop flapping episodes that have ended."""
        for cid, until in d.get("flap_until", {}).items():
            if cid in self.index and until > sim_s:
                self.flap_until[self.index[cid]] = float(until)
        self.forced = {
            self.index[cid]: STATES.index(s) for cid, s in d.get("forced", {}).items() if cid in self.index
        }
