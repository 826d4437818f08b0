/* Numbers, durations, data ages, times and local day/hour keys in zh-CN and en (Asia/Shanghai). */
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { fx, js, local, TZ } = require("./helpers.js");

const F = js("format");

test("numbers and shares in each language", () => {
  assert.equal(F.num(1234567, "zh-CN"), "1,234,567");
  assert.equal(F.num(1234567, "en"), "1,234,567");
  assert.equal(F.dec1(96.94, "en"), "96.9");
  assert.equal(F.dec1(100, "zh-CN"), "100");
  assert.equal(F.pct0(2 / 3, "en"), "67%");
  assert.equal(F.pct0(0, "zh-CN"), "0%");
});

test("durations are the same as dashboard.i18n.duration in both languages", () => {
  for (const [ms, lang, want] of fx.durations) {
    assert.equal(F.duration(ms, fx.strings[lang], lang), want, `${ms} ms in ${lang}`);
  }
  assert.equal(F.duration(-5000, fx.strings.en, "en"), "0 s");  // never negative
});

test("data ages: seconds, minutes ago, hours ago", () => {
  assert.equal(F.age(3, fx.strings["zh-CN"]), "3 秒");
  assert.equal(F.age(59, fx.strings.en), "59 s");
  assert.equal(F.age(125, fx.strings["zh-CN"]), "2 分钟前");
  assert.equal(F.age(3599, fx.strings.en), "59 min ago");
  assert.equal(F.age(7300, fx.strings.en), "2 h ago");
});

test("templates: named placeholders and id templates", () => {
  assert.equal(F.fill("{who} 已静音至 {t}", { who: "李", t: "14:30" }), "李 已静音至 14:30");
  assert.equal(F.fill("{n} s", { m: 1 }), "{n} s");  // unknown names stay
  assert.equal(F.fill(fx.ids.wall.fresh, fx.ids.wall.flow), "fresh-" + fx.ids.wall.flow);
  assert.equal(F.fill("focus-{}-{}", "open"), "focus-open-open");
});

test("local day and hour keys turn at midnight Asia/Shanghai (16:00 UTC)", () => {
  const before = local(2026, 12, 7, 23, 59, 59), after = local(2026, 12, 8, 0, 0, 0);
  assert.equal(new Date(after).toISOString(), "2026-12-07T16:00:00.000Z");
  assert.equal(F.dayKey(TZ, before), "20261207");
  assert.equal(F.dayKey(TZ, after), "20261208");
  assert.equal(F.hourKey(TZ, before), "2026120723");
  assert.equal(F.hourKey(TZ, after), "2026120800");
  assert.equal(F.dayKey("UTC", after), "20261207");
  // the new year too
  assert.equal(F.dayKey(TZ, local(2027, 1, 1, 0, 30)), "20270101");
});

test("the last 24 hours end with the current local hour, oldest first, across midnight", () => {
  const keys = F.lastHours(TZ, local(2026, 12, 8, 1, 15));
  assert.equal(keys.length, 24);
  assert.equal(keys[23], "2026120801");
  assert.equal(keys[22], "2026120800");
  assert.equal(keys[21], "2026120723");
  assert.equal(keys[0], "2026120702");
  assert.deepEqual(keys.slice().sort(), keys);
  // a minute later in the next hour the keys move on (no stale cache at the hour)
  assert.equal(F.lastHours(TZ, local(2026, 12, 8, 2, 0, 5))[23], "2026120802");
});

test("times on screen: clock, seconds, minutes, alert stamps, in local time", () => {
  const t = local(2026, 12, 8, 9, 5, 7);
  assert.equal(F.time(t, TZ, "zh-CN", "hms"), "09:05:07");
  assert.equal(F.time(t, TZ, "en", "hm"), "09:05");
  // dates never ambiguous (no 08/12/2026), the same in both languages
  assert.equal(F.time(t, TZ, "zh-CN", "clock"), "2026-12-08 09:05:07");
  assert.equal(F.time(t, TZ, "en", "clock"), "2026-12-08 09:05:07");
  assert.equal(F.time(t, TZ, "zh-CN", "stamp"), "2026-12-08 09:05:07");
  assert.equal(F.time(t, TZ, "en", "short"), "2026-12-08 09:05");
  for (const kind of ["clock", "stamp", "short"]) {
    assert.doesNotMatch(F.time(t, TZ, "en", kind), /\d\/\d/);
  }
});

test("stamps: an unambiguous date in both languages, the time alone on the reference's local day", () => {
  const t = local(2026, 12, 7, 14, 5, 9);
  assert.equal(F.stamp(t, TZ), "2026-12-07 14:05");
  assert.equal(F.stamp(t, TZ, null, true), "2026-12-07 14:05:09");
  assert.equal(F.stamp(t, TZ, local(2026, 12, 7, 0, 0)), "14:05");
  assert.equal(F.stamp(t, TZ, local(2026, 12, 6, 23, 59)), "2026-12-07 14:05");
  assert.equal(F.stamp(local(2026, 1, 2, 0, 30), TZ), "2026-01-02 00:30");  // local midnight, not UTC's day
});
