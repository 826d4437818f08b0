"""The health scores' one owner: the processor scores every area (``dashboard.domain.health``) every
``EVERY_S``, stores each area's health and publishes the areas whose score or colour changed as a delta.

Several processor processes may run: one of them holds the lease and scores; pages and the API read the
stored scores (``dashboard.queries.health``), so every web process shows the same numbers.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import redis

from dashboard.domain import health as hs
from dashboard.domain.geo import Geography
from dashboard.domain.registry import Registry
from dashboard.domain.types import epoch_ms
from dashboard.queries.alerts import active
from dashboard.queries.health import shown
from dashboard.store import keys
from dashboard.store.deltas import queue_publish
from dashboard.store.lease import Lease, new_token
from dashboard.store.paths import location

log = logging.getLogger(__name__)

EVERY_S = 10.0  # the scores are recomputed this often
LEASE_MS = 30_000
USUAL_DAYS = 30  # a cell's usual load: its mean reported cases a day over this many days


class UsualLoads:
    """Each cell's mean reported cases a day over the 30 complete days before today, recomputed only
    when the district's daily totals of those days change (one cheap read instead of 31 x 478 fields)."""

    def __init__(self) -> None:
        """Nothing read yet."""
        self._totals: tuple[Any, ...] | None = None
        self._loads: dict[str, float] = {}

    def read(self, client: Any, cells: list[str], today: datetime) -> dict[str, float]:
        """The loads; only days the read models hold count (a young deployment divides by the days it
        has); with none, today so far stands for one day."""
        days = [(today - timedelta(days=k)).strftime("%Y%m%d") for k in range(USUAL_DAYS, -1, -1)]
        with client.pipeline(transaction=False) as pipe:
            for d in days:
                pipe.hget(*location(("days", d, "n", "reported")))
            totals = tuple(pipe.execute())
        if totals == self._totals and len(self._loads) == len(cells):
            return self._loads
        used = [d for d, n in zip(days[:-1], totals[:-1], strict=True) if n is not None] or days[-1:]
        with client.pipeline(transaction=False) as pipe:
            for d in used:
                where = [location(("days", d, "by", "cell", cell, "reported")) for cell in cells]
                pipe.hmget(where[0][0], [f for _, f in where])
            rows = pipe.execute()
        self._loads = {c: sum(int(row[i] or 0) for row in rows) / len(used) for i, c in enumerate(cells)}
        self._totals = totals
        return self._loads


def cell_inputs(
    client: Any, geo: Geography, registry: Registry, usual: dict[str, float]
) -> dict[str, hs.HealthInputs]:
    """Every cell's inputs from the read models, in one round trip."""
    cells = list(geo.cells)
    overdue_at = [location(("overdue", "cell", cell)) for cell in cells]
    with client.pipeline(transaction=False) as pipe:
        pipe.hmget(keys.CELL_OPEN, cells)
        pipe.hmget(keys.OVERDUE_N, [f for _, f in overdue_at])
        pipe.hgetall(keys.CAMERA_STATE)
        pipe.hkeys(keys.SENSOR_LAST)
        pipe.smembers(keys.SENSOR_STALE)
        open_, overdue, cam_state, reported, stale = pipe.execute()
    reported = set(reported)
    alerts = hs.alerts_by_area(active(client))
    cams, sens = hs.cameras_by_cell(registry), hs.sensors_by_cell(registry)
    out: dict[str, hs.HealthInputs] = {}
    for i, cell in enumerate(cells):
        known = [s for s in (cam_state.get(cid) for cid in cams.get(cell, ())) if s is not None]
        heard = [sid for sid in sens.get(cell, ()) if sid in reported]
        out[cell] = hs.HealthInputs(
            open=int(open_[i] or 0),
            overdue=int(overdue[i] or 0),
            usual=usual.get(cell, 0.0),
            alerts=alerts.get(cell, {}),
            cameras=len(known),
            cameras_online=sum(1 for s in known if s == "online"),
            sensors=len(heard),
            sensors_fresh=sum(1 for sid in heard if sid not in stale),
        )
    return out


class HealthJob:
    """Scores every area and publishes the changes, while holding the lease."""

    def __init__(
        self, client: redis.Redis, geo: Geography, registry: Registry, tz: ZoneInfo, token: str | None = None
    ) -> None:
        """Bind to Redis and the district."""
        self.r: Any = client
        self.geo = geo
        self.registry = registry
        self.tz = tz
        self.lease = Lease(client, keys.DERIVED_LEASE, token or new_token(), LEASE_MS)
        self.usual = UsualLoads()

    def compute(self, now_ms: int) -> dict[str, hs.Health]:
        """The health of every area now."""
        today = datetime.fromtimestamp(now_ms / 1000, self.tz)
        usual = self.usual.read(self.r, list(self.geo.cells), today)
        inputs = cell_inputs(self.r, self.geo, self.registry, usual)
        return hs.score_all(self.geo, inputs, hs.alerts_by_area(active(self.r)))

    def publish(self, now_ms: int) -> int:
        """Store the areas whose health changed and publish their new scores; return how many changed."""
        scores = self.compute(now_ms)
        stored = self.r.hgetall(keys.HEALTH)
        new = {area: json.dumps(h.as_dict(), separators=(",", ":")) for area, h in scores.items()}
        changed = {area: raw for area, raw in new.items() if stored.get(area) != raw}
        if not changed:
            return 0
        now_shown = hs.compact({area: scores[area] for area in changed})
        moved = {area: v for area, v in now_shown.items() if shown(stored.get(area)) != v}
        with self.r.pipeline(transaction=True) as pipe:
            pipe.hset(keys.HEALTH, mapping=changed)
            if moved:
                queue_publish(pipe, now_ms, health=moved)
            pipe.execute()
        return len(changed)

    def run(self, stop: threading.Event) -> None:
        """Every EVERY_S while holding the lease; survive Redis outages and bad stored values."""
        while not stop.is_set():
            try:
                if self.lease.hold():
                    self.publish(epoch_ms())
            except redis.RedisError as err:
                log.warning("health: redis unavailable (%s)", err)
            except (ValueError, KeyError, TypeError) as err:
                log.warning("health: not computed (%s)", err)
            stop.wait(EVERY_S)
        with contextlib.suppress(redis.RedisError):
            self.lease.release()
