"""Drill-down data on real Redis with data from the real processor: roll-ups, KPIs, trends, children,
alerts, the cell view (devices, sensor history, roster, cases), and search."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import redis

from dashboard.alerts import store
from dashboard.alerts.model import AlertState, Transition
from dashboard.config import ProcessorConfig
from dashboard.domain import counters, lifecycle, roster
from dashboard.domain.counters import places_of
from dashboard.domain.geo import Geography, load_default_geography
from dashboard.domain.lifecycle import STAGES
from dashboard.domain.registry import Registry, default_registry
from dashboard.processor.health import HealthJob
from dashboard.processor.loop import Processor
from dashboard.queries import areas, cells
from dashboard.queries.search import search
from dashboard.store import keys
from dashboard.store.records import STREAM_OF, CameraStatus, CaseEvent, Record, SensorReading, encode, kind_of

TZ = ZoneInfo("Asia/Shanghai")
NOW = 1_790_000_000_000  # 2026-09-21 22:13 in Shanghai
HOUR = 3_600_000
DAY = 24 * HOUR
PATHS = [
    ["reported", "registered", "dispatched", "handled", "feedback", "verified", "closed"],
    ["reported", "registered", "dispatched", "returned", "dispatched", "handled", "feedback", "closed"],
    ["reported", "registered", "dispatched"],
    ["reported", "escalated", "dispatched", "handled"],
    ["reported", "cancelled"],
    ["reported"],
]


@pytest.fixture(scope="module")
def geo() -> Geography:
    return load_default_geography()


@pytest.fixture(scope="module")
def reg() -> Registry:
    return default_registry()


class Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def processor(r: redis.Redis, geo: Geography, now: int = NOW) -> Processor:
    p = Processor(r, ProcessorConfig(batch_size=200), "t", places=places_of(geo), clock=Clock(now))
    p.ensure_groups()
    return p


def feed(r: redis.Redis, p: Processor, *recs: Record) -> None:
    """Append records to their input streams and let the processor apply all of them."""
    with r.pipeline(transaction=False) as pipe:
        for rec in recs:
            pipe.xadd(STREAM_OF[kind_of(rec)], encode(rec))  # type: ignore[arg-type]
        pipe.execute()
    while p.step():
        pass


def case_events(case: str, cell: str, path: list[str], start: int, gap: int = 40 * 60_000) -> list[CaseEvent]:
    return [
        CaseEvent(
            event_id=f"{case}-{n}",
            case_id=case,
            seq=n,
            ts=min(NOW - 1000, start + n * gap),
            step=step,  # type: ignore[arg-type]
            event_type="CM-0101",
            category="city_management",
            cell_id=cell,
            department="urban_mgmt" if step not in ("reported", "registered") else None,
        )
        for n, step in enumerate(path)
    ]


@pytest.fixture
def busy(r: redis.Redis, geo: Geography) -> Iterator[redis.Redis]:
    """Four days of random cases in 150 cells of every subdistrict, run through the real processor,
    then deadlines checked at NOW (so some are overdue)."""
    rnd = random.Random(7)
    cells = rnd.sample(sorted(geo.cells), 150)
    p = processor(r, geo)
    events = []
    for i in range(700):
        start = NOW - rnd.randint(0, 4 * DAY)
        events += case_events(
            f"K{i:04d}", rnd.choice(cells), rnd.choice(PATHS), start, rnd.randint(5, 300) * 60_000
        )
    feed(r, p, *events)
    while p.check_deadlines():
        pass
    yield r


def ints(h: dict[str, str]) -> dict[str, int]:
    return {k: int(v) for k, v in h.items()}


def sum_children(h: dict[str, int], fld_of: Any, children: list[str]) -> int:
    return sum(h.get(fld_of(ch), 0) for ch in children)


def test_rollups_equal_the_sum_of_their_children(busy: redis.Redis, geo: Geography) -> None:
    """Cells -> community -> subdistrict -> district, in every per-area counter the processor keeps."""
    r = busy
    hashes = sorted(r.scan_iter(f"{keys.TAG}:rm:day:*")) + sorted(r.scan_iter(f"{keys.TAG}:rm:hour:*"))
    hashes += [keys.OPEN, keys.OVERDUE_N]
    assert len([k for k in hashes if ":day:" in k]) >= 4
    assert all(0 < r.ttl(k) <= keys.DAY_TTL_S for k in hashes if ":day:" in k)  # bounded: 92 days
    assert all(0 < r.ttl(k) <= keys.HOUR_TTL_S for k in hashes if ":hour:" in k)
    checked = 0
    for key in hashes:
        h = ints(r.hgetall(key))
        day = ":day:" in key
        if key == keys.OPEN:
            prefixes = [f"{{}}:{s}" for s in STAGES]
        elif key == keys.OVERDUE_N:
            prefixes = ["{}"]
        else:
            steps = lifecycle.CASE_STEPS if day else counters.TREND_STEPS
            prefixes = [f"{s}:{{}}" for s in steps]
            if day:
                prefixes += ["ontime:{}", "late:{}"] + [f"hdur:{{}}:{b}" for b in range(30)]
        for pat in prefixes:
            for com in geo.communities.values():
                kids = [f"cell:{x.id}" for x in geo.children(com.id)]
                assert h.get(pat.format(f"community:{com.id}"), 0) == sum_children(h, pat.format, kids), (
                    key,
                    pat,
                )
            for sub in geo.subdistricts.values():
                kids = [f"community:{x.id}" for x in geo.children(sub.id)]
                assert h.get(pat.format(f"subdistrict:{sub.id}"), 0) == sum_children(h, pat.format, kids), (
                    key,
                    pat,
                )
            subs = [f"subdistrict:{s}" for s in geo.subdistricts]
            district = _district_field(key, pat)
            assert h.get(district, 0) == sum_children(h, pat.format, subs), (key, pat)
            checked += h.get(district, 0)
    assert checked > 1000  # the data is not empty


def _district_field(key: str, pat: str) -> str:
    """Where the district's own count of a pattern lives (plain totals in day/hour hashes)."""
    if key in (keys.OPEN, keys.OVERDUE_N) or (
        pat.startswith(tuple(f"{s}:" for s in lifecycle.CASE_STEPS)) and ":day:" in key
    ):
        return pat.format(f"district:{counters.DISTRICT}")
    if pat.startswith("hdur:"):
        return "dur:handle:" + pat.rsplit(":", 1)[1]
    return pat.split(":")[0]


def test_district_kpis_are_the_sum_of_the_subdistricts(
    busy: redis.Redis, geo: Geography, reg: Registry
) -> None:
    r = busy
    for rng in areas.RANGES:
        top = areas.kpis(r, geo, reg, geo.district.id, rng, TZ, NOW)
        subs = [areas.kpis(r, geo, reg, s, rng, TZ, NOW) for s in geo.subdistricts]
        for k in ("reported", "closed", "returned", "open", "overdue", "cameras", "sensors"):
            assert top[k] == sum(s[k] for s in subs), (rng, k)
        assert top["open_by_stage"] == {st: sum(s["open_by_stage"][st] for s in subs) for st in STAGES}
    week = areas.kpis(r, geo, reg, geo.district.id, "7d", TZ, NOW)
    assert week["reported"] == 700 and week["open"] == sum(week["open_by_stage"].values()) > 0
    assert week["overdue"] > 0 and week["returned"] > 0 and week["closed"] > 0
    assert 0 <= week["ontime_rate"] <= 1 and week["median_handle_min"] > 0
    today = areas.kpis(r, geo, reg, geo.district.id, "today", TZ, NOW)
    assert 0 < today["reported"] < week["reported"]


def test_trend_hours_and_days_agree_with_the_kpis(busy: redis.Redis, geo: Geography, reg: Registry) -> None:
    r = busy
    for area_id in (geo.district.id, "ZM", next(iter(geo.communities))):
        day = areas.trend(r, area_id, "7d", TZ, NOW, geo=geo)
        assert day["unit"] == "day" and len(day["x"]) == 7 and day["x"][-1] == "20260921"
        k = areas.kpis(r, geo, reg, area_id, "7d", TZ, NOW)
        assert sum(day["reported"]) == k["reported"] and sum(day["closed"]) == k["closed"]
        assert areas.trend(r, area_id, "7d", TZ, NOW) == day  # the level read from the id's shape
        hour = areas.trend(r, area_id, "today", TZ, NOW, geo=geo)
        assert hour["unit"] == "hour" and len(hour["x"]) == 24 and hour["x"][-1] == "2026092122"
        assert len(areas.trend(r, area_id, "30d", TZ, NOW)["x"]) == 30
    hour = areas.trend(r, geo.district.id, "today", TZ, NOW)
    assert sum(hour["reported"]) > 0
    assert sum(hour["reported"]) == sum(
        sum(areas.trend(r, s, "today", TZ, NOW)["reported"]) for s in geo.subdistricts
    )


def test_cell_counts_are_exact(r: redis.Redis, geo: Geography, reg: Registry) -> None:
    p = processor(r, geo)
    cell = "ZM-0001"
    feed(
        r,
        p,
        *case_events("A", cell, PATHS[0], NOW - 8 * HOUR, 10 * 60_000),
        *case_events("B", cell, PATHS[1], NOW - 9 * HOUR, 10 * 60_000),
        *case_events("C", cell, PATHS[2], NOW - 3 * DAY),
        *case_events("D", "ZM-0002", PATHS[5], NOW - HOUR),
    )
    k = areas.kpis(r, geo, reg, cell, "today", TZ, NOW)
    assert (k["reported"], k["closed"], k["returned"], k["open"]) == (2, 2, 1, 1)
    assert k["open_by_stage"]["handle"] == 1 and k["ontime_rate"] == 1.0
    assert k["median_handle_min"] is not None
    assert areas.kpis(r, geo, reg, cell, "7d", TZ, NOW)["reported"] == 3
    assert areas.kpis(r, geo, reg, "ZM-C01", "today", TZ, NOW)["reported"] == 3
    trend = areas.trend(r, cell, "today", TZ, NOW)
    assert sum(trend["reported"]) == 2 and sum(trend["closed"]) == 2


def _alert(r: redis.Redis, geo: Geography, area: str, level: str, n: int = 1) -> None:
    """A firing alert on ``area`` (with its ancestors, as the engine records them) and its transition."""
    path = (area, *[a.id for a in reversed(geo.ancestors(area))])
    st = AlertState(
        id=f"t{n}:{area}",
        rule=f"t{n}",
        key=area,
        state="firing",
        level=level,  # type: ignore[arg-type]
        since=NOW - n,
        started=NOW - n,
        fired=NOW - n,
        areas=path,
    )
    tr = Transition(
        ts=NOW - n,
        instance=st.id,
        rule=st.rule,
        episode=1,
        from_status="pending",
        to_status="firing",
        level=level,  # type: ignore[arg-type]
        from_level=None,
        reason="test",
        areas=path,
    )
    with r.pipeline(transaction=True) as pipe:
        store.queue_changes(pipe, {st.id: st}, (), [tr], int(r.get(keys.ALERT_SEQ) or 0), NOW)
        pipe.execute()


def test_active_alerts_in_an_area_and_children_ranked_worst_first(
    r: redis.Redis, geo: Geography, reg: Registry
) -> None:
    _alert(r, geo, "ZM-0003", "yellow", 1)
    _alert(r, geo, "ZM-C02", "red", 2)
    _alert(r, geo, "SW-0001", "blue", 3)
    zm = areas.active_alerts(r, geo, "ZM")
    assert [a["area"] for a in zm] == ["ZM-C02", "ZM-0003"]  # red first
    assert [a["area"] for a in areas.active_alerts(r, geo, "ZM-0003")] == ["ZM-0003"]
    assert len(areas.active_alerts(r, geo, geo.district.id)) == 3
    assert areas.active_alerts(r, geo, "ZC") == []
    HealthJob(r, geo, reg, TZ).publish(NOW)  # the processor scores the areas (the pages read the scores)
    k = areas.kpis(r, geo, reg, "ZM", "today", TZ, NOW)
    assert k["alerts"] == {"red": 1, "orange": 0, "yellow": 1, "blue": 0}
    kids = areas.children(r, geo, reg, "ZM", TZ, NOW)
    assert [k["id"] for k in kids[:2]] == ["ZM-C02", "ZM-C01"]
    assert kids[0]["health"] < kids[1]["health"] < kids[2]["health"] == 100
    assert kids[1]["alerts"] == 1 and set(kids[0]) >= {"name_zh", "name_en", "colour", "open", "overdue"}
    district = areas.children(r, geo, reg, geo.district.id, TZ, NOW)
    assert district[0]["id"] == "ZM" and {d["level"] for d in district} == {"subdistrict"}
    assert areas.children(r, geo, reg, "ZM-0001", TZ, NOW) == []


def test_find_crumbs_bounds_and_href(geo: Geography) -> None:
    assert areas.find(geo, "cell", "ZM-0001") is not None
    assert areas.find(geo, "community", "ZM-0001") is None
    assert areas.find(geo, "cell", "nope") is None
    assert [a.id for a in areas.crumbs(geo, "ZM-0001")] == [geo.district.id, "ZM", "ZM-C01", "ZM-0001"]
    assert [a.id for a in areas.crumbs(geo, geo.district.id)] == [geo.district.id]
    minx, miny, maxx, maxy = areas.bounds(geo, "ZM-C01")
    dminx, dminy, dmaxx, dmaxy = geo.bounds
    assert dminx <= minx < maxx <= dmaxx and dminy <= miny < maxy <= dmaxy
    assert [areas.href(geo.area(a)) for a in (geo.district.id, "ZM", "ZM-C01", "ZM-0001")] == [
        "/",
        "/subdistrict/ZM",
        "/community/ZM-C01",
        "/cell/ZM-0001",
    ]
    assert {a: areas.level_of_id(a) for a in geo.communities} == {a: "community" for a in geo.communities}
    assert {a: areas.level_of_id(a) for a in geo.cells} == {a: "cell" for a in geo.cells}


def test_cell_detail(r: redis.Redis, geo: Geography, reg: Registry) -> None:
    cell = next(s.cell_id for s in reg.sensors.values())
    cams = [x for x in reg.cameras.values() if x.cell_id == cell]
    sensor = next(s for s in reg.sensors.values() if s.cell_id == cell)
    p = processor(r, geo)
    recs: list[Record] = [CameraStatus(camera_id=cams[0].id, status="offline", ts=NOW - 5000, cell_id=cell)]
    # a reading every minute for 30 hours: the history keeps one point (the highest) per 5 minutes, 24 h
    for m in range(30 * 60, 0, -1):
        value = sensor.thresholds.alarm if m == 7 else sensor.thresholds.warn / 2
        recs.append(
            SensorReading(
                sensor_id=sensor.id,
                metric=sensor.metric,
                value=value,
                unit=sensor.unit,
                ts=NOW - m * 60_000,
                cell_id=cell,
            )
        )
    for i in range(25):
        recs += case_events(f"Z{i:02d}", cell, PATHS[0], NOW - 10 * HOUR + i * 60_000, 60_000)
    recs += case_events("OPEN1", cell, PATHS[2], NOW - HOUR) + case_events("OPEN2", cell, PATHS[5], NOW - DAY)
    feed(r, p, *recs)
    while p.check_deadlines():
        pass
    _alert(r, geo, cell, "orange")
    d = cells.cell_detail(r, geo, reg, cell, TZ, NOW)
    assert len(d["cameras"]) == len(cams)
    off = next(x for x in d["cameras"] if x["id"] == cams[0].id)
    assert off["status"] == "offline" and off["since_ms"] == NOW - 5000
    assert {x["status"] for x in d["cameras"] if x["id"] != cams[0].id} == {"unknown"}
    s = next(x for x in d["sensors"] if x["id"] == sensor.id)
    assert s["status"] == "ok" and s["ts"] == NOW - 60_000
    series = s["series"]
    assert len(series) <= 24 * 12 + 1 and series[0][0] >= NOW - DAY - counters.SENSOR_SLOT_MS
    assert [t for t, _ in series] == sorted({t for t, _ in series})
    assert all(t % counters.SENSOR_SLOT_MS == 0 for t, _ in series)
    peak = next(v for t, v in series if t <= NOW - 7 * 60_000 < t + counters.SENSOR_SLOT_MS)
    assert peak == sensor.thresholds.alarm  # the slot keeps its highest reading
    assert all(0 < r.ttl(k) <= keys.SENSOR_HIST_TTL_S for k in r.scan_iter(f"{keys.TAG}:rm:sensor-hist:*"))
    assert d["open_cases"]["handle"][0]["case"] == "OPEN1"
    assert d["open_cases"]["registration"][0] == {
        "case": "OPEN2",
        "type": "CM-0101",
        "priority": "normal",
        "deadline": d["open_cases"]["registration"][0]["deadline"],
        "overdue": True,
    }
    assert set(d["open_cases"]) == set(STAGES)
    closed = d["recently_closed"]
    assert len(closed) == cells.RECENTLY_CLOSED == r.zcard(keys.cell_closed_key(cell))
    assert [x["closed_ms"] for x in closed] == sorted((x["closed_ms"] for x in closed), reverse=True)
    assert closed[0]["case"] == "Z24" and closed[0]["type"] == "CM-0101"
    assert [h["to_status"] for h in d["alert_history"]] == ["firing"]
    workers = d["workers"]
    assert 1 <= len(workers) <= 2 and all("****" in w["phone_masked"] for w in workers)
    assert r.smembers(keys.cell_cases_key(cell)) == {"OPEN1", "OPEN2"}


def test_a_case_moving_cell_leaves_the_old_cells_index(r: redis.Redis, geo: Geography) -> None:
    """A late "reported" event names the case's real cell: the per-cell index follows it."""
    p = processor(r, geo)
    first = case_events("M", "ZM-0001", ["reported", "registered"], NOW - HOUR)
    feed(r, p, first[1].model_copy(update={"cell_id": "ZM-0005"}))
    feed(r, p, first[0])
    assert r.smembers(keys.cell_cases_key("ZM-0005")) == set()
    assert r.smembers(keys.cell_cases_key("ZM-0001")) == {"M"}


def test_search(r: redis.Redis, geo: Geography) -> None:
    p = processor(r, geo)
    feed(
        r,
        p,
        *case_events("CASE-100", "ZM-0001", ["reported"], NOW - HOUR),
        *case_events("CASE-1001", "ZM-0001", ["reported"], NOW - HOUR),
    )
    hits = search(geo, r, "CASE-100")
    assert [(h["kind"], h["id"]) for h in hits] == [("case", "CASE-100"), ("case", "CASE-1001")]
    assert hits[0]["href"] == "/case/CASE-100"
    assert search(geo, r, "zm-0001")[0] == {
        "kind": "cell",
        "id": "ZM-0001",
        "name_zh": geo.cells["ZM-0001"].name_zh,
        "name_en": geo.cells["ZM-0001"].name_en,
        "href": "/cell/ZM-0001",
    }
    com = geo.communities["ZM-C01"]
    zh = search(geo, r, com.name_zh)
    assert zh[0]["id"] == "ZM-C01" and all(h["kind"] == "cell" for h in zh[1:])  # exact first
    assert search(geo, r, com.name_en.upper())[0]["id"] == "ZM-C01"
    sub = geo.subdistricts["SW"]
    assert search(geo, r, sub.name_zh)[0] == {
        "kind": "subdistrict",
        "id": "SW",
        "name_zh": sub.name_zh,
        "name_en": sub.name_en,
        "href": "/subdistrict/SW",
    }
    cell_en = geo.cells["NZ-0001"].name_en
    assert any(h["id"] == "NZ-0001" for h in search(geo, r, cell_en.lower(), limit=50))
    assert len(search(geo, r, "网格", limit=7)) == 7
    assert search(geo, r, "  ") == [] and search(geo, r, "no such place") == []
    assert search(geo, r, "CASE*") == []  # a glob is text, not a pattern
    assert [h["id"] for h in search(geo, r, "case-100")] == ["CASE-100", "CASE-1001"]


def test_shipped_roster_covers_every_cell_with_one_or_two_workers(geo: Geography) -> None:
    workers = roster.load_roster(roster.DEFAULT_FILE, geo.cells)
    assert set(workers) == set(geo.cells)
    assert {len(w) for w in workers.values()} == {1, 2}
    assert all(len(w.name_zh) in (2, 3) and w.name_en.isascii() for ws in workers.values() for w in ws)


def test_phone_masking() -> None:
    assert roster.mask_phone("13812345678") == "138****5678"
    assert roster.mask_phone("123") == "***"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("GW-9,王伟,Wang Wei,1381234567,ZM-0001,full_time", "line 2 (GW-9): field 'phone'"),
        ("GW-9,王伟,Wang Wei,13812345678,XX-0001,full_time", "line 2 (GW-9): field 'cell_id': unknown cell"),
        ("GW-9,王伟,Wang Wei,13812345678,ZM-0001,boss", "line 2 (GW-9): field 'role'"),
        ("GW-9,,Wang Wei,13812345678,ZM-0001,full_time", "line 2 (GW-9): field 'name_zh'"),
        ("GW-9,王伟,Wang Wei,13812345678", "line 2: want 6 fields, found 4"),
    ],
)
def test_a_bad_roster_row_is_named(tmp_path: Path, geo: Geography, row: str, message: str) -> None:
    path = tmp_path / "workers.csv"
    path.write_text(",".join(roster.COLUMNS) + "\n" + row + "\n", encoding="utf-8")
    with pytest.raises(roster.RosterError, match=message.replace("(", r"\(").replace(")", r"\)")):
        roster.load_roster(path, geo.cells)


def test_a_duplicate_worker_id_is_named(tmp_path: Path) -> None:
    path = tmp_path / "workers.csv"
    row = "GW-1,王伟,Wang Wei,13812345678,ZM-0001,full_time\n"
    path.write_text(",".join(roster.COLUMNS) + "\n" + row + row, encoding="utf-8")
    with pytest.raises(roster.RosterError, match=r"line 3 \(GW-1\): field 'id': duplicate id"):
        roster.load_roster(path)
