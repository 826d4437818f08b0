/* citybrain: clientside code of the wall and the case page. Applies Socket.IO deltas to the page's
   live store, restyles cells via hideout, renders counters, panels and figures, keeps the clock.
   No server round trip on any of these paths. Names, notes and every other piece of data become
   text children of components, never HTML. */
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
        // the page's live counts (kept by the deltas) over the hideout's, which is only rewritten when
        // the colouring changes: a restyle of every cell (hover, a new mode) shows the counts of now
        var counts = window.citybrain.liveCounts() || h.counts || {};
        var n = counts[feature.properties.id] || 0;
        // hideout.mode "health" / "alerts" (the map-colour-switch, assets/area.js): another fill
        var alt = h.mode && h.mode !== "open" && window.citybrainArea ? window.citybrainArea.modeFill(feature.properties, h) : null;
        return {
          fillColor: alt || colorFor(n, h), fillOpacity: 0.82, color: "#0b1d26", weight: 0.6, opacity: 0.9,
          className: "cell cell-" + feature.properties.id,
        };
      },
      // Outline of an area with active alerts (hideout.alerts: {area id: [level, firing]}); others invisible.
      alertStyle: function (feature, context) {
        var h = context.hideout || {}, a = (h.alerts || {})[feature.properties.id];
        if (!a) { return { stroke: false, fill: false, weight: 0, opacity: 0, fillOpacity: 0 }; }
        var col = (h.colours || {})[a[0]] || "#ffffff";
        return {
          color: col, weight: 5, opacity: 1, fill: true, fillColor: col, fillOpacity: 0.15,
          className: "alert-area alert-area-" + feature.properties.id + " level-" + a[0] + (a[1] ? " alert-pulse" : ""),
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
          var counts = window.citybrain.liveCounts();
          var n = counts ? counts[p.id] || 0 : null;
          var label = lang === "en" ? " · open: " : " · 在办：";
          e.tooltip.setContent(textNode(p.id + "  " + (name || "") + (n === null ? "" : label + n)));
        });
      },
    },
  });

  // ---------------------------------------------------------------- small helpers

  var formatters = {};
  function formatter(key, lang, opts) {
    var k = key + "|" + lang;
    if (!formatters[k]) { formatters[k] = new Intl.DateTimeFormat(lang === "en" ? "en-GB" : lang, opts); }
    return formatters[k];
  }

  // yyyymmdd (or yyyymmddhh) of an instant in the district's time zone.
  function localKey(tz, ms, withHour) {
    var f = formatter("key" + tz, "en-CA", {
      timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", hourCycle: "h23",
    });
    var p = {};
    f.formatToParts(new Date(ms)).forEach(function (x) { p[x.type] = x.value; });
    return p.year + p.month + p.day + (withHour ? p.hour : "");
  }

  function todayKey(tz) { return localKey(tz, Date.now(), false); }

  // The 24 hour keys (yyyymmddhh) ending with the current local hour, oldest first (cached a minute).
  var hourCache = { at: 0, tz: null, keys: [] };
  function lastHours(tz) {
    var now = Date.now();
    if (hourCache.tz !== tz || now - hourCache.at > 60000) {
      var keys = [];
      for (var k = 23; k >= 0; k--) { keys.push(localKey(tz, now - k * 3600000, true)); }
      hourCache = { at: now, tz: tz, keys: keys };
    }
    return hourCache.keys;
  }

  var numberFormats = {};
  function fmt(n, lang) {
    if (!numberFormats[lang]) { numberFormats[lang] = new Intl.NumberFormat(lang); }
    return numberFormats[lang].format(n);
  }

  // A duration in its two largest non-zero units, as dashboard/i18n.py duration() does.
  function duration(ms, S, lang) {
    var s = Math.max(0, Math.floor(ms / 1000));
    var parts = [[Math.floor(s / 86400), "dur_day"], [Math.floor((s % 86400) / 3600), "dur_hour"],
      [Math.floor((s % 3600) / 60), "dur_min"]];
    if (s < 3600) { parts.push([s % 60, "dur_sec"]); }
    while (parts.length > 1 && parts[0][0] === 0) { parts.shift(); }
    var first = parts[0][1];
    var shown = parts.slice(0, 2).filter(function (p) { return p[0] || p[1] === first; })
      .map(function (p) { return S[p[1]].replace("{n}", p[0]); });
    return shown.join(lang === "zh-CN" ? "" : " ");
  }

  // A Dash html component as JSON; children are text or components, never HTML.
  function h(type, props, children) {
    var p = Object.assign({}, props || {});
    if (children !== undefined) { p.children = children; }
    return { type: type, namespace: "dash_html_components", props: p };
  }

  function caseHref(id, lang) {
    return "/case/" + encodeURIComponent(id) + "?lang=" + encodeURIComponent(lang);
  }

  // Add increments into a map of counts (fields absent count as 0).
  function addInto(target, inc) {
    if (!inc) { return; }
    Object.keys(inc).forEach(function (k) { target[k] = (target[k] || 0) + inc[k]; });
  }

  function cellWords(meta, cell) {
    var m = meta.cells[cell];
    var sub = m ? meta.communities[m[1]] : null;
    return { name: m ? m[0] : "", sub: sub ? meta.sub_short[sub] || "" : "" };
  }

  // ---------------------------------------------------------------- resynchronisation

  // The page's state: deltas are applied here as they arrive, and what they change is painted straight
  // into the DOM at the next animation frame (cells restyled one by one through Leaflet, counters and
  // panels written in place). No Dash store is written on this path: a store write makes Dash re-run
  // every callback that reads it and re-render their outputs, far more than one update may cost.
  var cur = null;  // {meta, live, hideout}

  // The wall's ids are in the document (the user may have gone on to another page of the app, whose
  // socket's events also reach the tap): nothing is applied or written to a page that is not there.
  function onWall() { return !!document.getElementById("wall-map"); }

  // The open cases per cell as the page knows them now (the map's style and tooltips read them).
  window.citybrain.liveCounts = function () { return cur && onWall() ? cur.hideout.counts : null; };
  window.citybrain.wallLive = function () { return cur && onWall() ? cur.live : null; };

  // Merge keys into the cells layer's hideout (the map colouring of assets/area.js). Dash gets the
  // hideout (and restyles all 478 cells) only when what colours the cells changed: the mode, or the
  // data of the mode shown; the counts of the "open" mode are painted cell by cell.
  var hideoutSig = null;
  function colouringSig(hd) {
    var mode = hd.mode || "open";
    return JSON.stringify([mode, mode === "health" ? hd.health : null,
      mode === "alerts" ? [hd.alerts, hd.level_colours] : null]);
  }
  window.citybrain.setWallHideout = function (extra, storeHideout) {
    var next = Object.assign({}, cur ? cur.hideout : storeHideout, extra);
    if (cur) { cur.hideout = next; }
    var sig = colouringSig(next);
    if (sig === hideoutSig) { return; }
    hideoutSig = sig;
    window.dash_clientside.set_props("wall-cells", { hideout: next });
  };
  window.citybrain.wallHideout = function () { return cur ? cur.hideout : null; };

  var resyncing = false;
  var held = [];  // deltas that arrive while a snapshot is on its way: applied on top of it
  var retryTimer = null;  // one pending retry of a failed snapshot at most
  var SNAP_TIMEOUT_MS = 10000;
  var SNAP_GRACE_MS = 2000;  // a lower seq written this long after the page's snapshot: Redis was reset

  // ---- freshness: when the page last heard from the server, and up to when each kind's data is known
  var fresh = { data: {}, heard: Date.now(), snapTs: 0 };  // snapTs: server time of the snapshot

  function heard() { fresh.heard = Date.now(); }
  function dataAt(kind, ts) {
    var t = Math.min(ts || 0, Date.now());  // a server clock ahead of this one: not "in the future"
    if (t > (fresh.data[kind] || 0)) { fresh.data[kind] = t; }
  }

  // A snapshot of server time ts: every kind's data is known up to then.
  function snapshotAt(ts) { ["case_event", "sensor_reading", "camera_status"].forEach(function (k) { dataAt(k, ts); }); }

  // The record kinds a delta brings news of: case read models, camera or reading counters.
  function deltaKinds(delta, keys) {
    var out = [], inc = delta.inc || {};
    if (delta.ticker && delta.ticker.length) { out.push("case_event"); }
    Object.keys(inc).forEach(function (k) {
      if (k === keys.counters) {
        Object.keys(inc[k]).forEach(function (f) {
          out.push(f.indexOf("camera") === 0 ? "camera_status" : (f.indexOf("readings") === 0 ? "sensor_reading" : "case_event"));
        });
      } else if (k === keys.cells || k === keys.open || k === keys.overdue_n || k.indexOf(keys.day) === 0 ||
                 k.indexOf(keys.hour) === 0) {
        out.push("case_event");
      }
    });
    return out;
  }

  // One "delta" message, in arrival order: apply it, or hold it / resync on a gap, a restart, a reset.
  function onDelta(delta) {
    if (!cur || !delta || !onWall()) { return; }  // before the page's state exists: the next delta shows the gap
    var meta = cur.meta;
    heard();
    if (dropping > 0) {  // the test hook: this delta is "lost"
      dropping -= 1;
      window.citybrain.dropped = (window.citybrain.dropped || 0) + 1;
      return;
    }
    if (window.citybrain.devices) { window.citybrain.devices.apply(delta); }  // the map's devices: assets/devices.js
    if (resyncing) { held.push(delta); return; }  // goes on top of the coming snapshot
    if (foreign(delta)) { resync("restart"); held.push(delta); return; }  // a new server or Redis
    var seq = cur.live ? cur.live.seq : -1;
    if (delta.to <= seq) {  // already in the snapshot, or (written after it) a seq going backwards: a reset
      if (delta.to < seq && delta.ts > fresh.snapTs + SNAP_GRACE_MS) { resync("backwards"); }
      return;
    }
    if (seq < 0 || delta.from > seq + 1) {  // a gap: some delta never reached this page
      resync("gap");
      held.push(delta);
      return;
    }
    if (newDay(cur.live, meta)) { return; }  // a new local day: counters restart from a snapshot
    var cellInc = (delta.inc || {})[meta.keys.cells];
    addInto(cur.hideout.counts, cellInc);  // the page's own copy (newPage): nothing else holds it
    if (cellInc) { Object.keys(cellInc).forEach(function (id) { painter.cells[id] = true; }); }
    cur.hideout.seq = delta.to;
    cur.live = applyDelta(delta, cur.live, meta);
    deltaKinds(delta, meta.keys).forEach(function (k) { dataAt(k, delta.ts); });
    window.citybrain.applied = (window.citybrain.applied || 0) + 1;
    window.citybrain.lastDelta = delta;
    schedulePaint();
  }

  // Deltas come straight from the socket (assets/sockettap.js), every one in order: a Dash prop keeps
  // only the latest of the events that arrive between two renders, which would show as gaps.
  // The other wall events come the same way: alerts (applied by seq too), flow and feeds.
  var tapped = false;
  function tapEvents() {
    var tap = window.citybrain.tap;
    if (tapped || !tap) { return; }
    tapped = true;
    tap.on("delta", onDelta);
    tap.on("alerts", onAlertsMsg);
    tap.on("flow", onFlow);
    tap.on("feeds", onFeeds);
  }

  // A new page: its state is the snapshot it was built from (the counts a copy of its own).
  function newPage(meta, live, hideout, feeds, alerts) {
    cur = { meta: meta, live: live, hideout: Object.assign({}, hideout, { counts: Object.assign({}, hideout.counts) }) };
    hideoutSig = colouringSig(hideout);
    fresh.snapTs = (live && live.ts) || 0;
    feedsNow = feeds || null;
    if (feeds) { snapshotAt(feeds.ts); }
    alertStore = alerts || { seq: -1, alerts: [] };
    painter = newPainter();
    window.citybrain.keys = meta.keys;
    document.documentElement.setAttribute("data-cb-lang", meta.lang);
    tapEvents();
    paint();
    mountFigures(meta);
  }

  // The figures' graphs are mounted once the first screen is complete (the cells drawn, the devices
  // loaded, or 5 s): plotly.js (1 MB) then loads and compiles after the map and the counters are up.
  function mountFigures(meta) {
    var t0 = Date.now();
    (function wait() {
      if (!cur || cur.meta !== meta || !onWall()) { return; }
      var dev = window.citybrain.devices, late = Date.now() - t0 > 5000;
      if (!late && (!document.querySelector("path.cell") || (dev && !dev.ready))) { setTimeout(wait, 100); return; }
      Object.keys(meta.graphs || {}).forEach(function (box) {
        if (document.getElementById(box)) { window.dash_clientside.set_props(box, { children: meta.graphs[box] }); }
      });
      window.citybrain.figuresMounted = Date.now() - t0;
      schedulePaint();
    })();
  }

  // The stage entries of the last hour and the stages' median times (every 30 s).
  function onFlow(flow) {
    if (!cur || !flow || !onWall()) { return; }
    heard();
    cur.live = Object.assign({}, cur.live, {
      flow_hour: flow.flow_hour || {}, stage_median: flow.stage_median || cur.live.stage_median || {},
    });
    schedulePaint();
  }

  // The feeds' freshness per record kind; a message from another server run: resync.
  var feedsNow = null;
  function onFeeds(msg) {
    if (!cur || !msg || !msg.kinds || !onWall()) { return; }
    heard();
    if (foreign(msg)) { resync("restart"); }
    feedsNow = msg;
  }

  // A message from another web process (a restart) or another Redis run: the page's state is suspect.
  function foreign(msg) {
    var live = cur && cur.live;
    return !!(msg && msg.boot && live && live.boot && (msg.boot !== live.boot || msg.epoch !== live.epoch));
  }

  // Fetch a fresh snapshot and replace the page's state with it (after a gap, a reconnect, a new day).
  function resync(why) {
    if (resyncing || !cur || !onWall()) { return; }
    var whyCount = window.citybrain.resyncWhy = window.citybrain.resyncWhy || {};  // diagnostics: why, how often
    whyCount[why || "other"] = (whyCount[why || "other"] || 0) + 1;
    resyncing = true;
    held = [];
    if (window.citybrain.devices) { window.citybrain.devices.resync(); }  // device statuses: assets/devices.js
    var again = false;
    // a server that accepts and never answers must not hold the page in "resyncing" (held[] growing)
    var abort = window.AbortController ? new AbortController() : null;
    var timeout = abort ? setTimeout(function () { abort.abort(); }, SNAP_TIMEOUT_MS) : null;
    fetch("/api/v1/snapshot", { cache: "no-store", signal: abort ? abort.signal : undefined })
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(function (snap) {
        var meta = cur.meta, counts = snap.cells, live = Object.assign({}, snap);
        delete live.cells;
        delete live.alerts;  // the alerts have their own store, kept by the "alerts" event
        delete live.feeds;  // the feeds' freshness has its own store too
        heard();
        fresh.snapTs = snap.ts;
        snapshotAt(snap.ts);
        feedsNow = { ts: snap.ts, kinds: snap.feeds || {} };
        held.sort(function (a, b) { return a.from - b.from; }).forEach(function (d) {
          if (again || d.to <= live.seq) { return; }
          if (d.from > live.seq + 1) { again = true; return; }  // still a hole: another snapshot
          counts = Object.assign({}, counts);
          addInto(counts, (d.inc || {})[meta.keys.cells]);
          live = applyDelta(d, live, meta);
        });
        cur.live = live;
        cur.hideout = Object.assign({}, cur.hideout, { counts: counts, seq: live.seq });
        painter.all = true;  // every cell and panel against the snapshot
        paint();
        window.citybrain.resyncs = (window.citybrain.resyncs || 0) + 1;
      })
      .catch(function () {  // the server is away or failing: try again in a while (or at the next delta)
        if (!retryTimer) { retryTimer = setTimeout(function () { retryTimer = null; resync("retry"); }, 2000); }
      })
      .then(function () {
        clearTimeout(timeout);
        resyncing = false;
        held = [];
        if (again) { resync("hole"); }
      });
  }

  // A hidden tab gets its timers throttled: when shown again after a while, start from a fresh snapshot.
  var hiddenAt = null;
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) { hiddenAt = Date.now(); return; }
    if (hiddenAt !== null && Date.now() - hiddenAt > 10000) { resync("visible"); }
    hiddenAt = null;
  });

  function hms(ms, meta) {
    return formatter("hms" + meta.tz, meta.lang, {
      timeZone: meta.tz, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
    }).format(new Date(ms));
  }

  function ageText(s, S) {
    if (s < 60) { return S.fresh_s.replace("{n}", s); }
    return s < 3600 ? S.fresh_min.replace("{n}", Math.floor(s / 60)) : S.fresh_h.replace("{n}", Math.floor(s / 3600));
  }

  // Write one panel's mark (text and data-fresh only when they change) and grey its box when stale.
  function markPanel(pid, kind, k, now, meta) {
    var el = document.getElementById("fresh-" + pid);
    if (!el) { return; }
    var S = meta.strings, stale = !!k.stale, text, mark;
    if (stale) {
      text = k.since ? S.fresh_stale.replace("{t}", hms(k.since, meta)) : S.fresh_stale_never;
      mark = "stale";
    } else {
      var at = Math.max(fresh.data[kind] || 0, k.asof || 0);
      var age = Math.max(0, Math.floor((now - at) / 1000));
      text = at ? ageText(age, S) : "–";
      mark = at ? String(age) : "";
    }
    if (el.textContent !== text) { el.textContent = text; }
    if (el.getAttribute("data-fresh") !== mark) { el.setAttribute("data-fresh", mark); }
    var box = el.closest(".panel, .kpi, .map-overlay, .wall-ticker");
    if (box && box.classList.contains("stale") !== stale) { box.classList.toggle("stale", stale); }
  }

  // Each panel's data age (or since when its feed is stale), written into the marks in place (no new
  // nodes), and the connection banner while the socket is down.
  var connState = null;
  function freshness(meta) {
    var S = meta.strings, now = Date.now(), kinds = (feedsNow && feedsNow.kinds) || {};
    Object.keys(meta.fresh).forEach(function (pid) {
      markPanel(pid, meta.fresh[pid], kinds[meta.fresh[pid]] || {}, now, meta);
    });
    var lost = connState === false, el = document.getElementById("connection-banner");
    if (!el) { return; }
    var text = lost ? S.conn_banner.replace("{t}", hms(fresh.heard, meta)) : "";
    if (el.textContent !== text) { el.textContent = text; }
    var cls = "connection-banner " + (lost ? "lost" : "hidden");
    if (el.className !== cls) { el.className = cls; }
  }

  // Test hook: drop the next n deltas as if the network lost them (a gap must force a resync).
  var dropping = 0;
  window.citybrain.test = Object.assign({}, window.citybrain.test, {
    dropNext: function (n) { dropping += n || 1; },
  });

  var lastDayResync = 0;
  function newDay(live, meta) {
    if (!live || !live.today || todayKey(meta.tz) === live.today) { return false; }
    if (Date.now() - lastDayResync > 30000) { lastDayResync = Date.now(); resync("day"); }
    return true;
  }

  // The live store after one merged delta (push.merge's message), or null when it cannot apply.
  function applyDelta(delta, live, meta) {
    var keys = meta.keys, inc = delta.inc || {};
    var out = Object.assign({}, live, { seq: delta.to, ts: delta.ts });
    [["counters", keys.counters], ["open", keys.open], ["overdue_n", keys.overdue_n]].forEach(function (kv) {
      if (inc[kv[1]]) { out[kv[0]] = Object.assign({}, live[kv[0]]); addInto(out[kv[0]], inc[kv[1]]); }
    });
    var dayInc = inc[keys.day + live.today];
    if (dayInc) { out.day = Object.assign({}, live.day); addInto(out.day, dayInc); }
    // hours: add into the last 24 local hours only, and keep only those (bounded)
    var start = lastHours(meta.tz)[0];
    var hourIncs = Object.keys(inc).filter(function (k) { return k.indexOf(keys.hour) === 0; });
    var stale = Object.keys(live.hours || {}).some(function (k) { return k < start; });
    if (hourIncs.length || stale) {
      var hours = {};
      Object.keys(live.hours || {}).forEach(function (hk) { if (hk >= start) { hours[hk] = live.hours[hk]; } });
      hourIncs.forEach(function (k) {
        var hk = k.slice(keys.hour.length);
        if (hk < start) { return; }
        hours[hk] = Object.assign({}, hours[hk]);
        addInto(hours[hk], inc[k]);
      });
      Object.keys(hours).sort().reverse().slice(24).forEach(function (hk) { delete hours[hk]; });
      out.hours = hours;
    }
    if (delta.ticker && delta.ticker.length) {
      out.ticker = delta.ticker.slice().reverse().concat(live.ticker || []).slice(0, 20);
    }
    if (delta.overdue_top) { out.overdue_top = delta.overdue_top; }
    return out;
  }

  // ---------------------------------------------------------------- panels

  function flowPanel(live, meta) {
    var S = meta.strings, lang = meta.lang, open = live.open || {}, flow = live.flow_hour || {};
    var med = live.stage_median || {};
    var day = live.day || {};
    var stages = meta.stages.map(function (st) {
      var n = open["district:all:" + st] || 0;
      return h("Div", { className: "flow-stage flow-" + st }, [
        h("Div", { className: "flow-name" }, S["stage_" + st]),
        h("Div", { className: "flow-open", id: "flow-open-" + st }, fmt(n, lang)),
        h("Div", { className: "flow-in", id: "flow-in-" + st, title: S.flow_hour }, "+" + fmt(flow[st] || 0, lang)),
        h("Div", { className: "flow-median", id: "flow-median-" + st, title: S.flow_median },
          med[st] === undefined ? "–" : "~" + duration(med[st] * 60000, S, lang)),
      ]);
    });
    var loop = [h("Span", { className: "flow-today" }, S.flow_today)].concat(
      [["flow_closed", day.closed, "✓ "], ["flow_returned", day.returned, "↺ "], ["flow_reopened", day.reopened, "↺ "]]
        .map(function (x) {
          return h("Span", { className: "flow-stat " + x[0] }, [x[2] + S[x[0]] + " ", h("B", {}, fmt(x[1] || 0, lang))]);
        }));
    return [
      h("Div", { className: "flow-chain" }, stages),
      h("Div", { className: "flow-legend" }, [h("Span", { className: "flow-key-open" }, S.flow_key_open),
        h("Span", { className: "flow-key-in" }, S.flow_key_in)]),
      h("Div", { className: "flow-loop" }, loop),
    ];
  }

  function leaguePanel(live, meta) {
    var S = meta.strings, lang = meta.lang, open = live.open || {}, od = live.overdue_n || {};
    var day = live.day || {};
    var rows = Object.keys(meta.depts).map(function (d) {
      var backlog = 0;
      meta.stages.forEach(function (st) { backlog += open["dept:" + d + ":" + st] || 0; });
      var ontime = day["ontime:dept:" + d] || 0, late = day["late:dept:" + d] || 0;
      return {
        id: d, backlog: backlog, overdue: od["dept:" + d] || 0, returned: day["returned:dept:" + d] || 0,
        rate: ontime + late ? ontime / (ontime + late) : null,
      };
    }).filter(function (r) { return r.backlog || r.overdue || r.returned || r.rate !== null; });
    rows.sort(function (a, b) {
      return b.overdue - a.overdue || b.backlog - a.backlog || b.returned - a.returned || (a.id < b.id ? -1 : 1);
    });
    if (!rows.length) { return h("Div", { className: "muted" }, S.no_data); }
    var pct = new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 0 });
    var head = h("Thead", {}, h("Tr", {}, ["league_dept", "league_backlog", "league_overdue", "league_returned",
      "league_ontime"].map(function (k) { return h("Th", {}, S[k]); })));
    var body = h("Tbody", {}, rows.slice(0, 10).map(function (r) {
      return h("Tr", { "data-dept": r.id, className: r.overdue ? "has-overdue" : "" }, [
        h("Td", { className: "dept" }, meta.depts[r.id]),
        h("Td", { className: "num backlog" }, fmt(r.backlog, lang)),
        h("Td", { className: "num overdue" + (r.overdue ? " bad" : "") }, fmt(r.overdue, lang)),
        h("Td", { className: "num returned" + (r.returned ? " warn" : "") }, fmt(r.returned, lang)),
        h("Td", { className: "num ontime" }, r.rate === null ? "–" : pct.format(r.rate)),
      ]);
    }));
    return h("Table", { className: "league" }, [head, body]);
  }

  function tickerWords(item, meta) {
    var S = meta.strings, where = cellWords(meta, item.cell);
    var type = meta.types[item.type] || item.type || "";
    var dept = item.dept ? meta.depts[item.dept] || item.dept : "";
    var tpl = S["tick_" + item.step] || item.step;
    var verb = tpl.indexOf("{dept}") >= 0
      ? (dept ? tpl.replace("{dept}", dept) : (S["step_" + item.step] || item.step))
      : tpl;
    if (meta.lang === "en" && tpl.indexOf("{dept}") >= 0 && !dept) { verb = verb.toLowerCase(); }
    return (where.sub ? where.sub + " " : "") + item.cell + ": " + type + " " + verb;
  }

  function tickerPanel(live, meta) {
    var items = (live.ticker || []).slice(0, 15);
    if (!items.length) { return h("Div", { className: "muted" }, meta.strings.no_data); }
    var tf = formatter("time" + meta.tz, meta.lang, {
      timeZone: meta.tz, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
    });
    return items.map(function (it) {
      var kids = [h("Span", { className: "tick-time" }, tf.format(new Date(it.ts))), tickerWords(it, meta)];
      if (it.priority === "urgent") { kids.splice(1, 0, h("Span", { className: "badge urgent" }, meta.strings.priority_urgent)); }
      return h("A", { className: "tick-row step-" + it.step, href: caseHref(it.case, meta.lang),
        "data-case": it.case }, kids);
    });
  }

  function overduePanel(live, meta) {
    var S = meta.strings, lang = meta.lang, items = (live.overdue_top || []).slice(0, 8), now = Date.now();
    var total = (live.counters || {}).overdue || 0;
    var rows = items.map(function (it, k) {
      var where = cellWords(meta, it.cell);
      return h("A", { className: "od-row", href: caseHref(it.case, lang), "data-case": it.case }, [
        h("Span", { className: "od-late", id: { type: "od-late", index: k } },
          duration(Math.max(0, now - it.deadline), S, lang)),
        h("Span", { className: "od-type" }, meta.types[it.type] || it.type || ""),
        h("Span", { className: "od-where" }, [h("Span", { className: "cell-id" }, it.cell || ""), " " + where.name]),
        h("Span", { className: "od-dept" }, it.dept ? meta.depts[it.dept] || it.dept : "–"),
      ]);
    });
    if (!rows.length) { rows = [h("Div", { className: "muted" }, S.overdue_none)]; }
    return [h("Div", { className: "panel-count" + (total ? " bad" : ""), id: "overdue-total" }, fmt(total, lang))]
      .concat(rows);
  }

  // ---------------------------------------------------------------- painting, straight into the DOM

  // A Dash component as JSON (h()) → DOM nodes: one set of builders for the panels. Text stays text.
  var ATTRS = { className: "class" };
  function toDom(node) {
    if (node === null || node === undefined) { return null; }
    if (typeof node !== "object") { return document.createTextNode(String(node)); }
    if (Array.isArray(node)) {
      var frag = document.createDocumentFragment();
      node.forEach(function (n) { var d = toDom(n); if (d) { frag.appendChild(d); } });
      return frag;
    }
    var el = document.createElement(node.type.toLowerCase()), p = node.props || {};
    Object.keys(p).forEach(function (k) {
      var v = p[k];
      if (k === "children" || v === null || v === undefined) { return; }
      if (k === "id" && typeof v === "object") { el.setAttribute("data-index", v.index); return; }  // a pattern id
      if (k === "style") { Object.assign(el.style, v); return; }
      el.setAttribute(ATTRS[k] || k, v);
    });
    var kids = toDom(p.children);
    if (kids) { el.appendChild(kids); }
    return el;
  }

  function paintInto(id, value) {
    var el = document.getElementById(id), node = el ? toDom(value) : null;
    if (node) { el.replaceChildren(node); } else if (el) { el.replaceChildren(); }
  }

  function setText(id, text) {
    var el = document.getElementById(id);
    if (el && el.textContent !== text) { el.textContent = text; }
  }

  // What was painted (a signature per part, and when); the cells changed since the last frame; "all":
  // paint everything (a new page, a snapshot). A part is rebuilt only when what it shows changed, and at
  // most every PANEL_MS (FIGURE_MS for a figure): a burst of deltas costs a few rebuilds, rows stay put
  // between changes (a click on them lands). The cells and counters are painted at every frame.
  // The figures (plotly: 5-20 ms a redraw) at most every FIGURE_MS, and never two within FIGURE_GAP_MS:
  // no update pays for both.
  var PANEL_MS = 250, FIGURE_MS = 5000, FIGURE_GAP_MS = 1000;
  function newPainter() { return { sig: {}, at: {}, cells: {}, all: true, raf: 0, timer: 0, figAt: 0 }; }
  var painter = newPainter();

  function schedulePaint() {
    if (!painter.raf) { painter.raf = window.requestAnimationFrame(paint); }
  }

  function paintLater(ms) {
    if (!painter.timer) { painter.timer = setTimeout(function () { painter.timer = 0; paint(); }, Math.max(0, ms)); }
  }

  // One part: build(), compare its signature, draw(value) (false: not drawn yet, try again later).
  function failed(key, err) {
    paintStats.errors = (paintStats.errors || 0) + 1;
    window.console.error("citybrain paint:", key, err);
  }

  function safely(key, fn) {
    try { fn(); } catch (err) { failed(key, err); }
  }

  // A part that fails is logged and tried again a second later; the other parts are painted regardless.
  function part(key, every, build, draw, sigOf) {
    var now = Date.now(), wait = every - (now - (painter.at[key] || 0));
    if (!painter.all && wait > 0) { paintLater(wait); return; }
    var drawn = true, sig;
    try {
      var value = build();
      sig = sigOf ? sigOf(value) : JSON.stringify(value);
      if (painter.sig[key] === sig) { return; }
      timed(key, function () { drawn = draw(value) !== false; });
    } catch (err) {
      failed(key, err);
      drawn = false;
    }
    if (!drawn) { paintLater(1000); return; }
    painter.sig[key] = sig;
    painter.at[key] = now;
  }

  // The Leaflet layer of each cell on the wall's map (the GeoJSON layer re-creates them all when Dash
  // sends it a new hideout: the index is rebuilt then).
  var wallMap = null, cellIndex = null;
  if (window.L && window.L.Map) {
    window.L.Map.addInitHook(function () {
      if (this.getContainer().id === "wall-map") { wallMap = this; cellIndex = null; }
    });
  }
  function cellLayers() {
    var idx = cellIndex, first = idx ? idx[Object.keys(idx)[0]] : null;
    if (idx && first && first._map) { return idx; }
    idx = {};
    if (wallMap) {
      wallMap.eachLayer(function (l) {
        var cn = l.options && l.options.className;
        if (l.feature && cn && cn.indexOf("cell cell-") === 0) { idx[l.feature.properties.id] = l; }
      });
    }
    cellIndex = Object.keys(idx).length ? idx : null;
    return idx;
  }

  // Restyle the cells whose count changed (all after a snapshot), each only if its colour changed.
  function paintCells(counts) {
    var hd = cur.hideout, layers = cellLayers();
    var ids = painter.all ? Object.keys(layers) : Object.keys(painter.cells);
    painter.cells = {};
    if (hd.mode && hd.mode !== "open") { return; }  // another colouring: counts do not show
    ids.forEach(function (id) {
      var l = layers[id], col = colorFor(counts[id] || 0, hd);
      if (l && l.options.fillColor !== col) {
        l.setStyle({ fillColor: col });
        window.citybrain.cellRestyles = (window.citybrain.cellRestyles || 0) + 1;
      }
    });
  }

  var KPI_IDS = ["kpi-open", "kpi-reported-today", "kpi-closed-today", "kpi-cameras-online", "kpi-readings-today"];
  function paintKpis(live, meta) {
    var lang = meta.lang, c = live.counters || {}, day = live.today || todayKey(meta.tz);
    var cams = c.cameras || 0, down = c.cameras_down || 0;
    var pct = cams ? formatter1(lang).format((100 * (cams - down)) / cams) + "%" : "–";
    [fmt(c.open || 0, lang), fmt(c["reported:" + day] || 0, lang), fmt(c["closed:" + day] || 0, lang), pct,
      fmt(c["readings:" + day] || 0, lang)].forEach(function (v, i) { setText(KPI_IDS[i], v); });
  }
  var oneDecimal = {};
  function formatter1(lang) {
    return oneDecimal[lang] || (oneDecimal[lang] = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 }));
  }

  // The ten cells with the most open cases, and the open cases per subdistrict.
  function topCells(counts, meta) {
    var lang = meta.lang, ids = Object.keys(counts).filter(function (k) { return counts[k] > 0; });
    ids.sort(function (a, b) { return counts[b] - counts[a] || (a < b ? -1 : 1); });
    var top = ids.slice(0, 10).map(function (id) {
      var m = meta.cells[id] || [id, ""];
      return h("Li", {}, [h("Span", { className: "cell-id" }, id), h("Span", { className: "cell-name" }, m[0]),
        h("B", {}, fmt(counts[id], lang))]);
    });
    return top.length ? top : [h("Li", { className: "muted" }, meta.strings.no_data)];
  }

  function subTotals(counts, meta) {
    var totals = {};
    Object.keys(meta.subdistricts).forEach(function (s) { totals[s] = 0; });
    Object.keys(counts).forEach(function (id) {
      var m = meta.cells[id], sub = m ? meta.communities[m[1]] : null;
      if (sub in totals) { totals[sub] += counts[id]; }
    });
    return Object.keys(totals).map(function (s) {
      return h("Div", { className: "sub-row" }, [
        h("Span", { title: meta.subdistricts[s] }, meta.sub_short[s] || meta.subdistricts[s]),
        h("B", { id: "sub-total-" + s }, fmt(totals[s], meta.lang)),
      ]);
    });
  }

  function overdueSig(live) {
    return JSON.stringify([(live.overdue_top || []).slice(0, 8).map(function (it) {
      return [it.case, it.cell, it.dept, it.type, it.deadline];
    }), (live.counters || {}).overdue || 0]);
  }

  // A figure drawn with plotly.js on the graph's own div (dcc.Graph made it; Dash never re-sends it).
  function paintFigure(id, fig, meta) {
    var gd = document.querySelector("#" + id + " .js-plotly-plot");
    if (!gd || !window.Plotly) { return false; }  // plotly still loading: the next try draws it
    if (!painter.all && Date.now() - painter.figAt < FIGURE_GAP_MS) { return false; }  // the other one just did
    window.Plotly.react(gd, fig.data, fig.layout, meta.graph_config);
    painter.figAt = Date.now();
    return true;
  }

  // Everything the deltas changed since the last frame.
  var paintStats = window.citybrain.paintStats = { n: 0, ms: 0, max: 0, parts: {} };  // diagnostics
  function timed(key, fn) {
    var t0 = window.performance.now();
    fn();
    var ms = window.performance.now() - t0;
    paintStats.parts[key] = (paintStats.parts[key] || 0) + ms;
    return ms;
  }

  function paint() {
    painter.raf = 0;
    if (!cur || !onWall()) { return; }
    var t0 = window.performance.now();
    paintParts();
    var ms = window.performance.now() - t0;
    paintStats.n += 1;
    paintStats.ms += ms;
    paintStats.max = Math.max(paintStats.max, ms);
  }

  function paintParts() {
    var meta = cur.meta, live = cur.live || {}, counts = cur.hideout.counts;
    safely("cells", function () { paintCells(counts); });
    safely("kpis", function () { paintKpis(live, meta); });
    part("top", PANEL_MS, function () { return topCells(counts, meta); }, function (v) { paintInto("top-cells", v); });
    part("subs", PANEL_MS, function () { return subTotals(counts, meta); },
      function (v) { paintInto("subdistrict-totals", v); });
    part("flow", PANEL_MS, function () { return flowPanel(live, meta); }, function (v) { paintInto("lifecycle-flow", v); });
    part("league", PANEL_MS, function () { return leaguePanel(live, meta); },
      function (v) { paintInto("department-league", v); });
    part("ticker", PANEL_MS, function () { return tickerPanel(live, meta); }, function (v) { paintInto("event-ticker", v); });
    part("overdue", PANEL_MS, function () { return live; }, function () { paintInto("overdue-list", overduePanel(live, meta)); },
      overdueSig);
    var cc = null;
    part("catlegend", PANEL_MS, function () { cc = categoryCounts(live, meta); return cc; }, function (v) {
      paintInto("category-legend", categoryLegend(v, meta));
      setText("category-total", fmt(v.total, meta.lang));
    });
    part("cat", FIGURE_MS, function () { return categoryFigure(cc || categoryCounts(live, meta), meta); },
      function (f) { return paintFigure("category-mix", f, meta); },
      function (f) { return JSON.stringify(f.data[0].values); });
    part("trend", FIGURE_MS, function () { return trendFigure(live, meta); },
      function (f) { return paintFigure("trend-24h", f, meta); },
      function (f) { return JSON.stringify([f.data[0].x, f.data[0].y, f.data[1].y]); });
    painter.all = false;
  }

  // Every second: the clock, each panel's data age, the overdue rows' "late by", a new local day.
  function tick() {
    if (!cur || !onWall()) { return; }
    var meta = cur.meta;
    setText("wall-clock", formatter("clock" + meta.tz, meta.lang, {
      timeZone: meta.tz, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
    }).format(new Date()));
    newDay(cur.live, meta);
    freshness(meta);
    var items = (cur.live && cur.live.overdue_top) || [], now = Date.now();
    var late = document.querySelectorAll("#overdue-list .od-late");
    for (var k = 0; k < late.length; k++) {
      var it = items[Number(late[k].getAttribute("data-index"))];
      var text = it ? duration(Math.max(0, now - it.deadline), meta.strings, meta.lang) : "";
      if (late[k].textContent !== text) { late[k].textContent = text; }
    }
  }
  setInterval(tick, 1000);

  // Today's events by category: the donut's slices (plotly: no legend, no text, so a redraw measures no
  // text), the total in its middle and the legend beside it as plain text (cheap to update, sharp on a wall).
  function categoryCounts(live, meta) {
    var day = live.day || {}, ids = Object.keys(meta.cats);
    var values = ids.map(function (c) { return day["reported:cat:" + c] || 0; });
    return { ids: ids, values: values, total: values.reduce(function (a, b) { return a + b; }, 0) };
  }

  function categoryFigure(cc, meta) {
    return {
      data: [{
        type: "pie", hole: 0.62, sort: false, direction: "clockwise", values: cc.values,
        labels: cc.ids.map(function (c) { return meta.cats[c][0]; }),
        marker: { colors: cc.ids.map(function (c) { return meta.cats[c][1]; }), line: { color: "#0b1a23", width: 2 } },
        textinfo: "none", hovertemplate: "%{label} %{value} (%{percent})<extra></extra>",
      }],
      layout: Object.assign({}, meta.plot, { showlegend: false, margin: { l: 0, r: 0, t: 0, b: 0 } }),
    };
  }

  function categoryLegend(cc, meta) {
    var lang = meta.lang, pct = new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 0 });
    return cc.ids.map(function (c, i) {
      return h("Div", { className: "cat-row", "data-cat": c }, [
        h("I", { style: { background: meta.cats[c][1] } }),
        h("Span", { className: "cat-name" }, meta.cats[c][0]),
        h("B", {}, fmt(cc.values[i], lang)),
        h("Span", { className: "cat-pct" }, cc.total ? pct.format(cc.values[i] / cc.total) : "–"),
      ]);
    });
  }

  // The smallest of 1, 2, 2.5, 5 × 10^k at or above n (at least 5): the trend's y range moves by steps,
  // so that a new count mostly redraws the bars and the line, not the axis.
  function niceMax(n) {
    var top = Math.max(5, n * 1.05), k = Math.pow(10, Math.floor(Math.log10(top)));
    return [1, 2, 2.5, 5, 10].map(function (m) { return m * k; }).filter(function (v) { return v >= top; })[0];
  }

  function trendFigure(live, meta) {
    var hours = live.hours || {}, keys = lastHours(meta.tz), S = meta.strings;
    var x = keys.map(function (k) { return S.hour_tick.replace("{h}", k.slice(8, 10)); });
    var rep = keys.map(function (k) { return (hours[k] || {}).reported || 0; });
    var clo = keys.map(function (k) { return (hours[k] || {}).closed || 0; });
    var base = meta.plot;
    return {
      data: [
        { type: "bar", name: S.trend_reported, x: x, y: rep, marker: { color: "#39c6f4" }, opacity: 0.85,
          hovertemplate: "%{x} %{y}<extra>" + S.trend_reported + "</extra>" },
        { type: "scatter", mode: "lines", name: S.trend_closed, x: x, y: clo, line: { color: "#3ddc84", width: 2.5 },
          hovertemplate: "%{x} %{y}<extra>" + S.trend_closed + "</extra>" },
      ],
      layout: Object.assign({}, base, {
        bargap: 0.25, margin: { l: 44, r: 8, t: 26, b: 28 },
        legend: Object.assign({}, base.legend, { orientation: "h", x: 1, xanchor: "right", y: 1.18 }),
        xaxis: Object.assign({}, base.xaxis, { type: "category", tickmode: "array",
          tickvals: x.filter(function (_, i) { return i % 4 === 3; }) }),
        yaxis: Object.assign({}, base.yaxis, { range: [0, niceMax(Math.max.apply(null, rep.concat(clo)))], autorange: false }),
      }),
    };
  }


  // ---------------------------------------------------------------- warnings (预警)

  // The "alerts" event carries consecutive changes {from, to, changes: [{seq, alerts, removed}]}; the store
  // wall-alerts is {seq, alerts}. A gap in seq (or a reconnect) refetches GET /api/v1/alerts.
  var ACTIVE = { firing: 1, acknowledged: 1, silenced: 1 };
  var alertFetching = false, alertHeld = [], alertStore = null;

  // One "alerts" message, in arrival order: apply consecutive changes, refetch on a gap.
  function onAlertsMsg(msg) {
    if (!alertStore || !msg || !msg.changes || !onWall()) { return; }
    heard();
    if (alertFetching) { alertHeld.push(msg); return; }
    if (msg.to <= alertStore.seq) { return; }
    if (alertStore.seq < 0 || msg.from > alertStore.seq + 1) { alertHeld.push(msg); refetchAlerts(); return; }
    window.citybrain.alertsApplied = (window.citybrain.alertsApplied || 0) + 1;
    setAlerts(applyAlerts(alertStore, msg));
  }

  // The alerts store (wall-alerts): the banner, list, counters and outlines are Dash's (they change rarely).
  function setAlerts(store) {
    alertStore = store;
    window.dash_clientside.set_props("wall-alerts", { data: store });
  }

  function applyAlerts(store, msg) {
    var byId = {};
    (store.alerts || []).forEach(function (a) { byId[a.id] = a; });
    msg.changes.forEach(function (ch) {
      if (ch.seq <= store.seq) { return; }
      (ch.alerts || []).forEach(function (a) { if (ACTIVE[a.status]) { byId[a.id] = a; } else { delete byId[a.id]; } });
      (ch.removed || []).forEach(function (id) { delete byId[id]; });
    });
    return { seq: Math.max(store.seq, msg.to), alerts: Object.keys(byId).map(function (k) { return byId[k]; }) };
  }

  function refetchAlerts() {
    if (alertFetching || !onWall()) { return; }
    alertFetching = true;
    var again = false;
    fetch("/api/v1/alerts", { cache: "no-store" })
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(function (body) {
        var store = { seq: body.seq, alerts: body.alerts || [] };
        alertHeld.sort(function (a, b) { return a.from - b.from; }).forEach(function (m) {
          if (again || m.to <= store.seq) { return; }
          if (m.from > store.seq + 1) { again = true; return; }
          store = applyAlerts(store, m);
        });
        setAlerts(store);
        window.citybrain.alertRefetches = (window.citybrain.alertRefetches || 0) + 1;
      })
      .catch(function () { again = false; /* the next change or reconnect tries again */ })
      .then(function () { alertFetching = false; alertHeld = []; if (again) { refetchAlerts(); } });
  }

  // The alerts callback's outputs as last sent: each is sent again only when it changed.
  var sent = { meta: null, sig: {} };
  function ifChanged(key, value, meta) {
    if (sent.meta !== meta) { sent = { meta: meta, sig: {} }; }
    var sig = JSON.stringify(value);
    if (sent.sig[key] === sig) { return window.dash_clientside.no_update; }
    sent.sig[key] = sig;
    return value;
  }

  function levelRank(meta, a) { return (meta.levels[a.level] || {}).rank || 0; }
  function sortAlerts(list, meta) {
    return list.slice().sort(function (a, b) {
      return levelRank(meta, b) - levelRank(meta, a) || (b.fired || b.started) - (a.fired || a.started) ||
        (a.id < b.id ? -1 : 1);
    });
  }

  function areaWords(meta, id) {
    if (!id) { return ""; }
    if (meta.cells[id]) { var w = cellWords(meta, id); return (w.sub ? w.sub + " " : "") + id + " " + w.name; }
    if (meta.community_names[id]) { return meta.community_names[id]; }
    if (meta.subdistricts[id]) { return meta.subdistricts[id]; }
    return id === "district" || id.indexOf("district") === 0 ? meta.district_name : id;
  }

  function alertTitle(a, meta) {
    return (meta.lang === "en" ? a.title_en || a.title_zh : a.title_zh || a.title_en) || a.rule;
  }

  function alertSince(a, meta) {
    var tf = formatter("alert" + meta.tz, meta.lang, {
      timeZone: meta.tz, month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
      hourCycle: "h23",
    });
    return meta.strings.alert_since.replace("{t}", tf.format(new Date(a.fired || a.started || a.since)));
  }

  function alertState(a, meta) {
    var S = meta.strings;
    if (a.status === "acknowledged" && a.acked_by) { return S.alert_acked_by.replace("{who}", a.acked_by); }
    if (a.status === "silenced" && a.silenced_until) {
      var hm = formatter("alertHM" + meta.tz, meta.lang, { timeZone: meta.tz, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
      return S.alert_silenced_by.replace("{t}", hm.format(new Date(a.silenced_until))).replace("{who}", a.silenced_by || "");
    }
    return S["alert_" + a.status] || a.status;
  }

  function bannerOf(list, meta) {
    var top = list.filter(function (a) { return a.status === "firing"; })[0] ||
      list.filter(function (a) { return a.status === "acknowledged"; })[0];
    if (!top) { return [[], "alert-banner hidden"]; }
    var lv = meta.levels[top.level] || {};
    var kids = [
      h("Span", { className: "ab-level" }, lv.name || top.level),
      h("Span", { className: "ab-area" }, areaWords(meta, top.area)),
      h("Span", { className: "ab-title" }, alertTitle(top, meta)),
      h("Span", { className: "ab-since" }, alertSince(top, meta)),
      h("Span", { className: "ab-state" }, alertState(top, meta)),
    ];
    var cls = "alert-banner level-" + top.level + (top.status === "firing" ? " flashing" : " steady");
    return [h("Div", { className: "ab-inner", "data-alert": top.id }, kids), cls];
  }

  function alertRows(list, meta) {
    var S = meta.strings;
    if (!list.length) { return h("Div", { className: "muted" }, S.alerts_none); }
    return list.slice(0, 30).map(function (a) {
      var lv = meta.levels[a.level] || {};
      var kids = [
        h("Span", { className: "al-level" }, lv.name || a.level),
        h("Span", { className: "al-title" }, alertTitle(a, meta)),
        h("Span", { className: "al-area" }, areaWords(meta, a.area)),
        h("Span", { className: "al-since" }, alertSince(a, meta)),
        h("Span", { className: "al-state" }, alertState(a, meta)),
      ];
      if (a.status === "firing") {
        kids.push(h("Button", { className: "alert-ack-btn", id: { type: "alert-ack", index: a.id }, "data-alert": a.id },
          S.alert_ack));
      }
      if (a.status === "firing" || a.status === "acknowledged") {  // silence: duration, required reason
        kids.push(h("Span", { className: "alert-silence", "data-alert": a.id }, [
          h("Select", { className: "alert-silence-dur", "data-alert": a.id }, [30, 60, 120, 240].map(function (m) {
            return h("Option", { value: String(m) }, S["silence_" + m]);
          })),
          { type: "Input", namespace: "dash_core_components", props: { className: "alert-silence-reason", type: "text",
            maxLength: 500, placeholder: S.alert_silence_reason, debounce: true } },
          h("Button", { className: "alert-silence-btn", id: { type: "alert-silence", index: a.id }, "data-alert": a.id },
            S.alert_silence),
        ]));
      }
      return h("Div", { className: "alert-row level-" + a.level + " status-" + a.status, "data-alert": a.id,
        "data-status": a.status }, kids);
    });
  }

  // What the map outlines: per area the highest level, and whether any of its alerts is unacknowledged.
  function alertAreas(list, meta) {
    var cells = {}, comms = {};
    list.forEach(function (a) {
      var target = meta.cells[a.area] ? cells : (meta.community_names[a.area] ? comms : null);
      if (!target) { return; }
      var prev = target[a.area], firing = a.status === "firing";
      if (!prev || levelRank(meta, a) > (meta.levels[prev[0]] || {}).rank) { target[a.area] = [a.level, firing || (prev ? prev[1] : false)]; }
      else if (firing) { prev[1] = true; }
    });
    return [cells, comms];
  }

  // ---- sound: a WebAudio tone, never unless the person turned it on in this browser
  var SOUND_KEY = "citybrain.sound", actx = null, soundOn = false, soundClicks = null, loudNow = null;
  function audio() {
    if (!actx) {
      var AC = window.AudioContext || window.webkitAudioContext;
      if (!AC) { return null; }
      actx = new AC();
    }
    if (actx.state === "suspended") { actx.resume(); }
    return actx;
  }
  function tone(ac, freq, at, dur) {
    var o = ac.createOscillator(), g = ac.createGain();
    o.type = "sine";
    o.frequency.value = freq;
    g.gain.setValueAtTime(0.0001, at);
    g.gain.exponentialRampToValueAtTime(0.3, at + 0.02);
    g.gain.exponentialRampToValueAtTime(0.0001, at + dur);
    o.connect(g);
    g.connect(ac.destination);
    o.start(at);
    o.stop(at + dur + 0.05);
  }
  setInterval(function () {
    if (!soundOn || !loudNow) { return; }
    var ac = audio();
    window.citybrain.beeps = (window.citybrain.beeps || 0) + 1;
    if (!ac) { return; }
    var t0 = ac.currentTime + 0.01;
    if (loudNow === "red") { tone(ac, 880, t0, 0.18); tone(ac, 880, t0 + 0.28, 0.18); tone(ac, 660, t0 + 0.56, 0.3); }
    else { tone(ac, 660, t0, 0.35); }
  }, 2000);
  // a browser lets audio start only after a gesture: any click on the page resumes it
  document.addEventListener("click", function () { if (soundOn) { audio(); } }, true);

  // ---- acknowledge: a delegated click on an ack button posts to the same-origin endpoint
  var alertMeta = null;
  function alertMsg(text) { window.dash_clientside.set_props("alert-msg", { children: text }); }
  document.addEventListener("click", function (e) {
    var btn = e.target && e.target.closest ? e.target.closest(".alert-ack-btn") : null;
    if (!btn || !alertMeta) { return; }
    var S = alertMeta.strings, id = btn.getAttribute("data-alert");
    var nameEl = document.getElementById("duty-name"), noteEl = document.getElementById("alert-note");
    var name = ((nameEl && nameEl.value) || "").trim(), note = ((noteEl && noteEl.value) || "").trim();
    if (!name) { if (nameEl) { nameEl.classList.add("need"); nameEl.focus(); } alertMsg(S.alert_need_name); return; }
    if (nameEl) { nameEl.classList.remove("need"); }
    try { window.localStorage.setItem("citybrain.duty-name", name); } catch (err) { /* private mode */ }
    btn.disabled = true;
    fetch("/ui/alerts/" + encodeURIComponent(id) + "/ack", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ actor: name, note: note }),
    }).then(function (r) {
      return r.json().then(function (b) { if (!r.ok) { throw new Error(b.error || "HTTP " + r.status); } });
    }).then(function () {
      alertMsg("");
      if (note) { window.dash_clientside.set_props("alert-note", { value: "" }); }
    }).catch(function (err) {
      btn.disabled = false;
      alertMsg(S.alert_ack_failed.replace("{e}", err.message));
    });
  });

  // ---- silence: a delegated click on a silence button posts {actor, minutes, reason} to the same origin
  document.addEventListener("click", function (e) {
    var btn = e.target && e.target.closest ? e.target.closest(".alert-silence-btn") : null;
    if (!btn || !alertMeta) { return; }
    var S = alertMeta.strings, box = btn.closest(".alert-silence"), id = btn.getAttribute("data-alert");
    var nameEl = document.getElementById("duty-name"), name = ((nameEl && nameEl.value) || "").trim();
    var durEl = box && box.querySelector(".alert-silence-dur"), reasonEl = box && box.querySelector("input.alert-silence-reason, .alert-silence-reason input");
    var reason = ((reasonEl && reasonEl.value) || "").trim();
    if (!name) { if (nameEl) { nameEl.classList.add("need"); nameEl.focus(); } alertMsg(S.alert_need_name); return; }
    if (nameEl) { nameEl.classList.remove("need"); }
    if (!reason) { if (reasonEl) { reasonEl.classList.add("need"); reasonEl.focus(); } alertMsg(S.alert_need_reason); return; }
    btn.disabled = true;
    fetch("/ui/alerts/" + encodeURIComponent(id) + "/silence", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ actor: name, minutes: parseInt((durEl && durEl.value) || "30", 10), reason: reason }),
    }).then(function (r) {
      return r.json().then(function (b) { if (!r.ok) { throw new Error(b.error || "HTTP " + r.status); } });
    }).then(function () { alertMsg(""); }).catch(function (err) {
      btn.disabled = false;
      alertMsg(S.alert_silence_failed.replace("{e}", err.message));
    });
  });

  // ---- the case page: its room sends only deltas whose ticker names its case; each one, read off the
  // socket (none coalesced), asks the server to re-read the case.
  var caseMeta = null, caseTapped = false;
  function caseTap() {
    var tap = window.citybrain.tap;
    if (caseTapped || !tap) { return; }
    caseTapped = true;
    tap.on("delta", function (delta) {
      if (!caseMeta || !document.getElementById("case-page") || !delta) { return; }
      var mine = (delta.ticker || []).some(function (t) { return t.case === caseMeta.case; });
      if (mine) {
        window.citybrain.caseRefreshes = (window.citybrain.caseRefreshes || 0) + 1;
        window.dash_clientside.set_props("case-refresh", { data: Date.now() });
      }
    });
  }

  // ---------------------------------------------------------------- callbacks

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    citybrain: {
      // The page is there: its state is the snapshot it was built from; from now on the socket's events
      // (assets/sockettap.js) and the page's timer keep it (no other Dash callback on that path).
      init: function (meta, live, hideout, feeds, alerts) {
        if (!meta || !live || !hideout) { return window.dash_clientside.no_update; }
        newPage(meta, live, hideout, feeds, alerts);
        tick();
        return meta.tz;
      },

      // Banner, list, counters and map outlines from the alerts store; each sent only when it changed.
      alerts: function (store, meta) {
        alertMeta = meta;
        var list = sortAlerts((store && store.alerts) || [], meta);
        window.citybrain.alertsNow = list;
        var loud = list.filter(function (a) { return a.status === "firing" && (a.level === "red" || a.level === "orange"); });
        loudNow = loud.length ? (loud.some(function (a) { return a.level === "red"; }) ? "red" : "orange") : null;
        var banner = bannerOf(list, meta), areas = alertAreas(list, meta);
        var colours = {};
        Object.keys(meta.levels).forEach(function (k) { colours[k] = meta.levels[k].colour; });
        var counts = ["blue", "yellow", "orange", "red"].map(function (k) {
          return ifChanged("alert-count-" + k, fmt(list.filter(function (a) { return a.level === k; }).length, meta.lang), meta);
        });
        return [
          ifChanged("alert-banner", banner[0], meta),
          ifChanged("alert-banner-class", banner[1], meta),
          ifChanged("alert-list", alertRows(list, meta), meta),
        ].concat(counts).concat([
          ifChanged("alert-cells", { alerts: areas[0], colours: colours }, meta),
          ifChanged("alert-comms", { alerts: areas[1], colours: colours }, meta),
        ]);
      },

      // The sound toggle: off unless turned on in this browser (remembered in localStorage).
      sound: function (nClicks, meta) {
        var on = false;
        try { on = window.localStorage.getItem(SOUND_KEY) === "on"; } catch (err) { on = false; }
        if (soundClicks !== null && (nClicks || 0) > soundClicks) {
          on = !on;
          try { window.localStorage.setItem(SOUND_KEY, on ? "on" : "off"); } catch (err) { /* private mode */ }
          if (on) { audio(); }  // inside the click's task: the browser allows audio from here on
        }
        soundClicks = nClicks || 0;
        soundOn = on;
        window.citybrain.soundOn = on;
        return ["sound-toggle" + (on ? " on" : ""), on ? "true" : "false", on ? meta.strings.sound_on : meta.strings.sound_enable];
      },

      connection: function (connected, meta) {
        var S = meta.strings;
        connState = connected;
        if (connected) {
          if (window.citybrain._wasDisconnected) {
            window.citybrain._wasDisconnected = false;
            resync("reconnect");
            refetchAlerts();
          }
        }
        if (connected === false) { window.citybrain._wasDisconnected = true; }
        if (cur) { freshness(cur.meta); }
        if (connected) { return [S.connected, "conn conn-ok"]; }
        return connected === false ? [S.disconnected, "conn conn-lost"] : [S.connecting, "conn conn-wait"];
      },

      // ---- the case page

      // A reconnect asks the server to re-read the case (so does a delta: caseTap).
      caseFilter: function (connected, meta) {
        caseMeta = meta;
        caseTap();
        if (connected === false) { window.citybrain._caseWasDisconnected = true; }
        if (connected && window.citybrain._caseWasDisconnected) {
          window.citybrain._caseWasDisconnected = false;
          return Date.now();
        }
        return window.dash_clientside.no_update;
      },

      // "late by" / "time left" of the current stage, growing every second (display only).
      caseClock: function (_n, live, meta) {
        var NOUP = window.dash_clientside.no_update;
        if (!live || !meta) { return [NOUP, NOUP]; }
        var S = meta.strings;
        if (!live.open || !live.deadline) { return [S.case_over, "case-late muted"]; }
        var left = live.deadline - Date.now();
        return left >= 0
          ? [S.case_left.replace("{d}", duration(left, S, meta.lang)), "case-late ok"]
          : [S.case_late.replace("{d}", duration(-left, S, meta.lang)), "case-late bad"];
      },
    },
  });
})();
