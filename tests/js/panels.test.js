/* The panels' models, as data before they become DOM: KPIs, the closed loop, the departments' league,
   the ticker's words, the overdue rows, categories, top cells and subdistrict totals, the trend, the
   /wall focus card; each read from the new state shape. */
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { js, local, TZ, wallMeta } = require("./helpers.js");

const S = js("state");
const dom = js("dom");
const NOW = local(2026, 12, 8, 14, 30);
const TODAY = "20261208";
const zh = wallMeta("zh-CN"), en = wallMeta("en");

function state(extra) {
  return S.fromSnapshot(Object.assign({
    seq: 1, ts: NOW, today: TODAY, ticker: [], overdue_top: [],
    cells: { "ZM-0001": 4, "ZM-0002": 0, "SW-0001": 7 },
    kpi: { open: 11, overdue: 2, cameras: 16000, cameras_down: 500 },
    open: {
      district: { all: { registration: 3, dispatch: 2, handle: 6 } },
      subdistrict: { ZM: { registration: 1, handle: 3 }, SW: { handle: 7 } },
      dept: { cg: { handle: 5, dispatch: 1 }, sw: { handle: 2 }, ga: { handle: 2 } },
    },
    overdue: { district: { all: 2 }, subdistrict: { ZM: 1 }, dept: { sw: 2 } },
    days: { [TODAY]: {
      n: { reported: 40, closed: 30, returned: 3, reopened: 1, readings: 123456 },
      by: {
        dept: { cg: { returned: 1, ontime: 3, late: 1 }, ga: { ontime: 0, late: 2 } },
        cat: { disputes: { reported: 30 }, public_safety: { reported: 10 } },
        subdistrict: { ZM: { reported: 25, closed: 20 } },
      },
    } },
    hours: { 2026120814: { n: { reported: 7, closed: 5 } }, 2026120713: { n: { reported: 99 } } },
    flow_hour: { registration: 4 }, stage_median: { handle: 75 },
  }, extra || {}));
}

test("KPIs: open now, reported, closed and readings today, cameras online", () => {
  const K = js("kpis");
  assert.deepEqual(K.model(state()), { open: 11, reported: 40, closed: 30, readings: 123456, cameras: 16000, down: 500 });
  assert.deepEqual(K.texts(K.model(state()), "en"), ["11", "40", "30", "96.9%", "123,456"]);
  assert.equal(K.texts(K.model(S.fromSnapshot({})), "zh-CN")[3], "–");  // no cameras known
});

test("the closed loop: open per stage from open.district.all, today's closures", () => {
  const m = js("flow").model(state(), zh);
  assert.deepEqual(m.stages.map((s) => [s.stage, s.open, s.into, s.median]), [
    ["registration", 3, 4, null], ["dispatch", 2, 0, null], ["handle", 6, 0, 75], ["feedback", 0, 0, null], ["verify", 0, 0, null],
  ]);
  assert.deepEqual([m.closed, m.returned, m.reopened], [30, 3, 1]);
  const text = dom.textOf(js("flow").view(m, en));
  assert.match(text, /Handle6\+0~1 h 15 min/);
});

test("the league ranks by overdue, then backlog, then returns; on-time share of today's closures", () => {
  const rows = js("league").model(state(), zh);
  assert.deepEqual(rows.map((r) => [r.id, r.backlog, r.overdue, r.returned, r.rate]), [
    ["sw", 2, 2, 0, null], ["cg", 6, 0, 1, 0.75], ["ga", 2, 0, 0, 0],
  ]);
  const table = js("league").view(rows, en);
  assert.match(dom.textOf(table), /Water220–Urban Mgmt60175%Police2000%/);
  assert.equal(js("league").model(S.fromSnapshot({ today: TODAY }), zh).length, 0);
});

test("ticker words name where, what and the step (with its department)", () => {
  const T = js("ticker");
  const it = { ts: NOW, case: "K-1", cell: "SW-0001", type: "CM-0101", step: "dispatched", dept: "cg", priority: "urgent" };
  assert.equal(T.words(it, zh), "石湾 SW-0001: 占道经营 分拨至 城管");
  assert.equal(T.words(it, en), "Shiwan SW-0001: Street vending dispatched to Urban Mgmt");
  assert.equal(T.words(Object.assign({}, it, { dept: null }), en), "Shiwan SW-0001: Street vending dispatched");
  assert.equal(T.words(Object.assign({}, it, { step: "closed", cell: "XX-9", type: "NEW-1" }), zh), "XX-9: NEW-1 结案");
  const rows = T.model(state({ ticker: [it] }), zh);
  assert.deepEqual(rows, [{ case: "K-1", step: "dispatched", time: "14:30:00", urgent: true, words: "石湾 SW-0001: 占道经营 分拨至 城管" }]);
  const view = T.view(rows, zh)[0];
  assert.equal(view.props.href, "/case/K-1?lang=zh-CN");
  assert.equal(view.props["data-case"], "K-1");
});

test("overdue rows, worst first as the server ranks them, with how late", () => {
  const O = js("overdue");
  const top = [{ case: "K-9", cell: "ZM-0001", dept: "sw", type: "CM-0101", deadline: NOW - 3 * 3600000 - 60000, extra: 1 }];
  const m = O.model(state({ overdue_top: top }));
  assert.equal(m.total, 2);
  assert.deepEqual(m.rows, [{ case: "K-9", cell: "ZM-0001", dept: "sw", type: "CM-0101", deadline: top[0].deadline, urgent: false }]);
  assert.equal(O.late(m.rows[0], NOW, zh), "3小时1分");
  assert.equal(O.late(m.rows[0], NOW, en), "3 h 1 min");
  const text = dom.textOf(O.view(m, en, NOW));
  assert.equal(text, "23 h 1 minStreet vendingZM-0001 Zumiao Grid 1Water");
  assert.equal(O.view(O.model(state()), en, NOW)[1].props.children, en.strings.overdue_none);
  const urgent = O.model(state({ overdue_top: [Object.assign({}, top[0], { priority: "urgent" })] }));
  assert.equal(urgent.rows[0].urgent, true);
  assert.equal(dom.textOf(O.view(urgent, en, NOW)), "23 h 1 minStreet vendingUrgentZM-0001 Zumiao Grid 1Water");
});

test("categories: today's reported cases per category, their total and shares", () => {
  const C = js("category");
  const cc = C.counts(state(), zh);
  assert.deepEqual(cc, { ids: ["disputes", "public_safety"], values: [30, 10], total: 40 });
  assert.equal(dom.textOf(C.legend(cc, en)), "Disputes3075%Public safety1025%");
  assert.deepEqual(C.figure(cc, zh).data[0].values, [30, 10]);
  assert.equal(C.figure(cc, zh).layout.showlegend, false);
});

test("top cells and subdistrict totals come from the cells' counts", () => {
  const Cl = js("cells");
  const counts = state().cells;
  assert.deepEqual(Cl.top(counts), [["SW-0001", 7], ["ZM-0001", 4]]);
  assert.deepEqual(Cl.subTotals(counts, zh), { ZM: 4, SW: 7 });
  const sub = Cl.subView(Cl.subTotals(counts, zh), en);
  assert.equal(sub[0].props.children[1].props.id, "sub-total-ZM");
  assert.equal(dom.textOf(Cl.topView([], en)), en.strings.no_data);
});

test("the trend: reported and closed for the last 24 local hours", () => {
  const T = js("trend");
  const s = T.series(state(), TZ, NOW);
  assert.equal(s.hours.length, 24);
  assert.equal(s.hours[23], "2026120814");
  assert.equal(s.reported[23], 7);
  assert.equal(s.closed[23], 5);
  assert.equal(s.reported.reduce((a, b) => a + b), 7);  // 13:00 yesterday is out of range
  assert.deepEqual([T.niceMax(0), T.niceMax(7), T.niceMax(96), T.niceMax(190), T.niceMax(300)], [5, 10, 200, 200, 500]);
  const fig = T.figure(s, zh);
  assert.equal(fig.data[0].x[23], "14时");
  assert.deepEqual(fig.layout.yaxis.range, [0, 10]);
});

test("the /wall focus card: a subdistrict's figures beside the district's", () => {
  const W = js("wallmode");
  assert.deepEqual(W.figures(state(), "ZM", zh.stages), [[4, 11], [1, 2], [25, 40], [20, 30]]);
  assert.deepEqual(W.figures(state(), null, zh.stages), [[null, 11], [null, 2], [null, 40], [null, 30]]);
  assert.deepEqual(W.figures(state(), "NZ", zh.stages), [[0, 11], [0, 2], [0, 40], [0, 30]]);
});

test("the rotation's view is a function of the clock plus the steps taken", () => {
  const W = js("wallmode"), meta = { rotate_s: 30, views: [{}, {}, {}, {}, {}] };
  assert.equal(W.indexAt(meta, 0, 0), 0);
  assert.equal(W.indexAt(meta, 29999, 0), 0);
  assert.equal(W.indexAt(meta, 30000, 0), 1);
  assert.equal(W.indexAt(meta, 150000, 0), 0);
  assert.equal(W.indexAt(meta, 0, -1), 4);
  assert.equal(W.indexAt({ rotate_s: 0, views: meta.views }, 99999999, 2), 2);
});

test("due within the hour: how many, the soonest with a countdown, 'due now' once passed", () => {
  const O = js("overdue");
  const soon = { n: 4, top: [{ case: "D-1", cell: "ZM-0001", type: "CM-0101", deadline: NOW + 12 * 60000, priority: "urgent" }] };
  const m = O.model(state({ due_soon: soon }));
  assert.equal(m.soon.n, 4);
  assert.deepEqual(m.soon.rows[0], { case: "D-1", cell: "ZM-0001", type: "CM-0101", deadline: NOW + 12 * 60000, urgent: true });
  assert.equal(O.dueIn(m.soon.rows[0], NOW, en), "in 12 min");
  assert.equal(O.dueIn(m.soon.rows[0], NOW, zh), "还剩12分");
  assert.equal(O.dueIn(m.soon.rows[0], NOW + 13 * 60000, en), "due now");
  const text = dom.textOf(O.view(m, en, NOW));
  assert.ok(text.includes("Due within the hour4") && text.includes("in 12 minStreet vendingUrgent"), text);
  assert.equal(O.model(state()).soon.n, 0);  // none: no section
  assert.ok(!dom.textOf(O.view(O.model(state()), en, NOW)).includes("Due within"));
});
