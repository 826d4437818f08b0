/* citybrain format: numbers, durations, data ages, local day and hour keys and times (dates unambiguous:
   2026-12-07 14:05), in zh-CN and en.

   Every module under assets/js/ is a classic script in the page (attached to window.citybrain.<name>)
   and a CommonJS module under Node (tests/js/); its dependencies are looked up when called, so the
   order Dash loads the files in does not matter. */
(function (name, factory) {
  "use strict";
  var g = typeof window !== "undefined" ? window : globalThis;
  var cb = (g.citybrain = g.citybrain || {});
  var node = typeof module === "object" && module && module.exports && typeof require === "function";
  var m = factory(node ? function (d) { return require("./" + d + ".js"); } : function (d) { return cb[d]; }, cb, g);
  if (node) { module.exports = m; } else { cb[name] = m; }
})("format", function (need, cb, root) {
  "use strict";

  var HOUR_MS = 3600000;
  var cache = {};

  // One Intl formatter per purpose, language and options (they are costly to build).
  function dtf(key, lang, opts) {
    var k = "d|" + key + "|" + lang;
    if (!cache[k]) { cache[k] = new Intl.DateTimeFormat(lang === "en" ? "en-GB" : lang, opts); }
    return cache[k];
  }

  function nf(lang, opts, key) {
    var k = "n|" + (key || "") + "|" + lang;
    if (!cache[k]) { cache[k] = new Intl.NumberFormat(lang, opts); }
    return cache[k];
  }

  // A whole number with the language's separators: 1,234.
  function num(n, lang) { return nf(lang).format(n); }

  // A number with at most one decimal: 96.9.
  function dec1(n, lang) { return nf(lang, { maximumFractionDigits: 1 }, "1").format(n); }

  // A share 0..1 as a whole percentage: 67%.
  function pct0(share, lang) { return nf(lang, { style: "percent", maximumFractionDigits: 0 }, "pct").format(share); }

  // A template's placeholders filled: fill("{n} 秒", {n: 3}); an id template "fresh-{}" with one value.
  function fill(tpl, vars) {
    if (typeof vars !== "object" || vars === null) { return String(tpl).split("{}").join(String(vars)); }
    return String(tpl).replace(/\{(\w+)\}/g, function (all, k) { return k in vars ? String(vars[k]) : all; });
  }

  // A duration in its two largest non-zero units, as dashboard/i18n.py duration() does (S: the strings).
  function duration(ms, S, lang) {
    var s = Math.max(0, Math.floor(ms / 1000));
    var parts = [[Math.floor(s / 86400), "dur_day"], [Math.floor((s % 86400) / 3600), "dur_hour"],
      [Math.floor((s % 3600) / 60), "dur_min"]];
    if (s < 3600) { parts.push([s % 60, "dur_sec"]); }
    while (parts.length > 1 && parts[0][0] === 0) { parts.shift(); }
    var first = parts[0][1];
    var shown = parts.slice(0, 2).filter(function (p) { return p[0] || p[1] === first; })
      .map(function (p) { return fill(S[p[1]], { n: p[0] }); });
    return shown.join(lang === "zh-CN" ? "" : " ");
  }

  // The age of a panel's data: "3 秒" / "3 s", "2 分钟前" / "2 min ago", "1 小时前" / "1 h ago".
  function age(s, S) {
    if (s < 60) { return fill(S.fresh_s, { n: s }); }
    return s < 3600 ? fill(S.fresh_min, { n: Math.floor(s / 60) }) : fill(S.fresh_h, { n: Math.floor(s / 3600) });
  }

  // yyyymmdd (withHour: yyyymmddhh) of an instant in the district's time zone.
  function localKey(tz, ms, withHour) {
    var f = dtf("key" + tz, "en-CA", {
      timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", hourCycle: "h23",
    });
    var p = {};
    f.formatToParts(new Date(ms)).forEach(function (x) { p[x.type] = x.value; });
    return p.year + p.month + p.day + (withHour ? p.hour : "");
  }

  function dayKey(tz, ms) { return localKey(tz, ms, false); }
  function hourKey(tz, ms) { return localKey(tz, ms, true); }

  // The 24 hour keys (yyyymmddhh) ending with the local hour of `now`, oldest first (cached a minute).
  var hourCache = { at: -Infinity, tz: null, keys: [] };
  function lastHours(tz, now) {
    if (hourCache.tz !== tz || now < hourCache.at || now - hourCache.at > 60000 ||
        hourKey(tz, now) !== hourCache.keys[23]) {
      var keys = [];
      for (var k = 23; k >= 0; k--) { keys.push(hourKey(tz, now - k * HOUR_MS)); }
      hourCache = { at: now, tz: tz, keys: keys };
    }
    return hourCache.keys;
  }

  var TIME_OPTS = {
    hms: { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" },
    hm: { hour: "2-digit", minute: "2-digit", hourCycle: "h23" },
  };

  // An instant as local text: kind "hms" 14:05:09, "hm" 14:05; the kinds with a date are the same in
  // both languages and never ambiguous (no 07/12/2026): "clock" and "stamp" 2026-12-08 14:05:09,
  // "short" 2026-12-08 14:05.
  function time(ms, tz, lang, kind) {
    var k = kind || "hms";
    if (k === "clock" || k === "stamp") { return stamp(ms, tz, null, true); }
    if (k === "short") { return stamp(ms, tz, null, false); }
    var opts = Object.assign({ timeZone: tz }, TIME_OPTS[k]);
    return dtf(k + tz, lang, opts).format(new Date(ms));
  }

  // An instant with an unambiguous date in both languages, "2026-12-07 14:05" (seconds: "14:05:09"),
  // or the time alone when `ref` (an instant) is on the same local day.
  function stamp(ms, tz, ref, seconds) {
    var f = dtf("iso" + tz, "en-CA", {
      timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
      second: "2-digit", hourCycle: "h23",
    });
    var p = {};
    f.formatToParts(new Date(ms)).forEach(function (x) { p[x.type] = x.value; });
    var hm = p.hour + ":" + p.minute + (seconds ? ":" + p.second : "");
    if (ref != null && localKey(tz, ref, false) === p.year + p.month + p.day) { return hm; }
    return p.year + "-" + p.month + "-" + p.day + " " + hm;
  }

  return {
    num: num, dec1: dec1, pct0: pct0, fill: fill, duration: duration, age: age, dayKey: dayKey, hourKey: hourKey,
    lastHours: lastHours, time: time, stamp: stamp, HOUR_MS: HOUR_MS,
  };
});
