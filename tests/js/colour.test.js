/* Colour rules: the cells' open-case bins (the same as Python's cell_colour), the health and alert
   colourings of the maps, the device layer's worst status per group and its badge sizes. */
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { fx, js } = require("./helpers.js");

const M = js("map");

test("a cell's colour from its open cases is the one Python draws", () => {
  for (const [n, colour] of fx.cell_colour) { assert.equal(M.binColour(n, fx.bins, fx.colors), colour, `${n} open`); }
  assert.equal(M.binColour(1000, fx.bins, fx.colors), fx.colors[fx.colors.length - 1]);
});

test("the dash-leaflet cell style uses the live counts over the hideout's", () => {
  const hideout = { counts: { "ZM-0001": 0 }, bins: fx.bins, colors: fx.colors, mode: "open" };
  const feature = { properties: { id: "ZM-0001" } };
  assert.equal(M.cellStyle(feature, { hideout }).fillColor, fx.colors[0]);
  assert.equal(M.cellStyle(feature, { hideout }).className, "cell cell-ZM-0001");
  const cb = globalThis.citybrain;
  cb.liveCounts = () => ({ "ZM-0001": 13 });
  try { assert.equal(M.cellStyle(feature, { hideout }).fillColor, fx.colors[6]); } finally { delete cb.liveCounts; }
});

test("health colouring: each area takes its band's colour from the scores; none known: the empty colour", () => {
  const health = {};
  fx.health_bands.forEach(([score, , colour], i) => { health["A" + i] = [score, colour]; });
  fx.health_bands.forEach(([score, band, colour], i) => {
    assert.equal(M.modeFill({ id: "A" + i }, { mode: "health", health }), colour, `${score} (${band})`);
  });
  assert.deepEqual([...new Set(fx.health_bands.map((b) => b[2]))].sort(), [...fx.band_colours].sort());
  assert.equal(M.modeFill({ id: "nope" }, { mode: "health", health }), M.NONE);
  assert.equal(M.modeFill({ id: "A0" }, { mode: "open", health }), null);  // the bins decide
});

test("alert colouring: an area's own level, else its community's, else its subdistrict's", () => {
  const hd = { mode: "alerts", alerts: { "ZM-C01": "orange", SW: "red" }, level_colours: { orange: "#f97316", red: "#dc2626" } };
  assert.equal(M.modeFill({ id: "ZM-0001", community_id: "ZM-C01", subdistrict_id: "ZM" }, hd), "#f97316");
  assert.equal(M.modeFill({ id: "SW-0001", community_id: "SW-C01", subdistrict_id: "SW" }, hd), "#dc2626");
  assert.equal(M.modeFill({ id: "NZ-0001", community_id: "NZ-C01", subdistrict_id: "NZ" }, hd), M.NONE);
});

test("an alert outline: the level's colour, pulsing while unacknowledged; no alert: invisible", () => {
  const hd = { alerts: { "ZM-0001": ["red", true], "ZM-0002": ["blue", false] }, colours: { red: "#dc2626", blue: "#3b82f6" } };
  const red = M.alertStyle({ properties: { id: "ZM-0001" } }, { hideout: hd });
  assert.equal(red.color, "#dc2626");
  assert.equal(red.className, "alert-area alert-area-ZM-0001 level-red alert-pulse");
  assert.equal(M.alertStyle({ properties: { id: "ZM-0002" } }, { hideout: hd }).className, "alert-area alert-area-ZM-0002 level-blue");
  assert.equal(M.alertStyle({ properties: { id: "x" } }, { hideout: hd }).opacity, 0);
});

test("the colouring signature changes only with what colours the cells", () => {
  const a = M.colouringSig({ mode: "open", health: { x: [1, "#000"] }, alerts: { y: "red" } });
  assert.equal(a, M.colouringSig({ mode: "open", health: { x: [99, "#fff"] }, alerts: {} }));
  assert.notEqual(M.colouringSig({ mode: "health", health: { x: [1, "#000"] } }),
    M.colouringSig({ mode: "health", health: { x: [99, "#fff"] } }));
  assert.notEqual(M.colouringSig({ mode: "alerts", alerts: { y: "red" } }), M.colouringSig({ mode: "alerts", alerts: {} }));
});

test("a device group shows its worst status; a fine group the first", () => {
  const D = js("devicedraw");
  for (const family of ["cameras", "sensors"]) {
    const statuses = fx.device_statuses[family], w = statuses.length;
    const counts = new Int32Array(3 * w);
    counts[0 * w + 0] = 50;  // group 0: all fine
    counts[1 * w + 0] = 40; counts[1 * w + 1] = 2; counts[1 * w + (w - 1)] = 1;  // group 1: one at the worst
    counts[2 * w + 2] = 1;  // group 2: a single device of rank 2
    assert.equal(statuses[D.worst(counts, 0, w)], statuses[0]);
    assert.equal(statuses[D.worst(counts, 1, w)], statuses[w - 1]);
    assert.equal(D.worst(counts, 2, w), 2);
    statuses.forEach((s) => assert.ok(fx.status_colours[s], `${family} ${s} has a colour`));
  }
  assert.deepEqual(fx.device_statuses.cameras, ["online", "unknown", "offline", "fault"]);
});

test("an unknown status counts as unknown; badge sizes grow with the count, capped", () => {
  const D = js("devicedraw"), dev = js("devices");
  const F = { rankOf: { online: 0, unknown: 1, offline: 2, fault: 3 } };
  assert.equal(dev.rankIn(F, "fault"), 3);
  assert.equal(dev.rankIn(F, "exploded"), 1);
  assert.deepEqual([1, 10, 100, 1000, 1e6].map(D.badgeSize), [18, 23, 27, 32, 34]);
});

test("a device's status in words, with since when or its last reading", () => {
  const T = js("devicetext");
  const meta = { lang: "en", tz: "Asia/Shanghai", strings: fx.strings.en, status: { offline: "Offline", stale: "Stale", ok: "OK" } };
  assert.equal(T.statusWords(meta, "offline", null), "Offline");
  assert.equal(T.statusWords(meta, "offline", { since: Date.UTC(2026, 11, 8, 6, 5) }), "Offline since 2026-12-08 14:05");
  assert.equal(T.statusWords(meta, "stale", { ts: Date.UTC(2026, 11, 8, 6, 5), value: 3.2, unit: "m" }),
    "Stale since 2026-12-08 14:05 · last reading 3.2 m");
  assert.deepEqual(T.groupLines({ lang: "en", strings: fx.strings.en, status: { online: "Online", fault: "Fault", unknown: "?", offline: "Off" } },
    fx.device_statuses.cameras, [40, 0, 0, 2], 42, "cameras"), ["42 cameras", "Fault 2 · Online 40"]);
});
