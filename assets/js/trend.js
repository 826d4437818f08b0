/* citybrain trend: cases reported (bars) and closed (line) per hour over the last 24 local hours. */
(function (name, factory) {
  "use strict";
  var g = typeof window !== "undefined" ? window : globalThis;
  var cb = (g.citybrain = g.citybrain || {});
  var node = typeof module === "object" && module && module.exports && typeof require === "function";
  var m = factory(node ? function (d) { return require("./" + d + ".js"); } : function (d) { return cb[d]; }, cb, g);
  if (node) { module.exports = m; } else { cb[name] = m; }
})("trend", function (need, cb, root) {
  "use strict";

  // The smallest of 1, 2, 2.5, 5 × 10^k at or above n (at least 5): the y range moves by steps, so that
  // a new count mostly redraws the bars and the line, not the axis.
  function niceMax(n) {
    var top = Math.max(5, n * 1.05), k = Math.pow(10, Math.floor(Math.log10(top)));
    return [1, 2, 2.5, 5, 10].map(function (m) { return m * k; }).filter(function (v) { return v >= top; })[0];
  }

  // {hours: [yyyymmddhh oldest first], reported: [...], closed: [...]}
  function series(st, tz, now) {
    var hours = st.hours || {}, keys = need("format").lastHours(tz, now);
    var n = function (k, f) { return ((hours[k] || {}).n || {})[f] || 0; };
    return {
      hours: keys,
      reported: keys.map(function (k) { return n(k, "reported"); }),
      closed: keys.map(function (k) { return n(k, "closed"); }),
    };
  }

  function figure(s, meta) {
    var S = meta.strings, base = meta.plot;
    var x = s.hours.map(function (k) { return S.hour_tick.replace("{h}", k.slice(8, 10)); });
    return {
      data: [
        { type: "bar", name: S.trend_reported, x: x, y: s.reported, marker: { color: "#39c6f4" }, opacity: 0.85,
          hovertemplate: "%{x} %{y}<extra>" + S.trend_reported + "</extra>" },
        { type: "scatter", mode: "lines", name: S.trend_closed, x: x, y: s.closed, line: { color: "#3ddc84", width: 2.5 },
          hovertemplate: "%{x} %{y}<extra>" + S.trend_closed + "</extra>" },
      ],
      layout: Object.assign({}, base, {
        bargap: 0.25, margin: { l: 44, r: 8, t: 26, b: 28 },
        legend: Object.assign({}, base.legend, { orientation: "h", x: 1, xanchor: "right", y: 1.18 }),
        xaxis: Object.assign({}, base.xaxis, { type: "category", tickmode: "array",
          tickvals: x.filter(function (_, i) { return i % 4 === 3; }) }),
        yaxis: Object.assign({}, base.yaxis, {
          range: [0, niceMax(Math.max.apply(null, s.reported.concat(s.closed)))], autorange: false }),
      }),
    };
  }

  return { niceMax: niceMax, series: series, figure: figure };
});
