/* Draws the Plotly figures that incidents/charts.py built.
 *
 * Each chart is a <div data-figure="ID"> next to <script type="application/json" id="ID">
 * (Django's json_script), so no inline script is needed. Map shapes come from our own
 * copy of the Census-derived us-atlas file, and Plotly's base map from our own
 * topojson folder: no request leaves this site.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var TOPOJSON_URL = script.dataset.topojsonUrl;
  var ATLAS_URL = script.dataset.atlasUrl;
  var atlas = null;

  function loadAtlas() {
    if (!atlas) {
      atlas = fetch(ATLAS_URL, { credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) throw new Error("map shapes: HTTP " + response.status);
          return response.json();
        })
        .then(function (topo) {
          return {
            counties: topojson.feature(topo, topo.objects.counties),
            states: topojson.feature(topo, topo.objects.states),
          };
        });
    }
    return atlas;
  }

  function ids(collection) {
    return collection.features.map(function (feature) { return feature.id; });
  }

  function zeros(n) {
    return new Array(n).fill(0);
  }

  // Traces marked by `meta` in charts.py get their shapes here: every county
  // (grey where none happened) and every state outline.
  function fillShapes(data, shapes) {
    data.forEach(function (trace) {
      if (trace.meta === "all-counties") {
        trace.geojson = shapes.counties;
        trace.locations = ids(shapes.counties);
        trace.z = zeros(trace.locations.length);
      } else if (trace.meta === "counties") {
        trace.geojson = shapes.counties;
      } else if (trace.meta === "state-outlines") {
        trace.geojson = shapes.states;
        trace.locations = ids(shapes.states);
        trace.z = zeros(trace.locations.length);
      }
    });
  }

  function needsShapes(figure) {
    return figure.data.some(function (trace) {
      return trace.type === "choropleth" && trace.meta !== "states";
    });
  }

  // On screen the <h2> is the title; the PNG download carries it inside the image,
  // with the source line that the layout always holds.
  function screenLayout(layout) {
    var copy = Object.assign({}, layout, { title: { text: "" }, dragmode: false });
    copy.margin = Object.assign({}, layout.margin, { t: Math.max((layout.margin.t || 0) - 40, 10) });
    return copy;
  }

  function pngButton(figure, name) {
    return {
      name: "download-png",
      title: "Download as PNG (with title and source)",
      icon: Plotly.Icons.camera,
      click: function (gd) {
        var layout = Object.assign({}, gd.layout, { title: figure.layout.title, margin: figure.layout.margin });
        Plotly.downloadImage(
          { data: gd.data, layout: layout, config: { topojsonURL: TOPOJSON_URL } },
          { format: "png", filename: name, width: Math.max(gd.offsetWidth, 800), height: gd.offsetHeight + 40 }
        );
      },
    };
  }

  function config(figure, name) {
    return {
      responsive: true,
      displaylogo: false,
      topojsonURL: TOPOJSON_URL,
      modeBarButtonsToRemove: ["toImage", "select2d", "lasso2d", "zoom2d", "pan2d", "autoScale2d"],
      modeBarButtonsToAdd: [pngButton(figure, name)],
    };
  }

  function linkBars(el) {
    el.on("plotly_click", function (event) {
      var point = event.points && event.points[0];
      if (point && point.customdata) window.location.assign(point.customdata);
    });
  }

  function mapToggle(el) {
    var group = el.parentNode.querySelector(".map-toggle");
    if (!group) return;
    var indices = { county: [], state: [] };
    el.data.forEach(function (trace, i) {
      indices[trace.meta === "states" ? "state" : "county"].push(i);
    });
    group.hidden = false;
    group.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-map-level]");
      if (!button) return;
      var level = button.dataset.mapLevel;
      var visible = el.data.map(function (trace, i) { return indices[level].indexOf(i) !== -1; });
      Plotly.restyle(el, { visible: visible });
      group.querySelectorAll("button").forEach(function (b) {
        b.setAttribute("aria-pressed", String(b === button));
      });
    });
  }

  function draw(el) {
    var source = document.getElementById(el.dataset.figure);
    if (!source || el.dataset.drawn) return Promise.resolve();
    el.dataset.drawn = "1";
    var figure = JSON.parse(source.textContent);
    var shapes = needsShapes(figure) ? loadAtlas() : Promise.resolve(null);
    return shapes
      .then(function (loaded) {
        if (loaded) fillShapes(figure.data, loaded);
        return Plotly.newPlot(el, figure.data, screenLayout(figure.layout), config(figure, el.id));
      })
      .then(function () {
        if (el.hasAttribute("data-links")) linkBars(el);
        mapToggle(el);
        el.classList.add("drawn");
      })
      .catch(function (error) {
        el.textContent = "This chart could not be drawn; its numbers are in the table below.";
        console.error(error);
      });
  }

  function drawAll(root) {
    return Promise.all(Array.prototype.map.call((root || document).querySelectorAll("[data-figure]"), draw));
  }

  function purgeAll(root) {
    (root || document).querySelectorAll("[data-figure]").forEach(function (el) {
      if (el.dataset.drawn) Plotly.purge(el);
    });
  }

  window.TrackerCharts = { drawAll: drawAll, purgeAll: purgeAll };
  drawAll(document);
})();
