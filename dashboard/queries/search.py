"""Search: a case by id (exact, a prefix, or any part of 4+ characters such as the last digits of its
number), a cell by id or name, a community or a subdistrict by name (zh or en). Reads the case index and
the geography: the newest CASE_SCAN cases newest first, then older ones by a bounded ``ZSCAN ... MATCH``
of the cases-by-time set (at most CASE_SCAN_OLD more ids looked at, in Redis).
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


CASE_SCAN = 20_000  # the newest cases a partial search looks at in order, at most
CASE_CHUNK = 5_000
CASE_SCAN_OLD = 200_000  # older case ids a partial search has Redis look at (ZSCAN MATCH), at most
PART_MIN = 4  # a part of a case number (not its start) needs this many characters


def _glob(text: str) -> str:
    """A Redis MATCH pattern for ids containing ``text`` in any letter case (glob characters escaped)."""
    out = []
    for ch in text:
        if ch.isalpha() and ch.upper() != ch.lower():
            out.append(f"[{ch.upper()}{ch.lower()}]")
        else:
            out.append("\\" + ch if ch in "\\*?[]^-" else ch)
    return "*" + "".join(out) + "*"


def _case_hits(client: Any, text: str, limit: int) -> list[tuple[str, int]]:
    """Case ids equal to ``text`` (rank 0; also in upper case), starting with it (rank 1; 3+ characters)
    or containing it (rank 2; 4+ characters: "004502" finds SIM-20261207-004502), case-insensitively, the
    newest first, up to ``limit``. Bounded: the newest CASE_SCAN ids, then at most CASE_SCAN_OLD older
    ones matched by Redis itself."""
    if len(text) > 64:
        return []
    exact = [x for x in dict.fromkeys((text, text.upper())) if client.hexists(keys.CASE_INDEX, x)]
    out = [(x, 0) for x in exact[:1]]
    if len(text) < 3:
        return out
    needle = text.casefold()
    part = len(text) >= PART_MIN
    seen = set(exact)
    scanned = 0
    for start in range(0, CASE_SCAN, CASE_CHUNK):
        ids = client.zrevrange(keys.CASES_BY_TIME, start, start + CASE_CHUNK - 1)
        scanned += len(ids)
        for k in ids:
            low = k.casefold()
            rank = 1 if low.startswith(needle) else 2 if part and needle in low else None
            if rank is not None and k not in seen:
                out.append((k, rank))
                seen.add(k)
        if len(out) >= limit or len(ids) < CASE_CHUNK:
            return sorted(out, key=lambda h: h[1])[:limit]
    if not part or scanned < CASE_SCAN:
        return sorted(out, key=lambda h: h[1])[:limit]
    older = _older_hits(client, text, limit - len(out), seen)
    return sorted(out + older, key=lambda h: h[1])[:limit]


def _older_hits(client: Any, text: str, want: int, seen: set[str]) -> list[tuple[str, int]]:
    """Up to ``want`` case ids containing ``text`` beyond the newest CASE_SCAN (Redis matches them:
    ``ZSCAN MATCH``, CASE_CHUNK a call, at most CASE_SCAN_OLD ids looked at), newest first."""
    found: dict[str, float] = {}
    cursor, looked = 0, 0
    while looked < CASE_SCAN_OLD:
        cursor, page = client.zscan(keys.CASES_BY_TIME, cursor, match=_glob(text), count=CASE_CHUNK)
        looked += CASE_CHUNK
        found.update((k, score) for k, score in page if k not in seen)
        if cursor == 0:
            break
    needle = text.casefold()
    newest = sorted(found, key=lambda k: -found[k])[: max(0, want)]
    return [(k, 1 if k.casefold().startswith(needle) else 2) for k in newest]
