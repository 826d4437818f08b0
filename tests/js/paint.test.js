/* When the wall paints (assets/js/paint.js): at the next animation frame, once however often asked; a
   part only when its model changed and at most every 250 ms (a figure every 5 s); a failing part is
   retried, the others still paint. Time, frames and timers are stand-ins driven by the test. */
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { js } = require("./helpers.js");

function clock() {
  const c = { now: 1000000, frames: [], timers: [] };
  globalThis.requestAnimationFrame = (fn) => { c.frames.push(fn); return c.frames.length; };
  globalThis.setTimeout = (fn, ms) => { c.timers.push({ fn, at: c.now + ms }); return c.timers.length; };
  Date.now = () => c.now;
  c.frame = () => { const f = c.frames.splice(0); f.forEach((fn) => fn()); return f.length; };
  c.advance = (ms) => {
    c.now += ms;
    const due = c.timers.filter((t) => t.at <= c.now);
    c.timers = c.timers.filter((t) => t.at > c.now);
    due.forEach((t) => t.fn());
  };
  return c;
}

const realNow = Date.now, realTimeout = globalThis.setTimeout;
test.afterEach(() => { Date.now = realNow; globalThis.setTimeout = realTimeout; });

test("one frame however often asked; a part is drawn only when its model changed", () => {
  const c = clock(), P = js("paint");
  let model = { n: 1 }, frames = 0;
  const draws = [];
  const p = P.create((pp) => { frames += 1; pp.part("top", P.PANEL_MS, () => model, (v) => { draws.push(v.n); }); });
  p.schedule(); p.schedule(); p.schedule();
  assert.equal(c.frame(), 1);
  assert.deepEqual(draws, [1]);
  c.advance(1000);
  p.schedule(); c.frame();
  assert.deepEqual(draws, [1]);  // the same model: not drawn again
  model = { n: 2 };
  p.schedule(); c.frame();
  assert.deepEqual(draws, [1, 2]);
  assert.equal(frames, 3);
});

test("a panel is rebuilt at most every 250 ms: a change inside the window is drawn at its end", () => {
  const c = clock(), P = js("paint");
  let model = 1;
  const draws = [];
  const p = P.create((pp) => pp.part("league", P.PANEL_MS, () => model, (v) => { draws.push([v, c.now]); }));
  p.schedule(); c.frame();  // drawn at t0 (a new page paints everything)
  const t0 = c.now;
  c.advance(100);
  model = 2;
  p.schedule(); c.frame();
  assert.equal(draws.length, 1);  // 100 ms after the last draw: waits
  c.advance(100);
  model = 3;
  p.schedule(); c.frame();
  assert.equal(draws.length, 1);
  c.advance(60);  // the window's end: the timer paints the latest model
  assert.deepEqual(draws, [[1, t0], [3, t0 + 260]]);
});

test("figures at most every 5 s; a part that fails is retried and the others still paint", () => {
  const c = clock(), P = js("paint");
  let fig = 1, fail = true;
  const figs = [], others = [];
  const quiet = console.error;
  console.error = () => {};
  try {
    const p = P.create((pp) => {
      pp.part("bad", P.PANEL_MS, () => { if (fail) { throw new Error("boom"); } return 1; }, (v) => others.push("bad" + v));
      pp.part("ok", P.PANEL_MS, () => 1, (v) => others.push("ok" + v));
      pp.part("trend", P.FIGURE_MS, () => fig, (v) => figs.push(v));
    });
    p.schedule(); c.frame();
    assert.deepEqual(others, ["ok1"]);
    assert.deepEqual(figs, [1]);
    fail = false;
    c.advance(1000);  // the retry a second later draws the part that failed
    assert.deepEqual(others, ["ok1", "bad1"]);
    fig = 2;
    p.schedule(); c.frame();
    assert.deepEqual(figs, [1]);
    c.advance(4000);
    assert.deepEqual(figs, [1, 2]);
    assert.ok(globalThis.citybrain.paintStats.errors >= 1);
  } finally { console.error = quiet; }
});
