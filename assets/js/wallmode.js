/* citybrain wallmode: the command-wall mode (/wall). Rotates the map through the district's views (the
   district, then each subdistrict) and fills the card naming the view with its live figures beside the
   district's. The view is a function of the clock (every screen on the same view; a tab that was hidden
   is right at its next tick), evaluated by the page's one timer (wallmode-tick, a dcc.Interval that goes
   with the page); every callback here takes its inputs from /wall's own ids, so none runs on /.
   Test hooks: window.citybrain.wallmode.step() (the next view now), .view(). */
(function (name, factory) {
  "use strict";
  var g = typeof window !== "undefined" ? window : globalThis;
  var cb = (g.citybrain = g.citybrain || {});
  var node = typeof module === "object" && module && module.exports && typeof require === "function";
  var m = factory(node ? function (d) { return require("./" + d + ".js"); } : function (d) { return cb[d]; }, cb, g);
  if (node) { module.exports = m; } else { cb[name] = m; }
})("wallmode", function (need, cb, root) {
  "use strict";

  // view: the index shown; applied: the index the map was last sent to; offset: steps taken by hand;
  // sent: the card's outputs as last sent (each is sent again only when it changed)
  var state = { view: 0, applied: 0, offset: 0, meta: null, bounds: null, moves: 0, steps: 0, sent: [] };

  function noUpdate() { return root.dash_clientside.no_update; }

  // The view the clock asks for: a new one every rotate_s seconds, plus the steps taken by hand.
  function indexAt(meta, now, offset) {
    var n = meta.views.length, ms = meta.rotate_s * 1000;
    var base = ms > 0 ? Math.floor(now / ms) : 0;
    return (((base + offset) % n) + n) % n;
  }
  function indexNow(meta) { return indexAt(meta, Date.now(), state.offset); }

  // A new page (its own rotation store): start from the district, as its map does.
  function adopt(meta) {
    markRoot();
    if (state.meta !== meta) { state = Object.assign({}, state, { meta: meta, view: 0, applied: 0, sent: [] }); }
  }

  function viewOf(meta, index) { return { index: index, id: meta.views[index].id }; }

  function rem() { return parseFloat(root.getComputedStyle(root.document.documentElement).fontSize) || 16; }

  // Leaflet's padding around the fitted area: clear of the card (left) and the banner (top).
  function padding(index) {
    var r = rem();
    if (index === 0) { return { padding: [r, r] }; }
    return { paddingTopLeft: [Math.round(r * 21), Math.round(r * 4)], paddingBottomRight: [r, r] };
  }

  // The district (index 0) as the map fits it, clear of its legends (fit.js); a subdistrict by its bounds,
  // the fitting held meanwhile.
  function flyTo(meta, index) {
    state.applied = index;
    var fit = need("fit"), home = index === 0 && fit ? fit.view(meta.ids.map) : null;
    if (fit) { fit.hold(meta.ids.map, index !== 0); }
    var vp = home
      ? { center: [home.center.lat, home.center.lng], zoom: home.zoom, transition: "flyTo", options: { duration: 1.2 } }
      : { bounds: meta.views[index].bounds, transition: "flyToBounds", options: Object.assign({ duration: 1.2 }, padding(index)) };
    root.dash_clientside.set_props(meta.ids.map, { viewport: vp });
  }

  // The card's figures: [subdistrict, district] for open, overdue, reported and closed (sub null: the district's view).
  function figures(st, sub, stages) {
    var S = need("state"), day = S.today(st), k = st.kpi || {};
    var open = (((st.open || {}).subdistrict || {})[sub]) || {}, by = (day.by.subdistrict || {})[sub] || {};
    var subVals = sub ? [stages.reduce(function (n, s) { return n + (open[s] || 0); }, 0),
      ((st.overdue || {}).subdistrict || {})[sub] || 0, by.reported || 0, by.closed || 0] : [null, null, null, null];
    var distVals = [k.open || 0, k.overdue || 0, day.n.reported || 0, day.n.closed || 0];
    return subVals.map(function (s, i) { return [s, distVals[i]]; });
  }

  // Figures (plotly) are drawn in px: zoom them like the rest of the page, whose rem follows the viewport.
  function scaleFigures() {
    if (!state.meta || !root.document.getElementById(state.meta.ids.focus)) { return; }
    var zoom = String(rem() / 16), mapZoom = String(rem() / 20), style = root.document.documentElement.style;
    if (style.getPropertyValue("--wm-zoom") !== zoom) { style.setProperty("--wm-zoom", zoom); }
    if (style.getPropertyValue("--wm-map") !== mapZoom) { style.setProperty("--wm-map", mapZoom); }
  }

  // The root's class while /wall is shown (its rem follows the viewport: wallmode.css); checked at load
  // and every half second (the app's router may leave /wall for another page or come back).
  function markRoot() {
    var on = !!root.document.querySelector(".wall.mode-wall"), html = root.document.documentElement;
    if (html.classList.contains("cb-wallmode") !== on) { html.classList.toggle("cb-wallmode", on); scaleFigures(); }
  }

  // Every tick (and on load): the view the clock asks for, sent only when it changes; the map's bounds
  // after its last move (Leaflet's moveend) for the test hook.
  function rotate(_n, meta, view, bounds) {
    if (!meta || !meta.views || !meta.views.length) { return noUpdate(); }
    adopt(meta);
    scaleFigures();  // every tick too: not every change of the viewport fires "resize"
    if (bounds && JSON.stringify(bounds) !== JSON.stringify(state.bounds)) { state.bounds = bounds; state.moves += 1; }
    var index = indexNow(meta);
    return view && view.index === index ? noUpdate() : viewOf(meta, index);
  }

  // The card: the view's name, its figures beside the district's, the rotation strip; the map flies to
  // the view when it changed. The figures follow the page's live state at every tick.
  function focus(view, _n, live, meta, wallMeta) {
    var outs = root.dash_clientside.callback_context.outputs_list || [];
    var steps = outs[outs.length - 1] || [];
    if (!meta) { return outs.map(noUpdate); }
    adopt(meta);
    var index = meta.views[view && view.index] ? view.index : 0;
    state.view = index;
    if (index !== state.applied) { flyTo(meta, index); }
    var v = meta.views[index], lang = wallMeta.lang, F = need("format"), sub = index > 0 ? v.id : null;
    var st = (cb.wallLive && cb.wallLive()) || need("state").fromSnapshot(live || {});
    var values = [];
    figures(st, sub, wallMeta.stages).forEach(function (pair) {
      values.push(pair[0] === null ? "–" : F.num(pair[0], lang));
      values.push(F.num(pair[1], lang));
    });
    var stepClasses = steps.map(function (o) { return o.id.index === v.id ? "on" : ""; });
    var out = [meta.ids.focus + (sub ? "" : " hidden"), v.name, v.short].concat(values).concat([stepClasses]);
    return out.map(function (x, i) {  // the card's class is its id (plus "hidden")
      var sig = JSON.stringify(x);
      if (state.sent[i] === sig) { return noUpdate(); }
      state.sent[i] = sig;
      return x;
    });
  }

  function step() {
    if (!state.meta) { return null; }
    state.offset += 1;
    state.steps += 1;
    var v = viewOf(state.meta, indexNow(state.meta));
    root.dash_clientside.set_props(state.meta.ids.view, { data: v });
    return v;
  }

  function shown() {
    var m = state.meta, v = m ? m.views[state.view] : null;
    return {
      index: state.view, id: v ? v.id : null, name: v ? v.name : null, views: m ? m.views.length : 0,
      rotate_s: m ? m.rotate_s : null, applied: state.applied, bounds: state.bounds, moves: state.moves, steps: state.steps,
    };
  }

  if (root.document) {
    root.addEventListener("resize", scaleFigures);
    root.setInterval(markRoot, 500);
    root.document.addEventListener("DOMContentLoaded", markRoot);
    // Bring the view up to the clock at once when a hidden tab is shown again.
    root.document.addEventListener("visibilitychange", function () {
      if (root.document.hidden || !state.meta || !root.document.getElementById(state.meta.ids.focus)) { return; }
      var index = indexNow(state.meta);
      if (index !== state.view) { root.dash_clientside.set_props(state.meta.ids.view, { data: viewOf(state.meta, index) }); }
    });
    var dc = (root.dash_clientside = root.dash_clientside || {});
    dc.wallmode = Object.assign(dc.wallmode || {}, { rotate: rotate, focus: focus });
  }

  return { step: step, view: shown, indexAt: indexAt, figures: figures };
});
