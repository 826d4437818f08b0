/* The page's one Socket.IO connection (assets/js/socket.js) against a stand-in for the official client:
   options and auth as the server's connect handler expects them, events in arrival order, the
   connection's states, one owner at a time. */
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { js } = require("./helpers.js");

const made = [];
class FakeSocket {
  constructor(opts) { this.opts = opts; this.handlers = {}; this.any = []; this.connected = false; this.disconnects = 0; this.connects = 0; }
  on(ev, fn) { (this.handlers[ev] = this.handlers[ev] || []).push(fn); }
  onAny(fn) { this.any.push(fn); }
  offAny() { this.any = []; }
  disconnect() { this.disconnects += 1; this.connected = false; }
  connect() { this.connects += 1; }
  fire(ev, ...args) { this.connected = ev === "connect" ? true : (ev === "disconnect" ? false : this.connected); (this.handlers[ev] || []).forEach((f) => f(...args)); }
  event(name, data) { this.any.forEach((f) => f(name, data)); }
}
globalThis.io = (opts) => { const s = new FakeSocket(opts); made.push(s); return s; };

const socket = js("socket");

function owner(auth, log, extra) {
  return Object.assign({
    auth,
    on: { delta: (d) => log.push(["delta", d]), alerts: (d) => log.push(["alerts", d]) },
    status: (state, again) => log.push(["status", state, again]),
    alive: () => true,
  }, extra || {});
}

test("one connection: WebSocket only, reconnecting every 0.5-2 s, auth {pathname, view}", () => {
  const log = [];
  socket.open(owner({ pathname: "/wall", view: "wall" }, log));
  const s = made[made.length - 1];
  assert.deepEqual(s.opts.transports, ["websocket"]);
  assert.equal(s.opts.reconnectionDelay, 500);
  assert.equal(s.opts.reconnectionDelayMax, 2000);
  assert.deepEqual(s.opts.auth, { pathname: "/wall", view: "wall" });
  assert.deepEqual(log, [["status", "wait", false]]);
  socket.close();
});

test("every event reaches the page in arrival order; a failing handler does not stop the next", () => {
  const log = [];
  socket.open(owner({ pathname: "/" }, log, {
    on: { delta: (d) => { if (d === 2) { throw new Error("boom"); } log.push(["delta", d]); }, alerts: (d) => log.push(["alerts", d]) },
    status: () => {},
  }));
  const s = made[made.length - 1];
  const quiet = console.error;
  console.error = () => {};
  try { [1, 2, 3].forEach((n) => s.event("delta", n)); s.event("alerts", "a"); s.event("unknown", 0); s.event("delta", 4); }
  finally { console.error = quiet; }
  assert.deepEqual(log, [["delta", 1], ["delta", 3], ["alerts", "a"], ["delta", 4]]);
  assert.ok(socket.events >= 6);
  socket.close();
});

test("states: connecting, live, lost, live again (a reconnect)", () => {
  const log = [];
  socket.open(owner({ pathname: "/" }, log));
  const s = made[made.length - 1];
  s.fire("connect");
  s.fire("disconnect", "transport close");
  assert.equal(socket.state, "lost");
  s.fire("connect");
  assert.deepEqual(log, [["status", "wait", false], ["status", "ok", false], ["status", "lost", false], ["status", "ok", true]]);
  assert.equal(socket.state, "ok");
  socket.close();
});

test("the server closing the connection: connect again (the client would not)", () => {
  const log = [], timers = [], real = globalThis.setTimeout;
  globalThis.setTimeout = (fn, ms) => { timers.push([fn, ms]); return timers.length; };
  try {
    socket.open(owner({ pathname: "/" }, log));
    const s = made[made.length - 1];
    s.fire("connect");
    s.fire("disconnect", "io server disconnect");
    assert.equal(timers.length, 1);
    assert.ok(timers[0][1] >= 500 && timers[0][1] <= 2000);
    timers[0][0]();
    assert.equal(s.connects, 1);
  } finally { globalThis.setTimeout = real; socket.close(); }
});

test("a new page with the same auth keeps the connection; another auth makes a new one", () => {
  const a = [], b = [], c = [];
  socket.open(owner({ pathname: "/", view: "wall" }, a));
  const first = made[made.length - 1];
  first.fire("connect");
  socket.open(owner({ pathname: "/", view: "wall" }, b));
  assert.equal(made[made.length - 1], first);
  assert.deepEqual(b, [["status", "ok", false]]);  // told at once that it is live
  first.event("delta", 7);
  assert.deepEqual(a.filter((x) => x[0] === "delta"), []);
  assert.deepEqual(b.filter((x) => x[0] === "delta"), [["delta", 7]]);
  socket.open(owner({ pathname: "/subdistrict/ZM" }, c));
  const second = made[made.length - 1];
  assert.notEqual(second, first);
  assert.equal(first.disconnects, 1);
  assert.deepEqual(second.opts.auth, { pathname: "/subdistrict/ZM" });
  first.event("delta", 8);  // the old connection's late events go nowhere
  assert.deepEqual(c, [["status", "wait", false]]);
  socket.close();
});

test("when the owner's page has gone, its connection is closed at the next event", () => {
  const log = [];
  let alive = true;
  socket.open(owner({ pathname: "/case/K-1" }, log, { alive: () => alive }));
  const s = made[made.length - 1];
  s.event("delta", 1);
  alive = false;
  s.event("delta", 2);
  assert.deepEqual(log.filter((x) => x[0] === "delta"), [["delta", 1]]);
  assert.equal(s.disconnects, 1);
  assert.equal(socket.connected, false);
});

test("the vendored client is socket.io-client 4 (protocol v5) with the hooks the socket module uses", () => {
  const path = require("node:path"), fs = require("node:fs");
  const file = path.join(__dirname, "..", "..", "assets", "vendor", "socket.io.min.js");
  assert.match(fs.readFileSync(file, "utf8").slice(0, 200), /Socket\.IO v4\.8\.\d+[\s\S]*MIT License/);
  const real = require(file);
  assert.equal(typeof real, "function");
  for (const fn of ["onAny", "offAny", "on", "connect", "disconnect"]) { assert.equal(typeof real.Socket.prototype[fn], "function", fn); }
  const s = real({ autoConnect: false, transports: ["websocket"], auth: { pathname: "/" }, forceNew: true });
  assert.equal(s.connected, false);
  assert.deepEqual(s.io.opts.transports, ["websocket"]);
});
