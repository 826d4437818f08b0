"""The alert history in words, for the page ``/alerts`` and its CSV export, in zh-CN or en.

The history stream holds transitions (``dashboard.queries.alerts.history``); here they become episodes,
one per alert instance and episode: its peak level, when it started, fired and ended, how long it was
firing, who acknowledged or silenced it and why. Each transition is told as a sentence built from its
fields (statuses, levels, actor, note, the silence's end), never the engine's English reason or an epoch
time. Dates are unambiguous in both languages: ``2026-12-07 14:05``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dashboard.alerts.levels import LEVEL_BY_KEY, rank
from dashboard.domain.export import asof_iso, stamp
from dashboard.domain.export import csv_text as csv_document
from dashboard.domain.i18n import Lang, duration, t
from dashboard.queries import alerts as queries

log = logging.getLogger(__name__)

LIMIT = 1000  # transitions read per view (the API's own bound)
RANGES = ("today", "7d", "30d")
ENGINE = "engine"
_UNTIL_MS = re.compile(r" until (\d{12,14})$")  # a silence's end in the reason of older history entries


@dataclass(frozen=True)
class RuleInfo:
    """What the history needs of a rule: its titles and what its instances are about."""

    title_zh: str = ""
    title_en: str = ""
    type: str = ""
    per: str = ""

    def title(self, lang: Lang) -> str:
        """The title in the language (the other one when it has none)."""
        return (self.title_en or self.title_zh) if lang == "en" else (self.title_zh or self.title_en)

    @property
    def per_case(self) -> bool:
        """Its instances are cases (``<rule>:<case id>``)."""
        return self.type == "overdue" and self.per == "case"


def rule_infos(rules: Any) -> dict[str, RuleInfo]:
    """Rule name → ``RuleInfo`` of a rule set (``None``: the shipped defaults)."""
    if rules is None:
        try:
            from dashboard.alerts.rules import default_rules

            rules = default_rules()
        except Exception as err:  # titles are cosmetic: the rule name stands in
            log.warning("default rules unreadable (%s)", err)
            rules = []
    return {
        str(getattr(r, "name", "")): RuleInfo(
            str(getattr(r, "title_zh", "") or ""),
            str(getattr(r, "title_en", "") or ""),
            str(getattr(r, "type", "") or ""),
            str(getattr(r, "per", "") or ""),
        )
        for r in rules
    }


def rule_title(infos: Mapping[str, RuleInfo], rule: str, lang: Lang) -> str:
    """A rule's title in the language; its name when it has none."""
    info = infos.get(rule)
    return (info.title(lang) if info else "") or rule


@dataclass
class Episode:
    """One alert instance's episode, summed up from its transitions."""

    key: str  # "<instance>|<episode>"
    instance: str
    rule: str
    episode: int
    areas: tuple[str, ...]
    started: int
    last: int
    status: str  # the status after the last transition
    level: str  # the level after the last transition
    peak: str  # the highest level it reached
    fired: int | None = None
    ended: int | None = None  # resolved (or back to normal) and not re-opened since
    acked_by: str | None = None
    acked_at: int | None = None
    ack_note: str = ""
    silenced_by: str | None = None
    silenced_at: int | None = None
    silenced_until: int | None = None
    silence_reason: str = ""
    unsilenced_by: str | None = None
    unsilenced_at: int | None = None
    transitions: list[dict[str, Any]] = field(default_factory=list)  # oldest first

    @property
    def area(self) -> str | None:
        """The area it is about (the most specific one), if any."""
        return self.areas[0] if self.areas else None

    @property
    def key_part(self) -> str:
        """What the instance is about: the part of its id after the rule."""
        return self.instance.split(":", 1)[1] if ":" in self.instance else ""

    def firing_ms(self, now: int) -> int | None:
        """How long it was firing (so far, when it has not ended); None when it never fired."""
        if self.fired is None:
            return None
        return max(0, (self.ended if self.ended is not None else now) - self.fired)


def silence_until(tr: Mapping[str, Any]) -> int | None:
    """When a silence of this transition ends: its ``until``, or (older entries) read from its reason."""
    if tr.get("until"):
        return int(tr["until"])
    m = _UNTIL_MS.search(str(tr.get("reason") or ""))
    return int(m.group(1)) if m and tr.get("to_status") == "silenced" else None


def _is_unsilence(tr: Mapping[str, Any]) -> bool:
    """A person ended a silence (a person's other actions: an acknowledgement, firing → acknowledged, and
    a silence, which has an end)."""
    if (tr.get("actor") or ENGINE) == ENGINE or silence_until(tr) is not None:
        return False
    return not (tr.get("from_status") == "firing" and tr.get("to_status") == "acknowledged")


def episodes(transitions: list[dict[str, Any]]) -> list[Episode]:
    """One episode per alert instance and episode, the latest change first (``transitions``: newest first)."""
    out: dict[str, Episode] = {}
    for tr in reversed(transitions):  # oldest first
        key = f"{tr['instance']}|{tr['episode']}"
        ep = out.get(key)
        if ep is None:
            ep = out[key] = Episode(
                key=key, instance=tr["instance"], rule=tr["rule"], episode=int(tr["episode"]),
                areas=tuple(tr.get("areas") or ()), started=tr["ts"], last=tr["ts"], status=tr["to_status"],
                level=tr["level"], peak=tr["level"],
            )  # fmt: skip
        ep.transitions.append(dict(tr))
        to, actor = tr["to_status"], tr.get("actor") or ENGINE
        for lv in (tr.get("level"), tr.get("from_level")):
            if lv in LEVEL_BY_KEY and rank(lv) > rank(ep.peak):
                ep.peak = lv
        if to == "firing" and ep.fired is None:
            ep.fired = tr["ts"]
        if to in ("resolved", "normal"):
            ep.ended = tr["ts"] if ep.ended is None or to == "resolved" else ep.ended
        elif to in ("firing", "acknowledged", "silenced", "pending"):
            ep.ended = None
        if to == "acknowledged" and actor != ENGINE and tr.get("from_status") != "silenced":
            ep.acked_by, ep.acked_at, ep.ack_note = actor, tr["ts"], tr.get("note") or ""
        until = silence_until(tr)
        if until is not None and actor != ENGINE:
            ep.silenced_by, ep.silenced_at, ep.silenced_until = actor, tr["ts"], until
            ep.silence_reason = tr.get("note") or ""
            ep.unsilenced_by = ep.unsilenced_at = None
        elif _is_unsilence(tr):
            ep.unsilenced_by, ep.unsilenced_at = actor, tr["ts"]
        ep.status, ep.level, ep.last = to, tr["level"], tr["ts"]
        if not ep.areas and tr.get("areas"):
            ep.areas = tuple(tr["areas"])
    return sorted(out.values(), key=lambda e: (-e.last, e.key))


# --------------------------------------------------------------------------- times and words


def since_ms(rng: str, now: datetime) -> int:
    """The start of a time range (local ``now``): today's midnight, 7 or 30 days back."""
    if rng == "today":
        start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    else:
        start = now - timedelta(days=30 if rng == "30d" else 7)
    return int(start.timestamp() * 1000)


def level_name(key: str | None, lang: Lang) -> str:
    """A level's name: 橙色预警 / Severe (the key itself when unknown)."""
    lv = LEVEL_BY_KEY.get(key or "")
    if lv is None:
        return key or "–"
    return lv.label_zh if lang == "zh-CN" else lv.name_en


def status_name(status: str, lang: Lang) -> str:
    """A status in words: 待确认 / Firing."""
    try:
        return t(f"alert_{status}", lang)
    except KeyError:
        return status


def silence_words(who: str, at: int | None, until: int, why: str, lang: Lang, tz: ZoneInfo) -> str:
    """ "李四 已静音至 14:30（2小时）：原因" / "silenced by 李四 until 14:30 (for 2 h): why"."""
    # to the minute: the web process stamps the end, the engine the start, a few ms apart
    d = duration(round((until - at) / 60_000) * 60_000, lang) if at is not None else "–"
    key = "alert_silenced_why" if why else "alert_silenced_for"
    return t(key, lang).format(who=who, t=stamp(until, tz, at), d=d, why=why)


def ack_words(who: str, note: str, lang: Lang) -> str:
    """ "王值班 已确认：已派人" (without a note: "王值班 已确认")."""
    return (
        t("alert_acked_note", lang).format(who=who, note=note)
        if note
        else t("alert_acked_by", lang).format(who=who)
    )


def _with_note(text: str, note: str, lang: Lang) -> str:
    """A phrase and the person's note."""
    return (f"{text}：{note}" if lang == "zh-CN" else f"{text}: {note}") if note else text


def transition_words(tr: Mapping[str, Any], lang: Lang, tz: ZoneInfo) -> str:
    """What happened in one transition, in words (who, and their note)."""
    a, b, actor = tr.get("from_status"), tr.get("to_status"), tr.get("actor") or ENGINE
    note, reason = str(tr.get("note") or ""), str(tr.get("reason") or "")
    if actor != ENGINE:
        until = silence_until(tr)
        if until is not None:
            return silence_words(actor, tr["ts"], until, note, lang, tz)
        if _is_unsilence(tr):
            return _with_note(t("alert_unsilenced_by", lang).format(who=actor), note, lang)
        return ack_words(actor, note, lang)
    said: list[str] = []
    if reason == "rule removed or disabled":
        said.append(t("ap_w_retired", lang))
    elif a == "silenced" and b in ("firing", "acknowledged"):
        said.append(t("ap_w_silence_over", lang))
    elif b == "pending":
        said.append(t("ap_w_back" if a == "resolved" else "ap_w_pending", lang))
    elif b in ("firing", "acknowledged") and a == "pending":
        said.append(t("ap_w_reopened" if "re-opened" in reason else "ap_w_firing", lang))
    elif b == "resolved":
        said.append(t("ap_w_resolved", lang))
    elif b == "normal":
        said.append(t("ap_w_quiet" if a == "resolved" else "ap_w_blip", lang))
    lv, was = tr.get("level"), tr.get("from_level")
    if a != "normal" and lv in LEVEL_BY_KEY and was in LEVEL_BY_KEY and lv != was:
        key = "ap_w_up" if rank(lv) > rank(was) else "ap_w_down"
        said.append(t(key, lang).format(level=level_name(lv, lang)))
    return ("，" if lang == "zh-CN" else ", ").join(said)


def transition_line(tr: Mapping[str, Any], lang: Lang, tz: ZoneInfo) -> str:
    """One transition as a line: time, from → to (level), what happened, the value."""
    arrow = f"{status_name(str(tr['from_status']), lang)} → {status_name(str(tr['to_status']), lang)}"
    level = level_name(tr.get("level"), lang)
    head = f"{arrow}（{level}）" if lang == "zh-CN" else f"{arrow} ({level})"
    parts = [f"{stamp(tr['ts'], tz, seconds=True)}  {head}", transition_words(tr, lang, tz)]
    if tr.get("value") is not None:
        parts.append(f"{t('ap_value', lang)} {tr['value']:g}")
    return " · ".join(p for p in parts if p)


def duration_words(ep: Episode, lang: Lang, now: int) -> str:
    """How long it was firing: "预警持续 12分" / "firing for 12 min" (still on, or never fired)."""
    ms = ep.firing_ms(now)
    if ms is None:
        return t("ap_not_fired", lang).format(d=duration((ep.ended or ep.last) - ep.started, lang))
    key = "ap_lasted" if ep.ended is not None else "ap_ongoing"
    return t(key, lang).format(d=duration(ms, lang))


def state_words(ep: Episode, lang: Lang, tz: ZoneInfo) -> str:
    """The last status and since when: "已解除（2026-12-07 14:30）"."""
    return t("ap_state_at", lang).format(state=status_name(ep.status, lang), t=stamp(ep.last, tz))


def who_words(ep: Episode, lang: Lang, tz: ZoneInfo) -> list[str]:
    """Who took it and why: the acknowledgement with its note, the silence with its reason, its end."""
    out = []
    if ep.acked_by:
        out.append(ack_words(ep.acked_by, ep.ack_note, lang))
    if ep.silenced_by and ep.silenced_until is not None:
        out.append(
            silence_words(ep.silenced_by, ep.silenced_at, ep.silenced_until, ep.silence_reason, lang, tz)
        )
    if ep.unsilenced_by:
        out.append(t("alert_unsilenced_by", lang).format(who=ep.unsilenced_by))
    return out


# --------------------------------------------------------------------------- reading and exporting


@dataclass(frozen=True)
class Filters:
    """The history page's filters."""

    level: str | None = None  # episodes whose peak level is this
    rule: str | None = None
    area: str | None = None
    range: str = "7d"

    @classmethod
    def of(cls, level: Any, rule: Any, area: Any, rng: Any) -> Filters:
        """Filters from loose values (unknown ones ignored)."""
        return cls(
            level=level if level in LEVEL_BY_KEY else None,
            rule=str(rule or "").strip() or None,
            area=str(area or "").strip() or None,
            range=rng if rng in RANGES else "7d",
        )

    def words(self, lang: Lang) -> str:
        """The filters as one line: ``level=red; rule=flood; area=ZM; range=7d``."""
        parts = [f"{t('ap_level', lang)}={level_name(self.level, lang) if self.level else t('ap_all', lang)}"]
        if self.rule:
            parts.append(f"{t('ap_rule', lang)}={self.rule}")
        if self.area:
            parts.append(f"{t('ap_area', lang)}={self.area}")
        parts.append(f"{t('ap_csv_range', lang)}={t(f'ap_range_{self.range}', lang)}")
        return "; ".join(parts)


def read(client: Any, filters: Filters, tz: ZoneInfo, now: datetime) -> tuple[list[Episode], bool]:
    """The episodes matching the filters, the latest change first; and whether the read was cut short."""
    items, more = queries.history(
        client,
        rule=filters.rule,
        area=filters.area,
        since=since_ms(filters.range, now.astimezone(tz)),
        limit=LIMIT,
    )
    eps = episodes(items)
    if filters.level is not None:
        eps = [e for e in eps if e.peak == filters.level]
    return eps, more and len(items) >= LIMIT


def csv_text(
    eps: list[Episode],
    filters: Filters,
    lang: Lang,
    tz: ZoneInfo,
    now: datetime,
    infos: Mapping[str, RuleInfo],
    area_name: Callable[[str], str],
    cut_short: bool = False,
) -> str:
    """The episodes as CSV with a byte-order mark (Excel reads the Chinese): the as-of time (ISO 8601 with
    its offset) and the filters first, then a header and one row per episode; every time with its year."""
    now_ms = int(now.timestamp() * 1000)
    preamble: list[list[str]] = [[t("ap_csv_filters", lang), filters.words(lang)]]
    if cut_short:
        preamble.append([t("ap_csv_more", lang).format(n=LIMIT)])
    cols = (
        "ap_peak", "ap_col_alert", "ap_rule", "ap_area", "ap_col_area_name", "ap_case", "ap_started",
        "ap_col_fired", "ap_col_ended", "ap_col_minutes", "ap_status", "ap_acked_by", "ap_col_acked_at",
        "ap_col_ack_note", "ap_col_silenced_by", "ap_col_silenced_until", "ap_col_silence_reason",
    )  # fmt: skip
    rows = []
    for ep in eps:
        info = infos.get(ep.rule)
        firing = ep.firing_ms(now_ms)
        rows.append(
            [
                level_name(ep.peak, lang),
                ep.instance,
                rule_title(infos, ep.rule, lang),
                ep.area or "",
                area_name(ep.area) if ep.area else "",
                ep.key_part if info is not None and info.per_case else "",
                stamp(ep.started, tz),
                stamp(ep.fired, tz) if ep.fired else "",
                stamp(ep.ended, tz) if ep.ended else "",
                "" if firing is None else f"{firing / 60_000:.1f}",
                status_name(ep.status, lang),
                ep.acked_by or "",
                stamp(ep.acked_at, tz) if ep.acked_at else "",
                ep.ack_note,
                ep.silenced_by or "",
                stamp(ep.silenced_until, tz) if ep.silenced_until else "",
                ep.silence_reason,
            ]
        )
    return csv_document(t("ap_csv_asof", lang), asof_iso(now, tz), [t(k, lang) for k in cols], rows, preamble)
