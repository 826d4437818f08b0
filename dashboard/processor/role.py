"""The processor role: the processor loop, the health scores and the alert engine, as one process.

Several processor processes may run against one Redis: they share the input through the consumer group;
leases keep one health scorer and one alert engine active, taken over when their holder stops.
"""

from __future__ import annotations

import logging
import socket
import threading
from zoneinfo import ZoneInfo

from dashboard.alerts.engine import Engine
from dashboard.alerts.inputs import Areas
from dashboard.alerts.rules import rules_of
from dashboard.config import AppConfig
from dashboard.domain.catalogue import default_catalogue
from dashboard.domain.counters import places_of
from dashboard.domain.geo import Geography
from dashboard.domain.registry import default_registry
from dashboard.processor.health import HealthJob
from dashboard.processor.loop import Processor
from dashboard.store.client import connect
from dashboard.store.roles import mark_up_when_reachable
from dashboard.store.validate import Admission

log = logging.getLogger(__name__)


def run(cfg: AppConfig, redis_url: str, stop: threading.Event) -> None:
    """Run the processor, its health job and the alert engine until ``stop`` is set."""
    geo = cfg.geography.load()
    client = connect(redis_url)
    consumer = cfg.processor.consumer or socket.gethostname()
    registry = default_registry()
    helpers = [
        threading.Thread(target=run_engine, args=(cfg, geo, redis_url, stop), name="alerts", daemon=True),
        threading.Thread(
            target=HealthJob(client, geo, registry, ZoneInfo(cfg.timezone)).run, args=(stop,), name="health",
            daemon=True,
        ),
    ]  # fmt: skip
    for t in helpers:
        t.start()
    mark_up_when_reachable(client, "processor")
    Processor(
        client, cfg.processor, consumer, cfg.timezone, cfg.sla, places_of(geo), registry=registry,
        admission=admission_of(cfg, geo),
    ).run(stop)  # fmt: skip
    for t in helpers:
        t.join(5)


def run_engine(cfg: AppConfig, geo: Geography, redis_url: str, stop: threading.Event) -> None:
    """Build the alert engine the configuration describes and run it until ``stop``: ``alerts.rules`` (the
    shipped defaults when unset), the consumer ``alerts.consumer`` or the host name."""
    if not cfg.alerts.enabled:
        log.info("alert engine disabled (alerts.enabled: false)")
        return
    client = connect(redis_url)
    consumer = cfg.alerts.consumer or socket.gethostname()
    rules = rules_of(cfg.alerts.rules)
    engine = Engine(
        client, cfg.alerts, rules, Areas.from_geography(geo), consumer, default_registry(),
        processor_group=cfg.processor.group, admission=admission_of(cfg, geo),
    )  # fmt: skip
    log.info("alert engine %s: %d rules", consumer, len(rules))
    try:
        engine.run(stop)
    finally:
        client.close()


def admission_of(cfg: AppConfig, geo: Geography) -> Admission:
    """What a record from a stream must match: the district's cells, the catalogue's event types, the
    configured time bounds (the processor and the alert engine apply the same)."""
    return Admission(frozenset(geo.cells), frozenset(default_catalogue().event_types), cfg.time_bounds())
