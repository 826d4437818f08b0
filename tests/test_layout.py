"""The leaders' page (/) and the drill-down, case and warning-history pages at the sizes people use them
(issue 14): a desk from 1366x768 to 1920x1080 and a 390x844 phone. Nothing lies outside the viewport
horizontally (a page may scroll vertically), no two panels' boxes intersect, and no figure's text
overflows its box. Screenshots: docs/screens/ (CB_SCREENSHOTS=1 refreshes them)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By

from dashboard.store import keys
from tests.conftest import App, wait_for

SIZES = [(1366, 768), (1536, 864), (1920, 1080), (390, 844)]
SHOTS = Path(__file__).resolve().parent.parent / "docs" / "screens"
KEEP_SHOTS = os.environ.get("CB_SCREENSHOTS") == "1"  # CB_SCREENSHOTS=1 pytest tests/test_layout.py

# Given the boxes that must not overlap (arguments[0]) and the texts that must fit (arguments[1]): the
# pairs of those boxes that intersect (neither holding the other), the boxes past the right edge, the
# texts wider than their box, and the page's width against the viewport's.
MEASURE = """
const [sel, texts] = arguments;
const els = [...new Set(sel.flatMap(s => [...document.querySelectorAll(s)]))]
  .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; });
const boxes = els.map(e => { const r = e.getBoundingClientRect();
  return {name: (e.id || e.className || e.tagName).toString().slice(0, 60), x: r.left, y: r.top + scrollY,
          w: r.width, h: r.height}; });
const hits = [];
for (let i = 0; i < els.length; i++) for (let j = i + 1; j < els.length; j++) {
  if (els[i].contains(els[j]) || els[j].contains(els[i])) continue;
  const a = boxes[i], b = boxes[j];
  const dx = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
  const dy = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
  if (dx > 1 && dy > 1) hits.push(a.name + ' x ' + b.name);
}
const d = document.documentElement;
const outside = boxes.filter(b => b.x + b.w > d.clientWidth + 1).map(b => b.name);
const over = texts.flatMap(s => [...document.querySelectorAll(s)])
  .filter(e => e.scrollWidth > e.clientWidth + 1)
  .map(e => (e.id || e.className) + ': ' + e.textContent.slice(0, 30));
return {hits, outside, over, scrollWidth: d.scrollWidth, clientWidth: d.clientWidth, n: els.length};
"""
HOME_BOXES = [
    ".wall-header .title",
    ".wall-header .status",
    ".kpi",
    ".wall-col > *",
    ".wall-map",
    ".wall-ticker",
]
HOME_TEXTS = [".kpi-value", ".flow-open", ".panel-title", ".od-late", ".kpi-label"]
PAGE_BOXES = [".panel", ".kpi", ".area-map-box", ".case-map-box", ".area-header > *", ".case-header > *",
              ".alerts-filters"]  # fmt: skip


def measure(browser: Any, boxes: list[str], texts: list[str]) -> dict[str, Any]:
    return dict(browser.execute_script(MEASURE, boxes, texts))


def count(browser: Any, selector: str) -> int:
    return int(browser.execute_script("return document.querySelectorAll(arguments[0]).length", selector))


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    from tests.support import temp_dir

    with temp_dir("cbly-") as folder:
        running = App(folder, "--seed", "7").start()  # the simulator's warm start fills every panel
        yield running
        running.stop()


@pytest.mark.parametrize(("width", "height"), SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_home_fits_every_screen_without_overlap(app: App, browser: Any, width: int, height: int) -> None:
    browser.set_window_size(width, height)
    browser.get(app.url + "/")
    wait_for(lambda: count(browser, ".od-row, #overdue-list .muted"), 30, 0.2, "the panels filled")
    wait_for(lambda: count(browser, ".leaflet-interactive") > 400, 30, 0.2, "the map drawn")
    got = measure(browser, HOME_BOXES, HOME_TEXTS)
    if KEEP_SHOTS:
        browser.save_screenshot(str(SHOTS / f"home-{width}x{height}.png"))
    assert got["n"] > 15, got  # the panels were found
    assert got["scrollWidth"] <= got["clientWidth"], f"wider than the screen: {got}"
    assert not got["hits"], got["hits"]
    assert not got["over"], got["over"]
    severe = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not [m for m in severe if "LatLng" in m or "Uncaught" in m], severe


PAGES = ["/cell/ZM-0001", "/subdistrict/ZM", "/alerts", "/case/{case}"]


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize(("width", "height"), SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_pages_fit_every_screen_without_overlap(
    app: App, browser: Any, page: str, width: int, height: int
) -> None:
    r: Any = app.client()
    case = wait_for(lambda: next(iter(r.hscan(keys.CASE_INDEX, count=10)[1]), None), 30, 0.2, "a case")
    browser.set_window_size(width, height)
    browser.get(app.url + page.format(case=case))
    wait_for(lambda: count(browser, ".panel, .alerts-filters") >= 1, 30, 0.2, "the page's panels")
    wait_for(lambda: measure(browser, PAGE_BOXES, [])["n"] >= 3, 30, 0.2, "the page laid out")
    got = measure(browser, PAGE_BOXES, [])
    name = page.strip("/").split("/")[0]
    if KEEP_SHOTS:
        browser.save_screenshot(str(SHOTS / f"{name}-{width}x{height}.png"))
    assert got["scrollWidth"] <= got["clientWidth"], f"wider than the screen: {got}"
    assert not got["outside"], got["outside"]
    assert not got["hits"], got["hits"]


# Every map's outline (the layer styled "fit-outline"), sampled along its SVG path in screen px: how many
# samples lie outside the map's box, and how many under a box over the map (a legend, the top cells, the
# device key, the zoom buttons); and the map's scale (a 4K wall draws its map at 1080p size, scaled).
OUTLINE = """
const out = {maps: 0, points: 0, outside: [], covered: [], scale: []};
for (const box of document.querySelectorAll('.map-fit')) {
  const map = box.querySelector('.leaflet-container');
  if (!map) continue;
  out.maps += 1;
  const mr = map.getBoundingClientRect();
  out.scale.push(mr.width / map.offsetWidth);
  const over = [...box.querySelectorAll('.map-overlay, .leaflet-control')]
    .map(e => [e, e.getBoundingClientRect()]).filter(([e, r]) => r.width > 0 && r.height > 0);
  for (const path of box.querySelectorAll('path.fit-outline')) {
    const m = path.getScreenCTM(), len = path.getTotalLength();
    for (let i = 0; i < 400; i++) {
      const p = path.getPointAtLength(len * i / 400);
      const x = m.a * p.x + m.c * p.y + m.e, y = m.b * p.x + m.d * p.y + m.f;
      out.points += 1;
      const away = x < mr.left - 1 || x > mr.right + 1 || y < mr.top - 1 || y > mr.bottom + 1;
      if (away) out.outside.push([x, y]);
      for (const [e, r] of over) {
        if (x > r.left + 1 && x < r.right - 1 && y > r.top + 1 && y < r.bottom - 1)
          out.covered.push(String(e.className).slice(0, 40));
      }
    }
  }
}
out.outside = out.outside.slice(0, 5);
out.covered = [...new Set(out.covered)];
return out;
"""

# The smallest text on the page as drawn (its font size times the scale of a scaled map or figure), and
# the element that has it.
SMALLEST_TEXT = """
let best = [1e9, ''];
for (const e of document.querySelectorAll('.wall *')) {
  if (![...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
  const r = e.getBoundingClientRect();
  if (!r.width || !r.height || getComputedStyle(e).visibility === 'hidden') continue;
  const scaled = e.closest('.leaflet-container, .wall-graph');
  const k = scaled ? scaled.getBoundingClientRect().width / scaled.offsetWidth : 1;
  const px = parseFloat(getComputedStyle(e).fontSize) * k;
  if (px < best[0]) best = [px, (e.className.baseVal ?? e.className) || e.tagName];
}
return best;
"""


def outline_clear(browser: Any) -> dict[str, Any]:
    """Wait until every map's outline is drawn inside its box and clear of the boxes over it."""

    def clear() -> dict[str, Any] | None:
        got = dict(browser.execute_script(OUTLINE))
        ok = got["maps"] and got["points"] and not got["outside"] and not got["covered"]
        return got if ok else None

    try:
        return wait_for(clear, 20, 0.3, "the map's outline whole and clear")
    except AssertionError as err:
        raise AssertionError(f"{err}: {browser.execute_script(OUTLINE)}") from None


@pytest.mark.parametrize(("width", "height"), SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@pytest.mark.parametrize("page", ["/", "/subdistrict/ZM", "/community/ZM-C01", "/cell/ZM-0001"])
def test_maps_show_their_whole_area_clear_of_legends(
    app: App, browser: Any, page: str, width: int, height: int
) -> None:
    browser.set_window_size(width, height)
    browser.get(app.url + page)
    wait_for(lambda: count(browser, ".leaflet-interactive") > 3, 30, 0.2, "the map drawn")
    got = outline_clear(browser)
    assert got["points"] >= 400, got


WALL_SIZES = [(1920, 1080), (3840, 2160)]


@pytest.mark.parametrize(("width", "height"), WALL_SIZES, ids=[f"{w}x{h}" for w, h in WALL_SIZES])
def test_wall_fills_its_screen_scaled_as_a_whole(app: App, browser: Any, width: int, height: int) -> None:
    """/wall at 1080p and 4K (the screen's exact size, as a kiosk shows it): no scrollbars, no overlap, no
    text past its box, the district whole and clear of the legends, and 4K the same picture at double
    size: the map drawn at its 1080p size and scaled, no text smaller than ~10 px at 1080p."""
    metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    try:
        browser.get(app.url + "/wall")
        wait_for(lambda: count(browser, ".od-row, #overdue-list .muted"), 30, 0.2, "the panels filled")
        wait_for(lambda: count(browser, ".dev-cluster") > 10, 30, 0.2, "the device badges drawn")
        got = measure(browser, [*HOME_BOXES, ".map-overlay", ".clock"], HOME_TEXTS)
        fit = outline_clear(browser)
        smallest = browser.execute_script(SMALLEST_TEXT)
        if KEEP_SHOTS:
            browser.save_screenshot(str(SHOTS / f"wall-{width}x{height}.png"))
        page = browser.execute_script(
            "const d = document.documentElement;"
            "return [d.scrollWidth, d.scrollHeight, innerWidth, innerHeight]"
        )
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert page[2:] == [width, height], page
    assert page[0] <= width and page[1] <= height, f"scrollbars: {page}"
    assert not got["hits"], got["hits"]
    assert not got["over"], got["over"]
    assert fit["scale"] == [pytest.approx(width / 1920, rel=0.02)], fit
    assert smallest[0] >= 10 * height / 1080, smallest


def test_wall_held_upright_on_a_phone_is_a_page(app: App, browser: Any) -> None:
    """/wall on a 390x844 phone: the one-column phone page (not the 16:9 wall at a quarter of its type),
    read-only, the map working and whole."""
    browser.set_window_size(390, 844)
    browser.get(app.url + "/wall")
    wait_for(lambda: count(browser, ".od-row, #overdue-list .muted"), 30, 0.2, "the panels filled")
    wait_for(lambda: count(browser, ".leaflet-interactive") > 400, 30, 0.2, "the map drawn")
    got = measure(browser, HOME_BOXES, HOME_TEXTS)
    fit = outline_clear(browser)
    if KEEP_SHOTS:
        browser.save_screenshot(str(SHOTS / "wall-390x844.png"))
    assert got["scrollWidth"] <= got["clientWidth"], f"wider than the screen: {got}"
    assert not got["hits"], got["hits"]
    assert not got["over"], got["over"]
    assert fit["scale"] == [pytest.approx(1, rel=0.02)], fit  # not the wall's scaled map
    root_px = browser.execute_script("return parseFloat(getComputedStyle(document.documentElement).fontSize)")
    assert root_px >= 14, root_px  # the page's type, not 390/96 px
    controls = browser.find_elements(By.CSS_SELECTOR, ".alert-ack-btn, .alert-silence")
    assert not [e for e in controls if e.is_displayed()]  # read-only, as on the wall
    severe = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not [m for m in severe if "LatLng" in m or "Uncaught" in m], severe
