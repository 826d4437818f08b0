"""Search: a case by id (exact, or a prefix among the newest cases), a cell by id or name, a community or
a subdistrict by name (zh or en). Reads the case index and the geography; scans no more than CASE_SCAN.
"""

from __future__ import annotations

from typing import Any

from dashboard.domain.geo import Area, Geography
from dashboard.queries.areas import href
from dashboard.store import keys


def search(geo: Geography, client: Any, q: str, limit: int = 10) -> list[dict[str, Any]]:
    """Cases by id (exact, then prefix), cells by id or name, communities and subdistricts by name.

    Case-insensitive substring match on names (zh or en) and ids; exact matches first, then prefixes,
    then other substrings; within a rank cases, subdistricts, communities, cells (the wider area
    first: "塔坡" finds 塔坡社区 before its grid cells), then by id.
    """
    text = q.strip()
    if not text:
        return []
    needle = text.casefold()
    hits: list[tuple[int, int, str, dict[str, Any]]] = []
    order = {"case": 0, "subdistrict": 1, "community": 2, "cell": 3}
    for level, areas in (
        ("cell", geo.cells),
        ("community", geo.communities),
        ("subdistrict", geo.subdistricts),
    ):
        for area in areas.values():
            names = [area.name_zh.casefold(), area.name_en.casefold()]
            if level == "cell":
                names.append(area.id.casefold())
            rank = _rank(needle, names)
            if rank is not None:
                hits.append((rank, order[level], area.id, _area_hit(area)))
    for case_id, rank in _case_hits(client, text, limit):
        row = {
            "kind": "case",
            "id": case_id,
            "name_zh": case_id,
            "name_en": case_id,
            "href": f"/case/{case_id}",
        }
        hits.append((rank, order["case"], case_id, row))
    hits.sort(key=lambda h: h[:3])
    return [h[3] for h in hits[:limit]]


def _rank(needle: str, names: list[str]) -> int | None:
    """0 for an exact match of any name, 1 for a prefix, 2 for a substring, None for no match."""
    best: int | None = None
    for k in names:
        r = 0 if k == needle else 1 if k.startswith(needle) else 2 if needle in k else None
        if r is not None and (best is None or r < best):
            best = r
    return best


def _area_hit(area: Area) -> dict[str, Any]:
    """A search result for an area."""
    return {
        "kind": area.level,
        "id": area.id,
        "name_zh": area.name_zh,
        "name_en": area.name_en,
        "href": href(area),
    }


CASE_SCAN = 20_000  # the newest cases a prefix search looks at, at most
CASE_CHUNK = 5_000


def _case_hits(client: Any, text: str, limit: int) -> list[tuple[str, int]]:
    """Case ids equal to ``text`` (rank 0; also in upper case) or starting with it, case-insensitively
    (rank 1; 3+ characters, among the newest CASE_SCAN cases, newest first), up to ``limit``."""
    if len(text) > 64:
        return []
    exact = [x for x in dict.fromkeys((text, text.upper())) if client.hexists(keys.CASE_INDEX, x)]
    out = [(x, 0) for x in exact[:1]]
    if len(text) < 3:
        return out
    needle = text.casefold()
    for start in range(0, CASE_SCAN, CASE_CHUNK):
        ids = client.zrevrange(keys.CASES_BY_TIME, start, start + CASE_CHUNK - 1)
        out += [(k, 1) for k in ids if k.casefold().startswith(needle) and k not in exact]
        if len(out) >= limit or len(ids) < CASE_CHUNK:
            break
    return out[:limit]
