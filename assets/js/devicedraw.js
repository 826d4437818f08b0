/* citybrain devicedraw: how the wall map draws its 16,000 cameras and 1,100 sensors (docs/DEVICES.md).

   Zoomed out, devices are grouped on a screen grid (GRID_PX): one DOM badge per group, coloured by the
   worst status inside it, showing its count. From DETAIL_ZOOM on, each device in view is a circle on one
   shared canvas. A change of N statuses costs O(N): per device its group's status counts move and only
   the badges and circles whose colour changed are restyled. S is the device view (devices.js). */
(function (name, factory) {
  "use strict";
  var g = typeof window !== "undefined" ? window : globalThis;
  var cb = (g.citybrain = g.citybrain || {});
  var node = typeof module === "object" && module && module.exports && typeof require === "function";
  var m = factory(node ? function (d) { return require("./" + d + ".js"); } : function (d) { return cb[d]; }, cb, g);
  if (node) { module.exports = m; } else { cb[name] = m; }
})("devicedraw", function (need, cb, root) {
  "use strict";

  var DETAIL_ZOOM = 16;  // from this zoom on: one circle per device in view
  var GRID_PX = 84;  // the screen grid that groups devices below DETAIL_ZOOM
  var SENSOR_SHIFT_PX = 13;  // a sensor badge sits down-right of its place: beside the cameras' badge

  function colour(S, F, r) { return S.meta.colours[F.statuses[r]] || "#ffffff"; }

  // Fine devices small with a dark edge; the others (no report, stale, degraded, down) larger with a light
  // edge, so that they stand out on any cell colour; a stale one's edge dashed. Sensors a size up.
  function circleStyle(S, F, i) {
    var r = F.rank[i], plain = r === 0, up = F.name === "sensors" ? 1 : 0;
    return {
      radius: (plain ? 3.5 : 5.5) + up, weight: plain ? 1 : 1.8, color: plain ? "#061018" : "#f4fbff",
      opacity: 0.95, fillColor: colour(S, F, r), fillOpacity: 0.95, dashArray: F.statuses[r] === "stale" ? "2 2" : null,
    };
  }

  // The worst status rank in group g of status counts (w ranks per group, 0 = fine): the badge's colour.
  function worst(counts, g, w) {
    for (var r = w - 1; r > 0; r--) { if (counts[g * w + r] > 0) { return r; } }
    return 0;
  }

  function badgeSize(n) { return Math.round(Math.min(34, 18 + 4.5 * Math.log10(Math.max(1, n)))); }

  // The groups of one family at one zoom: each device's group, each group's counts, worst and centre.
  function regroup(S, F, zoom) {
    var w = F.statuses.length, of = new Int32Array(F.n), key = new Map(), sumLat = [], sumLon = [], size = [];
    for (var i = 0; i < F.n; i++) {
      var p = S.map.project([F.lat[i], F.lon[i]], zoom);
      var k = Math.floor(p.x / GRID_PX) * 100000 + Math.floor(p.y / GRID_PX);
      var g = key.get(k);
      if (g === undefined) { g = size.length; key.set(k, g); sumLat.push(0); sumLon.push(0); size.push(0); }
      of[i] = g; sumLat[g] += F.lat[i]; sumLon[g] += F.lon[i]; size[g]++;
    }
    var n = size.length, at = [];
    for (var j = 0; j < n; j++) { at.push(root.L.latLng(sumLat[j] / size[j], sumLon[j] / size[j])); }
    F.groups = { zoom: zoom, of: of, n: n, size: size, at: at, counts: new Int32Array(n * w), worst: new Int8Array(n) };
    recount(F);
  }

  function recount(F) {
    var G = F.groups;
    if (!G) { return; }
    var w = F.statuses.length;
    G.counts.fill(0);
    for (var i = 0; i < F.n; i++) { G.counts[G.of[i] * w + F.rank[i]]++; }
    for (var g = 0; g < G.n; g++) { G.worst[g] = worst(G.counts, g, w); }
  }

  function paintBadge(S, F, g, marker) {
    var el = marker.getElement();
    if (!el) { return; }
    var st = F.statuses[F.groups.worst[g]];
    el.setAttribute("data-status", st);
    el.style.setProperty("--dev-colour", S.meta.colours[st]);
  }

  function makeBadge(S, F, g) {
    var L = root.L, G = F.groups, px = badgeSize(G.size[g]), c = px / 2 - (F.name === "sensors" ? SENSOR_SHIFT_PX : 0);
    var label = root.document.createElement("span");
    label.textContent = String(G.size[g]);
    var marker = L.marker(G.at[g], {
      icon: L.divIcon({ className: "dev-cluster fam-" + F.name, html: label, iconSize: [px, px], iconAnchor: [c, c] }),
      keyboard: false, riseOnHover: true, pane: "deviceBadges",
    });
    marker.on("add", function () { paintBadge(S, F, g, marker); });
    marker.bindTooltip(function () { return need("devicetext").groupText(S, F, g); },
      { direction: "top", className: "dev-tip", offset: [0, -px / 2] });
    marker.on("click", function () { S.map.setView(G.at[g], Math.min(DETAIL_ZOOM, G.zoom + 2)); });
    return marker;
  }

  function inView(lat, lon, b) { return lat >= b.south && lat <= b.north && lon >= b.west && lon <= b.east; }

  function paddedBounds(S) {
    var b = S.map.getBounds().pad(0.25);
    return { south: b.getSouth(), north: b.getNorth(), west: b.getWest(), east: b.getEast() };
  }

  // Show what the view needs: badges below DETAIL_ZOOM, circles from it on; nothing for a family that is off.
  function refresh(S, force) {
    if (!S.ready || !S.map) { return; }
    var zoom = S.map.getZoom(), detail = zoom >= DETAIL_ZOOM, b = paddedBounds(S);
    S.families.forEach(function (name) {
      var F = S.fam[name], wantBadges = F.on && !detail;
      if (wantBadges && (force || !F.groups || F.groups.zoom !== zoom)) { clearBadges(F); regroup(S, F, zoom); }
      if (!wantBadges) { clearBadges(F); }
      if (wantBadges) { showBadges(S, F, b); }
      showCircles(S, F, F.on && detail ? b : null);
    });
    S.zoom = zoom;
  }

  function clearBadges(F) {
    F.badges.forEach(function (m) { m.remove(); });
    F.badges.clear();
  }

  function showBadges(S, F, b) {
    var G = F.groups;
    F.badges.forEach(function (m, g) { if (!inView(G.at[g].lat, G.at[g].lng, b)) { m.remove(); F.badges.delete(g); } });
    for (var g = 0; g < G.n; g++) {
      if (!F.badges.has(g) && inView(G.at[g].lat, G.at[g].lng, b)) {
        var m = makeBadge(S, F, g);
        F.badges.set(g, m);
        m.addTo(S.map);
      }
    }
  }

  function showCircles(S, F, b) {
    F.shown.forEach(function (i) { if (!b || !inView(F.lat[i], F.lon[i], b)) { F.markers[i].remove(); F.shown.delete(i); } });
    if (!b) { return; }
    var add = [];
    for (var j = 0; j < F.n; j++) { if (!F.shown.has(j) && inView(F.lat[j], F.lon[j], b)) { add.push(j); } }
    add.sort(function (x, y) { return F.rank[x] - F.rank[y]; });  // devices in trouble drawn last, on top
    add.forEach(function (i) {
      var m = F.markers[i];
      if (!m) {
        m = root.L.circleMarker([F.lat[i], F.lon[i]],
          root.L.extend({ renderer: S.renderer, interactive: false, pane: "devices" }, circleStyle(S, F, i)));
        F.markers[i] = m;
      } else if (m.options.fillColor !== colour(S, F, F.rank[i])) {
        root.L.setOptions(m, circleStyle(S, F, i));  // off the map: no redraw, the add draws it
      }
      m.addTo(S.map);
      F.shown.add(i);
    });
  }

  // Device i of F went from rank `old` to its rank now: its group's counts move, its circle is restyled.
  function moved(S, F, i, old, dirty) {
    var G = F.groups, r = F.rank[i];
    if (G) {
      var g = G.of[i], w = F.statuses.length;
      G.counts[g * w + old]--; G.counts[g * w + r]++;
      dirty.add(g);
    }
    var m = F.markers[i];
    if (m && F.shown.has(i)) {
      m.setStyle(circleStyle(S, F, i));
      if (r > 0) { m.bringToFront(); }  // a device in trouble is drawn over its neighbours
      S.restyles++;
    }
  }

  // The badges of the groups `dirty` whose worst status changed take it.
  function rebadge(S, F, dirty) {
    dirty.forEach(function (g) {
      var w = worst(F.groups.counts, g, F.statuses.length);
      if (w === F.groups.worst[g]) { return; }
      F.groups.worst[g] = w;
      var b = F.badges.get(g);
      if (b) { paintBadge(S, F, g, b); S.restyles++; }
    });
  }

  // After a resync: the badges and circles on screen whose status changed take it.
  function repaint(S) {
    S.families.forEach(function (name) {
      var F = S.fam[name];
      recount(F);
      F.badges.forEach(function (m, g) {
        var el = m.getElement();
        if (el && el.getAttribute("data-status") !== F.statuses[F.groups.worst[g]]) { paintBadge(S, F, g, m); S.restyles++; }
      });
      F.shown.forEach(function (i) {
        var m = F.markers[i];
        if (m.options.fillColor !== colour(S, F, F.rank[i])) { m.setStyle(circleStyle(S, F, i)); S.restyles++; }
      });
    });
  }

  return {
    DETAIL_ZOOM: DETAIL_ZOOM, colour: colour, circleStyle: circleStyle, worst: worst, badgeSize: badgeSize,
    refresh: refresh, moved: moved, rebadge: rebadge, repaint: repaint,
  };
});
