/* citybrain dom: the one node builder. h() describes a node as Dash component JSON ({type, namespace,
   props}); toDom() makes real DOM nodes of it for painting in place, and the same description can be
   returned to Dash by a clientside callback. Children are text or nodes: every string becomes a text
   node, never HTML (names and notes from the field are untrusted). */
(function (name, factory) {
  "use strict";
  var g = typeof window !== "undefined" ? window : globalThis;
  var cb = (g.citybrain = g.citybrain || {});
  var node = typeof module === "object" && module && module.exports && typeof require === "function";
  var m = factory(node ? function (d) { return require("./" + d + ".js"); } : function (d) { return cb[d]; }, cb, g);
  if (node) { module.exports = m; } else { cb[name] = m; }
})("dom", function (need, cb, root) {
  "use strict";

  // A Dash html component as JSON; children: a string, a node, or a list of them.
  function h(type, props, children) {
    var p = Object.assign({}, props || {});
    if (children !== undefined) { p.children = children; }
    return { type: type, namespace: "dash_html_components", props: p };
  }

  var ATTRS = { className: "class" };

  // DOM nodes of a description (a fragment for a list); text stays text.
  function toDom(desc) {
    var doc = root.document;
    if (desc === null || desc === undefined) { return null; }
    if (typeof desc !== "object") { return doc.createTextNode(String(desc)); }
    if (Array.isArray(desc)) {
      var frag = doc.createDocumentFragment();
      desc.forEach(function (n) { var d = toDom(n); if (d) { frag.appendChild(d); } });
      return frag;
    }
    var el = doc.createElement(desc.type.toLowerCase()), p = desc.props || {};
    Object.keys(p).forEach(function (k) {
      var v = p[k];
      if (k === "children" || v === null || v === undefined) { return; }
      if (k === "style") { Object.assign(el.style, v); return; }
      if (k === "id" && typeof v === "object") { return; }  // a pattern-matching id: Dash's only
      el.setAttribute(ATTRS[k] || k, v);
    });
    var kids = toDom(p.children);
    if (kids) { el.appendChild(kids); }
    return el;
  }

  // Replace the children of element `id` with the nodes of `desc` (none: empty it).
  function paintInto(id, desc) {
    var el = root.document.getElementById(id);
    if (!el) { return false; }
    var kids = toDom(desc);
    if (kids) { el.replaceChildren(kids); } else { el.replaceChildren(); }
    return true;
  }

  // Write the text of element `id` when it differs (no new nodes).
  function setText(id, text) {
    var el = root.document.getElementById(id);
    if (el && el.textContent !== text) { el.textContent = text; }
  }

  // A span holding `s` as text (Leaflet tooltips take a node: never a string, which would be HTML).
  function textSpan(s) {
    var el = root.document.createElement("span");
    el.textContent = s;
    return el;
  }

  // The plain text of a description (tests and diagnostics: what the screen would read).
  function textOf(desc) {
    if (desc === null || desc === undefined) { return ""; }
    if (typeof desc !== "object") { return String(desc); }
    if (Array.isArray(desc)) { return desc.map(textOf).join(""); }
    return textOf((desc.props || {}).children);
  }

  return { h: h, toDom: toDom, paintInto: paintInto, setText: setText, textSpan: textSpan, textOf: textOf };
});
