/* citybrain alertactions: acknowledging, silencing and un-silencing a warning from the wall. A delegated
   click on a row's button posts to the same-origin endpoint (POST /ui/alerts/<id>/ack {actor, note},
   .../silence {actor, minutes, reason} or .../unsilence {actor}); the duty officer's name is required (and remembered), so is a silence's
   reason; why a request did not go through is said in alert-msg. No Dash callback on this path: the
   change comes back to every screen through the "alerts" event. */
(function (name, factory) {
  "use strict";
  var g = typeof window !== "undefined" ? window : globalThis;
  var cb = (g.citybrain = g.citybrain || {});
  var node = typeof module === "object" && module && module.exports && typeof require === "function";
  var m = factory(node ? function (d) { return require("./" + d + ".js"); } : function (d) { return cb[d]; }, cb, g);
  if (node) { module.exports = m; } else { cb[name] = m; }
})("alertactions", function (need, cb, root) {
  "use strict";

  var NAME_KEY = "citybrain.duty-name";

  function byId(id) { return root.document.getElementById(id); }
  function value(el) { return ((el && el.value) || "").trim(); }

  function say(meta, text) { root.dash_clientside.set_props(meta.ids.alertMsg, { children: text }); }

  // The field `el` must be filled: mark it and say why (false) or clear the mark (true).
  function required(el, ok, meta, why) {
    if (!ok) {
      if (el) { el.classList.add("need"); el.focus(); }
      say(meta, meta.strings[why]);
      return false;
    }
    if (el) { el.classList.remove("need"); }
    return true;
  }

  function post(url, body) {
    return root.fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })
      .then(function (r) {
        return r.json().then(function (b) { if (!r.ok) { throw new Error(b.error || "HTTP " + r.status); } return b; });
      });
  }

  function ack(btn, meta) {
    var I = meta.ids, S = meta.strings, nameEl = byId(I.dutyName), name = value(nameEl), note = value(byId(I.alertNote));
    if (!required(nameEl, !!name, meta, "alert_need_name")) { return; }
    try { root.localStorage.setItem(NAME_KEY, name); } catch (err) { /* private mode */ }
    btn.disabled = true;
    post("/ui/alerts/" + encodeURIComponent(btn.getAttribute("data-alert")) + "/ack", { actor: name, note: note })
      .then(function () {
        say(meta, "");
        if (note) { root.dash_clientside.set_props(I.alertNote, { value: "" }); }
      })
      .catch(function (err) { btn.disabled = false; say(meta, need("format").fill(S.alert_ack_failed, { e: err.message })); });
  }

  function silence(btn, meta) {
    var I = meta.ids, S = meta.strings, box = btn.closest("." + I.alertSilence);
    var nameEl = byId(I.dutyName), name = value(nameEl);
    var durEl = box && box.querySelector(".alert-silence-dur");
    var reasonEl = box && box.querySelector("input.alert-silence-reason, .alert-silence-reason input");
    var reason = value(reasonEl);
    if (!required(nameEl, !!name, meta, "alert_need_name") || !required(reasonEl, !!reason, meta, "alert_need_reason")) {
      return;
    }
    btn.disabled = true;
    var minutes = parseInt((durEl && durEl.value) || "30", 10);
    post("/ui/alerts/" + encodeURIComponent(btn.getAttribute("data-alert")) + "/silence",
      { actor: name, minutes: minutes, reason: reason })
      .then(function () { say(meta, ""); })
      .catch(function (err) { btn.disabled = false; say(meta, need("format").fill(S.alert_silence_failed, { e: err.message })); });
  }

  function unsilence(btn, meta) {
    var I = meta.ids, S = meta.strings, nameEl = byId(I.dutyName), name = value(nameEl);
    if (!required(nameEl, !!name, meta, "alert_need_name")) { return; }
    try { root.localStorage.setItem(NAME_KEY, name); } catch (err) { /* private mode */ }
    btn.disabled = true;
    post("/ui/alerts/" + encodeURIComponent(btn.getAttribute("data-alert")) + "/unsilence", { actor: name })
      .then(function () { say(meta, ""); })
      .catch(function (err) { btn.disabled = false; say(meta, need("format").fill(S.alert_unsilence_failed, { e: err.message })); });
  }

  if (root.document) {
    root.document.addEventListener("click", function (e) {
      var t = e.target, meta = need("alerts").meta();
      if (!t || !t.closest || !meta) { return; }
      var btn = t.closest(".alert-ack-btn");
      if (btn) { ack(btn, meta); return; }
      btn = t.closest(".alert-silence-btn");
      if (btn) { silence(btn, meta); return; }
      btn = t.closest(".alert-unsilence-btn");
      if (btn) { unsilence(btn, meta); }
    });
  }

  return { ack: ack, silence: silence, unsilence: unsilence };
});
