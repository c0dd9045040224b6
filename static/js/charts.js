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
  var TICK_SPACE = 45; // px of axis per number, so that "1,000" lies flat with room to spare

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

  function stateOf(id) {
    return String(id).slice(0, 2);
  }

  // With a state filter, only those states' shapes are drawn and the map fits them.
  function fitted(collection, fit) {
    if (!fit.length) return collection;
    var features = collection.features.filter(function (f) { return fit.indexOf(stateOf(f.id)) !== -1; });
    return { type: "FeatureCollection", features: features };
  }

  function fill(trace, shapes) {
    trace.geojson = shapes;
    trace.locations = ids(shapes);
    trace.z = zeros(trace.locations.length);
  }

  // An inset's copy of a county trace: only the counties of its islands (`codes`), on `geo`.
  function insetCopy(trace, geo, codes) {
    var keep = trace.locations.map(function (id) { return codes.indexOf(stateOf(id)) !== -1; });
    var pick = function (values) { return values && values.filter(function (v, i) { return keep[i]; }); };
    return Object.assign({}, trace, {
      geo: geo, showscale: false, locations: pick(trace.locations), z: pick(trace.z),
      text: pick(trace.text), customdata: pick(trace.customdata),
    });
  }

  // Middle of the bounding box of a county's largest polygon.
  function centre(feature) {
    var g = feature.geometry;
    var boxes = (g.type === "Polygon" ? [g.coordinates] : g.coordinates).map(function (polygon) {
      var xs = polygon[0].map(function (p) { return p[0]; });
      var ys = polygon[0].map(function (p) { return p[1]; });
      var box = [Math.min.apply(null, xs), Math.min.apply(null, ys), Math.max.apply(null, xs), Math.max.apply(null, ys)];
      return { box: box, area: (box[2] - box[0]) * (box[3] - box[1]) };
    });
    var box = boxes.sort(function (a, b) { return b.area - a.area; })[0].box;
    return [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2];
  }

  // Most islands are too small to see, or to tap, at a phone's width: in its inset each
  // county with incidents also gets a square in the map's colours, that opens its page.
  function islandDots(trace, geo, codes, shapes) {
    var byId = {};
    shapes.counties.features.forEach(function (f) { byId[f.id] = f; });
    var rows = trace.locations.map(function (id, i) { return i; }).filter(function (i) {
      return codes.indexOf(stateOf(trace.locations[i])) !== -1 && byId[trace.locations[i]];
    });
    var at = rows.map(function (i) { return centre(byId[trace.locations[i]]); });
    var pick = function (values) { return rows.map(function (i) { return values[i]; }); };
    return {
      type: "scattergeo", geo: geo, mode: "markers", meta: "island-counties", name: trace.name,
      lon: at.map(function (p) { return p[0]; }), lat: at.map(function (p) { return p[1]; }),
      text: pick(trace.text), customdata: pick(trace.customdata), hovertemplate: trace.hovertemplate,
      marker: {
        symbol: "square", size: 11, line: { color: "#4d4d4d", width: 1 }, color: pick(trace.z),
        colorscale: trace.colorscale, cmin: 0, cmax: Math.max.apply(null, trace.z.concat([1])),
      },
    };
  }

  // The insets drawn ({geo: state codes}): all of them, or those of the states filtered.
  function shownInsets(insets, fit) {
    var shown = {};
    Object.keys(insets).forEach(function (geo) {
      var named = insets[geo].some(function (code) { return fit.indexOf(code) !== -1; });
      if (!fit.length || named) shown[geo] = insets[geo];
    });
    return shown;
  }

  // Traces marked by `meta` in charts.py get their shapes here: every county
  // (grey where none happened) and every state outline; and each inset's copies.
  function fillShapes(figure, shapes) {
    var meta = figure.layout.meta || {};
    var fit = meta.fit || [];
    var insets = shownInsets(meta.insets || {}, fit);
    var islands = [].concat.apply([], Object.values(meta.insets || {}));
    var mainland = fit.filter(function (code) { return islands.indexOf(code) === -1; });
    var copies = [];
    var dots = [];
    figure.data.forEach(function (trace) {
      if (trace.meta === "all-counties") {
        Object.keys(insets).forEach(function (geo) {
          var grey = Object.assign({}, trace, { geo: geo });
          fill(grey, fitted(shapes.counties, insets[geo]));
          copies.push(grey);
        });
        fill(trace, fitted(shapes.counties, mainland));
      } else if (trace.meta === "counties") {
        trace.geojson = shapes.counties;
        Object.keys(insets).forEach(function (geo) { copies.push(insetCopy(trace, geo, insets[geo])); });
        Object.keys(insets).forEach(function (geo) { dots.push(islandDots(trace, geo, insets[geo], shapes)); });
      } else if (trace.meta === "state-outlines") {
        fill(trace, fitted(shapes.states, mainland));
      }
    });
    figure.layout.annotations = figure.layout.annotations.filter(function (a) {
      var name = a.name || "";
      return name.indexOf("inset-label-") !== 0 || name.slice(12) in insets;
    });
    figure.data.splice.apply(figure.data, [1, 0].concat(copies));
    figure.data.push.apply(figure.data, dots.filter(function (d) { return d.lon.length; }));
    if (mainland.length) figure.layout.geo.fitbounds = "locations";
    if (!Object.keys(insets).length) figure.layout.geo.domain.y = [0, 1];
    if (fit.length && !mainland.length) islandsOnly(figure, Object.keys(insets));
  }

  // Filtered to islands alone, their insets take the whole map and the mainland goes.
  function islandsOnly(figure, geos) {
    var layout = figure.layout;
    figure.data.forEach(function (trace) {
      var mainMap = !trace.geo || trace.geo === "geo";
      if (mainMap && (trace.meta === "all-counties" || trace.meta === "state-outlines")) trace.locations = [];
    });
    var hidden = { visible: false, showland: false, showframe: false, domain: { x: [0, 0.01], y: [0.99, 1] } };
    layout.geo = Object.assign({}, layout.geo, hidden);
    geos.forEach(function (geo, i) {
      var x = [i / geos.length + 0.02, (i + 1) / geos.length - 0.02];
      layout[geo] = Object.assign({}, layout[geo], { domain: { x: x, y: [layout[geo].domain.y[0], 1] } });
      layout.annotations.forEach(function (a) { if (a.name === "inset-label-" + geo) a.x = (x[0] + x[1]) / 2; });
    });
  }

  function needsShapes(figure) {
    return figure.data.some(function (trace) {
      return trace.type === "choropleth" && trace.meta !== "states";
    });
  }

  function sourceNote(layout) {
    return (layout.annotations || []).filter(function (a) { return a.name === "source"; })[0];
  }

  // The chart's size for a card `width` px wide (0 while hidden: Plotly's default until
  // it shows). A map keeps its shape: on a narrow screen a fixed height would leave blank bands.
  function sized(layout, width) {
    var size = width ? { width: width } : {};
    if (layout.geo && width) size.height = Math.min(layout.height, Math.round(width * 0.75) + 80);
    return size;
  }

  // On screen the <h2> is the title and a paragraph under the chart the source line,
  // both HTML that wraps at any width.
  function screenLayout(layout, width) {
    var copy = Object.assign({}, layout, { title: { text: "" }, dragmode: false }, sized(layout, width));
    copy.margin = Object.assign({}, layout.margin, { t: Math.max((layout.margin.t || 0) - 40, 10) });
    return copy;
  }

  // A horizontal bar chart's value axis gets as many ticks as fit its width flat: else
  // Plotly turns the numbers on their side when a phone leaves the bars little room.
  function fitTicks(el) {
    if (!el.data[0] || el.data[0].orientation !== "h") return null;
    var n = Math.max(2, Math.floor(el._fullLayout._size.w / TICK_SPACE));
    return el.layout.xaxis.nticks === n ? null : Plotly.relayout(el, { "xaxis.nticks": n });
  }

  // The chart follows its card's width whatever changes it: a rotation, a window resize,
  // a scrollbar appearing, a hidden card shown. Plotly's own `responsive` option listens
  // only to the window, 100 ms late, and so could leave a chart wider than its card.
  // Each width is drawn anew from the figure's own layout: a relayout, or a react, keeps
  // margins that the last width pushed (a legend wrapped on a narrow card stayed low on
  // a wide one, over the event markers).
  function followWidth(el, figure) {
    if (!window.ResizeObserver) return;
    var pristine = JSON.stringify(figure.layout);
    var width = el.clientWidth;
    el.widthObserver = new ResizeObserver(function () {
      if (!el.clientWidth || el.clientWidth === width) return;
      width = el.clientWidth;
      plot(el, el.data, screenLayout(JSON.parse(pristine), width), figure);
    });
    el.widthObserver.observe(el);
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
  // Not `responsive`: followWidth sizes the chart. A figure in another language than
  // English carries its month names and number separators (charts.py, plotly_locale).
  function config(figure) {
    return localised({ displayModeBar: false, topojsonURL: TOPOJSON_URL }, figure);
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

  // A new plot (its click handler too, as Plotly drops it), with its ticks fitted.
  function plot(el, data, layout, figure) {
    return Plotly.newPlot(el, data, layout, config(figure)).then(function () {
      if (el.hasAttribute("data-links")) linkBars(el);
      return fitTicks(el);
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
        followWidth(el, figure); // before Plotly writes into the layout
        return plot(el, figure.data, screenLayout(figure.layout, el.clientWidth), figure);
      })
      .then(function () {
        mapToggle(el);
        pngButton(el, figure);
        el.classList.add("drawn");
      })
      .catch(function (error) {
        el.textContent = gettext("This chart could not be drawn; its numbers are in the table below.");
        console.error(error);
      });
  }

  // The <iframe> snippets under the charts name this site's own address, which the
  // cached page cannot know: the server writes the path, the browser adds the origin.
  function embedSnippets(root) {
    (root || document).querySelectorAll("textarea[data-embed]").forEach(function (area) {
      if (area.dataset.ready) return;
      area.dataset.ready = "1";
      area.value = area.value.replace('src="/', 'src="' + window.location.origin + "/");
      area.addEventListener("focus", function () { area.select(); });
    });
  }

  function drawAll(root) {
    embedSnippets(root);
    return Promise.all(Array.prototype.map.call((root || document).querySelectorAll("[data-figure]"), draw));
  }

  function purgeAll(root) {
    (root || document).querySelectorAll("[data-figure]").forEach(function (el) {
      if (el.widthObserver) el.widthObserver.disconnect();
      if (el.dataset.drawn) Plotly.purge(el);
    });
  }

  window.TrackerCharts = { drawAll: drawAll, purgeAll: purgeAll };
  drawAll(document);
})();
