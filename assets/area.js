/* citybrain: clientside code of the drill-down pages (/subdistrict, /community, /cell), the language
   memory of every page, and the wall's "click a cell to go down" and map colouring switch.
   Dash loads this file on every page: everything here is inert unless its element is on the page.
   Navigation goes through the pages router's dcc.Location (history entries, back and forward work). */
(function () {
  "use strict";

  var LANG_KEY = "citybrain.lang";
  var NOUP = function () { return window.dash_clientside.no_update; };

  // ---------------------------------------------------------------- the language, remembered per browser
  // A page opened without ?lang= shows the language last chosen with the switch in this browser: the
  // query is set before Dash's renderer reads the location (this file runs before it starts).
  (function rememberedLang() {
    var stored = null;
    try { stored = window.localStorage.getItem(LANG_KEY); } catch (err) { return; }
    if (stored !== "en" && stored !== "zh-CN") { return; }
    var params = new URLSearchParams(window.location.search);
    if (params.get("lang")) { return; }
    params.set("lang", stored);
    window.history.replaceState(window.history.state, "", window.location.pathname + "?" + params.toString() + window.location.hash);
  })();

  // The switch is a link to this page in the other language: remember the choice before it loads.
  document.addEventListener("click", function (e) {
    var a = e.target && e.target.closest ? e.target.closest("#lang-switch") : null;
    if (!a) { return; }
    var target = a.getAttribute("data-lang") || new URLSearchParams((a.getAttribute("href") || "").split("?")[1] || "").get("lang");
    try { if (target) { window.localStorage.setItem(LANG_KEY, target); } } catch (err) { /* private mode */ }
  }, true);

  // ---------------------------------------------------------------- search: Enter on a shown hit
  document.addEventListener("keydown", function (e) {
    if (e.key !== "ArrowDown" || !e.target || e.target.id !== "search-box") { return; }
    var first = document.querySelector("#search-hits .search-hit");
    if (first) { e.preventDefault(); first.focus(); }
  });

  // ---------------------------------------------------------------- map styling (dash-leaflet functions)

  function binColour(n, bins, colours) {
    var i = 0;
    for (var k = 0; k < bins.length; k++) { if (n >= bins[k]) { i = k; } }
    return colours[i];
  }

  var idSets = typeof WeakMap === "function" ? new WeakMap() : null;
  function idSet(h) {
    var s = idSets && idSets.get(h);
    if (!s) { s = new Set(h.ids || []); if (idSets) { idSets.set(h, s); } }
    return s;
  }

  var NONE = "#12303a";

  // The fill of an area for the chosen colouring ("health", "open", "alerts"), null for the default.
  function modeFill(p, h) {
    var id = p.id;
    if (h.mode === "health") {
      var hv = (h.health || {})[id];
      return hv ? hv[1] : NONE;
    }
    if (h.mode === "alerts") {
      var a = h.alerts || {};
      var lv = a[id] || a[p.community_id] || a[p.subdistrict_id];
      return lv ? (h.level_colours || {})[lv] || NONE : NONE;
    }
    return null;
  }

  function textNode(s) {
    var el = document.createElement("span");
    el.textContent = s;
    return el;
  }

  var lastHideout = null;

  var DEVICE_COLOURS = { ok: "#3ddc84", bad: "#e5484d", warn: "#f2c14e" };

  window.citybrainArea = {
    modeFill: modeFill,
    // The cell's cameras (dots) and sensors (rings), coloured by status.
    device: function (feature, latlng) {
      var p = feature.properties || {}, col = DEVICE_COLOURS[p.status] || "#7c98a6";
      return p.kind === "sensor"
        ? window.L.circleMarker(latlng, { radius: 8, weight: 3, color: col, fill: false, className: "device sensor-" + p.id })
        : window.L.circleMarker(latlng, { radius: 4, weight: 1, color: col, fillOpacity: 0.9, className: "device camera-" + p.id });
    },
    deviceTip: function (feature, layer) {
      layer.bindTooltip(textNode((feature.properties || {}).tip || ""), { className: "cell-tip" });
    },
    // Keep only the features the page names (hideout.ids): the children of the area, or the area.
    keep: function (feature, context) {
      var h = (context && context.hideout) || {};
      return idSet(h).has(feature.properties.id);
    },
    style: function (feature, context) {
      var h = (context && context.hideout) || {};
      lastHideout = h;
      var p = feature.properties, fill = modeFill(p, h);
      if (fill === null) { fill = binColour((h.open || {})[p.id] || 0, h.bins || [0], h.colors || [NONE]); }
      return {
        fillColor: fill, fillOpacity: h.opacity || 0.78, color: "#0b1d26", weight: 1.2, opacity: 0.95,
        className: "area-shape area-" + p.id,
      };
    },
    tooltip: function (feature, layer) {
      var p = feature.properties || {};
      var lang = document.documentElement.getAttribute("lang") === "en" ? "en" : "zh-CN";
      var name = (lang === "en" ? p.name_en : p.name_zh) || "";
      layer.bindTooltip(textNode(p.id + "  " + name), { sticky: true, className: "cell-tip" });
      layer.on("tooltipopen", function (e) {
        var h = lastHideout || {}, hv = (h.health || {})[p.id], n = (h.open || {})[p.id];
        var bits = [p.id + "  " + name];
        if (hv) { bits.push((lang === "en" ? "health " : "健康度 ") + hv[0]); }
        if (n !== undefined) { bits.push((lang === "en" ? "open " : "在办 ") + n); }
        e.tooltip.setContent(textNode(bits.join(" · ")));
      });
    },
  };

  // ---------------------------------------------------------------- live refresh, throttled

  var THROTTLE_MS = 4000;
  var lastAsk = 0, askTimer = null, askFor = null;

  // Ask the server to re-read the area now, or at the end of the throttle window.
  function ask(meta) {
    var now = Date.now();
    if (now - lastAsk >= THROTTLE_MS) { lastAsk = now; return now; }
    if (!askTimer) {
      askFor = meta.id;
      askTimer = setTimeout(function () {
        askTimer = null;
        var root = document.getElementById("area-page");
        if (!root || !window.citybrainArea.meta || window.citybrainArea.meta.id !== askFor) { return; }
        lastAsk = Date.now();
        window.dash_clientside.set_props("area-refresh", { data: lastAsk });
      }, THROTTLE_MS - (now - lastAsk));
    }
    return NOUP();
  }

  var sets = { meta: null, cells: null, areas: null };
  function setsOf(meta) {
    if (sets.meta !== meta) { sets = { meta: meta, cells: new Set(meta.cells || []), areas: new Set(meta.areas || []) }; }
    return sets;
  }

  function deltaConcerns(delta, s) {
    if (Object.keys(delta.dev || {}).length) { return true; }  // the room sends only the area's devices
    if ((delta.ticker || []).some(function (it) { return s.cells.has(it.cell); })) { return true; }
    var inc = delta.inc || {};
    return Object.keys(inc).some(function (key) {
      return Object.keys(inc[key]).some(function (fld) { return s.cells.has(fld) || s.areas.has(fld.split(":")[1]); });
    });
  }

  function alertsConcern(msg, s) {
    return (msg.changes || []).some(function (ch) {
      if ((ch.removed || []).length) { return true; }
      return (ch.alerts || []).some(function (a) { return (a.areas || [a.area]).some(function (id) { return s.areas.has(id); }); });
    });
  }

  function healthConcerns(msg, s) {
    var m = (msg && (msg.changed || msg.health)) || msg || {};
    return Object.keys(m).some(function (id) { return s.areas.has(id); });
  }

  var wasDisconnected = false;

  // The area's events, read off the socket (assets/sockettap.js: none coalesced): one that concerns the
  // area asks for a re-read, at most every THROTTLE_MS.
  var areaTapped = false;
  function tapArea() {
    var tap = window.citybrain && window.citybrain.tap;
    if (areaTapped || !tap) { return; }
    areaTapped = true;
    var concerns = { delta: deltaConcerns, alerts: alertsConcern, health: healthConcerns };
    Object.keys(concerns).forEach(function (name) {
      tap.on(name, function (msg) {
        var meta = window.citybrainArea.meta;
        if (!msg || !meta || !document.getElementById("area-page")) { return; }
        if (!concerns[name](msg, setsOf(meta))) { return; }
        window.citybrainArea.asked = (window.citybrainArea.asked || 0) + 1;
        var at = ask(meta);
        if (typeof at === "number") { window.dash_clientside.set_props("area-refresh", { data: at }); }
      });
    });
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    citybrainArea: {
      // A reconnect asks for a re-read (so does a pushed event that concerns the area: see tapArea).
      filter: function (connected, meta) {
        if (!meta || !meta.id) { return NOUP(); }
        window.citybrainArea.meta = meta;
        tapArea();
        if (connected === false) { wasDisconnected = true; return NOUP(); }
        if (!connected || !wasDisconnected) { return NOUP(); }
        wasDisconnected = false;
        window.citybrainArea.asked = (window.citybrainArea.asked || 0) + 1;
        return ask(meta);
      },

      // A click on a child area on the map: one level down.
      go: function (click, meta) {
        var p = click && (click.properties || (click.feature || {}).properties);
        var down = { subdistrict: "community", community: "cell" }[meta && meta.level];
        if (!p || !p.id || !down) { return NOUP(); }
        return "/" + down + "/" + encodeURIComponent(p.id) + "?lang=" + encodeURIComponent(meta.lang);
      },

      // The colour key of the chosen map colouring.
      legend: function (mode, meta) {
        var items = ((meta && meta.legend) || {})[mode] || [];
        return items.map(function (it) {
          return { type: "Span", namespace: "dash_html_components", props: { className: "legend-item", children: [
            { type: "I", namespace: "dash_html_components", props: { style: { background: it[1] } } }, it[0]] } };
        });
      },

      // ---- the wall at "/"

      // A click on a cell of the wall's map: its subdistrict's page.
      wallGo: function (click, meta) {
        var p = click && (click.properties || (click.feature || {}).properties);
        if (!p || !p.subdistrict_id) { return NOUP(); }
        return "/subdistrict/" + encodeURIComponent(p.subdistrict_id) + "?lang=" + encodeURIComponent((meta || {}).lang || "zh-CN");
      },

      // The wall map's colouring: hideout.mode of the cells layer ("health" / "open" / "alerts"), with
      // the active alerts as {area id: most severe level} and the pushed health scores.
      wall: function (mode, store, health, hideout, meta) {
        if (!document.getElementById("wall-map") || !window.citybrain || !window.citybrain.setWallHideout) { return NOUP(); }
        var trig = (window.dash_clientside.callback_context.triggered || []).map(function (t) { return t.prop_id; });
        var extra = { mode: mode || "open" };
        if (trig.indexOf("wall-socket.data-health") >= 0 && health) {
          var now = (window.citybrain.wallHideout() || hideout || {}).health || {};
          extra.health = Object.assign({}, now, health.changed || health);
        }
        var levels = {}, rank = {}, colours = {};
        Object.keys((meta && meta.levels) || {}).forEach(function (k) { rank[k] = meta.levels[k].rank; colours[k] = meta.levels[k].colour; });
        ((store && store.alerts) || []).forEach(function (a) {
          var id = a.area;  // the most specific area the alert is raised on
          if (id && (!levels[id] || rank[a.level] > rank[levels[id]])) { levels[id] = a.level; }
        });
        extra.alerts = levels;
        extra.level_colours = colours;
        window.citybrain.setWallHideout(extra, hideout);
        return mode;
      },
    },
  });
})();
