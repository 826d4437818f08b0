// The benchmarks' page observer (bench/harness/page.py installs it in every page before the page's
// own scripts). It records, with the page's wall clock (Date.now(), the same system clock as the
// benchmark's time.time()), every change of the probe cell's fill, of the cameras KPI, and when the
// screen is first complete ("full screen": the 478 cells painted with a fill, the KPIs filled, and,
// when the page has a device layer (window.citybrain.devices), its devices loaded); also long tasks
// and the baseline's callback responses. page.py fills in the probe cell's id.
(function () {
  if (window.__bench) { return; }
  var B = window.__bench = { fills: [], kpi: [], full: null, fullPerf: null, paints: [], longtasks: [] };
  var lastFill = null, lastKpi = null, scheduled = false;
  function devicesReady() {
    var d = window.citybrain && window.citybrain.devices;
    if (!d) { return true; }
    if (typeof d.ready === "function") { return !!d.ready(); }
    if (typeof d.ready === "boolean") { return d.ready; }
    if (typeof d.count === "function") { return d.count() > 0; }
    if (typeof d.count === "number") { return d.count > 0; }
    return true;
  }
  function check() {
    scheduled = false;
    var t = Date.now();
    var el = document.querySelector("path.cell-%PROBE%");
    if (el) {
      var f = el.getAttribute("fill");
      if (f !== lastFill) {
        lastFill = f;
        B.fills.push([t, f]);
        requestAnimationFrame(function () {
          setTimeout(function () { B.paints.push([t, Date.now()]); }, 0);
        });
      }
    }
    var k = document.getElementById("kpi-cameras-online");
    var kt = k ? k.textContent : null;
    if (kt !== lastKpi) { lastKpi = kt; B.kpi.push([t, kt]); }
    if (B.full === null) {
      var cells = document.querySelectorAll("path.cell[fill]").length >= 478;
      var kpi = document.getElementById("kpi-open");
      kpi = !!(kpi && kpi.textContent && kpi.textContent !== "–");
      var dev = devicesReady();
      if (cells && B.cellsPerf === undefined) { B.cellsPerf = performance.now(); }
      if (kpi && B.kpiPerf === undefined) { B.kpiPerf = performance.now(); }
      if (cells && kpi && dev) { B.full = t; B.fullPerf = performance.now(); }
    }
  }
  function start() {
    new MutationObserver(check).observe(document.documentElement, {
      subtree: true, childList: true, attributes: true, characterData: true,
      attributeFilter: ["fill", "class"],
    });
    check();
    setInterval(check, 100);  // devices drawn on a canvas change no DOM: look again now and then
  }
  try {
    new PerformanceObserver(function (l) {
      l.getEntries().forEach(function (e) {
        if (B.longtasks.length < 5000) { B.longtasks.push([e.startTime, e.duration]); }
      });
    }).observe({ type: "longtask", buffered: true });
  } catch (e) { /* no longtask support */ }
  B.responses = [];  // the baseline's callback responses: [end (epoch ms), bytes on the wire, duration ms]
  try {
    performance.setResourceTimingBufferSize(100000);
    new PerformanceObserver(function (l) {
      l.getEntries().forEach(function (e) {
        if (e.name.indexOf("_dash-update-component") >= 0 && B.responses.length < 20000) {
          B.responses.push([performance.timeOrigin + e.responseEnd, e.transferSize, e.duration]);
        }
      });
    }).observe({ type: "resource", buffered: true });
  } catch (e) { /* no resource timing */ }
  if (document.documentElement) { start(); } else { document.addEventListener("DOMContentLoaded", start); }
})();
