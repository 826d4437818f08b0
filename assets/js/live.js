/* citybrain live: the wall's own state, kept by the events read off the socket, in arrival order.

   A delta is applied to the page's state (state.js) as it arrives and what it changed is painted at the
   next animation frame (wall.js): no Dash store is written on this path (a store write makes Dash re-run
   every callback that reads it). A gap in seq, a message from another server or Redis run, a seq going
   backwards (Redis reset), a reconnect, a new local day or a tab shown again after a while: the page
   fetches /api/v1/snapshot, holds the deltas that arrive meanwhile and applies them on top of it.
   Diagnostics: window.citybrain.applied, resyncs, resyncWhy, dropped, lastDelta, liveCounts(), wallLive(),
   test.dropNext(n). */
(function (name, factory) {
  "use strict";
  var g = typeof window !== "undefined" ? window : globalThis;
  var cb = (g.citybrain = g.citybrain || {});
  var node = typeof module === "object" && module && module.exports && typeof require === "function";
  var m = factory(node ? function (d) { return require("./" + d + ".js"); } : function (d) { return cb[d]; }, cb, g);
  if (node) { module.exports = m; } else { cb[name] = m; }
})("live", function (need, cb, root) {
  "use strict";

  var SNAP_TIMEOUT_MS = 10000, RETRY_MS = 2000, DAY_RESYNC_MS = 30000, HIDDEN_MS = 10000;
  var cur = null;  // {meta, st, painter, cells: {changed cell id: true}}
  var sync = { resyncing: false, held: [], retry: 0, dropping: 0, dayAt: 0, hiddenAt: null };

  // The wall's ids are in the document (the app's router may have gone on to another page).
  function onPage() { return !!(cur && root.document.getElementById(cur.meta.ids.map)); }

  function count(name, why) {
    if (why) {
      var w = (cb.resyncWhy = cb.resyncWhy || {});
      w[why] = (w[why] || 0) + 1;
      return;
    }
    cb[name] = (cb[name] || 0) + 1;
  }

  // A new wall page: its state is the snapshot it was built from; then the socket keeps it.
  function start(meta, live, hideout, painter, handlers) {
    var st = need("state").fromSnapshot(live, hideout.counts);
    need("state").bound(st, meta.tz, Date.now());
    cur = { meta: meta, st: st, painter: painter, cells: {} };
    sync.resyncing = false;
    sync.held = [];
    need("freshness").snapshot(st.ts || 0);
    need("socket").open({
      auth: { pathname: root.location.pathname, view: meta.view },
      on: Object.assign({ delta: onDelta, flow: onFlow, feeds: onFeeds }, handlers),
      status: onStatus,
      alive: onPage,
    });
  }

  function onStatus(state, reconnected) {
    need("freshness").connection(state, cur && cur.meta);
    if (reconnected) {
      resync("reconnect");
      if (need("alerts").refetch) { need("alerts").refetch(); }
    }
  }

  // One "delta" message: apply it, or hold it and resync on a gap, a restart, a reset.
  function onDelta(raw) {
    if (!cur || !raw || !onPage()) { return; }
    need("freshness").heard();
    if (sync.dropping > 0) { sync.dropping -= 1; count("dropped"); return; }  // the test hook: "lost"
    if (cb.devices) { cb.devices.apply(raw); }  // the map's devices keep their own seq (devices.js)
    if (sync.resyncing) { sync.held.push(raw); return; }  // goes on top of the coming snapshot
    var S = need("state"), verdict = S.decide(cur.st, raw, { snapTs: need("freshness").snapTs() });
    if (verdict === "old") { return; }
    if (verdict !== "apply") {
      resync(verdict);
      if (verdict !== "backwards") { sync.held.push(raw); }
      return;
    }
    var now = Date.now();
    if (S.newDay(cur.st, cur.meta.tz, now)) { dayResync(now); return; }  // counters restart from a snapshot
    S.apply(cur.st, raw, cur.meta.tz, now).forEach(function (id) { cur.cells[id] = true; });
    S.kindsOf(raw).forEach(function (k) { need("freshness").dataAt(k, raw.ts); });
    if (raw.set && raw.set.health) { need("map").setWallHideout({ health: Object.assign({}, cur.st.health) }); }
    count("applied");
    cb.lastDelta = raw;
    cur.painter.schedule();
  }

  function dayResync(now) {
    if (now - sync.dayAt > DAY_RESYNC_MS) { sync.dayAt = now; resync("day"); }
  }

  // The stage entries of the last hour and the stages' median times (every 30 s).
  function onFlow(flow) {
    if (!cur || !flow || !onPage()) { return; }
    need("freshness").heard();
    cur.st.flow_hour = flow.flow_hour || {};
    cur.st.stage_median = flow.stage_median || cur.st.stage_median || {};
    if (flow.due_soon) { cur.st.due_soon = flow.due_soon; }
    cur.painter.schedule();
  }

  // The feeds' freshness per record kind; a message from another server run: resync.
  function onFeeds(msg) {
    if (!cur || !msg || !msg.kinds || !onPage()) { return; }
    need("freshness").heard();
    if (need("state").foreign(cur.st, msg)) { resync("restart"); }
    need("freshness").feeds(msg);
  }

  // Fetch a fresh snapshot and make it the page's state, with the held deltas on top.
  function resync(why) {
    if (sync.resyncing || !onPage()) { return; }
    count(null, why || "other");
    sync.resyncing = true;
    sync.held = [];
    if (cb.devices) { cb.devices.resync(); }
    var again = false, page = cur;
    var abort = root.AbortController ? new root.AbortController() : null;  // a server that never answers
    var timeout = abort ? root.setTimeout(function () { abort.abort(); }, SNAP_TIMEOUT_MS) : null;
    root.fetch("/api/v1/snapshot", { cache: "no-store", signal: abort ? abort.signal : undefined })
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(function (snap) {
        if (cur !== page) { return; }
        again = adopt(snap);
        count("resyncs");
      })
      .catch(function () {  // the server is away or failing: try again in a while (or at the next delta)
        if (!sync.retry) { sync.retry = root.setTimeout(function () { sync.retry = 0; resync("retry"); }, RETRY_MS); }
      })
      .then(function () {
        root.clearTimeout(timeout);
        sync.resyncing = false;
        sync.held = [];
        if (again) { resync("hole"); }
      });
  }

  // A fetched snapshot becomes the state; returns true when the held deltas leave a hole.
  function adopt(snap) {
    var S = need("state"), F = need("freshness"), now = Date.now();
    var st = S.fromSnapshot(snap);
    S.bound(st, cur.meta.tz, now);
    F.heard();
    F.snapshot(snap.ts);
    F.feeds({ ts: snap.ts, kinds: snap.feeds || {} });
    var again = S.replay(st, sync.held, cur.meta.tz, now).again;
    cur.st = st;
    if (st.health) { need("map").setWallHideout({ health: Object.assign({}, st.health) }); }
    cur.painter.all = true;  // every cell and panel against the snapshot
    cur.painter.now();
    return again;
  }

  // Every second (wall.js): a new local day restarts the counters from a snapshot.
  function tick(now) {
    if (cur && onPage() && need("state").newDay(cur.st, cur.meta.tz, now)) { dayResync(now); }
  }

  if (root.document) {  // a hidden tab's timers are throttled: shown again after a while, start afresh
    root.document.addEventListener("visibilitychange", function () {
      if (root.document.hidden) { sync.hiddenAt = Date.now(); return; }
      if (sync.hiddenAt !== null && Date.now() - sync.hiddenAt > HIDDEN_MS) { resync("visible"); }
      sync.hiddenAt = null;
    });
  }

  cb.liveCounts = function () { return cur && onPage() ? cur.st.cells : null; };
  cb.wallLive = function () { return cur && onPage() ? cur.st : null; };
  cb.test = Object.assign(cb.test || {}, { dropNext: function (n) { sync.dropping += n || 1; } });

  return {
    start: start, resync: resync, tick: tick, onPage: onPage,
    cur: function () { return cur; },
    takeCells: function () { var c = cur ? Object.keys(cur.cells) : []; if (cur) { cur.cells = {}; } return c; },
  };
});
