/* wallmode: the command-wall mode (/wall). Rotates the map through the district's views (the district,
   then each subdistrict) and fills the card naming the view with its live figures beside the district's.
   Dash loads this file on every page: it acts only through callbacks whose inputs are /wall's own ids.
   One timer: the page's wallmode-tick (a dcc.Interval, gone with the page) re-evaluates the view, a
   function of the clock (every screen on the same view; a tab that was hidden is right at its next tick). */
(function () {
  "use strict";

  var MAP = "wall-map", VIEW = "wallmode-view", FOCUS = "wall-focus";  // a store has no DOM node: the card marks /wall
  // view: the index shown; applied: the index the map was last sent to; offset: steps taken by hand
  // sent: the card's outputs as last sent (each output is sent again only when it changed)
  var state = { view: 0, applied: 0, offset: 0, meta: null, bounds: null, moves: 0, steps: 0, sent: [] };

  function noUpdate() { return window.dash_clientside.no_update; }

  // The view the clock asks for: a new one every rotate_s seconds, plus the steps taken by hand.
  function indexNow(meta) {
    var n = meta.views.length, ms = meta.rotate_s * 1000;
    var base = ms > 0 ? Math.floor(Date.now() / ms) : 0;
    return (((base + state.offset) % n) + n) % n;
  }

  // A new page (its own rotation store): start from the district, as its map does.
  function adopt(meta) {
    markRoot();
    if (state.meta !== meta) { state = Object.assign({}, state, { meta: meta, view: 0, applied: 0, sent: [] }); }
  }

  function viewOf(meta, index) { return { index: index, id: meta.views[index].id }; }

  // Leaflet's padding around the fitted area: clear of the card (left) and the banner (top).
  function padding(index) {
    var rem = parseFloat(window.getComputedStyle(document.documentElement).fontSize) || 16;
    if (index === 0) { return { padding: [rem, rem] }; }
    return { paddingTopLeft: [Math.round(rem * 21), Math.round(rem * 4)], paddingBottomRight: [rem, rem] };
  }

  function flyTo(meta, index) {
    state.applied = index;
    var opts = Object.assign({ duration: 1.2 }, padding(index));
    window.dash_clientside.set_props(MAP, {
      viewport: { bounds: meta.views[index].bounds, transition: "flyToBounds", options: opts },
    });
  }

  function sum(obj, prefix, stages) {
    var n = 0;
    stages.forEach(function (st) { n += obj[prefix + st] || 0; });
    return n;
  }

  var numberFormats = {};
  function fmt(n, lang) {
    if (!numberFormats[lang]) { numberFormats[lang] = new Intl.NumberFormat(lang); }
    return numberFormats[lang].format(n);
  }

  // Figures (plotly) are drawn in px: zoom them like the rest of the page, whose rem follows the viewport
  // (1.25 at 1920x1080, 2.5 at 3840x2160: the desk's proportions at any size).
  function scaleFigures() {
    if (!document.getElementById(FOCUS)) { return; }
    var rem = parseFloat(window.getComputedStyle(document.documentElement).fontSize) || 16;
    var zoom = String(rem / 16), root = document.documentElement.style;
    if (root.getPropertyValue("--wm-zoom") !== zoom) { root.setProperty("--wm-zoom", zoom); }
  }
  window.addEventListener("resize", scaleFigures);

  // The root's class while /wall is shown (its rem follows the viewport: wallmode.css), checked at load
  // and every half second (the app's router may leave /wall for another page or come back).
  function markRoot() {
    var on = !!document.querySelector(".wall.mode-wall"), root = document.documentElement;
    if (root.classList.contains("cb-wallmode") !== on) { root.classList.toggle("cb-wallmode", on); scaleFigures(); }
  }
  setInterval(markRoot, 500);
  document.addEventListener("DOMContentLoaded", markRoot);

  // Bring the view up to the clock at once when a hidden tab is shown again.
  document.addEventListener("visibilitychange", function () {
    if (document.hidden || !state.meta || !document.getElementById(FOCUS)) { return; }
    var index = indexNow(state.meta);
    if (index !== state.view) { window.dash_clientside.set_props(VIEW, { data: viewOf(state.meta, index) }); }
  });

  // Test and diagnostics hook: step to the next view now; what is shown; how often the map moved.
  window.citybrain = Object.assign({}, window.citybrain, {
    wallmode: {
      step: function () {
        if (!state.meta) { return null; }
        state.offset += 1;
        state.steps += 1;
        var v = viewOf(state.meta, indexNow(state.meta));
        window.dash_clientside.set_props(VIEW, { data: v });
        return v;
      },
      view: function () {
        var m = state.meta, v = m ? m.views[state.view] : null;
        return {
          index: state.view, id: v ? v.id : null, name: v ? v.name : null, views: m ? m.views.length : 0,
          rotate_s: m ? m.rotate_s : null, applied: state.applied, bounds: state.bounds, moves: state.moves,
          steps: state.steps,
        };
      },
    },
  });

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    wallmode: {
      // Every tick (and on load): the view the clock asks for, sent only when it changes; the map's bounds
      // after its last move (Leaflet's moveend) for the test hook.
      rotate: function (_n, meta, view, bounds) {
        if (!meta || !meta.views || !meta.views.length) { return noUpdate(); }
        adopt(meta);
        scaleFigures();  // every tick too: not every change of the viewport fires "resize"
        if (bounds && JSON.stringify(bounds) !== JSON.stringify(state.bounds)) {
          state.bounds = bounds;
          state.moves += 1;
        }
        var index = indexNow(meta);
        if (view && view.index === index) { return noUpdate(); }
        return viewOf(meta, index);
      },

      // The card: the view's name, its figures beside the district's, the rotation strip; the map flies
      // to the view when it changed. The figures follow the live store at every tick.
      focus: function (view, _n, live, meta, wallMeta) {
        var outs = window.dash_clientside.callback_context.outputs_list || [];
        var steps = outs[outs.length - 1] || [];
        if (!meta) { return outs.map(noUpdate); }
        adopt(meta);
        var index = meta.views[view && view.index] ? view.index : 0;
        state.view = index;
        if (index !== state.applied) { flyTo(meta, index); }
        var v = meta.views[index], lang = wallMeta.lang, stages = wallMeta.stages;
        live = (window.citybrain.wallLive && window.citybrain.wallLive()) || live || {};  // the page's, kept live
        var open = live.open || {}, od = live.overdue_n || {}, day = live.day || {}, c = live.counters || {};
        var sub = index > 0 ? v.id : null;
        var subVals = sub ? [
          sum(open, "subdistrict:" + sub + ":", stages), od["subdistrict:" + sub] || 0,
          day["reported:subdistrict:" + sub] || 0, day["closed:subdistrict:" + sub] || 0,
        ] : [null, null, null, null];
        var distVals = [c.open || 0, c.overdue || 0, day.reported || 0, day.closed || 0];
        var values = [];
        subVals.forEach(function (s, i) {
          values.push(s === null ? "–" : fmt(s, lang));
          values.push(fmt(distVals[i], lang));
        });
        var stepClasses = steps.map(function (o) { return o.id.index === v.id ? "on" : ""; });
        var out = [sub ? "wall-focus" : "wall-focus hidden", v.name, v.short]
          .concat(values).concat([stepClasses]);
        return out.map(function (x, i) {
          var sig = JSON.stringify(x);
          if (state.sent[i] === sig) { return noUpdate(); }
          state.sent[i] = sig;
          return x;
        });
      },
    },
  });
})();
