/* citybrain alertview: the warnings on screen, drawn by Dash from the wall-alerts store (a clientside
   callback): the banner (the most severe unacknowledged warning, flashing; else the most severe
   acknowledged one, steady), the list (who acknowledged a warning and their note, who silenced it until
   when and why) with acknowledge, silence and un-silence controls, the counters per level and the
   outlines on the map. Each output is sent again only when it changed. Text is text, never HTML. */
(function (name, factory) {
  "use strict";
  var g = typeof window !== "undefined" ? window : globalThis;
  var cb = (g.citybrain = g.citybrain || {});
  var node = typeof module === "object" && module && module.exports && typeof require === "function";
  var m = factory(node ? function (d) { return require("./" + d + ".js"); } : function (d) { return cb[d]; }, cb, g);
  if (node) { module.exports = m; } else { cb[name] = m; }
})("alertview", function (need, cb, root) {
  "use strict";

  function title(a, meta) { return (meta.lang === "en" ? a.title_en || a.title_zh : a.title_zh || a.title_en) || a.rule; }

  function since(a, meta) {
    var F = need("format");
    return F.fill(meta.strings.alert_since, { t: F.stamp(a.fired || a.started || a.since, meta.tz) });
  }

  // Its state in words: who acknowledged it and their note, who silenced it until when, for how long and
  // why, or the status's name. `brief`: without the note and the reason (the banner).
  function state(a, meta, brief) {
    var S = meta.strings, F = need("format");
    if (a.status === "acknowledged" && a.acked_by) {
      return a.ack_note && !brief ? F.fill(S.alert_acked_note, { who: a.acked_by, note: a.ack_note })
        : F.fill(S.alert_acked_by, { who: a.acked_by });
    }
    if (a.status === "silenced" && a.silenced_until) {
      var who = a.silenced_by || "";
      if (!a.silenced_at) {
        return F.fill(S.alert_silenced_by, { t: F.stamp(a.silenced_until, meta.tz, a.updated || null), who: who });
      }
      var why = brief ? "" : a.silence_reason || "";
      return F.fill(why ? S.alert_silenced_why : S.alert_silenced_for, {
        who: who, t: F.stamp(a.silenced_until, meta.tz, a.silenced_at), why: why,
        d: F.duration(Math.round((a.silenced_until - a.silenced_at) / 60000) * 60000, S, meta.lang),  // to the minute
      });
    }
    return S["alert_" + a.status] || a.status;
  }

  // [children, className] of the banner.
  function banner(list, meta) {
    var h = need("dom").h, first = need("alerts").top(list);
    if (!first) { return [[], "alert-banner hidden"]; }
    var lv = meta.levels[first.level] || {};
    var kids = [
      h("Span", { className: "ab-level" }, lv.name || first.level),
      h("Span", { className: "ab-area" }, need("names").areaWords(meta, first.area)),
      h("Span", { className: "ab-title" }, title(first, meta)),
      h("Span", { className: "ab-since" }, since(first, meta)),
      h("Span", { className: "ab-state" }, state(first, meta, true)),
    ];
    var cls = "alert-banner level-" + first.level + (first.status === "firing" ? " flashing" : " steady");
    return [h("Div", { className: "ab-inner", "data-alert": first.id }, kids), cls];
  }

  // The silence controls of a row: duration, a required reason, the button.
  function silence(a, meta) {
    var h = need("dom").h, S = meta.strings, I = meta.ids;
    return h("Span", { className: I.alertSilence, "data-alert": a.id }, [  // the box's class is the id type
      h("Select", { className: "alert-silence-dur", "data-alert": a.id }, [30, 60, 120, 240].map(function (m) {
        return h("Option", { value: String(m) }, S["silence_" + m]);
      })),
      { type: "Input", namespace: "dash_core_components", props: { className: "alert-silence-reason", type: "text",
        maxLength: 500, placeholder: S.alert_silence_reason, debounce: true } },
      h("Button", { className: "alert-silence-btn", id: { type: I.alertSilence, index: a.id }, "data-alert": a.id },
        S.alert_silence),
    ]);
  }

  function rows(list, meta) {
    var h = need("dom").h, S = meta.strings, N = need("names");
    if (!list.length) { return h("Div", { className: "muted" }, S.alerts_none); }
    return list.slice(0, 30).map(function (a) {
      var lv = meta.levels[a.level] || {}, words = state(a, meta);
      var kids = [
        h("Span", { className: "al-level" }, lv.name || a.level),
        h("Span", { className: "al-title" }, title(a, meta)),
        h("Span", { className: "al-area" }, N.areaWords(meta, a.area)),
        h("Span", { className: "al-since" }, since(a, meta)),
        h("Span", { className: "al-state", title: words }, words),
      ];
      if (a.status === "firing") {
        kids.push(h("Button", { className: "alert-ack-btn", id: { type: meta.ids.alertAck, index: a.id }, "data-alert": a.id },
          S.alert_ack));
      }
      if (a.status === "firing" || a.status === "acknowledged") { kids.push(silence(a, meta)); }
      if (a.status === "silenced") {
        kids.push(h("Button", { className: "alert-unsilence-btn", "data-alert": a.id }, S.alert_unsilence));
      }
      return h("Div", { className: "alert-row level-" + a.level + " status-" + a.status, "data-alert": a.id,
        "data-status": a.status }, kids);
    });
  }

  // The callback's outputs as last sent: each is sent again only when it changed.
  var sent = { meta: null, sig: {} };
  function ifChanged(key, value, meta) {
    if (sent.meta !== meta) { sent = { meta: meta, sig: {} }; }
    var sig = JSON.stringify(value);
    if (sent.sig[key] === sig) { return root.dash_clientside.no_update; }
    sent.sig[key] = sig;
    return value;
  }

  // The Dash callback: banner, banner class, list, counters (blue, yellow, orange, red), outlines.
  function render(store, meta) {
    var A = need("alerts"), F = need("format");
    var list = A.sort((store && store.alerts) || [], meta.levels);
    cb.alertsNow = list;
    need("sound").alerts(list);
    var b = banner(list, meta), areas = A.areas(list, meta), colours = {};
    Object.keys(meta.levels).forEach(function (k) { colours[k] = meta.levels[k].colour; });
    var counts = ["blue", "yellow", "orange", "red"].map(function (k) {
      return ifChanged("count-" + k, F.num(list.filter(function (a) { return a.level === k; }).length, meta.lang), meta);
    });
    return [ifChanged("banner", b[0], meta), ifChanged("banner-class", b[1], meta), ifChanged("list", rows(list, meta), meta)]
      .concat(counts)
      .concat([ifChanged("cells", { alerts: areas[0], colours: colours }, meta),
        ifChanged("comms", { alerts: areas[1], colours: colours }, meta)]);
  }

  return { banner: banner, rows: rows, state: state, render: render };
});
