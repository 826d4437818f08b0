"""The command-wall mode (/wall): its URL and config parameters, and end to end in a real Chromium at
1920x1080 and 3840x2160: one screen without scrollbars, the same layout at double size in 4K, no
controls, a rotation through the subdistricts that moves the map and shows each one's live figures,
and a page that does not grow (DOM nodes, timers) while deltas arrive and the views turn."""

from __future__ import annotations

import itertools
import shutil
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dashboard.config import ConfigError, parse_config
from dashboard.domain.geo import load_default_geography
from dashboard.queries.snapshot import wall_path
from dashboard.store import keys
from dashboard.store.records import CaseEvent, encode
from layouts import ids, wall
from layouts import wallmode as wm
from tests.conftest import App, wait_for

GEO = load_default_geography()
SUBS = list(GEO.subdistricts)

# --------------------------------------------------------------------------- parameters


def test_rotate_parameter_is_whole_seconds_or_a_clear_error() -> None:
    assert wm.parse_rotate(None, 45, "en") == 45 and wm.parse_rotate("", 45, "en") == 45
    assert wm.parse_rotate("30", 0, "en") == 30 and wm.parse_rotate("0", 30, "en") == 0
    for bad in ("abc", "-1", "3601", "2.5"):
        with pytest.raises(ValueError, match=r"rotate: expected whole seconds from 0 to 3600.*got '"):
            wm.parse_rotate(bad, 0, "en")
    with pytest.raises(ValueError, match="rotate：应为"):
        wm.parse_rotate("x", 0, "zh-CN")


def test_views_default_to_every_subdistrict_and_unknown_ones_are_named() -> None:
    assert wm.views_of(GEO, None, "web.wall_views") == SUBS == ["ZM", "SW", "ZC", "NZ"]
    assert wm.views_of(GEO, ["NZ", "ZM", "NZ"], "views") == ["NZ", "ZM"]
    with pytest.raises(
        ValueError, match=r"web.wall_views: unknown subdistrict XX, YY \(known: ZM, SW, ZC, NZ\)"
    ):
        wm.views_of(GEO, ["ZM", "XX", "YY"], "web.wall_views")


def test_rotation_meta_has_the_district_first_and_bounds_inside_it() -> None:
    meta = wm.rotation_meta(GEO, "zh-CN", 30, ["SW", "NZ"])
    assert meta["rotate_s"] == 30
    assert [v["id"] for v in meta["views"]] == ["district", "SW", "NZ"]
    assert meta["views"][1]["name"] == "石湾镇街道"
    (s0, w0), (n0, e0) = meta["views"][0]["bounds"]
    for v in meta["views"][1:]:
        (s, w), (n, e) = v["bounds"]
        assert s0 <= s < n <= n0 and w0 <= w < e <= e0
        assert (n - s) * (e - w) < (n0 - s0) * (e0 - w0)


def test_config_keys_are_checked() -> None:
    cfg = parse_config({"web": {"wall_rotate_s": 20, "wall_views": ["ZM", "NZ"]}})
    assert cfg.web.wall_rotate_s == 20 and cfg.web.wall_views == ["ZM", "NZ"]
    assert parse_config({}).web.wall_rotate_s == 0 and parse_config({}).web.wall_views is None
    with pytest.raises(ConfigError, match=r"web.wall_rotate_s: Input should be greater than or equal to 0"):
        parse_config({"web": {"wall_rotate_s": -5}})
    with pytest.raises(ConfigError, match=r"web.wall_views: List should have at least 1 item"):
        parse_config({"web": {"wall_views": []}})
    with pytest.raises(ConfigError, match=r"web.wall_rotation: unknown key"):
        parse_config({"web": {"wall_rotation": 5}})


def test_the_wall_keeps_each_subdistricts_day_counts() -> None:
    day = ("days", "20261128")
    assert wall_path((*day, "by", "subdistrict", "ZM", "reported"))
    assert wall_path((*day, "by", "subdistrict", "NZ", "closed"))
    assert wall_path((*day, "n", "reported")) and wall_path((*day, "by", "dept", "urban_mgmt", "returned"))
    assert not wall_path((*day, "by", "cell", "ZM-0001", "reported"))
    assert not wall_path((*day, "by", "community", "ZM-C01", "reported"))


# --------------------------------------------------------------------------- in a real browser

# Counts live timers: every setInterval not yet cleared, every setTimeout neither run nor cleared.
TIMER_PROBE = """
(function () {
  var live = {}, si = window.setInterval, ci = window.clearInterval;
  var st = window.setTimeout, ct = window.clearTimeout;
  window.__timers = { intervals: 0, timeouts: 0 };
  function count() {
    var n = { intervals: 0, timeouts: 0 };
    Object.keys(live).forEach(function (k) { n[live[k]] += 1; });
    window.__timers = n;
  }
  window.setInterval = function () {
    var id = si.apply(window, arguments);
    live[id] = "intervals";
    count();
    return id;
  };
  window.clearInterval = function (id) { delete live[id]; count(); return ci.call(window, id); };
  window.setTimeout = function (fn) {
    var args = Array.prototype.slice.call(arguments), id;
    if (typeof fn === "function") {
      args[0] = function () { delete live[id]; count(); return fn.apply(this, arguments); };
    }
    id = st.apply(window, args);
    live[id] = "timeouts";
    count();
    return id;
  };
  window.clearTimeout = function (id) { delete live[id]; count(); return ct.call(window, id); };
})();
"""

# Layout facts of the page as it is now: overflow, scrollers, where the key elements are, what is on top.
LAYOUT = """
var de = document.documentElement;
var out = {iw: innerWidth, ih: innerHeight, sw: de.scrollWidth, sh: de.scrollHeight};
out.rem = parseFloat(getComputedStyle(de).fontSize);
out.scrollers = Array.from(document.querySelectorAll('*')).filter(function (e) {
  var s = getComputedStyle(e);
  return (/(auto|scroll)/.test(s.overflowY) && e.scrollHeight > e.clientHeight + 1) ||
    (/(auto|scroll)/.test(s.overflowX) && e.scrollWidth > e.clientWidth + 1);
}).map(function (e) { return e.id || e.className; });
function rect(el) { var b = el.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom]; }
function onTop(el) {
  var b = el.getBoundingClientRect();
  var hit = document.elementFromPoint((b.left + b.right) / 2, (b.top + b.bottom) / 2);
  return !!hit && (hit === el || el.contains(hit));
}
out.rects = {};
out.onTop = {};
arguments[0].forEach(function (id) {
  var el = document.getElementById(id), hidden = el.classList.contains('hidden');
  if (hidden) { el.classList.remove('hidden'); }  // the banner: where it shows when a warning fires
  out.rects[id] = rect(el);
  out.onTop[id] = onTop(el);
  if (hidden) { el.classList.add('hidden'); }
});
function shown(sel) {
  return Array.from(document.querySelectorAll(sel)).filter(function (e) { return e.offsetParent !== null; });
}
out.controls = shown('input, button, select, textarea')
  .map(function (e) { return e.outerHTML.slice(0, 80); });
out.rows = {alerts: shown('.alert-row').length, ticker: shown('.tick-row').length};
out.rows.overdue = shown('.od-row').length;
return out;
"""
KEY_IDS = [wall.MAP, wall.CLOCK, wall.ALERT_BANNER, wall.KPI_OPEN, wall.CONNECTION, wm.FOCUS, wm.FOCUS_NAME]
ON_TOP = [wall.CLOCK, wall.ALERT_BANNER, wall.KPI_OPEN, wm.FOCUS_NAME]


@pytest.fixture(scope="module")
def app() -> Iterator[App]:
    """The whole system without the simulator: the test writes every case."""
    d = Path(tempfile.mkdtemp(prefix="cbw-"))
    a = App(d, "--no-simulator").start()
    yield a
    if a.proc is not None and a.proc.poll() is None:
        a.stop()
    shutil.rmtree(d, ignore_errors=True)


def screen(browser: Any, width: int, height: int) -> None:
    """Make the page's viewport ``width`` x ``height`` CSS pixels (device scale 1)."""
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )


def open_wall(browser: Any, url: str) -> None:
    """Load /wall and wait for its cells and its rotation hook."""
    browser.set_script_timeout(120)
    browser.get(url)
    wait_for(
        lambda: browser.execute_script("return document.querySelectorAll('path.cell').length") == 478, 120
    )
    wait_for(lambda: browser.execute_script("return window.citybrain.wallmode.view().views") > 0, 60)


def view(browser: Any) -> dict[str, Any]:
    """The rotation's state as the page's test hook tells it, plus the card's text."""
    v: dict[str, Any] = browser.execute_script(
        "var v = window.citybrain.wallmode.view(), f = document.getElementById(arguments[0]);"
        "v.card = f.className; v.title = document.getElementById(arguments[1]).textContent; return v;",
        wm.FOCUS,
        wm.FOCUS_NAME,
    )
    return v


def text(browser: Any, element_id: str) -> str:
    """The text of one element."""
    return str(browser.execute_script("return document.getElementById(arguments[0]).textContent", element_id))


def inside(bounds: list[list[float]], box: list[list[float]], slack: float = 0.01) -> bool:
    """True when the centre of ``bounds`` lies in ``box`` (both [[south, west], [north, east]])."""
    (s, w), (n, e) = bounds
    (bs, bw), (bn, be) = box
    lat, lon = (s + n) / 2, (w + e) / 2
    return bs - slack <= lat <= bn + slack and bw - slack <= lon <= be + slack


def contains(bounds: list[list[float]], box: list[list[float]], slack: float = 0.002) -> bool:
    """True when ``box`` lies within ``bounds`` (both [[south, west], [north, east]])."""
    (s, w), (n, e) = bounds
    (bs, bw), (bn, be) = box
    return s - slack <= bs and w - slack <= bw and bn <= n + slack and be <= e + slack


def span(bounds: list[list[float]]) -> float:
    """The width in degrees of longitude of [[south, west], [north, east]]."""
    return bounds[1][1] - bounds[0][1]


def report(app: App, case: str, cell: str) -> None:
    """Append a new case's report to the input stream, as a feed would."""
    ev = CaseEvent(
        event_id=f"{case}-0",
        case_id=case,
        ts=int(time.time() * 1000),
        step="reported",
        event_type="CM-0101",
        category="city_management",
        cell_id=cell,
        source="test",
    )
    app.client().xadd(keys.STREAM_CASE_EVENTS, encode(ev))  # type: ignore[arg-type]


def check_fits(browser: Any, width: int, height: int) -> dict[str, Any]:
    """One screen: no scrollbar anywhere, every key element inside the viewport and on top, no controls."""
    got: dict[str, Any] = browser.execute_script(LAYOUT, KEY_IDS)
    assert (got["iw"], got["ih"]) == (width, height)
    assert got["sw"] <= got["iw"] and got["sh"] <= got["ih"], got
    assert got["scrollers"] == [], got["scrollers"]
    for element_id, (left, top, right, bottom) in got["rects"].items():
        assert 0 <= left < right <= width and 0 <= top < bottom <= height, (element_id, got["rects"])
    assert all(got["onTop"][k] for k in ON_TOP), got["onTop"]
    assert got["controls"] == [], got["controls"]
    assert got["rows"]["alerts"] <= 4 and got["rows"]["ticker"] <= 6 and got["rows"]["overdue"] <= 5
    return got


def test_one_screen_at_1080p_and_the_same_layout_doubled_at_4k(app: App, browser: Any) -> None:
    for k in range(8):  # the ticker and the counters have something to show
        report(app, f"FIT-{k}", f"ZM-{k + 1:04d}")
    screen(browser, 1920, 1080)
    open_wall(browser, app.url + "/wall?rotate=0&lang=en")
    wait_for(lambda: text(browser, wall.KPI_OPEN) == "8", 60, what="the 8 cases on the wall")
    browser.execute_script("window.citybrain.wallmode.step()")  # the card over the map, named
    wait_for(lambda: view(browser)["title"] == "Zumiao Subdistrict", 30, what="the card")
    small = check_fits(browser, 1920, 1080)
    assert small["rem"] == 20
    for gone in (wall.DUTY_NAME, wall.SOUND, wall.ALERT_NOTE, "lang-switch", "about", "alerts-history-link"):
        assert browser.execute_script("return document.getElementById(arguments[0])", gone) is None, gone

    screen(browser, 3840, 2160)
    wait_for(lambda: browser.execute_script(LAYOUT, KEY_IDS)["rem"] == 40, 30, what="the 4K type size")
    big = check_fits(browser, 3840, 2160)
    for element_id in (wall.MAP, wall.KPI_OPEN, wm.FOCUS, wall.CLOCK):  # the same layout at double size
        (l1, t1, r1, b1), (l2, t2, r2, b2) = small["rects"][element_id], big["rects"][element_id]
        assert abs((r2 - l2) / (r1 - l1) - 2) < 0.05, element_id
        assert abs(l2 - 2 * l1) <= 4 and abs(t2 - 2 * t1) <= 4, element_id
        if element_id != wm.FOCUS:  # the card's height follows its text's line breaks
            assert abs((b2 - t2) / (b1 - t1) - 2) < 0.05, element_id
    # figures (drawn in px by plotly) are scaled with the page, not left at desk size
    scale = (
        "return document.getElementById(arguments[0]).getBoundingClientRect().width /"
        " document.getElementById(arguments[0]).offsetWidth"
    )
    wait_for(
        lambda: abs(browser.execute_script(scale, wall.TREND_GRAPH) - 2.5) < 0.01, 30, what="figures x2.5"
    )

    # a bad URL parameter says what is wrong, on the screen
    browser.get(app.url + "/wall?rotate=soon&lang=en")
    wait_for(lambda: browser.execute_script("return !!document.getElementById(arguments[0])", wm.ERROR), 60)
    assert "rotate: expected whole seconds from 0 to 3600" in text(browser, wm.ERROR)
    browser.get(app.url + "/wall?views=ZM,XX&lang=en")
    wait_for(lambda: "unknown subdistrict XX" in text(browser, wm.ERROR), 60, what="the views error")

    # "/" is still the operator's screen: its controls, no card, no rotation
    browser.get(app.url + "/?lang=en")
    wait_for(
        lambda: browser.execute_script("return !!document.getElementById(arguments[0])", wall.DUTY_NAME), 60
    )
    assert browser.execute_script("return document.getElementById(arguments[0])", wm.FOCUS) is None
    root = browser.execute_script("return document.querySelector('.wall').className")
    assert "mode-desk" in root and "mode-wall" not in root


def test_each_view_moves_the_map_and_shows_live_figures_without_growing(app: App, browser: Any) -> None:
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": TIMER_PROBE})
    screen(browser, 1920, 1080)
    r = app.client()
    today = keys.day_key(datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y%m%d"))
    before = {s: int(r.hget(today, f"reported:subdistrict:{s}") or 0) for s in SUBS}
    open_wall(browser, app.url + "/wall?rotate=0")
    district = wm.view_bounds(GEO)
    start = wait_for(
        lambda: (b := view(browser)["bounds"]) and contains(b, district) and b, 30, what="district"
    )

    def step_to(sub: str, index: int, round_: int) -> None:
        """One step: the subdistrict's name, the map on it, its figures following a new report."""
        moves = view(browser)["moves"]
        browser.execute_script("window.citybrain.wallmode.step()")
        name = GEO.subdistricts[sub].name_zh
        wait_for(lambda: view(browser)["title"] == name, 30, what=f"{sub}'s name")
        assert "hidden" not in view(browser)["card"] and view(browser)["index"] == index
        box = wm.view_bounds(GEO, sub)
        wait_for(
            lambda: (
                (v := view(browser))["moves"] > moves
                and inside(v["bounds"], box)
                and contains(v["bounds"], box)
                and abs(span(v["bounds"]) - span(start)) + abs(v["bounds"][0][1] - start[0][1]) > 0.005
            ),  # the flight has landed on the view (Nanzhuang, the largest, needs nearly the district's zoom)
            30,
            what=f"map on {sub}",
        )
        # a case reported now, in this subdistrict, shows in its figures while the view is up
        report(app, f"ROT-{round_}-{sub}", f"{sub}-{round_ + 1:04d}")
        want = str(before[sub] + round_ + 1)
        wait_for(lambda: text(browser, wm.FOCUS_VALUE.format("reported", "sub")) == want, 30, what=want)
        assert int(text(browser, wm.FOCUS_VALUE.format("open", "sub"))) >= round_ + 1
        total = sum(before.values()) + round_ * len(SUBS) + index
        assert int(text(browser, wm.FOCUS_VALUE.format("reported", "district")).replace(",", "")) >= total

    def cycle(round_: int) -> None:
        """Step through every subdistrict and back to the district."""
        for index, sub in enumerate(SUBS, start=1):
            step_to(sub, index, round_)
        browser.execute_script("window.citybrain.wallmode.step()")  # back to the district
        wait_for(lambda: view(browser)["id"] == "district" and "hidden" in view(browser)["card"], 30)
        wait_for(lambda: contains(view(browser)["bounds"], district), 30, what="the district again")

    def sample() -> dict[str, Any]:
        """DOM nodes and live timers now."""
        got: dict[str, Any] = browser.execute_script(
            "return {nodes: document.getElementsByTagName('*').length, timers: window.__timers}"
        )
        return got

    for k in range(20):  # warm-up: the ticker and the top cells full to their caps
        report(app, f"WARM-{k}", f"ZC-{k + 11:04d}")
    before["ZC"] += 20
    cycle(0)
    warm = sample()
    for round_ in (1, 2, 3):
        cycle(round_)
        for k in range(10):  # and a burst elsewhere: the ticker, the counters, the map move on
            report(app, f"BURST-{round_}-{k}", f"ZC-{k + 1:04d}")
        before["ZC"] += 10
    wait_for(lambda: text(browser, wm.FOCUS_VALUE.format("reported", "district")) != "", 5)
    # settled: the last burst's last case is painted in the ticker (throttled panels flush at a tick)
    last = f'#{ids.TICKER} [data-case="BURST-3-9"]'
    wait_for(lambda: browser.execute_script("return !!document.querySelector(arguments[0])", last), 20)
    later = sample()
    assert later["nodes"] <= warm["nodes"] + 40, (warm, later)
    assert later["timers"]["intervals"] <= warm["timers"]["intervals"], (warm, later)
    assert later["timers"]["timeouts"] <= warm["timers"]["timeouts"] + 10, (warm, later)
    assert view(browser)["steps"] == 4 * (len(SUBS) + 1)


def test_rotation_on_a_timer_visits_every_subdistrict_and_returns(app: App, browser: Any) -> None:
    screen(browser, 1920, 1080)
    open_wall(browser, app.url + "/wall?rotate=2")
    assert view(browser)["rotate_s"] == 2
    seen: list[str] = []
    names = {s: GEO.subdistricts[s].name_zh for s in SUBS}

    def visited_all_and_back() -> bool:
        v = view(browser)
        if v["id"] in names:
            assert v["title"] == names[v["id"]] and "hidden" not in v["card"]
        elif v["id"] == "district":
            assert "hidden" in v["card"]
        if not seen or seen[-1] != v["id"]:
            seen.append(v["id"])
        tail = seen[seen.index("district") :] if "district" in seen else []
        return set(SUBS) <= set(tail) and tail[-1] == "district" and len(tail) > 1

    wait_for(visited_all_and_back, 120, 0.2, "a full turn of the rotation")
    order = ["district", *SUBS]
    steps = [(order.index(b) - order.index(a)) % len(order) for a, b in itertools.pairwise(seen)]
    assert all(s > 0 for s in steps) and steps.count(1) >= len(steps) // 2, seen  # forward, in turn
