/* citybrain legacy: TEMPORARY. Reads the old wire format (increments keyed by Redis field grammar) into
   the new one (docs/DATA.md) until the server sends the new format; deleted then. */
(function (name, factory) {
  "use strict";
  var g = typeof window !== "undefined" ? window : globalThis;
  var cb = (g.citybrain = g.citybrain || {});
  var node = typeof module === "object" && module && module.exports && typeof require === "function";
  var m = factory(node ? function (d) { return require("./" + d + ".js"); } : function (d) { return cb[d]; }, cb, g);
  if (node) { module.exports = m; } else { cb[name] = m; }
})("legacy", function (need, cb, root) {
  "use strict";

  function put(obj, path, v) {
    var o = obj;
    for (var i = 0; i < path.length - 1; i++) { o = o[path[i]] = o[path[i]] || {}; }
    o[path[path.length - 1]] = v;
  }
  function get(obj, path) {
    var o = obj;
    for (var i = 0; i < path.length; i++) { if (!o) { return 0; } o = o[path[i]]; }
    return o || 0;
  }

  // Where an old field lives in the new shape (null: not shown).
  function pathOf(k, fld, keys) {
    var p = fld.split(":");
    if (k === keys.cells) { return ["cells", fld]; }
    if (k === keys.open) { return p.length === 3 ? ["open", p[0], p[1], p[2]] : null; }
    if (k === keys.overdue_n) { return p.length === 2 ? ["overdue", p[0], p[1]] : null; }
    if (k === keys.counters) {
      if (p.length === 1) { return ["kpi", fld]; }
      return p.length === 2 ? ["days", p[1], "n", p[0]] : null;
    }
    if (k.indexOf(keys.day) === 0) {
      var day = k.slice(keys.day.length);
      if (p[0] === "dur") { return ["days", day, "dur", p[1], p[2]]; }
      if (p[0] === "hdur") { return null; }
      return p.length === 1 ? ["days", day, "n", p[0]] : (p.length === 3 ? ["days", day, "by", p[1], p[2], p[0]] : null);
    }
    if (k.indexOf(keys.hour) === 0) {
      var hour = k.slice(keys.hour.length);
      return p.length === 1 ? ["hours", hour, "n", p[0]] : (p.length === 3 ? ["hours", hour, "by", p[1], p[2], p[0]] : null);
    }
    return null;
  }

  // The old live store (and the cells' counts) as the new state.
  function snapshot(live, cells, keys) {
    var st = need("state").fromSnapshot(Object.assign({}, live, { counters: undefined, overdue_n: undefined, day: undefined,
      open: {}, hours: {}, cells: cells || live.cells || {} }));
    var inc = {};
    inc[keys.day + live.today] = live.day || {};
    inc[keys.counters] = live.counters || {};
    inc[keys.open] = live.open || {};
    inc[keys.overdue_n] = live.overdue_n || {};
    Object.keys(live.hours || {}).forEach(function (h) { inc[keys.hour + h] = live.hours[h]; });
    var set = toSet(st, inc, keys, true);
    delete set.cells;
    need("state").merge(st, set);
    return st;
  }

  // An old message's increments as the new values (read off the state they apply to).
  function toSet(st, inc, keys, absolute) {
    var set = {};
    Object.keys(inc || {}).forEach(function (k) {
      Object.keys(inc[k]).forEach(function (fld) {
        var path = pathOf(k, fld, keys);
        if (!path) { return; }
        put(set, path, (absolute ? 0 : get(st, path)) + inc[k][fld]);
      });
    });
    return set;
  }

  // An old delta message as a new one, against the state it is about to be applied to.
  function message(st, msg, keys) {
    if (!msg || !msg.inc) { return msg; }
    var out = Object.assign({}, msg, { set: toSet(st, msg.inc, keys, false) });
    delete out.inc;
    return out;
  }

  // The old events "health" ({changed: {area: [score, colour]}}) and "devstatus" ({dev: {id: status}}).
  function handlers() {
    return {
      health: function (msg) {
        var c = need("live").cur();
        if (!c || !msg) { return; }
        Object.assign(c.st.health, msg.changed || msg.health || msg);
        need("map").setWallHideout({ health: Object.assign({}, c.st.health) });
      },
      devstatus: function (msg) { if (cb.devices && msg && msg.dev) { cb.devices.status(msg.dev); } },
    };
  }

  // An area page's old events: a delta with increments, "health" ({changed: {area: ...}}).
  function areaHandlers(handler) {
    function oldDelta(msg, ids) {
      if (!msg.inc) { return need("area").concerns(msg, ids); }
      if (Object.keys(msg.dev || {}).length) { return true; }
      if (need("state").tickItems(msg.ticker).some(function (it) { return ids.has(it.cell); })) { return true; }
      return Object.keys(msg.inc).some(function (key) {
        return Object.keys(msg.inc[key]).some(function (fld) { return ids.has(fld) || ids.has(fld.split(":")[1]); });
      });
    }
    return {
      delta: handler(oldDelta),
      health: handler(function (msg, ids) { return Object.keys(msg.changed || msg.health || msg).some(function (id) { return ids.has(id); }); }),
    };
  }

  return { snapshot: snapshot, message: message, handlers: handlers, areaHandlers: areaHandlers };
});
