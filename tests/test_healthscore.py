"""The health score: hand-made cells ranked as a duty officer would, roll-ups, and compute_all on Redis."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import redis

from dashboard.alerts import store
from dashboard.alerts.model import AlertState
from dashboard.config import ProcessorConfig
from dashboard.domain import health as hs
from dashboard.domain.counters import places_of
from dashboard.domain.geo import load_default_geography
from dashboard.domain.registry import default_registry
from dashboard.processor import loop as proc
from dashboard.processor.health import HealthJob
from dashboard.queries.health import read_compact, read_health
from dashboard.queries.snapshot import read_snapshot
from dashboard.store import keys
from dashboard.store.deltas import Delta
from dashboard.store.records import CameraStatus, CaseEvent, encode

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


def test_the_documented_numbers() -> None:
    """docs/HEALTH.md's worked figures, as literals: a change of a weight, a cap or the slack shows here
    (the tests above compare with the constants and would move with them)."""
    good, dark, busy, red = (hs.score(i) for i in (QUIET, CAMERAS_DOWN, OVERLOADED, RED_ALERT))
    assert (good.score, dark.score, busy.score, red.score) == (100, 80, 59, 45)
    assert hs.rollup([good] * 50 + [red]).score == 75  # the worst child + 30
    assert hs.rollup([good, red]).score == 60  # weights 1 and 1 + 3 x 55 / 100
    assert hs.rollup([dark, red]).score == 58
    assert hs.rollup([good], {"orange": 1}).score == 70


def test_rollup_adds_alerts_raised_on_the_area_itself() -> None:
    assert hs.rollup([hs.score(QUIET)], {"orange": 1}).score == 100 - hs.ALERT_POINTS["orange"]
    assert hs.rollup([], {"red": 1}).parts["alerts"] == hs.ALERT_POINTS["red"]


def test_compact_and_changed() -> None:
    first = hs.compact({"ZM-0001": hs.score(QUIET), "ZM-0002": hs.score(RED_ALERT)})
    second = {**first, "ZM-0002": [100, hs.band_of(100)[1]]}
    assert hs.changed({}, first) == first
    assert hs.changed(first, second) == {"ZM-0002": [100, "#1a9850"]}
    red = hs.score(RED_ALERT)
    assert hs.Health.from_dict(red.as_dict()) == red  # the stored form reads back whole


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
    p = proc.Processor(r, ProcessorConfig(), "t", places=places_of(geo), clock=lambda: NOW)
    p.ensure_groups()
    for cam in cams:
        rec = CameraStatus(camera_id=cam.id, status="offline", ts=NOW - 1000, cell_id=cam.cell_id)
        r.xadd(keys.STREAM_CAMERA_STATUS, encode(rec))  # type: ignore[arg-type]
    while p.step():
        pass
    _fire(r, ("ZM-0003", "ZM-C01", "ZM", geo.district.id), "red")
    out = HealthJob(r, geo, reg, TZ).compute(NOW)
    assert set(out) == {geo.district.id, *geo.subdistricts, *geo.communities, *geo.cells}
    assert all(100 - sum(h.parts.values()) == h.score for h in out.values())
    assert out["ZM-0001"].score == 100
    assert out["ZM-0002"].parts["devices"] == hs.DEVICES_MAX
    assert out["ZM-0003"].parts["alerts"] == hs.ALERT_POINTS["red"]
    assert out["ZM-C01"].score <= out["ZM-0003"].score + hs.ROLLUP_SLACK
    assert out["ZM"].score < 100 and out["ZC"].score == 100
    assert out[geo.district.id].score < 100


def test_the_processor_stores_every_score_and_publishes_only_the_changes(r: redis.Redis) -> None:
    """The one owner of the scores: what it publishes is what every page and the snapshot read."""
    geo, reg = load_default_geography(), default_registry()
    job = HealthJob(r, geo, reg, TZ)
    everything = {geo.district.id, *geo.subdistricts, *geo.communities, *geo.cells}
    assert job.publish(NOW) == len(everything)
    (first,) = [Delta.from_fields(f) for _, f in r.xrange(keys.STREAM_DELTAS)]
    assert set(first.health) == everything and first.health["ZM-0001"] == [100, "#1a9850"]
    assert read_snapshot(r, TZ)["health"] == first.health == read_compact(r)
    assert job.publish(NOW) == 0 and r.xlen(keys.STREAM_DELTAS) == 1  # nothing changed: nothing sent
    _fire(r, ("ZM-0003", "ZM-C01", "ZM", geo.district.id), "red")
    assert job.publish(NOW) >= 4
    changed = Delta.from_fields(r.xrevrange(keys.STREAM_DELTAS, count=1)[0][1])
    assert {"ZM-0003", "ZM-C01", "ZM", geo.district.id} <= set(changed.health) and "ZC" not in changed.health
    assert changed.health["ZM-0003"][0] == 100 - hs.ALERT_POINTS["red"] and changed.seq == first.seq + 1
    assert read_snapshot(r, TZ)["health"]["ZM-0003"] == changed.health["ZM-0003"]
    stored = read_health(r)["ZM-0003"]
    assert stored.parts["alerts"] == hs.ALERT_POINTS["red"]  # the parts too: an area page shows them


def test_load_is_judged_against_the_cells_usual_day(r: redis.Redis) -> None:
    """Twelve open cases are a normal day in a cell that sees 20 a day, and a backlog in a quiet one."""
    geo, reg = load_default_geography(), default_registry()
    p = proc.Processor(r, ProcessorConfig(), "t", places=places_of(geo), clock=lambda: NOW)
    p.ensure_groups()

    def case(case_id: str, cell: str, ts: int, steps: tuple[str, ...]) -> None:
        for n, step in enumerate(steps):
            rec = CaseEvent(
                event_id=f"{case_id}-{n}",
                case_id=case_id,
                seq=n,
                ts=ts + n,
                step=step,  # type: ignore[arg-type]
                event_type="CM-0101",
                category="city_management",
                cell_id=cell,
            )
            r.xadd(keys.STREAM_CASE_EVENTS, encode(rec))  # type: ignore[arg-type]

    for day in (1, 2, 3):
        for i in range(20):
            case(f"H{day}-{i}", "ZM-0010", NOW - day * 86_400_000, ("reported", "cancelled"))
    for i in range(12):
        case(f"A{i}", "ZM-0010", NOW - 60_000, ("reported",))
        case(f"B{i}", "ZM-0011", NOW - 60_000, ("reported",))
    while p.step():
        pass
    out = HealthJob(r, geo, reg, TZ).compute(NOW)
    busy, quiet = out["ZM-0010"], out["ZM-0011"]
    assert busy.parts["load"] == 0 and busy.score == 100
    assert quiet.parts["load"] == hs.LOAD_MAX and quiet.band == "fair"
