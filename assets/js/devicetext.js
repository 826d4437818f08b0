/* citybrain devicetext: what the wall map says about its devices, all of it text: a group badge's
   tooltip (its count per status), a device's tooltip on hover and popup on click (name, kind, cell,
   status, since when or its last reading). The canvas lets events through to the cells below it, so
   hovering or clicking a circle is found here (at most one hit test per frame). S: devices.js's view. */
(function (name, factory) {
  "use strict";
  var g = typeof window !== "undefined" ? window : globalThis;
  var cb = (g.citybrain = g.citybrain || {});
  var node = typeof module === "object" && module && module.exports && typeof require === "function";
  var m = factory(node ? function (d) { return require("./" + d + ".js"); } : function (d) { return cb[d]; }, cb, g);
  if (node) { module.exports = m; } else { cb[name] = m; }
})("devicetext", function (need, cb, root) {
  "use strict";

  var HIT_PX2 = 64;  // squared pixels: a circle within 8 px of the pointer is hit
  var INFO_MAX = 500;
  var infoCache = new Map();
  var moveQueued = null;

  function el(tag, cls, text) {
    var e = root.document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  // The lines of a group's tooltip: "<n> cameras" and the count per status, worst first.
  function groupLines(meta, statuses, counts, size, name) {
    var F = need("format"), parts = [];
    for (var r = statuses.length - 1; r >= 0; r--) {
      if (counts[r]) { parts.push(meta.status[statuses[r]] + " " + F.num(counts[r], meta.lang)); }
    }
    return [F.fill(meta.strings["dev_cluster_" + name], { n: F.num(size, meta.lang) }), parts.join(" · ")];
  }

  function groupText(S, F, g) {
    var w = F.statuses.length, G = F.groups;
    var lines = groupLines(S.meta, F.statuses, Array.prototype.slice.call(G.counts, g * w, g * w + w), G.size[g], F.name);
    var box = el("div");
    box.appendChild(el("b", null, lines[0]));
    box.appendChild(el("div", null, lines[1]));
    box.appendChild(el("div", "dev-hint", S.meta.strings.dev_zoom_hint));
    return box;
  }

  // A device's status in words: "offline since 12/08 14:05", "· reading 3.2 m" (info: when fetched).
  function statusWords(meta, st, info) {
    var F = need("format"), words = meta.status[st];
    var since = info && (info.since || (st === "stale" && info.ts));  // a stale sensor: since its last reading
    if (since) { words += " " + F.fill(meta.strings.dev_since, { t: F.time(since, meta.tz, meta.lang, "short") }); }
    if (info && info.value !== null && info.value !== undefined) {
      words += " · " + F.fill(meta.strings.dev_reading, { v: info.value + " " + info.unit });
    }
    return words;
  }

  // One device's lines: what the page knows now, then (when fetched) its name and since when.
  function deviceText(S, F, i, info) {
    var M = S.meta, st = F.statuses[F.rank[i]];
    var kind = (M.kinds[F.name] || {})[F.kinds[F.kind[i]]] || F.kinds[F.kind[i]];
    var box = el("div");
    box.appendChild(el("b", null, info ? (M.lang === "en" ? info.name_en : info.name_zh) : F.ids[i]));
    box.appendChild(el("div", null, [F.ids[i], kind, F.cells[F.cell[i]]].join(" · ")));
    var status = el("div", "dev-status"), dot = el("i");
    dot.style.background = M.colours[st];
    status.appendChild(dot);
    status.appendChild(root.document.createTextNode(statusWords(M, st, info)));
    box.appendChild(status);
    if (info && info.warn !== undefined) {
      box.appendChild(el("div", "dev-hint", need("format").fill(M.strings.dev_thresholds, { w: info.warn, a: info.alarm })));
    }
    return box;
  }

  // The shown circle under a container point (within a few pixels), or null.
  function hit(S, point) {
    var best = null, bestD = HIT_PX2;
    S.families.forEach(function (name) {
      var F = S.fam[name];
      F.shown.forEach(function (i) {
        var p = S.map.latLngToContainerPoint([F.lat[i], F.lon[i]]);
        var d = (p.x - point.x) * (p.x - point.x) + (p.y - point.y) * (p.y - point.y);
        if (d < bestD) { bestD = d; best = { F: F, i: i }; }
      });
    });
    return best;
  }

  function detail(S) { return S.ready && S.zoom >= need("devicedraw").DETAIL_ZOOM; }

  function onMove(S, e) {
    if (moveQueued) { moveQueued = e; return; }
    moveQueued = e;
    root.requestAnimationFrame(function () {
      var ev = moveQueued;
      moveQueued = null;
      if (!S.map) { return; }
      var h = detail(S) ? hit(S, S.map.mouseEventToContainerPoint(ev)) : null;
      var key = h ? h.F.name + ":" + h.i : -1;
      if (key === S.hover) { return; }
      S.hover = key;
      S.map.getContainer().classList.toggle("dev-hover", !!h);
      if (!h) { if (S.tip) { S.map.closeTooltip(S.tip); S.tip = null; } return; }
      show(S, h, "tooltip");
    });
  }

  function onClick(S, ev) {
    var h = S.map && detail(S) ? hit(S, S.map.mouseEventToContainerPoint(ev)) : null;
    if (h) { show(S, h, "popup"); }
  }

  function show(S, h, how) {
    var L = root.L, F = h.F, i = h.i, id = F.ids[i];
    var box = how === "popup"
      ? L.popup({ className: "dev-popup", offset: [0, -4] })
      : L.tooltip({ className: "dev-tip", direction: "top", offset: [0, -6] });
    box.setLatLng([F.lat[i], F.lon[i]]).setContent(deviceText(S, F, i, infoCache.get(id)));
    if (how === "popup") { S.map.openPopup(box); } else { if (S.tip) { S.map.closeTooltip(S.tip); } S.tip = box; S.map.openTooltip(box); }
    root.fetch("/api/v1/devices/" + encodeURIComponent(id), { cache: "no-store" })
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(function (info) {
        if (infoCache.size > INFO_MAX) { infoCache.clear(); }
        infoCache.set(id, info);
        if (box.isOpen()) { box.setContent(deviceText(S, F, i, info)); }
      })
      .catch(function () { /* the lines the page has stay */ });
  }

  return {
    groupLines: groupLines, groupText: groupText, statusWords: statusWords, deviceText: deviceText,
    onMove: onMove, onClick: onClick, forget: function (id) { infoCache.delete(id); },
  };
});
