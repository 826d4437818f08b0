"""The case page's panels: what the case is (facts), its timeline against the SLAs as the processor
judged it, its photos (links; a thumbnail only for a host of web.media_hosts, fetched by the server
through /media), the cameras nearest to it and a small map of its cell. Text from the field is always
a text child, never HTML."""

from __future__ import annotations

import functools
import logging
import math
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import dash_leaflet as dl
import numpy as np
import redis
from dash import html
from shapely.geometry import mapping

from dashboard.domain.actors import Actors, camera_name
from dashboard.domain.catalogue import default_catalogue
from dashboard.domain.i18n import STRINGS, Lang, duration, t
from dashboard.domain.registry import CAMERA_KINDS, Camera, default_registry
from dashboard.domain.roster import default_roster
from dashboard.queries.cases import CaseState, timeline
from dashboard.store.keys import CAMERA_STATE
from dashboard.web.context import ctx
from dashboard.web.media import media_src, proxied
from layouts import ids, nav
from layouts.maps import fitted_map, tiles
from layouts.names import area_name, category_name, dept_short, type_name

log = logging.getLogger(__name__)

NEAREST = 6


STATUS_CLASS = {"online": "ok", "offline": "bad", "fault": "warn"}


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


@functools.lru_cache(maxsize=1)
def actors() -> Actors:
    """Who may act on a case, named from the district's data (built once per process)."""
    return Actors(ctx().geo, default_roster(), default_catalogue(), default_registry().cameras)


def now_words(st: CaseState, lang: Lang) -> str:
    """Where the case stands, in one phrase of the lifecycle's words: its stage and the step that put it
    there, "处置中（分拨至 城管执法局）" / "Handle (dispatched to Urban Mgmt)"; "已办结（结案）" when over."""
    if not st.valid:
        return "–"
    dept = dept_short(st.department, lang) or "–"
    key = f"tick_{st.step}"
    what = t(key, lang).format(dept=dept) if key in STRINGS else t(f"step_{st.step}", lang)
    if not st.open or not st.stage:
        return t("case_now_over", lang).format(what=what)
    return t("case_now_value", lang).format(stage=t(f"stage_{st.stage}", lang), what=what)


def actor_cell(raw: str | None, lang: Lang) -> Any:
    """A timeline row's actor: the person's, body's or device's name in the language; the recorded id
    (``GW-ZM-0001-1``, ``CAM-00001``) as its tooltip, never as the text."""
    words = actors().words(raw, lang)
    return html.Span(words.name, title=words.ref, className="actor") if words.ref else words.name


def when(ts: int | None, tz: ZoneInfo) -> str:
    """A local date and time."""
    if ts is None:
        return "–"
    return datetime.fromtimestamp(ts / 1000, tz).strftime("%Y-%m-%d %H:%M:%S")


def fact(label: str, *value: Any) -> list[Any]:
    """One term and its value for a definition list."""
    return [html.Dt(label), html.Dd(list(value))]


def facts(st: CaseState, lang: Lang, tz: ZoneInfo) -> html.Section:
    """What the case is, where, and where it stands."""
    geo = ctx().geo
    cell = geo.cells.get(st.cell)
    community = geo.communities.get(cell.parent_id) if cell and cell.parent_id else None
    sub = geo.subdistricts.get(community.parent_id) if community and community.parent_id else None
    rows = [
        *fact(t("case_event_type", lang), f"{type_name(st.event_type, lang)} ({st.event_type})"),
        *fact(t("case_category", lang), category_name(st.category, lang)),
        *fact(
            t("case_cell", lang),
            html.Span(st.cell, className="cell-id"),
            " " + (area_name(cell, lang) if cell else ""),
        ),
        *fact(t("case_community", lang), area_name(community, lang) if community else "–"),
        *fact(t("case_subdistrict", lang), area_name(sub, lang) if sub else "–"),
        *fact(
            t("case_priority", lang),
            html.Span(t(f"priority_{st.priority}", lang), className=f"badge {st.priority}"),
        ),
        *fact(t("case_now", lang), html.Span(now_words(st, lang), id=ids.CASE_NOW, className="case-now")),
        *fact(t("case_department", lang), dept_short(st.department, lang) or "–"),
        *fact(
            t("case_deadline", lang),
            when(st.deadline, tz) if st.open and st.deadline else "–",
            html.Br(),
            html.Span(id=ids.CASE_LATE, className="case-late"),
        ),
        *fact(t("case_reported_at", lang), when(st.reported_ts or None, tz)),
        *fact(t("case_source", lang), st.source or "–"),
        *fact(t("case_loops", lang), f"{st.returns} / {st.escalations} / {st.reopens}"),
    ]
    return html.Section(
        [
            html.Div(t("case_facts", lang), className="panel-title"),
            html.Dl(rows, id=ids.CASE_FACTS, className="facts"),
        ],
        className="panel",
    )


def timeline_table(st: CaseState, lang: Lang, tz: ZoneInfo, now: int) -> html.Section:
    """Every step, in order, with the time each stage took against its SLA."""
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
    for row in timeline(st, now):
        if not row.applied:
            stage_cell: Any = html.Span(t("case_held", lang), className="muted")
        elif row.stage is not None and row.spent_ms is not None and row.limit_ms is not None:
            spent = duration(row.spent_ms, lang)
            stage_cell = [
                "→ ",
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
                    html.Td(when(row.ts, tz), className="time", **nav.data(ts=str(row.ts))),
                    html.Td(t(f"step_{row.step}", lang), className="step"),
                    html.Td(dept_short(row.department, lang) or "–", className="dept"),
                    html.Td(actor_cell(row.actor, lang), className="who"),
                    html.Td(stage_cell, className="stage"),
                    html.Td(row.note, className="note"),  # text child: never HTML
                ],
                className=" ".join(classes),
                **nav.data(step=row.step),
            )
        )
    return html.Section(
        [
            html.Div(t("case_timeline", lang), className="panel-title"),
            html.Table([head, html.Tbody(body)], id=ids.CASE_TIMELINE, className="timeline"),
        ],
        className="panel timeline-panel",
    )


def photos(st: CaseState, lang: Lang, media_hosts: list[str] | None = None) -> list[Any]:
    """The report's photos: a same-origin thumbnail (``/media``) for a host of ``web.media_hosts``; a link
    opening in a new tab for any other http(s) URL (the operator's browser fetches nothing from it unless
    the person opens it); plain text otherwise."""
    hosts = ctx().cfg.web.media_hosts if media_hosts is None else media_hosts
    items: list[Any] = []
    for url in st.photos:
        if safe_photo_url(url) and proxied(url.strip(), hosts):
            src = media_src(url.strip())
            items.append(
                html.A(
                    [html.Img(src=src, alt="", className="thumb"), html.Span(url, className="photo-url")],
                    href=src,
                    target="_blank",
                    rel="noopener noreferrer",
                    className="photo",
                )
            )
        elif safe_photo_url(url):
            items.append(
                html.A(
                    html.Span(url, className="photo-url"),
                    href=url,
                    target="_blank",
                    rel="noopener noreferrer",
                    className="photo photo-link",
                )
            )
        else:
            items.append(html.Span(url, className="photo-text"))
    return items or [html.Span(t("case_none", lang), className="muted")]


def location(st: CaseState) -> tuple[float, float, bool]:
    """Where the case is: its own point when it has one, else its cell's inner point (lon, lat, own)."""
    if st.lon is not None and st.lat is not None:
        return st.lon, st.lat, True
    cell = ctx().geo.cells.get(st.cell)
    if cell is not None:
        return cell.centroid[0], cell.centroid[1], False
    d = ctx().geo.district.centroid
    return d[0], d[1], False


def cameras(lon: float, lat: float, lang: Lang) -> tuple[html.Section, list[Any]]:
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
        name = camera_name(cam, lang, ctx().geo)
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
                **nav.data(camera=cam.id),
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
            [
                html.Div(t("case_cameras", lang), className="panel-title"),
                html.Div(content, id=ids.CASE_CAMERAS),
            ],
            className="panel",
        ),
        markers,
    )


def case_map(
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
        ids.CASE_MAP,
        (min(xs), min(ys), max(xs), max(ys)),
        c_.cfg.web,
        zoom=15,
        padding=24,
        zoom_snap=0.25,
        center=(lat, lon),
    )
