/* citybrain state: the wall's live state and the pushed deltas applied to it (pure functions).

   The state is the snapshot's shape (docs/DATA.md, GET /api/v1/snapshot): {seq, ts, boot, epoch, today,
   ticker (newest first), overdue_top, flow_hour, stage_median, cells: {cell: open}, kpi: {open, overdue,
   cameras, cameras_down}, open: {scope: {id: {stage: n}}}, overdue: {scope: {id: n}}, days: {yyyymmdd:
   {n, by, dur}}, hours: {yyyymmddhh: {n, by}}, health: {area: [score, colour]}}.

   A "delta" message {from, to, ts, boot, epoch, set?, ticker?, overdue_top?, dev?} carries the new
   values of what changed: applying it deep-merges `set` into the state (leaves replace), so a repeated
   or merged message is harmless. decide() says what to do with a message; the page (live.js) holds the
   messages that arrive while it fetches a snapshot and replays them on top of it. */
(function (name, factory) {
  "use strict";
  var g = typeof window !== "undefined" ? window : globalThis;
  var cb = (g.citybrain = g.citybrain || {});
  var node = typeof module === "object" && module && module.exports && typeof require === "function";
  var m = factory(node ? function (d) { return require("./" + d + ".js"); } : function (d) { return cb[d]; }, cb, g);
  if (node) { module.exports = m; } else { cb[name] = m; }
})("state", function (need, cb, root) {
  "use strict";

  var TICK_FIELDS = ["ts", "case", "cell", "type", "step", "dept", "priority"];  // a ticker item on the wire
  var TICKER_KEEP = 20;
  var GRACE_MS = 2000;  // a lower seq written this long after the page's snapshot: Redis was reset
  var PARTS = { cells: {}, kpi: {}, open: {}, overdue: {}, days: {}, hours: {}, health: {}, flow_hour: {},
    stage_median: {} };

  function isMap(v) { return v !== null && typeof v === "object" && !Array.isArray(v); }
  function clone(v) { return v === undefined ? undefined : JSON.parse(JSON.stringify(v)); }

  // Ticker items as objects: a delta's travel as lists in TICK_FIELDS order.
  function tickItems(list) {
    return (list || []).map(function (it) {
      if (!Array.isArray(it)) { return it; }
      var o = {};
      TICK_FIELDS.forEach(function (f, i) { o[f] = it[i] === undefined ? null : it[i]; });
      return o;
    });
  }

  // The page's state from a snapshot (a copy: the page mutates it); `cells` when they came apart.
  function fromSnapshot(snap, cells) {
    var st = clone(snap) || {};
    delete st.alerts;  // the alerts and the feeds' freshness have stores of their own
    delete st.feeds;
    if (cells) { st.cells = clone(cells); }
    Object.keys(PARTS).forEach(function (k) { if (!isMap(st[k])) { st[k] = {}; } });
    st.ticker = newestFirst(tickItems(st.ticker));
    st.overdue_top = st.overdue_top || [];
    if (typeof st.seq !== "number") { st.seq = -1; }
    return st;
  }

  // Deep-merge `patch` into `target`: maps merge, everything else (numbers, lists) replaces.
  function merge(target, patch) {
    Object.keys(patch).forEach(function (k) {
      var v = patch[k];
      if (isMap(v) && isMap(target[k])) { merge(target[k], v); } else { target[k] = isMap(v) ? clone(v) : v; }
    });
    return target;
  }

  // A message from another web process (a restart) or another Redis run: the page's state is suspect.
  function foreign(st, msg) {
    return !!(msg && msg.boot && st && st.boot && (msg.boot !== st.boot || msg.epoch !== st.epoch));
  }

  // What to do with a delta message: "restart" (another server or Redis run: resync), "old" (already
  // applied: ignore), "backwards" (a lower seq written after the snapshot: Redis was reset, resync),
  // "gap" (a delta never reached the page: resync) or "apply". opts.snapTs: the snapshot's server time.
  function decide(st, msg, opts) {
    if (foreign(st, msg)) { return "restart"; }
    var seq = st && typeof st.seq === "number" ? st.seq : -1;
    if (seq >= 0 && msg.to <= seq) {
      var grace = (opts && opts.grace) || GRACE_MS;
      return msg.to < seq && msg.ts > ((opts && opts.snapTs) || 0) + grace ? "backwards" : "old";
    }
    if (seq < 0 || msg.from > seq + 1) { return "gap"; }
    return "apply";
  }

  // A local day the page's counters are not of: they restart from a snapshot.
  function newDay(st, tz, now) { return !!(st && st.today) && need("format").dayKey(tz, now) !== st.today; }

  // Ticker items newest first by their event time (a late event goes where its time puts it, not on
  // top); equal times keep their order.
  function newestFirst(items) {
    return items.map(function (t, i) { return [t, i]; })
      .sort(function (a, b) { return (b[0].ts - a[0].ts) || (a[1] - b[1]); })
      .map(function (p) { return p[0]; });
  }

  function tickKey(t) { return [t.ts, t.case, t.step, t.cell].join("|"); }

  // Apply one message (decide() said "apply"); returns the cell ids whose count changed.
  function apply(st, msg, tz, now) {
    var changed = [], set = msg.set;
    if (isMap(set)) {
      if (isMap(set.cells)) {
        Object.keys(set.cells).forEach(function (id) { if (st.cells[id] !== set.cells[id]) { changed.push(id); } });
      }
      merge(st, set);
    }
    if (msg.ticker && msg.ticker.length) {  // newest first on the page, by the events' own times
      var seen = {};
      st.ticker.forEach(function (t) { seen[tickKey(t)] = true; });
      var fresh = tickItems(msg.ticker).filter(function (t) { return !seen[tickKey(t)]; });
      st.ticker = newestFirst(fresh.concat(st.ticker)).slice(0, TICKER_KEEP);
    }
    if (msg.overdue_top) { st.overdue_top = msg.overdue_top; }
    st.seq = Math.max(st.seq, msg.to);
    if (msg.ts) { st.ts = msg.ts; }
    bound(st, tz, now);
    return changed;
  }

  // Keep only today's day and the last 24 local hours (memory stays bounded all day and night).
  function bound(st, tz, now) {
    if (st.today) {
      Object.keys(st.days).forEach(function (d) { if (d !== st.today) { delete st.days[d]; } });
    }
    var start = need("format").lastHours(tz, now)[0];
    var keys = Object.keys(st.hours).sort();
    keys.forEach(function (h, i) { if (h < start || i < keys.length - 24) { delete st.hours[h]; } });
  }

  // The held messages on top of a fresh state, in seq order; again: a hole remains (another snapshot).
  function replay(st, held, tz, now) {
    var again = false, changed = [];
    held.slice().sort(function (a, b) { return a.from - b.from; }).forEach(function (msg) {
      if (again || foreign(st, msg) || msg.to <= st.seq) { return; }
      if (msg.from > st.seq + 1) { again = true; return; }
      changed = changed.concat(apply(st, msg, tz, now));
    });
    return { again: again, cells: changed };
  }

  // The record kinds a message brings news of (a panel's data age follows its kind).
  function kindsOf(msg) {
    var out = {}, set = msg.set || {};
    if (msg.ticker && msg.ticker.length) { out.case_event = true; }
    ["cells", "open", "overdue", "hours"].forEach(function (k) {
      if (isMap(set[k]) && Object.keys(set[k]).length) { out.case_event = true; }
    });
    Object.keys(set.kpi || {}).forEach(function (k) { out[k.indexOf("camera") === 0 ? "camera_status" : "case_event"] = true; });
    Object.keys(set.days || {}).forEach(function (d) {
      var day = set.days[d] || {};
      Object.keys(day.n || {}).forEach(function (k) { out[k === "readings" ? "sensor_reading" : "case_event"] = true; });
      if (Object.keys(day.by || {}).length || Object.keys(day.dur || {}).length) { out.case_event = true; }
    });
    return Object.keys(out);
  }

  // ---- reading the state (the panels' models)

  // Today's counts: {n: {<step>|ontime|late|readings: n}, by: {scope: {id: {...}}}, dur}.
  function today(st) {
    var d = (st && st.days && st.days[st.today]) || {};
    return { n: d.n || {}, by: d.by || {}, dur: d.dur || {} };
  }

  // The sum of a map's values (a scope id's open cases over its stages).
  function total(m) {
    var n = 0;
    Object.keys(m || {}).forEach(function (k) { n += m[k] || 0; });
    return n;
  }

  return {
    TICK_FIELDS: TICK_FIELDS, TICKER_KEEP: TICKER_KEEP, GRACE_MS: GRACE_MS,
    tickItems: tickItems, fromSnapshot: fromSnapshot, merge: merge, foreign: foreign, decide: decide, newDay: newDay,
    apply: apply, bound: bound, replay: replay, kindsOf: kindsOf, today: today, total: total, clone: clone,
  };
});
