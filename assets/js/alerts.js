/* citybrain alerts: the page's active warnings (预警), kept by the "alerts" events by seq.

   The event carries consecutive changes {from, to, changes: [{seq, alerts, removed}]}; a message is
   applied when it follows the page's seq (changes it already has are skipped); on a gap (or after a
   reconnect) the page refetches GET /api/v1/alerts and applies the changes held meanwhile on top. The
   store (wall-alerts) is then handed to Dash, whose callback (alertview.js) draws the banner, the list,
   the counters and the outlines: they change rarely. Diagnostics: window.citybrain.alertsApplied,
   alertRefetches, alertsNow (sorted). */
(function (name, factory) {
  "use strict";
  var g = typeof window !== "undefined" ? window : globalThis;
  var cb = (g.citybrain = g.citybrain || {});
  var node = typeof module === "object" && module && module.exports && typeof require === "function";
  var m = factory(node ? function (d) { return require("./" + d + ".js"); } : function (d) { return cb[d]; }, cb, g);
  if (node) { module.exports = m; } else { cb[name] = m; }
})("alerts", function (need, cb, root) {
  "use strict";

  var ACTIVE = { firing: 1, acknowledged: 1, silenced: 1 };
  var A = { store: null, fetching: false, held: [], meta: null };

  // The store after one message's changes (those newer than its seq); removed or ended alerts leave.
  function apply(store, msg) {
    var byId = {};
    (store.alerts || []).forEach(function (a) { byId[a.id] = a; });
    (msg.changes || []).forEach(function (ch) {
      if (ch.seq <= store.seq) { return; }
      (ch.alerts || []).forEach(function (a) { if (ACTIVE[a.status]) { byId[a.id] = a; } else { delete byId[a.id]; } });
      (ch.removed || []).forEach(function (id) { delete byId[id]; });
    });
    return { seq: Math.max(store.seq, msg.to), alerts: Object.keys(byId).map(function (k) { return byId[k]; }) };
  }

  // What to do with a message: "old" (had it), "gap" (refetch) or "apply".
  function decide(store, msg) {
    if (msg.to <= store.seq) { return "old"; }
    return store.seq < 0 || msg.from > store.seq + 1 ? "gap" : "apply";
  }

  function rank(levels, a) { return (levels[a.level] || {}).rank || 0; }

  // Most severe first, then newest, then by id.
  function sort(list, levels) {
    return list.slice().sort(function (a, b) {
      return rank(levels, b) - rank(levels, a) || (b.fired || b.started) - (a.fired || a.started) || (a.id < b.id ? -1 : 1);
    });
  }

  // The banner's alert: the first firing one of a sorted list, else the first acknowledged; null: none.
  function top(list) {
    return list.filter(function (a) { return a.status === "firing"; })[0] ||
      list.filter(function (a) { return a.status === "acknowledged"; })[0] || null;
  }

  var LEVEL_RANK = { blue: 1, yellow: 2, orange: 3, red: 4 };

  // What sounds: the unacknowledged warnings at or above level `min` (default yellow): {level: the most
  // severe of them (its tone), ids} or null.
  function loud(list, min) {
    var floor = LEVEL_RANK[min || "yellow"] || 2;
    var l = list.filter(function (a) { return a.status === "firing" && (LEVEL_RANK[a.level] || 0) >= floor; });
    if (!l.length) { return null; }
    var top = l.reduce(function (m, a) { return LEVEL_RANK[a.level] > LEVEL_RANK[m] ? a.level : m; }, l[0].level);
    return { level: top, ids: l.map(function (a) { return a.id; }) };
  }

  // What the map outlines: per cell and per community the highest level, and whether any is unacknowledged.
  function areas(list, meta) {
    var cells = {}, comms = {};
    list.forEach(function (a) {
      var target = meta.cells[a.area] ? cells : (meta.community_names[a.area] ? comms : null);
      if (!target) { return; }
      var prev = target[a.area], firing = a.status === "firing";
      if (!prev || rank(meta.levels, a) > (meta.levels[prev[0]] || {}).rank) {
        target[a.area] = [a.level, firing || (prev ? prev[1] : false)];
      } else if (firing) { prev[1] = true; }
    });
    return [cells, comms];
  }

  // ---- the page's store

  function start(store, meta) {
    A.store = store || { seq: -1, alerts: [] };
    A.meta = meta;
    A.fetching = false;
    A.held = [];
  }

  function set(store) {
    A.store = store;
    root.dash_clientside.set_props(A.meta.ids.alerts, { data: store });
  }

  // One "alerts" message, in arrival order.
  function onMessage(msg) {
    if (!A.store || !msg || !msg.changes || !need("live").onPage()) { return; }
    need("freshness").heard();
    if (A.fetching) { A.held.push(msg); return; }
    var verdict = decide(A.store, msg);
    if (verdict === "old") { return; }
    if (verdict === "gap") { A.held.push(msg); refetch(); return; }
    cb.alertsApplied = (cb.alertsApplied || 0) + 1;
    set(apply(A.store, msg));
  }

  function refetch() {
    if (A.fetching || !A.store || !need("live").onPage()) { return; }
    A.fetching = true;
    var again = false;
    root.fetch("/api/v1/alerts", { cache: "no-store" })
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(function (body) {
        var store = { seq: body.seq, alerts: body.alerts || [] };
        A.held.sort(function (a, b) { return a.from - b.from; }).forEach(function (m) {
          if (again || m.to <= store.seq) { return; }
          if (m.from > store.seq + 1) { again = true; return; }
          store = apply(store, m);
        });
        set(store);
        cb.alertRefetches = (cb.alertRefetches || 0) + 1;
      })
      .catch(function () { again = false; /* the next change or reconnect tries again */ })
      .then(function () { A.fetching = false; A.held = []; if (again) { refetch(); } });
  }

  return {
    apply: apply, decide: decide, sort: sort, top: top, loud: loud, areas: areas, start: start,
    onMessage: onMessage, refetch: refetch, meta: function () { return A.meta; },
  };
});
