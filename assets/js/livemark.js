/* citybrain livemark: the drill-down and case pages' connection mark and "as of" mark. The connection
   mark (as on the wall) says connecting / live / lost from the socket's state; the as-of mark says when the page's data was last read by the server ("数据截至 14:05:09" /
   "As of 14:05:09") and turns to a stale warning (class "asof stale") while the socket is down: the
   page then cannot know whether its data is still true. Written in place, as text. */
(function (name, factory) {
  "use strict";
  var g = typeof window !== "undefined" ? window : globalThis;
  var cb = (g.citybrain = g.citybrain || {});
  var node = typeof module === "object" && module && module.exports && typeof require === "function";
  var m = factory(node ? function (d) { return require("./" + d + ".js"); } : function (d) { return cb[d]; }, cb, g);
  if (node) { module.exports = m; } else { cb[name] = m; }
})("livemark", function (need, cb, root) {
  "use strict";

  var L = { conn: "wait", asof: 0, meta: null };
  var CONN = { ok: ["connected", "conn conn-ok"], lost: ["disconnected", "conn conn-lost"], wait: ["connecting", "conn conn-wait"] };

  // [text, className] of the connection mark in `state` ("wait" | "ok" | "lost").
  function connWords(state, S) {
    var c = CONN[state] || CONN.wait;
    return [S[c[0]], c[1]];
  }

  // [text, className] of the as-of mark: the read time (ms) in the district's time, stale while lost.
  function asofWords(asof, state, meta) {
    var S = meta.strings, F = need("format");
    if (!asof) { return ["", "asof"]; }
    var t = F.time(asof, meta.tz, meta.lang, "hms");
    return state === "lost" ? [F.fill(S.asof_stale, { t: t }), "asof stale"] : [F.fill(S.asof_mark, { t: t }), "asof"];
  }

  function put(id, words, attrs) {
    var el = root.document && root.document.getElementById(id);
    if (!el) { return; }
    if (el.textContent !== words[0]) { el.textContent = words[0]; }
    if (el.className !== words[1]) { el.className = words[1]; }
    Object.keys(attrs || {}).forEach(function (k) { if (el.getAttribute(k) !== attrs[k]) { el.setAttribute(k, attrs[k]); } });
  }

  function paint() {
    var meta = L.meta;
    if (!meta) { return; }
    put(meta.ids.connection, connWords(L.conn, meta.strings));
    var full = L.asof ? need("format").stamp(L.asof, meta.tz, null, true) : "";
    put(meta.ids.asof, asofWords(L.asof, L.conn, meta), { "data-asof": String(L.asof || ""), "data-state": L.conn, title: full });
  }

  // The socket's state changed (socket.js owner.status).
  function connection(state, meta) {
    L.conn = state;
    if (meta) { L.meta = meta; }
    paint();
  }

  // The page's data were read at `asof` (ms; the server's refresh): the mark's time.
  function read(asof, meta) {
    L.meta = meta || L.meta;
    if (asof) { L.asof = asof; }
    paint();
  }

  return {
    connWords: connWords, asofWords: asofWords, connection: connection, read: read,
    get state() { return { conn: L.conn, asof: L.asof }; },
  };
});
