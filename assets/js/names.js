/* citybrain names: what the page calls a cell, an area and a case's link, in its language (from meta). */
(function (name, factory) {
  "use strict";
  var g = typeof window !== "undefined" ? window : globalThis;
  var cb = (g.citybrain = g.citybrain || {});
  var node = typeof module === "object" && module && module.exports && typeof require === "function";
  var m = factory(node ? function (d) { return require("./" + d + ".js"); } : function (d) { return cb[d]; }, cb, g);
  if (node) { module.exports = m; } else { cb[name] = m; }
})("names", function (need, cb, root) {
  "use strict";

  // A cell's name and its subdistrict's short name ("" when unknown).
  function cellWords(meta, cell) {
    var m = meta.cells[cell];
    var sub = m ? meta.communities[m[1]] : null;
    return { name: m ? m[0] : "", sub: sub ? meta.sub_short[sub] || "" : "" };
  }

  // Any area's words: a cell "石湾 SW-0123 name", a community's or subdistrict's name, the district's.
  function areaWords(meta, id) {
    if (!id) { return ""; }
    if (meta.cells[id]) { var w = cellWords(meta, id); return (w.sub ? w.sub + " " : "") + id + " " + w.name; }
    if (meta.community_names[id]) { return meta.community_names[id]; }
    if (meta.subdistricts[id]) { return meta.subdistricts[id]; }
    return id === "district" || id.indexOf("district") === 0 ? meta.district_name : id;
  }

  function caseHref(id, lang) {
    return "/case/" + encodeURIComponent(id) + "?lang=" + encodeURIComponent(lang);
  }

  return { cellWords: cellWords, areaWords: areaWords, caseHref: caseHref };
});
