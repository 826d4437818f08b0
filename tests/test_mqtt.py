"""The MQTT sensor collector against a real Mosquitto broker and a real Redis.

The broker is Debian's ``mosquitto`` (``.ci/test`` installs it), started per test on a free port bound
to 127.0.0.1 with a minimal config; readings are published with a real paho client at QoS 1.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt
import pytest
import redis
from paho.mqtt.enums import CallbackAPIVersion

from dashboard.domain.catalogue import load_catalogue
from dashboard.domain.geo import load_default_geography
from dashboard.domain.registry import Registry, default_registry
from dashboard.store import keys
from dashboard.store.records import SensorReading, decode
from dashboard.store.server import free_port, set_pdeathsig
from dashboard.store.sink import IngestEnv, Sink
from dashboard.store.validate import ReadingError
from feeds.mqtt import MqttFeed, MqttFeedConfig, parse_message
from tests.conftest import wait_for

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


class Broker:
    """A mosquitto child process on a fixed port; stop and start it again to simulate an outage."""

    def __init__(self, folder: Path, port: int) -> None:
        """Prepare (not start) a broker listening on 127.0.0.1:``port``."""
        self.port = port
        self.conf = folder / "mosquitto.conf"
        self.conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        self.log = folder / "mosquitto.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Broker:
        """Start the broker and wait until it accepts connections."""
        if not Path(MOSQUITTO).exists():
            pytest.fail("mosquitto not found: install Debian's mosquitto (.ci/test does)")
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [MOSQUITTO, "-c", str(self.conf)],
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=set_pdeathsig,
            )
        wait_for(self._accepts, 10, 0.02, "mosquitto to listen")
        return self

    def _accepts(self) -> bool:
        """Whether the port accepts a TCP connection."""
        assert self.proc is not None and self.proc.poll() is None, self.log.read_text()
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def stop(self) -> None:
        """Terminate the broker and wait for it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """A running broker, stopped after the test."""
    b = Broker(tmp_path, free_port()).start()
    yield b
    b.stop()


@pytest.fixture(scope="module")
def reg() -> Registry:
    """The shipped registries."""
    return default_registry()


def publish(port: int, messages: list[tuple[str, Any]]) -> None:
    """Publish (topic, payload) pairs at QoS 1 with a fresh client; wait until the broker has each."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{time.monotonic_ns()}")
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        for topic, payload in messages:
            body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            client.publish(topic, body, qos=1).wait_for_publish(10)
    finally:
        client.disconnect()
        client.loop_stop()


def sensor_of(reg: Registry, metric: str, n: int = 0) -> str:
    """The id of the n-th sensor measuring ``metric``."""
    return [s.id for s in reg.sensors.values() if s.metric == metric][n]


def readings(r: redis.Redis) -> list[SensorReading]:
    """Every reading in the input stream, decoded through the contract."""
    out = []
    for _id, fields in r.xrange(keys.STREAM_SENSOR_READINGS):  # type: ignore[union-attr]
        rec = decode("sensor_reading", fields)
        assert isinstance(rec, SensorReading)
        out.append(rec)
    return out


def health(r: redis.Redis, name: str) -> dict[str, str]:
    """The feed's health hash."""
    return r.hgetall(keys.feed_key(name))  # type: ignore[return-value]


class Running:
    """A feed running in a thread until ``close``."""

    def __init__(self, feed: MqttFeed) -> None:
        """Start ``feed.run`` in a thread."""
        self.feed = feed
        self.stop = threading.Event()
        self.thread = threading.Thread(target=feed.run, args=(self.stop,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        """Stop the feed and its sink."""
        self.stop.set()
        self.thread.join(10)
        assert not self.thread.is_alive()
        self.feed.sink.stop()


def test_readings_rejections_and_broker_restart(r: redis.Redis, broker: Broker, reg: Registry) -> None:
    """Valid readings reach the stream; bad ones are counted and dead-lettered; a broker restart heals."""
    cfg = MqttFeedConfig(
        name="mqtt-t", port=broker.port, client_id="cb-test-1", reconnect_min_s=1, reconnect_max_s=1
    )
    env = IngestEnv(client=r, geo=load_default_geography(), catalogue=load_catalogue())
    feed = MqttFeed.from_config(cfg, env)
    run = Running(feed)
    try:
        wait_for(lambda: health(r, "mqtt-t").get("connected") == "1", 10, 0.05, "connected")
        assert r.sismember(keys.FEEDS, "mqtt-t")
        water, rain = sensor_of(reg, "water_level"), sensor_of(reg, "rainfall")
        now = int(time.time() * 1000)
        hour_ago = (now // 1000 - 3600) * 1000  # a whole second, given as ISO-8601 in Shanghai time
        iso = datetime.fromtimestamp(hour_ago / 1000, ZoneInfo("Asia/Shanghai")).isoformat()
        publish(
            broker.port,
            [
                (f"citybrain/sensors/{water}/water_level", {"value": 0.12, "unit": "m", "ts": now}),
                (f"citybrain/sensors/{water}/water_level", {"value": 0.2, "unit": "m"}),
                (
                    f"citybrain/sensors/{rain}/rainfall",
                    {"value": 35, "unit": "mm/h", "ts": iso},
                ),
            ],
        )
        got = wait_for(lambda: len(readings(r)) == 3 and readings(r), 10, 0.05, "3 readings")
        assert [(x.sensor_id, x.value) for x in got] == [(water, 0.12), (water, 0.2), (rain, 35.0)]
        assert got[0].ts == now and got[0].cell_id == reg.sensors[water].cell_id
        assert got[2].ts == hour_ago and got[2].unit == "mm/h"

        bad = [
            (
                "citybrain/sensors/SEN-9999/water_level",
                {"value": 0.1, "unit": "m"},
                "unknown sensor 'SEN-9999'",
            ),
            (f"citybrain/sensors/{water}/water_level", b'{"value": NaN, "unit": "m"}', "finite"),
            (f"citybrain/sensors/{water}/water_level", {"value": 12, "unit": "cm"}, "is in 'm', not 'cm'"),
            (f"citybrain/sensors/{water}/water_level", b"level=0.1", "payload: not JSON"),
            (f"citybrain/sensors/{water}/rainfall", {"value": 1, "unit": "mm/h"}, "measures water_level"),
        ]
        publish(broker.port, [(t, p) for t, p, _ in bad])
        wait_for(lambda: health(r, "mqtt-t").get("rejected") == str(len(bad)), 10, 0.05, "rejections")
        dead = [f for _, f in r.xrange(keys.STREAM_DEAD_LETTER)]  # type: ignore[union-attr]
        assert len(dead) == len(bad)
        for fields, (topic, payload, words) in zip(dead, bad, strict=True):
            assert fields["stream"] == f"mqtt:{topic}"
            assert words in fields["reason"]
            raw = payload.decode() if isinstance(payload, bytes) else json.dumps(payload)
            assert fields["raw"] == raw and int(fields["ts"]) >= now
        assert bad[-1][2] in health(r, "mqtt-t")["last_error"]
        assert len(readings(r)) == 3

        broker.stop()
        wait_for(lambda: health(r, "mqtt-t").get("connected") == "0", 10, 0.05, "disconnected")
        assert health(r, "mqtt-t")["healthy"] == "0"
        broker.start()
        wait_for(lambda: health(r, "mqtt-t").get("connected") == "1", 15, 0.05, "reconnected")
        publish(broker.port, [(f"citybrain/sensors/{water}/water_level", {"value": 0.31, "unit": "m"})])
        wait_for(lambda: len(readings(r)) == 4, 10, 0.05, "the reading after the restart")
        assert readings(r)[-1].value == 0.31
    finally:
        run.close()
    assert health(r, "mqtt-t")["connected"] == "0"


def test_full_sink_holds_messages_unacknowledged(r: redis.Redis, broker: Broker, reg: Registry) -> None:
    """While the sink's buffer is full, messages wait (unacknowledged) and later arrive in order."""
    sink = Sink(r, "mqtt-bp", capacity=2)  # not started yet: nothing leaves the buffer
    cfg = MqttFeedConfig(name="mqtt-bp", port=broker.port, client_id="cb-test-2")
    feed = MqttFeed("mqtt-bp", sink, r, cfg, reg)
    run = Running(feed)
    try:
        wait_for(lambda: health(r, "mqtt-bp").get("connected") == "1", 10, 0.05, "connected")
        sid = sensor_of(reg, "noise")
        values = [50.0 + i for i in range(7)]
        publish(
            broker.port, [(f"citybrain/sensors/{sid}/noise", {"value": v, "unit": "dB(A)"}) for v in values]
        )
        wait_for(lambda: health(r, "mqtt-bp").get("pending") == "5", 10, 0.05, "5 messages held back")
        assert sink.pending() == 2 and not r.exists(keys.STREAM_SENSOR_READINGS)
        sink.start()
        wait_for(lambda: len(readings(r)) == len(values), 15, 0.05, "every reading")
        assert [x.value for x in readings(r)] == values
        assert feed.accepted == len(values) and feed.rejected == 0
    finally:
        run.close()


def test_config_defaults_and_bad_values() -> None:
    """The config has working defaults, is registered by type, and names a bad field."""
    from dashboard.config import ConfigError, parse_config

    cfg = parse_config({"feeds": [{"type": "mqtt", "host": "broker.local", "password": "x"}]})
    mc = cfg.feeds[0]
    assert isinstance(mc, MqttFeedConfig)
    assert (mc.port, mc.topic, mc.qos, mc.tls, mc.feed_name) == (
        1883,
        "citybrain/sensors/+/+",
        1,
        False,
        "mqtt",
    )
    with pytest.raises(ConfigError, match=r"feeds\[0\]\.port: Input should be less than or equal to 65535"):
        parse_config({"feeds": [{"type": "mqtt", "port": 70000}]}, "cfg.yaml")
    with pytest.raises(ConfigError, match="reconnect_max_s must be at least reconnect_min_s"):
        parse_config({"feeds": [{"type": "mqtt", "reconnect_min_s": 10, "reconnect_max_s": 2}]}, "cfg.yaml")


@pytest.mark.parametrize(
    ("topic", "payload", "field", "words"),
    [
        ("SEN-0001", b'{"value": 1, "unit": "m"}', "topic", "want .../<sensor_id>/<metric>"),
        ("a/b/{sid}/", b'{"value": 1, "unit": "m"}', "topic", "want .../<sensor_id>/<metric>"),
        ("citybrain/sensors/{sid}/water_level", b"[" * 50_000, "payload", "not JSON"),
        ("citybrain/sensors/{sid}/water_level", b" " * 70_000, "payload", "larger than 65536 bytes"),
        ("citybrain/sensors/{sid}/water_level", b"[0.1]", "payload", "want a JSON object, got list"),
        (
            "citybrain/sensors/{sid}/water_level",
            b'{"value": 1, "unit": "m", "x": 1}',
            "payload",
            "unknown key 'x'",
        ),
        ("citybrain/sensors/{sid}/water_level", b'{"unit": "m"}', "value", "missing"),
        ("citybrain/sensors/{sid}/water_level", b'{"value": 0.1}', "unit", "missing"),
        ("citybrain/sensors/{sid}/water_level", b'{"value": "0.1", "unit": "m"}', "value", "got str"),
        (
            "citybrain/sensors/{sid}/water_level",
            b'{"value": 0.1, "unit": "m", "ts": "2026-07-01 08:00"}',
            "ts",
            "offset",
        ),
        (
            "citybrain/sensors/{sid}/water_level",
            b'{"value": 0.1, "unit": "m", "ts": 1782864000}',
            "ts",
            "seconds?",
        ),
    ],
)
def test_parse_message_rejects(reg: Registry, topic: str, payload: bytes, field: str, words: str) -> None:
    """Every malformed message is a ReadingError naming its field (never another exception)."""
    sid = sensor_of(reg, "water_level")
    with pytest.raises(ReadingError) as err:
        parse_message(reg, topic.format(sid=sid), payload, 1_790_000_000_000)
    assert err.value.field == field and words in str(err.value)


def test_parse_message_defaults_ts_to_arrival(reg: Registry) -> None:
    """Without ts, a reading is stamped with the time it arrived."""
    sid = sensor_of(reg, "tilt")
    rec = parse_message(reg, f"x/{sid}/tilt", '{"value": 0.2, "unit": "°"}'.encode(), 1_790_000_000_000)
    assert (rec.ts, rec.unit, rec.value) == (1_790_000_000_000, "deg", 0.2)
