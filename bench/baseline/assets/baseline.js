/* BASELINE (benchmarks only, not the product): style functions of the naive wall's two GeoJSON layers.
   Cells are SVG paths with the product's classes (cell cell-<id>); cameras are canvas circle markers. */
window.baseline = {
  cellStyle: function (feature) {
    return {
      fillColor: feature.properties.color, fillOpacity: 0.82, color: "#0b1d26", weight: 0.6, opacity: 0.9,
      className: "cell cell-" + feature.properties.id,
    };
  },
  cameraPoint: function (feature, latlng) {
    window.baseline._canvas = window.baseline._canvas || L.canvas();
    return L.circleMarker(latlng, {
      renderer: window.baseline._canvas, radius: 2.5, stroke: false, fillOpacity: 0.9,
      fillColor: feature.properties.color,
    });
  },
};
