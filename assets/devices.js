/* citybrain devices: every camera and sensor on the wall map, live (docs/DEVICES.md).

   dash-leaflet 1.1.3 bundles Leaflet 1.9.4 and sets the global `L` before the assets load, so an init
   hook on L.Map sees the wall's map being created (no Dash prop carries the devices). Geometry comes
   from /geo/cameras.json and /geo/sensors.json (static, cached) after the map has drawn its cells; the
   statuses from GET /api/v1/devices, then from each pushed delta's `dev` (citybrain.js hands them here)
   and from the "devstatus" event (sensors turning stale or back: {dev: {id: status}}, taken here from
   assets/sockettap.js).

   Zoomed out, devices are grouped on a screen grid (GRID_PX): one DOM badge per group, coloured by the
   worst status inside it, showing its count. From DETAIL_ZOOM on, each device in view is a circle on one
   shared canvas. A change of N statuses costs O(N): per device its group's status counts move and only
   the badges and circles whose colour changed are restyled. Every text comes from data as text, never HTML. */
(function () {
  "use strict";
  var L = window.L;
  if (!L || !L.Map) { return; }

  var MAP_IDS = ["wall-map"];  // the maps that get the device layers
  var FAMILIES = ["cameras", "sensors"];
  var DETAIL_ZOOM = 16;  // from this zoom on: one circle per device in view
  var GRID_PX = 84;  // the screen grid that groups devices below DETAIL_ZOOM
  var SENSOR_SHIFT_PX = 13;  // a sensor badge sits down-right of its place: beside the cameras' badge
  var FIRST_PAINT_WAIT_MS = 3000;  // load the devices once the cells are drawn (or after this long)
  var PENDING_MAX = 200;  // deltas kept while the devices load; more: resync when loaded
  var STORE_KEY = "citybrain.layers";
  var STATUS_EVENT = "devstatus";  // the push bridge's {dev: {id: status}}: sensors turning stale or back

  var S = {  // the one device view of this page
    map: null, meta: null, renderer: null, ready: false, loading: false, resyncing: false, seq: -1,
    pending: [], overflow: false, held: {}, fam: {}, restyles: 0, applied: 0, resyncs: 0, zoom: null, tip: null,
    hover: -1, tapped: false,
  };

  function newFamily(name) {
    return {
      name: name, on: false, n: 0, ids: [], index: new Map(), lat: null, lon: null, kind: null, cell: null,
      kinds: [], cells: [], statuses: [], rankOf: {}, rank: null, markers: [], shown: new Set(),
      groups: null, badges: new Map(),
    };
  }

  // ---------------------------------------------------------------- loading

  function decode(F, g) {
    var n = g.n, lat = new Float64Array(n), lon = new Float64Array(n), x = 0, y = 0;
    for (var i = 0; i < n; i++) {
      x += g.lon[i]; y += g.lat[i];
      lon[i] = x / 1e6; lat[i] = y / 1e6;
      F.index.set(g.ids[i], i);
    }
    F.n = n; F.ids = g.ids; F.lat = lat; F.lon = lon; F.kind = g.kind; F.cell = g.cell;
    F.kinds = g.kinds; F.cells = g.cells; F.statuses = g.statuses;
    g.statuses.forEach(function (s, r) { F.rankOf[s] = r; });
    F.rank = new Uint8Array(n);
  }

  function getJSON(url, cache) {
    return fetch(url, { cache: cache || "default" }).then(function (r) {
      if (!r.ok) { throw new Error(url + ": HTTP " + r.status); }
      return r.json();
    });
  }

  // After the map's first paint (its cells are on screen): geometry and statuses, in parallel.
  function load() {
    if (S.loading || S.ready) { return; }
    S.loading = true;
    listen();
    var map = S.map;
    Promise.all([getJSON("/geo/cameras.json"), getJSON("/geo/sensors.json"), getJSON("/api/v1/devices", "no-store")])
      .then(function (got) {
        if (S.map !== map) { return; }  // the page went away meanwhile
        decode(S.fam.cameras, got[0]);
        decode(S.fam.sensors, got[1]);
        setStatuses(got[2]);
        S.ready = true;
        refresh(true);
        drain();
      })
      .catch(function () { setTimeout(retryLoad, 5000); })
      .then(function () { S.loading = false; });
  }
  function retryLoad() { if (S.map && !S.ready) { load(); } }

  function whenCellsDrawn(fn) {
    var t0 = Date.now();
    (function poll() {
      if (!S.map) { return; }
      if (document.querySelector("path.cell") || Date.now() - t0 > FIRST_PAINT_WAIT_MS) { fn(); return; }
      setTimeout(poll, 50);
    })();
  }

  // ---------------------------------------------------------------- statuses

  // A snapshot ({seq, default, cameras: {id: status}, sensors: {...}}): every device's rank at once.
  function setStatuses(snap) {
    FAMILIES.forEach(function (name) {
      var F = S.fam[name], def = F.rankOf[snap["default"][name]] || 0, listed = snap[name] || {};
      F.rank.fill(def);
      Object.keys(listed).forEach(function (id) {
        var i = F.index.get(id);
        if (i !== undefined) { F.rank[i] = rankIn(F, listed[id]); }
      });
    });
    S.seq = snap.seq;
  }

  function rankIn(F, status) {
    var r = F.rankOf[status];
    return r === undefined ? F.rankOf.unknown : r;
  }

  // A pushed delta ({from, to, dev: {id: status}}): only the changed devices are touched.
  function apply(msg) {
    if (!msg || typeof msg.from !== "number" || typeof msg.to !== "number") { return; }
    if (!S.ready || S.resyncing) {
      if (S.pending.length < PENDING_MAX) { S.pending.push(msg); } else { S.overflow = true; }
      return;
    }
    if (msg.to <= S.seq) { return; }  // already in the snapshot
    if (msg.from > S.seq + 1) { S.pending.push(msg); resync(); return; }  // a gap: some delta never came
    S.seq = msg.to;
    if (msg.dev) { change(msg.dev); }
  }

  // A "devstatus" event ({dev: {id: status}}, no seq: sensors turning stale or back): applied like a
  // delta's dev; held (the latest status per device) while the statuses load or resynchronise.
  function setDevStatus(msg) {
    if (!msg || !msg.dev || typeof msg.dev !== "object") { return; }
    if (!S.ready || S.resyncing) { Object.assign(S.held, msg.dev); return; }
    change(msg.dev);
  }

  // Listen to the socket's "devstatus" events, once (assets/sockettap.js loads after this file).
  function listen() {
    var tap = window.citybrain && window.citybrain.tap;
    if (S.tapped || !tap) { return; }
    S.tapped = true;
    tap.on(STATUS_EVENT, setDevStatus);
  }

  function change(dev) {
    var dirty = { cameras: new Set(), sensors: new Set() };
    Object.keys(dev).forEach(function (id) {
      for (var k = 0; k < FAMILIES.length; k++) {
        var F = S.fam[FAMILIES[k]], i = F.index.get(id);
        if (i === undefined) { continue; }
        var r = rankIn(F, dev[id]), old = F.rank[i];
        if (r === old) { return; }
        F.rank[i] = r;
        infoCache.delete(id);  // its "since" changed too
        var G = F.groups;
        if (G) {
          var g = G.of[i], w = F.statuses.length;
          G.counts[g * w + old]--; G.counts[g * w + r]++;
          dirty[F.name].add(g);
        }
        var m = F.markers[i];
        if (m && F.shown.has(i)) {
          m.setStyle(circleStyle(F, i));
          if (r > 0) { m.bringToFront(); }  // a device in trouble is drawn over its neighbours
          S.restyles++;
        }
        return;
      }
    });
    FAMILIES.forEach(function (name) {
      var F = S.fam[name];
      dirty[name].forEach(function (g) {
        var w = worstOf(F, g);
        if (w === F.groups.worst[g]) { return; }
        F.groups.worst[g] = w;
        var b = F.badges.get(g);
        if (b) { paintBadge(F, g, b); S.restyles++; }
      });
    });
    S.applied++;
  }

  // Fetch a fresh snapshot (after a gap, a reconnect, a new server run); deltas meanwhile go on top.
  function resync() {
    if (!S.ready || S.resyncing) { return; }
    S.resyncing = true;
    var map = S.map;
    getJSON("/api/v1/devices", "no-store").then(function (snap) {
      if (S.map !== map) { return; }
      setStatuses(snap);
      S.resyncs++;
      FAMILIES.forEach(function (name) { recount(S.fam[name]); });
      repaint();
    }).catch(function () { /* the next delta or reconnect tries again */ }).then(function () {
      S.resyncing = false;
      drain();
    });
  }

  // The deltas held while loading or resynchronising, on top of the snapshot; if some had to be
  // dropped (too many), another snapshot.
  function drain() {
    var held = S.pending.sort(function (a, b) { return a.from - b.from; }), lost = S.overflow;
    S.pending = [];
    S.overflow = false;
    if (lost) { resync(); return; }
    held.forEach(apply);
    var statuses = S.held;
    S.held = {};
    if (Object.keys(statuses).length) { change(statuses); }
  }

  // ---------------------------------------------------------------- drawing

  function colour(F, r) { return S.meta.colours[F.statuses[r]] || "#ffffff"; }

  // Fine devices small with a dark edge; the others (no report, stale, degraded, down) larger with a light
  // edge, so that they stand out on any cell colour; a stale one's edge dashed. Sensors a size up from cameras.
  function circleStyle(F, i) {
    var r = F.rank[i], plain = r === 0, up = F.name === "sensors" ? 1 : 0;
    return {
      radius: (plain ? 3.5 : 5.5) + up, weight: plain ? 1 : 1.8, color: plain ? "#061018" : "#f4fbff",
      opacity: 0.95, fillColor: colour(F, r), fillOpacity: 0.95,
      dashArray: F.statuses[r] === "stale" ? "2 2" : null,
    };
  }

  // The groups of one family at one zoom: which group each device is in, each group's status counts,
  // worst status and the mean position of its devices (a badge sits there).
  function regroup(F, zoom) {
    var map = S.map, w = F.statuses.length, of = new Int32Array(F.n), key = new Map();
    var sumLat = [], sumLon = [], size = [];
    for (var i = 0; i < F.n; i++) {
      var p = map.project([F.lat[i], F.lon[i]], zoom);
      var k = Math.floor(p.x / GRID_PX) * 100000 + Math.floor(p.y / GRID_PX);
      var g = key.get(k);
      if (g === undefined) { g = size.length; key.set(k, g); sumLat.push(0); sumLon.push(0); size.push(0); }
      of[i] = g; sumLat[g] += F.lat[i]; sumLon[g] += F.lon[i]; size[g]++;
    }
    var n = size.length, at = [];
    for (var j = 0; j < n; j++) { at.push(L.latLng(sumLat[j] / size[j], sumLon[j] / size[j])); }
    F.groups = { zoom: zoom, of: of, n: n, size: size, at: at, counts: new Int32Array(n * w), worst: new Int8Array(n) };
    recount(F);
  }

  function recount(F) {
    var G = F.groups;
    if (!G) { return; }
    var w = F.statuses.length;
    G.counts.fill(0);
    for (var i = 0; i < F.n; i++) { G.counts[G.of[i] * w + F.rank[i]]++; }
    for (var g = 0; g < G.n; g++) { G.worst[g] = worstOf(F, g); }
  }

  function worstOf(F, g) {
    var w = F.statuses.length, c = F.groups.counts;
    for (var r = w - 1; r > 0; r--) { if (c[g * w + r] > 0) { return r; } }
    return 0;
  }

  function badgeSize(n) { return Math.round(Math.min(30, 16 + 4 * Math.log10(Math.max(1, n)))); }

  function paintBadge(F, g, marker) {
    var el = marker.getElement();
    if (!el) { return; }
    var st = F.statuses[F.groups.worst[g]];
    el.setAttribute("data-status", st);
    el.style.setProperty("--dev-colour", S.meta.colours[st]);
  }

  function makeBadge(F, g) {
    var G = F.groups, px = badgeSize(G.size[g]), c = px / 2 - (F.name === "sensors" ? SENSOR_SHIFT_PX : 0);
    var label = document.createElement("span");
    label.textContent = String(G.size[g]);
    var marker = L.marker(G.at[g], {
      icon: L.divIcon({ className: "dev-cluster fam-" + F.name, html: label, iconSize: [px, px], iconAnchor: [c, c] }),
      keyboard: false, riseOnHover: true, pane: "deviceBadges",
    });
    marker.on("add", function () { paintBadge(F, g, marker); });
    marker.bindTooltip(function () { return groupText(F, g); }, { direction: "top", className: "dev-tip", offset: [0, -px / 2] });
    marker.on("click", function () { S.map.setView(G.at[g], Math.min(DETAIL_ZOOM, G.zoom + 2)); });
    return marker;
  }

  function inView(lat, lon, b) {
    return lat >= b.south && lat <= b.north && lon >= b.west && lon <= b.east;
  }

  function paddedBounds() {
    var b = S.map.getBounds().pad(0.25);
    return { south: b.getSouth(), north: b.getNorth(), west: b.getWest(), east: b.getEast() };
  }

  // Show what the view needs: badges below DETAIL_ZOOM, circles from it on; nothing for a family that is off.
  function refresh(force) {
    if (!S.ready || !S.map) { return; }
    var zoom = S.map.getZoom(), detail = zoom >= DETAIL_ZOOM, b = paddedBounds();
    FAMILIES.forEach(function (name) {
      var F = S.fam[name];
      var wantBadges = F.on && !detail, wantCircles = F.on && detail;
      if (wantBadges && (force || !F.groups || F.groups.zoom !== zoom)) { clearBadges(F); regroup(F, zoom); }
      if (!wantBadges) { clearBadges(F); }
      if (wantBadges) { showBadges(F, b); }
      showCircles(F, wantCircles ? b : null);
    });
    S.zoom = zoom;
  }

  function clearBadges(F) {
    F.badges.forEach(function (m) { m.remove(); });
    F.badges.clear();
  }

  function showBadges(F, b) {
    var G = F.groups;
    F.badges.forEach(function (m, g) {
      if (!inView(G.at[g].lat, G.at[g].lng, b)) { m.remove(); F.badges.delete(g); }
    });
    for (var g = 0; g < G.n; g++) {
      if (!F.badges.has(g) && inView(G.at[g].lat, G.at[g].lng, b)) {
        var m = makeBadge(F, g);
        F.badges.set(g, m);
        m.addTo(S.map);
      }
    }
  }

  function showCircles(F, b) {
    F.shown.forEach(function (i) {
      if (!b || !inView(F.lat[i], F.lon[i], b)) { F.markers[i].remove(); F.shown.delete(i); }
    });
    if (!b) { return; }
    var add = [];
    for (var j = 0; j < F.n; j++) {
      if (!F.shown.has(j) && inView(F.lat[j], F.lon[j], b)) { add.push(j); }
    }
    add.sort(function (x, y) { return F.rank[x] - F.rank[y]; });  // devices in trouble drawn last, on top
    add.forEach(function (i) {
      var m = F.markers[i];
      if (!m) {
        m = L.circleMarker([F.lat[i], F.lon[i]], L.extend({ renderer: S.renderer, interactive: false, pane: "devices" }, circleStyle(F, i)));
        F.markers[i] = m;
      } else if (m.options.fillColor !== colour(F, F.rank[i])) {
        L.setOptions(m, circleStyle(F, i));  // off the map: no redraw, the add draws it
      }
      m.addTo(S.map);
      F.shown.add(i);
    });
  }

  // After a resync: the badges and circles on screen whose status changed take it.
  function repaint() {
    FAMILIES.forEach(function (name) {
      var F = S.fam[name];
      F.badges.forEach(function (m, g) {
        var el = m.getElement();
        if (el && el.getAttribute("data-status") !== F.statuses[F.groups.worst[g]]) { paintBadge(F, g, m); S.restyles++; }
      });
      F.shown.forEach(function (i) {
        var m = F.markers[i];
        if (m.options.fillColor !== colour(F, F.rank[i])) { m.setStyle(circleStyle(F, i)); S.restyles++; }
      });
    });
  }

  // ---------------------------------------------------------------- words (text only)

  function fmtN(n) { return new Intl.NumberFormat(S.meta.lang).format(n); }

  function groupText(F, g) {
    var M = S.meta, G = F.groups, w = F.statuses.length, parts = [];
    for (var r = w - 1; r >= 0; r--) {
      var n = G.counts[g * w + r];
      if (n) { parts.push(M.status[F.statuses[r]] + " " + fmtN(n)); }
    }
    var el = document.createElement("div");
    var head = document.createElement("b");
    head.textContent = M.strings["dev_cluster_" + F.name].replace("{n}", fmtN(G.size[g]));
    var body = document.createElement("div");
    body.textContent = parts.join(" · ");
    var hint = document.createElement("div");
    hint.className = "dev-hint";
    hint.textContent = M.strings.dev_zoom_hint;
    el.appendChild(head); el.appendChild(body); el.appendChild(hint);
    return el;
  }

  var timeFmt = null;
  function timeText(ms) {
    if (!timeFmt) {
      timeFmt = new Intl.DateTimeFormat(S.meta.lang === "en" ? "en-GB" : S.meta.lang, {
        timeZone: S.meta.tz, month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
      });
    }
    return timeFmt.format(new Date(ms));
  }

  // One device's lines: what the page knows now, then (when fetched) its name and since when.
  function deviceText(F, i, info) {
    var M = S.meta, st = F.statuses[F.rank[i]];
    var kind = (M.kinds[F.name] || {})[F.kinds[F.kind[i]]] || F.kinds[F.kind[i]];
    var el = document.createElement("div");
    var head = document.createElement("b");
    head.textContent = info ? (M.lang === "en" ? info.name_en : info.name_zh) : F.ids[i];
    var line = document.createElement("div");
    line.textContent = [F.ids[i], kind, F.cells[F.cell[i]]].join(" · ");
    var status = document.createElement("div");
    status.className = "dev-status";
    var dot = document.createElement("i");
    dot.style.background = M.colours[st];
    status.appendChild(dot);
    var words = M.status[st];
    var since = info && (info.since || (st === "stale" && info.ts));  // a stale sensor: since its last reading
    if (since) { words += " " + M.strings.dev_since.replace("{t}", timeText(since)); }
    if (info && info.value !== null && info.value !== undefined) {
      words += " · " + M.strings.dev_reading.replace("{v}", info.value + " " + info.unit);
    }
    status.appendChild(document.createTextNode(words));
    el.appendChild(head); el.appendChild(line); el.appendChild(status);
    if (info && info.warn !== undefined) {
      var th = document.createElement("div");
      th.className = "dev-hint";
      th.textContent = M.strings.dev_thresholds.replace("{w}", info.warn).replace("{a}", info.alarm);
      el.appendChild(th);
    }
    return el;
  }

  // The shown circle under a container point (within a few pixels), or null.
  function hit(point) {
    var best = null, bestD = 64;  // squared pixels: 8 px
    FAMILIES.forEach(function (name) {
      var F = S.fam[name];
      F.shown.forEach(function (i) {
        var p = S.map.latLngToContainerPoint([F.lat[i], F.lon[i]]);
        var d = (p.x - point.x) * (p.x - point.x) + (p.y - point.y) * (p.y - point.y);
        if (d < bestD) { bestD = d; best = { F: F, i: i }; }
      });
    });
    return best;
  }

  // The canvas lets events through to the cells below it; hovering or clicking a circle is found here
  // (at most one hit test per frame).
  var moveQueued = null;
  function onMove(e) {
    if (moveQueued) { moveQueued = e; return; }
    moveQueued = e;
    requestAnimationFrame(function () {
      var ev = moveQueued;
      moveQueued = null;
      if (!S.map) { return; }
      var h = S.ready && S.zoom >= DETAIL_ZOOM ? hit(S.map.mouseEventToContainerPoint(ev)) : null;
      var key = h ? h.F.name + ":" + h.i : -1;
      if (key === S.hover) { return; }
      S.hover = key;
      S.map.getContainer().classList.toggle("dev-hover", !!h);
      if (!h) { if (S.tip) { S.map.closeTooltip(S.tip); S.tip = null; } return; }
      showDevice(h, "tooltip");
    });
  }

  function onClick(ev) {
    var h = S.map && S.ready && S.zoom >= DETAIL_ZOOM ? hit(S.map.mouseEventToContainerPoint(ev)) : null;
    if (h) { showDevice(h, "popup"); }
  }

  var infoCache = new Map();
  function showDevice(h, how) {
    var F = h.F, i = h.i, at = [F.lat[i], F.lon[i]], id = F.ids[i];
    var box = how === "popup"
      ? L.popup({ className: "dev-popup", offset: [0, -4] })
      : L.tooltip({ className: "dev-tip", direction: "top", offset: [0, -6] });
    box.setLatLng(at).setContent(deviceText(F, i, infoCache.get(id)));
    if (how === "popup") { S.map.openPopup(box); } else { if (S.tip) { S.map.closeTooltip(S.tip); } S.tip = box; S.map.openTooltip(box); }
    getJSON("/api/v1/devices/" + encodeURIComponent(id), "no-store").then(function (info) {
      if (infoCache.size > 500) { infoCache.clear(); }
      infoCache.set(id, info);
      if (box.isOpen()) { box.setContent(deviceText(F, i, info)); }
    }).catch(function () { /* the lines the page has stay */ });
  }

  // ---------------------------------------------------------------- toggles

  function readMeta() {
    var el = document.getElementById("device-layers");
    if (!el) { return null; }
    try { return JSON.parse(el.getAttribute("data-devices")); } catch (err) { return null; }
  }

  function remembered() {
    try { return JSON.parse(window.localStorage.getItem(STORE_KEY) || "null") || {}; } catch (err) { return {}; }
  }

  function setToggle(name, on) {
    var F = S.fam[name];
    F.on = on;
    var id = "layer-" + name;
    if (document.getElementById(id) && window.dash_clientside && window.dash_clientside.set_props) {
      window.dash_clientside.set_props(id, { className: "layer-toggle fam-" + name + (on ? " on" : ""), "aria-pressed": on ? "true" : "false" });
    }
  }

  document.addEventListener("click", function (e) {
    var btn = e.target && e.target.closest ? e.target.closest(".layer-toggle") : null;
    if (!btn || !S.map) { return; }
    var name = btn.getAttribute("data-family");
    if (!S.fam[name]) { return; }
    setToggle(name, !S.fam[name].on);
    var keep = remembered();
    keep[name] = S.fam[name].on;
    try { window.localStorage.setItem(STORE_KEY, JSON.stringify(keep)); } catch (err) { /* private mode */ }
    refresh(false);
  });

  // ---------------------------------------------------------------- the map

  function attach(map) {
    S.map = map; S.ready = false; S.loading = false; S.resyncing = false; S.seq = -1; S.pending = []; S.overflow = false;
    S.zoom = null; S.hover = -1; S.tip = null; S.held = {};
    listen();
    S.fam = { cameras: newFamily("cameras"), sensors: newFamily("sensors") };
    var pane = map.createPane("devices");
    pane.style.zIndex = 450;  // over the cells and outlines, under the badges and tooltips
    pane.style.pointerEvents = "none";
    map.createPane("deviceBadges").style.zIndex = 590;
    S.renderer = L.canvas({ pane: "devices", padding: 0.3 });
    map.on("zoomend moveend", function () { refresh(false); });
    // DOM listeners: the map's own mousemove/click do not fire over the cells, which handle them
    var box = map.getContainer();
    box.addEventListener("mousemove", function (ev) { onMove(ev); });
    box.addEventListener("click", function (ev) {
      if (ev.target.closest && ev.target.closest(".leaflet-popup, .leaflet-control, .leaflet-marker-icon")) { return; }
      onClick(ev);
    });
    map.on("unload", function () { if (S.map === map) { S.map = null; S.ready = false; } });
    map.whenReady(function () {
      // the layout (and its meta) is in the page when the map is: read them on the next tick
      setTimeout(function () {
        S.meta = readMeta();
        if (!S.meta) { return; }
        var keep = document.getElementById("layer-cameras") ? remembered() : {};  // no toggles: the defaults
        FAMILIES.forEach(function (name) {
          setToggle(name, keep[name] === undefined ? !!S.meta.shown[name] : !!keep[name]);
        });
        whenCellsDrawn(load);
      }, 0);
    });
  }

  L.Map.addInitHook(function () {
    var el = this.getContainer();
    if (el && MAP_IDS.indexOf(el.id) >= 0) { attach(this); }
  });

  // ---------------------------------------------------------------- the page's hooks and test hooks

  window.citybrain = Object.assign(window.citybrain || {}, {
    devices: {
      apply: apply,  // a merged delta message (citybrain.js calls this for each)
      resync: resync,  // after the page resynchronised (a gap, a reconnect, a new server run)
      get map() { return S.map; },
      get ready() { return S.ready; },
      get seq() { return S.seq; },
      get restyles() { return S.restyles; },
      get applied() { return S.applied; },
      get resyncs() { return S.resyncs; },
      // What the page shows for one device: its status and colour, and how it is drawn now (its own
      // circle, or the badge of its group with that group's worst status, colour and size); null: unknown id.
      state: function (id) {
        for (var k = 0; k < FAMILIES.length; k++) {
          var F = S.fam[FAMILIES[k]], i = F.index ? F.index.get(id) : undefined;
          if (i === undefined) { continue; }
          var st = F.statuses[F.rank[i]], out = { family: F.name, status: st, colour: S.meta.colours[st], drawn: "none" };
          if (F.shown.has(i)) {
            out.drawn = "circle";
            out.fill = F.markers[i].options.fillColor;
          } else if (F.groups && F.badges.has(F.groups.of[i])) {
            var g = F.groups.of[i], el = F.badges.get(g).getElement();
            out.drawn = "badge";
            out.badge = { status: el.getAttribute("data-status"), colour: el.style.getPropertyValue("--dev-colour"), count: Number(el.textContent) };
          }
          return out;
        }
        return null;
      },
      counts: function () {
        var out = {};
        FAMILIES.forEach(function (name) {
          var F = S.fam[name];
          out[name] = { badges: F.badges.size, circles: F.shown.size, on: F.on, n: F.n };
        });
        return out;
      },
    },
  });
})();
