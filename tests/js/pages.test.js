/* The drill-down and case pages' live filters, the language memory, and the node builder's text-only
   rule (names and notes from the field never become HTML). */
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { fx, js, wallMeta } = require("./helpers.js");

const area = js("area");
const ids = new Set(["ZM-C01", "ZM-0001", "ZM-0002"]);  // a community and its cells

function delta(extra) { return Object.assign({ from: 1, to: 1, ts: 1 }, extra); }

test("an area page re-reads when a delta touches one of its areas, in the new shape", () => {
  assert.equal(area.concerns(delta({}), ids), false);  // an empty message keeps the seq going, nothing else
  assert.equal(area.concerns(delta({ set: { cells: { "ZM-0001": 3 } } }), ids), true);
  assert.equal(area.concerns(delta({ set: { cells: { "SW-0001": 3 } } }), ids), false);
  assert.equal(area.concerns(delta({ set: { open: { community: { "ZM-C01": { handle: 2 } } } } }), ids), true);
  assert.equal(area.concerns(delta({ set: { overdue: { cell: { "ZM-0002": 1 } } } }), ids), true);
  assert.equal(area.concerns(delta({ set: { open: { subdistrict: { SW: { handle: 2 } } } } }), ids), false);
  assert.equal(area.concerns(delta({ set: { days: { 20261208: { by: { cell: { "ZM-0001": { reported: 4 } } } } } } }), ids), true);
  assert.equal(area.concerns(delta({ set: { hours: { 2026120814: { by: { community: { "ZM-C01": { closed: 1 } } } } } } }), ids), true);
  assert.equal(area.concerns(delta({ set: { days: { 20261208: { hdur: { cell: { "ZM-0002": { 3: 1 } } } } } } }), ids), true);
  assert.equal(area.concerns(delta({ set: { days: { 20261208: { hdur: { cell: { "SW-0001": { 3: 1 } } } } } } }), ids), false);
  assert.equal(area.concerns(delta({ set: { health: { "ZM-C01": [80, "#d9c31c"] } } }), ids), true);
  assert.equal(area.concerns(delta({ set: { health: { SW: [80, "#d9c31c"] } } }), ids), false);
  assert.equal(area.concerns(delta({ ticker: [[1, "K-1", "ZM-0002", "CM-0101", "reported", null, null]] }), ids), true);
  assert.equal(area.concerns(delta({ ticker: [[1, "K-1", "SW-0001", "CM-0101", "reported", null, null]] }), ids), false);
  assert.equal(area.concerns(delta({ dev: { "CAM-1": "offline" } }), ids), true);  // the room sends only its devices
});

test("an area page re-reads when a warning about it changes", () => {
  assert.equal(area.alertsConcern({ changes: [{ alerts: [{ area: "ZM-0001" }] }] }, ids), true);
  assert.equal(area.alertsConcern({ changes: [{ alerts: [{ area: "SW", areas: ["SW", "SW-C01"] }] }] }, ids), false);
  assert.equal(area.alertsConcern({ changes: [{ alerts: [{ area: "ZM", areas: ["ZM", "ZM-C01"] }] }] }, ids), true);
  assert.equal(area.alertsConcern({ changes: [{ alerts: [], removed: ["x"] }] }, ids), true);
});

test("a click on a child area goes one level down; the colour key of the colouring", () => {
  globalThis.dash_clientside = { no_update: "NOUP" };
  const meta = { level: "community", lang: "en", legend: { health: [["good", "#1a9850"]] } };
  assert.equal(area.go({ properties: { id: "ZM-0001" } }, meta), "/cell/ZM-0001?lang=en");
  assert.equal(area.go({ feature: { properties: { id: "ZM-C01" } } }, { level: "subdistrict", lang: "zh-CN" }), "/community/ZM-C01?lang=zh-CN");
  assert.equal(area.go({ properties: { id: "x" } }, { level: "cell", lang: "en" }), "NOUP");
  assert.equal(js("dom").textOf(area.legend("health", meta)), "good");
});

test("a case page re-reads on its own case's events only; its clock in both languages", () => {
  const C = js("case");
  assert.equal(C.mine(delta({ ticker: [[1, "K-1", "c", "t", "handled", null, null]] }), "K-1"), true);
  assert.equal(C.mine(delta({ ticker: [[1, "K-2", "c", "t", "handled", null, null]] }), "K-1"), false);
  assert.equal(C.mine(delta({}), "K-1"), false);
  const meta = (lang) => ({ lang, strings: fx.strings[lang] });
  assert.deepEqual(C.clockText({ open: true, deadline: 10000 + 3600000 }, meta("zh-CN"), 10000), ["剩余 1小时", "case-late ok"]);
  assert.deepEqual(C.clockText({ open: true, deadline: 10000 }, meta("en"), 10000 + 90000), ["1 min 30 s late", "case-late bad"]);
  assert.deepEqual(C.clockText({ open: false }, meta("en"), 0), [fx.strings.en.case_over, "case-late muted"]);
});

test("a page opened without ?lang= takes the language remembered in this browser", () => {
  const L = js("lang");
  assert.equal(L.withRemembered("en", ""), "?lang=en");
  assert.equal(L.withRemembered("en", "?rotate=30"), "?rotate=30&lang=en");
  assert.equal(L.withRemembered("en", "?lang=zh-CN"), null);  // asked for: kept
  assert.equal(L.withRemembered("fr", ""), null);
  assert.equal(L.withRemembered(null, ""), null);
});

test("the node builder: every string is a text node, attributes are attributes, never HTML", () => {
  const made = [];
  const fake = {
    createTextNode: (t) => ({ text: t }),
    createDocumentFragment: () => ({ kids: [], appendChild(k) { this.kids.push(k); } }),
    createElement: (tag) => {
      const el = { tag, attrs: {}, style: {}, kids: [], setAttribute(k, v) { this.attrs[k] = String(v); }, appendChild(k) { this.kids.push(k); } };
      Object.defineProperty(el, "innerHTML", { set() { throw new Error("innerHTML used"); } });
      made.push(el);
      return el;
    },
  };
  globalThis.document = fake;
  try {
    const D = js("dom"), h = D.h;
    const name = "<img src=x onerror=alert(1)>";
    const el = D.toDom(h("Div", { className: "row", "data-case": "K-1", id: { type: "t", index: 1 }, style: { color: "red" } },
      [h("Span", {}, name), " & more"]));
    assert.equal(el.tag, "div");
    assert.deepEqual(el.attrs, { class: "row", "data-case": "K-1" });  // a pattern id is Dash's, not the DOM's
    assert.equal(el.style.color, "red");
    const kids = el.kids[0].kids;
    assert.deepEqual(kids[0].kids, [{ text: name }]);
    assert.deepEqual(kids[1], { text: " & more" });
    assert.equal(D.textOf(h("B", {}, [name, 3])), name + "3");
  } finally { delete globalThis.document; }
});

test("every id a wall needs is handed over as data", () => {
  const meta = wallMeta("en");
  for (const key of ["map", "cells", "connection", "connectionBanner", "fresh", "kpiOpen", "flow", "flowOpen", "subTotal",
    "overdue", "overdueTotal", "league", "ticker", "categoryLegend", "categoryTotal", "categoryGraph", "trendGraph", "alerts",
    "alertAck", "alertSilence", "alertMsg", "dutyName", "alertNote", "sound", "topCells", "subTotals", "clock"]) {
    assert.equal(typeof meta.ids[key], "string", key);
  }
});
