"""One case, whole, at ``/case/<case_id>``: what it is, where, its timeline against the SLAs, the cell
on a small map and the cameras nearest to it.

The page reads the one case record (``contract.CASE_INDEX``), never a scan. It stays live: a clientside
filter on the Socket.IO deltas asks the server to re-read the case when a delta mentions it. Notes and
every other field from the outside world are rendered as text children of components, never as HTML;
photos are links (thumbnails only for http(s) URLs).
"""

from __future__ import annotations

import functools
import logging
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import dash
import dash_leaflet as dl
import numpy as np
import redis
from dash import ClientsideFunction, Dash, Input, Output, State, dcc, html
from shapely.geometry import mapping

from dashboard.domain.i18n import Lang, bundle, duration, t
from dashboard.domain.lifecycle import STAGE_OF, fold
from dashboard.domain.registry import CAMERA_KINDS, Camera, default_registry
from dashboard.domain.sla import SlaConfig, deadline
from dashboard.domain.types import epoch_ms
from dashboard.store import keys
from dashboard.store.cases import CaseState
from dashboard.store.keys import CAMERA_STATE
from dashboard.web.context import ctx, request_lang
from layouts import ids, nav
from layouts.maps import fitted_map, tiles
from layouts.names import area_name, category_name, dept_short, type_name

log = logging.getLogger(__name__)

# Element ids: the UI contract (docs/UI.md).
ROOT = ids.CASE_ROOT
TITLE = "case-title"
FACTS = "case-facts"
LATE = ids.CASE_LATE
DESCRIPTION = "case-description"
PHOTOS = "case-photos"
TIMELINE = "case-timeline"
MAP = "case-map"
CAMERAS = "case-cameras"
NOT_FOUND = "case-not-found"
BODY = "case-body"
REFRESH = ids.CASE_REFRESH
META = ids.CASE_META
LIVE = ids.CASE_LIVE
TICK = ids.CASE_TICK

NEAREST = 6
RESTART_STEPS = frozenset({"returned", "reopened", "escalated"})
STATUS_CLASS = {"online": "ok", "offline": "bad", "fault": "warn"}


@dataclass(frozen=True)
class TimelineRow:
    """One event of a case as the timeline shows it, with the stage it opened measured against its SLA."""

    ts: int
    step: str
    department: str | None
    actor: str | None
    note: str
    applied: bool  # False: the lifecycle refused it (an illegal transition), it changed nothing
    stage: str | None = None  # the stage this step started, if it started one
    spent_ms: int | None = None  # time in that stage (until the next stage, or until now)
    limit_ms: int | None = None  # time the SLA allowed (deadline - start)
    late: bool = False
    ongoing: bool = False


def timeline(st: CaseState, sla: SlaConfig, tz: ZoneInfo, now: int) -> list[TimelineRow]:
    """Every event of the case in order; a step that starts a stage carries that stage's time and SLA.

    Stages are measured as dashboard/readmodel.py measures them: a stage starts when the state's stage
    changes (or on a return, reopen or escalation, which restart the clock) and ends at the next start
    or at a closing step; the SLA priority is the case's priority up to the stage's end.
    """
    _case, rejected = fold("", st.steps())
    held = {r.event_id for r in rejected}
    applied = [e for e in st.events if e[2] not in held]
    rows_by_id: dict[str, TimelineRow] = {}
    urgent_before = [False] * (len(applied) + 1)  # urgent_before[k]: any of applied[:k] urgent
    for k, e in enumerate(applied):
        urgent_before[k + 1] = urgent_before[k] or e[6] == "urgent"
    prev: str | None = None
    for i, e in enumerate(applied):
        ts, _seq, event_id, step, dept, actor, _prio, note = e
        stage = STAGE_OF.get(step)
        starts = stage is not None and (stage != prev or step in RESTART_STEPS)
        prev = stage
        if not starts or stage is None:
            rows_by_id[event_id] = TimelineRow(ts, step, dept, actor, note or "", True)
            continue
        end = next(
            (
                j
                for j in range(i + 1, len(applied))
                if STAGE_OF.get(applied[j][3]) != stage or applied[j][3] in RESTART_STEPS
            ),
            None,
        )
        exited = applied[end][0] if end is not None else None
        urgent = urgent_before[end] if end is not None else urgent_before[len(applied)]
        due = deadline(sla, stage, "urgent" if urgent else "normal", ts, tz)
        until = exited if exited is not None else now
        rows_by_id[event_id] = TimelineRow(
            ts, step, dept, actor, note or "", True, stage, until - ts, due - ts, until > due, exited is None
        )
    out = []
    for e in st.events:
        row = rows_by_id.get(e[2])
        out.append(row if row is not None else TimelineRow(e[0], e[3], e[4], e[5], e[7] or "", False))
    return out


def safe_photo_url(url: str) -> bool:
    """True for an absolute http(s) URL (the only ones shown as images and links)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


@functools.lru_cache(maxsize=1)
def _camera_points() -> tuple[list[Camera], np.ndarray, np.ndarray]:
    """The registered cameras and their coordinates as arrays (loaded once per process)."""
    cams = list(default_registry().cameras.values())
    return cams, np.array([k.lon for k in cams]), np.array([k.lat for k in cams])


def nearest_cameras(lon: float, lat: float, n: int = NEAREST) -> list[tuple[Camera, float]]:
    """The ``n`` registered cameras nearest to a point, with their distance in metres, nearest first."""
    cams, lons, lats = _camera_points()
    if not cams:
        return []
    dx = (lons - lon) * 111_320.0 * math.cos(math.radians(lat))
    dy = (lats - lat) * 110_574.0
    dist = np.hypot(dx, dy)
    k = min(n, len(cams))
    idx = np.argpartition(dist, k - 1)[:k]
    idx = idx[np.argsort(dist[idx])]
    return [(cams[int(i)], float(dist[int(i)])) for i in idx]


# --------------------------------------------------------------------------- rendering


def _data(**attrs: str) -> dict[str, Any]:
    """``data-*`` attributes for a component (``_data(step="closed")`` -> ``data-step="closed"``)."""
    return {f"data-{k}": v for k, v in attrs.items()}


def _when(ts: int | None, tz: ZoneInfo) -> str:
    """A local date and time."""
    if ts is None:
        return "–"
    return datetime.fromtimestamp(ts / 1000, tz).strftime("%Y-%m-%d %H:%M:%S")


def _fact(label: str, *value: Any) -> list[Any]:
    """One term and its value for a definition list."""
    return [html.Dt(label), html.Dd(list(value))]


def _facts(st: CaseState, lang: Lang, tz: ZoneInfo) -> html.Section:
    """What the case is, where, and where it stands."""
    geo = ctx().geo
    cell = geo.cells.get(st.cell)
    community = geo.communities.get(cell.parent_id) if cell and cell.parent_id else None
    sub = geo.subdistricts.get(community.parent_id) if community and community.parent_id else None
    stage = t(f"stage_{st.stage}", lang) if st.stage else "–"
    rows = [
        *_fact(t("case_event_type", lang), f"{type_name(st.event_type, lang)} ({st.event_type})"),
        *_fact(t("case_category", lang), category_name(st.category, lang)),
        *_fact(
            t("case_cell", lang),
            html.Span(st.cell, className="cell-id"),
            " " + (area_name(cell, lang) if cell else ""),
        ),
        *_fact(t("case_community", lang), area_name(community, lang) if community else "–"),
        *_fact(t("case_subdistrict", lang), area_name(sub, lang) if sub else "–"),
        *_fact(
            t("case_priority", lang),
            html.Span(t(f"priority_{st.priority}", lang), className=f"badge {st.priority}"),
        ),
        *_fact(t("case_state", lang), t(f"step_{st.step}", lang) if st.valid else "–"),
        *_fact(t("case_stage", lang), stage),
        *_fact(t("case_department", lang), dept_short(st.department, lang) or "–"),
        *_fact(
            t("case_deadline", lang),
            _when(st.deadline, tz) if st.open and st.deadline else "–",
            html.Br(),
            html.Span(id=LATE, className="case-late"),
        ),
        *_fact(t("case_reported_at", lang), _when(st.reported_ts or None, tz)),
        *_fact(t("case_source", lang), st.source or "–"),
        *_fact(t("case_loops", lang), f"{st.returns} / {st.escalations} / {st.reopens}"),
    ]
    return html.Section(
        [
            html.Div(t("case_facts", lang), className="panel-title"),
            html.Dl(rows, id=FACTS, className="facts"),
        ],
        className="panel",
    )


def _timeline_table(st: CaseState, lang: Lang, tz: ZoneInfo, now: int) -> html.Section:
    """Every step, in order, with the time each stage took against its SLA."""
    sla = ctx().cfg.sla
    head = html.Thead(
        html.Tr(
            [
                html.Th(t(k, lang))
                for k in (
                    "case_col_time",
                    "case_col_step",
                    "case_col_dept",
                    "case_col_actor",
                    "case_col_stage",
                    "case_col_note",
                )
            ]
        )
    )
    body = []
    for row in timeline(st, sla, tz, now):
        if not row.applied:
            stage_cell: Any = html.Span(t("case_held", lang), className="muted")
        elif row.stage is not None and row.spent_ms is not None and row.limit_ms is not None:
            spent = duration(row.spent_ms, lang)
            stage_cell = [
                html.Span(t(f"stage_{row.stage}", lang), className="stage-name"),
                f" {spent} / {duration(row.limit_ms, lang)}",
            ]
            if row.ongoing:
                stage_cell.append(html.Span(t("case_ongoing", lang), className="badge ongoing"))
            if row.late:
                stage_cell.append(html.Span(t("case_stage_late", lang), className="badge late"))
        else:
            stage_cell = ""
        classes = ["step-row", f"step-{row.step}"]
        if not row.applied:
            classes.append("held")
        if row.late:
            classes.append("late")
        body.append(
            html.Tr(
                [
                    html.Td(_when(row.ts, tz), className="time"),
                    html.Td(t(f"step_{row.step}", lang), className="step"),
                    html.Td(dept_short(row.department, lang) or "–"),
                    html.Td(row.actor or "–"),
                    html.Td(stage_cell, className="stage"),
                    html.Td(row.note, className="note"),  # text child: never HTML
                ],
                className=" ".join(classes),
                **_data(step=row.step),
            )
        )
    return html.Section(
        [
            html.Div(t("case_timeline", lang), className="panel-title"),
            html.Table([head, html.Tbody(body)], id=TIMELINE, className="timeline"),
        ],
        className="panel timeline-panel",
    )


def _photos(st: CaseState, lang: Lang) -> list[Any]:
    """The report's photos: thumbnails linking to the image for http(s) URLs, plain text otherwise."""
    items: list[Any] = []
    for url in st.photos:
        if safe_photo_url(url):
            items.append(
                html.A(
                    [html.Img(src=url, alt="", className="thumb"), html.Span(url, className="photo-url")],
                    href=url,
                    target="_blank",
                    rel="noopener noreferrer",
                    className="photo",
                )
            )
        else:
            items.append(html.Span(url, className="photo-text"))
    return items or [html.Span(t("case_none", lang), className="muted")]


def _location(st: CaseState) -> tuple[float, float, bool]:
    """Where the case is: its own point when it has one, else its cell's inner point (lon, lat, own)."""
    if st.lon is not None and st.lat is not None:
        return st.lon, st.lat, True
    cell = ctx().geo.cells.get(st.cell)
    if cell is not None:
        return cell.centroid[0], cell.centroid[1], False
    d = ctx().geo.district.centroid
    return d[0], d[1], False


def _cameras(lon: float, lat: float, lang: Lang) -> tuple[html.Section, list[Any]]:
    """The cameras nearest the case, with their live status; and their markers for the map."""
    try:
        near = nearest_cameras(lon, lat)
    except Exception as err:  # a broken registry file must not take the case page down
        log.warning("case page: camera registry unavailable (%s)", err)
        near = []
    statuses: list[str | None] = []
    if near:
        try:
            statuses = ctx().redis.hmget(CAMERA_STATE, [cam.id for cam, _ in near])  # type: ignore[assignment]
        except redis.RedisError as err:
            log.warning("case page: camera status unavailable (%s)", err)
    statuses = list(statuses) or [None] * len(near)
    kinds = {k.key: (k.label_zh if lang == "zh-CN" else k.label_en) for k in CAMERA_KINDS}
    rows, markers = [], []
    for (cam, dist), status in zip(near, statuses, strict=True):
        name = cam.name_zh if lang == "zh-CN" else cam.name_en
        state = status or "unknown"
        rows.append(
            html.Tr(
                [
                    html.Td(name, className="cam-name"),
                    html.Td(kinds.get(cam.kind, cam.kind), className="muted"),
                    html.Td(t("metres", lang).format(n=round(dist)), className="num"),
                    html.Td(
                        html.Span(t(f"cam_{state}", lang), className=f"badge {STATUS_CLASS.get(state, '')}")
                    ),
                ],
                **_data(camera=cam.id),
            )
        )
        markers.append(
            dl.CircleMarker(
                center=[cam.lat, cam.lon],
                radius=6,
                color={"ok": "#3ddc84", "bad": "#e5484d", "warn": "#f2c14e"}.get(
                    STATUS_CLASS.get(state, ""), "#7c98a6"
                ),
                fillOpacity=0.9,
                weight=1.5,
                children=dl.Tooltip(f"{cam.id} {name}"),
            )
        )
    content: Any = (
        html.Table(html.Tbody(rows), className="cameras")
        if rows
        else html.Div(t("no_data", lang), className="muted")
    )
    return (
        html.Section(
            [html.Div(t("case_cameras", lang), className="panel-title"), html.Div(content, id=CAMERAS)],
            className="panel",
        ),
        markers,
    )


def _map(
    case_id: str, st: CaseState, lon: float, lat: float, own: bool, markers: list[Any], lang: Lang
) -> Any:
    """The case's cell (and its community's outline) on a small map, the case point, the cameras."""
    c_ = ctx()
    layers: list[Any] = []
    layers += tiles(c_.cfg.web, opacity=0.5)
    xs, ys = [lon], [lat]
    cell = c_.geo.cells.get(st.cell)
    if cell is not None:
        if cell.parent_id:
            layers.append(
                dl.GeoJSON(
                    data={
                        "type": "Feature",
                        "properties": {},
                        "geometry": mapping(c_.geo.geometry(cell.parent_id)),
                    },
                    style={"color": "#7fd4ff", "weight": 1.5, "fill": False, "dashArray": "4 4"},
                    interactive=False,
                )
            )
        geom = c_.geo.geometry(cell.id)
        layers.append(
            dl.GeoJSON(
                data={"type": "Feature", "properties": {"id": cell.id}, "geometry": mapping(geom)},
                style={"color": "#39c6f4", "weight": 2.5, "fillColor": "#1d5c63", "fillOpacity": 0.45},
                interactive=False,
            )
        )
        minx, miny, maxx, maxy = geom.bounds
        xs += [minx, maxx]
        ys += [miny, maxy]
    layers += markers
    layers.append(
        dl.CircleMarker(
            center=[lat, lon],
            radius=9,
            color="#ffffff",
            weight=2,
            fillColor="#e5484d",
            fillOpacity=1 if own else 0.35,
            children=dl.Tooltip(case_id if own else f"{case_id} · {t('case_no_point', lang)}"),
        )
    )
    for m in markers:
        xs.append(m.center[1])
        ys.append(m.center[0])
    return fitted_map(
        layers,
        MAP,
        (min(xs), min(ys), max(xs), max(ys)),
        c_.cfg.web,
        zoom=15,
        padding=24,
        zoom_snap=0.25,
        center=(lat, lon),
    )


def not_found(case_id: str, lang: Lang) -> html.Div:
    """The clear "no such case" page, with a way back."""
    return html.Div(
        [
            html.H1(t("case_not_found_title", lang)),
            html.P(t("case_not_found_text", lang).format(id=case_id)),
            html.A(t("case_back", lang), href=f"/?lang={lang}", className="back"),
        ],
        id=NOT_FOUND,
        className="case-not-found",
    )


def read_case(case_id: str) -> CaseState | None:
    """The case record, or None when there is no such case (one HGET)."""
    raw = ctx().redis.hget(keys.CASE_INDEX, case_id)
    return CaseState.from_json(raw) if raw else None


def body(case_id: str, lang: Lang) -> tuple[list[Any], dict[str, Any]] | None:
    """The page's content for one case and the live facts the page's clock needs; None: no such case."""
    c_ = ctx()
    try:
        st = read_case(case_id)
    except redis.RedisError as err:
        log.warning("case page: redis unavailable (%s)", err)
        return [html.Div(t("case_unavailable", lang), className="muted"), html.Span(id=LATE)], {}
    if st is None:
        return None
    now = epoch_ms()
    lon, lat, own = _location(st)
    cameras, markers = _cameras(lon, lat, lang)
    urgent = (
        html.Span(t("priority_urgent", lang), className="badge urgent") if st.priority == "urgent" else ""
    )
    title = html.H1(
        [
            html.Span(type_name(st.event_type, lang), className="case-type"),
            html.Span(case_id, className="case-id"),
            urgent,
            html.Span(
                t(f"step_{st.step}", lang) if st.valid else "–",
                className="badge state" + (" late" if st.overdue and st.open else ""),
            ),
        ],
        id=TITLE,
    )
    description = html.Section(
        [
            html.Div(t("case_description", lang), className="panel-title"),
            html.P(
                st.description or t("case_none", lang), id=DESCRIPTION, className="note"
            ),  # text, never HTML
            html.Div(t("case_photos", lang), className="panel-title"),
            html.Div(_photos(st, lang), id=PHOTOS, className="photos"),
        ],
        className="panel",
    )
    content = [
        title,
        html.Div(
            [
                html.Div(
                    [_timeline_table(st, lang, c_.tz, now), description, cameras], className="case-main"
                ),
                html.Div(
                    [
                        _facts(st, lang, c_.tz),
                        html.Section(
                            [
                                html.Div(t("case_map", lang), className="panel-title"),
                                html.Div(
                                    _map(case_id, st, lon, lat, own, markers, lang), className="case-map-box"
                                ),
                            ],
                            className="panel",
                        ),
                    ],
                    className="case-side",
                ),
            ],
            className="case-grid",
        ),
    ]
    return content, {"open": st.open, "deadline": st.deadline, "overdue": st.overdue}


def layout(case_id: str | None = None, lang: str | None = None, **_: Any) -> html.Div:
    """The case page (``case_id`` None: the page's frame, as Dash's callback validation sees it)."""
    c_ = ctx()
    lang_: Lang = request_lang(c_.cfg.locale, lang)
    header = html.Header(
        [
            html.A(f"← {t('case_back', lang_)}", href=f"/?lang={lang_}", className="back", id="case-back"),
            html.Div(t("case_page_title", lang_), className="case-kicker"),
            html.Div([nav.search_box(lang_), nav.lang_switch(lang_)], className="area-tools"),
        ],
        className="case-header",
    )
    if case_id is None:  # the frame only: every id a callback names
        content: list[Any] = [html.Span(id=LATE)]
        live: dict[str, Any] = {}
    else:
        found = body(case_id, lang_)
        if found is None:  # a static page: nothing to keep live
            return html.Div([header, not_found(case_id, lang_)], className=f"case-page lang-{lang_}", id=ROOT)
        content, live = found
    meta = {
        "case": case_id,
        "lang": lang_,
        "tz": c_.cfg.timezone,
        "strings": bundle(lang_),
        "ids": ids.CASE_JS,
    }
    return html.Div(
        [
            header,
            html.Main(content, id=BODY, className="case-body"),
            dcc.Store(id=META, data=meta),
            dcc.Store(id=LIVE, data=live),
            dcc.Store(id=REFRESH),
            dcc.Interval(id=TICK, interval=1000),
        ],
        className=f"case-page lang-{lang_}",
        id=ROOT,
        lang=lang_,
    )


def register(app: Dash) -> None:
    """Make this the page at ``/case/<case_id>`` and wire its callbacks."""
    dash.register_page("layouts.case", path_template="/case/<case_id>", layout=layout, title=nav.tab_title)
    app.clientside_callback(
        ClientsideFunction("citybrain", "caseInit"),
        Output(REFRESH, "data"),
        Input(META, "data"),
    )
    app.clientside_callback(
        ClientsideFunction("citybrain", "caseClock"),
        Output(LATE, "children"),
        Output(LATE, "className"),
        Input(TICK, "n_intervals"),
        State(LIVE, "data"),
        State(META, "data"),
    )

    @app.callback(
        Output(BODY, "children"),
        Output(LIVE, "data"),
        Input(REFRESH, "data"),
        State(META, "data"),
        prevent_initial_call=True,
    )
    def refresh(_stamp: Any, meta: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
        """Re-read the case (a delta mentioned it, or the socket reconnected)."""
        case_id, lang = str(meta["case"]), meta["lang"]
        return body(case_id, lang) or ([not_found(case_id, lang)], {})
