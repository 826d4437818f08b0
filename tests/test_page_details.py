"""Issue 14, item 9: the smaller points, each against the real thing where it can fail there.

Pure: who acted on a case and a camera's English name (dashboard/domain/actors.py), the case's one
current status, screen dates that are never d/m numbers, every CSV's as-of line, dates with the year and
escaped formula cells, the overview's tables as CSV and partial case numbers in the search (real Redis).
In a real Chromium against the running app: the case page (reported time, names not ids, English with no
Chinese in the cameras and the timeline), `<html lang>` on every page, the live and as-of marks turning
stale when the server stops, the overview's CSV links, the phone header's language link.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import redis
from selenium.webdriver.common.by import By

from dashboard.config import AppConfig
from dashboard.domain.actors import Actors, camera_name, has_cjk
from dashboard.domain.catalogue import default_catalogue
from dashboard.domain.export import stamp
from dashboard.domain.registry import Camera, default_registry
from dashboard.domain.roster import default_roster
from dashboard.queries import exports, search
from dashboard.store import keys
from dashboard.store.cases import CaseState
from layouts import ids, nav
from layouts.panels.case import now_words
from layouts.panels.tables import Grid, to_csv
from tests.conftest import App, http_get, wait_for

TZ = ZoneInfo("Asia/Shanghai")
MIN = 60_000
CJK = re.compile(r"[\u4e00-\u9fff]")
T0 = int(datetime(2026, 12, 7, 14, 5, tzinfo=TZ).timestamp() * 1000)


@pytest.fixture(scope="module")
def geo() -> Any:
    return AppConfig().geography.load()


@pytest.fixture(scope="module")
def actors(geo: Any) -> Actors:
    return Actors(geo, default_roster(), default_catalogue(), default_registry().cameras)


# --------------------------------------------------------------------------- pure


@pytest.mark.parametrize(
    ("raw", "zh", "en"),
    [
        ("GW-ZM-0001-1", "张军", "Zhang Jun"),  # the cell's first worker in the roster
        ("GW-0001", "张军", "Zhang Jun"),  # a roster id
        ("12345", "12345 热线", "12345 hotline"),
        ("祖庙街道智慧社会治理中心", "祖庙街道智慧社会治理中心", "Zumiao Social Governance Centre"),
        ("区智慧社会治理中心", "区智慧社会治理中心", "District Social Governance Centre"),
        ("塔坡社区居委会", "塔坡社区居委会", "Tapo Community Residents' Committee"),
        ("祖庙派出所", "祖庙派出所", "Zumiao Police Station"),
        ("城管执法局", "城管执法局", "Urban Mgmt"),
        ("网格员 陈", "网格员 陈", "网格员 陈"),  # a person's own text stays as written
        (None, "–", "–"),
    ],
)
def test_actors_are_named_not_ids(actors: Actors, raw: str | None, zh: str, en: str) -> None:
    assert actors.words(raw, "zh-CN").name == zh
    assert actors.words(raw, "en").name == en


def test_every_simulated_actor_has_an_english_name(actors: Actors, geo: Any) -> None:
    cam = next(iter(default_registry().cameras))
    for raw in (cam, "GW-SW-0039-2", "南庄镇人民政府", "朝安社区居委会", "石湾派出所", "视频巡查"):
        assert not has_cjk(actors.words(raw, "en").name), raw
    assert actors.words(cam, "en").ref == cam  # the id stays at hand (the tooltip)


def test_a_camera_with_a_chinese_english_name_gets_one_from_its_cell(geo: Any) -> None:
    cam = Camera("CAM-00042", "塔坡社区 道路监控", "塔坡社区 道路监控", 113.11, 23.03, "ZM-0001", "road")
    name = camera_name(cam, "en", geo)
    assert not CJK.search(name) and name == f"{geo.cells['ZM-0001'].name_en} Road Camera 42"
    assert camera_name(cam, "zh-CN", geo) == "塔坡社区 道路监控"


def test_a_case_has_one_current_status_in_the_lifecycles_words() -> None:
    st = CaseState(
        cell="ZM-0001", step="dispatched", ts=T0, open=True, department="urban_mgmt", stage="handle"
    )
    assert now_words(st, "zh-CN") == "处置中（分拨至 城管执法局）"
    assert now_words(st, "en") == "Handle (dispatched to Urban Mgmt)"
    over = CaseState(cell="ZM-0001", step="closed", ts=T0, open=False)
    assert now_words(over, "zh-CN") == "已办结（结案）" and now_words(over, "en") == "Over (closed)"


def test_screen_dates_carry_the_year_when_it_is_not_this_one() -> None:
    now = T0
    last_year = int(datetime(2025, 11, 28, 14, 5, tzinfo=TZ).timestamp() * 1000)
    assert nav.when(T0, "zh-CN", TZ, now) == "12月7日 14:05" and nav.when(T0, "en", TZ, now) == "7 Dec 14:05"
    assert nav.when(last_year, "zh-CN", TZ, now) == "2025年11月28日 14:05"
    assert nav.when(last_year, "en", TZ, now) == "28 Nov 2025 14:05"
    for lang in ("zh-CN", "en"):
        assert not re.search(r"\d+/\d+", nav.when(last_year, lang, TZ, now))  # type: ignore[arg-type]


def parse_csv(text: str) -> list[list[str]]:
    """A served CSV's rows (after its byte-order mark)."""
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def check_asof(rows: list[list[str]], label: str) -> datetime:
    """The first line: the label and an ISO 8601 time with its UTC offset."""
    assert rows[0][0] == label
    at = datetime.fromisoformat(rows[0][1])
    assert at.utcoffset() is not None and re.fullmatch(r".*[+-]\d\d:\d\d", rows[0][1])
    return at


def test_an_area_table_csv_has_its_asof_line_full_dates_and_no_formulas() -> None:
    g = Grid(["Case", "Due"])
    g.add("=HYPERLINK(1)", ["=HYPERLINK(1)", nav.when(T0, "en", TZ, T0)], full={1: stamp(T0, TZ)})
    g.add("x", ["@SUM(A1)", "-"])
    rows = parse_csv(to_csv(g.data(), "As of", "2026-12-07T14:05:09+08:00"))
    check_asof(rows, "As of")
    assert rows[2] == ["Case", "Due"]
    assert rows[3] == ["'=HYPERLINK(1)", "2026-12-07 14:05"]  # the screen's "7 Dec 14:05" with its year
    assert rows[4] == ["'@SUM(A1)", "'-"]
    assert g.rows[0][1] == "7 Dec 14:05"  # the screen keeps its short form


# --------------------------------------------------------------------------- real Redis


def put_case(r: redis.Redis, case_id: str, reported: int, **kw: Any) -> CaseState:
    """A case in the read models as the processor writes it (index and by time)."""
    st = CaseState(cell="ZM-0001", step="dispatched", ts=reported, open=True, reported_ts=reported, **kw)
    r.hset(keys.CASE_INDEX, case_id, st.to_json())
    r.zadd(keys.CASES_BY_TIME, {case_id: reported})
    return st


def test_search_finds_a_case_by_part_of_its_number(r: redis.Redis, geo: Any, monkeypatch: Any) -> None:
    put_case(r, "SIM-20261207-004502", T0)
    for i in range(30):  # newer cases: the one sought is not among the newest few
        put_case(r, f"SIM-20261208-{i:06d}", T0 + (i + 1) * MIN)
    assert [h["id"] for h in search.search(geo, r, "004502")] == ["SIM-20261207-004502"]
    assert [h["id"] for h in search.search(geo, r, "sim-20261207-0045")] == ["SIM-20261207-004502"]
    assert search.search(geo, r, "4502")[0]["id"] == "SIM-20261207-004502"
    assert not [h for h in search.search(geo, r, "502") if h["kind"] == "case"]  # under 4: no part search
    # beyond the newest ones looked at in order, Redis matches the older ids itself (bounded ZSCAN)
    monkeypatch.setattr(search, "CASE_SCAN", 10)
    monkeypatch.setattr(search, "CASE_CHUNK", 5)
    assert [h["id"] for h in search.search(geo, r, "04502")] == ["SIM-20261207-004502"]
    assert [h["id"] for h in search.search(geo, r, "-000003")] == ["SIM-20261208-000003"]


def test_the_overviews_tables_as_csv(r: redis.Redis, geo: Any) -> None:
    now = datetime.now(TZ)
    now_ms = int(now.timestamp() * 1000)
    due = now_ms - 90 * MIN
    put_case(r, "T-OD-1", due - 60 * MIN, event_type="=cmd|' /C calc'!A0", priority="urgent", stage="handle",
             department="urban_mgmt", deadline=due, overdue=True)  # fmt: skip
    r.zadd(keys.OVERDUE, {"T-OD-1": due})
    r.zadd(keys.OVERDUE_URGENT, {"T-OD-1": due})
    r.hset(keys.OPEN, mapping={"dept:urban_mgmt:handle": 1, "subdistrict:ZM:handle": 1})
    r.hset(keys.OVERDUE_N, mapping={"dept:urban_mgmt": 1, "subdistrict:ZM": 1})
    r.hset(keys.CELL_OPEN, "ZM-0001", 1)
    for lang, yes in (("zh-CN", "是"), ("en", "yes")):
        rows = parse_csv(exports.table_csv(r, geo, "overdue", lang, TZ, now))  # type: ignore[arg-type]
        check_asof(rows, "数据截至" if lang == "zh-CN" else "As of")
        row = dict(zip(rows[2], rows[3], strict=True))
        assert row[rows[2][0]] == "T-OD-1" and row[rows[2][1]] == yes
        assert row[rows[2][2]] == stamp(due, TZ) and re.fullmatch(
            r"\d{4}-\d\d-\d\d \d\d:\d\d", row[rows[2][2]]
        )
        assert row[rows[2][4]] == "90"  # minutes late
        assert row[rows[2][5]].startswith("'=")  # a formula from the outside world is escaped
    league = parse_csv(exports.table_csv(r, geo, "league", "en", TZ, now))
    check_asof(league, "As of")
    assert league[3][:5] == ["1", "Urban Mgmt", "urban_mgmt", "1", "1"]
    subs = parse_csv(exports.table_csv(r, geo, "subdistricts", "en", TZ, now))
    zm = next(row for row in subs[3:] if row[1] == "ZM")
    assert zm[2:4] == ["1", "1"] and len(subs) == 3 + len(geo.subdistricts)


# --------------------------------------------------------------------------- in a real browser


@pytest.fixture(scope="module")
def app() -> Iterator[App]:
    """The whole system without the simulator (stopped by the last test)."""
    d = Path(tempfile.mkdtemp(prefix="cbd-"))
    a = App(d, "--no-simulator").start()
    yield a
    if a.proc is not None and a.proc.poll() is None:
        a.stop()
    shutil.rmtree(d, ignore_errors=True)


def js(browser: Any, script: str) -> Any:
    return browser.execute_script(script)


def test_the_case_page_names_people_and_says_where_the_case_stands(app: App, browser: Any) -> None:
    now = int(time.time() * 1000)
    case = "T-DETAIL-1"
    reported = now - 50 * MIN
    cam = next(iter(default_registry().cameras))
    # the registration arrives first: the page must still show the report's own time for "reported"
    app.write_case_event(case, 1, "registered", now - 40 * MIN, actor="祖庙街道智慧社会治理中心")
    app.write_case_event(case, 0, "reported", reported, actor="GW-ZM-0001-1", lon=113.112, lat=23.0389)
    app.write_case_event(
        case, 2, "dispatched", now - 30 * MIN, department="urban_mgmt", actor="祖庙街道智慧社会治理中心"
    )
    app.write_case_event(case, 3, "handled", now - 20 * MIN, department="urban_mgmt", actor=cam)
    app.write_case_event(case, 4, "feedback", now - 10 * MIN, department="urban_mgmt", actor="城管执法局")
    r = app.client()
    wait_for(lambda: '"feedback"' in (r.hget(keys.CASE_INDEX, case) or ""), 20, what="the case processed")
    st = CaseState.from_json(r.hget(keys.CASE_INDEX, case) or "")
    assert st.reported_ts == reported

    for lang in ("zh-CN", "en"):
        browser.get(f"{app.url}/case/{case}?lang={lang}")
        wait_for(lambda: len(browser.find_elements(By.CSS_SELECTOR, "#case-timeline tbody tr")) == 5, 20)
        assert js(browser, "return document.documentElement.lang") == lang
        first = browser.find_element(By.CSS_SELECTOR, "#case-timeline tr[data-step=reported] td.time")
        assert first.get_attribute("data-ts") == str(reported) and first.text == stamp(
            reported, TZ, seconds=True
        )
        facts = browser.find_element(By.ID, ids.CASE_FACTS).text
        assert stamp(reported, TZ, seconds=True) in facts
        who = [td.text for td in browser.find_elements(By.CSS_SELECTOR, "#case-timeline td.who")]
        assert not any(x in " ".join(who) for x in ("GW-ZM-0001-1", cam))  # names, not ids
        tips = [
            e.get_attribute("title") for e in browser.find_elements(By.CSS_SELECTOR, "#case-timeline .actor")
        ]
        assert "GW-ZM-0001-1" in tips and cam in tips  # the ids as tooltips
        now_text = browser.find_element(By.ID, ids.CASE_NOW).text
        if lang == "zh-CN":
            assert who[0] == "张军" and now_text == "核查中（城管执法局 已反馈）"
            assert "当前状态" not in facts  # one current status, not a state and a stage
        else:
            assert who[0] == "Zhang Jun" and now_text == "Verify (feedback from Urban Mgmt)"
            cameras = browser.find_element(By.ID, ids.CASE_CAMERAS).text
            assert not CJK.search(" ".join(who)) and not CJK.search(cameras)
            body = browser.find_element(By.ID, ids.CASE_BODY).text
            assert not CJK.search(body.replace("中文", "")), CJK.findall(body)


def test_every_page_sets_html_lang(app: App, browser: Any) -> None:
    for path in ("/", "/alerts", "/subdistrict/ZM", "/community/ZM-C01", "/cell/ZM-0001", "/case/NO-SUCH"):
        for lang in ("zh-CN", "en"):
            browser.get(f"{app.url}{path}?lang={lang}")
            shown = wait_for(lambda: js(browser, "return document.documentElement.lang"), 20, what=path)
            assert shown == lang, (path, shown)
    # a language remembered in the browser, on a page opened without ?lang=
    js(browser, "localStorage.setItem('citybrain.lang', 'en')")
    browser.get(f"{app.url}/cell/ZM-0001")
    wait_for(
        lambda: js(browser, "return document.documentElement.lang") == "en",
        20,
        what="the remembered language",
    )
    js(browser, "localStorage.removeItem('citybrain.lang')")


def test_the_cell_page_names_its_cameras_in_english(app: App, browser: Any) -> None:
    browser.get(f"{app.url}/cell/ZM-0001?lang=en")
    table = wait_for(
        lambda: js(browser, f"return document.getElementById('{ids.CELL_CAMERAS}').textContent"),
        20,
        what="cameras",
    )
    assert "Camera" in table and not CJK.search(table)


def test_the_overview_links_its_tables_as_csv(app: App, browser: Any) -> None:
    browser.get(f"{app.url}/?lang=en")
    for table in exports.TABLES:
        link = wait_for(lambda t=table: browser.find_element(By.ID, ids.WALL_EXPORT.format(t)), 20)
        href = link.get_attribute("href")
        assert href == f"{app.url}/ui/export/{table}.csv?lang=en" and link.is_displayed()
        status, body = http_get(href)
        assert status == 200
        check_asof(parse_csv(body), "As of")
    assert http_get(f"{app.url}/ui/export/nothing.csv")[0] == 404
    browser.get(f"{app.url}/wall?lang=en")  # nothing to click on the unattended wall
    link = wait_for(lambda: browser.find_element(By.ID, ids.WALL_EXPORT.format("league")), 20)
    assert not link.is_displayed()


def test_the_phone_header_keeps_the_language_link_on_screen(app: App, browser: Any) -> None:
    browser.set_window_size(390, 844)
    try:
        browser.get(f"{app.url}/?lang=zh-CN")
        link = wait_for(lambda: browser.find_element(By.ID, nav.LANG_SWITCH), 20)
        box = js(
            browser,
            "var r = document.getElementById('lang-switch').getBoundingClientRect();"
            "return [r.left, r.right];",
        )
        width = js(browser, "return document.documentElement.clientWidth")
        assert link.is_displayed() and box[0] >= 0 and box[1] <= width, (box, width)
    finally:
        browser.set_window_size(1920, 1080)


def marks(browser: Any) -> list[str]:
    """The live mark's class, and the as-of mark's class, state and text."""
    got: list[str] = browser.execute_script(
        "var c = document.getElementById(arguments[0]), a = document.getElementById(arguments[1]);"
        "return [c.className, a.className, a.getAttribute('data-state'), a.textContent];",
        ids.CONNECTION,
        ids.ASOF,
    )
    return got


def test_the_live_and_asof_marks_turn_stale_when_the_server_stops(app: App, browser: Any) -> None:
    for path in ("/cell/ZM-0001?lang=en", "/case/T-DETAIL-1?lang=zh-CN"):
        browser.get(f"{app.url}{path}")
        wait_for(lambda: "conn-ok" in marks(browser)[0] and marks(browser)[3], 20, what=f"{path} live")
        m = marks(browser)
        assert m[1] == "asof" and m[2] == "ok" and re.fullmatch(r"(As of|数据截至) \d\d:\d\d:\d\d", m[3]), m
    app.stop()  # the server goes away; the page (the case page, last opened) stays as it was
    lost = wait_for(
        lambda: "conn-lost" in marks(browser)[0] and marks(browser), 30, what="the connection lost"
    )
    assert lost[1] == "asof stale" and lost[2] == "lost" and "连接中断" in lost[3], lost
