/* citybrain wall: the wall page (/ and /wall). Dash's init callback hands it the page's meta (strings,
   names, the ids it paints: layouts/ids.py), the snapshot it was built from, the cells layer's hideout,
   the feeds' freshness and the active alerts; from then on the socket's events (live.js, alerts.js) keep
   its state and each frame paints what changed straight into the DOM: the cells restyled one by one, the
   counters as text, each panel rebuilt only when its model changed (at most every 250 ms), the figures
   at most every 5 s. A 1 s tick writes the clock, the data ages and the overdue rows' "late by".
   Also the wall map's colour switch and "click a cell: its subdistrict". */
(function (name, factory) {
  "use strict";
  var g = typeof window !== "undefined" ? window : globalThis;
  var cb = (g.citybrain = g.citybrain || {});
  var node = typeof module === "object" && module && module.exports && typeof require === "function";
  var m = factory(node ? function (d) { return require("./" + d + ".js"); } : function (d) { return cb[d]; }, cb, g);
  if (node) { module.exports = m; } else { cb[name] = m; }
})("wall", function (need, cb, root) {
  "use strict";

  var MOUNT_WAIT_MS = 5000;
  var painter = null;

  function into(id, view) { return function (v) { need("dom").paintInto(id, view(v)); }; }

  // One frame: everything the events changed since the last one (all of it after a snapshot).
  function frame(p) {
    var L = need("live"), c = L.cur();
    if (!c || !L.onPage()) { return; }
    var meta = c.meta, st = c.st, I = meta.ids, P = need("paint"), PANEL = P.PANEL_MS, FIG = P.FIGURE_MS;
    var cells = need("cells"), changed = L.takeCells(), dom = need("dom");
    p.safely("cells", function () { need("map").restyle(changed, st.cells, p.all); });
    p.safely("kpis", function () { need("kpis").paint(st, meta); });
    p.part("top", PANEL, function () { return cells.top(st.cells); }, into(I.topCells, function (v) { return cells.topView(v, meta); }));
    p.part("subs", PANEL, function () { return cells.subTotals(st.cells, meta); },
      into(I.subTotals, function (v) { return cells.subView(v, meta); }));
    ["flow", "league", "ticker"].forEach(function (name) {
      var mod = need(name);
      p.part(name, PANEL, function () { return mod.model(st, meta); }, into(I[name], function (v) { return mod.view(v, meta); }));
    });
    p.part("overdue", PANEL, function () { return need("overdue").model(st); },
      into(I.overdue, function (v) { return need("overdue").view(v, meta, Date.now()); }));
    var cat = need("category"), cc = null;
    p.part("catlegend", PANEL, function () { cc = cat.counts(st, meta); return cc; }, function (v) {
      dom.paintInto(I.categoryLegend, cat.legend(v, meta));
      dom.setText(I.categoryTotal, need("format").num(v.total, meta.lang));
    });
    p.part("cat", FIG, function () { return cat.figure(cc || cat.counts(st, meta), meta); },
      function (f) { return p.figure(I.categoryGraph, f, meta.graph_config); },
      function (f) { return JSON.stringify(f.data[0].values); });
    var tr = need("trend");
    p.part("trend", FIG, function () { return tr.series(st, meta.tz, Date.now()); },
      function (s) { return p.figure(I.trendGraph, tr.figure(s, meta), meta.graph_config); });
  }

  // The figures' graphs are mounted once the first screen is complete (the cells drawn, the devices
  // loaded, or 5 s): plotly.js (1 MB) then loads and compiles after the map and the counters are up.
  function mountFigures(meta) {
    var t0 = Date.now(), L = need("live");
    (function wait() {
      var c = L.cur();
      if (!c || c.meta !== meta || !L.onPage()) { return; }
      var dev = cb.devices, late = Date.now() - t0 > MOUNT_WAIT_MS;
      if (!late && (!root.document.querySelector("path.cell") || (dev && !dev.ready))) { root.setTimeout(wait, 100); return; }
      Object.keys(meta.graphs || {}).forEach(function (box) {
        if (root.document.getElementById(box)) { root.dash_clientside.set_props(box, { children: meta.graphs[box] }); }
      });
      cb.figuresMounted = Date.now() - t0;
      if (painter) { painter.schedule(); }
    })();
  }

  // Every second: the clock, each panel's data age, the overdue rows' "late by", a new local day.
  function tick() {
    var L = need("live"), c = L.cur();
    if (!c || !L.onPage()) { return; }
    var meta = c.meta, now = Date.now();
    need("dom").setText(meta.ids.clock, need("format").time(now, meta.tz, meta.lang, "clock"));
    L.tick(now);
    need("freshness").paint(meta, now);
    need("overdue").tick(c.st, meta, now);
  }

  // Dash's init callback: the page is there (Output: the clock's title, the time zone).
  function init(meta, live, hideout, feeds, alerts) {
    if (!meta || !live || !hideout) { return root.dash_clientside.no_update; }
    root.document.documentElement.setAttribute("data-cb-lang", meta.lang);
    if (painter) { painter.stop(); }
    painter = need("paint").create(frame);
    need("map").wallStart(meta.ids, hideout);
    need("sound").start(meta);
    need("alerts").start(alerts, meta);
    need("freshness").feeds(feeds || null);
    if (feeds) { need("freshness").snapshot(feeds.ts); }
    need("live").start(meta, live, hideout, painter, { alerts: need("alerts").onMessage });
    painter.all = true;
    painter.now();
    mountFigures(meta);
    tick();
    return meta.tz;
  }

  // The colour switch: the cells' hideout mode ("health" / "open" / "alerts") with the active alerts
  // as {area id: most severe level} and the health scores the page keeps.
  function colour(mode, store, meta) {
    if (!meta || !root.document.getElementById(meta.ids.map)) { return root.dash_clientside.no_update; }
    var levels = {}, rank = {}, colours = {};
    Object.keys(meta.levels || {}).forEach(function (k) { rank[k] = meta.levels[k].rank; colours[k] = meta.levels[k].colour; });
    ((store && store.alerts) || []).forEach(function (a) {
      var id = a.area;  // the most specific area the alert is raised on
      if (id && (!levels[id] || rank[a.level] > rank[levels[id]])) { levels[id] = a.level; }
    });
    var extra = { mode: mode || "open", alerts: levels, level_colours: colours }, c = need("live").cur();
    if (c && c.meta === meta) {
      extra.health = Object.assign({}, c.st.health);
      need("map").setWallHideout(extra);
    } else {
      need("map").pend(extra);
    }
    return mode;
  }

  // A click on a cell of the wall's map: its subdistrict's page.
  function go(click, meta) {
    var p = click && (click.properties || (click.feature || {}).properties);
    if (!p || !p.subdistrict_id) { return root.dash_clientside.no_update; }
    return "/subdistrict/" + encodeURIComponent(p.subdistrict_id) + "?lang=" + encodeURIComponent((meta || {}).lang || "zh-CN");
  }

  if (root.document) {
    root.setInterval(tick, 1000);
    var dc = (root.dash_clientside = root.dash_clientside || {});
    dc.citybrain = Object.assign(dc.citybrain || {}, {
      init: init,
      alerts: function (store, meta) { return need("alertview").render(store, meta); },
      sound: function (n, meta) { return need("sound").toggle(n, meta); },
      wallColour: colour,
      wallGo: go,
    });
  }

  return { init: init, frame: frame, tick: tick };
});
