"""What every page shares to find its way: the search box, the language switch, the map colour switch,
and numbers and dates in the page language.

The search answers on the server (``dashboard.queries.search.search``) as the text is typed; Enter or
a click on a hit goes there through the pages router (``dcc.Location``), so the browser's history keeps
each step.
The language is remembered per browser by assets/js/lang.js (``localStorage``); every link here carries
``?lang=`` so a page always shows the language it was asked for.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import dash
from dash import Input, Output, State, dcc, html

from dashboard.domain.i18n import Lang, duration, t
from dashboard.domain.types import epoch_ms
from dashboard.queries.search import search
from dashboard.web.context import ctx
from layouts import ids

# Element ids: the UI contract (docs/UI.md), defined in layouts/ids.py.
SEARCH = ids.SEARCH
SEARCH_HITS = ids.SEARCH_HITS
SEARCH_META = ids.SEARCH_META
LANG_SWITCH = ids.LANG_SWITCH
COLOUR_SWITCH = ids.COLOUR_SWITCH
LOCATION = ids.LOCATION

MODES = ("health", "open", "alerts")
SEARCH_MIN = 1
SEARCH_LIMIT = 8
HREF_LEVEL = {"subdistrict": "subdistrict", "community": "community", "cell": "cell"}


def data(**attrs: str) -> dict[str, Any]:
    """``data-*`` attributes for a component (``data(area="ZM")`` -> ``data-area="ZM"``)."""
    return {f"data-{k}": v for k, v in attrs.items()}


def with_lang(href: str, lang: Lang) -> str:
    """A same-site link that keeps the page language."""
    return f"{href}{'&' if '?' in href else '?'}lang={quote(lang)}"


def area_href(level: str, area_id: str, lang: Lang) -> str:
    """The page of an area: ``/`` for the district, ``/<level>/<id>`` below."""
    if level == "district":
        return with_lang("/", lang)
    return with_lang(f"/{level}/{quote(area_id, safe='')}", lang)


def case_href(case_id: str, lang: Lang) -> str:
    """The page of one case."""
    return with_lang(f"/case/{quote(case_id, safe='')}", lang)


def tab_title(case_id: str | None = None, area_id: str | None = None, **_: Any) -> str:
    """A page's browser tab title: the case or area it shows, then the product's name."""
    shown = case_id or area_id
    return f"{shown} · 城市大脑 City Brain" if shown else "城市大脑 · City Brain"


def lang_switch(lang: Lang) -> html.A:
    """The visible zh / en switch: a link to this page in the other language (remembered by lang.js)."""
    other = "en" if lang == "zh-CN" else "zh-CN"
    return html.A(
        t("lang_other", lang), href=f"?lang={other}", className="lang", id=LANG_SWITCH, **data(lang=other)
    )


LIVE_STRINGS = ("connected", "disconnected", "connecting", "asof_mark", "asof_stale")


def live_mark(lang: Lang) -> html.Div:
    """The connection mark (as the wall's: connecting / live / lost) and the as-of mark (when the page's
    data was last read; a stale warning while disconnected), both written by assets/js/livemark.js."""
    return html.Div(
        [
            html.Span(t("connecting", lang), id=ids.CONNECTION, className="conn conn-wait"),
            html.Span(id=ids.ASOF, className="asof"),
        ],
        className="live-mark",
    )


def live_strings(lang: Lang) -> dict[str, str]:
    """The strings the live mark needs, for a page's meta."""
    return {k: t(k, lang) for k in LIVE_STRINGS}


def search_box(lang: Lang) -> html.Div:
    """The search field with its list of hits (filled by the server as the text is typed)."""
    return html.Div(
        [
            dcc.Input(
                id=SEARCH,
                type="search",
                placeholder=t("search_placeholder", lang),
                debounce=False,
                autoComplete="off",
                maxLength=64,
                className="search-input",
            ),
            html.Div(id=SEARCH_HITS, className="search-hits", role="listbox"),
            dcc.Store(id=SEARCH_META, data={"lang": lang}),
        ],
        className="search",
    )


def colour_switch(lang: Lang, value: str = "health") -> dcc.RadioItems:
    """Colour the map's areas by health, open cases or active alerts."""
    return dcc.RadioItems(
        id=COLOUR_SWITCH,
        options=[{"label": t(f"mode_{m}", lang), "value": m} for m in MODES],
        value=value,
        inline=True,
        className="map-colour-switch",
    )


# --------------------------------------------------------------------------- formatting


def num(n: float | None, lang: Lang, digits: int = 0) -> str:
    """A number with thousands separators ("–" for none)."""
    if n is None:
        return "–"
    return f"{n:,.{digits}f}"


def pct(share: float | None, lang: Lang) -> str:
    """A share 0..1 as a percentage with one decimal ("–" for none)."""
    if share is None:
        return "–"
    return f"{100 * share:.1f}%"


def minutes(m: float | None, lang: Lang) -> str:
    """Minutes as a duration in the language ("–" for none)."""
    return "–" if m is None else duration(m * 60_000, lang)


def when(ts: int | None, lang: Lang, tz: ZoneInfo, now: int | None = None) -> str:
    """A local date and time for the screen: "11月28日 14:05" / "28 Nov 14:05" in the current year, with
    the year otherwise ("2025年11月28日 14:05" / "28 Nov 2025 14:05"); never a numeric d/m form. "–" for
    none. (CSV files write ``dashboard.domain.export.stamp``: 2026-11-28 14:05.)"""
    if not ts:
        return "–"
    d = datetime.fromtimestamp(ts / 1000, tz)
    this_year = datetime.fromtimestamp((now if now is not None else epoch_ms()) / 1000, tz).year
    year = d.year != this_year
    if lang == "zh-CN":
        return f"{f'{d.year}年' if year else ''}{d.month}月{d.day}日 {d:%H:%M}"
    return f"{d.day} {d:%b}{f' {d.year}' if year else ''} {d:%H:%M}"


# --------------------------------------------------------------------------- search


def hits(q: str | None, lang: Lang) -> list[dict[str, str]]:
    """Search hits for ``q``: each with its label and link in the page language."""
    q = (q or "").strip()
    if len(q) < SEARCH_MIN:
        return []
    c = ctx()
    out = []
    for h in search(c.geo, c.redis, q, SEARCH_LIMIT):
        name = h["name_en"] if lang == "en" else h["name_zh"]
        out.append({"kind": h["kind"], "id": h["id"], "name": name, "href": with_lang(h["href"], lang)})
    return out


def hit_list(found: list[dict[str, str]], q: str | None, lang: Lang) -> list[Any]:
    """The hits as links (the first is where Enter goes); a line saying nothing matched."""
    if not found:
        return [html.Div(t("search_none", lang), className="search-none")] if (q or "").strip() else []
    return [
        dcc.Link(
            [
                html.Span(t(f"kind_{h['kind']}", lang), className="search-kind"),
                html.Span(h["id"], className="search-id"),
                html.Span(h["name"], className="search-name"),
            ],
            href=h["href"],
            className=f"search-hit kind-{h['kind']}",
        )
        for h in found
    ]


# The search box (every page has one): hits as the text is typed; Enter goes to the first.
@dash.callback(
    Output(SEARCH_HITS, "children"),
    Input(SEARCH, "value"),
    State(SEARCH_META, "data"),
    prevent_initial_call=True,
)
def show_hits(q: str | None, meta: dict[str, Any]) -> list[Any]:
    """The hits for what is typed."""
    lang: Lang = meta["lang"]
    return hit_list(hits(q, lang), q, lang)


@dash.callback(
    Output(LOCATION, "href", allow_duplicate=True),
    Input(SEARCH, "n_submit"),
    State(SEARCH, "value"),
    State(SEARCH_META, "data"),
    prevent_initial_call=True,
)
def go(_n: int | None, q: str | None, meta: dict[str, Any]) -> Any:
    """Enter: go to the first hit (nothing when there is none)."""
    found = hits(q, meta["lang"])
    return found[0]["href"] if found else dash.no_update


WALL_COLOUR_SINK = ids.WALL_COLOUR_SINK  # the wall's colouring as applied (assets/js/wall.js)


def wall_colour_switch(lang: Lang) -> html.Div:
    """The wall's colour switch (open cases by default, as the legend), with the store its callback
    writes; the cells layer's hideout carries the choice (``mode``)."""
    return html.Div(
        [colour_switch(lang, "open"), dcc.Store(id=WALL_COLOUR_SINK)], className="wall-colour-switch"
    )
