/* citybrain fit: every map shows its whole area, inside its box and clear of what lies over it (legends,
   the top-cells box, the device key, Leaflet's zoom buttons). The area is the map's outline layer (a
   GeoJSON layer styled with className "fit-outline"); its outline is projected once and the view is the
   largest zoom (in the map's zoomSnap steps) and the shift nearest the middle at which no outline edge
   enters an overlay and no overlay sits inside the area. Refitted when the outline arrives, when the box
   or an overlay changes size (an overlay collapsed or filled), unless the person moved the map or a
   caller holds it (the wall's rotation shows a subdistrict). Overlays carry a collapse button
   (.overlay-toggle, remembered per browser). Diagnostics: window.citybrain.fits. */
(function (name, factory) {
  "use strict";
  var g = typeof window !== "undefined" ? window : globalThis;
  var cb = (g.citybrain = g.citybrain || {});
  var node = typeof module === "object" && module && module.exports && typeof require === "function";
  var m = factory(node ? function (d) { return require("./" + d + ".js"); } : function (d) { return cb[d]; }, cb, g);
  if (node) { module.exports = m; } else { cb[name] = m; }
})("fit", function (need, cb, root) {
  "use strict";

  var PAD = 8;  // px kept free between the area and the box's edge or an overlay
  var DOWN_STEPS = 20;  // how many zoomSnap steps below the plain fit are tried
  var SHIFTS = 7;  // shifts tried along each axis within the slack (odd: the middle is one)
  var MAX_POINTS = 1500;  // outline vertices kept (every k-th)
  var KEY = "citybrain.overlay.";
  var POLL_MS = 1000;  // how often the overlays' places are compared with those of the last fit

  // ---- pure geometry (node tests: tests/js/fit.test.js)

  function inside(x, y, b) { return x > b[0] && x < b[2] && y > b[1] && y < b[3]; }

  // Does segment (x1,y1)-(x2,y2) meet box b = [x0, y0, x1, y1]? Liang-Barsky clipping.
  function segmentHits(x1, y1, x2, y2, b) {
    var dx = x2 - x1, dy = y2 - y1, t0 = 0, t1 = 1;
    var p = [-dx, dx, -dy, dy], q = [x1 - b[0], b[2] - x1, y1 - b[1], b[3] - y1];
    for (var i = 0; i < 4; i++) {
      if (p[i] === 0) { if (q[i] < 0) { return false; } continue; }
      var r = q[i] / p[i];
      if (p[i] < 0) { if (r > t1) { return false; } if (r > t0) { t0 = r; } }
      else { if (r < t0) { return false; } if (r < t1) { t1 = r; } }
    }
    return true;
  }

  // Even-odd: is (x, y) inside the rings (each [[x, y], ...])?
  function inRings(x, y, rings) {
    var odd = false;
    rings.forEach(function (ring) {
      for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        var a = ring[i], c = ring[j];
        if ((a[1] > y) !== (c[1] > y) && x < (c[0] - a[0]) * (y - a[1]) / (c[1] - a[1]) + a[0]) { odd = !odd; }
      }
    });
    return odd;
  }

  // The rings at scale s, placed with their box's top-left at (tx, ty): clear of every box and the edges?
  function clear(rings, bb, s, tx, ty, size, boxes) {
    var w = size[0], h = size[1];
    if (tx < PAD - 0.5 || ty < PAD - 0.5 || tx + (bb[2] - bb[0]) * s > w - PAD + 0.5 || ty + (bb[3] - bb[1]) * s > h - PAD + 0.5) { return false; }
    if (!boxes.length) { return true; }
    // the boxes in the rings' own coordinates, grown by PAD
    var local = boxes.map(function (b) {
      return [(b[0] - PAD - tx) / s + bb[0], (b[1] - PAD - ty) / s + bb[1], (b[2] + PAD - tx) / s + bb[0], (b[3] + PAD - ty) / s + bb[1]];
    });
    for (var k = 0; k < local.length; k++) {
      var b = local[k];
      if (b[2] < bb[0] || b[0] > bb[2] || b[3] < bb[1] || b[1] > bb[3]) { continue; }  // beside the area
      if (inRings((b[0] + b[2]) / 2, (b[1] + b[3]) / 2, rings)) { return false; }  // over the area's inside
      for (var r = 0; r < rings.length; r++) {
        var ring = rings[r];
        for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
          if (segmentHits(ring[j][0], ring[j][1], ring[i][0], ring[i][1], b)) { return false; }
        }
      }
    }
    return true;
  }

  function bbox(rings) {
    var bb = [Infinity, Infinity, -Infinity, -Infinity];
    rings.forEach(function (ring) {
      ring.forEach(function (p) {
        if (p[0] < bb[0]) { bb[0] = p[0]; } if (p[1] < bb[1]) { bb[1] = p[1]; }
        if (p[0] > bb[2]) { bb[2] = p[0]; } if (p[1] > bb[3]) { bb[3] = p[1]; }
      });
    });
    return bb;
  }

  // The best placement of `rings` (px at a reference zoom) in a box `size` [w, h] with `boxes` over it:
  // {dz: zoom steps from the reference (a multiple of snap), tx, ty: the area box's top-left} or, when
  // nothing is clear, the plain fit with clear: false.
  function place(rings, size, boxes, snap) {
    var bb = bbox(rings), bw = Math.max(bb[2] - bb[0], 1e-9), bh = Math.max(bb[3] - bb[1], 1e-9);
    var fitS = Math.min((size[0] - 2 * PAD) / bw, (size[1] - 2 * PAD) / bh);
    if (!(fitS > 0)) { return null; }
    var top = Math.floor(Math.log2(fitS) / snap + 1e-9) * snap;
    var plain = null;
    for (var k = 0; k <= DOWN_STEPS; k++) {
      var dz = top - k * snap, s = Math.pow(2, dz);
      var slackX = size[0] - 2 * PAD - bw * s, slackY = size[1] - 2 * PAD - bh * s;
      var cands = [];
      for (var i = 0; i < SHIFTS; i++) {
        for (var j = 0; j < SHIFTS; j++) {
          var fx = SHIFTS > 1 ? i / (SHIFTS - 1) : 0.5, fy = SHIFTS > 1 ? j / (SHIFTS - 1) : 0.5;
          cands.push([PAD + slackX * fx, PAD + slackY * fy, Math.abs(fx - 0.5) + Math.abs(fy - 0.5)]);
        }
      }
      cands.sort(function (a, c) { return a[2] - c[2]; });
      if (!plain) { plain = { dz: dz, tx: cands[0][0], ty: cands[0][1], clear: false }; }
      for (var c = 0; c < cands.length; c++) {
        if (clear(rings, bb, s, cands[c][0], cands[c][1], size, boxes)) {
          return { dz: dz, tx: cands[c][0], ty: cands[c][1], clear: true };
        }
      }
    }
    return plain;
  }

  // ---- on the page

  var maps = {};  // container id -> {map, box, moved, held, observer, rings}
  var fits = (cb.fits = cb.fits || { n: 0, clear: 0 });

  function boxOf(el) { return el && el.closest ? el.closest(".map-fit") : null; }

  // The outline's rings in px at zoom z0 (every k-th vertex past MAX_POINTS).
  function outline(map, z0) {
    var flat = [];
    map.eachLayer(function (l) {
      var cn = l.options && l.options.className;
      if (cn && String(cn).indexOf("fit-outline") >= 0 && l.getLatLngs) {
        (function walk(a) {
          if (!a.length) { return; }
          if (a[0] && a[0].lat !== undefined) { flat.push(a); } else { a.forEach(walk); }
        })(l.getLatLngs());
      }
    });
    var total = flat.reduce(function (n, r) { return n + r.length; }, 0);
    if (!total) { return null; }
    var every = Math.max(1, Math.ceil(total / MAX_POINTS));
    return flat.map(function (ring) {
      var out = [];
      for (var i = 0; i < ring.length; i += every) { var p = map.project(ring[i], z0); out.push([p.x, p.y]); }
      return out;
    });
  }

  // What lies over the map (in the map's own px: a scaled map, as on a 4K wall, divides by its scale).
  function overlays(map, box) {
    var el = map.getContainer(), r = el.getBoundingClientRect(), k = el.offsetWidth ? r.width / el.offsetWidth : 1;
    var found = [].slice.call(box.querySelectorAll(".map-overlay, .leaflet-control"));
    return found.map(function (o) { return o.getBoundingClientRect(); })
      .filter(function (b) { return b.width > 0 && b.height > 0 && b.right > r.left && b.left < r.right && b.bottom > r.top && b.top < r.bottom; })
      .map(function (b) { return [(b.left - r.left) / k, (b.top - r.top) / k, (b.right - r.left) / k, (b.bottom - r.top) / k]; })
      .concat(belowFirstScreen(r, k));
  }

  // A desk page taller than the screen: the part of the box below the first screen (in page coordinates,
  // so scrolling changes nothing) counts as covered, so the area shows without scrolling; not when most
  // of the box is below it (a phone's map under the lists).
  function belowFirstScreen(r, k) {
    var top = r.top + (root.scrollY || 0), fold = root.innerHeight, h = r.height;
    if (!fold || top >= fold || fold - top < 0.35 * h || top + h <= fold) { return []; }
    return [[0, (fold - top) / k, r.width / k, h / k]];
  }

  // The view {center, zoom} showing the map's area clear of its overlays, or null (no outline yet).
  function view(map) {
    var box = boxOf(map.getContainer()), size = map.getSize();
    if (!box || !size.x || !size.y) { return null; }
    var z0 = 10, rings = outline(map, z0);
    if (!rings) { return null; }
    var snap = map.options.zoomSnap || 1, at = place(rings, [size.x, size.y], overlays(map, box), snap);
    if (!at) { return null; }
    var bb = bbox(rings), s = Math.pow(2, at.dz);
    // the box's middle, in px at z0: the area's top-left sits at (tx, ty)
    var mid = root.L.point(bb[0] + (size.x / 2 - at.tx) / s, bb[1] + (size.y / 2 - at.ty) / s);
    return { center: map.unproject(mid, z0), zoom: z0 + at.dz, clear: at.clear };
  }

  // What the fit depends on: the map's size and where the overlays lie.
  function signature(entry) {
    var s = entry.map.getSize();
    return s.x + "x" + s.y + ":" + overlays(entry.map, entry.box).map(function (b) { return b.map(Math.round).join(","); }).join(";");
  }

  function refit(entry) {
    if (entry.moved || entry.held) { return false; }
    var map = entry.map;
    // a zoom or pan animation still running would, when it ends, move the map back to its own target: wait
    // for it (a flight needs no wait: setView stops it; Leaflet keeps _flyToFrame set after one)
    if (map._animatingZoom || (map._panAnim && map._panAnim._inProgress)) { later(entry); return false; }
    map.invalidateSize({ pan: false });
    entry.sig = signature(entry);
    var v = view(map);
    if (!v) { return false; }
    entry.fitting = true;
    try { map.setView(v.center, v.zoom, { animate: false }); } finally { entry.fitting = false; }
    fits.n += 1;
    if (v.clear) { fits.clear += 1; }
    fits.last = { id: map.getContainer().id, zoom: v.zoom, clear: v.clear };
    return true;
  }

  function later(entry) {
    if (entry.timer) { return; }
    entry.timer = root.setTimeout(function () { entry.timer = null; refit(entry); }, 60);
  }

  function watch(map) {
    var el = map.getContainer(), box = boxOf(el);
    if (!box || !el.id) { return; }
    var entry = { map: map, box: box, moved: false, held: false, fitting: false, timer: null };
    maps[el.id] = entry;
    map.on("layeradd", function (e) {
      var cn = e.layer && e.layer.options && e.layer.options.className;
      if (cn && String(cn).indexOf("fit-outline") >= 0) { later(entry); }
    });
    // a person's drag or zoom (not ours, not a caller's viewport) stops the refitting
    map.on("dragstart", function () { entry.moved = true; });
    ["wheel", "pointerdown", "keydown"].forEach(function (kind) {  // the zoom buttons and keys too
      el.addEventListener(kind, function () { entry.moved = true; }, { passive: true });
    });
    if (root.ResizeObserver) {
      var ro = new root.ResizeObserver(function () { later(entry); });
      ro.observe(el);
      [].slice.call(box.querySelectorAll(".map-overlay")).forEach(function (o) { ro.observe(o); });
      entry.observer = ro;
    }
    // an overlay Dash replaced or filled after the map was made: seen by its place changing
    entry.poll = root.setInterval(function () {
      if (entry.moved || entry.held || !root.document.contains(el)) { return; }
      if (signature(entry) !== entry.sig) { later(entry); }
    }, POLL_MS);
    map.on("unload", function () {
      root.clearInterval(entry.poll);
      if (entry.observer) { entry.observer.disconnect(); }
      if (maps[el.id] === entry) { delete maps[el.id]; }
    });
    later(entry);
  }

  // ---- overlays that fold away (.overlay-toggle inside a .map-overlay)

  function overlayKey(o) { return KEY + (o.getAttribute("data-overlay") || ""); }

  function setCollapsed(o, on) {
    o.classList.toggle("collapsed", on);
    var btn = o.querySelector(".overlay-toggle");
    if (btn) { btn.setAttribute("aria-expanded", on ? "false" : "true"); }
  }

  // At load: each overlay as the person left it; on a phone, folded unless opened.
  function restoreOverlays(scope) {
    [].slice.call((scope || root.document).querySelectorAll(".map-overlay[data-overlay]")).forEach(function (o) {
      if (o.getAttribute("data-restored")) { return; }
      o.setAttribute("data-restored", "1");
      var narrow = root.innerWidth < 761;  // a phone held upright (responsive.css): /wall too is a page
      if (o.closest(".mode-wall") && !narrow) { setCollapsed(o, false); return; }  // the wall shows every key
      var saved = null;
      try { saved = root.localStorage.getItem(overlayKey(o)); } catch (err) { saved = null; }
      setCollapsed(o, saved === null ? narrow : saved === "folded");
    });
  }

  if (root.document) {
    root.document.addEventListener("click", function (e) {
      var btn = e.target && e.target.closest ? e.target.closest(".overlay-toggle") : null;
      var o = btn ? btn.closest(".map-overlay") : null;
      if (!o) { return; }
      var on = !o.classList.contains("collapsed");
      setCollapsed(o, on);
      try { root.localStorage.setItem(overlayKey(o), on ? "folded" : "open"); } catch (err) { /* private mode */ }
    });
  }

  if (root.L && root.L.Map) {
    root.L.Map.addInitHook(function () {
      var map = this;
      restoreOverlays(boxOf(map.getContainer()));
      watch(map);
    });
  }

  return {
    place: place, clear: clear, segmentHits: segmentHits, inRings: inRings, bbox: bbox,
    view: function (id) { var e = maps[id]; return e ? view(e.map) : null; },
    hold: function (id, on) { var e = maps[id]; if (e) { e.held = !!on; } },
    refit: function (id) { var e = maps[id]; return e ? refit(e) : false; },
    restoreOverlays: restoreOverlays,
  };
});
