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
  assert.equal(A.loud(list).level, "orange");
  const both = A.loud([alert("r", "red", "firing"), alert("o", "orange", "firing")]);
  assert.deepEqual([both.level, both.ids], ["red", ["r", "o"]]);
  assert.equal(A.loud([alert("b", "blue", "firing"), alert("r", "red", "acknowledged")]), null);
  // the threshold is configurable (web.sound_level; default yellow: blue is for information)
  assert.deepEqual(A.loud([alert("y", "yellow", "firing"), alert("b", "blue", "firing")]), { level: "yellow", ids: ["y"] });
  assert.equal(A.loud([alert("y", "yellow", "firing")], "orange"), null);
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
  assert.equal(dom.textOf(kids), "红色祖庙 ZM-0001 祖庙网格1<img src=x onerror=alert(1)>2026-12-08 14:00 起" + zh.strings.alert_firing);
  assert.equal(V.banner([alert("a", "orange", "acknowledged", { acked_by: "王值班" })], en)[1], "alert-banner level-orange steady");
  assert.equal(V.state(alert("a", "orange", "acknowledged", { acked_by: "王值班" }), zh), "王值班 已确认");
  assert.equal(V.state(alert("s", "red", "silenced", { silenced_by: "李", silenced_until: local(2026, 12, 8, 14, 30) }), en),
    "silenced until 2026-12-08 14:30 by 李");  // an older alert without silenced_at: the date shown
  assert.deepEqual(V.banner([], zh), [[], "alert-banner hidden"]);
});

test("states in words: the acknowledgement's note, the silence's end, length and reason; the banner brief", () => {
  const acked = alert("a", "orange", "acknowledged", { acked_by: "王值班", ack_note: "已派人核查" });
  assert.equal(V.state(acked, zh), "王值班 已确认：已派人核查");
  assert.equal(V.state(acked, en), "acknowledged by 王值班: 已派人核查");
  assert.equal(dom.textOf(V.banner([acked], zh)[0]).endsWith("王值班 已确认"), true);  // no note in the banner
  const silenced = alert("s", "red", "silenced", { silenced_by: "李四", silenced_at: local(2026, 12, 8, 12, 30),
    silenced_until: local(2026, 12, 8, 14, 30), silence_reason: "泵车已到场" });
  assert.equal(V.state(silenced, en), "silenced by 李四 until 14:30 (for 2 h): 泵车已到场");
  assert.equal(V.state(silenced, zh), "李四 已静音至 14:30（2小时）：泵车已到场");
  const stamped = Object.assign({}, silenced, { silenced_at: silenced.silenced_at + 3 });  // a few ms apart
  assert.equal(V.state(stamped, en), "silenced by 李四 until 14:30 (for 2 h): 泵车已到场");
  const overnight = Object.assign({}, silenced, { silenced_until: local(2026, 12, 9, 0, 30), silence_reason: "" });
  assert.equal(V.state(overnight, en), "silenced by 李四 until 2026-12-09 00:30 (for 12 h)");
  // the words are text on the row (and its tooltip), never markup
  const row = V.rows([alert("h", "red", "acknowledged", { acked_by: "<b>x</b>", ack_note: "<img src=x>" })], en)[0];
  const st = row.props.children[4];
  assert.equal(st.props.children, "acknowledged by <b>x</b>: <img src=x>");
  assert.equal(st.props.title, st.props.children);
});

test("the list: a firing row can be acknowledged and silenced, an acknowledged one silenced, a silenced one un-silenced", () => {
  const rows = V.rows([alert("f", "red", "firing"), alert("a", "blue", "acknowledged", { acked_by: "王" }), alert("s", "blue", "silenced")], en);
  const buttons = rows.map((r) => r.props.children.slice(5).map((k) => k.props.className));
  assert.deepEqual(buttons, [["alert-ack-btn", en.ids.alertSilence], [en.ids.alertSilence], ["alert-unsilence-btn"]]);
  assert.equal(rows[2].props.children[5].props["data-alert"], "s");
  assert.equal(rows[2].props.children[5].props.children, en.strings.alert_unsilence);
  assert.deepEqual(rows[0].props.children[5].props.id, { type: en.ids.alertAck, index: "f" });
  assert.equal(rows[0].props.className, "alert-row level-red status-firing");
  assert.equal(dom.textOf(V.rows([], en)), en.strings.alerts_none);
});
