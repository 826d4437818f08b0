/* citybrain sound: a WebAudio tone for unacknowledged warnings at or above the configured level (web.
   sound_level), at once when a new one appears and then every web.sound_repeat_s until acknowledged
   (red: three notes, orange: one, yellow and blue: one lower). No audio files.

   When: on / only after the person turns it on (off by default, remembered in localStorage); on /wall by
   itself (web.wall_sound). Honest: a browser may keep audio suspended until a gesture, so the state is
   what the AudioContext says, not what was asked for:
     off      not asked for
     on       asked for and the AudioContext runs
     blocked  asked for, the browser keeps audio suspended: / says "click to enable sound" on its toggle,
              /wall shows a notice; the next click or key anywhere starts it
     none     no WebAudio in this browser
   A kiosk started with --autoplay-policy=no-user-gesture-required (README) sounds with nobody touching
   it. Diagnostics: window.citybrain.soundOn, soundState, soundLoud, beeps, lastTone. */
(function (name, factory) {
  "use strict";
  var g = typeof window !== "undefined" ? window : globalThis;
  var cb = (g.citybrain = g.citybrain || {});
  var node = typeof module === "object" && module && module.exports && typeof require === "function";
  var m = factory(node ? function (d) { return require("./" + d + ".js"); } : function (d) { return cb[d]; }, cb, g);
  if (node) { module.exports = m; } else { cb[name] = m; }
})("sound", function (need, cb, root) {
  "use strict";

  var KEY = "citybrain.sound";
  var S = { ctx: null, want: false, auto: false, clicks: null, loud: null, seen: {}, meta: null, level: "yellow",
    every: 2000, timer: null };

  // ---- the state and its words (pure: tests/js/sound.test.js)

  function stateOf(want, hasAudio, ctxState) {
    if (!want) { return "off"; }
    if (!hasAudio) { return "none"; }
    return ctxState === "running" ? "on" : "blocked";
  }

  // The desk toggle: [className, aria-pressed, label] for a state.
  function toggleView(state, meta) {
    var s = meta.strings, base = meta.ids.sound;
    if (state === "on") { return [base + " on", "true", s.sound_on]; }
    if (state === "blocked") { return [base + " on blocked", "true", s.sound_click]; }
    if (state === "none") { return [base + " on blocked", "true", s.sound_none]; }
    return [base, "false", s.sound_enable];
  }

  // The wall's notice: [className, text] (hidden unless the wall cannot sound).
  function noticeView(state, meta) {
    var s = meta.strings, base = meta.ids.soundNotice;  // its class is its id, plus "hidden"
    if (state === "blocked") { return [base, s.sound_blocked]; }
    if (state === "none") { return [base, s.sound_none]; }
    return [base + " hidden", s.sound_blocked];
  }

  // ---- audio

  function AC() { return root.AudioContext || root.webkitAudioContext || null; }

  function state() { return stateOf(S.want, !!AC(), S.ctx ? S.ctx.state : "suspended"); }

  // The AudioContext (made on first need); asked to resume, which a browser allows inside a gesture or
  // when its autoplay policy needs none.
  function audio() {
    if (!S.want) { return null; }
    var Ctor = AC();
    if (!Ctor) { return null; }
    if (!S.ctx) {
      S.ctx = new Ctor();
      S.ctx.onstatechange = paint;
    }
    if (S.ctx.state === "suspended") {
      var p = S.ctx.resume();
      if (p && p.then) { p.then(paint, paint); }
    }
    return S.ctx;
  }

  function tone(ac, freq, at, dur, gain) {
    var o = ac.createOscillator(), g = ac.createGain();
    o.type = "sine";
    o.frequency.value = freq;
    g.gain.setValueAtTime(0.0001, at);
    g.gain.exponentialRampToValueAtTime(gain, at + 0.02);
    g.gain.exponentialRampToValueAtTime(0.0001, at + dur);
    o.connect(g);
    g.connect(ac.destination);
    o.start(at);
    o.stop(at + dur + 0.05);
  }

  // One alarm for the loudest sounding level; counted only when the context runs (a suspended one
  // plays nothing).
  function beep() {
    if (!S.want || !S.loud) { return; }
    var ac = audio();
    if (!ac || ac.state !== "running") { return; }
    var t0 = ac.currentTime + 0.01, lv = S.loud;
    if (lv === "red") { tone(ac, 880, t0, 0.18, 0.3); tone(ac, 880, t0 + 0.28, 0.18, 0.3); tone(ac, 660, t0 + 0.56, 0.3, 0.3); }
    else if (lv === "orange") { tone(ac, 660, t0, 0.35, 0.3); }
    else { tone(ac, lv === "yellow" ? 523 : 440, t0, 0.25, 0.2); }
    cb.beeps = (cb.beeps || 0) + 1;
    cb.lastTone = lv;
  }

  // ---- on the page

  function paint() {
    var st = state(), meta = S.meta;
    cb.soundOn = st === "on";
    cb.soundState = st;
    if (!meta || !root.document) { return; }
    var btn = root.document.getElementById(meta.ids.sound);
    if (btn) {
      var v = toggleView(st, meta);
      if (btn.className !== v[0]) { btn.className = v[0]; }
      btn.setAttribute("aria-pressed", v[1]);
      if (btn.textContent !== v[2]) { btn.textContent = v[2]; }
    }
    var note = meta.ids.soundNotice ? root.document.getElementById(meta.ids.soundNotice) : null;
    if (note) {
      var n = noticeView(S.auto ? st : "off", meta);
      if (note.className !== n[0]) { note.className = n[0]; }
      if (note.textContent !== n[1]) { note.textContent = n[1]; }
    }
  }

  function stored() {
    try { return root.localStorage.getItem(KEY) === "on"; } catch (err) { return false; }
  }

  function every(ms) {
    if (S.timer && S.every === ms) { return; }
    if (S.timer) { root.clearInterval(S.timer); }
    S.every = ms;
    S.timer = root.setInterval(beep, ms);
  }

  // A wall page starts: its level, repeat and whether it sounds by itself (meta.sound, layouts/wall.py).
  function start(meta) {
    var conf = meta.sound || {};
    S.meta = meta;
    S.level = conf.level || "yellow";
    S.auto = !!conf.auto;
    if (S.auto) { S.want = true; audio(); }
    if (root.document) { every(conf.every_ms || 2000); }
    paint();
  }

  // The Dash callback on the desk toggle's clicks: [className, aria-pressed, label].
  function toggle(nClicks, meta) {
    S.meta = S.meta || meta;
    var on = S.auto || stored();
    if (!S.auto && S.clicks !== null && (nClicks || 0) > S.clicks) {
      on = !stored();
      try { root.localStorage.setItem(KEY, on ? "on" : "off"); } catch (err) { /* private mode */ }
    }
    S.clicks = nClicks || 0;
    S.want = on;
    if (on) { audio(); }  // inside the click's task when clicked: the browser allows audio from here on
    paint();
    return toggleView(state(), meta);
  }

  // The warnings now (sorted): what sounds; a warning not heard before sounds at once.
  function alerts(list) {
    var now = need("alerts").loud(list || [], S.level), fresh = false, seen = {};
    S.loud = now ? now.level : null;
    cb.soundLoud = S.loud;
    (now ? now.ids : []).forEach(function (id) { seen[id] = true; if (!S.seen[id]) { fresh = true; } });
    S.seen = seen;
    if (fresh) { beep(); }
  }

  if (root.document) {
    // a gesture anywhere: the browser now allows a suspended context to run
    ["click", "keydown", "pointerdown"].forEach(function (kind) {
      root.document.addEventListener(kind, function () { if (S.want) { audio(); } }, true);
    });
  }

  return {
    start: start, toggle: toggle, alerts: alerts, state: state, stateOf: stateOf, toggleView: toggleView,
    noticeView: noticeView,
  };
});
