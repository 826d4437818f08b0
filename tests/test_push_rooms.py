"""Socket.IO rooms: which page gets which part of a delta; the feeds' freshness per record kind."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from dashboard.domain.freshness import kind_status, status_changed
from dashboard.domain.geo import Geography, load_default_geography
from dashboard.domain.registry import default_registry
from dashboard.store import keys
from dashboard.store.deltas import Delta
from dashboard.store.records import CaseEvent, encode
from dashboard.web.rooms import (
    WALL_ROOM,
    Rooms,
    area_filter,
    area_ids,
    merge,
    room_for,
    room_message,
    tick_items,
)
from tests.conftest import App, wait_for


@pytest.fixture(scope="module")
def geo() -> Geography:
    """The shipped geography."""
    return load_default_geography()


DAY = "20260101"


def delta(seq: int, cell: str, sub: str, comm: str, case: str = "K-1", n: int = 1) -> Delta:
    """A delta as the processor writes it when ``cell`` has ``n`` cases (one reported now)."""
    return Delta(
        seq=seq,
        ts=1,
        vals=[
            (("cells", cell), n),
            (("kpi", "open"), n),
            (("open", "cell", cell, "registration"), n),
            (("open", "community", comm, "registration"), n),
            (("open", "subdistrict", sub, "registration"), n),
            (("open", "district", "all", "registration"), n),
            (("open", "dept", "-", "registration"), n),
            (("days", DAY, "n", "reported"), n),
            (("days", DAY, "by", "cell", cell, "reported"), n),
            (("days", DAY, "by", "subdistrict", sub, "reported"), n),
        ],
        ticker=[{"case": case, "cell": cell, "step": "reported", "ts": 1}],
    )


def test_a_message_carries_new_values_nested_so_repeats_and_merges_are_harmless() -> None:
    """The last value of each counter wins; the counters travel as nested objects (no Redis field
    grammar); ticker items as lists in TICK_FIELDS order, at most 15; no empty device map."""
    batch = [delta(i, "ZM-0001", "ZM", "ZM-C01", f"K-{i}", n=i) for i in range(1, 31)]
    msg = merge(batch)
    assert msg["set"]["cells"] == {"ZM-0001": 30} and msg["set"]["days"][DAY]["n"]["reported"] == 30
    assert msg["set"]["open"]["district"]["all"]["registration"] == 30
    assert msg["set"]["days"][DAY]["by"]["subdistrict"]["ZM"] == {"reported": 30}
    assert len(msg["ticker"]) == 15 and msg["ticker"][-1][:3] == [1, "K-30", "ZM-0001"]
    first = {"ts": 1, "case": "K-16", "cell": "ZM-0001", "step": "reported"}
    assert tick_items(msg["ticker"])[0] == {"type": None, "dept": None, "priority": None, **first}
    assert "dev" not in msg
    # a repeated delta or a merge of overlapping runs gives the same values
    assert merge([*batch, batch[-1]])["set"] == msg["set"] == merge(batch[-3:])["set"]
    back = merge([*batch[:1], Delta(seq=2, ts=1, vals=[(("cells", "ZM-0001"), 0)])])
    assert back["set"]["cells"] == {"ZM-0001": 0}  # a count going back to 0 is sent as 0


def test_area_rooms_get_only_their_devices(geo: Geography) -> None:
    reg = default_registry()
    cam_in = next(k for k in reg.cameras.values() if k.cell_id.startswith("ZM-"))
    cam_out = next(k for k in reg.cameras.values() if not k.cell_id.startswith("ZM-"))
    d = Delta(seq=5, ts=1, dev={cam_in.id: "offline", cam_out.id: "offline"})
    rooms = Rooms(geo)
    assert room_message("area:ZM", [d], rooms.filters("area:ZM"))["dev"] == {cam_in.id: "offline"}  # type: ignore[index]
    assert set(room_message(WALL_ROOM, [d], rooms.filters(WALL_ROOM))["dev"]) == {cam_in.id, cam_out.id}  # type: ignore[index]
    out_room = f"area:{cam_out.cell_id}"
    assert room_message(out_room, [d], rooms.filters(out_room))["dev"] == {cam_out.id: "offline"}  # type: ignore[index]
    other = next(a for a in geo.cells if a not in (cam_in.cell_id, cam_out.cell_id))
    assert "dev" not in (room_message(f"area:{other}", [d], rooms.filters(f"area:{other}")) or {})


def test_rooms_of_paths(geo: Geography) -> None:
    sub, comm, cell = "ZM", "ZM-C01", "ZM-0001"
    assert room_for("/", geo) == room_for("/wall", geo) == room_for("/?lang=en", geo) == WALL_ROOM
    assert room_for(f"/subdistrict/{sub}", geo) == f"area:{sub}"
    assert room_for(f"/community/{comm}", geo) == f"area:{comm}"
    assert room_for(f"/cell/{cell}", geo) == f"area:{cell}"
    assert room_for("/case/K-9", geo) == "case:K-9"
    # an unknown area, a cell id under the wrong level, or another page: no room
    assert room_for("/subdistrict/NOPE", geo) is None
    assert room_for(f"/subdistrict/{cell}", geo) is None
    assert room_for("/alerts", geo) is None
    assert room_for(None, geo) == WALL_ROOM  # a client naming no view (a script, a benchmark): the wall's


def test_area_holds_its_communities_and_cells(geo: Geography) -> None:
    ids = area_ids(geo, "ZM")
    assert "ZM" in ids and "ZM-C01" in ids and "ZM-0001" in ids
    assert not any(i.startswith("SW") for i in ids)
    assert area_ids(geo, "ZM-0001") == frozenset({"ZM-0001"})


def test_area_filter_keeps_only_counters_inside_the_area(geo: Geography) -> None:
    keep = area_filter(area_ids(geo, "ZM-C01"))
    cell = geo.children("ZM-C01")[0].id
    other = next(a.id for a in geo.cells.values() if a.parent_id != "ZM-C01")
    assert keep(("cells", cell)) and not keep(("cells", other))
    assert keep(("open", "cell", cell, "handle")) and keep(("open", "community", "ZM-C01", "handle"))
    assert not keep(("open", "subdistrict", "ZM", "handle"))  # the parent is not inside the area
    assert not keep(("open", "district", "all", "handle")) and not keep(("open", "dept", "d1", "handle"))
    assert keep(("overdue", "cell", cell)) and not keep(("overdue", "cell", other))
    assert keep(("days", DAY, "by", "cell", cell, "reported")) and not keep(("days", DAY, "n", "reported"))
    assert keep(("health", cell)) and not keep(("health", "ZM"))
    assert not keep(("kpi", "open"))


def test_each_room_gets_what_it_shows(geo: Geography) -> None:
    rooms = Rooms(geo)
    sub = "ZM"
    comm = geo.children(sub)[0].id
    cell = geo.children(comm)[0].id
    away = next(a for a in geo.cells.values() if not a.id.startswith(sub))
    away_comm = away.parent_id or ""
    away_sub = geo.communities[away_comm].parent_id or ""
    batch = [delta(7, cell, sub, comm, "K-1"), delta(8, away.id, away_sub, away_comm, "K-2")]

    wall = room_message(WALL_ROOM, batch, rooms.filters(WALL_ROOM))
    assert wall is not None and wall == {k: v for k, v in merge(batch).items() if k != "overdue_changed"}
    assert wall["set"]["kpi"]["open"] == 1 and len(wall["ticker"]) == 2
    assert "cell" not in wall["set"]["open"] and "cell" not in wall["set"]["days"][DAY]["by"]

    area = room_message(f"area:{sub}", batch, rooms.filters(f"area:{sub}"))
    assert area is not None and (area["from"], area["to"]) == (7, 8)
    assert area["set"]["cells"] == {cell: 1}
    one = {"registration": 1}
    assert area["set"]["open"] == {"cell": {cell: one}, "community": {comm: one}, "subdistrict": {sub: one}}
    assert "kpi" not in area["set"] and [t["case"] for t in tick_items(area["ticker"])] == ["K-1"]

    # a room far from both cases still gets the seq range (a page tells a gap from "nothing here")
    far = next(s for s in geo.subdistricts if s not in (sub, away_sub))
    empty = room_message(f"area:{far}", batch, rooms.filters(f"area:{far}"))
    assert empty == {"from": 7, "to": 8, "ts": 1}

    case = room_message("case:K-2", batch, rooms.filters("case:K-2"))
    assert (
        case is not None and [t["case"] for t in tick_items(case["ticker"])] == ["K-2"] and "set" not in case
    )
    assert room_message("case:K-3", batch, rooms.filters("case:K-3")) is None
    assert rooms.filters(f"area:{sub}") is rooms.filters(f"area:{sub}")  # built once


def test_rooms_track_members(geo: Geography) -> None:
    rooms = Rooms(geo)
    rooms.join("a", WALL_ROOM)
    rooms.join("b", "area:ZM")
    rooms.join("c", "area:ZM")
    assert rooms.active() == ["area:ZM", WALL_ROOM]
    rooms.leave("b")
    rooms.leave("a")
    assert rooms.active() == ["area:ZM"]
    rooms.leave("c")
    rooms.leave("unknown")
    assert rooms.active() == []


def feed(stale: bool, beat: int | None) -> dict[str, Any]:
    """One feed's health as dashboard.queries.status.feeds_health reports it."""
    return {"stale": stale, "heartbeat_ms": beat, "healthy": not stale}


def test_a_kind_is_stale_when_any_of_its_feeds_is() -> None:
    kinds: dict[str, tuple[str, ...]] = {"cams": ("camera_status",), "hotline": ("case_event",)}
    st = kind_status(
        {"cams": feed(False, 900), "hotline": feed(True, 100), "simulator": feed(False, 950)},
        kinds | {"simulator": ("case_event", "sensor_reading", "camera_status")},
    )
    assert st["case_event"] == {"stale": True, "since": 100, "asof": 100, "feeds": ["hotline"]}
    assert st["camera_status"] == {"stale": False, "since": None, "asof": 900, "feeds": []}
    assert st["sensor_reading"]["stale"] is False
    # an unknown feed counts for every kind; a feed never heard of is stale with no "since"
    st2 = kind_status({"mystery": feed(True, None)}, {})
    assert set(st2) == {"case_event", "sensor_reading", "camera_status"}
    assert st2["camera_status"]["since"] is None and st2["camera_status"]["stale"] is True
    # a heartbeat moving is no change; a kind turning stale is
    moved = kind_status({"cams": feed(False, 990), "hotline": feed(True, 100)}, kinds)
    same = kind_status({"cams": feed(False, 900), "hotline": feed(True, 100)}, kinds)
    assert not status_changed(same, moved)
    assert status_changed(same, kind_status({"cams": feed(True, 900), "hotline": feed(True, 100)}, kinds))
    assert status_changed(None, same)


def test_a_socket_client_in_an_area_room_gets_only_that_area(short_tmp: Path, geo: Geography) -> None:
    """The real app: a Socket.IO client naming /subdistrict/ZM gets ZM's fields and nothing else."""
    import socketio

    a = App(short_tmp, "--no-simulator").start()
    got: list[dict[str, Any]] = []
    sio = socketio.Client()
    sio.on("delta", got.append)
    try:
        sio.connect(a.url, auth={"pathname": "/subdistrict/ZM"}, transports=["websocket"])
        r = a.client()
        now = int(time.time() * 1000)
        inside, outside = "ZM-0001", next(i for i in geo.cells if not i.startswith("ZM"))
        for case, cell in (("IN-1", inside), ("OUT-1", outside)):
            ev = CaseEvent(
                event_id=f"{case}-0", case_id=case, ts=now, step="reported", event_type="CM-0101",
                category="city_management", cell_id=cell, source="test",
            )  # fmt: skip
            r.xadd(keys.STREAM_CASE_EVENTS, encode(ev))  # type: ignore[arg-type]
        wait_for(
            lambda: r.hget(keys.CELL_OPEN, inside) == r.hget(keys.CELL_OPEN, outside) == "1",
            20,
            what="cases in",
        )
        seq = int(r.get(keys.DELTA_SEQ) or 0)
        wait_for(lambda: got and max(m["to"] for m in got) >= seq, 20, what="every delta in the area room")
        cells = {cell for m in got for cell in m.get("set", {}).get("cells", {})}
        tick = {t["case"] for m in got for t in tick_items(m.get("ticker", []))}
        assert cells == {inside} and tick == {"IN-1"}
        assert all(m["boot"] and m["epoch"] and "kpi" not in m.get("set", {}) for m in got)
    finally:
        sio.disconnect()
        a.stop()


def test_rooms_are_only_for_known_ids_and_stay_bounded(geo: Geography) -> None:
    """Issue 13: a room per distinct string was kept for ever (60 sockets with 400 KB ids: +62 MB)."""
    known = {"K-9"}
    assert room_for("/case/K-9", geo, known.__contains__) == "case:K-9"
    assert room_for("/case/K-10", geo, known.__contains__) is None  # no such case: no room
    assert room_for("/case/" + "x" * 400_000, geo) is None
    assert room_for("/case/a b<script>", geo) is None
    assert room_for({"a": 1}, geo) is None  # type: ignore[arg-type]
    rooms = Rooms(geo)
    for i in range(3 * Rooms.FILTERS_KEPT):
        rooms.filters(f"case:C-{i}")
    assert rooms.cached() == Rooms.FILTERS_KEPT


def test_connections_past_the_cap_are_refused(geo: Geography) -> None:
    rooms = Rooms(geo, max_connections=2)
    assert rooms.connect("a") and rooms.connect("b")
    assert not rooms.connect("c")
    rooms.leave("a")
    assert rooms.connect("c") and rooms.connections() == 2


def test_a_real_socket_past_the_cap_is_refused(short_tmp: Path) -> None:
    """Over Socket.IO: with web.max_connections 2, a third client's connection is refused."""
    import socketio

    config = short_tmp / "config.yaml"
    config.write_text("web:\n  max_connections: 2\n", encoding="utf-8")
    a = App(short_tmp, "--no-simulator", "--config", str(config)).start()
    clients = [socketio.Client(reconnection=False) for _ in range(3)]
    try:
        for c in clients[:2]:
            c.connect(a.url, auth={"pathname": "/wall"}, transports=["websocket"])
        with pytest.raises(socketio.exceptions.ConnectionError):
            clients[2].connect(a.url, auth={"pathname": "/wall"}, transports=["websocket"], wait_timeout=5)
        clients[0].disconnect()
        wait_for(lambda: _connects(clients[2], a.url), 10, 0.2, "a place after one left")
    finally:
        for c in clients:
            c.disconnect()
        a.stop()


def _connects(client: Any, url: str) -> bool:
    try:
        client.connect(url, auth={"pathname": "/wall"}, transports=["websocket"], wait_timeout=5)
    except Exception:
        return False
    return bool(client.connected)
