"""No record can stop the processor or the alert engine, and no clock can hide an alarm (issue 13): bad
bytes, unknown cells and types, times outside the bounds and records that break the code are
dead-lettered with their reason and acknowledged; the good records around them are applied."""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis

from dashboard.alerts.config import AlertsConfig
from dashboard.alerts.engine import Engine
from dashboard.alerts.rules import load_rules
from dashboard.config import ProcessorConfig
from dashboard.domain import counters
from dashboard.processor.loop import Processor
from dashboard.store import keys
from dashboard.store.records import STREAM_OF, SensorReading, encode, kind_of
from dashboard.store.server import EmbeddedRedis
from dashboard.store.validate import Admission, TimeBounds
from tests.test_alerts_engine import AREAS, Clock, must, state
from tests.test_processor import TS, ev, ints

HOUR = 3_600_000
ADMIT = Admission(
    frozenset({"ZM-0001", "c1"}), frozenset({"CM-0101"}), TimeBounds(5 * 60_000, 90 * 24 * HOUR)
)


class Now:
    """The processor's clock, fixed at TS plus a minute (the test records are a few seconds after TS)."""

    def __call__(self) -> int:
        return TS + 60_000


def processor(r: redis.Redis, admission: Admission | None = ADMIT) -> Processor:
    places = {"ZM-0001": counters.Place("ZM-0001", "ZM-C01", "ZM")}
    p = Processor(r, ProcessorConfig(batch_size=50), "t1", places=places, clock=Now(), admission=admission)
    p.ensure_groups()
    return p


def dead(r: redis.Redis) -> list[dict[str, str]]:
    return [f for _, f in r.xrange(keys.STREAM_DEAD_LETTER)]


def pending(r: redis.Redis, stream: str, group: str = "processor") -> int:
    return int(r.xpending(stream, group)["pending"])


def raw_case_event(note: bytes) -> dict[bytes, bytes]:
    """A case event's stream entry whose note is ``note`` as raw bytes (GBK from a legacy feed)."""
    body = encode(ev("GBK-1", "reported", 0))["d"].replace('"note":""', '"note":"@@"').encode()
    assert b"@@" in body
    return {b"v": b"1", b"d": body.replace(b"@@", note)}


def test_bytes_that_are_not_utf8_are_dead_lettered_and_the_rest_applied(
    r: redis.Redis, redis_server: EmbeddedRedis
) -> None:
    raw = redis.Redis.from_url(redis_server.url)  # bytes in, as a legacy feed writes them
    p = processor(r)
    raw.xadd(keys.STREAM_CASE_EVENTS, raw_case_event("积水".encode("gbk")))  # type: ignore[arg-type]
    raw.xadd(keys.STREAM_CASE_EVENTS, {b"v": b"1", b"d": b"\xff\xfe{not json"})
    raw.xadd(keys.STREAM_CASE_EVENTS, {"\u79ef".encode("gbk"): b"x"})  # a field name in GBK
    good = ev("GOOD-1", "reported", 1)
    r.xadd(STREAM_OF[kind_of(good)], encode(good))  # type: ignore[arg-type]
    while p.step():
        pass
    letters = dead(r)
    assert len(letters) == 3
    assert all("is not UTF-8 text" in d["reason"] for d in letters), letters
    assert "byte 0xBB" in letters[0]["reason"]  # 积 in GBK is BB FD
    assert json.loads(letters[0]["raw"])["d"].endswith('"}')  # the entry kept, its bad bytes escaped
    assert r.hget(keys.CASE_INDEX, "GOOD-1") is not None and r.hget(keys.CASE_INDEX, "GBK-1") is None
    assert pending(r, keys.STREAM_CASE_EVENTS) == 0
    assert ints(r.hgetall(keys.PROCESSOR_STATS)).get("dead") == 3


@pytest.mark.parametrize(
    ("over", "reason"),
    [
        ({"cell_id": "NOPE-1"}, "cell_id: unknown cell 'NOPE-1'"),
        ({"event_type": "XX-0000"}, "event_type: unknown event type 'XX-0000'"),
        ({"ts": TS + 23 * HOUR}, "23.0 h in the future"),
        ({"ts": 978_307_200_000}, "old (at most 90 d back accepted)"),  # 2001-01-01
    ],
)
def test_records_the_edges_would_refuse_are_dead_lettered_from_the_stream(
    r: redis.Redis, over: dict[str, Any], reason: str
) -> None:
    p = processor(r)
    bad = ev("BAD-1", "reported", 0).model_copy(update=over)
    good = ev("GOOD-1", "reported", 1)
    for rec in (bad, good):
        r.xadd(STREAM_OF[kind_of(rec)], encode(rec))  # type: ignore[arg-type]
    while p.step():
        pass
    letters = dead(r)
    assert [d["reason"] for d in letters if reason in d["reason"]], letters
    assert r.hget(keys.CASE_INDEX, "BAD-1") is None and r.hget(keys.CASE_INDEX, "GOOD-1") is not None
    assert r.hget(keys.COUNTERS, "open") == "1"  # the bad one counts nowhere


def test_a_record_that_breaks_the_code_is_dead_lettered_alone(
    r: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fault injected into our own code (not a fake of a part): applying case BOOM raises."""
    p = processor(r)
    real = p.applier.apply

    def apply(decoded: list[Any], *args: Any, **kw: Any) -> Any:
        if any(getattr(rec, "case_id", "") == "BOOM" for _, _, rec in decoded):
            raise ZeroDivisionError("a bug no check foresaw")
        return real(decoded, *args, **kw)

    monkeypatch.setattr(p.applier, "apply", apply)
    for rec in (ev("A-1", "reported", 0), ev("BOOM", "reported", 1), ev("B-1", "reported", 2)):
        r.xadd(STREAM_OF[kind_of(rec)], encode(rec))  # type: ignore[arg-type]
    while p.step():
        pass
    assert [d["reason"] for d in dead(r)] == ["processing failed: ZeroDivisionError: a bug no check foresaw"]
    assert r.hget(keys.CASE_INDEX, "A-1") is not None and r.hget(keys.CASE_INDEX, "B-1") is not None
    assert pending(r, keys.STREAM_CASE_EVENTS) == 0


# --- the alert engine: bad entries skipped, readings by arrival, time bounds -------------------------

GAS = [
    {"name": "gas", "type": "threshold", "metric": "gas", "above": 50, "clear": 10, "for": "0s",
     "clear_for": "0s", "level": "red"},
]  # fmt: skip


def gas(r: Any, ts: int, value: float) -> None:
    rec = SensorReading(sensor_id="G1", metric="gas", value=value, unit="%LEL", ts=ts, cell_id="c1")
    r.xadd(keys.STREAM_SENSOR_READINGS, encode(rec))


def engine(r: redis.Redis, clock: Clock, admission: Admission | None) -> Engine:
    e = Engine(r, AlertsConfig(), load_rules(GAS), AREAS, "test-engine", clock=clock, admission=admission)
    e.step()  # first start: takes the lease, creates the consumer group
    return e


def steps(e: Engine, clock: Clock, n: int = 3) -> None:
    for _ in range(n):
        clock.t += 1000  # rules are evaluated once a second
        e.step()


@pytest.mark.parametrize("admission", [ADMIT, None], ids=["bounds", "arrival order alone"])
def test_one_reading_from_a_wrong_clock_cannot_hide_a_gas_leak(
    r: redis.Redis, admission: Admission | None
) -> None:
    clock = Clock()
    e = engine(r, clock, admission)
    gas(r, clock.t + 23 * HOUR, 0.0)  # a clock 23 h ahead says all is well
    steps(e, clock)
    for _ in range(40):
        clock.t += 1000
        gas(r, clock.t, 80.0)
    steps(e, clock)
    assert must(r, "gas:G1").state == "firing"


@pytest.mark.parametrize("admission", [ADMIT, None], ids=["bounds", "arrival order alone"])
def test_one_reading_from_a_wrong_clock_cannot_keep_an_alarm_firing(
    r: redis.Redis, admission: Admission | None
) -> None:
    clock = Clock()
    e = engine(r, clock, admission)
    gas(r, clock.t + 23 * HOUR, 60.0)
    steps(e, clock)
    assert (state(r, "gas:G1") is not None) is (admission is None)  # refused outright when bounded
    for _ in range(5):
        clock.t += 1000
        gas(r, clock.t, 0.2)
    steps(e, clock)
    assert state(r, "gas:G1") is None or must(r, "gas:G1").state != "firing"


def test_the_engine_skips_bad_bytes_and_goes_on(r: redis.Redis, redis_server: EmbeddedRedis) -> None:
    clock = Clock()
    e = engine(r, clock, ADMIT)
    raw = redis.Redis.from_url(redis_server.url)
    raw.xadd(keys.STREAM_SENSOR_READINGS, {b"v": b"1", b"d": '{"x":"积水"}'.encode("gbk")})
    raw.xadd(keys.ALERT_COMMANDS, {b"d": '{"by":"张三"}'.encode("gbk")})
    gas(r, clock.t + 1000, 80.0)
    steps(e, clock)
    assert must(r, "gas:G1").state == "firing"
    assert pending(r, keys.STREAM_SENSOR_READINGS, AlertsConfig().group) == 0


# --- /healthz: restarts, crash loops, dead letters; files for the owner only --------------------------


def test_a_role_that_keeps_restarting_makes_healthz_unhealthy(r: redis.Redis) -> None:
    from dashboard.config import AppConfig
    from dashboard.queries.status import check
    from dashboard.store.roles import mark_up, record_restart

    cfg = AppConfig()
    now = TS
    record_restart(r, "processor", -11, now - 120_000)  # long ago: up again since
    mark_up(r, "processor")
    ok, report = check(r, cfg, now)
    assert ok, report["problems"]
    assert report["roles"]["processor"] == {"total": 1, "recent": 0, "last_exit": -11, "down": False}
    for i in range(3):
        record_restart(r, "processor", -11, now - 20_000 + i * 5000)
        mark_up(r, "processor")
    ok, report = check(r, cfg, now)
    assert not ok and report["problems"] == ["processor restarted 3 times in the last 60 s (last exit -11)"]
    record_restart(r, "feeds", 1, now)
    ok, report = check(r, cfg, now)
    assert "feeds down (exit 1), being restarted" in report["problems"]
    r.xadd(keys.STREAM_DEAD_LETTER, {"reason": "x"})
    assert check(r, cfg, now + 61_000)[1]["dead_letters"] == 1


def test_data_files_are_the_owners_only(short_tmp: Any) -> None:
    import stat

    from dashboard.store.journal import Journal

    with EmbeddedRedis(short_tmp / "redis") as server:
        redis.Redis.from_url(server.url).set("k", "v")
        files = [p for p in (short_tmp / "redis").rglob("*") if p.is_file()]
    assert files and stat.S_IMODE((short_tmp / "redis").stat().st_mode) == 0o700
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in files if p.name != "redis.sock"} == {
        p.name: 0o600 for p in files if p.name != "redis.sock"
    }
    j = Journal(short_tmp / "journal", "http-cases")
    j.append([("case_event", {"v": "1", "d": "{}"})])
    seg = next((short_tmp / "journal").iterdir())
    assert stat.S_IMODE(seg.stat().st_mode) == 0o600
    assert stat.S_IMODE((short_tmp / "journal").stat().st_mode) == 0o700
    j.close()
