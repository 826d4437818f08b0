/* citybrain flow: the closed loop, open cases now in each stage (立案 → 分拨 → 处置 → 反馈 → 核查), the
   cases that entered each stage in the last hour and its median time; below, today's closed, returned
   and reopened cases. */
(function (name, factory) {
  "use strict";
  var g = typeof window !== "undefined" ? window : globalThis;
  var cb = (g.citybrain = g.citybrain || {});
  var node = typeof module === "object" && module && module.exports && typeof require === "function";
  var m = factory(node ? function (d) { return require("./" + d + ".js"); } : function (d) { return cb[d]; }, cb, g);
  if (node) { module.exports = m; } else { cb[name] = m; }
})("flow", function (need, cb, root) {
  "use strict";

  function model(st, meta) {
    var open = ((st.open || {}).district || {}).all || {}, into = st.flow_hour || {}, med = st.stage_median || {};
    var n = need("state").today(st).n;
    return {
      stages: meta.stages.map(function (s) {
        return { stage: s, open: open[s] || 0, into: into[s] || 0, median: med[s] === undefined ? null : med[s] };
      }),
      closed: n.closed || 0, returned: n.returned || 0, reopened: n.reopened || 0,
    };
  }

  function view(m, meta) {
    var h = need("dom").h, F = need("format"), S = meta.strings, lang = meta.lang, I = meta.ids;
    var stages = m.stages.map(function (x) {
      return h("Div", { className: "flow-stage flow-" + x.stage }, [
        h("Div", { className: "flow-name" }, S["stage_" + x.stage]),
        h("Div", { className: "flow-open", id: F.fill(I.flowOpen, x.stage) }, F.num(x.open, lang)),
        h("Div", { className: "flow-in", id: F.fill(I.flowIn, x.stage), title: S.flow_hour }, "+" + F.num(x.into, lang)),
        h("Div", { className: "flow-median", id: F.fill(I.flowMedian, x.stage), title: S.flow_median },
          x.median === null ? "–" : "~" + F.duration(x.median * 60000, S, lang)),
      ]);
    });
    var loop = [h("Span", { className: "flow-today" }, S.flow_today)].concat(
      [["flow_closed", m.closed, "✓ "], ["flow_returned", m.returned, "↺ "], ["flow_reopened", m.reopened, "↺ "]]
        .map(function (x) {
          return h("Span", { className: "flow-stat " + x[0] }, [x[2] + S[x[0]] + " ", h("B", {}, F.num(x[1], lang))]);
        }));
    return [
      h("Div", { className: "flow-chain" }, stages),
      h("Div", { className: "flow-legend" }, [h("Span", { className: "flow-key-open" }, S.flow_key_open),
        h("Span", { className: "flow-key-in" }, S.flow_key_in)]),
      h("Div", { className: "flow-loop" }, loop),
    ];
  }

  return { model: model, view: view };
});
