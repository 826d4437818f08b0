"""The grid-worker roster (网格员): who looks after each cell, from ``data/roster/grid_workers.csv``.

``load_roster`` reads and checks the file (a RosterError names the line and the field of the first
problem); pages show a worker's phone only masked (``138****5678``). No terminal feed exists, so the
roster says nothing about where a worker is.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dashboard.domain.registry import read_csv_rows
from dashboard.domain.types import is_ident

DEFAULT_FILE = Path(__file__).resolve().parents[2] / "data" / "roster" / "grid_workers.csv"
COLUMNS: tuple[str, ...] = ("id", "name_zh", "name_en", "phone", "cell_id", "role")
ROLES: tuple[str, ...] = ("full_time", "part_time")
_PHONE = re.compile(r"^1[3-9]\d{9}$")  # a mainland mobile number


class RosterError(ValueError):
    """A roster file that cannot be used; one line naming the file, the line and the field."""


@dataclass(frozen=True)
class Worker:
    """One grid worker."""

    id: str
    name_zh: str
    name_en: str
    phone: str
    cell_id: str
    role: str

    def public(self) -> dict[str, Any]:
        """What a page may show: names, role and the phone masked."""
        return {
            "id": self.id,
            "name": self.name_zh,
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "phone_masked": mask_phone(self.phone),
            "role": self.role,
        }


def mask_phone(phone: str) -> str:
    """A phone number with all but the first three and last four digits hidden: 138****5678."""
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def load_roster(path: Path = DEFAULT_FILE, cells: Collection[str] | None = None) -> dict[str, list[Worker]]:
    """Workers per cell id (file order); with ``cells``, every cell id must be one of them."""
    rows = read_csv_rows(path, COLUMNS, RosterError)
    out: dict[str, list[Worker]] = {}
    seen: set[str] = set()
    for n, row in enumerate(rows, start=2):
        w = _worker(f"{path}: line {n}", row, cells)
        if w.id in seen:
            raise RosterError(f"{path}: line {n} ({w.id}): field 'id': duplicate id")
        seen.add(w.id)
        out.setdefault(w.cell_id, []).append(w)
    return out


def _worker(where: str, row: list[str], cells: Collection[str] | None) -> Worker:
    """Parse and check one roster row."""
    if len(row) != len(COLUMNS):
        raise RosterError(f"{where}: want {len(COLUMNS)} fields, found {len(row)}")
    values = dict(zip(COLUMNS, (v.strip() for v in row), strict=True))
    if not is_ident(values["id"]):
        raise RosterError(f"{where}: field 'id': {values['id'][:80]!r} is not 1-64 of A-Z a-z 0-9 . _ : -")
    where = f"{where} ({values['id']})"
    for key in ("name_zh", "name_en", "cell_id"):
        if not values[key]:
            raise RosterError(f"{where}: field {key!r}: missing or empty")
    if not _PHONE.match(values["phone"]):
        raise RosterError(
            f"{where}: field 'phone': {values['phone'][:32]!r} is not an 11-digit mobile number"
        )
    if values["role"] not in ROLES:
        raise RosterError(f"{where}: field 'role': {values['role']!r} is not one of {', '.join(ROLES)}")
    if cells is not None and values["cell_id"] not in cells:
        raise RosterError(f"{where}: field 'cell_id': unknown cell {values['cell_id']!r}")
    return Worker(**values)


@functools.lru_cache(maxsize=1)
def default_roster() -> Mapping[str, list[Worker]]:
    """The shipped roster (loaded once per process; empty when the file is absent)."""
    if not DEFAULT_FILE.exists():
        return {}
    return load_roster(DEFAULT_FILE)
