"""The page ``/alerts``: past warnings from the alert history, filtered, with each one's transitions.

The rows come from ``dashboard.queries.alerts.history`` (the function behind ``GET /api/v1/alerts/history``,
bounded to ``LIMIT`` transitions), grouped into one row per alert instance and episode. Clicking a row
shows every transition of it as text. Everything from data is a text child, never HTML.
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime, timedelta
from typing import Any

import dash
from dash import ALL, Input, Output, State, dcc, html

from dashboard.alerts.levels import LEVEL_BY_KEY, LEVELS
from dashboard.domain.i18n import Lang, t
from dashboard.queries import alerts as queries
from dashboard.web.context import ctx, request_lang
from layouts import nav

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
LIMIT = 1000  # transitions read per view (the API's own bound)
RANGES = ("today", "7d", "30d")


@functools.cache
def _titles() -> dict[str, tuple[str, str]]:
    """Rule name → (Chinese title, English title), from the configured (or shipped) rule set."""
    rules: Any = ctx().cfg.alerts.rules
    if rules is None:
        try:
            from dashboard.alerts.rules import default_rules

            rules = default_rules()
        except Exception as err:  # titles are cosmetic: the rule name stands in
            log.warning("default rules unreadable (%s)", err)
            rules = []
    return {
        str(getattr(r, "name", "")): (str(getattr(r, "title_zh", "")), str(getattr(r, "title_en", "")))
        for r in rules
    }


def rule_title(rule: str, lang: str) -> str:
    """A rule's title in the language (its name when it has none)."""
    zh, en = _titles().get(rule, ("", ""))
    return (en or zh if lang == "en" else zh or en) or rule


def since_ms(rng: str, now: datetime) -> int:
    """The start of a time range (local ``now``): today's midnight, 7 or 30 days back."""
    if rng == "today":
        start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    else:
        start = now - timedelta(days=30 if rng == "30d" else 7)
    return int(start.timestamp() * 1000)


def group(transitions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One summary per alert instance and episode, newest first (``transitions`` newest first)."""
    out: dict[str, dict[str, Any]] = {}
    for tr in reversed(transitions):  # oldest first
        key = f"{tr['instance']}|{tr['episode']}"
        g = out.get(key)
        if g is None:
            g = out[key] = {
                "key": key,
                "instance": tr["instance"],
                "rule": tr["rule"],
                "area": (tr.get("areas") or [None])[0],
                "first": tr["ts"],
                "fired": None,
                "level": tr["level"],
                "status": tr["to_status"],
                "acked_by": None,
                "last": tr["ts"],
            }
        if tr["to_status"] == "firing" and g["fired"] is None:
            g["fired"] = tr["ts"]
        if tr["to_status"] == "acknowledged" and tr.get("actor"):
            g["acked_by"] = tr["actor"]
        g["level"], g["status"], g["last"] = tr["level"], tr["to_status"], tr["ts"]
    return sorted(out.values(), key=lambda g: -g["last"])


def _when(ts: int | None) -> str:
    """Local date and time of an epoch-ms time."""
    if ts is None:
        return "–"
    return datetime.fromtimestamp(ts / 1000, ctx().tz).strftime("%Y-%m-%d %H:%M:%S")


def _level_name(key: str, lang: str) -> str:
    lv = LEVEL_BY_KEY.get(key)
    return (lv.name_en if lang == "en" else lv.label_zh) if lv else key


def _query(level: str | None, rule: str | None, area: str | None, rng: str) -> list[dict[str, Any]]:
    """The history transitions matching the filters (bounded)."""
    c = ctx()
    items, _more = queries.history(
        c.redis,
        level=level if level in LEVEL_BY_KEY else None,
        rule=(rule or "").strip() or None,
        area=(area or "").strip() or None,
        since=since_ms(rng if rng in RANGES else "7d", datetime.now(c.tz)),
        limit=LIMIT,
    )
    return items


def table(rows: list[dict[str, Any]], lang: Lang) -> Any:
    """The alerts as a table: one clickable row each."""
    if not rows:
        return html.Div(t("alerts_page_none", lang), className="muted")
    head = html.Tr(
        [
            html.Th(t(k, lang))
            for k in ("ap_level", "ap_rule", "ap_area", "ap_fired", "ap_status", "ap_acked_by")
        ]
    )
    body = [
        html.Tr(
            [
                html.Td(_level_name(g["level"], lang), className="ap-level"),
                html.Td(rule_title(g["rule"], lang)),
                html.Td(g["area"] or "–"),
                html.Td(_when(g["fired"] or g["first"])),
                html.Td(t(f"alert_{g['status']}", lang) if g["status"] != "normal" else g["status"]),
                html.Td(g["acked_by"] or "–"),
            ],
            id={"type": ROW, "index": g["key"]},
            n_clicks=0,
            className=f"alerts-row level-{g['level']}",
            **{"data-alert": g["instance"], "data-level": g["level"]},
        )
        for g in rows
    ]
    return html.Table([html.Thead(head), html.Tbody(body)], className="alerts-table")


def transitions_text(key: str, lang: Lang, rng: str) -> list[Any]:
    """Every transition of one alert instance and episode, oldest first, as lines of text."""
    instance, _, episode = key.rpartition("|")
    rule = instance.split(":", 1)[0]
    items = [
        tr
        for tr in _query(None, rule, None, rng)
        if tr["instance"] == instance and str(tr["episode"]) == episode
    ]
    lines: list[Any] = [html.Div(f"{instance} #{episode}", className="ap-tr-title")]
    for tr in reversed(items):
        value = "" if tr.get("value") is None else f" · {t('ap_value', lang)} {tr['value']}"
        note = f" · {tr['note']}" if tr.get("note") else ""
        lines.append(
            html.Div(
                f"{_when(tr['ts'])}  {tr['from_status']} → {tr['to_status']} ({tr['level']})"
                f" · {tr['reason']}{value} · {t('ap_actor', lang)} {tr['actor']}{note}",
                className=f"ap-tr to-{tr['to_status']}",
            )
        )
    return lines


def layout(lang: str | None = None, **_: Any) -> html.Div:
    """The page: filters, the table, the chosen alert's transitions."""
    c = ctx()
    lang_: Lang = request_lang(c.cfg.locale, lang)
    levels = [{"label": t("ap_all", lang_), "value": ""}] + [
        {"label": _level_name(lv.key, lang_), "value": lv.key} for lv in reversed(LEVELS)
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
    Input(FILTER_LEVEL, "value"),
    Input(FILTER_RULE, "value"),
    Input(FILTER_AREA, "value"),
    Input(RANGE, "value"),
    State(META, "data"),
)
def refresh(level: str | None, rule: str | None, area: str | None, rng: str, meta: dict[str, Any]) -> Any:
    """Re-read the history with the filters."""
    lang: Lang = meta["lang"]
    return table(group(_query(level or None, rule, area, rng)), lang), []


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
