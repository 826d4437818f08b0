/* citybrain: every Socket.IO event the page receives, in order, none lost.

   dash-socketio hands an event to Dash by setting a prop; when two events arrive before Dash runs the
   callback, Dash runs it once with the latest value and the earlier event is never seen. A page that
   applies deltas by seq then sees a gap and resynchronises, over and over under load. So the pages take
   their events here instead: the WebSocket's message handler (set by engine.io as `ws.onmessage`) is
   wrapped so that each Socket.IO event frame `42["name",data]` is parsed and dispatched to the
   listeners registered with `citybrain.tap.on(name, fn)`, synchronously and in arrival order. The
   socket itself (connection, reconnection, heartbeats) stays dash-socketio's; it must use the
   websocket transport only (`options={"transports": ["websocket"]}`), so that no event travels by
   long-polling. */
(function () {
  "use strict";
  var WS = window.WebSocket;
  if (!WS || (window.citybrain && window.citybrain.tap)) { return; }
  var handlers = {};
  var TICK_FIELDS = ["ts", "case", "cell", "type", "step", "dept", "priority"];

  // The event name and data of one engine.io text frame holding a Socket.IO event, or null.
  function parse(frame) {
    if (typeof frame !== "string" || frame.charAt(0) !== "4" || frame.charAt(1) !== "2") { return null; }
    var i = 2;
    if (frame.charAt(i) === "/") {  // a namespace: "42/ns,[...]"
      i = frame.indexOf(",", i) + 1;
      if (i === 0) { return null; }
    }
    while (frame.charAt(i) >= "0" && frame.charAt(i) <= "9") { i++; }  // an ack id
    var packet;
    try { packet = JSON.parse(frame.slice(i)); } catch (e) { return null; }
    return Array.isArray(packet) && typeof packet[0] === "string" ? packet : null;
  }

  // A delta's ticker items travel as lists (dashboard/push.py TICK_FIELDS): every page gets objects.
  function items(list) {
    return (list || []).map(function (it) {
      if (!Array.isArray(it)) { return it; }
      var o = {};
      TICK_FIELDS.forEach(function (f, i) { o[f] = it[i]; });
      return o;
    });
  }
  var DECODE = { delta: function (d) { return d && d.ticker ? Object.assign({}, d, { ticker: items(d.ticker) }) : d; } };

  function dispatch(frame) {
    var packet = parse(frame);
    if (!packet) { return; }
    if (DECODE[packet[0]]) { packet[1] = DECODE[packet[0]](packet[1]); }
    (handlers[packet[0]] || []).forEach(function (fn) {
      try { fn(packet[1]); } catch (err) { window.console.error("citybrain tap:", packet[0], err); }
    });
  }

  var desc = Object.getOwnPropertyDescriptor(WS.prototype, "onmessage");
  if (!desc || !desc.set) { return; }
  Object.defineProperty(WS.prototype, "onmessage", {
    configurable: true,
    enumerable: desc.enumerable,
    get: desc.get,
    set: function (fn) {
      var tapped = fn && String(this.url).indexOf("/socket.io/") >= 0
        ? function (ev) { dispatch(ev.data); return fn.call(this, ev); }
        : fn;
      desc.set.call(this, tapped);
    },
  });

  window.citybrain = window.citybrain || {};
  window.citybrain.tap = {
    // Call fn(data) for every event `name`, in arrival order.
    on: function (name, fn) { (handlers[name] = handlers[name] || []).push(fn); },
    parse: parse,
  };
})();
