/* citybrain cells: the ten cells with the most open cases (a box on the map) and the open cases per
   subdistrict, both from the cells' counts. */
(function (name, factory) {
  "use strict";
  var g = typeof window !== "undefined" ? window : globalThis;
  var cb = (g.citybrain = g.citybrain || {});
  var node = typeof module === "object" && module && module.exports && typeof require === "function";
  var m = factory(node ? function (d) { return require("./" + d + ".js"); } : function (d) { return cb[d]; }, cb, g);
  if (node) { module.exports = m; } else { cb[name] = m; }
})("cells", function (need, cb, root) {
  "use strict";

  var TOP = 10;

  // [[cell id, open], ...] most first (ties by id), cells with none left out.
  function top(counts) {
    var ids = Object.keys(counts).filter(function (k) { return counts[k] > 0; });
    ids.sort(function (a, b) { return counts[b] - counts[a] || (a < b ? -1 : 1); });
    return ids.slice(0, TOP).map(function (id) { return [id, counts[id]]; });
  }

  function topView(rows, meta) {
    var h = need("dom").h, F = need("format");
    if (!rows.length) { return [h("Li", { className: "muted" }, meta.strings.no_data)]; }
    return rows.map(function (r) {
      var m = meta.cells[r[0]] || [r[0], ""];
      return h("Li", {}, [h("Span", { className: "cell-id" }, r[0]), h("Span", { className: "cell-name" }, m[0]),
        h("B", {}, F.num(r[1], meta.lang))]);
    });
  }

  // {subdistrict id: open cases in its cells}, every subdistrict present.
  function subTotals(counts, meta) {
    var totals = {};
    Object.keys(meta.subdistricts).forEach(function (s) { totals[s] = 0; });
    Object.keys(counts).forEach(function (id) {
      var m = meta.cells[id], sub = m ? meta.communities[m[1]] : null;
      if (sub in totals) { totals[sub] += counts[id]; }
    });
    return totals;
  }

  function subView(totals, meta) {
    var h = need("dom").h, F = need("format");
    return Object.keys(totals).map(function (s) {
      return h("Div", { className: "sub-row" }, [
        h("Span", { title: meta.subdistricts[s] }, meta.sub_short[s] || meta.subdistricts[s]),
        h("B", { id: F.fill(meta.ids.subTotal, s) }, F.num(totals[s], meta.lang)),
      ]);
    });
  }

  return { top: top, topView: topView, subTotals: subTotals, subView: subView };
});
