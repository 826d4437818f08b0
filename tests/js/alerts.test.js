/* The warnings: changes applied by seq, gaps, the order on screen, the banner, the sound, the outlines. */
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { js, wallMeta, local } = require("./helpers.js");

const A = js("alerts");
const V = js("alertview");
const dom = js("dom");
const zh = wallMeta("zh-CN"), en = wallMeta("en");
const T = local(2026, 12, 8, 14, 0);

function alert(id, level, status, extra) {
  return Object.assign({ id, level, status, area: "ZM-0001", rule: "r", title_zh: "积水 " + id, title_en: "Flooding " + id, fired: T }, extra || {});
}

test("changes apply by seq: newer ones only, ended alerts leave, removals too", () => {
  const store = { seq: 4, alerts: [alert("a", "red", "firing"), alert("b", "blue", "firing")] };
  const msg = { from: 4, to: 6, changes: [
    { seq: 4, alerts: [alert("zzz", "red", "firing")] },  // already had it
    { seq: 5, alerts: [alert("a", "red", "acknowledged", { acked_by: "王" }), alert("c", "yellow", "firing")] },
    { seq: 6, alerts: [alert("c", "yellow", "resolved")], removed: ["b"] },
  ] };
  const out = A.apply(store, msg);
  assert.equal(out.seq, 6);
  assert.deepEqual(out.alerts.map((a) => [a.id, a.status]), [["a", "acknowledged"]]);
  assert.equal(A.decide({ seq: 6, alerts: [] }, { from: 5, to: 6 }), "old");
  assert.equal(A.decide({ seq: 6, alerts: [] }, { from: 7, to: 7 }), "apply");
  assert.equal(A.decide({ seq: 6, alerts: [] }, { from: 8, to: 9 }), "gap");
  assert.equal(A.decide({ seq: -1, alerts: [] }, { from: 1, to: 1 }), "gap");
});

test("the order on screen: most severe first, then newest; the banner's alert; what sounds", () => {
  const list = A.sort([
    alert("b1", "blue", "firing", { fired: T + 5 }), alert("r1", "red", "acknowledged", { fired: T }),
    alert("o1", "orange", "firing", { fired: T + 1 }), alert("o2", "orange", "firing", { fired: T + 2 }),
  ], zh.levels);
  assert.deepEqual(list.map((a) => a.id), ["r1", "o2", "o1", "b1"]);
  assert.equal(A.top(list).id, "o2");  // the most severe unacknowledged one
  assert.equal(A.top([alert("r1", "red", "acknowledged")]).id, "r1");
  assert.equal(A.top([alert("s", "red", "silenced")]), null);
  assert.equal(A.loud(list), "orange");
  assert.equal(A.loud([alert("r", "red", "firing"), alert("o", "orange", "firing")]), "red");
  assert.equal(A.loud([alert("y", "yellow", "firing"), alert("r", "red", "acknowledged")]), null);
});

test("outlines: per cell and community the highest level, pulsing while any is unacknowledged", () => {
  const [cells, comms] = A.areas([
    alert("1", "yellow", "firing"), alert("2", "red", "acknowledged"),
    alert("3", "orange", "acknowledged", { area: "ZM-C01" }), alert("4", "red", "firing", { area: "ZM" }),
  ], zh);
  assert.deepEqual(cells, { "ZM-0001": ["red", true] });
  assert.deepEqual(comms, { "ZM-C01": ["orange", false] });
});

test("the banner: level, area, title, since, state; flashing until acknowledged; text stays text", () => {
  const hostile = alert("x", "red", "firing", { title_zh: "<img src=x onerror=alert(1)>" });
  const [kids, cls] = V.banner([hostile], zh);
  assert.equal(cls, "alert-banner level-red flashing");
  assert.equal(dom.textOf(kids), "红色祖庙 ZM-0001 祖庙网格1<img src=x onerror=alert(1)>12/08 14:00:00 起" + zh.strings.alert_firing);
  assert.equal(V.banner([alert("a", "orange", "acknowledged", { acked_by: "王值班" })], en)[1], "alert-banner level-orange steady");
  assert.equal(V.state(alert("a", "orange", "acknowledged", { acked_by: "王值班" }), zh), "王值班 已确认");
  assert.equal(V.state(alert("s", "red", "silenced", { silenced_by: "李", silenced_until: local(2026, 12, 8, 14, 30) }), en),
    "silenced until 14:30 by 李");
  assert.deepEqual(V.banner([], zh), [[], "alert-banner hidden"]);
});

test("the list: a firing row can be acknowledged and silenced, an acknowledged one silenced", () => {
  const rows = V.rows([alert("f", "red", "firing"), alert("a", "blue", "acknowledged", { acked_by: "王" }), alert("s", "blue", "silenced")], en);
  const buttons = rows.map((r) => r.props.children.slice(5).map((k) => k.props.className));
  assert.deepEqual(buttons, [["alert-ack-btn", en.ids.alertSilence], [en.ids.alertSilence], []]);
  assert.deepEqual(rows[0].props.children[5].props.id, { type: en.ids.alertAck, index: "f" });
  assert.equal(rows[0].props.className, "alert-row level-red status-firing");
  assert.equal(dom.textOf(V.rows([], en)), en.strings.alerts_none);
});
