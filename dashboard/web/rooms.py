"""Socket.IO rooms: which view a page is, what each room is sent, and one message for a run of deltas.

A page joins one room when its socket connects (``room_for``): ``wall`` (``/`` and ``/wall``),
``area:<id>`` (a drill-down page) or ``case:<id>``. Each room gets only what its pages show
(``Rooms.filters``); ``merge`` folds a run of consecutive deltas into one message carrying the new
values of what changed, as nested objects (docs/DATA.md, "Push to pages").
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from dashboard.domain.counters import Path
from dashboard.domain.geo import Geography
from dashboard.domain.registry import default_registry
from dashboard.domain.types import ID_PATTERN
from dashboard.queries.snapshot import PathFilter, wall_path
from dashboard.store.deltas import Delta
from dashboard.store.paths import nest

WALL_ROOM = "wall"
MAX_VIEW = 200  # a page's path: longer is not one of ours
CASE_ID = re.compile(ID_PATTERN)
AREA_LEVELS = ("subdistrict", "community", "cell")  # drill-down pages /<level>/<area id>
AREA_SCOPES = frozenset(AREA_LEVELS)
TICKER_SENT = 15  # at most this many new ticker items in a message: the wall shows 15
# A ticker item travels as a list of these fields, in this order (the page zips them back).
TICK_FIELDS = ("ts", "case", "cell", "type", "step", "dept", "priority")

TickFilter = Callable[[dict[str, Any]], bool]
DevFilter = Callable[[str], bool]
Filters = tuple[PathFilter, TickFilter | None, DevFilter | None]
WALL_FILTERS: Filters = (wall_path, None, None)


def room_for(
    view: str | None, geo: Geography, case_exists: Callable[[str], bool] = lambda _c: True
) -> str | None:
    """The room of a page, from its path (or a view name): ``/`` and ``/wall`` → ``wall``;
    ``/<subdistrict|community|cell>/<id>`` → ``area:<id>`` of a known area; ``/case/<id>`` →
    ``case:<id>`` of a well-formed id that ``case_exists``; else None (the page gets no live updates)."""
    if view is not None and (not isinstance(view, str) or len(view) > MAX_VIEW):
        return None
    parts = [p for p in (view or "").split("?")[0].split("/") if p]
    if parts in ([], ["wall"]):
        return WALL_ROOM
    if len(parts) == 2 and parts[0] == "case":
        case = unquote(parts[1])
        return f"case:{case}" if CASE_ID.fullmatch(case) and case_exists(case) else None
    if len(parts) == 2 and parts[0] in AREA_LEVELS and parts[1] in _ids_at(geo, parts[0]):
        return f"area:{parts[1]}"
    return None


def _ids_at(geo: Geography, level: str) -> dict[str, Any]:
    """The areas of one drill-down level by id."""
    return {"subdistrict": geo.subdistricts, "community": geo.communities, "cell": geo.cells}[level]


def area_ids(geo: Geography, area_id: str) -> frozenset[str]:
    """The area and every area inside it (communities, cells)."""
    out, todo = set(), [area_id]
    while todo:
        a = todo.pop()
        out.add(a)
        todo += [ch.id for ch in geo.children(a)]
    return frozenset(out)


def area_filter(ids: frozenset[str]) -> PathFilter:
    """The counters of the areas ``ids`` (their cells' open cases and health, and the groups of
    subdistrict, community or cell scope with one of the ids). District-wide counters are the wall's."""

    def keep(path: Path) -> bool:
        head = path[0]
        if head in ("cells", "health"):
            return path[1] in ids
        if head in ("open", "overdue"):
            return path[1] in AREA_SCOPES and path[2] in ids
        if head == "days" and path[2] in ("by", "hdur"):
            return path[3] in AREA_SCOPES and path[4] in ids
        return False

    return keep


def tick_items(items: list[list[Any]]) -> list[dict[str, Any]]:
    """A message's ticker items as dicts (for readers of messages other than the page)."""
    return [dict(zip(TICK_FIELDS, it, strict=True)) for it in items]


def merge(
    deltas: list[Delta],
    keep: PathFilter = wall_path,
    tick: TickFilter | None = None,
    device: DevFilter | None = None,
) -> dict[str, Any]:
    """One message for consecutive deltas: the last value of each counter wins, ticker items
    concatenate, the last status of each device wins.

    ``from``/``to`` are the first and last seq merged; a page that has applied up to ``from - 1``
    applies it, any other page resynchronises from a snapshot. ``keep`` picks the counters, ``tick`` the
    ticker items and ``device`` the device statuses a room shows (default: the wall's). ``set`` (the
    new values, nested), ``ticker`` (oldest first, at most TICKER_SENT) and ``dev`` are left out when
    empty; ``overdue_changed`` says whether the overdue list changed.
    """
    values: dict[Path, Any] = {}
    ticker: list[dict[str, Any]] = []
    dev: dict[str, str] = {}
    for d in deltas:
        for path, n in d.vals:
            if keep(path):
                values[path] = n
        for area, shown in d.health.items():
            if keep(("health", area)):
                values[("health", area)] = shown
        dev.update(d.dev if device is None else {k: v for k, v in d.dev.items() if device(k)})
        ticker += d.ticker if tick is None else [t for t in d.ticker if tick(t)]
    msg: dict[str, Any] = {"from": deltas[0].seq, "to": deltas[-1].seq, "ts": deltas[-1].ts}
    if values:
        msg["set"] = nest(values.items())
    if ticker:
        msg["ticker"] = [[t.get(f) for f in TICK_FIELDS] for t in ticker[-TICKER_SENT:]]
    if dev:
        msg["dev"] = dev
    msg["overdue_changed"] = any(d.overdue_changed for d in deltas)
    return msg


def room_message(room: str, batch: list[Delta], filters: Filters) -> dict[str, Any] | None:
    """The delta message for ``room`` (None: nothing for it: a case page wants only its own events).
    A wall message whose batch changed the overdue set has ``overdue_top`` to fill (None here)."""
    msg = merge(batch, *filters)
    overdue = msg.pop("overdue_changed")
    if room.startswith("case:"):  # a case page re-reads its case when the ticker mentions it
        return {k: msg[k] for k in ("from", "to", "ts", "ticker")} if "ticker" in msg else None
    if room == WALL_ROOM and overdue:
        msg["overdue_top"] = None
    return msg


class Rooms:
    """Who is connected, which Socket.IO rooms have members, and each room's message filter (built
    once, kept for the ``FILTERS_KEPT`` most recently used rooms)."""

    FILTERS_KEPT = 512

    def __init__(self, geo: Geography, max_connections: int = 2000) -> None:
        """Rooms of pages on ``geo``; at most ``max_connections`` sockets at once."""
        self.geo = geo
        self.max_connections = max_connections
        self._lock = threading.Lock()
        self._connected: set[str] = set()
        self._room_of: dict[str, str] = {}  # sid -> room
        self._filters: OrderedDict[str, Filters] = OrderedDict()

    def connect(self, sid: str) -> bool:
        """A socket connects: False (refuse it) when ``max_connections`` are already open."""
        with self._lock:
            if len(self._connected) >= self.max_connections:
                return False
            self._connected.add(sid)
            return True

    def join(self, sid: str, room: str) -> None:
        """A page joined ``room``."""
        with self._lock:
            self._room_of[sid] = room

    def leave(self, sid: str) -> None:
        """A page went away."""
        with self._lock:
            self._room_of.pop(sid, None)
            self._connected.discard(sid)

    def connections(self) -> int:
        """Sockets open now."""
        with self._lock:
            return len(self._connected)

    def active(self) -> list[str]:
        """The rooms with at least one member."""
        with self._lock:
            return sorted(set(self._room_of.values()))

    def filters(self, room: str) -> Filters:
        """(counter, ticker and device filters) of a room's deltas."""
        with self._lock:
            got = self._filters.get(room)
            if got is not None:
                self._filters.move_to_end(room)
                return got
        got = self._build(room)
        with self._lock:
            self._filters[room] = got
            while len(self._filters) > self.FILTERS_KEPT:
                self._filters.popitem(last=False)
        return got

    def cached(self) -> int:
        """Room filters kept now."""
        with self._lock:
            return len(self._filters)

    def _build(self, room: str) -> Filters:
        """Make a room's filters."""
        if room.startswith("area:"):
            ids = area_ids(self.geo, room.removeprefix("area:"))
            reg = default_registry()
            inside = {i for i, d in reg.cameras.items() if d.cell_id in ids}
            inside |= {i for i, d in reg.sensors.items() if d.cell_id in ids}
            return area_filter(ids), lambda t: t.get("cell") in ids, inside.__contains__
        if room.startswith("case:"):
            case = room.removeprefix("case:")
            return (lambda _p: False), lambda t: t.get("case") == case, lambda _d: False
        return WALL_FILTERS
