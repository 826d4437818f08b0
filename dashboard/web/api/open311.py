"""Open311 GeoReport v2 (JSON): citizens' apps list services, post requests and follow every case.

Services are the catalogue's event types. A POSTed request becomes a new case: a ``reported``
``CaseEvent`` with ``source="open311"`` written through the ``open311`` sink. GET requests read the
processor's case index, so cases of every source (grid workers, the simulator, other APIs) are listed.
Errors use the spec's shape ``[{"code": ..., "description": ...}]``. docs/API.md says what is supported.
See http://wiki.open311.org/GeoReport_v2.
"""

from __future__ import annotations

import hmac
import logging
import math
import secrets
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import redis
from flask import Blueprint, Response, request
from werkzeug.exceptions import RequestEntityTooLarge

from dashboard.config import AppConfig
from dashboard.domain.catalogue import Catalogue, EventType
from dashboard.domain.i18n import Lang, normalize
from dashboard.domain.sla import deadline, stage_minutes
from dashboard.domain.types import epoch_ms
from dashboard.store import keys
from dashboard.store.cases import CaseState
from dashboard.store.records import NOTE_MAX, CaseEvent
from dashboard.store.sink import IngestEnv
from dashboard.web.api.cases import check_url, locate, quick_client
from dashboard.web.api.common import BadRequest, accept, json_body, json_response
from dashboard.web.api.limits import RateLimiter

log = logging.getLogger(__name__)

FEED = "open311"  # the sink's name in health reports, and the records' source
SPEC_URL = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-28T00:00:00Z"  # when this endpoint's behaviour last changed (service discovery)
# expected_datetime = requested_datetime + the "handle" stage's SLA for the case's priority
# (config ``sla.handle``: 24 h ordinary, 2 h urgent by default; working hours when configured).
EXPECTED_STAGE = "handle"
MAX_REQUESTS = 1000  # the spec's default cap on GET requests
WINDOW = timedelta(days=90)  # default and largest start_date..end_date span
SCAN_PAGE = 1000  # case ids read per round trip when filtering
MAX_SCAN = 200_000  # bound on the cases one GET examines (about two months of the district's cases)

STEP_WORDS: dict[str, tuple[str, str]] = {  # status_notes: where the case is in the closed loop
    "reported": ("已上报，待核实立案", "Reported, awaiting verification"),
    "registered": ("已立案，待派遣", "Registered, awaiting dispatch"),
    "cancelled": ("已注销（核实无效）", "Cancelled: not a valid case"),
    "dispatched": ("已派遣至责任部门", "Dispatched to the responsible department"),
    "returned": ("部门退回，待重新派遣", "Returned by the department, awaiting re-dispatch"),
    "handled": ("责任部门已处置", "Handled on site by the department"),
    "feedback": ("部门已反馈，待核查", "The department reported back, awaiting verification"),
    "verified": ("已核查，待结案", "Verified on site, awaiting closure"),
    "closed": ("已结案", "Closed"),
    "reopened": ("核查未通过，重新办理", "Reopened: not fixed"),
    "escalated": ("已上报上级", "Escalated to a higher level"),
}

F = TypeVar("F", bound=Callable[..., Response])


class Open311Error(Exception):
    """An error answered in the spec's format: ``[{"code": status, "description": ...}]``."""

    def __init__(self, status: int, description: str, headers: dict[str, str] | None = None) -> None:
        """HTTP ``status`` (also the error's ``code``) and a description naming the problem."""
        super().__init__(description)
        self.status = status
        self.description = description
        self.headers = headers or {}

    def response(self) -> Response:
        """The error as a JSON response."""
        return json_response(
            [{"code": self.status, "description": self.description}], self.status, self.headers
        )


def spec_errors(fn: F) -> F:
    """Answer every failure of an Open311 view in the spec's error format."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return fn(*args, **kwargs)
        except Open311Error as err:
            return err.response()
        except BadRequest as err:  # from json_body: 413, 415, 400
            return Open311Error(err.status, str(err)).response()
        except RequestEntityTooLarge:
            return Open311Error(413, "request body too large").response()
        except redis.RedisError as err:
            log.warning("open311: redis unavailable: %s", err)
            return Open311Error(503, "case store unavailable; retry later", {"Retry-After": "5"}).response()

    return wrapper  # type: ignore[return-value]


def parse_datetime(value: str, name: str) -> datetime:
    """An ISO-8601 date-time with offset (the spec requires one); Open311Error 400 if not."""
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise Open311Error(400, f"{name} {value!r} is not an ISO-8601 date-time") from None
    if when.tzinfo is None:
        raise Open311Error(400, f"{name} {value!r} needs a time zone (Z or an offset such as +08:00)")
    return when


class Open311:
    """The GeoReport v2 resources over the catalogue, the geography and the case index."""

    def __init__(self, cfg: AppConfig, env: IngestEnv, limiter: RateLimiter | None = None) -> None:
        """Serve ``cfg``'s jurisdiction from ``env``'s catalogue, geography and Redis; ``limiter``: POSTs
        per api_key."""
        self.cfg = cfg
        self.limiter = limiter
        self.env = env
        self.cat: Catalogue = env.catalogue
        self.tz = ZoneInfo(cfg.timezone)
        self.r: Any = quick_client(env.client, 5.0)  # replies are str (decode_responses=True)
        self._services: dict[Lang, list[dict[str, Any]]] = {}

    # --- request helpers ------------------------------------------------------------------------

    def lang(self) -> Lang:
        """The answer's language: ``?locale=`` (or ``?lang=``), then Accept-Language, then config."""
        default = normalize(self.cfg.locale, "zh-CN")
        asked = request.args.get("locale") or request.args.get("lang")
        if asked:
            return normalize(asked, default)
        for value, _quality in request.accept_languages:
            if value.lower().startswith(("zh", "en")):
                return normalize(value, default)
        return default

    def check_format(self, fmt: str) -> None:
        """Only JSON is served; XML (optional in the spec) is answered with a clear 400."""
        if fmt == "json":
            return
        if fmt == "xml":
            raise Open311Error(400, "XML is not supported by this server; use the .json form of this URL")
        raise Open311Error(404, f"unknown format {fmt!r}; this server answers .json")

    def check_jurisdiction(self, given: Any) -> None:
        """A ``jurisdiction_id`` is optional (one jurisdiction), but must be ours when given."""
        ours = self.cfg.open311.jurisdiction_id
        if given not in (None, "") and str(given) != ours:
            raise Open311Error(404, f"jurisdiction_id {given!r} not found; this server serves {ours!r}")

    # --- services -------------------------------------------------------------------------------

    def services(self, lang: Lang) -> list[dict[str, Any]]:
        """Every event type as an Open311 service (computed once per language)."""
        if lang not in self._services:
            zh = lang == "zh-CN"
            out = []
            for et in self.cat.event_types.values():
                cat = self.cat.categories[et.category]
                out.append(
                    {
                        "service_code": et.code,
                        "service_name": et.name_zh if zh else et.name_en,
                        "description": f"{cat.name_zh} · {et.subcategory_zh} · {et.name_zh}"
                        if zh
                        else f"{cat.name_en} · {et.subcategory_en} · {et.name_en}",
                        "metadata": False,
                        "type": "realtime",
                        "keywords": ",".join(
                            dict.fromkeys(
                                (et.subcategory_zh, et.subcategory_en, et.name_zh, et.name_en, et.code)
                            )
                        ),
                        "group": cat.name_zh if zh else cat.name_en,
                    }
                )
            self._services[lang] = out
        return self._services[lang]

    def event_type(self, code: Any, status: int = 404) -> EventType:
        """The catalogue type of a service code; Open311Error when there is none."""
        if code in (None, ""):
            raise Open311Error(400, "service_code was not provided")
        et = self.cat.event_types.get(str(code))
        if et is None:
            raise Open311Error(status, f"service_code {code!r} not found (see services.json)")
        return et

    # --- requests: POST -------------------------------------------------------------------------

    def fields(self) -> dict[str, Any]:
        """The POST's fields from a form-encoded or JSON body (``api_key`` may be in the query)."""
        if request.mimetype == "application/json":
            body = json_body(self.cfg)
            if not isinstance(body, dict):
                raise Open311Error(400, "the JSON body must be an object of request fields")
            out = dict(body)
        elif request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            out = request.form.to_dict()
        else:
            raise Open311Error(
                415, "send the fields form-encoded (application/x-www-form-urlencoded) or as JSON"
            )
        if "api_key" not in out and "api_key" in request.args:
            out["api_key"] = request.args["api_key"]
        return out

    def client_name(self, api_key: Any) -> str:
        """The configured client an api_key belongs to; Open311Error 403 if none (the spec's code)."""
        if not isinstance(api_key, str) or not api_key:
            raise Open311Error(403, "api_key was not provided")
        for name, key in self.cfg.open311.api_keys.items():
            if key and hmac.compare_digest(api_key.encode(), key.encode()):
                return name
        raise Open311Error(403, "api_key is not valid")

    def point(self, f: dict[str, Any]) -> tuple[str, float, float]:
        """The cell and WGS-84 point of a request; Open311Error 400 naming what is missing or wrong."""
        lat, lon = f.get("lat"), f.get("long")
        if lat in (None, "") and lon in (None, ""):
            if f.get("address_string") or f.get("address_id"):
                raise Open311Error(
                    400, "a location point is required (lat and long, WGS-84): this server has no geocoder"
                )
            raise Open311Error(400, "location was not provided: lat and long (WGS-84) are required")
        values: list[float] = []
        for name, v in (("long", lon), ("lat", lat)):
            if v in (None, ""):
                raise Open311Error(400, f"{name} was not provided (lat and long go together)")
            try:
                x = float(v)
            except (TypeError, ValueError):
                raise Open311Error(400, f"{name} {v!r} is not a number") from None
            if not math.isfinite(x) or abs(x) > (180 if name == "long" else 90):
                raise Open311Error(400, f"{name} {v!r} is out of range")
            values.append(x)
        try:
            return locate(self.env, values[0], values[1])
        except ValueError as err:
            raise Open311Error(400, str(err)) from None

    def create(self) -> Response:
        """POST requests: validate, write a ``reported`` case event, answer the new request's id."""
        f = self.fields()
        client = self.client_name(f.get("api_key"))
        if self.limiter is not None and (wait := self.limiter.take(client)):
            raise Open311Error(
                429,
                f"api_key of {client!r} is over its limit of {self.limiter.rate:g} requests a second",
                {"Retry-After": str(math.ceil(wait))},
            )
        self.check_jurisdiction(f.get("jurisdiction_id"))
        et = self.event_type(f.get("service_code"))
        cell, lon, lat = self.point(f)
        description = f.get("description") or ""
        if not isinstance(description, str):
            raise Open311Error(400, "description must be text")
        if len(description) > NOTE_MAX:
            raise Open311Error(400, f"description is longer than {NOTE_MAX} characters")
        photos: list[str] = []
        media = f.get("media_url")
        if media not in (None, ""):
            try:
                photos.append(check_url(str(media)))
            except ValueError as err:
                raise Open311Error(400, f"media_url: {err}") from None
        now = epoch_ms()
        day = datetime.fromtimestamp(now / 1000, self.tz).strftime("%Y%m%d")
        case_id = f"311-{day}-{secrets.token_hex(5).upper()}"
        record = CaseEvent(
            event_id=f"{case_id}-00",
            case_id=case_id,
            ts=now,
            step="reported",
            event_type=et.code,
            category=et.category,
            cell_id=cell,
            lon=lon,
            lat=lat,
            actor=client[:64],  # the client app, never the citizen: no personal data is kept
            note=description,
            photos=photos,
            priority=et.priority,
            source=FEED,
        )
        if not accept(self.env, FEED, [record]):
            raise Open311Error(
                503, "intake buffer full (case store unavailable); retry later", {"Retry-After": "5"}
            )
        hours = f"{stage_minutes(self.cfg.sla, EXPECTED_STAGE, et.priority) / 60:g}"
        notice = (
            f"已受理，预计 {hours} 小时内处置。"
            if self.lang() == "zh-CN"
            else f"Received; expected to be handled within {hours} hours."
        )
        return json_response(
            [{"service_request_id": case_id, "service_notice": notice, "account_id": None}], 201
        )

    # --- requests: GET --------------------------------------------------------------------------

    def iso(self, ms: int) -> str:
        """An epoch-ms time as ISO-8601 with the local offset."""
        return datetime.fromtimestamp(ms / 1000, self.tz).isoformat(timespec="seconds")

    def as_request(self, case_id: str, st: CaseState, lang: Lang) -> dict[str, Any]:
        """One case in the spec's service-request shape."""
        zh = lang == "zh-CN"
        et = self.cat.event_types.get(st.event_type)
        dept_id = st.department or (et.department if et else None)
        dept = self.cat.departments.get(dept_id or "")
        cell = self.env.geo.cells.get(st.cell)
        address = None
        if cell is not None:
            chain = self.env.geo.ancestors(cell.id)  # district, subdistrict, community
            sub = chain[1] if len(chain) > 1 else None
            district = self.env.geo.district
            if zh:
                address = f"{district.name_zh}{sub.name_zh if sub else ''}{cell.name_zh}"
            else:
                address = ", ".join(a.name_en for a in (cell, sub, district) if a is not None)
        lon, lat = (st.lon, st.lat) if st.lon is not None and st.lat is not None else (None, None)
        if lon is None and cell is not None:
            lon, lat = cell.centroid  # no point reported: the cell's centre stands in
        reported = st.reported_ts or st.ts
        photos: list[str] = getattr(st, "photos", None) or []  # in the case index since the lifecycle
        words = STEP_WORDS.get(st.step)
        return {
            "service_request_id": case_id,
            "status": "open" if st.open else "closed",
            "status_notes": (words[0] if zh else words[1]) if words else st.step,
            "service_name": (et.name_zh if zh else et.name_en) if et else st.event_type,
            "service_code": st.event_type,
            "description": st.description,
            "agency_responsible": (dept.name_zh if zh else dept.name_en) if dept else None,
            "service_notice": None,
            "requested_datetime": self.iso(reported),
            "updated_datetime": self.iso(st.ts),
            "expected_datetime": self.iso(
                deadline(self.cfg.sla, EXPECTED_STAGE, st.priority, reported, self.tz)
            ),
            "address": address,
            "address_id": st.cell,
            "zipcode": None,
            "lat": lat,
            "long": lon,
            "media_url": photos[0] if photos else None,
        }

    def states(self, case_ids: list[str]) -> Iterable[tuple[str, CaseState]]:
        """The indexed cases among ``case_ids`` (one HMGET), in that order."""
        if not case_ids:
            return []
        raws = self.r.hmget(keys.CASE_INDEX, case_ids)
        return [(k, CaseState.from_json(v)) for k, v in zip(case_ids, raws, strict=True) if v is not None]

    def one(self, request_id: str) -> Response:
        """GET one request: a list of one, or 404 until the processor has applied it."""
        self.check_jurisdiction(request.args.get("jurisdiction_id"))
        found = list(self.states([request_id]))
        if not found:
            raise Open311Error(
                404,
                f"service_request_id {request_id!r} not found (a request just posted is listed once "
                "the processor has applied it, normally within a second)",
            )
        lang = self.lang()
        return json_response([self.as_request(k, st, lang) for k, st in found])

    def search(self) -> Response:
        """GET requests: by id list, or newest first in a date window filtered by code and status."""
        args = request.args
        self.check_jurisdiction(args.get("jurisdiction_id"))
        lang = self.lang()
        if args.get("service_request_id"):
            ids = [i.strip() for i in args["service_request_id"].split(",") if i.strip()][:MAX_REQUESTS]
            return json_response([self.as_request(k, st, lang) for k, st in self.states(ids)])
        now = datetime.now(self.tz)
        end = parse_datetime(args["end_date"], "end_date") if args.get("end_date") else None
        start = parse_datetime(args["start_date"], "start_date") if args.get("start_date") else None
        if end is None:
            end = start + WINDOW if start is not None else now
        if start is None:
            start = end - WINDOW
        if start > end:
            raise Open311Error(400, "start_date is after end_date")
        if end - start > WINDOW:
            raise Open311Error(400, f"start_date..end_date spans more than {WINDOW.days} days")
        codes = {s.strip() for s in args.get("service_code", "").split(",") if s.strip()}
        statuses = {s.strip() for s in args.get("status", "").split(",") if s.strip()}
        if statuses - {"open", "closed"}:
            raise Open311Error(400, f"status must be open or closed (got {sorted(statuses)!r})")
        lo, hi = int(start.timestamp() * 1000), int(end.timestamp() * 1000)
        out: list[dict[str, Any]] = []
        offset = 0
        while len(out) < MAX_REQUESTS and offset < MAX_SCAN:
            ids = self.r.zrevrangebyscore(keys.CASES_BY_TIME, hi, lo, start=offset, num=SCAN_PAGE)
            if not ids:
                break
            offset += len(ids)
            for k, st in self.states(ids):
                if codes and st.event_type not in codes:
                    continue
                if statuses and ("open" if st.open else "closed") not in statuses:
                    continue
                out.append(self.as_request(k, st, lang))
                if len(out) == MAX_REQUESTS:
                    break
        return json_response(out)


def discovery_document(host_url: str) -> dict[str, Any]:
    """The service discovery document of the GeoReport v2 endpoint on ``host_url``."""
    return {
        "changeset": CHANGESET,
        "contact": "禅城区智慧社会治理中心 (Chancheng smart-governance centre)",
        "key_service": "api_key from the centre (config open311.api_keys)",
        "endpoints": [
            {
                "specification": SPEC_URL,
                "url": host_url.rstrip("/") + "/open311/v2",
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["application/json"],
            }
        ],
    }


def blueprint(cfg: AppConfig, env: IngestEnv, limiter: RateLimiter | None = None) -> Blueprint:
    """The GeoReport v2 endpoint under /open311/v2 (and its service discovery document)."""
    bp = Blueprint("open311", __name__)
    api = Open311(cfg, env, limiter)
    env.sink(FEED)  # made now, not racing on the first requests

    @bp.get("/open311/discovery.json")
    @spec_errors
    def discovery() -> Response:
        """Service discovery: where the GeoReport v2 endpoint is and what it speaks."""
        return json_response(discovery_document(request.host_url))

    @bp.get("/open311/v2/services.<fmt>")
    @spec_errors
    def services(fmt: str) -> Response:
        """GET service list: the 247 event types."""
        api.check_format(fmt)
        api.check_jurisdiction(request.args.get("jurisdiction_id"))
        return json_response(api.services(api.lang()))

    @bp.get("/open311/v2/services/<code>.<fmt>")
    @spec_errors
    def service_definition(code: str, fmt: str) -> Response:
        """GET service definition: no service has extra attributes."""
        api.check_format(fmt)
        api.check_jurisdiction(request.args.get("jurisdiction_id"))
        et = api.event_type(code)
        return json_response({"service_code": et.code, "attributes": []})

    @bp.post("/open311/v2/requests.<fmt>")
    @spec_errors
    def create_request(fmt: str) -> Response:
        """POST service request: a new case."""
        api.check_format(fmt)
        return api.create()

    @bp.get("/open311/v2/requests.<fmt>")
    @spec_errors
    def search_requests(fmt: str) -> Response:
        """GET service requests."""
        api.check_format(fmt)
        return api.search()

    @bp.get("/open311/v2/requests/<request_id>.<fmt>")
    @spec_errors
    def get_request(request_id: str, fmt: str) -> Response:
        """GET service request."""
        api.check_format(fmt)
        return api.one(request_id)

    return bp
