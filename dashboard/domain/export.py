"""What every CSV the app serves shares: an as-of first line (ISO 8601 with its UTC offset), dates with
the year (``2026-12-07 14:05``), cells a spreadsheet would run as a formula escaped, a byte-order mark
(Excel then reads the Chinese). The alert history's export, the area pages' tables and the overview's
tables all write through ``csv_text``."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

FORMULA = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet reads a cell starting with these as a formula
BOM = "\ufeff"


def safe_cell(value: Any) -> str:
    """A CSV cell a spreadsheet will not run: text starting with = + - @ (or a tab or CR) gets a ``'``."""
    s = "" if value is None else str(value)
    return "'" + s if s.startswith(FORMULA) else s


def stamp(ts: int | None, tz: ZoneInfo, ref: int | None = None, seconds: bool = False) -> str:
    """A local time with an unambiguous date, ``2026-12-07 14:05`` (``14:05`` alone when ``ref`` is on
    the same local day); "–" for none."""
    if ts is None:
        return "–"
    d = datetime.fromtimestamp(ts / 1000, tz)
    hm = d.strftime("%H:%M:%S" if seconds else "%H:%M")
    if ref is not None and datetime.fromtimestamp(ref / 1000, tz).date() == d.date():
        return hm
    return f"{d:%Y-%m-%d} {hm}"


def asof_iso(now: datetime | int, tz: ZoneInfo) -> str:
    """An as-of time as ISO 8601 with its UTC offset, to the second: ``2026-12-07T14:05:09+08:00``
    (``now`` a datetime or epoch ms)."""
    d = datetime.fromtimestamp(now / 1000, tz) if isinstance(now, int) else now.astimezone(tz)
    return d.isoformat(timespec="seconds")


def csv_text(
    asof_label: str,
    asof: str,
    head: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    preamble: Iterable[Sequence[Any]] = (),
) -> str:
    """A CSV document: ``asof_label, asof`` first, then the ``preamble`` lines (filters, notes), an empty
    line, the header and the rows; every cell escaped (``safe_cell``), CRLF line ends, a byte-order mark."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")

    def row(cells: Iterable[Any]) -> None:
        w.writerow([safe_cell(c) for c in cells])

    row([asof_label, asof])
    for line in preamble:
        row(line)
    row([])
    row(head)
    for r in rows:
        row(r)
    return BOM + buf.getvalue()
