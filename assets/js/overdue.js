/* citybrain overdue: the overdue cases, urgent ones first (marked), then by how late (up to 8; the server
   ranks them), each a link to its case with how late it is
   (recounted every second in place), its type, cell and department; the number of overdue cases. */
(function (name, factory) {
  "use strict";
  var g = typeof window !== "undefined" ? window : globalThis;
  var cb = (g.citybrain = g.citybrain || {});
  var node = typeof module === "object" && module && module.exports && typeof require === "function";
  var m = factory(node ? function (d) { return require("./" + d + ".js"); } : function (d) { return cb[d]; }, cb, g);
  if (node) { module.exports = m; } else { cb[name] = m; }
})("overdue", function (need, cb, root) {
  "use strict";

  var SHOWN = 8;
  var SOON_SHOWN = 3;

  function model(st) {
    var soon = st.due_soon || {};
    return {
      soon: {
        n: soon.n || 0,
        rows: (soon.top || []).slice(0, SOON_SHOWN).map(function (it) {
          return { case: it.case, cell: it.cell || "", type: it.type || null, deadline: it.deadline,
                   urgent: it.priority === "urgent" };
        }),
      },
      total: (st.kpi || {}).overdue || 0,
      rows: (st.overdue_top || []).slice(0, SHOWN).map(function (it) {
        return { case: it.case, cell: it.cell || "", dept: it.dept || null, type: it.type || null, deadline: it.deadline,
                 urgent: it.priority === "urgent" };
      }),
    };
  }

  // How long until a case's deadline at `now` ("due" when it has passed: the next flow message drops it).
  function dueIn(row, now, meta) {
    var left = row.deadline - now;
    return left > 0 ? meta.strings.due_in.replace("{d}", need("format").duration(left, meta.strings, meta.lang))
      : meta.strings.due_now;
  }

  // How late a case is at `now`.
  function late(row, now, meta) { return need("format").duration(Math.max(0, now - row.deadline), meta.strings, meta.lang); }

  function view(m, meta, now) {
    var h = need("dom").h, F = need("format"), N = need("names"), S = meta.strings, lang = meta.lang;
    var rows = m.rows.map(function (it, k) {
      var where = N.cellWords(meta, it.cell);
      return h("A", { className: "od-row", href: N.caseHref(it.case, lang), "data-case": it.case }, [
        h("Span", { className: "od-late", "data-index": k }, late(it, now, meta)),
        h("Span", { className: "od-type" }, [meta.types[it.type] || it.type || ""].concat(
          it.urgent ? [h("Span", { className: "badge urgent" }, S.priority_urgent)] : [])),
        h("Span", { className: "od-where" }, [h("Span", { className: "cell-id" }, it.cell), " " + where.name]),
        h("Span", { className: "od-dept" }, it.dept ? meta.depts[it.dept] || it.dept : "–"),
      ]);
    });
    if (!rows.length) { rows = [h("Div", { className: "muted" }, S.overdue_none)]; }
    var soon = [];
    if (m.soon && m.soon.n) {
      soon = [h("Div", { className: "od-soon-title" }, [S.due_soon, h("B", {}, F.num(m.soon.n, lang))])].concat(
        m.soon.rows.map(function (it, k) {
          return h("A", { className: "od-row od-soon", href: N.caseHref(it.case, lang), "data-case": it.case }, [
            h("Span", { className: "od-due", "data-index": k }, dueIn(it, now, meta)),
            h("Span", { className: "od-type" }, [meta.types[it.type] || it.type || ""].concat(
              it.urgent ? [h("Span", { className: "badge urgent" }, S.priority_urgent)] : [])),
            h("Span", { className: "od-where" }, [h("Span", { className: "cell-id" }, it.cell), " " + N.cellWords(meta, it.cell).name]),
          ]);
        }));
    }
    return [h("Div", { className: "panel-count" + (m.total ? " bad" : ""), id: meta.ids.overdueTotal }, F.num(m.total, lang))]
      .concat(rows, soon);
  }

  // Every second: each row's "late by", written in place (no new nodes).
  function tick(st, meta, now) {
    var rows = model(st).rows, el = root.document.getElementById(meta.ids.overdue);
    var spans = el ? el.querySelectorAll(".od-late") : [];
    for (var k = 0; k < spans.length; k++) {
      var it = rows[Number(spans[k].getAttribute("data-index"))];
      var text = it ? late(it, now, meta) : "";
      if (spans[k].textContent !== text) { spans[k].textContent = text; }
    }
    var soon = model(st).soon.rows, due = el ? el.querySelectorAll(".od-due") : [];
    for (var j = 0; j < due.length; j++) {
      var row = soon[Number(due[j].getAttribute("data-index"))];
      var words = row ? dueIn(row, now, meta) : "";
      if (due[j].textContent !== words) { due[j].textContent = words; }
    }
  }

  return { model: model, view: view, late: late, dueIn: dueIn, tick: tick };
});
