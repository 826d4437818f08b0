"""The alert history in words (``dashboard.queries.alert_history``), pure: episodes with their peak level,
who took them and why, each transition told in the page's language without epoch times or status keys,
durations in words, and the CSV export (as-of line, filters, dates with their year, formula cells
escaped)."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dashboard.alerts.model import Transition
from dashboard.domain.export import safe_cell
from dashboard.domain.i18n import LANGS, Lang
from dashboard.queries import alert_history as ah

TZ = ZoneInfo("Asia/Shanghai")
T0 = int(datetime(2026, 12, 7, 14, 0, tzinfo=TZ).timestamp() * 1000)
MIN = 60_000
AREAS = ("SW-0056", "SW-C03", "SW", "440604")
STATUS_KEYS = re.compile(r"\b(normal|pending|firing|acknowledged|silenced|resolved|engine)\b")
EPOCH = re.compile(r"\d{12,}")


def tr(minute: int, a: str, b: str, level: str, **kw: Any) -> dict[str, Any]:
    """A transition as the history query returns it (``minute`` minutes after T0)."""
    kw.setdefault("reason", "water_level 0.42 m at SEN-0007 (>= 0.3)")
    t = Transition(T0 + minute * MIN, "flood:SEN-0007", "flood", 1, a, b, level, kw.pop("from_level", level),  # type: ignore[arg-type]
                   areas=AREAS, **kw)  # fmt: skip
    return t.public()


def storm() -> list[dict[str, Any]]:
    """One episode: fired yellow, orange at its peak, acknowledged with a note, silenced for 2 h with a
    reason, the silence ended by hand, back to yellow, resolved after 75 min; newest first."""
    until = T0 + 150 * MIN
    return list(
        reversed(
            [
                tr(0, "normal", "pending", "yellow", from_level=None),
                tr(5, "pending", "firing", "yellow", value=0.34),
                tr(
                    20,
                    "firing",
                    "firing",
                    "orange",
                    from_level="yellow",
                    reason="escalated to orange",
                    value=0.52,
                ),
                tr(
                    25,
                    "firing",
                    "acknowledged",
                    "orange",
                    actor="王值班",
                    note="已派人核查",
                    reason="acknowledged by 王值班",
                ),
                tr(
                    30,
                    "acknowledged",
                    "silenced",
                    "orange",
                    actor="李四",
                    note="泵车已到场",
                    until=until,
                    reason="silenced by 李四 until 2026-12-07T08:30:00Z",
                ),
                tr(
                    50,
                    "silenced",
                    "acknowledged",
                    "orange",
                    actor="张主任",
                    reason="silence by 李四 ended by 张主任",
                ),
                tr(
                    60,
                    "acknowledged",
                    "acknowledged",
                    "yellow",
                    from_level="orange",
                    reason="de-escalated to yellow",
                ),
                tr(80, "acknowledged", "resolved", "yellow", reason="condition cleared: water_level 0.1 m"),
            ]
        )
    )


def test_an_episode_keeps_its_peak_level_and_who_took_it_and_why() -> None:
    [ep] = ah.episodes(storm())
    assert (ep.peak, ep.level, ep.status) == ("orange", "yellow", "resolved")  # the peak, not the last
    assert (ep.started, ep.fired, ep.ended) == (T0, T0 + 5 * MIN, T0 + 80 * MIN)
    assert ep.firing_ms(T0 + 999 * MIN) == 75 * MIN
    assert (ep.acked_by, ep.ack_note) == ("王值班", "已派人核查")
    assert (ep.silenced_by, ep.silence_reason, ep.silenced_until) == ("李四", "泵车已到场", T0 + 150 * MIN)
    assert ep.unsilenced_by == "张主任"
    assert ep.area == "SW-0056" and ep.key == "flood:SEN-0007|1"
    assert ah.who_words(ep, "en", TZ) == [
        "acknowledged by 王值班: 已派人核查",
        "silenced by 李四 until 16:30 (for 2 h): 泵车已到场",
        "silence ended by 张主任",
    ]
    assert ah.who_words(ep, "zh-CN", TZ)[1] == "李四 已静音至 16:30（2小时）：泵车已到场"
    ep.silenced_at = (ep.silenced_at or 0) + 2  # stamped by the engine a few ms after the web process
    assert ah.who_words(ep, "en", TZ)[1] == "silenced by 李四 until 16:30 (for 2 h): 泵车已到场"
    assert ah.duration_words(ep, "en", T0) == "firing for 1 h 15 min"
    assert ah.duration_words(ep, "zh-CN", T0) == "预警持续 1小时15分"


def test_a_still_firing_episode_says_so_and_a_blip_never_fired() -> None:
    [ep] = ah.episodes(list(reversed(storm()[-2:])))  # pending, firing: still on
    assert ep.ended is None and ah.duration_words(ep, "en", T0 + 17 * MIN) == "firing for 12 min, still on"
    blip = [tr(3, "pending", "normal", "blue", reason="condition gone"), tr(0, "normal", "pending", "blue")]
    [ep] = ah.episodes(blip)
    assert ah.duration_words(ep, "en", T0) == "never fired (pending 3 min)"
    assert ah.transition_words(blip[0], "en", TZ) == "gone before it fired"


@pytest.mark.parametrize("lang", LANGS)
def test_every_transition_in_words_without_epoch_times_or_status_keys(lang: Lang) -> None:
    lines = [ah.transition_line(t, lang, TZ) for t in reversed(storm())]
    text = "\n".join(lines)
    assert not EPOCH.search(text), text
    if lang == "zh-CN":
        assert not STATUS_KEYS.search(text), text
        assert not re.search(r"[A-Za-z]{4,}", text.replace("flood", "")), text  # no English words
    assert lines[0].startswith("2026-12-07 14:00:00  ")
    words = {
        "zh-CN": [
            "正常 → 待定（黄色预警） · 条件出现",
            "升级为橙色预警",
            "王值班 已确认：已派人核查",
            "李四 已静音至 16:30（2小时）：泵车已到场",
            "张主任 解除静音",
            "降级为黄色预警",
            "条件解除",
        ],
        "en": [
            "Normal → Pending (Serious) · condition met",
            "escalated to Severe",
            "acknowledged by 王值班: 已派人核查",
            "silenced by 李四 until 16:30 (for 2 h): 泵车已到场",
            "silence ended by 张主任",
            "de-escalated to Serious",
            "condition cleared",
        ],
    }[lang]
    for w in words:
        assert w in text, (w, text)


def test_older_history_entries_read_the_silence_end_from_the_reason() -> None:
    old = tr(
        30,
        "firing",
        "silenced",
        "red",
        actor="李四",
        note="检修",
        reason=f"silenced by 李四 until {T0 + 90 * MIN}",
    )
    old.pop("until")
    assert ah.transition_words(old, "en", TZ) == "silenced by 李四 until 15:30 (for 1 h): 检修"
    [ep] = ah.episodes([old])
    assert ep.silenced_until == T0 + 90 * MIN


def test_stamps_are_unambiguous_and_carry_the_year() -> None:
    assert ah.stamp(T0, TZ) == "2026-12-07 14:00"
    assert ah.stamp(T0 + 5 * MIN, TZ, T0) == "14:05"
    assert ah.stamp(T0 + 12 * 60 * MIN, TZ, T0) == "2026-12-08 02:00"  # the next local day
    assert ah.stamp(None, TZ) == "–"


def _csv(lang: Lang, eps: list[ah.Episode], filters: ah.Filters) -> list[list[str]]:
    now = datetime.fromtimestamp((T0 + 100 * MIN) / 1000, TZ)
    infos = {"flood": ah.RuleInfo("积水超限", "Water over the limit", "threshold", "sensor")}
    text = ah.csv_text(eps, filters, lang, TZ, now, infos, lambda a: {"SW-0056": "石湾网格56"}.get(a, ""))
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_the_csv_states_its_time_and_filters_and_escapes_formulas() -> None:
    hostile = storm()
    hostile[4] = dict(hostile[4], note='=HYPERLINK("http://x")')  # the acknowledgement's note
    eps = ah.episodes(hostile)
    rows = _csv("en", eps, ah.Filters.of("orange", "flood", "SW", "30d"))
    assert rows[0] == ["As of", "2026-12-07T15:40:00+08:00"]
    assert rows[1] == ["Filters", "Level=Severe; Rule=flood; Area=SW; Range=30 days"]
    assert rows[2] == []
    head, row = rows[3], rows[4]
    got = dict(zip(head, row, strict=True))
    assert got["Peak level"] == "Severe" and got["Rule"] == "Water over the limit"
    assert got["Area"] == "SW-0056" and got["Area name"] == "石湾网格56"
    assert got["Started"] == "2026-12-07 14:00" and got["Ended"] == "2026-12-07 15:20"
    assert got["Minutes firing"] == "75.0" and got["Last state"] == "Resolved"
    assert got["Acknowledgement note"] == '\'=HYPERLINK("http://x")'  # a spreadsheet shows it as text
    assert got["Silenced until"] == "2026-12-07 16:30" and got["Silence reason"] == "泵车已到场"
    assert all(
        re.fullmatch(r"2026-\d\d-\d\d \d\d:\d\d", row[i])
        for i, h in enumerate(head)
        if row[i] and "2026" in row[i]
    )
    zh = _csv("zh-CN", eps, ah.Filters())
    assert zh[0][0] == "数据截至" and zh[1] == ["筛选条件", "等级=全部; 时间范围=7 天"]
    assert zh[3][0] == "最高等级" and zh[4][0] == "橙色预警"


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_formula_cells_are_escaped(cell: str) -> None:
    assert safe_cell(cell) == "'" + cell
    assert safe_cell("王值班") == "王值班" and safe_cell(None) == ""
