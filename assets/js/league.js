/* citybrain league: "passing the buck", the departments worst first (overdue, then backlog, then returns):
   backlog = open cases over all stages, overdue now, returns today, on-time share of today's closures. */
(function (name, factory) {
  "use strict";
  var g = typeof window !== "undefined" ? window : globalThis;
  var cb = (g.citybrain = g.citybrain || {});
  var node = typeof module === "object" && module && module.exports && typeof require === "function";
  var m = factory(node ? function (d) { return require("./" + d + ".js"); } : function (d) { return cb[d]; }, cb, g);
  if (node) { module.exports = m; } else { cb[name] = m; }
})("league", function (need, cb, root) {
  "use strict";

  var SHOWN = 10;

  // The departments with anything to show, ranked; each {id, backlog, overdue, returned, rate|null}.
  function model(st, meta) {
    var open = (st.open || {}).dept || {}, od = (st.overdue || {}).dept || {}, by = need("state").today(st).by.dept || {};
    var rows = Object.keys(meta.depts).map(function (d) {
      var backlog = 0, stages = open[d] || {}, day = by[d] || {};
      meta.stages.forEach(function (s) { backlog += stages[s] || 0; });
      var ontime = day.ontime || 0, late = day.late || 0;
      return {
        id: d, backlog: backlog, overdue: od[d] || 0, returned: day.returned || 0,
        rate: ontime + late ? ontime / (ontime + late) : null,
      };
    }).filter(function (r) { return r.backlog || r.overdue || r.returned || r.rate !== null; });
    rows.sort(function (a, b) {
      return b.overdue - a.overdue || b.backlog - a.backlog || b.returned - a.returned || (a.id < b.id ? -1 : 1);
    });
    return rows.slice(0, SHOWN);
  }

  function view(rows, meta) {
    var h = need("dom").h, F = need("format"), S = meta.strings, lang = meta.lang;
    if (!rows.length) { return h("Div", { className: "muted" }, S.no_data); }
    var head = h("Thead", {}, h("Tr", {}, ["league_dept", "league_backlog", "league_overdue", "league_returned",
      "league_ontime"].map(function (k) { return h("Th", {}, S[k]); })));
    var body = h("Tbody", {}, rows.map(function (r) {
      return h("Tr", { "data-dept": r.id, className: r.overdue ? "has-overdue" : "" }, [
        h("Td", { className: "dept" }, meta.depts[r.id]),
        h("Td", { className: "num backlog" }, F.num(r.backlog, lang)),
        h("Td", { className: "num overdue" + (r.overdue ? " bad" : "") }, F.num(r.overdue, lang)),
        h("Td", { className: "num returned" + (r.returned ? " warn" : "") }, F.num(r.returned, lang)),
        h("Td", { className: "num ontime" }, r.rate === null ? "–" : F.pct0(r.rate, lang)),
      ]);
    }));
    return h("Table", { className: "league" }, [head, body]);
  }

  return { model: model, view: view };
});
