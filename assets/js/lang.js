/* citybrain lang: every page's language memory and search keys. A page opened without ?lang= shows the
   language last chosen with the switch in this browser (the query is set before Dash's renderer reads
   the location: this file runs before it starts); a click on the switch (a link to this page in the
   other language, a[data-lang]) remembers the choice; <html lang> follows the language shown. ArrowDown
   in the search box goes to the first hit. */
(function (name, factory) {
  "use strict";
  var g = typeof window !== "undefined" ? window : globalThis;
  var cb = (g.citybrain = g.citybrain || {});
  var node = typeof module === "object" && module && module.exports && typeof require === "function";
  var m = factory(node ? function (d) { return require("./" + d + ".js"); } : function (d) { return cb[d]; }, cb, g);
  if (node) { module.exports = m; } else { cb[name] = m; }
})("lang", function (need, cb, root) {
  "use strict";

  var KEY = "citybrain.lang", LANGS = { en: true, "zh-CN": true };

  // The URL a page opened without ?lang= goes to (null: stay), given the remembered language.
  function withRemembered(stored, search) {
    if (!LANGS[stored]) { return null; }
    var params = new URLSearchParams(search);
    if (params.get("lang")) { return null; }
    params.set("lang", stored);
    return "?" + params.toString();
  }

  // The page's language from its query (?lang=zh / en-US...: as the server reads it), else `current`.
  function pageLang(search, current) {
    var asked = (new URLSearchParams(search).get("lang") || "").toLowerCase();
    if (asked.indexOf("zh") === 0) { return "zh-CN"; }
    if (asked.indexOf("en") === 0) { return "en"; }
    return current || null;
  }

  if (root.document) {
    var stored = null;
    try { stored = root.localStorage.getItem(KEY); } catch (err) { stored = null; }
    var query = withRemembered(stored, root.location.search);
    if (query) { root.history.replaceState(root.history.state, "", root.location.pathname + query + root.location.hash); }
    // <html lang>: the server writes the language it was asked for; a remembered one replaces it here
    var shown = pageLang(root.location.search, root.document.documentElement.getAttribute("lang"));
    if (shown) { root.document.documentElement.setAttribute("lang", shown); }

    root.document.addEventListener("click", function (e) {
      var a = e.target && e.target.closest ? e.target.closest("a[data-lang]") : null;
      var target = a && a.getAttribute("data-lang");
      try { if (LANGS[target]) { root.localStorage.setItem(KEY, target); } } catch (err) { /* private mode */ }
    }, true);

    root.document.addEventListener("keydown", function (e) {
      var box = e.key === "ArrowDown" && e.target && e.target.closest ? e.target.closest(".search") : null;
      if (!box || e.target.tagName !== "INPUT") { return; }
      var first = box.querySelector(".search-hit");
      if (first) { e.preventDefault(); first.focus(); }
    });
  }

  return { withRemembered: withRemembered, pageLang: pageLang };
});
