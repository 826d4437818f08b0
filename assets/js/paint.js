/* citybrain paint: what the page paints, and when. A frame is asked for when something changed and runs
   at the next animation frame; each part of the screen is rebuilt only when what it shows changed (its
   model's signature) and at most every PANEL_MS (a figure: FIGURE_MS, and never two figures within
   FIGURE_GAP_MS), so a burst of deltas costs a few rebuilds and rows stay put between changes (a click on
   them lands). A part that fails is logged and tried again a second later; the others paint regardless.
   Diagnostics: window.citybrain.paintStats {n, ms, max, errors, parts: {key: ms}}. */
(function (name, factory) {
  "use strict";
  var g = typeof window !== "undefined" ? window : globalThis;
  var cb = (g.citybrain = g.citybrain || {});
  var node = typeof module === "object" && module && module.exports && typeof require === "function";
  var m = factory(node ? function (d) { return require("./" + d + ".js"); } : function (d) { return cb[d]; }, cb, g);
  if (node) { module.exports = m; } else { cb[name] = m; }
})("paint", function (need, cb, root) {
  "use strict";

  var PANEL_MS = 250, FIGURE_MS = 5000, FIGURE_GAP_MS = 1000, RETRY_MS = 1000;
  var stats = (cb.paintStats = cb.paintStats || { n: 0, ms: 0, max: 0, parts: {} });

  function now() { return root.performance ? root.performance.now() : Date.now(); }

  function failed(key, err) {
    stats.errors = (stats.errors || 0) + 1;
    if (root.console) { root.console.error("citybrain paint:", key, err); }
  }

  // A painter around frame(p): p.part(...) inside it paints one part of the screen.
  function create(frame) {
    var p = { sig: {}, at: {}, all: true, raf: 0, timer: 0, figAt: 0, dead: false };

    function run() {
      p.raf = 0;
      if (p.dead) { return; }
      var t0 = now();
      try { frame(p); } catch (err) { failed("frame", err); }
      p.all = false;
      var ms = now() - t0;
      stats.n += 1;
      stats.ms += ms;
      stats.max = Math.max(stats.max, ms);
    }

    // Paint at the next animation frame (once however often asked).
    p.schedule = function () { if (!p.raf && !p.dead) { p.raf = root.requestAnimationFrame(run); } };
    p.now = run;  // paint now (a new page, a snapshot: with p.all set)
    p.later = function (ms) {
      if (!p.timer && !p.dead) { p.timer = root.setTimeout(function () { p.timer = 0; run(); }, Math.max(0, ms)); }
    };
    p.stop = function () { p.dead = true; };

    // One part: build() its model, compare the signature, draw(model) (false: not drawn yet, retry).
    p.part = function (key, every, build, draw, sigOf) {
      var t = Date.now(), wait = every - (t - (p.at[key] || 0));
      if (!p.all && wait > 0) { p.later(wait); return; }
      var drawn = true, sig;
      try {
        var value = build();
        sig = sigOf ? sigOf(value) : JSON.stringify(value);
        if (p.sig[key] === sig) { return; }
        var t0 = now();
        drawn = draw(value) !== false;
        stats.parts[key] = (stats.parts[key] || 0) + (now() - t0);
      } catch (err) {
        failed(key, err);
        drawn = false;
      }
      if (!drawn) { p.later(RETRY_MS); return; }
      p.sig[key] = sig;
      p.at[key] = t;
    };

    // A part painted at every frame (cells, counters): no signature, only a guard.
    p.safely = function (key, fn) {
      var t0 = now();
      try { fn(); } catch (err) { failed(key, err); }
      stats.parts[key] = (stats.parts[key] || 0) + (now() - t0);
    };

    p.figure = function (graphId, fig, config) { return figure(p, graphId, fig, config); };
    return p;
  }

  // A plotly figure drawn on its graph's div (dcc.Graph made it; Dash never re-sends it); false: not yet.
  function figure(p, graphId, fig, config) {
    var gd = root.document.querySelector("#" + graphId + " .js-plotly-plot");
    if (!gd || !root.Plotly) { return false; }  // plotly still loading: the next try draws it
    if (!p.all && Date.now() - p.figAt < FIGURE_GAP_MS) { return false; }  // the other one just did
    root.Plotly.react(gd, fig.data, fig.layout, config);
    p.figAt = Date.now();
    return true;
  }

  return { create: create, PANEL_MS: PANEL_MS, FIGURE_MS: FIGURE_MS, FIGURE_GAP_MS: FIGURE_GAP_MS };
});
