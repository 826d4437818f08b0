/* citybrain socket: the page's one Socket.IO connection, every event handed to the page in arrival order.

   The official browser client (assets/vendor/socket.io.min.js, socket.io-client 4.x = protocol v5, what
   python-socketio 5 speaks) is driven here directly: WebSocket transport only, `auth: {pathname, view}`
   (the server's connect handler joins the room of auth.view, else of auth.pathname), reconnection every
   0.5-2 s. `socket.onAny` hands each event to the page's handler synchronously, in order, none
   coalesced (a Dash prop keeps only the last of the events that arrive between two renders).

   One page owns the connection at a time: open(owner) with
     owner = {auth, on: {<event>: fn(data)}, status: fn(state, reconnected), alive: fn() -> bool}
   A new owner with the same auth keeps the connection; another auth reconnects (another room). When
   the owner's page has gone (alive() false at an event), the connection is closed. */
(function (name, factory) {
  "use strict";
  var g = typeof window !== "undefined" ? window : globalThis;
  var cb = (g.citybrain = g.citybrain || {});
  var node = typeof module === "object" && module && module.exports && typeof require === "function";
  var m = factory(node ? function (d) { return require("./" + d + ".js"); } : function (d) { return cb[d]; }, cb, g);
  if (node) { module.exports = m; } else { cb[name] = m; }
})("socket", function (need, cb, root) {
  "use strict";

  var OPTIONS = { transports: ["websocket"], reconnectionDelay: 500, reconnectionDelayMax: 2000, forceNew: true };
  var RETRY_MS = 500;  // after the server closed the connection itself: connect again

  // state: "wait" (connecting), "ok" (connected), "lost" (was connected, is not)
  var S = { sock: null, key: null, owner: null, state: "wait", connects: 0, events: 0 };

  function log(what, err) { if (root.console) { root.console.error("citybrain socket:", what, err); } }

  function tell(reconnected) {
    var o = S.owner;
    if (!o || !o.status) { return; }
    try { o.status(S.state, !!reconnected); } catch (err) { log("status", err); }
  }

  function gone() {
    var o = S.owner;
    if (o && o.alive && !o.alive()) { close(); return true; }
    return false;
  }

  // One event off the socket: to the owner's handler of that name, at once.
  function dispatch(event, data) {
    S.events += 1;
    if (gone()) { return; }
    var fn = S.owner && S.owner.on && S.owner.on[event];
    if (!fn) { return; }
    try { fn(data); } catch (err) { log(event, err); }
  }

  function connect(auth) {
    var io = root.io;
    if (typeof io !== "function") { log("no Socket.IO client", "assets/vendor/socket.io.min.js"); return null; }
    var sock = io(Object.assign({ auth: auth }, OPTIONS));
    sock.on("connect", function () {
      if (sock !== S.sock) { return; }
      S.connects += 1;
      S.state = "ok";
      if (!gone()) { tell(S.connects > 1); }
    });
    sock.on("disconnect", function (reason) {
      if (sock !== S.sock) { return; }
      S.state = "lost";
      tell(false);
      // the client reconnects by itself, except when the server closed the connection: then here
      if (reason === "io server disconnect") {
        root.setTimeout(function () { if (sock === S.sock) { sock.connect(); } }, RETRY_MS);
      }
    });
    sock.onAny(function (event, data) { if (sock === S.sock) { dispatch(event, data); } });
    return sock;
  }

  // Make `owner` the page that receives the events; connect (again) when its auth differs.
  function open(owner) {
    var key = JSON.stringify(owner.auth || {});
    S.owner = owner;
    if (S.sock && S.key === key) { tell(false); return; }
    close();
    S.owner = owner;
    S.key = key;
    S.state = "wait";
    S.connects = 0;
    S.sock = connect(owner.auth || {});
    tell(false);
  }

  // Drop the connection (the page that owned it has gone).
  function close() {
    var sock = S.sock;
    S.sock = null;
    S.key = null;
    S.owner = null;
    S.state = "wait";
    if (sock) {
      sock.offAny();
      sock.disconnect();
    }
  }

  return {
    open: open,
    close: close,
    get state() { return S.state; },  // "wait" | "ok" | "lost"
    get connects() { return S.connects; },
    get events() { return S.events; },
    get connected() { return !!(S.sock && S.sock.connected); },
  };
});
