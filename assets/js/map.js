/* citybrain map: the wall's cells on the Leaflet map. The style functions dash-leaflet calls by name
   (window.citybrain.map.cellStyle, alertStyle, hoverStyle, cellTooltip), the colour rules (open cases
   in bins; health and alert colourings), the index of each cell's Leaflet layer so that only the cells
   whose count changed are restyled, and the cells layer's hideout: Dash gets it (and re-adds all 478
   cells) only when what colours the cells changed (the colouring, or the data of the colouring shown).
   Diagnostics: window.citybrain.cellRestyles. */
(function (name, factory) {
  "use strict";
  var g = typeof window !== "undefined" ? window : globalThis;
  var cb = (g.citybrain = g.citybrain || {});
  var node = typeof module === "object" && module && module.exports && typeof require === "function";
  var m = factory(node ? function (d) { return require("./" + d + ".js"); } : function (d) { return cb[d]; }, cb, g);
  if (node) { module.exports = m; } else { cb[name] = m; }
})("map", function (need, cb, root) {
  "use strict";

  var NONE = "#12303a";  // an area with nothing to colour it
  var maps = {};  // Leaflet maps by container id (an init hook sees each one created)
  var index = { map: null, layers: null };
  var wall = { hideout: null, sig: null, cellsId: null, mapId: null };
  var pending = {};  // what the colour switch asked for before the page's state existed

  // The colour of n in class breaks: the last bin at or below n.
  function binColour(n, bins, colours) {
    var i = 0;
    for (var k = 0; k < bins.length; k++) { if (n >= bins[k]) { i = k; } }
    return colours[i];
  }

  // The fill of an area for the colouring hideout.mode: "health" (its band's colour), "alerts" (its most
  // severe level, or its community's or subdistrict's), null for "open" (the bins decide).
  function modeFill(p, hd) {
    if (hd.mode === "health") {
      var hv = (hd.health || {})[p.id];
      return hv ? hv[1] : NONE;
    }
    if (hd.mode === "alerts") {
      var a = hd.alerts || {};
      var lv = a[p.id] || a[p.community_id] || a[p.subdistrict_id];
      return lv ? (hd.level_colours || {})[lv] || NONE : NONE;
    }
    return null;
  }

  function liveCounts() { return cb.liveCounts ? cb.liveCounts() : null; }

  // ---- the functions dash-leaflet calls (their names are in layouts/wall.py)

  function cellStyle(feature, context) {
    var hd = context.hideout || {};
    // the page's live counts over the hideout's (a restyle of every cell shows the counts of now)
    var counts = liveCounts() || hd.counts || {};
    var alt = hd.mode && hd.mode !== "open" ? modeFill(feature.properties, hd) : null;
    return {
      fillColor: alt || binColour(counts[feature.properties.id] || 0, hd.bins, hd.colors), fillOpacity: 0.82,
      color: "#0b1d26", weight: 0.6, opacity: 0.9, className: "cell cell-" + feature.properties.id,
    };
  }

  // The outline of an area with active alerts (hideout.alerts: {area id: [level, firing]}); others invisible.
  function alertStyle(feature, context) {
    var hd = context.hideout || {}, a = (hd.alerts || {})[feature.properties.id];
    if (!a) { return { stroke: false, fill: false, weight: 0, opacity: 0, fillOpacity: 0 }; }
    var col = (hd.colours || {})[a[0]] || "#ffffff";
    return {
      color: col, weight: 5, opacity: 1, fill: true, fillColor: col, fillOpacity: 0.15,
      className: "alert-area alert-area-" + feature.properties.id + " level-" + a[0] + (a[1] ? " alert-pulse" : ""),
    };
  }

  function hoverStyle() { return { weight: 2.5, color: "#ffffff" }; }

  function cellTooltip(feature, layer) {
    var p = feature.properties || {}, dom = need("dom");
    var lang = root.document.documentElement.getAttribute("data-cb-lang") || "zh-CN";
    var name = lang === "en" ? p.name_en : p.name_zh;
    layer.bindTooltip(dom.textSpan(p.id + "  " + (name || "")), { sticky: true, className: "cell-tip" });
    layer.on("tooltipopen", function (e) {
      var counts = liveCounts(), n = counts ? counts[p.id] || 0 : null;
      var label = lang === "en" ? " · open: " : " · 在办：";
      e.tooltip.setContent(dom.textSpan(p.id + "  " + (name || "") + (n === null ? "" : label + n)));
    });
  }

  // ---- restyling cells one by one

  function mapOf(id) { return maps[id] || null; }

  // The Leaflet layer of each cell on map `mapId` (rebuilt when the GeoJSON layer re-created them all).
  function cellLayers(mapId) {
    var m = mapOf(mapId), idx = index.map === m ? index.layers : null;
    var first = idx ? idx[Object.keys(idx)[0]] : null;
    if (idx && first && first._map) { return idx; }
    idx = {};
    if (m) {
      m.eachLayer(function (l) {
        var cn = l.options && l.options.className;
        if (l.feature && cn && cn.indexOf("cell cell-") === 0) { idx[l.feature.properties.id] = l; }
      });
    }
    index = { map: m, layers: Object.keys(idx).length ? idx : null };
    return idx;
  }

  // Restyle the cells `ids` (all: every cell) whose colour changed; nothing unless coloured by open cases.
  function restyle(ids, counts, all) {
    var hd = wall.hideout || {};
    if (!wall.mapId || (hd.mode && hd.mode !== "open")) { return 0; }
    var layers = cellLayers(wall.mapId), n = 0;
    (all ? Object.keys(layers) : ids).forEach(function (id) {
      var l = layers[id], col = binColour(counts[id] || 0, hd.bins, hd.colors);
      if (l && l.options.fillColor !== col) {
        l.setStyle({ fillColor: col });
        n += 1;
      }
    });
    cb.cellRestyles = (cb.cellRestyles || 0) + n;
    return n;
  }

  // ---- the wall's cells layer hideout

  function colouringSig(hd) {
    var mode = hd.mode || "open";
    return JSON.stringify([mode, mode === "health" ? hd.health : null,
      mode === "alerts" ? [hd.alerts, hd.level_colours] : null]);
  }

  // A new wall page: its map, its cells layer and the hideout the layout gave it.
  function wallStart(ids, hideout) {
    wall = { hideout: Object.assign({}, hideout), sig: colouringSig(hideout), cellsId: ids.cells, mapId: ids.map };
    index = { map: null, layers: null };
    var extra = pending;
    pending = {};
    if (Object.keys(extra).length) { setWallHideout(extra); }
  }

  // The colouring asked for before wallStart(): applied by it.
  function pend(extra) { pending = Object.assign({}, pending, extra); }

  // Merge `extra` into the hideout; send it to Dash only when the colouring changed.
  function setWallHideout(extra) {
    if (!wall.cellsId) { return false; }
    wall.hideout = Object.assign({}, wall.hideout, extra);
    var sig = colouringSig(wall.hideout);
    if (sig === wall.sig) { return false; }
    wall.sig = sig;
    root.dash_clientside.set_props(wall.cellsId, { hideout: Object.assign({}, wall.hideout) });
    return true;
  }

  if (root.L && root.L.Map) {
    root.L.Map.addInitHook(function () {
      var el = this.getContainer();
      if (el && el.id) { maps[el.id] = this; }
      var self = this;
      this.on("unload", function () { if (el && maps[el.id] === self) { delete maps[el.id]; } });
    });
  }

  return {
    NONE: NONE, binColour: binColour, modeFill: modeFill, cellStyle: cellStyle, alertStyle: alertStyle,
    hoverStyle: hoverStyle, cellTooltip: cellTooltip, restyle: restyle, wallStart: wallStart,
    setWallHideout: setWallHideout, pend: pend, wallHideout: function () { return wall.hideout; }, colouringSig: colouringSig,
    byId: function (id) { return maps[id] || null; },
  };
});
