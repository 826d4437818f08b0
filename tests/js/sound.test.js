/* sound.js: the state is what the browser's audio says, not what was asked for; the words for each. */
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { fx, js } = require("./helpers.js");

const S = js("sound");

const meta = (lang) => ({ strings: fx.strings[lang], ids: { sound: "sound-toggle", soundNotice: "sound-notice" } });

test("the state: off unless asked for; on only while the audio runs; blocked while suspended", () => {
  assert.equal(S.stateOf(false, true, "running"), "off");
  assert.equal(S.stateOf(true, true, "running"), "on");
  assert.equal(S.stateOf(true, true, "suspended"), "blocked");
  assert.equal(S.stateOf(true, false, "running"), "none");
});

test("the toggle never says 'sound on' while the browser blocks it", () => {
  for (const lang of ["zh-CN", "en"]) {
    const m = meta(lang), s = fx.strings[lang];
    assert.deepEqual(S.toggleView("on", m), ["sound-toggle on", "true", s.sound_on]);
    assert.deepEqual(S.toggleView("off", m), ["sound-toggle", "false", s.sound_enable]);
    const blocked = S.toggleView("blocked", m);
    assert.equal(blocked[2], s.sound_click);
    assert.notEqual(blocked[2], s.sound_on);
    assert.ok(blocked[0].split(" ").includes("blocked"));
  }
  assert.equal(fx.strings.en.sound_click, "Click to enable sound");
});

test("the wall's notice shows only while the wall cannot sound", () => {
  const m = meta("en");
  assert.equal(S.noticeView("on", m)[0], "sound-notice hidden");
  assert.equal(S.noticeView("off", m)[0], "sound-notice hidden");
  assert.equal(S.noticeView("blocked", m)[0], "sound-notice");
  assert.match(S.noticeView("blocked", m)[1], /click/i);
});
