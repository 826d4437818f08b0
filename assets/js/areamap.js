/* citybrain areamap: the drill-down pages' map (dash-leaflet calls these by name from layouts/area.py):
   only the features the page names (hideout.ids), each coloured by the chosen colouring (health band,
   open cases, or alert level), a text tooltip with its health and open cases; the cell's cameras (dots)
   and sensors (rings) coloured by status. */
(function (name, factory) {
  "use strict";
  var g = typeof window !== "undefined" ? window : globalThis;
  var cb = (g.citybrain = g.citybrain || {});
  var node = typeof module === "object" && module && module.exports && typeof require === "function";
  var m = factory(node ? function (d) { return require("./" + d + ".js"); } : function (d) { return cb[d]; }, cb, g);
  if (node) { module.exports = m; } else { cb[name] = m; }
})("areamap", function (need, cb, root) {
  "use strict";

  var DEVICE_COLOURS = { ok: "#3ddc84", bad: "#e5484d", warn: "#f2c14e" };
  var idSets = typeof WeakMap === "function" ? new WeakMap() : null;
  var lastHideout = null;

  function idSet(hd) {
    var s = idSets && idSets.get(hd);
    if (!s) { s = new Set(hd.ids || []); if (idSets) { idSets.set(hd, s); } }
    return s;
  }

  // Keep only the features the page names: the children of the area, or the area.
  function keep(feature, context) { return idSet((context && context.hideout) || {}).has(feature.properties.id); }

  function style(feature, context) {
    var hd = (context && context.hideout) || {}, M = need("map"), p = feature.properties;
    lastHideout = hd;
    var fill = M.modeFill(p, hd);
    if (fill === null) { fill = M.binColour((hd.open || {})[p.id] || 0, hd.bins || [0], hd.colors || [M.NONE]); }
    return {
      fillColor: fill, fillOpacity: hd.opacity || 0.78, color: "#0b1d26", weight: 1.2, opacity: 0.95,
      className: "area-shape area-" + p.id,
    };
  }

  // The tooltip's words: id and name, then (when known) health and open cases.
  function tipWords(p, hd, lang) {
    var name = (lang === "en" ? p.name_en : p.name_zh) || "", hv = (hd.health || {})[p.id], n = (hd.open || {})[p.id];
    var bits = [p.id + "  " + name];
    if (hv) { bits.push((lang === "en" ? "health " : "健康度 ") + hv[0]); }
    if (n !== undefined) { bits.push((lang === "en" ? "open " : "在办 ") + n); }
    return bits.join(" · ");
  }

  function tooltip(feature, layer) {
    var p = feature.properties || {}, dom = need("dom");
    var lang = root.document.documentElement.getAttribute("lang") === "en" ? "en" : "zh-CN";
    layer.bindTooltip(dom.textSpan(tipWords(p, {}, lang)), { sticky: true, className: "cell-tip" });
    layer.on("tooltipopen", function (e) { e.tooltip.setContent(dom.textSpan(tipWords(p, lastHideout || {}, lang))); });
  }

  function device(feature, latlng) {
    var L = root.L, p = feature.properties || {}, col = DEVICE_COLOURS[p.status] || "#7c98a6";
    return p.kind === "sensor"
      ? L.circleMarker(latlng, { radius: 8, weight: 3, color: col, fill: false, className: "device sensor-" + p.id })
      : L.circleMarker(latlng, { radius: 4, weight: 1, color: col, fillOpacity: 0.9, className: "device camera-" + p.id });
  }

  function deviceTip(feature, layer) {
    layer.bindTooltip(need("dom").textSpan((feature.properties || {}).tip || ""), { className: "cell-tip" });
  }

  return { keep: keep, style: style, tipWords: tipWords, tooltip: tooltip, device: device, deviceTip: deviceTip };
});
