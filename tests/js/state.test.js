/* The wall's state and the new wire format (docs/DATA.md): snapshots, delta application (repeated,
   merged, overlapping, out of order, with a gap), resync decisions, bounds on days and hours. */
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { js, local, TZ } = require("./helpers.js");

const S = js("state");
const NOW = local(2026, 12, 8, 14, 30);  // 14:30 on 8 Dec, Asia/Shanghai
const TODAY = "20261208";

function snapshot(extra) {
  return Object.assign({
    seq: 10, ts: NOW - 1000, boot: "b1", epoch: "e1", today: TODAY,
    ticker: [{ ts: NOW - 5000, case: "K-1", cell: "ZM-0001", type: "CM-0101", step: "reported", dept: null, priority: "normal" }],
    overdue_top: [], flow_hour: {}, stage_median: {},
    cells: { "ZM-0001": 2, "SW-0001": 1 },
    kpi: { open: 3, overdue: 1, cameras: 100, cameras_down: 4 },
    open: { district: { all: { registration: 2, handle: 1 } }, dept: { cg: { handle: 1 } } },
    overdue: { district: { all: 1 }, dept: { cg: 1 } },
    days: { [TODAY]: { n: { reported: 5, closed: 2, readings: 900 }, by: { cat: { disputes: { reported: 3 } } }, dur: {} } },
    hours: { 2026120814: { n: { reported: 1 }, by: {} } },
    health: { "ZM-0001": [92, "#1a9850"] },
    alerts: { seq: 3, alerts: [] }, feeds: { case_event: {} },
  }, extra || {});
}

function delta(from, to, extra) { return Object.assign({ from, to, ts: NOW, boot: "b1", epoch: "e1" }, extra || {}); }

test("a snapshot becomes the page's own copy, without alerts and feeds", () => {
  const snap = snapshot();
  const st = S.fromSnapshot(snap);
  st.cells["ZM-0001"] = 99;
  st.kpi.open = 99;
  assert.equal(snap.cells["ZM-0001"], 2);
  assert.equal(snap.kpi.open, 3);
  assert.equal(st.alerts, undefined);
  assert.equal(st.feeds, undefined);
  const bare = S.fromSnapshot({ seq: -1, ts: 0 });
  assert.deepEqual([bare.cells, bare.days, bare.ticker, bare.overdue_top], [{}, {}, [], []]);
  assert.deepEqual(S.fromSnapshot(snap, { "ZM-0002": 4 }).cells, { "ZM-0002": 4 });
});

test("applying a delta deep-merges its set: leaves replace, siblings stay", () => {
  const st = S.fromSnapshot(snapshot());
  const changed = S.apply(st, delta(11, 11, {
    set: {
      cells: { "ZM-0001": 3, "SW-0001": 1 },
      kpi: { open: 4 },
      open: { district: { all: { registration: 3 } } },
      days: { [TODAY]: { n: { reported: 6 }, by: { cat: { disputes: { reported: 4 } } } } },
      health: { "ZM-0001": [70, "#d9c31c"] },
    },
  }), TZ, NOW);
  assert.deepEqual(changed, ["ZM-0001"]);  // SW-0001 was sent with its old value
  assert.equal(st.seq, 11);
  assert.deepEqual(st.kpi, { open: 4, overdue: 1, cameras: 100, cameras_down: 4 });
  assert.deepEqual(st.open.district.all, { registration: 3, handle: 1 });
  assert.deepEqual(st.open.dept, { cg: { handle: 1 } });
  assert.deepEqual(st.days[TODAY].n, { reported: 6, closed: 2, readings: 900 });
  assert.deepEqual(st.health["ZM-0001"], [70, "#d9c31c"]);
});

test("a repeated message is ignored, and applying it again anyway changes nothing", () => {
  const st = S.fromSnapshot(snapshot());
  const msg = delta(11, 12, { set: { kpi: { open: 7 }, cells: { "ZM-0001": 5 } } });
  assert.equal(S.decide(st, msg, { snapTs: st.ts }), "apply");
  S.apply(st, msg, TZ, NOW);
  const once = JSON.stringify(st);
  assert.equal(S.decide(st, msg, { snapTs: st.ts }), "old");
  S.apply(st, msg, TZ, NOW);
  assert.equal(JSON.stringify(st), once);
});

test("a merged message equals its parts applied one by one", () => {
  const parts = [
    delta(11, 11, { set: { kpi: { open: 4 }, cells: { "ZM-0001": 3 } }, ticker: [[NOW - 3000, "K-2", "ZM-0001", "CM-0101", "reported", null, "normal"]] }),
    delta(12, 12, { set: { kpi: { open: 5, overdue: 2 } }, ticker: [[NOW - 2000, "K-3", "SW-0001", "CM-0101", "reported", null, "urgent"]] }),
    delta(13, 13, { set: { cells: { "ZM-0001": 2 } }, overdue_top: [{ case: "K-1", cell: "ZM-0001", deadline: NOW - 60000 }] }),
  ];
  const merged = delta(11, 13, {
    set: { kpi: { open: 5, overdue: 2 }, cells: { "ZM-0001": 2 } },
    ticker: parts[0].ticker.concat(parts[1].ticker),
    overdue_top: parts[2].overdue_top,
  });
  const a = S.fromSnapshot(snapshot()), b = S.fromSnapshot(snapshot());
  parts.forEach((m) => S.apply(a, m, TZ, NOW));
  S.apply(b, merged, TZ, NOW);
  assert.deepEqual(b, a);
  assert.deepEqual(a.ticker.map((t) => t.case), ["K-3", "K-2", "K-1"]);  // newest first
  assert.equal(a.ticker[0].priority, "urgent");
  assert.equal(a.ticker[0].cell, "SW-0001");
});

test("a message overlapping what the page has applies without repeating ticker items", () => {
  const st = S.fromSnapshot(snapshot());
  const item = [NOW - 3000, "K-2", "ZM-0001", "CM-0101", "reported", null, "normal"];
  S.apply(st, delta(11, 11, { set: { kpi: { open: 4 } }, ticker: [item] }), TZ, NOW);
  const overlap = delta(11, 12, { set: { kpi: { open: 5 } }, ticker: [item, [NOW - 1000, "K-4", "ZM-0002", "CM-0101", "reported", null, "normal"]] });
  assert.equal(S.decide(st, overlap, {}), "apply");
  S.apply(st, overlap, TZ, NOW);
  assert.deepEqual(st.ticker.map((t) => t.case), ["K-4", "K-2", "K-1"]);
  assert.equal(st.kpi.open, 5);
  assert.equal(st.seq, 12);
});

test("the ticker keeps the 20 newest", () => {
  const st = S.fromSnapshot(snapshot());
  const items = [];
  for (let i = 0; i < 30; i++) { items.push([NOW - 4000 + i, "C-" + i, "ZM-0001", "CM-0101", "reported", null, "normal"]); }
  S.apply(st, delta(11, 11, { ticker: items.slice(0, 15) }), TZ, NOW);
  S.apply(st, delta(12, 12, { ticker: items.slice(15) }), TZ, NOW);
  assert.equal(st.ticker.length, S.TICKER_KEEP);
  assert.equal(st.ticker[0].case, "C-29");
  assert.equal(st.ticker[19].case, "C-10");
});

test("decisions: gap, restart, backwards, old, apply", () => {
  const st = S.fromSnapshot(snapshot());  // seq 10, boot b1, epoch e1
  const snapTs = st.ts;
  assert.equal(S.decide(st, delta(11, 11), { snapTs }), "apply");
  assert.equal(S.decide(st, delta(9, 11), { snapTs }), "apply");  // overlapping: applies
  assert.equal(S.decide(st, delta(12, 14), { snapTs }), "gap");  // 11 never came
  assert.equal(S.decide(st, delta(11, 11, { boot: "b2" }), { snapTs }), "restart");
  assert.equal(S.decide(st, delta(11, 11, { epoch: "e2" }), { snapTs }), "restart");
  assert.equal(S.decide(st, delta(10, 10), { snapTs }), "old");
  // a lower seq written well after the snapshot: Redis was reset; one from before it: just old
  assert.equal(S.decide(st, delta(3, 4, { ts: snapTs + S.GRACE_MS + 1 }), { snapTs }), "backwards");
  assert.equal(S.decide(st, delta(3, 4, { ts: snapTs - 100 }), { snapTs }), "old");
  // no snapshot yet (seq -1): whatever comes is a gap
  assert.equal(S.decide(S.fromSnapshot({ seq: -1 }), delta(1, 1), {}), "gap");
  // messages without boot (an old server) are not foreign
  assert.equal(S.decide(st, { from: 11, to: 11, ts: NOW }, {}), "apply");
});

test("held messages replay in seq order on a fresh snapshot; a hole asks for another", () => {
  const held = [
    delta(13, 13, { set: { kpi: { open: 9 } } }),
    delta(11, 12, { set: { kpi: { open: 8 } } }),
    delta(8, 10, { set: { kpi: { open: 1 } } }),  // already in the snapshot
    delta(11, 11, { boot: "old-server", set: { kpi: { open: 100 } } }),  // another server's: skipped
  ];
  const st = S.fromSnapshot(snapshot());
  const r = S.replay(st, held, TZ, NOW);
  assert.equal(r.again, false);
  assert.equal(st.seq, 13);
  assert.equal(st.kpi.open, 9);
  const st2 = S.fromSnapshot(snapshot());
  const r2 = S.replay(st2, [delta(11, 11, { set: { kpi: { open: 4 } } }), delta(13, 14, { set: { kpi: { open: 6 } } })], TZ, NOW);
  assert.equal(r2.again, true);  // 12 is missing
  assert.equal(st2.seq, 11);
  assert.equal(st2.kpi.open, 4);
});

test("out-of-order arrival: the later one is a gap, both replay in order", () => {
  const st = S.fromSnapshot(snapshot());
  const m11 = delta(11, 11, { set: { kpi: { open: 4 } } }), m12 = delta(12, 12, { set: { kpi: { open: 5 } } });
  assert.equal(S.decide(st, m12, {}), "gap");
  const r = S.replay(st, [m12, m11], TZ, NOW);
  assert.equal(r.again, false);
  assert.equal(st.kpi.open, 5);
  assert.equal(st.seq, 12);
});

test("hours stay the last 24 local hours, days only today", () => {
  const st = S.fromSnapshot(snapshot());
  const hours = {};
  hours["2026120714"] = { n: { reported: 9 } };  // 24 h ago: out
  hours["2026120715"] = { n: { reported: 8 } };  // 23 h ago: in
  hours["2026120814"] = { n: { reported: 2 } };
  S.apply(st, delta(11, 11, { set: { hours, days: { 20261207: { n: { reported: 400 } } } } }), TZ, NOW);
  assert.deepEqual(Object.keys(st.hours).sort(), ["2026120715", "2026120814"]);
  assert.equal(st.hours["2026120814"].n.reported, 2);
  assert.deepEqual(Object.keys(st.days), [TODAY]);
  // an hour later the oldest hour drops out
  S.bound(st, TZ, NOW + 3600000);
  assert.deepEqual(Object.keys(st.hours), ["2026120814"]);
});

test("a new local day starts at midnight in Asia/Shanghai, not UTC", () => {
  const st = S.fromSnapshot(snapshot({ today: "20261207" }));
  assert.equal(S.newDay(st, TZ, local(2026, 12, 7, 23, 59, 59)), false);
  assert.equal(S.newDay(st, TZ, local(2026, 12, 8, 0, 0, 0)), true);
  assert.equal(S.newDay(st, "UTC", local(2026, 12, 8, 0, 0, 0)), false);  // 16:00 UTC on the 7th
});

test("the record kinds a message brings news of", () => {
  assert.deepEqual(S.kindsOf(delta(1, 1)), []);
  assert.deepEqual(S.kindsOf(delta(1, 1, { set: { kpi: { cameras_down: 5 } } })), ["camera_status"]);
  assert.deepEqual(S.kindsOf(delta(1, 1, { set: { days: { [TODAY]: { n: { readings: 5 } } } } })), ["sensor_reading"]);
  assert.deepEqual(S.kindsOf(delta(1, 1, { set: { cells: { a: 1 } } })), ["case_event"]);
  assert.deepEqual(S.kindsOf(delta(1, 1, { ticker: [[1, "K", "c", "t", "reported", null, null]] })), ["case_event"]);
  assert.deepEqual(S.kindsOf(delta(1, 1, { set: { health: { a: [1, "#000"] } } })), []);
});

test("ticker items travel as lists and become objects", () => {
  assert.deepEqual(S.tickItems([[5, "K-1", "ZM-0001", "CM-0101", "dispatched", "cg", "urgent"]]),
    [{ ts: 5, case: "K-1", cell: "ZM-0001", type: "CM-0101", step: "dispatched", dept: "cg", priority: "urgent" }]);
  assert.deepEqual(S.tickItems([[5, "K-1", "ZM-0001"]])[0].dept, null);
  assert.deepEqual(S.tickItems(undefined), []);
});

test("the ticker is newest first by event time, whatever the order things arrive in", () => {
  const st = S.fromSnapshot(snapshot(), null);  // K-1 at NOW - 5000
  S.apply(st, delta(11, 11, { ticker: [
    [NOW - 1000, "K-9", "ZM-0001", "CM-0101", "reported", null, "normal"],
    [NOW - 9000, "K-LATE", "ZM-0001", "CM-0101", "reported", null, "normal"],  // late: an old event
    [NOW - 3000, "K-2", "ZM-0001", "CM-0101", "reported", null, "normal"],
  ] }), TZ, NOW);
  assert.deepEqual(st.ticker.map((t) => t.case), ["K-9", "K-2", "K-1", "K-LATE"]);
});
