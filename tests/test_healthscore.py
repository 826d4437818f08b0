"""The health score: hand-made cells ranked as a duty officer would, roll-ups, and compute_all on Redis."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import redis

from dashboard import contract as c
from dashboard import healthscore as hs
from dashboard import processor as proc
from dashboard.alerts import store
from dashboard.alerts.model import AlertState
from dashboard.config import ProcessorConfig
from dashboard.geo import load_default_geography
from dashboard.registry import default_registry

TZ = ZoneInfo("Asia/Shanghai")
NOW = 1_790_000_000_000

QUIET = hs.HealthInputs(open=1, usual=0.5, cameras=30, cameras_online=30, sensors=2, sensors_fresh=2)
OVERLOADED = hs.HealthInputs(
    open=24, overdue=5, usual=6, cameras=30, cameras_online=30, sensors=2, sensors_fresh=2
)
RED_ALERT = hs.HealthInputs(
    open=2, usual=6, alerts={"red": 1}, cameras=30, cameras_online=30, sensors=2, sensors_fresh=2
)
CAMERAS_DOWN = hs.HealthInputs(open=2, usual=6, cameras=30, cameras_online=0, sensors=2, sensors_fresh=2)


def test_duty_officer_order_quiet_cameras_down_overloaded_red_alert() -> None:
    """Quiet is best; cameras all offline costs sight but nothing is known wrong; an overloaded cell
    has citizens waiting past deadlines; a red alert is an emergency now and ranks worst."""
    scores = {
        name: hs.score(i)
        for name, i in [
            ("quiet", QUIET),
            ("cameras", CAMERAS_DOWN),
            ("overloaded", OVERLOADED),
            ("red", RED_ALERT),
        ]
    }
    ranked = sorted(scores, key=lambda n: -scores[n].score)
    assert ranked == ["quiet", "cameras", "overloaded", "red"]
    assert scores["quiet"].score == 100 and scores["quiet"].band == "good"
    assert scores["cameras"].band == "fair" and scores["cameras"].parts["devices"] == hs.DEVICES_MAX
    assert scores["overloaded"].band == "poor"
    assert scores["red"].band == "bad" and scores["red"].colour == "#d7191c"


def test_parts_add_up_to_the_points_lost() -> None:
    for inputs in (QUIET, OVERLOADED, RED_ALERT, CAMERAS_DOWN):
        h = hs.score(inputs)
        assert set(h.parts) == set(hs.PARTS)
        assert 100 - sum(h.parts.values()) == h.score
        assert h.as_dict()["parts"] == h.parts


def test_a_quiet_cell_is_not_punished_for_one_case() -> None:
    """The usual-load floor: one open overdue case in a cell that sees a case a week stays good."""
    h = hs.score(hs.HealthInputs(open=1, overdue=1, usual=0.1))
    assert h.band == "good" and h.parts["load"] == 0 and 0 < h.parts["overdue"] <= 10


def test_each_part_is_capped_and_the_score_never_goes_below_zero() -> None:
    worst = hs.HealthInputs(open=1000, overdue=1000, usual=1, alerts={"red": 5}, cameras=10, sensors=3)
    h = hs.score(worst)
    assert h.parts == {
        "load": hs.LOAD_MAX,
        "overdue": hs.OVERDUE_MAX,
        "alerts": hs.ALERTS_MAX,
        "devices": hs.DEVICES_MAX,
        "freshness": hs.FRESHNESS_MAX,
    }
    assert h.score == 0 and h.band == "bad"


def test_no_devices_and_no_cases_is_full_health() -> None:
    assert hs.score(hs.HealthInputs()).score == 100


def test_rollup_weighs_the_worse_children_more_and_caps_at_the_worst_plus_slack() -> None:
    good, red = hs.score(QUIET), hs.score(RED_ALERT)
    parent = hs.rollup([good, red])
    plain_mean = (good.score + red.score) / 2
    assert parent.score < plain_mean
    many = hs.rollup([good] * 50 + [red])
    assert many.score == red.score + hs.ROLLUP_SLACK  # one emergency is not averaged away
    assert 100 - sum(many.parts.values()) == many.score and many.parts["alerts"] > 0
    assert hs.rollup([good] * 5).score == 100


def test_rollup_adds_alerts_raised_on_the_area_itself() -> None:
    assert hs.rollup([hs.score(QUIET)], {"orange": 1}).score == 100 - hs.ALERT_POINTS["orange"]
    assert hs.rollup([], {"red": 1}).parts["alerts"] == hs.ALERT_POINTS["red"]


def test_compact_changed_save_and_load(r: redis.Redis) -> None:
    first = hs.compact({"ZM-0001": hs.score(QUIET), "ZM-0002": hs.score(RED_ALERT)})
    second = {**first, "ZM-0002": [100, hs.band_of(100)[1]]}
    assert hs.changed({}, first) == first
    assert hs.changed(first, second) == {"ZM-0002": [100, "#1a9850"]}
    hs.save(r, second)
    assert hs.load(r) == second
    assert 0 < r.ttl(hs.HEALTH_KEY) <= hs.HEALTH_TTL_S


def _fire(r: redis.Redis, area_path: tuple[str, ...], level: str) -> None:
    """Write one firing alert on the first area of ``area_path`` as the alert store does."""
    st = AlertState(
        id=f"t:{area_path[0]}",
        rule="t",
        key=area_path[0],
        state="firing",
        level=level,  # type: ignore[arg-type]
        since=NOW,
        started=NOW,
        fired=NOW,
        areas=area_path,
    )
    with r.pipeline(transaction=True) as pipe:
        store.queue_changes(pipe, {st.id: st}, (), [], 0, NOW)
        pipe.execute()


def test_compute_all_scores_every_area_from_redis(r: redis.Redis) -> None:
    geo, reg = load_default_geography(), default_registry()
    cams = [cam for cam in reg.cameras.values() if cam.cell_id == "ZM-0002"]
    p = proc.Processor(r, ProcessorConfig(), "t", places=proc.places_of(geo), clock=lambda: NOW)
    p.ensure_groups()
    for cam in cams:
        rec = c.CameraStatus(camera_id=cam.id, status="offline", ts=NOW - 1000, cell_id=cam.cell_id)
        r.xadd(c.STREAM_CAMERA_STATUS, c.encode(rec))  # type: ignore[arg-type]
    while p.step():
        pass
    _fire(r, ("ZM-0003", "ZM-C01", "ZM", geo.district.id), "red")
    out = hs.compute_all(r, geo, reg, NOW, TZ)
    assert set(out) == {geo.district.id, *geo.subdistricts, *geo.communities, *geo.cells}
    assert all(100 - sum(h.parts.values()) == h.score for h in out.values())
    assert out["ZM-0001"].score == 100
    assert out["ZM-0002"].parts["devices"] == hs.DEVICES_MAX
    assert out["ZM-0003"].parts["alerts"] == hs.ALERT_POINTS["red"]
    assert out["ZM-C01"].score <= out["ZM-0003"].score + hs.ROLLUP_SLACK
    assert out["ZM"].score < 100 and out["ZC"].score == 100
    assert out[geo.district.id].score < 100


def test_the_push_sends_only_changed_areas_and_the_snapshot_has_the_whole_map(r: redis.Redis) -> None:
    """Through a real Flask-SocketIO server and its in-process test client."""
    from flask import Flask
    from flask_socketio import SocketIO

    from dashboard.push import HEALTH_EVENT, PushBridge, Rooms, read_snapshot

    geo = load_default_geography()
    app = Flask(__name__)
    sio = SocketIO(app, async_mode="threading")
    page = sio.test_client(app)
    bridge = PushBridge(sio, r, TZ, rooms=Rooms(geo))
    bridge._emit_health(geo)
    first = [m["args"][0] for m in page.get_received() if m["name"] == HEALTH_EVENT]
    assert len(first) == 1 and len(first[0]) == 1 + len(geo.subdistricts) + len(geo.communities) + len(
        geo.cells
    )
    assert first[0]["ZM-0001"] == [100, "#1a9850"]
    assert read_snapshot(r, TZ)["health"] == first[0]
    bridge._emit_health(geo)
    assert [m for m in page.get_received() if m["name"] == HEALTH_EVENT] == []  # nothing changed
    _fire(r, ("ZM-0003", "ZM-C01", "ZM", geo.district.id), "red")
    bridge._emit_health(geo)
    (changed,) = [m["args"][0] for m in page.get_received() if m["name"] == HEALTH_EVENT]
    assert {"ZM-0003", "ZM-C01", "ZM", geo.district.id} <= set(changed) and "ZC" not in changed
    assert changed["ZM-0003"][0] == 100 - hs.ALERT_POINTS["red"]
    assert read_snapshot(r, TZ)["health"]["ZM-0003"] == changed["ZM-0003"]


def test_load_is_judged_against_the_cells_usual_day(r: redis.Redis) -> None:
    """Twelve open cases are a normal day in a cell that sees 20 a day, and a backlog in a quiet one."""
    geo, reg = load_default_geography(), default_registry()
    p = proc.Processor(r, ProcessorConfig(), "t", places=proc.places_of(geo), clock=lambda: NOW)
    p.ensure_groups()

    def case(case_id: str, cell: str, ts: int, steps: tuple[str, ...]) -> None:
        for n, step in enumerate(steps):
            rec = c.CaseEvent(
                event_id=f"{case_id}-{n}",
                case_id=case_id,
                seq=n,
                ts=ts + n,
                step=step,  # type: ignore[arg-type]
                event_type="CM-0101",
                category="city_management",
                cell_id=cell,
            )
            r.xadd(c.STREAM_CASE_EVENTS, c.encode(rec))  # type: ignore[arg-type]

    for day in (1, 2, 3):
        for i in range(20):
            case(f"H{day}-{i}", "ZM-0010", NOW - day * 86_400_000, ("reported", "cancelled"))
    for i in range(12):
        case(f"A{i}", "ZM-0010", NOW - 60_000, ("reported",))
        case(f"B{i}", "ZM-0011", NOW - 60_000, ("reported",))
    while p.step():
        pass
    out = hs.compute_all(r, geo, reg, NOW, TZ)
    busy, quiet = out["ZM-0010"], out["ZM-0011"]
    assert busy.parts["load"] == 0 and busy.score == 100
    assert quiet.parts["load"] == hs.LOAD_MAX and quiet.band == "fair"
