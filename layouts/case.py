"""One case, whole, at ``/case/<case_id>``: what it is, where, its timeline against the SLAs, the cell
on a small map and the cameras nearest to it.

The page reads the one case record (``dashboard.queries.cases``), never a scan. It stays live: a clientside
filter on the Socket.IO deltas asks the server to re-read the case when a delta mentions it. Notes and
every other field from the outside world are rendered as text children of components, never as HTML;
photos are links (thumbnails only for http(s) URLs).
"""

from __future__ import annotations

import logging
from typing import Any

import dash
import redis
from dash import ClientsideFunction, Input, Output, State, dcc, html

from dashboard.domain.i18n import Lang, bundle, t
from dashboard.domain.types import epoch_ms
from dashboard.queries.cases import read_case
from dashboard.web.context import ctx, request_lang
from layouts import ids, nav
from layouts.names import type_name
from layouts.panels import case as panels

log = logging.getLogger(__name__)

# Element ids: the UI contract (docs/UI.md), in layouts/ids.py; tests use these names.
ROOT = ids.CASE_ROOT
TITLE = ids.CASE_TITLE
FACTS = ids.CASE_FACTS
LATE = ids.CASE_LATE
DESCRIPTION = ids.CASE_DESCRIPTION
PHOTOS = ids.CASE_PHOTOS
TIMELINE = ids.CASE_TIMELINE
MAP = ids.CASE_MAP
CAMERAS = ids.CASE_CAMERAS
NOT_FOUND = ids.CASE_NOT_FOUND
BODY = ids.CASE_BODY
REFRESH = ids.CASE_REFRESH
META = ids.CASE_META
LIVE = ids.CASE_LIVE
TICK = ids.CASE_TICK


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


def body(case_id: str, lang: Lang) -> tuple[list[Any], dict[str, Any]] | None:
    """The page's content for one case and the live facts the page's clock needs; None: no such case."""
    c_ = ctx()
    try:
        st = read_case(c_.redis, case_id)
    except redis.RedisError as err:
        log.warning("case page: redis unavailable (%s)", err)
        return [html.Div(t("case_unavailable", lang), className="muted"), html.Span(id=LATE)], {}  # no as-of
    if st is None:
        return None
    now = epoch_ms()
    lon, lat, own = panels.location(st)
    cameras, markers = panels.cameras(lon, lat, lang)
    urgent = (
        html.Span(t("priority_urgent", lang), className="badge urgent") if st.priority == "urgent" else ""
    )
    title = html.H1(
        [
            html.Span(type_name(st.event_type, lang), className="case-type"),
            html.Span(case_id, className="case-id"),
            urgent,
            html.Span(
                (t(f"stage_{st.stage}", lang) if st.open and st.stage else t(f"step_{st.step}", lang))
                if st.valid
                else "–",
                className="badge state" + (" late" if st.overdue and st.open and not st.stale else ""),
                title=panels.now_words(st, lang),
            ),
            html.Span(t("case_stale", lang), className="badge stale") if st.open and st.stale else "",
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
            html.Div(panels.photos(st, lang), id=PHOTOS, className="photos"),
        ],
        className="panel",
    )
    content = [
        title,
        html.Div(
            [
                html.Div(
                    [panels.timeline_table(st, lang, c_.tz, now), description, cameras], className="case-main"
                ),
                html.Div(
                    [
                        panels.facts(st, lang, c_.tz),
                        html.Section(
                            [
                                html.Div(t("case_map", lang), className="panel-title"),
                                html.Div(
                                    panels.case_map(case_id, st, lon, lat, own, markers, lang),
                                    className="case-map-box",
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
    live = {"open": st.open, "deadline": st.deadline, "overdue": st.overdue, "asof": now}
    return content, live


def header(lang: Lang, live: bool) -> html.Header:
    """Back to the wall, the page's name; the live and as-of marks (a live page), search and language."""
    marks = [nav.live_mark(lang)] if live else []
    return html.Header(
        [
            html.A(f"← {t('case_back', lang)}", href=f"/?lang={lang}", className="back", id="case-back"),
            html.Div(t("case_page_title", lang), className="case-kicker"),
            html.Div([*marks, nav.search_box(lang), nav.lang_switch(lang)], className="area-tools"),
        ],
        className="case-header",
    )


def layout(case_id: str | None = None, lang: str | None = None, **_: Any) -> html.Div:
    """The case page (``case_id`` None: the page's frame, as Dash's callback validation sees it)."""
    c_ = ctx()
    lang_: Lang = request_lang(c_.cfg.locale, lang)
    if case_id is None:  # the frame only: every id a callback names
        content: list[Any] = [html.Span(id=LATE)]
        live: dict[str, Any] = {}
    else:
        found = body(case_id, lang_)
        if found is None:  # a static page: nothing to keep live
            return html.Div(
                [header(lang_, False), not_found(case_id, lang_)],
                className=f"case-page lang-{lang_}",
                id=ROOT,
                lang=lang_,
            )
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
            header(lang_, True),
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


# The page's clock and its live re-read: the JS asks (a pushed event is the case's), the server answers.
dash.clientside_callback(
    ClientsideFunction("citybrain", "caseInit"),
    Output(REFRESH, "data"),
    Input(META, "data"),
)
dash.clientside_callback(
    ClientsideFunction("citybrain", "caseClock"),
    Output(LATE, "children"),
    Output(LATE, "className"),
    Input(TICK, "n_intervals"),
    State(LIVE, "data"),
    State(META, "data"),
)


@dash.callback(
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
