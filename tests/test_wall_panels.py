"""End to end: the wall's case-lifecycle panels follow case events live (run.py without the simulator,
events posted to the HTTP API, a real headless Chromium): the closed-loop flow, the ticker, the overdue
list and the departments' league."""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By

from layouts import wall
from tests.conftest import App, http_post, wait_for

H_MS = 3_600_000
TOKEN = secrets.token_urlsafe(16)


@pytest.fixture(scope="module")
def app() -> Iterator[App]:
    """The whole system without the simulator: only the cases the tests write exist."""
    import shutil
    import tempfile

    d = Path(tempfile.mkdtemp(prefix="cbp-"))  # short: the Redis socket path must stay short
    os.environ["CB_TEST_TOKEN"] = TOKEN  # the app reads its ingest token from the environment
    cfg = d / "config.yaml"
    cfg.write_text("ingest:\n  tokens:\n    test: ${CB_TEST_TOKEN}\n")
    a = App(d, "--no-simulator", "--config", str(cfg)).start()
    yield a
    if a.proc is not None and a.proc.poll() is None:
        a.stop()
    shutil.rmtree(d, ignore_errors=True)


def write(app: App, case: str, k: int, step: str, ts: int, **kw: Any) -> None:
    """POST one case event (the k-th of ``case``) to the HTTP API, as a field app would."""
    body: dict[str, Any] = {"event_id": f"{case}-{k}", "case_id": case, "seq": k, "time": ts, "step": step,
                            "event_type": "CM-0101", "cell_id": "ZM-0001"}  # fmt: skip
    body.update(kw)
    status, answer = http_post(f"{app.url}/api/v1/case-events", body, TOKEN)
    assert status == 202, answer


def open_wall(app: App, browser: Any, lang: str = "zh-CN") -> None:
    """Load the wall and wait until it is live."""
    browser.get(f"{app.url}/?lang={lang}")
    wait_for(
        lambda: "conn-ok" in (browser.find_element(By.ID, wall.CONNECTION).get_attribute("class") or ""),
        30,
        what="Socket.IO connected",
    )
    wait_for(lambda: browser.find_elements(By.ID, "flow-open-registration"), 20, what="the flow panel")


def count(browser: Any, element_id: str) -> int:
    """An integer shown in an element (thousands separators ignored)."""
    text = browser.find_element(By.ID, element_id).text
    return int(re.sub(r"[^\d]", "", text) or 0)


def ticker_text(browser: Any, case: str) -> list[str]:
    """The ticker's lines about ``case``, newest first."""
    rows = browser.find_elements(By.CSS_SELECTOR, f"#{wall.TICKER} a[data-case='{case}']")
    return [r.text for r in rows]


def overdue_row(browser: Any, case: str) -> dict[str, Any] | None:
    """A case's row in the overdue list (link, text, late-by text); None when absent."""
    row: dict[str, Any] | None = browser.execute_script(
        """
        var a = document.querySelector('#' + arguments[0] + ' a[data-case="' + arguments[1] + '"]');
        return a ? {href: a.href, text: a.innerText, late: a.querySelector('.od-late').textContent} : null;
        """,
        wall.OVERDUE_LIST,
        case,
    )
    return row


def league_row(browser: Any, dept: str) -> dict[str, Any] | None:
    """A department's row in the league as texts, with its rank (0 = top); None when absent."""
    row: dict[str, Any] | None = browser.execute_script(
        """
        var rows = Array.from(document.querySelectorAll('#' + arguments[0] + ' tbody tr'));
        var i;
        for (i = 0; i < rows.length && rows[i].getAttribute('data-dept') !== arguments[1]; i++) {}
        if (i === rows.length) { return null; }
        var t = function (c) { return rows[i].querySelector('.' + c).textContent; };
        return {rank: i, dept: t('dept'), backlog: t('backlog'), overdue: t('overdue')};
        """,
        wall.LEAGUE,
        dept,
    )
    return row


def test_a_case_moves_through_the_flow_and_the_ticker(app: App, browser: Any) -> None:
    open_wall(app, browser)
    stages = ("registration", "dispatch", "handle")
    before = {s: count(browser, f"flow-open-{s}") for s in stages}
    now = int(time.time() * 1000)

    write(app, "T-FLOW-1", 0, "reported", now, actor="网格员")
    wait_for(
        lambda: count(browser, "flow-open-registration") == before["registration"] + 1, 20, what="+1 in 立案"
    )
    wait_for(lambda: ticker_text(browser, "T-FLOW-1"), 10, what="the report in the ticker")
    assert ticker_text(browser, "T-FLOW-1")[0].endswith("祖庙街道 ZM-0001: 占道经营 上报")

    write(app, "T-FLOW-1", 1, "registered", now + 1000)
    wait_for(lambda: count(browser, "flow-open-dispatch") == before["dispatch"] + 1, 20, what="+1 in 分拨")
    assert count(browser, "flow-open-registration") == before["registration"]

    write(app, "T-FLOW-1", 2, "dispatched", now + 2000, department="urban_mgmt")
    wait_for(lambda: count(browser, "flow-open-handle") == before["handle"] + 1, 20, what="+1 in 处置")
    assert count(browser, "flow-open-dispatch") == before["dispatch"]
    lines = wait_for(
        lambda: [t for t in ticker_text(browser, "T-FLOW-1") if "分拨至" in t], 10, what="dispatch"
    )
    assert lines[0].endswith("祖庙街道 ZM-0001: 占道经营 分拨至 城管执法局")
    # newest first: the dispatch line is above the report line
    assert [("分拨至" in t) for t in ticker_text(browser, "T-FLOW-1")] == [True, False, False]
    link = browser.find_element(By.CSS_SELECTOR, f"#{wall.TICKER} a[data-case='T-FLOW-1']")
    assert link.get_attribute("href") == f"{app.url}/case/T-FLOW-1?lang=zh-CN"
    assert browser.execute_script("return performance.getEntriesByType('navigation').length") == 1

    # the pushed "flow" event (every 30 s) brings the stage entries of the last hour
    wait_for(lambda: browser.find_element(By.ID, "flow-in-handle").text == "+1", 45, what="flow event")


def test_english_ticker_words(app: App, browser: Any) -> None:
    open_wall(app, browser, "en")
    now = int(time.time() * 1000)
    write(app, "T-EN-1", 0, "reported", now, cell_id="SW-0001")
    write(app, "T-EN-1", 1, "registered", now + 1000, cell_id="SW-0001")
    write(app, "T-EN-1", 2, "dispatched", now + 2000, cell_id="SW-0001", department="urban_mgmt")
    lines = wait_for(
        lambda: [t for t in ticker_text(browser, "T-EN-1") if "dispatched" in t], 20, what="English line"
    )
    assert lines[0].endswith("Shiwan SW-0001: Street vending on the road dispatched to Urban Mgmt")


def test_an_overdue_case_shows_in_the_list_and_the_league(app: App, browser: Any) -> None:
    open_wall(app, browser)
    now = int(time.time() * 1000)
    t0 = now - 25 * H_MS
    kw = {"event_type": "CM-0201", "cell_id": "ZC-0007"}
    write(app, "T-LATE-1", 0, "reported", t0, **kw)
    write(app, "T-LATE-1", 1, "registered", t0 + 60_000, **kw)
    # handling allows 24 h: dispatched 24 h and 20 s ago, the case is 20 s late when it arrives
    write(app, "T-LATE-1", 2, "dispatched", now - 24 * H_MS - 20_000, department="municipal", **kw)

    # (before the dispatch is applied the case is overdue in an earlier stage, without a department)
    row = wait_for(
        lambda: (r := overdue_row(browser, "T-LATE-1")) and "市政中心" in r["text"] and r,
        20,
        what="the dispatched case in the overdue list",
    )
    assert row["href"] == f"{app.url}/case/T-LATE-1?lang=zh-CN"
    assert "ZC-0007" in row["text"] and "暴露垃圾" in row["text"]
    assert re.fullmatch(r"(\d+分)?\d+秒", row["late"]), row["late"]
    # "late by" grows between updates, computed in the page from the deadline and the clock
    wait_for(lambda: overdue_row(browser, "T-LATE-1")["late"] != row["late"], 10, what="late-by ticking")

    row_ = wait_for(lambda: league_row(browser, "municipal"), 20, what="市政中心 in the league")
    assert row_["dept"] == "市政中心" and int(row_["backlog"]) >= 1
    wait_for(lambda: league_row(browser, "municipal")["overdue"] == "1", 10, what="overdue 1")
    # worst first: the only department with an overdue case heads the league
    assert league_row(browser, "municipal")["rank"] == 0

    # a row links to the case's own page
    browser.find_element(By.CSS_SELECTOR, f"#{wall.OVERDUE_LIST} a[data-case='T-LATE-1']").click()
    wait_for(lambda: "T-LATE-1" in browser.find_element(By.ID, "case-title").text, 20, what="the case page")


def test_cells_are_restyled_in_place_one_by_one(app: App, browser: Any) -> None:
    """A case in a cell restyles that cell's shape, and only it: the 478 shapes stay the same elements
    (no re-render of the layer), and the page's restyle counter moves by one."""
    open_wall(app, browser)
    wait_for(lambda: len(browser.find_elements(By.CSS_SELECTOR, "path.cell")) == 478, 30, what="478 cells")
    cell = "SW-0005"  # no other test writes there: its count goes 0 → 1, one colour step
    fill = f"path.cell-{cell}"
    assert (
        browser.execute_script("return document.querySelector(arguments[0]).getAttribute('fill')", fill)
        == (wall.COLORS[0])
    )
    before = browser.execute_script(
        "document.querySelectorAll('path.cell').forEach(function (p) { p.__kept = true; });"
        "return window.citybrain.cellRestyles || 0;"
    )
    write(app, "T-PAINT-1", 0, "reported", int(time.time() * 1000), cell_id=cell)
    wait_for(
        lambda: (
            browser.execute_script("return document.querySelector(arguments[0]).getAttribute('fill')", fill)
            == wall.COLORS[1]
        ),
        20,
        what=f"{cell} one colour up",
    )
    kept, after = browser.execute_script(
        "var ps = Array.from(document.querySelectorAll('path.cell'));"
        "return [ps.filter(function (p) { return p.__kept; }).length, window.citybrain.cellRestyles];"
    )
    assert kept == 478 and after - before == 1


def test_the_category_mix_counts_today(app: App, browser: Any) -> None:
    """The donut's total and its legend (text, one row per category) follow today's reports."""
    open_wall(app, browser)
    wait_for(
        lambda: count(browser, wall.CATEGORY_TOTAL) == count(browser, wall.KPI_REPORTED), 20, what="total"
    )
    before = count(browser, wall.CATEGORY_TOTAL)
    row = f"#{wall.CATEGORY_LEGEND} .cat-row[data-cat='city_management'] b"
    mine = int(re.sub(r"[^\d]", "", browser.find_element(By.CSS_SELECTOR, row).text))
    write(app, "T-CAT-1", 0, "reported", int(time.time() * 1000))
    wait_for(lambda: count(browser, wall.CATEGORY_TOTAL) == before + 1, 20, what="the total +1")
    wait_for(
        lambda: int(re.sub(r"[^\d]", "", browser.find_element(By.CSS_SELECTOR, row).text)) == mine + 1,
        10,
        what="its category's row +1",
    )
    assert count(browser, wall.KPI_REPORTED) == before + 1
    names = [e.text for e in browser.find_elements(By.CSS_SELECTOR, f"#{wall.CATEGORY_LEGEND} .cat-name")]
    assert "城市管理" in names and all(names)
