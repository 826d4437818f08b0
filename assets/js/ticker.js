/* citybrain ticker: the latest case events in words, newest first, each a link to its case, e.g.
   "石湾镇街道 SW-0123: 占道经营 分拨至 城管执法局". */
(function (name, factory) {
  "use strict";
  var g = typeof window !== "undefined" ? window : globalThis;
  var cb = (g.citybrain = g.citybrain || {});
  var node = typeof module === "object" && module && module.exports && typeof require === "function";
  var m = factory(node ? function (d) { return require("./" + d + ".js"); } : function (d) { return cb[d]; }, cb, g);
  if (node) { module.exports = m; } else { cb[name] = m; }
})("ticker", function (need, cb, root) {
  "use strict";

  var SHOWN = 15;

  // One event in words: where, what, and the step (with the department when the step names one).
  function words(item, meta) {
    var S = meta.strings, where = need("names").cellWords(meta, item.cell);
    var type = meta.types[item.type] || item.type || "";
    var dept = item.dept ? meta.depts[item.dept] || item.dept : "";
    var tpl = S["tick_" + item.step] || item.step;
    var verb = tpl.indexOf("{dept}") >= 0
      ? (dept ? tpl.replace("{dept}", dept) : (S["step_" + item.step] || item.step))
      : tpl;
    if (meta.lang === "en" && tpl.indexOf("{dept}") >= 0 && !dept) { verb = verb.toLowerCase(); }
    return (where.sub ? where.sub + " " : "") + item.cell + ": " + type + " " + verb;
  }

  // The rows: {case, step, time, urgent, words}.
  function model(st, meta) {
    var F = need("format");
    return (st.ticker || []).slice(0, SHOWN).map(function (it) {
      return { case: it.case, step: it.step, time: F.time(it.ts, meta.tz, meta.lang, "hms"),
        urgent: it.priority === "urgent", words: words(it, meta) };
    });
  }

  function view(rows, meta) {
    var h = need("dom").h, N = need("names");
    if (!rows.length) { return h("Div", { className: "muted" }, meta.strings.no_data); }
    return rows.map(function (r) {
      var kids = [h("Span", { className: "tick-time" }, r.time), r.words];
      if (r.urgent) { kids.splice(1, 0, h("Span", { className: "badge urgent" }, meta.strings.priority_urgent)); }
      return h("A", { className: "tick-row step-" + r.step, href: N.caseHref(r.case, meta.lang), "data-case": r.case }, kids);
    });
  }

  return { words: words, model: model, view: view };
});
