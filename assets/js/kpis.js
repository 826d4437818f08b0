/* citybrain kpis: the header's live counters (open now; reported, closed and sensor readings today;
   the cameras online), written as text in place. */
(function (name, factory) {
  "use strict";
  var g = typeof window !== "undefined" ? window : globalThis;
  var cb = (g.citybrain = g.citybrain || {});
  var node = typeof module === "object" && module && module.exports && typeof require === "function";
  var m = factory(node ? function (d) { return require("./" + d + ".js"); } : function (d) { return cb[d]; }, cb, g);
  if (node) { module.exports = m; } else { cb[name] = m; }
})("kpis", function (need, cb, root) {
  "use strict";

  // The figures the tiles show, from the state.
  function model(st) {
    var k = st.kpi || {}, n = need("state").today(st).n;
    return {
      open: k.open || 0, reported: n.reported || 0, closed: n.closed || 0, readings: n.readings || 0,
      cameras: k.cameras || 0, down: k.cameras_down || 0,
    };
  }

  // The tiles' texts, in the order of ids() below.
  function texts(m, lang) {
    var F = need("format");
    var online = m.cameras ? F.dec1((100 * (m.cameras - m.down)) / m.cameras, lang) + "%" : "–";
    return [F.num(m.open, lang), F.num(m.reported, lang), F.num(m.closed, lang), online, F.num(m.readings, lang)];
  }

  function ids(meta) {
    var I = meta.ids;
    return [I.kpiOpen, I.kpiReported, I.kpiClosed, I.kpiCameras, I.kpiReadings];
  }

  function paint(st, meta) {
    var t = texts(model(st), meta.lang), dom = need("dom");
    ids(meta).forEach(function (id, i) { dom.setText(id, t[i]); });
  }

  return { model: model, texts: texts, paint: paint };
});
