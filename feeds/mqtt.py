"""The MQTT sensor collector: subscribes to a broker, validates each reading, appends it to the stream.

Topic ``citybrain/sensors/<sensor_id>/<metric>`` (the last two levels of whatever the subscription
matches), payload ``{"value": 0.12, "unit": "m", "ts": 1790000000000}`` (``ts`` optional: epoch ms or
ISO-8601 with an offset; default: when it arrived). Each message is checked by
``dashboard.domain.registry.validate_reading``; a rejected one is counted in the feed's health hash and put,
raw, on the dead-letter stream with its reason. QoS 1 messages are acknowledged only once the sink has
taken the reading (or the rejection is on the dead-letter stream): while the sink's buffer is full the
message stays unacknowledged and the broker holds back the rest, so nothing is dropped. paho's network
thread reconnects with exponential backoff; the health hash says ``connected`` 0 meanwhile.
docs/FEEDS.md describes the format.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import paho.mqtt.client as mqtt
import redis
from paho.mqtt.enums import CallbackAPIVersion
from pydantic import Field, SecretStr, model_validator

from dashboard.domain.registry import DEFAULT_DIR, Registry, load_registry
from dashboard.domain.types import epoch_ms
from dashboard.store import keys
from dashboard.store.records import SensorReading
from dashboard.store.sink import IngestEnv, Sink
from dashboard.store.validate import ReadingError, parse_ts, validate_reading
from feeds.base import Feed, FeedConfig, register_feed_config

log = logging.getLogger(__name__)

PAYLOAD_KEYS = frozenset({"value", "unit", "ts"})
RAW_KEEP = 4096  # characters of a rejected payload kept on the dead-letter stream
OFFER_BATCH = 500


@register_feed_config
class MqttFeedConfig(FeedConfig):
    """An MQTT broker to take sensor readings from (``type: mqtt`` under ``feeds:``)."""

    type: Literal["mqtt"] = "mqtt"
    host: str = Field("127.0.0.1", min_length=1, description="Broker host name or address.")
    port: int = Field(1883, ge=1, le=65535, description="Broker TCP port (8883 is usual with TLS).")
    topic: str = Field(
        "citybrain/sensors/+/+",
        min_length=1,
        description="Subscription; the last two levels of a message's topic are <sensor_id>/<metric>.",
    )
    qos: int = Field(1, ge=0, le=2, description="Subscription QoS; 1 = at least once (acknowledged late).")
    client_id: str | None = Field(
        None, max_length=128, description="MQTT client id; default citybrain-<feed name>-<host name>."
    )
    clean_session: bool = Field(
        False, description="False: the broker keeps our subscription and queued messages while we are away."
    )
    keepalive: int = Field(30, ge=5, le=3600, description="Seconds between pings when idle.")
    username: str | None = Field(None, description="Broker user; e.g. ${CB_MQTT_USER}.")
    password: SecretStr | None = Field(None, description="Broker password; always from the environment.")
    tls: bool = Field(False, description="Connect with TLS.")
    tls_ca_file: str | None = Field(None, description="CA bundle for TLS; default: the system's.")
    reconnect_min_s: int = Field(1, ge=1, le=600, description="First wait before reconnecting (doubles).")
    reconnect_max_s: int = Field(60, ge=1, le=3600, description="Longest wait between reconnects.")
    max_payload_bytes: int = Field(65_536, ge=64, description="Larger messages are rejected.")
    registry_dir: Path | None = Field(None, description="Folder of sensors.json; default data/registry.")

    @model_validator(mode="after")
    def _backoff_order(self) -> MqttFeedConfig:
        """The longest wait is at least the first."""
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("reconnect_max_s must be at least reconnect_min_s")
        return self


def parse_message(
    reg: Registry, topic: str, payload: bytes, now_ms: int, max_bytes: int = 65_536
) -> SensorReading:
    """The reading a message carries, or ReadingError naming what is wrong (topic, payload, a field)."""
    levels = topic.split("/")
    if len(levels) < 2 or not levels[-1] or not levels[-2]:
        raise ReadingError("topic", f"want .../<sensor_id>/<metric>, got {topic[:128]!r}")
    sensor_id, metric = levels[-2], levels[-1]
    if len(payload) > max_bytes:
        raise ReadingError("payload", f"larger than {max_bytes} bytes ({len(payload)})")
    try:
        body = json.loads(payload)
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise ReadingError("payload", f"not JSON ({str(err)[:200]})") from None
    if not isinstance(body, dict):
        raise ReadingError("payload", f"want a JSON object, got {type(body).__name__}")
    extra = sorted(set(body) - PAYLOAD_KEYS)
    if extra:
        raise ReadingError("payload", f"unknown key {extra[0][:32]!r} (allowed: unit, ts, value)")
    if "value" not in body:
        raise ReadingError("value", "missing")
    if "unit" not in body:
        raise ReadingError("unit", "missing")
    ts = parse_ts(body["ts"]) if body.get("ts") is not None else now_ms
    return validate_reading(reg, sensor_id, metric, body["value"], body["unit"], ts, now_ms=now_ms)


@dataclass(frozen=True)
class _Rejection:
    """A message that failed validation, bound for the dead-letter stream."""

    topic: str
    reason: str
    raw: str
    ts: int


@dataclass(frozen=True)
class _Item:
    """A received message not yet acknowledged: its reading or its rejection."""

    gen: int  # the connection it arrived on; an ack on a later connection would name another message
    mid: int
    qos: int
    record: SensorReading | None
    rejection: _Rejection | None


class MqttFeed(Feed):
    """Sensor readings from an MQTT broker, validated against the sensor registry."""

    type_key: ClassVar[str] = "mqtt"

    def __init__(
        self, name: str, sink: Sink, client: redis.Redis, cfg: MqttFeedConfig, registry: Registry
    ) -> None:
        """Collect for feed ``name`` from the broker ``cfg`` names into ``sink``."""
        super().__init__(name, sink)
        self.r = client
        self.cfg = cfg
        self.reg = registry
        self.key = keys.feed_key(name)
        self.connected = False
        self.accepted = 0
        self.rejected = 0
        self._gen = 0
        self._lock = threading.Lock()
        self._pending: deque[_Item] = deque()
        self._wake = threading.Event()
        self._health_dirty = True
        self._last_error = ""
        self._mqtt = self._make_client()

    @classmethod
    def from_config(cls, cfg: FeedConfig, env: IngestEnv) -> MqttFeed:
        """Build the collector its config describes (the registry is checked against the cells)."""
        assert isinstance(cfg, MqttFeedConfig)
        reg = load_registry(cfg.registry_dir or DEFAULT_DIR, env.geo)
        return cls(cfg.feed_name, env.sink(cfg.feed_name), env.client, cfg, reg)

    def _make_client(self) -> mqtt.Client:
        """A paho client with our callbacks, credentials, TLS and reconnect backoff."""
        cfg = self.cfg
        client_id = cfg.client_id or f"citybrain-{self.name}-{socket.gethostname()}"
        m = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=cfg.clean_session,
            protocol=mqtt.MQTTv311,
            manual_ack=True,
        )
        if cfg.username is not None:
            m.username_pw_set(cfg.username, cfg.password.get_secret_value() if cfg.password else None)
        if cfg.tls:
            m.tls_set(ca_certs=cfg.tls_ca_file)
        m.reconnect_delay_set(cfg.reconnect_min_s, cfg.reconnect_max_s)
        m.on_connect = self._on_connect
        m.on_disconnect = self._on_disconnect
        m.on_message = self._on_message
        m.on_connect_fail = self._on_connect_fail
        return m

    # --- paho callbacks (its network thread) -----------------------------------------------------

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        """Subscribe on every (re)connect; a new connection makes older unacknowledged ids stale."""
        if reason.is_failure:
            self._set_error(f"broker refused the connection: {reason}")
            return
        with self._lock:
            self._gen += 1
            self.connected = True
        client.subscribe(self.cfg.topic, qos=self.cfg.qos)
        log.info("feed %s: connected to %s:%d, subscribed to %s", self.name, *self._broker(), self.cfg.topic)
        self._health_dirty = True
        self._wake.set()

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        """Mark the feed disconnected (paho reconnects with backoff)."""
        with self._lock:
            self.connected = False
        self._set_error(f"disconnected from broker: {reason}")

    def _on_connect_fail(self, _c: mqtt.Client, _u: Any) -> None:
        """A connection attempt failed (paho retries after its backoff)."""
        self._set_error("cannot connect to broker {}:{}".format(*self._broker()))

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        """Validate; hand a reading to the sink at once when nothing waits before it, else queue."""
        now = epoch_ms()
        topic = "?"
        try:
            topic = msg.topic  # brokers enforce UTF-8 topics; a broken one is rejected below
            record: SensorReading | None = parse_message(
                self.reg, topic, bytes(msg.payload), now, self.cfg.max_payload_bytes
            )
            rejection = None
        except Exception as err:  # an exception here would end paho's network thread
            if not isinstance(err, ReadingError):
                log.exception("feed %s: cannot handle a message on %s", self.name, topic)
            record = None
            raw = bytes(msg.payload[: RAW_KEEP * 4]).decode("utf-8", "replace")[:RAW_KEEP]
            rejection = _Rejection(topic, str(err) or type(err).__name__, raw, now)
        with self._lock:
            item = _Item(self._gen, msg.mid, msg.qos, record, rejection)
            if record is not None and not self._pending and self.sink.offer([record]):
                self.accepted += 1
                self._ack(item)
                return
            self._pending.append(item)
        self._health_dirty = True
        self._wake.set()

    # --- the feed's own thread -------------------------------------------------------------------

    def _ack(self, item: _Item) -> None:
        """Acknowledge a message (with the lock held, so acks go out in arrival order)."""
        if item.qos > 0 and item.gen == self._gen and self.connected:
            self._mqtt.ack(item.mid, item.qos)

    def _broker(self) -> tuple[str, int]:
        """The broker's host and port."""
        return self.cfg.host, self.cfg.port

    def _set_error(self, message: str) -> None:
        """Remember the latest problem for the health hash."""
        if message != self._last_error:
            log.warning("feed %s: %s", self.name, message)
        self._last_error = message
        self._health_dirty = True
        self._wake.set()

    def _drain(self) -> bool:
        """Move queued messages on, in order; False when the head must wait (sink full, Redis away)."""
        while True:
            with self._lock:
                if not self._pending:
                    return True
                head = self._pending[0]
                if head.record is not None:
                    batch: list[_Item] = []
                    for item in self._pending:
                        if item.record is None or len(batch) >= OFFER_BATCH:
                            break
                        batch.append(item)
                    records = [i.record for i in batch if i.record is not None]
                    if not self.sink.offer(records):
                        if len(batch) == 1 or not self.sink.offer(records[:1]):
                            return False  # the buffer is full: wait, unacknowledged
                        batch = batch[:1]
                    for item in batch:
                        self._pending.popleft()
                        self._ack(item)
                    self.accepted += len(batch)
                    continue
                rejects: list[_Item] = []
                for item in self._pending:
                    if item.rejection is None or len(rejects) >= OFFER_BATCH:
                        break
                    rejects.append(item)
            try:
                self._dead_letter([i.rejection for i in rejects if i.rejection is not None])
            except redis.RedisError as err:
                self._set_error(f"cannot write dead letters: {err}")
                return False
            with self._lock:  # only this thread removes items, so the head is still ours
                for item in rejects:
                    self._pending.popleft()
                    self._ack(item)
                self.rejected += len(rejects)

    def _dead_letter(self, rejections: list[_Rejection]) -> None:
        """Put rejected messages on the dead-letter stream and count them, in one round trip."""
        pipe = self.r.pipeline(transaction=False)
        for rj in rejections:
            fields = {"stream": f"mqtt:{rj.topic}", "reason": rj.reason, "raw": rj.raw, "ts": str(rj.ts)}
            pipe.xadd(keys.STREAM_DEAD_LETTER, fields, maxlen=keys.DEAD_LETTER_MAXLEN, approximate=True)  # type: ignore[arg-type]
        pipe.hincrby(self.key, "rejected", len(rejections))
        pipe.hset(self.key, "last_error", rejections[-1].reason)
        pipe.execute()
        self._last_error = rejections[-1].reason
        log.info(
            "feed %s: rejected %d message(s), last: %s", self.name, len(rejections), rejections[-1].reason
        )

    def _write_health(self) -> None:
        """Connection state, queue length and the latest problem into the feed's health hash."""
        with self._lock:
            connected, pending = self.connected, len(self._pending)
        host, port = self._broker()
        fields: dict[str, str | int] = {
            "connected": int(connected),
            "healthy": int(connected),
            "pending": pending,
            "broker": f"{host}:{port}",
            "last_error": self._last_error,
        }
        pipe = self.r.pipeline(transaction=False)
        pipe.hset(self.key, mapping=fields)  # type: ignore[arg-type]
        pipe.sadd(keys.FEEDS, self.name)
        pipe.execute()
        self._health_dirty = False

    def run(self, stop: threading.Event) -> None:
        """Connect (retrying with backoff), receive until ``stop``, then disconnect."""
        self._mqtt.connect_async(self.cfg.host, self.cfg.port, keepalive=self.cfg.keepalive)
        self._mqtt.loop_start()
        backoff = 0.05
        last_health = 0.0
        try:
            while not stop.is_set():
                self._wake.wait(backoff if self._pending else 1.0)
                self._wake.clear()
                backoff = 0.05 if self._drain() else min(backoff * 2, 0.5)
                if self._health_dirty or time.monotonic() - last_health >= 1.0:
                    try:
                        self._write_health()
                        last_health = time.monotonic()
                    except redis.RedisError as err:
                        log.warning("feed %s: cannot write health (%s)", self.name, err)
        finally:
            self._mqtt.disconnect()
            self._mqtt.loop_stop()
            with self._lock:
                self.connected = False
            self._drain()  # readings already received go to the sink; unacked ones the broker redelivers
            with contextlib.suppress(redis.RedisError):
                self._write_health()
