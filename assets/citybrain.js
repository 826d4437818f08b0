/* citybrain: clientside code of the wall. Applies Socket.IO deltas, restyles cells via hideout,
   renders counters, keeps the clock. No server round trip on any of these paths. */
(function () {
  "use strict";

  function colorFor(n, hideout) {
    var bins = hideout.bins, colors = hideout.colors, i = 0;
    for (var k = 0; k < bins.length; k++) { if (n >= bins[k]) { i = k; } }
    return colors[i];
  }

  // Text-only tooltip: names are data, never HTML.
  function textNode(s) {
    var el = document.createElement("span");
    el.textContent = s;
    return el;
  }

  window.citybrain = Object.assign({}, window.citybrain, {
    map: {
      cellStyle: function (feature, context) {
        var h = context.hideout || {};
        var n = (h.counts && h.counts[feature.properties.id]) || 0;
        window.citybrain.map._counts = h.counts;
        return {
          fillColor: colorFor(n, h), fillOpacity: 0.82, color: "#0b1d26", weight: 0.6, opacity: 0.9,
          className: "cell cell-" + feature.properties.id,
        };
      },
      hoverStyle: function () {
        return { weight: 2.5, color: "#ffffff" };
      },
      cellTooltip: function (feature, layer) {
        var p = feature.properties || {};
        var lang = document.documentElement.getAttribute("data-cb-lang") || "zh-CN";
        var name = lang === "en" ? p.name_en : p.name_zh;
        layer.bindTooltip(textNode(p.id + "  " + (name || "")), { sticky: true, className: "cell-tip" });
        layer.on("tooltipopen", function (e) {
          var counts = window.citybrain.map._counts;
          var n = counts ? counts[p.id] || 0 : null;
          var label = lang === "en" ? " · open: " : " · 在办：";
          e.tooltip.setContent(textNode(p.id + "  " + (name || "") + (n === null ? "" : label + n)));
        });
      },
    },
  });

  function todayKey(tz) {
    var parts = new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" })
      .format(new Date());
    return parts.replace(/-/g, "");
  }

  function fmt(n, lang) {
    return new Intl.NumberFormat(lang).format(n);
  }

  // Add increments into a map of counts (fields absent count as 0).
  function addInto(target, inc) {
    if (!inc) { return; }
    Object.keys(inc).forEach(function (k) { target[k] = (target[k] || 0) + inc[k]; });
  }
  var resyncing = false;

  // Fetch a fresh snapshot and replace the page's state with it (after a gap or a reconnect).
  function resync() {
    if (resyncing) { return; }
    resyncing = true;
    fetch("/api/v1/snapshot", { cache: "no-store" })
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(function (snap) {
        var hideoutEl = window.citybrain._lastHideout || {};
        window.dash_clientside.set_props("wall-cells", {
          hideout: Object.assign({}, hideoutEl, { counts: snap.cells, seq: snap.seq }),
        });
        var live = Object.assign({}, snap);
        delete live.cells;
        window.dash_clientside.set_props("wall-live", { data: live });
        window.citybrain.resyncs = (window.citybrain.resyncs || 0) + 1;
      })
      .catch(function () { /* the next delta or reconnect tries again */ })
      .then(function () { resyncing = false; });
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    citybrain: {
      onDelta: function (delta, hideout, live) {
        var NOUP = window.dash_clientside.no_update;
        if (!delta) { return [NOUP, NOUP]; }
        window.citybrain._lastHideout = hideout;
        var seq = live ? live.seq : -1;
        if (delta.to <= seq) { return [NOUP, NOUP]; }  // already in the snapshot
        if (seq < 0 || delta.from > seq + 1) {  // a gap: some delta never reached this page
          resync();
          return [NOUP, NOUP];
        }
        var keys = window.citybrain.keys || {};
        var inc = delta.inc || {};
        var counts = Object.assign({}, hideout.counts);
        addInto(counts, inc[keys.cells]);
        var counters = Object.assign({}, live.counters);
        addInto(counters, inc[keys.counters]);
        window.citybrain.applied = (window.citybrain.applied || 0) + 1;
        window.citybrain.lastDelta = delta;
        return [
          Object.assign({}, hideout, { counts: counts, seq: delta.to }),
          Object.assign({}, live, { seq: delta.to, counters: counters, ts: delta.ts }),
        ];
      },

      render: function (live, hideout, meta) {
        var lang = meta.lang, S = meta.strings, c = (live && live.counters) || {};
        window.citybrain.keys = meta.keys;
        window.citybrain._lastHideout = hideout;
        document.documentElement.setAttribute("data-cb-lang", lang);
        var day = todayKey(meta.tz);
        var cams = c.cameras || 0, down = c.cameras_down || 0;
        var online = cams ? (100 * (cams - down)) / cams : null;
        var pct = online === null ? "–" : new Intl.NumberFormat(lang, { maximumFractionDigits: 1 }).format(online) + "%";
        // top cells and subdistrict totals, from the counts the page already has
        var counts = (hideout && hideout.counts) || {};
        var ids = Object.keys(counts).filter(function (k) { return counts[k] > 0; });
        ids.sort(function (a, b) { return counts[b] - counts[a] || (a < b ? -1 : 1); });
        var top = ids.slice(0, 10).map(function (id) {
          var m = meta.cells[id] || [id, ""];
          return {
            type: "Li", namespace: "dash_html_components",
            props: { children: [
              { type: "Span", namespace: "dash_html_components", props: { children: id, className: "cell-id" } },
              { type: "Span", namespace: "dash_html_components", props: { children: m[0], className: "cell-name" } },
              { type: "B", namespace: "dash_html_components", props: { children: fmt(counts[id], lang) } },
            ] },
          };
        });
        var totals = {};
        Object.keys(meta.subdistricts).forEach(function (s) { totals[s] = 0; });
        Object.keys(counts).forEach(function (id) {
          var m = meta.cells[id];
          var sub = m ? meta.communities[m[1]] : null;
          if (sub in totals) { totals[sub] += counts[id]; }
        });
        var subs = Object.keys(totals).map(function (s) {
          return {
            type: "Div", namespace: "dash_html_components",
            props: { className: "sub-row", children: [
              { type: "Span", namespace: "dash_html_components", props: { children: meta.subdistricts[s] } },
              { type: "B", namespace: "dash_html_components", props: { children: fmt(totals[s], lang), id: "sub-total-" + s } },
            ] },
          };
        });
        return [
          fmt(c.open || 0, lang),
          fmt(c["reported:" + day] || 0, lang),
          fmt(c["closed:" + day] || 0, lang),
          pct,
          fmt(c["readings:" + day] || 0, lang),
          top.length ? top : [{ type: "Li", namespace: "dash_html_components", props: { children: S.no_data, className: "muted" } }],
          subs,
        ];
      },

      connection: function (connected, meta) {
        var S = meta.strings;
        if (connected) {
          if (window.citybrain._wasDisconnected) { resync(); }
          return [S.connected, "conn conn-ok"];
        }
        if (connected === false) { window.citybrain._wasDisconnected = true; }
        return connected === false ? [S.disconnected, "conn conn-lost"] : [S.connecting, "conn conn-wait"];
      },

      clock: function (_n, meta) {
        return new Intl.DateTimeFormat(meta.lang, {
          timeZone: meta.tz, year: "numeric", month: "2-digit", day: "2-digit",
          hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
        }).format(new Date());
      },
    },
  });
})();
