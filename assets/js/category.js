/* citybrain category: today's reported cases by category, as the donut's slices (plotly: no legend and no
   text inside, so a redraw measures no text), the total in its middle and the legend beside it as text. */
(function (name, factory) {
  "use strict";
  var g = typeof window !== "undefined" ? window : globalThis;
  var cb = (g.citybrain = g.citybrain || {});
  var node = typeof module === "object" && module && module.exports && typeof require === "function";
  var m = factory(node ? function (d) { return require("./" + d + ".js"); } : function (d) { return cb[d]; }, cb, g);
  if (node) { module.exports = m; } else { cb[name] = m; }
})("category", function (need, cb, root) {
  "use strict";

  // {ids, values, total} in the catalogue's order.
  function counts(st, meta) {
    var by = need("state").today(st).by.cat || {}, ids = Object.keys(meta.cats);
    var values = ids.map(function (c) { return (by[c] || {}).reported || 0; });
    return { ids: ids, values: values, total: values.reduce(function (a, b) { return a + b; }, 0) };
  }

  function figure(cc, meta) {
    return {
      data: [{
        type: "pie", hole: 0.62, sort: false, direction: "clockwise", values: cc.values,
        labels: cc.ids.map(function (c) { return meta.cats[c][0]; }),
        marker: { colors: cc.ids.map(function (c) { return meta.cats[c][1]; }), line: { color: "#0b1a23", width: 2 } },
        textinfo: "none", hovertemplate: "%{label} %{value} (%{percent})<extra></extra>",
      }],
      layout: Object.assign({}, meta.plot, { showlegend: false, margin: { l: 0, r: 0, t: 0, b: 0 } }),
    };
  }

  // One row per category: colour, name, today's count and share.
  function legend(cc, meta) {
    var h = need("dom").h, F = need("format"), lang = meta.lang;
    return cc.ids.map(function (c, i) {
      return h("Div", { className: "cat-row", "data-cat": c }, [
        h("I", { style: { background: meta.cats[c][1] } }),
        h("Span", { className: "cat-name" }, meta.cats[c][0]),
        h("B", {}, F.num(cc.values[i], lang)),
        h("Span", { className: "cat-pct" }, cc.total ? F.pct0(cc.values[i] / cc.total, lang) : "–"),
      ]);
    });
  }

  return { counts: counts, figure: figure, legend: legend };
});
