"""HTTP collector of case events: ``POST /api/v1/case-events``, validated, deduplicated, all or nothing.

A request carries one event, ``{"events": [...]}`` or a bare list. Every item is validated (shape,
catalogue, geography) before anything is kept: one bad item rejects the whole batch with a list naming
each bad item's index and field. Valid events become ``records.CaseEvent`` records with the token's
source name. Event ids are checked and marked in Redis at the edge (``SET NX EX``), so a repeated id is
accepted once and answered as a duplicate; when Redis is away the check is deferred to the processor,
which applies an event id once as well. docs/API.md describes the endpoint for clients.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit

import redis
from flask import Blueprint, Response, g
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from redis.backoff import NoBackoff
from redis.retry import Retry

from dashboard.config import AppConfig
from dashboard.domain import lifecycle, types
from dashboard.domain.coords import gcj02_to_wgs84
from dashboard.domain.types import TS_MAX_MS, TS_MIN_MS, epoch_ms
from dashboard.store import keys
from dashboard.store.records import CaseEvent, describe_errors
from dashboard.store.sink import IngestEnv
from dashboard.web.api.common import (
    BadRequest,
    accept,
    busy,
    error_response,
    json_body,
    json_response,
    require_token,
)
from dashboard.web.api.limits import RateLimiter, too_many

log = logging.getLogger(__name__)

FEED = "http-cases"  # the sink's name in health reports
MAX_URL_CHARS = 2048
CRS_NAMES: dict[str, str] = {  # accepted spellings (upper case, no "-" or "_") -> the CRS
    "WGS84": "WGS-84",
    "EPSG:4326": "WGS-84",
    "GCJ02": "GCJ-02",
}
ACCEPTED_CRS = ("WGS-84", "GCJ-02")
DEPARTMENT_FROM = lifecycle.CASE_STEPS.index(
    "dispatched"
)  # steps from here on default to the type's department


class ItemError(ValueError):
    """One problem of one item: the field (dotted path) and what is wrong with it."""

    def __init__(self, field: str, message: str) -> None:
        """``field`` as the client spelled it, e.g. ``point.crs``."""
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class Rejected(BadRequest):
    """A batch rejected as a whole: a one-line summary, and the problems by index and field."""

    def __init__(self, status: int, errors: Sequence[dict[str, Any]], summary: str) -> None:
        """``summary`` heads the list of ``errors`` in the answer's ``error``."""
        super().__init__(status, errors)
        first = "; ".join(f"[{e['index']}] {e['field']}: {e['message']}" for e in self.errors[:5])
        more = f"; and {len(self.errors) - 5} more" if len(self.errors) > 5 else ""
        self.summary = f"{summary}: {first}{more}"

    def __str__(self) -> str:
        """The summary shown as ``error``."""
        return self.summary


def parse_time(value: Any) -> int:
    """Epoch ms from an ISO-8601 time with a UTC offset or an integer of epoch ms; ValueError if not
    (``to_record`` then checks it against the time bounds)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("must be an ISO-8601 time with a UTC offset or an integer of epoch milliseconds")
    if isinstance(value, int):
        ms = value
        if TS_MIN_MS // 1000 <= ms <= TS_MAX_MS // 1000:
            raise ValueError(f"{value} looks like epoch seconds; send epoch milliseconds")
    else:
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(
                f"{value!r} is not an ISO-8601 time (example: 2026-05-01T08:30:00+08:00)"
            ) from None
        if when.tzinfo is None:
            raise ValueError(f"{value!r} has no UTC offset (add Z or e.g. +08:00)")
        ms = round(when.timestamp() * 1000)
    if not TS_MIN_MS <= ms <= TS_MAX_MS:
        raise ValueError(f"{value!r} is outside the years 2000..2100")
    return ms


def check_url(url: str) -> str:
    """An absolute http(s) URL, or ValueError."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > MAX_URL_CHARS:
        raise ValueError(f"{url[:80]!r} is not an http(s) URL of at most {MAX_URL_CHARS} characters")
    if any(ch.isspace() for ch in url):
        raise ValueError(f"{url[:80]!r} contains white space")
    return url


def crs_name(name: str) -> str:
    """The canonical name of an accepted coordinate system, or ValueError naming the accepted ones."""
    canonical = CRS_NAMES.get(name.strip().upper().replace("-", "").replace("_", ""))
    if canonical is None:
        raise ValueError(f"unknown coordinate system {name!r}; accepted: {', '.join(ACCEPTED_CRS)}")
    return canonical


def locate(env: IngestEnv, lon: float, lat: float, crs: str = "WGS-84") -> tuple[str, float, float]:
    """The grid cell and WGS-84 (lon, lat) of a point; ValueError when it is outside every cell."""
    wlon, wlat = gcj02_to_wgs84(lon, lat) if crs == "GCJ-02" else (lon, lat)
    cell = env.geo.cell_at(wlon, wlat)
    if cell is None:
        where = "in no grid cell of" if env.geo.contains(wlon, wlat) else "outside"
        raise ValueError(f"point ({lon:g}, {lat:g}) is {where} {env.geo.district.name_en}")
    return cell, round(wlon, 7), round(wlat, 7)


class PointIn(BaseModel):
    """A location as the client measured it."""

    model_config = ConfigDict(extra="forbid", strict=True)

    lon: float = Field(ge=-180, le=180, allow_inf_nan=False, description="Longitude in ``crs``.")
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False, description="Latitude in ``crs``.")
    crs: str = Field("WGS-84", max_length=32, description="WGS-84 (GPS, default) or GCJ-02 (Amap, Tencent).")

    @field_validator("crs")
    @classmethod
    def _known_crs(cls, v: str) -> str:
        """Only coordinate systems we can convert."""
        return crs_name(v)


class CaseEventIn(BaseModel):
    """A case event as a client posts it (docs/API.md); becomes a ``records.CaseEvent``."""

    model_config = ConfigDict(extra="forbid", strict=True)

    event_id: types.Ident = Field(description="Idempotency key: a repeated id is accepted once.")
    case_id: types.Ident
    seq: int | None = Field(None, ge=0, description="Per-case sequence; default 0.")
    time: int = Field(description="ISO-8601 with offset, or epoch ms (made epoch ms by the validator).")
    step: lifecycle.CaseStep
    event_type: str = Field(max_length=32, description="Catalogue code, e.g. CM-0101.")
    category: str | None = Field(None, max_length=32, description="Default: the type's category.")
    cell_id: str | None = Field(None, max_length=32, description="Grid cell id; or give ``point``.")
    point: PointIn | None = None
    department: str | None = Field(None, max_length=64, description="Department id.")
    actor: str | None = Field(None, max_length=64)
    note: str = Field("", max_length=2000, description="Untrusted free text, kept verbatim as text.")
    photos: list[str] = Field(default_factory=list, max_length=10)
    priority: Literal["normal", "urgent"] | None = None

    @field_validator("time", mode="before")
    @classmethod
    def _time(cls, v: Any) -> int:
        """ISO-8601 with offset or epoch ms, to epoch ms."""
        return parse_time(v)

    @field_validator("photos")
    @classmethod
    def _urls(cls, v: list[str]) -> list[str]:
        """Each photo is an http(s) URL."""
        for i, url in enumerate(v):
            try:
                check_url(url)
            except ValueError as err:
                raise ValueError(f"[{i}] {err}") from None
        return v


_FIELDS: dict[str, tuple[str, ...]] = {
    "": tuple(CaseEventIn.model_fields),
    "point": tuple(PointIn.model_fields),
}


def describe(err: ValidationError, index: int) -> list[dict[str, Any]]:
    """The problems pydantic found in item ``index``, as ``{index, field, message}``."""
    out: list[dict[str, Any]] = []
    for e in err.errors():
        loc = [str(p) for p in e["loc"]]
        field = ".".join(loc) or "event"
        msg = str(e["msg"]).removeprefix("Value error, ")
        if e["type"] == "missing":
            msg = "required field is missing"
        elif e["type"] == "extra_forbidden":
            known = _FIELDS.get(".".join(loc[:-1]), ())
            msg = f"unknown field (accepted: {', '.join(known)})"
        out.append({"index": index, "field": field, "message": msg})
    return out


def to_record(item: CaseEventIn, env: IngestEnv, source: str) -> CaseEvent:
    """Check an item against the catalogue and geography and build its record; ItemError if not."""
    problems: list[ItemError] = []
    cat = env.catalogue
    et = cat.event_types.get(item.event_type)
    if et is None:
        problems.append(
            ItemError("event_type", f"unknown event type {item.event_type!r} (see /open311/v2/services.json)")
        )
    elif item.category is not None and item.category != et.category:
        problems.append(
            ItemError("category", f"{et.code} is in category {et.category!r}, not {item.category!r}")
        )
    if item.department is not None and item.department not in cat.departments:
        problems.append(ItemError("department", f"unknown department {item.department!r}"))
    cell: str | None = None
    lon = lat = None
    if item.cell_id is not None:
        if item.cell_id in env.geo.cells:
            cell = item.cell_id
        else:
            problems.append(ItemError("cell_id", f"unknown grid cell {item.cell_id!r}"))
    if item.point is not None:
        try:
            at, lon, lat = locate(env, item.point.lon, item.point.lat, item.point.crs)
            cell = cell or at  # a given cell_id wins; the point is kept as the location
        except ValueError as err:
            problems.append(ItemError("point", str(err)))
    elif item.cell_id is None:
        problems.append(ItemError("cell_id", "a location is required: cell_id or point"))
    if (late := env.bounds.problem(item.time, epoch_ms())) is not None:
        problems.append(ItemError("time", late))
    if problems:
        raise ExceptionGroup("invalid event", problems)
    assert et is not None and cell is not None
    department = item.department
    if department is None and lifecycle.CASE_STEPS.index(item.step) >= DEPARTMENT_FROM:
        department = et.department
    try:
        return CaseEvent(
            event_id=item.event_id,
            case_id=item.case_id,
            seq=item.seq or 0,
            ts=item.time,
            step=item.step,
            event_type=et.code,
            category=et.category,
            cell_id=cell,
            lon=lon,
            lat=lat,
            department=department,
            actor=item.actor,
            note=item.note,
            photos=item.photos,
            priority=item.priority or et.priority,
            source=source,
        )
    except ValidationError as err:  # e.g. a source name longer than the contract allows
        raise ExceptionGroup("invalid event", [ItemError("event", describe_errors(err))]) from None


def items_of(body: Any, key: str, max_batch: int) -> list[Any]:
    """The items of a body that is one object, ``{key: [...]}`` or a bare list; BadRequest if not."""
    if isinstance(body, dict) and key in body:
        extra = sorted(set(body) - {key})
        if extra:
            raise BadRequest(400, [{"field": extra[0], "message": f"unknown key beside {key!r}"}])
        body = body[key]
        if not isinstance(body, list):
            raise BadRequest(400, [{"field": key, "message": "must be a list"}])
    items = body if isinstance(body, list) else [body]
    if not items:
        raise BadRequest(400, [{"field": key, "message": "no items"}])
    if len(items) > max_batch:
        raise BadRequest(
            413, [{"field": key, "message": f"{len(items)} items; at most {max_batch} per request"}]
        )
    return items


def validate_events(items: Sequence[Any], env: IngestEnv, source: str) -> list[CaseEvent]:
    """Every item as a record, or BadRequest (422) naming every bad item's index and field."""
    records: list[CaseEvent] = []
    errors: list[dict[str, Any]] = []
    for i, raw in enumerate(items):
        if not isinstance(raw, dict):
            errors.append({"index": i, "field": "event", "message": "each event must be a JSON object"})
            continue
        try:
            records.append(to_record(CaseEventIn.model_validate(raw), env, source))
        except ValidationError as err:
            errors += describe(err, i)
        except ExceptionGroup as group:
            errors += [
                {"index": i, "field": e.field, "message": e.message}
                for e in group.exceptions
                if isinstance(e, ItemError)
            ]
    if errors:
        bad = sorted({e["index"] for e in errors})
        raise Rejected(422, errors, f"{len(bad)} of {len(items)} events invalid, nothing was kept")
    return records


def quick_client(client: redis.Redis, timeout_s: float = 1.0) -> redis.Redis:
    """A client on the same server that fails within ``timeout_s`` and never retries (edge checks)."""
    pool = client.connection_pool
    kwargs = dict(pool.connection_kwargs)
    kwargs.update(socket_timeout=timeout_s, socket_connect_timeout=timeout_s, retry=Retry(NoBackoff(), 0))
    try:
        return redis.Redis(
            connection_pool=redis.ConnectionPool(connection_class=pool.connection_class, **kwargs)
        )
    except TypeError:  # a client library whose pool takes other arguments: use the shared client
        return client


@dataclass
class Deduper:
    """Check-and-mark of event ids at the edge: one pipelined ``SET NX EX`` per id."""

    r: redis.Redis

    def mark(self, event_ids: Sequence[str]) -> list[bool] | None:
        """Per id: True when it is new (now marked), False when seen before; None when Redis is away."""
        pipe = self.r.pipeline(transaction=False)
        for eid in event_ids:
            pipe.set(keys.ingest_event_key(eid), "1", nx=True, ex=keys.INGEST_EVENT_TTL_S)
        try:
            return [bool(x) for x in pipe.execute()]
        except redis.RedisError as err:
            log.warning("event id check deferred to the processor: %s", err)
            return None

    def unmark(self, event_ids: Sequence[str]) -> None:
        """Forget marks of events that were not kept after all (best effort)."""
        if not event_ids:
            return
        try:
            self.r.delete(*(keys.ingest_event_key(e) for e in event_ids))
        except redis.RedisError as err:
            log.warning("could not unmark %d event ids: %s", len(event_ids), err)


def ingest(env: IngestEnv, dedupe: Deduper, records: Sequence[CaseEvent]) -> Response:
    """Keep the new events of a valid batch (or none of them) and answer 202 or 503."""
    first: dict[str, int] = {}
    for i, rec in enumerate(records):
        first.setdefault(rec.event_id, i)
    fresh_ids = list(first)
    sink = env.sink(FEED)
    if sink.pending() + len(fresh_ids) > sink.capacity:
        return busy()
    marks = dedupe.mark(fresh_ids)
    new = set(fresh_ids) if marks is None else {e for e, m in zip(fresh_ids, marks, strict=True) if m}
    kept = [records[first[e]] for e in fresh_ids if e in new]
    if kept and not accept(env, FEED, kept):
        if marks is not None:
            dedupe.unmark([r.event_id for r in kept])
        return busy()
    results = [
        {
            "index": i,
            "event_id": rec.event_id,
            "status": "accepted" if first[rec.event_id] == i and rec.event_id in new else "duplicate",
            "cell_id": rec.cell_id,
        }
        for i, rec in enumerate(records)
    ]
    duplicates = [r["event_id"] for r in results if r["status"] == "duplicate"]
    body = {
        "accepted": len(kept),
        "duplicates": duplicates,
        "dedupe": "checked" if marks is not None else "deferred",
        "results": results,
    }
    return json_response(body, 202)


def blueprint(cfg: AppConfig, env: IngestEnv, limiter: RateLimiter) -> Blueprint:
    """The case-events endpoint, writing through the ``http-cases`` sink (``limiter``: per source)."""
    bp = Blueprint("http_cases", __name__)
    dedupe = Deduper(quick_client(env.client))
    env.sink(FEED)  # made now, not racing on the first requests

    @bp.post("/api/v1/case-events")
    @require_token(cfg, "case-events")
    def post_case_events() -> Response:
        """Validate a batch of case events and keep all of it, or reject all of it."""
        try:
            items = items_of(json_body(cfg), "events", cfg.ingest.max_batch)
            records = validate_events(items, env, str(g.source))
        except BadRequest as err:
            return error_response(err)
        if wait := limiter.take(str(g.source), len(records)):
            return too_many(str(g.source), wait, limiter.rate, limiter.burst)
        return ingest(env, dedupe, records)

    return bp
