/* citybrain sound: a WebAudio tone for unacknowledged orange and red warnings, every 2 s until
   acknowledged (red: three notes, orange: one). Never unless the person turned it on in this browser
   (off by default, remembered in localStorage); a browser starts audio only after a gesture, so after a
   reload with sound on the first click anywhere starts it. No audio files. Diagnostics:
   window.citybrain.soundOn, beeps. */
(function (name, factory) {
  "use strict";
  var g = typeof window !== "undefined" ? window : globalThis;
  var cb = (g.citybrain = g.citybrain || {});
  var node = typeof module === "object" && module && module.exports && typeof require === "function";
  var m = factory(node ? function (d) { return require("./" + d + ".js"); } : function (d) { return cb[d]; }, cb, g);
  if (node) { module.exports = m; } else { cb[name] = m; }
})("sound", function (need, cb, root) {
  "use strict";

  var KEY = "citybrain.sound", EVERY_MS = 2000;
  var S = { ctx: null, on: false, clicks: null, loud: null };

  function audio() {
    if (!S.ctx) {
      var AC = root.AudioContext || root.webkitAudioContext;
      if (!AC) { return null; }
      S.ctx = new AC();
    }
    if (S.ctx.state === "suspended") { S.ctx.resume(); }
    return S.ctx;
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

  function beep() {
    if (!S.on || !S.loud) { return; }
    var ac = audio();
    cb.beeps = (cb.beeps || 0) + 1;
    if (!ac) { return; }
    var t0 = ac.currentTime + 0.01;
    if (S.loud === "red") { tone(ac, 880, t0, 0.18); tone(ac, 880, t0 + 0.28, 0.18); tone(ac, 660, t0 + 0.56, 0.3); }
    else { tone(ac, 660, t0, 0.35); }
  }

  function stored() {
    try { return root.localStorage.getItem(KEY) === "on"; } catch (err) { return false; }
  }

  // The Dash callback on the toggle's clicks: [className, aria-pressed, label].
  function toggle(nClicks, meta) {
    var on = stored();
    if (S.clicks !== null && (nClicks || 0) > S.clicks) {
      on = !on;
      try { root.localStorage.setItem(KEY, on ? "on" : "off"); } catch (err) { /* private mode */ }
      if (on) { audio(); }  // inside the click's task: the browser allows audio from here on
    }
    S.clicks = nClicks || 0;
    S.on = on;
    cb.soundOn = on;
    // the toggle's class is its id, plus "on" while on
    return [meta.ids.sound + (on ? " on" : ""), on ? "true" : "false", on ? meta.strings.sound_on : meta.strings.sound_enable];
  }

  if (root.document) {
    root.setInterval(beep, EVERY_MS);
    root.document.addEventListener("click", function () { if (S.on) { audio(); } }, true);
  }

  return { toggle: toggle, loud: function (level) { S.loud = level; } };
});
