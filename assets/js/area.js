/* citybrain area: the drill-down pages (/subdistrict, /community, /cell) stay live. Their room
   (area:<id>) sends only the area's own paths; an event that concerns the area (a count, a health score,
   a case event in its cells, a device, a warning) asks the server to re-read it through the page's
   refresh store (window.dash_clientside.set_props), at most every THROTTLE_MS; so does a reconnect.
   Also the page's map: a click on a child area goes one level down; the colour key of the colouring. */
(function (name, factory) {
  "use strict";
  var g = typeof window !== "undefined" ? window : globalThis;
  var cb = (g.citybrain = g.citybrain || {});
  var node = typeof module === "object" && module && module.exports && typeof require === "function";
  var m = factory(node ? function (d) { return require("./" + d + ".js"); } : function (d) { return cb[d]; }, cb, g);
  if (node) { module.exports = m; } else { cb[name] = m; }
})("area", function (need, cb, root) {
  "use strict";

  var THROTTLE_MS = 4000;
  var A = { meta: null, ids: null, lastAsk: 0, timer: null, asked: 0 };

  function any(obj, fn) { return Object.keys(obj || {}).some(fn); }

  // Whether a delta message (new format) concerns the area whose ids (itself, its communities and
  // cells) are in the Set `ids`.
  function concerns(msg, ids) {
    if (any(msg.dev, function () { return true; })) { return true; }  // the room sends only the area's devices
    if (need("state").tickItems(msg.ticker).some(function (it) { return ids.has(it.cell); })) { return true; }
    var set = msg.set || {}, has = function (id) { return ids.has(id); };
    if (any(set.cells, has) || any(set.health, has)) { return true; }
    var scoped = function (m) { return any(m, function (scope) { return any(m[scope], has); }); };
    if (scoped(set.open) || scoped(set.overdue)) { return true; }
    return ["days", "hours"].some(function (k) {  // counts per area, and (days) handling times per area
      return any(set[k], function (key) { var d = set[k][key] || {}; return scoped(d.by) || scoped(d.hdur); });
    });
  }

  // Whether an "alerts" message concerns the area (a removal always may).
  function alertsConcern(msg, ids) {
    return (msg.changes || []).some(function (ch) {
      if ((ch.removed || []).length) { return true; }
      return (ch.alerts || []).some(function (a) { return (a.areas || [a.area]).some(function (id) { return ids.has(id); }); });
    });
  }

  function onPage() { return !!(A.meta && root.document.getElementById(A.meta.ids.root)); }

  function refresh(at) { root.dash_clientside.set_props(A.meta.ids.refresh, { data: at }); }

  // Ask the server to re-read the area now, or at the end of the throttle window.
  function ask() {
    A.asked += 1;
    cb.areaAsked = A.asked;
    var now = Date.now();
    if (now - A.lastAsk >= THROTTLE_MS) { A.lastAsk = now; refresh(now); return; }
    if (A.timer) { return; }
    var meta = A.meta;
    A.timer = root.setTimeout(function () {
      A.timer = null;
      if (A.meta !== meta || !onPage()) { return; }
      A.lastAsk = Date.now();
      refresh(A.lastAsk);
    }, THROTTLE_MS - (now - A.lastAsk));
  }

  function handler(test) {
    return function (msg) { if (msg && onPage() && test(msg, A.ids)) { ask(); } };
  }

  // Dash's callback on the page's meta: the page is there; its socket joins the area's room.
  function init(meta) {
    if (!meta || !meta.id) { return root.dash_clientside.no_update; }
    A.meta = meta;
    A.ids = new Set((meta.areas || []).concat(meta.cells || []));
    need("socket").open({
      auth: { pathname: root.location.pathname },
      on: { delta: handler(concerns), alerts: handler(alertsConcern) },
      status: function (state, reconnected) {
        if (onPage()) { need("livemark").connection(state, A.meta); }
        if (reconnected && onPage()) { ask(); }
      },
      alive: onPage,
    });
    return root.dash_clientside.no_update;
  }

  // The page's store of what it shows changed (a first read or a re-read): its read time on the as-of
  // mark (assets/js/livemark.js); the mark's tooltip is the full date and time.
  function asof(tables, meta) {
    var at = tables && tables.asof;
    if (!meta || !meta.ids || !at) { return root.dash_clientside.no_update; }
    need("livemark").read(at, meta);
    return need("format").stamp(at, meta.tz, null, true);
  }

  // A click on a child area on the map: one level down.
  function go(click, meta) {
    var p = click && (click.properties || (click.feature || {}).properties);
    var down = { subdistrict: "community", community: "cell" }[meta && meta.level];
    if (!p || !p.id || !down) { return root.dash_clientside.no_update; }
    return "/" + down + "/" + encodeURIComponent(p.id) + "?lang=" + encodeURIComponent(meta.lang);
  }

  // The colour key of the chosen map colouring.
  function legend(mode, meta) {
    var h = need("dom").h;
    return (((meta && meta.legend) || {})[mode] || []).map(function (it) {
      return h("Span", { className: "legend-item" }, [h("I", { style: { background: it[1] } }), it[0]]);
    });
  }

  if (root.document) {
    var dc = (root.dash_clientside = root.dash_clientside || {});
    dc.citybrainArea = Object.assign(dc.citybrainArea || {}, { init: init, go: go, legend: legend, asof: asof });
  }

  return { concerns: concerns, alertsConcern: alertsConcern, init: init, go: go, legend: legend, asof: asof };
});
