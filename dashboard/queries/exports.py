"""The overview's (``/``) tables as CSV: the overdue cases (urgent first, the deadline with its year and
how late), the departments' league and the subdistricts' totals, in zh-CN or en.

Read from the same read models as the wall's snapshot (``dashboard.queries.snapshot``), ranked as the
wall ranks them, and written by ``dashboard.domain.export.csv_text`` (the as-of first line with its UTC
offset, dates with the year, formula cells escaped). Unlike the wall's panels (8 and 10 rows) a file
holds every row, up to MAX_ROWS.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from dashboard.domain.catalogue import Catalogue, default_catalogue
from dashboard.domain.export import asof_iso, csv_text, stamp
from dashboard.domain.geo import Geography
from dashboard.domain.i18n import Lang, duration, t
from dashboard.domain.lifecycle import STAGES
from dashboard.queries.snapshot import overdue_top, read_snapshot

MAX_ROWS = 5000
TABLES = ("overdue", "league", "subdistricts")

Rows = tuple[list[str], list[list[Any]]]


def _dept(cat: Catalogue, dept_id: str | None, lang: Lang) -> str:
    """A department's short name ("" for none, the id when unknown)."""
    d = cat.departments.get(dept_id or "")
    if d is None:
        return dept_id or ""
    return d.short_zh if lang == "zh-CN" else d.short_en


def overdue_rows(client: Any, geo: Geography, lang: Lang, tz: ZoneInfo, now_ms: int) -> Rows:
    """Every overdue case, urgent ones first, then the longest past their deadline."""
    cat = default_catalogue()
    head = [t(k, lang) for k in (
        "col_case", "col_urgent", "case_deadline", "col_late_by", "col_late_min", "col_event_type",
        "col_stage", "col_cell", "col_name", "case_department",
    )]  # fmt: skip
    rows = []
    for it in overdue_top(client, now_ms, MAX_ROWS):
        cell = geo.cells.get(it["cell"])
        et = cat.event_types.get(it["type"])
        rows.append(
            [
                it["case"],
                t("col_yes" if it["priority"] == "urgent" else "col_no", lang),
                stamp(it["deadline"], tz),
                duration(it["late_ms"], lang),
                f"{it['late_ms'] / 60_000:.0f}",
                (et.name_zh if lang == "zh-CN" else et.name_en) if et else it["type"],
                t(f"stage_{it['stage']}", lang) if it.get("stage") in STAGES else (it.get("stage") or ""),
                it["cell"],
                (cell.name_zh if lang == "zh-CN" else cell.name_en) if cell else "",
                _dept(cat, it.get("dept"), lang),
            ]
        )
    return head, rows


def league_rows(snap: dict[str, Any], lang: Lang) -> Rows:
    """The departments' league as the wall ranks it (overdue, then backlog, then returns), every
    department with anything to show: open cases, overdue, returns today, on-time share today."""
    cat = default_catalogue()
    open_ = (snap.get("open") or {}).get("dept") or {}
    late = (snap.get("overdue") or {}).get("dept") or {}
    day = ((snap.get("days") or {}).get(snap.get("today") or "") or {}).get("by", {}).get("dept") or {}
    ranked = []
    for d in cat.departments:
        backlog = sum(int((open_.get(d) or {}).get(s) or 0) for s in STAGES)
        by = day.get(d) or {}
        ontime, lt = int(by.get("ontime") or 0), int(by.get("late") or 0)
        rate = ontime / (ontime + lt) if ontime + lt else None
        row = (d, backlog, int(late.get(d) or 0), int(by.get("returned") or 0), rate)
        if row[1] or row[2] or row[3] or rate is not None:
            ranked.append(row)
    ranked.sort(key=lambda r: (-r[2], -r[1], -r[3], r[0]))
    head = [t(k, lang) for k in (
        "col_rank", "league_dept", "col_dept_id", "league_backlog", "league_overdue", "league_returned",
        "league_ontime",
    )]  # fmt: skip
    rows = [
        [
            str(i),
            _dept(cat, d, lang),
            d,
            str(b),
            str(o),
            str(r),
            "–" if rate is None else f"{100 * rate:.1f}%",
        ]
        for i, (d, b, o, r, rate) in enumerate(ranked[:MAX_ROWS], 1)
    ]
    return head, rows


def subdistrict_rows(snap: dict[str, Any], geo: Geography, lang: Lang) -> Rows:
    """Each subdistrict: open cases in its cells (as the wall adds them up), overdue, reported and closed
    today."""
    cells = snap.get("cells") or {}
    late = (snap.get("overdue") or {}).get("subdistrict") or {}
    day = ((snap.get("days") or {}).get(snap.get("today") or "") or {}).get("by", {}).get("subdistrict") or {}
    totals = dict.fromkeys(geo.subdistricts, 0)
    for cid, n in cells.items():
        cell = geo.cells.get(cid)
        com = geo.communities.get(cell.parent_id or "") if cell else None
        if com is not None and com.parent_id in totals:
            totals[com.parent_id] += int(n or 0)
    head = [t(k, lang) for k in (
        "col_subdistrict", "col_id", "col_open", "col_overdue", "col_reported_today", "col_closed_today",
    )]  # fmt: skip
    rows = []
    for sid, area in geo.subdistricts.items():
        by = day.get(sid) or {}
        rows.append(
            [
                area.name_zh if lang == "zh-CN" else area.name_en,
                sid,
                str(totals[sid]),
                str(int(late.get(sid) or 0)),
                str(int(by.get("reported") or 0)),
                str(int(by.get("closed") or 0)),
            ]
        )
    return head, rows


def table_csv(client: Any, geo: Geography, table: str, lang: Lang, tz: ZoneInfo, now: datetime) -> str:
    """One of the overview's tables (``TABLES``) as CSV, as of ``now``; KeyError for another name."""
    now_ms = int(now.timestamp() * 1000)
    build: dict[str, Callable[[], Rows]] = {
        "overdue": lambda: overdue_rows(client, geo, lang, tz, now_ms),
        "league": lambda: league_rows(read_snapshot(client, tz), lang),
        "subdistricts": lambda: subdistrict_rows(read_snapshot(client, tz), geo, lang),
    }
    head, rows = build[table]()
    return csv_text(t("ap_csv_asof", lang), asof_iso(now, tz), head, rows)
