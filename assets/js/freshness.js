/* citybrain freshness: how old each panel's data is, and the connection.

   Each panel's mark (fresh-<panel id>) says the age of its data ("3 秒" / "3 s"), or since when its
   feed is stale, and greys the panel's box; the connection indicator says connecting / live / lost and,
   while the socket is down, the banner says when the page last heard from the server. Everything is
   written in place (text and attributes only when they change), by the page's 1 s tick. */
(function (name, factory) {
  "use strict";
  var g = typeof window !== "undefined" ? window : globalThis;
  var cb = (g.citybrain = g.citybrain || {});
  var node = typeof module === "object" && module && module.exports && typeof require === "function";
  var m = factory(node ? function (d) { return require("./" + d + ".js"); } : function (d) { return cb[d]; }, cb, g);
  if (node) { module.exports = m; } else { cb[name] = m; }
})("freshness", function (need, cb, root) {
  "use strict";

  var KINDS = ["case_event", "sensor_reading", "camera_status"];
  var BOX = ".panel, .kpi, .map-overlay, .wall-ticker";
  // data: up to when each record kind's data is known; heard: the server's last message (this clock)
  var F = { data: {}, heard: Date.now(), snapTs: 0, feeds: null, conn: "wait" };

  function heard() { F.heard = Date.now(); }

  function dataAt(kind, ts) {
    var t = Math.min(ts || 0, Date.now());  // a server clock ahead of this one: not "in the future"
    if (t > (F.data[kind] || 0)) { F.data[kind] = t; }
  }

  // A snapshot of server time ts: every kind's data is known up to then.
  function snapshot(ts) {
    F.snapTs = ts || 0;
    KINDS.forEach(function (k) { dataAt(k, ts); });
  }

  // The text and data-fresh mark of a panel showing `kind` (k: that kind's feed status) at `now`.
  function mark(kind, k, now, meta) {
    var S = meta.strings, FM = need("format");
    if (k.stale) {
      return { stale: true, mark: "stale",
        text: k.since ? FM.fill(S.fresh_stale, { t: FM.time(k.since, meta.tz, meta.lang, "hms") }) : S.fresh_stale_never };
    }
    var at = Math.max(F.data[kind] || 0, k.asof || 0), age = Math.max(0, Math.floor((now - at) / 1000));
    return { stale: false, text: at ? FM.age(age, S) : "–", mark: at ? String(age) : "" };
  }

  function paintMark(pid, kind, kinds, now, meta) {
    var el = root.document.getElementById(need("format").fill(meta.ids.fresh, pid));
    if (!el) { return; }
    var m = mark(kind, kinds[kind] || {}, now, meta);
    if (el.textContent !== m.text) { el.textContent = m.text; }
    if (el.getAttribute("data-fresh") !== m.mark) { el.setAttribute("data-fresh", m.mark); }
    var box = el.closest(BOX);
    if (box && box.classList.contains("stale") !== m.stale) { box.classList.toggle("stale", m.stale); }
  }

  // Every panel's mark, and the banner while the connection is lost.
  function paint(meta, now) {
    var kinds = (F.feeds && F.feeds.kinds) || {};
    Object.keys(meta.fresh).forEach(function (pid) { paintMark(pid, meta.fresh[pid], kinds, now, meta); });
    banner(meta);
  }

  function banner(meta) {
    var el = root.document.getElementById(meta.ids.connectionBanner);
    if (!el) { return; }
    var FM = need("format"), lost = F.conn === "lost";
    var text = lost ? FM.fill(meta.strings.conn_banner, { t: FM.time(F.heard, meta.tz, meta.lang, "hms") }) : "";
    if (el.textContent !== text) { el.textContent = text; }
    var cls = "connection-banner " + (lost ? "lost" : "hidden");
    if (el.className !== cls) { el.className = cls; }
  }

  // The connection's state ("wait" | "ok" | "lost", socket.js) on the indicator and the banner.
  var CONN = { ok: ["connected", "conn conn-ok"], lost: ["disconnected", "conn conn-lost"], wait: ["connecting", "conn conn-wait"] };
  function connection(state, meta) {
    F.conn = state;
    if (!meta) { return; }
    var el = root.document.getElementById(meta.ids.connection), c = CONN[state] || CONN.wait;
    if (el) {
      var text = meta.strings[c[0]];
      if (el.textContent !== text) { el.textContent = text; }
      if (el.className !== c[1]) { el.className = c[1]; }
    }
    banner(meta);
  }

  return {
    heard: heard, dataAt: dataAt, snapshot: snapshot, mark: mark, paint: paint, connection: connection,
    feeds: function (msg) { F.feeds = msg || null; },
    snapTs: function () { return F.snapTs; },
    reset: function () { F.data = {}; F.heard = Date.now(); F.snapTs = 0; F.feeds = null; },
  };
});
