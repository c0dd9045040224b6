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
  // The page's language's strings (/es/jsi18n/); English as written without it.
  var gettext = window.gettext || function (text) { return text; };
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

  var INSET = ["72", "78"]; // Puerto Rico and the U.S. Virgin Islands: drawn in the inset geo2

  function inInset(id) {
    return INSET.indexOf(String(id).slice(0, 2)) !== -1;
  }

  // With a state filter, only those states' shapes are drawn and the map fits them.
  function fitted(collection, fit) {
    if (!fit.length) return collection;
    var features = collection.features.filter(function (f) { return fit.indexOf(String(f.id).slice(0, 2)) !== -1; });
    return { type: "FeatureCollection", features: features };
  }

  function fill(trace, shapes) {
    trace.geojson = shapes;
    trace.locations = ids(shapes);
    trace.z = zeros(trace.locations.length);
  }

  // The inset's copy of a county trace: only its island counties, on geo2.
  function insetCopy(trace) {
    var keep = trace.locations.map(inInset);
    var pick = function (values) { return values && values.filter(function (v, i) { return keep[i]; }); };
    return Object.assign({}, trace, {
      geo: "geo2", showscale: false, locations: pick(trace.locations), z: pick(trace.z),
      text: pick(trace.text), customdata: pick(trace.customdata),
    });
  }

  // Traces marked by `meta` in charts.py get their shapes here: every county
  // (grey where none happened) and every state outline; and the inset's copies.
  function fillShapes(figure, shapes) {
    var fit = (figure.layout.meta && figure.layout.meta.fit) || [];
    var mainland = fit.filter(function (code) { return !inInset(code); });
    var insets = [];
    figure.data.forEach(function (trace) {
      if (trace.meta === "all-counties") {
        var grey = Object.assign({}, trace, { geo: "geo2" });
        fill(grey, fitted(shapes.counties, INSET));
        insets.push(grey);
        fill(trace, fitted(shapes.counties, mainland));
      } else if (trace.meta === "counties") {
        trace.geojson = shapes.counties;
        insets.push(insetCopy(trace));
      } else if (trace.meta === "state-outlines") {
        fill(trace, fitted(shapes.states, mainland));
      }
    });
    if (fit.length === mainland.length && fit.length) {
      insets = [];
      figure.layout.annotations = figure.layout.annotations.filter(function (a) { return a.name !== "inset-label"; });
    }
    figure.data.splice.apply(figure.data, [1, 0].concat(insets));
    if (mainland.length) figure.layout.geo.fitbounds = "locations";
  }

  function needsShapes(figure) {
    return figure.data.some(function (trace) {
      return trace.type === "choropleth" && trace.meta !== "states";
    });
  }

  function sourceNote(layout) {
    return (layout.annotations || []).filter(function (a) { return a.name === "source"; })[0];
  }

  // On screen the <h2> is the title and a paragraph under the chart the source line,
  // both HTML that wraps at any width.
  function screenLayout(layout, width) {
    var copy = Object.assign({}, layout, { title: { text: "" }, dragmode: false });
    copy.margin = Object.assign({}, layout.margin, { t: Math.max((layout.margin.t || 0) - 40, 10) });
    // A map keeps its shape: on a narrow screen a fixed height would leave blank bands.
    if (layout.geo) copy.height = Math.min(layout.height, Math.round(width * 0.75) + 80);
    return copy;
  }

  function wrap(text, width) {
    var lines = [""];
    text.split(" ").forEach(function (word) {
      var last = lines.length - 1;
      if (lines[last] && (lines[last] + " " + word).length > width) lines.push(word);
      else lines[last] = lines[last] ? lines[last] + " " + word : word;
    });
    return lines;
  }

  function plain(text) {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  // Under the chart in the PNG: the events its numbered markers stand for, then the source.
  function noteLines(gd, source, width) {
    var card = gd.closest(".chart-card");
    var events = card ? card.querySelectorAll(".chart-events li") : [];
    var texts = Array.prototype.map.call(events, function (li) {
      return plain(li.textContent.replace(/\s+/g, " ").trim());
    });
    return texts.concat([source]).reduce(function (lines, text) {
      return lines.concat(wrap(text, Math.floor((width - 30) / 6.4)));
    }, []);
  }

  // The PNG holds the title and the notes, set below the space the axes took,
  // from the left edge of the image.
  function pngLayout(gd, figure, width) {
    var size = gd._fullLayout._size;
    var note = sourceNote(figure.layout);
    var lines = noteLines(gd, note.text, width);
    var source = Object.assign({}, note, {
      visible: true, text: lines.join("<br>"), yshift: -size.b, xshift: 10 - size.l,
    });
    var others = (gd.layout.annotations || []).filter(function (a) { return a.name !== "source"; });
    var layout = Object.assign({}, gd.layout, {
      title: figure.layout.title,
      annotations: others.concat([source]),
      margin: Object.assign({}, gd.layout.margin, { t: figure.layout.margin.t, b: size.b + 15 * lines.length + 12 }),
    });
    return { layout: layout, extra: 40 + 15 * lines.length };
  }

  function downloadPng(gd, figure, name) {
    var width = Math.max(gd.offsetWidth, 800);
    var png = pngLayout(gd, figure, width);
    return Plotly.downloadImage(
      { data: gd.data, layout: png.layout, config: localised({ topojsonURL: TOPOJSON_URL }, figure) },
      { format: "png", filename: name, width: width, height: gd.offsetHeight + png.extra }
    );
  }

  // No toolbar: it covered the top bars on a phone. The page's own button downloads.
  // A figure in another language than English carries its month names and number
  // separators (charts.py, plotly_locale).
  function config(figure) {
    return localised({ responsive: true, displayModeBar: false, topojsonURL: TOPOJSON_URL }, figure);
  }

  function localised(settings, figure) {
    if (figure.locale) {
      settings.locale = figure.locale.name;
      settings.locales = {};
      settings.locales[figure.locale.name] = { dictionary: {}, format: figure.locale.format };
    }
    return settings;
  }

  function pngButton(el, figure) {
    var button = el.parentNode.querySelector("button[data-png]");
    if (!button) return;
    button.hidden = false;
    button.addEventListener("click", function () { downloadPng(el, figure, el.id); });
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
        if (loaded) fillShapes(figure, loaded);
        return Plotly.newPlot(el, figure.data, screenLayout(figure.layout, el.offsetWidth), config(figure));
      })
      .then(function () {
        if (el.hasAttribute("data-links")) linkBars(el);
        mapToggle(el);
        pngButton(el, figure);
        el.classList.add("drawn");
      })
      .catch(function (error) {
        el.textContent = gettext("This chart could not be drawn; its numbers are in the table below.");
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
