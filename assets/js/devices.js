/* citybrain devices: every camera and sensor on the wall map, live (docs/DEVICES.md).

   dash-leaflet bundles Leaflet and sets the global L before the assets load, so an init hook on L.Map
   sees the wall's map being created (no Dash prop carries the devices); the page's [data-devices]
   attribute (layouts/devices.py) names the map that gets them and holds the strings and colours.
   Geometry comes from /geo/cameras.json and /geo/sensors.json (static, cached) once the map has drawn
   its cells; the statuses from GET /api/v1/devices, then from each pushed delta's `dev` (live.js hands
   every delta here; this layer keeps its own seq). Drawing: devicedraw.js; words: devicetext.js.
   Test hooks: window.citybrain.devices.{ready, seq, map, restyles, applied, resyncs, state(id), counts()}. */
(function (name, factory) {
  "use strict";
  var g = typeof window !== "undefined" ? window : globalThis;
  var cb = (g.citybrain = g.citybrain || {});
  var node = typeof module === "object" && module && module.exports && typeof require === "function";
  var m = factory(node ? function (d) { return require("./" + d + ".js"); } : function (d) { return cb[d]; }, cb, g);
  if (node) { module.exports = m; } else { cb[name] = m; }
})("devices", function (need, cb, root) {
  "use strict";

  var FAMILIES = ["cameras", "sensors"];
  var FIRST_PAINT_WAIT_MS = 3000;  // load the devices once the cells are drawn (or after this long)
  var PENDING_MAX = 200;  // deltas kept while the devices load; more: resync when loaded
  var STORE_KEY = "citybrain.layers";

  var S = {  // the one device view of this page
    map: null, meta: null, renderer: null, ready: false, loading: false, resyncing: false, seq: -1,
    pending: [], overflow: false, fam: {}, families: FAMILIES, restyles: 0, applied: 0, resyncs: 0,
    zoom: null, tip: null, hover: -1,
  };

  function newFamily(name) {
    return {
      name: name, on: false, n: 0, ids: [], index: new Map(), lat: null, lon: null, kind: null, cell: null,
      kinds: [], cells: [], statuses: [], rankOf: {}, rank: null, markers: [], shown: new Set(), groups: null,
      badges: new Map(),
    };
  }

  // The compact geometry ({n, ids, lon, lat (delta-encoded, 1e-6 degrees), kind, cell, ...}) into F.
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
    return root.fetch(url, { cache: cache || "default" }).then(function (r) {
      if (!r.ok) { throw new Error(url + ": HTTP " + r.status); }
      return r.json();
    });
  }

  // After the map's first paint (its cells are on screen): geometry and statuses, in parallel.
  function load() {
    if (S.loading || S.ready) { return; }
    S.loading = true;
    var map = S.map;
    Promise.all([getJSON("/geo/cameras.json"), getJSON("/geo/sensors.json"), getJSON("/api/v1/devices", "no-store")])
      .then(function (got) {
        if (S.map !== map) { return; }  // the page went away meanwhile
        decode(S.fam.cameras, got[0]);
        decode(S.fam.sensors, got[1]);
        setStatuses(got[2]);
        S.ready = true;
        need("devicedraw").refresh(S, true);
        drain();
      })
      .catch(function () { root.setTimeout(function () { if (S.map && !S.ready) { load(); } }, 5000); })
      .then(function () { S.loading = false; });
  }

  function whenCellsDrawn(fn) {
    var t0 = Date.now();
    (function poll() {
      if (!S.map) { return; }
      if (root.document.querySelector("path.cell") || Date.now() - t0 > FIRST_PAINT_WAIT_MS) { fn(); return; }
      root.setTimeout(poll, 50);
    })();
  }

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

  // A pushed delta ({from, to, dev?: {id: status}}): only the changed devices are touched.
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

  function change(dev) {
    var draw = need("devicedraw"), dirty = { cameras: new Set(), sensors: new Set() };
    Object.keys(dev).forEach(function (id) {
      for (var k = 0; k < FAMILIES.length; k++) {
        var F = S.fam[FAMILIES[k]], i = F.index.get(id);
        if (i === undefined) { continue; }
        var r = rankIn(F, dev[id]), old = F.rank[i];
        if (r === old) { return; }
        F.rank[i] = r;
        need("devicetext").forget(id);  // its "since" changed too
        draw.moved(S, F, i, old, dirty[F.name]);
        return;
      }
    });
    FAMILIES.forEach(function (name) { if (S.fam[name].groups) { draw.rebadge(S, S.fam[name], dirty[name]); } });
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
      need("devicedraw").repaint(S);
    }).catch(function () { /* the next delta or reconnect tries again */ }).then(function () {
      S.resyncing = false;
      drain();
    });
  }

  // The deltas held while loading or resynchronising, on top of the snapshot (too many: another one).
  function drain() {
    var held = S.pending.sort(function (a, b) { return a.from - b.from; }), lost = S.overflow;
    S.pending = [];
    S.overflow = false;
    if (lost) { resync(); return; }
    held.forEach(apply);
  }

  // ---- the toggles (remembered per browser)

  function remembered() {
    try { return JSON.parse(root.localStorage.getItem(STORE_KEY) || "null") || {}; } catch (err) { return {}; }
  }

  function setToggle(name, on) {
    S.fam[name].on = on;
    var id = S.meta.ids[name];
    if (root.document.getElementById(id) && root.dash_clientside && root.dash_clientside.set_props) {
      root.dash_clientside.set_props(id, { className: "layer-toggle fam-" + name + (on ? " on" : ""), "aria-pressed": on ? "true" : "false" });
    }
  }

  function onToggle(e) {
    var btn = e.target && e.target.closest ? e.target.closest(".layer-toggle") : null;
    if (!btn || !S.map || !S.meta) { return; }
    var name = btn.getAttribute("data-family");
    if (!S.fam[name]) { return; }
    setToggle(name, !S.fam[name].on);
    var keep = remembered();
    keep[name] = S.fam[name].on;
    try { root.localStorage.setItem(STORE_KEY, JSON.stringify(keep)); } catch (err) { /* private mode */ }
    need("devicedraw").refresh(S, false);
  }

  // ---- the map

  function readMeta() {
    var el = root.document.querySelector("[data-devices]");
    try { return el ? JSON.parse(el.getAttribute("data-devices")) : null; } catch (err) { return null; }
  }

  function attach(map, meta) {
    Object.assign(S, { map: map, meta: meta, ready: false, loading: false, resyncing: false, seq: -1, pending: [],
      overflow: false, zoom: null, hover: -1, tip: null });
    S.fam = { cameras: newFamily("cameras"), sensors: newFamily("sensors") };
    var pane = map.createPane("devices");
    pane.style.zIndex = 450;  // over the cells and outlines, under the badges and tooltips
    pane.style.pointerEvents = "none";
    map.createPane("deviceBadges").style.zIndex = 590;
    S.renderer = root.L.canvas({ pane: "devices", padding: 0.3 });
    map.on("zoomend moveend", function () { need("devicedraw").refresh(S, false); });
    // DOM listeners: the map's own mousemove/click do not fire over the cells, which handle them
    var box = map.getContainer(), T = need("devicetext");
    box.addEventListener("mousemove", function (ev) { T.onMove(S, ev); });
    box.addEventListener("click", function (ev) {
      if (ev.target.closest && ev.target.closest(".leaflet-popup, .leaflet-control, .leaflet-marker-icon")) { return; }
      T.onClick(S, ev);
    });
    map.on("unload", function () { if (S.map === map) { S.map = null; S.ready = false; } });
    var keep = root.document.getElementById(meta.ids.cameras) ? remembered() : {};  // no toggles: the defaults
    FAMILIES.forEach(function (name) { setToggle(name, keep[name] === undefined ? !!meta.shown[name] : !!keep[name]); });
    whenCellsDrawn(load);
  }

  if (root.L && root.L.Map && root.document) {
    root.L.Map.addInitHook(function () {
      var map = this, el = map.getContainer();
      // the layout (and its meta) is in the page when the map is: read them on the next tick
      map.whenReady(function () {
        root.setTimeout(function () {
          var meta = readMeta();
          if (meta && el && meta.ids && meta.ids.map === el.id && map.getContainer().isConnected) { attach(map, meta); }
        }, 0);
      });
    });
    root.document.addEventListener("click", onToggle);
  }

  // What the page shows for one device: its status and colour, and how it is drawn now (its own circle,
  // or its group's badge with that group's worst status, colour and size); null: an unknown id.
  function state(id) {
    for (var k = 0; k < FAMILIES.length; k++) {
      var F = S.fam[FAMILIES[k]], i = F && F.index ? F.index.get(id) : undefined;
      if (i === undefined) { continue; }
      var st = F.statuses[F.rank[i]], out = { family: F.name, status: st, colour: S.meta.colours[st], drawn: "none" };
      if (F.shown.has(i)) {
        out.drawn = "circle";
        out.fill = F.markers[i].options.fillColor;
      } else if (F.groups && F.badges.has(F.groups.of[i])) {
        var el = F.badges.get(F.groups.of[i]).getElement();
        out.drawn = "badge";
        out.badge = { status: el.getAttribute("data-status"), colour: el.style.getPropertyValue("--dev-colour"), count: Number(el.textContent) };
      }
      return out;
    }
    return null;
  }

  function counts() {
    var out = {};
    FAMILIES.forEach(function (name) {
      var F = S.fam[name];
      if (F) { out[name] = { badges: F.badges.size, circles: F.shown.size, on: F.on, n: F.n }; }
    });
    return out;
  }

  return {
    apply: apply, resync: resync, state: state, counts: counts, rankIn: rankIn,
    get map() { return S.map; },
    get ready() { return S.ready; },
    get seq() { return S.seq; },
    get restyles() { return S.restyles; },
    get applied() { return S.applied; },
    get resyncs() { return S.resyncs; },
  };
});
