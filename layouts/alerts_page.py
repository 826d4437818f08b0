"""The page ``/alerts``: past warnings from the alert history, filtered, with each one's transitions.

The rows come from ``dashboard.queries.alerts.history`` (the function behind ``GET /api/v1/alerts/history``,
bounded to ``LIMIT`` transitions), grouped into one row per alert instance and episode. Clicking a row
shows every transition of it as text. Everything from data is a text child, never HTML.
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import dash
from dash import ALL, Input, Output, State, dcc, html

from dashboard.alerts.levels import LEVELS
from dashboard.domain.export import stamp
from dashboard.domain.i18n import Lang, t
from dashboard.domain.types import epoch_ms
from dashboard.queries import alert_history as history
from dashboard.web.context import ctx, request_lang
from layouts import nav
from layouts.names import area_name

log = logging.getLogger(__name__)

ROOT = "alerts-page"
FILTER_LEVEL = "alerts-filter-level"
FILTER_RULE = "alerts-filter-rule"
FILTER_AREA = "alerts-filter-area"
RANGE = "alerts-range"
TABLE = "alerts-table"
TRANSITIONS = "alerts-transitions"
ROW = "alerts-row"  # pattern-matching id {"type": ROW, "index": "<instance>|<episode>"}
META = "alerts-meta"
EXPORT = "alerts-export"
EXPORT_URL = "/ui/alerts/history.csv"
RANGES = history.RANGES


@functools.cache
def _infos() -> dict[str, history.RuleInfo]:
    """Rule name → its titles and what it is about, from the configured (or shipped) rule set."""
    return history.rule_infos(ctx().cfg.alerts.rules)


def rule_title(rule: str, lang: Lang) -> str:
    """A rule's title in the language (its name when it has none)."""
    return history.rule_title(_infos(), rule, lang)


def _filters(level: str | None, rule: str | None, area: str | None, rng: str | None) -> history.Filters:
    return history.Filters.of(level, rule, area, rng)


def _read(filters: history.Filters) -> list[history.Episode]:
    """The episodes matching the filters (bounded)."""
    c = ctx()
    eps, _cut = history.read(c.redis, filters, c.tz, datetime.now(c.tz))
    return eps


def export_href(filters: history.Filters, lang: Lang) -> str:
    """The CSV export of what the filters show (``GET /ui/alerts/history.csv``)."""
    args = {"level": filters.level or "", "rule": filters.rule or "", "area": filters.area or ""}
    return f"{EXPORT_URL}?{urlencode({**args, 'range': filters.range, 'lang': lang})}"


def where(ep: history.Episode, lang: Lang) -> Any:
    """The row's place: a link to its case (a rule per case) or to its area's page; text when unknown."""
    info = _infos().get(ep.rule)
    if info is not None and info.per_case and ep.key_part:
        return dcc.Link(ep.key_part, href=nav.case_href(ep.key_part, lang), className="ap-case")
    if not ep.area:
        return "–"
    try:
        area = ctx().geo.area(ep.area)
    except KeyError:
        return ep.area
    label = ep.area if area.level == "district" else f"{area.id} {area_name(area, lang)}"
    return dcc.Link(label, href=nav.area_href(area.level, area.id, lang), className="ap-area-link")


def table(rows: list[history.Episode], lang: Lang) -> Any:
    """The episodes as a table: one clickable row each."""
    if not rows:
        return html.Div(t("alerts_page_none", lang), className="muted")
    tz, now = ctx().tz, epoch_ms()
    cols = ("ap_peak", "ap_rule", "ap_area", "ap_started", "ap_duration", "ap_status", "ap_who")
    head = html.Tr([html.Th(t(k, lang)) for k in cols])
    body = [
        html.Tr(
            [
                html.Td(history.level_name(ep.peak, lang), className="ap-level"),
                html.Td(rule_title(ep.rule, lang), className="ap-rule"),
                html.Td(where(ep, lang), className="ap-where"),
                html.Td(stamp(ep.fired or ep.started, tz), className="ap-when"),
                html.Td(history.duration_words(ep, lang, now), className="ap-duration"),
                html.Td(history.state_words(ep, lang, tz), className="ap-state"),
                html.Td([html.Div(w) for w in history.who_words(ep, lang, tz)] or "–", className="ap-who"),
            ],
            id={"type": ROW, "index": ep.key},
            n_clicks=0,
            className=f"alerts-row level-{ep.peak}",
            **nav.data(alert=ep.instance, level=ep.peak, status=ep.status),
        )
        for ep in rows
    ]
    return html.Table([html.Thead(head), html.Tbody(body)], className="alerts-table")


def transitions_text(key: str, lang: Lang, rng: str) -> list[Any]:
    """Every transition of one alert instance and episode, oldest first, as lines of text."""
    instance, _, episode = key.rpartition("|")
    rule = instance.split(":", 1)[0]
    ep = next((e for e in _read(_filters(None, rule, None, rng)) if e.key == key), None)
    title = f"{rule_title(rule, lang)} · {instance} #{episode}"
    lines: list[Any] = [html.Div(title, className="ap-tr-title")]
    if ep is None:
        return lines
    tz = ctx().tz
    for tr in ep.transitions:
        detail = str(tr.get("reason") or "") if (tr.get("actor") or "engine") == "engine" else ""
        lines.append(
            html.Div(
                history.transition_line(tr, lang, tz),
                className=f"ap-tr to-{tr['to_status']}",
                title=t("ap_w_detail", lang).format(r=detail) if detail else None,
            )
        )
    return lines


def layout(lang: str | None = None, **_: Any) -> html.Div:
    """The page: filters, the table, the chosen alert's transitions."""
    c = ctx()
    lang_: Lang = request_lang(c.cfg.locale, lang)
    levels = [{"label": t("ap_all", lang_), "value": ""}] + [
        {"label": history.level_name(lv.key, lang_), "value": lv.key} for lv in reversed(LEVELS)
    ]
    filters = html.Div(
        [
            dcc.RadioItems(id=FILTER_LEVEL, options=levels, value="", inline=True, className="ap-levels"),
            dcc.Input(
                id=FILTER_RULE, type="text", placeholder=t("ap_rule", lang_), debounce=True, maxLength=48
            ),
            dcc.Input(
                id=FILTER_AREA, type="text", placeholder=t("ap_area", lang_), debounce=True, maxLength=48
            ),
            dcc.RadioItems(
                id=RANGE,
                options=[{"label": t(f"ap_range_{r}", lang_), "value": r} for r in RANGES],
                value="7d",
                inline=True,
                className="ap-range",
            ),
            html.A(
                t("export_csv", lang_),
                id=EXPORT,
                href=export_href(history.Filters(), lang_),
                className="ap-export",
                download="",
            ),
        ],
        className="alerts-filters",
    )
    return html.Div(
        [
            html.Header(
                [
                    html.A(f"← {t('case_back', lang_)}", href=f"/?lang={lang_}", className="back"),
                    html.Div(t("alerts_history", lang_), className="case-kicker"),
                    html.Div([nav.search_box(lang_), nav.lang_switch(lang_)], className="area-tools"),
                ],
                className="case-header",
            ),
            filters,
            html.Div(id=TABLE, className="alerts-table-wrap"),
            html.Div(id=TRANSITIONS, className="alerts-transitions"),
            dcc.Store(id=META, data={"lang": lang_}),
        ],
        className=f"alerts-page lang-{lang_}",
        id=ROOT,
        lang=lang_,
    )


@dash.callback(
    Output(TABLE, "children"),
    Output(TRANSITIONS, "children"),
    Output(EXPORT, "href"),
    Input(FILTER_LEVEL, "value"),
    Input(FILTER_RULE, "value"),
    Input(FILTER_AREA, "value"),
    Input(RANGE, "value"),
    State(META, "data"),
)
def refresh(level: str | None, rule: str | None, area: str | None, rng: str, meta: dict[str, Any]) -> Any:
    """Re-read the history with the filters; the export link follows them."""
    lang: Lang = meta["lang"]
    filters = _filters(level, rule, area, rng)
    return table(_read(filters), lang), [], export_href(filters, lang)


@dash.callback(
    Output(TRANSITIONS, "children", allow_duplicate=True),
    Input({"type": ROW, "index": ALL}, "n_clicks"),
    State(RANGE, "value"),
    State(META, "data"),
    prevent_initial_call=True,
)
def show(clicks: list[int | None], rng: str, meta: dict[str, Any]) -> Any:
    """The clicked alert's transitions."""
    trig = dash.ctx.triggered_id
    if not isinstance(trig, dict) or not any(clicks):
        return dash.no_update
    return transitions_text(str(trig["index"]), meta["lang"], rng)
