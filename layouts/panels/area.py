"""The drill-down pages' panels: the health score and its parts, the KPI tiles, the trend figure, and
the tables (children worst first, active alerts, a cell's open cases and alert history), each a ``Grid``
whose rows the CSV export writes as shown."""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from dashboard.alerts.levels import LEVEL_BY_KEY, LEVELS
from dashboard.domain.export import stamp
from dashboard.domain.geo import Area
from dashboard.domain.i18n import Lang, t
from dashboard.domain.lifecycle import STAGES
from dashboard.web.context import ctx
from layouts import ids, nav
from layouts.alerts_page import rule_title
from layouts.look import PLOT_LAYOUT
from layouts.names import area_name, type_name
from layouts.panels.tables import Grid

LEVEL_ORDER = [lv.key for lv in reversed(LEVELS)]  # red first


def level_name(key: str, lang: Lang) -> str:
    """A warning level's name."""
    lv = LEVEL_BY_KEY.get(key)
    return (lv.name_en if lang == "en" else lv.label_zh) if lv else key


def area_label(area_id: str | None, lang: Lang) -> str:
    """An area's id and name ("–" for none, the id when unknown)."""
    if not area_id:
        return "–"
    try:
        return f"{area_id} {area_name(ctx().geo.area(area_id), lang)}"
    except KeyError:
        return area_id


def panel(title: str, content: Any, cls: str = "", export: str | None = None, lang: Lang = "zh-CN") -> Any:
    """A titled panel; with ``export`` a CSV button and its download in the title line."""
    title_kids: list[Any] = [html.Span(title)]
    if export is not None:
        title_kids.append(
            html.Button(
                t("export_csv", lang), id=ids.AREA_EXPORT.format(export), n_clicks=0, className="export-btn"
            )
        )
    return html.Section(
        [html.Div(title_kids, className="panel-title"), content], className=f"panel area-panel {cls}".strip()
    )


def health_badge(h: dict[str, Any], lang: Lang) -> html.Div:
    """The health score: the number in its colour, the parts in the title (hover)."""
    parts = h.get("parts") or {}
    lost = [f"{t('hp_' + p, lang)} −{n}" for p, n in parts.items() if n]
    tip = f"{t('health_title', lang)} {h.get('score', '–')}/100" + (
        " · " + ", ".join(lost) if lost else " · " + t("health_no_loss", lang)
    )
    return html.Div(
        [
            html.Div(str(h.get("score", "–")), className="health-value", style={"color": h.get("colour")}),
            html.Div(t("health_title", lang), className="health-label"),
        ],
        id=ids.AREA_HEALTH,
        className=f"health-score band-{h.get('band', 'none')}",
        title=tip,
        **nav.data(score=str(h.get("score", "")), band=str(h.get("band", ""))),
    )


def health_parts(h: dict[str, Any], lang: Lang) -> html.Div:
    """The points lost per part, written out (the cell view)."""
    parts = h.get("parts") or {}
    return html.Div(
        [
            html.Div(
                [html.Span(t("hp_" + p, lang)), html.B(f"−{parts[p]}" if parts.get(p) else "0")],
                className="hp-row" + (" lost" if parts.get(p) else ""),
                **nav.data(part=p),
            )
            for p in ("load", "overdue", "alerts", "devices", "freshness")
        ],
        id=ids.CELL_HEALTH,
        className="health-parts",
    )


def _tile(key: str, value: str, label: str, cls: str = "") -> html.Div:
    """One KPI tile: its value (id ``area-kpi-<key>``) and label."""
    return html.Div(
        [
            html.Div(value, id=ids.AREA_KPI.format(key), className="kpi-value"),
            html.Div(label, className="kpi-label"),
        ],
        className=f"kpi {cls}".strip(),
    )


def _stage_chips(stages: dict[str, int], lang: Lang) -> html.Div:
    """Open cases now, one chip per stage."""
    return html.Div(
        [
            html.Div(
                [html.Span(t(f"stage_{st}", lang)), html.B(nav.num(stages.get(st, 0), lang))],
                className="stage-chip",
                id=ids.AREA_KPI.format(f"stage-{st}"),
            )
            for st in STAGES
        ],
        className="kpi stages",
        title=t("kpi_open_by_stage", lang),
    )


def _alert_chips(alerts: dict[str, int], lang: Lang) -> html.Div:
    """Active alerts, one chip per level (red first)."""
    return html.Div(
        [
            html.Span(
                [html.I(), html.B(nav.num(alerts.get(lv, 0), lang))],
                className=f"alert-chip level-{lv}",
                id=ids.AREA_KPI.format(f"alerts-{lv}"),
                title=level_name(lv, lang),
            )
            for lv in LEVEL_ORDER
        ],
        className="kpi alerts",
        title=t("alerts_title", lang),
    )


def kpi_tiles(k: dict[str, Any], rng: str, lang: Lang) -> html.Div:
    """The KPI tiles: cases over the range, open now by stage, devices, alerts by level."""
    rl = t(f"ap_range_{rng}", lang)
    online, known = nav.num(k.get("cameras_online"), lang), nav.num(k.get("cameras"), lang)
    cams = f"{t('kpi_cameras_online', lang)} ({online}/{known})"
    alarms = f"{t('kpi_sensor_alarms', lang)} ({nav.num(k.get('sensors'), lang)})"
    return html.Div(
        [
            health_badge(k.get("health") or {}, lang),
            _tile("reported", nav.num(k.get("reported"), lang), f"{t('kpi_reported', lang)} · {rl}"),
            _tile("closed", nav.num(k.get("closed"), lang), f"{t('kpi_closed', lang)} · {rl}"),
            _tile("returned", nav.num(k.get("returned"), lang), f"{t('kpi_returned', lang)} · {rl}"),
            _tile("ontime", nav.pct(k.get("ontime_rate"), lang), f"{t('kpi_ontime', lang)} · {rl}"),
            _tile("median", nav.minutes(k.get("median_handle_min"), lang), f"{t('kpi_median', lang)} · {rl}"),
            _tile("open", nav.num(k.get("open"), lang), t("kpi_open", lang)),
            _tile(
                "overdue",
                nav.num(k.get("overdue"), lang),
                t("kpi_overdue", lang),
                "bad" * bool(k.get("overdue")),
            ),
            _tile("cameras", nav.pct(k.get("cameras_online_rate"), lang), cams),
            _tile(
                "sensor-alarms",
                nav.num(k.get("sensor_alarms"), lang),
                alarms,
                "bad" * bool(k.get("sensor_alarms")),
            ),
            _stage_chips(k.get("open_by_stage") or {}, lang),
            _alert_chips(k.get("alerts") or {}, lang),
        ],
        id=ids.AREA_KPIS,
        className="area-kpis",
    )


def trend_figure(tr: dict[str, Any], lang: Lang) -> dict[str, Any]:
    """Reported (bars) and closed (line) per hour or per day, oldest first."""
    hourly = tr.get("unit") == "hour"
    x = []
    for key in tr.get("x") or []:
        s = str(key)
        if hourly:
            x.append(t("hour_tick", lang).format(h=s[8:10]))
        else:
            x.append(f"{int(s[4:6])}月{int(s[6:8])}日" if lang == "zh-CN" else f"{int(s[6:8])}/{int(s[4:6])}")
    rep, clo = t("trend_reported", lang), t("trend_closed", lang)
    step = max(1, len(x) // 8)  # about eight labels on the axis
    return {
        "data": [
            {
                "type": "bar",
                "name": rep,
                "x": x,
                "y": tr.get("reported") or [],
                "marker": {"color": "#39c6f4"},
                "opacity": 0.85,
                "hovertemplate": "%{x} %{y}<extra>" + rep + "</extra>",
            },
            {
                "type": "scatter",
                "mode": "lines",
                "name": clo,
                "x": x,
                "y": tr.get("closed") or [],
                "line": {"color": "#3ddc84", "width": 2.5},
                "hovertemplate": "%{x} %{y}<extra>" + clo + "</extra>",
            },
        ],
        "layout": {
            **PLOT_LAYOUT,
            "bargap": 0.25,
            "margin": {"l": 40, "r": 8, "t": 26, "b": 28},
            "legend": {**PLOT_LAYOUT["legend"], "orientation": "h", "x": 1, "xanchor": "right", "y": 1.2},
            "xaxis": {**PLOT_LAYOUT["xaxis"], "type": "category", "tickmode": "array", "tickvals": x[::step]},
            "yaxis": {**PLOT_LAYOUT["yaxis"], "rangemode": "tozero"},
            "uirevision": "area",
        },
    }


def children_grid(rows: list[dict[str, Any]], lang: Lang) -> Grid:
    """The child areas, worst first."""
    g = Grid(
        [
            t(k, lang)
            for k in (
                "col_rank",
                "col_area",
                "col_id",
                "col_health",
                "col_open",
                "col_overdue",
                "col_alerts",
                "col_cameras",
            )
        ],
        link_col=1,
        num_cols=(0, 3, 4, 5, 6, 7),
    )
    for i, ch in enumerate(rows, 1):
        name = ch["name_en"] if lang == "en" else ch["name_zh"]
        g.add(
            ch["id"],
            [
                str(i),
                name,
                ch["id"],
                str(ch["health"]),
                nav.num(ch.get("open"), lang),
                nav.num(ch.get("overdue"), lang),
                nav.num(ch.get("alerts"), lang),
                nav.pct(ch.get("cameras_online_rate"), lang),
            ],
            nav.area_href(ch["level"], ch["id"], lang),
        )
    return g


def alerts_grid(rows: list[dict[str, Any]], lang: Lang) -> Grid:
    """The active alerts in or under the area, red first."""
    tz = ctx().tz
    g = Grid([t(k, lang) for k in ("ap_level", "ap_rule", "ap_area", "col_since", "ap_status")], link_col=-1)
    for a in rows:
        title = (a.get("title_en") if lang == "en" else a.get("title_zh")) or rule_title(a["rule"], lang)
        since = a.get("fired") or a.get("started")
        g.add(
            a["id"],
            [
                level_name(a["level"], lang),
                title,
                area_label(a.get("area"), lang),
                nav.when(since, lang, tz),
                t(f"alert_{a['status']}", lang),
            ],
            cls=f"level-{a['level']}",
            full={3: stamp(since, tz) if since else "–"},
        )
    return g


def cases_grid(by_stage: dict[str, list[dict[str, Any]]], lang: Lang) -> Grid:
    """The cell's open cases by stage (stage order), each a link to its page."""
    tz = ctx().tz
    g = Grid(
        [t(k, lang) for k in ("col_case", "case_stage", "case_event_type", "case_priority", "case_deadline")],
        link_col=0,
    )
    for st in STAGES:
        for row in by_stage.get(st, []):
            late = bool(row.get("overdue"))
            suffix = f" · {t('case_stage_late', lang)}" if late else ""
            due = row.get("deadline")
            g.add(
                row["case"],
                [
                    row["case"],
                    t(f"stage_{st}", lang),
                    type_name(str(row.get("type") or ""), lang),
                    t(f"priority_{row.get('priority') or 'normal'}", lang),
                    nav.when(due, lang, tz) + suffix,
                ],
                nav.with_lang(f"/case/{row['case']}", lang),
                "late" if late else "",
                {4: (stamp(due, tz) if due else "–") + suffix},
            )
    return g


def history_grid(rows: list[dict[str, Any]], lang: Lang) -> Grid:
    """The cell's alert transitions, newest first."""
    tz = ctx().tz
    g = Grid(
        [t(k, lang) for k in ("case_col_time", "ap_level", "ap_rule", "col_change", "ap_actor")], link_col=-1
    )
    for i, tr in enumerate(rows):
        g.add(
            f"{tr.get('instance', '')}#{i}",
            [
                nav.when(tr.get("ts"), lang, tz),
                level_name(tr.get("level", ""), lang),
                rule_title(str(tr.get("rule", "")), lang),
                f"{status_word(tr.get('from_status'), lang)} → {status_word(tr.get('to_status'), lang)}",
                t("ap_engine", lang) if tr.get("actor") == "engine" else str(tr.get("actor") or "–"),
            ],
            cls=f"level-{tr.get('level', '')}",
            full={0: stamp(tr.get("ts"), tz) if tr.get("ts") else "–"},
        )
    return g


STATUS_WORDS = frozenset({"normal", "firing", "acknowledged", "silenced", "pending", "resolved"})


def status_word(status: str | None, lang: Lang) -> str:
    """An alert status in words (the key itself when it has none)."""
    return t(f"alert_{status}", lang) if status in STATUS_WORDS else str(status or "–")


# --------------------------------------------------------------------------- the page's head


def breadcrumbs(area: Area, lang: Lang) -> html.Nav:
    """District › subdistrict › community › cell: every level above is a link up."""
    geo = ctx().geo
    chain = [*geo.ancestors(area.id), area]
    items: list[Any] = []
    for i, a in enumerate(chain):
        if i:
            items.append(html.Span("›", className="crumb-sep"))
        name = t("district", lang) if a.level == "district" else area_name(a, lang)
        if a is area:
            items.append(html.Span(name, className="crumb current", **nav.data(area=a.id)))
        else:
            items.append(dcc.Link(name, href=nav.area_href(a.level, a.id, lang), className="crumb"))
    return html.Nav(items, id=ids.AREA_BREADCRUMBS, className="breadcrumbs")


def header(lang: Lang, crumbs: Any, title: Any, live: bool = True) -> html.Header:
    """Breadcrumbs and title on the left; the live and as-of marks (a live page), search and language on
    the right."""
    marks = [nav.live_mark(lang)] if live else []
    return html.Header(
        [
            html.Div([crumbs, title], className="area-heading"),
            html.Div([*marks, nav.search_box(lang), nav.lang_switch(lang)], className="area-tools"),
        ],
        className="area-header",
    )


def not_found(level: str, area_id: str, lang: Lang) -> html.Div:
    """The clear "no such area" page, with a way back to the district."""
    return html.Div(
        [
            html.H1(t("area_not_found_title", lang)),
            html.P(t("area_not_found_text", lang).format(level=t(f"level_{level}", lang), id=area_id)),
            html.A(t("area_back", lang), href=nav.with_lang("/", lang), className="back"),
        ],
        id=ids.AREA_NOT_FOUND,
        className="area-not-found",
    )


def title(area: Area, lang: Lang) -> html.H1:
    """The area's name, level and id."""
    return html.H1(
        [
            html.Span(area_name(area, lang), className="area-name"),
            html.Span(t(f"level_{area.level}", lang), className="area-level"),
            html.Span(area.id, className="area-id"),
        ],
        id=ids.AREA_TITLE,
    )
