/* fit.js: where a map puts its area so that it shows whole, inside its box and clear of the boxes over it
   (the page part, Leaflet's projection and the overlays' places, is tested in Chromium: test_layout.py). */
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { js } = require("./helpers.js");

const F = js("fit");

// An L-shaped area (px at some zoom): its top-right quarter is empty.
const L_SHAPE = [[[0, 0], [50, 0], [50, 50], [100, 50], [100, 100], [0, 100]]];

function placed(rings, at) {
  const bb = F.bbox(rings), s = Math.pow(2, at.dz);
  return rings.map((r) => r.map(([x, y]) => [at.tx + (x - bb[0]) * s, at.ty + (y - bb[1]) * s]));
}

test("a segment meets a box when it crosses it, even with both ends outside", () => {
  assert.equal(F.segmentHits(-10, 5, 20, 5, [0, 0, 10, 10]), true);
  assert.equal(F.segmentHits(-10, 20, 20, 20, [0, 0, 10, 10]), false);
  assert.equal(F.segmentHits(2, 2, 3, 3, [0, 0, 10, 10]), true);  // inside
  assert.equal(F.segmentHits(-5, 15, 15, -5, [0, 0, 10, 10]), true);  // across a corner
});

test("a point inside a ring, even-odd over several rings", () => {
  assert.equal(F.inRings(25, 25, L_SHAPE), true);
  assert.equal(F.inRings(75, 25, L_SHAPE), false);  // the empty quarter
  const hole = [[[0, 0], [10, 0], [10, 10], [0, 10]], [[4, 4], [6, 4], [6, 6], [4, 6]]];
  assert.equal(F.inRings(5, 5, hole), false);
});

test("with nothing over it the area fills the box at the largest zoom step, in the middle", () => {
  const at = F.place(L_SHAPE, [400, 300], [], 0.1);
  assert.equal(at.clear, true);
  const s = Math.pow(2, at.dz);
  assert.ok(100 * s <= 300 - 16 + 0.5 && 100 * Math.pow(2, at.dz + 0.1) > 300 - 16, `scale ${s}`);
  assert.ok(Math.abs(at.tx + 50 * s - 200) < 1, "centred across");
});

test("a legend in the empty corner costs nothing; one over the area makes it smaller or moves it", () => {
  const free = F.place(L_SHAPE, [400, 400], [], 0.1);
  const corner = F.place(L_SHAPE, [400, 400], [[300, 0, 400, 100]], 0.1);  // the area's empty quarter
  assert.equal(corner.clear, true);
  const over = F.place(L_SHAPE, [400, 400], [[0, 300, 120, 400]], 0.1);  // bottom-left: the area is there
  assert.equal(over.clear, true);
  assert.ok(over.dz < free.dz, "smaller to clear the legend");
  // and none of its edges enters the legend
  const rings = placed(L_SHAPE, over);
  rings[0].forEach((p, i) => {
    const q = rings[0][(i + 1) % rings[0].length];
    assert.equal(F.segmentHits(p[0], p[1], q[0], q[1], [0, 300, 120, 400]), false);
  });
  assert.ok(corner.dz >= free.dz - 0.3, "nearly as large with the legend in the empty corner");
});

test("a box covering everything: the plain fit, marked not clear", () => {
  const at = F.place(L_SHAPE, [200, 200], [[0, 0, 200, 200]], 0.1);
  assert.equal(at.clear, false);
});
