/* citybrain case: one case's page (/case/<id>) stays live. Its room (case:<id>) sends the case's own
   events; each one, read off the socket (none coalesced), asks the server to re-read the case through
   the page's refresh store; so does a reconnect. The current stage's "late by" / "time left" grows
   every second (display only). The connection and as-of marks: assets/js/livemark.js. */
(function (name, factory) {
  "use strict";
  var g = typeof window !== "undefined" ? window : globalThis;
  var cb = (g.citybrain = g.citybrain || {});
  var node = typeof module === "object" && module && module.exports && typeof require === "function";
  var m = factory(node ? function (d) { return require("./" + d + ".js"); } : function (d) { return cb[d]; }, cb, g);
  if (node) { module.exports = m; } else { cb[name] = m; }
})("case", function (need, cb, root) {
  "use strict";

  var C = { meta: null };

  function onPage() { return !!(C.meta && root.document.getElementById(C.meta.ids.root)); }

  function refresh() {
    cb.caseRefreshes = (cb.caseRefreshes || 0) + 1;
    root.dash_clientside.set_props(C.meta.ids.refresh, { data: Date.now() });
  }

  // Whether a delta message names the case.
  function mine(msg, caseId) {
    return need("state").tickItems(msg && msg.ticker).some(function (t) { return t.case === caseId; });
  }

  // Dash's callback on the page's meta: the page is there; its socket joins the case's room.
  function init(meta) {
    if (!meta || !meta.case) { return root.dash_clientside.no_update; }
    C.meta = meta;
    need("socket").open({
      auth: { pathname: root.location.pathname },
      on: { delta: function (msg) { if (onPage() && mine(msg, C.meta.case)) { refresh(); } } },
      status: function (state, reconnected) {
        if (onPage()) { need("livemark").connection(state, C.meta); }
        if (reconnected && onPage()) { refresh(); }
      },
      alive: onPage,
    });
    return root.dash_clientside.no_update;
  }

  // [text, className] of the current stage's time: left, late, or over.
  function clockText(live, meta, now) {
    var S = meta.strings, F = need("format");
    if (!live.open || !live.deadline) { return [S.case_over, "case-late muted"]; }
    var left = live.deadline - now;
    return left >= 0
      ? [F.fill(S.case_left, { d: F.duration(left, S, meta.lang) }), "case-late ok"]
      : [F.fill(S.case_late, { d: F.duration(-left, S, meta.lang) }), "case-late bad"];
  }

  // Each second: the stage's clock, and the as-of mark (when the case was last read: live.asof).
  function clock(_n, live, meta) {
    var NOUP = root.dash_clientside.no_update;
    if (live && live.asof && meta && meta.ids) { need("livemark").read(live.asof, meta); }
    return live && meta ? clockText(live, meta, Date.now()) : [NOUP, NOUP];
  }

  if (root.document) {
    var dc = (root.dash_clientside = root.dash_clientside || {});
    dc.citybrain = Object.assign(dc.citybrain || {}, { caseInit: init, caseClock: clock });
  }

  return { mine: mine, clockText: clockText, init: init };
});
