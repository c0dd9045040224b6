/* Filters that update the page in place, and typed search for counties and courthouses.
 *
 * Without JavaScript the form is a plain GET form with an "Apply filters" button.
 * With it, applying (the button, or Enter in any field) fetches the same page for
 * the new query string, swaps the parts marked data-swap, redraws the charts and
 * puts the new address in the address bar, so the URL can always be copied,
 * bookmarked or exported. A select, a date or a text field never applies by
 * itself: arrow keys and typing pass through values the person has not chosen
 * yet. A ticked box or a picked suggestion is one deliberate choice: it applies.
 */
(function () {
  "use strict";

  var form = document.querySelector("form[data-filter-form]");
  if (!form || !window.fetch || !window.history.pushState || !window.DOMParser) return;
  var status = document.getElementById("filter-status");
  var pending = null;

  // Each value once: a state picked again in "Add a state" is already a ticked box.
  function queryString() {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, name) {
      value = String(value).trim();
      if (value && params.getAll(name).indexOf(value) === -1) params.append(name, value);
    });
    return params.toString();
  }

  function swap(doc) {
    document.querySelectorAll("[data-swap]").forEach(function (old) {
      var fresh = doc.getElementById(old.id);
      if (!fresh) return;
      if (window.TrackerCharts) window.TrackerCharts.purgeAll(old);
      old.replaceWith(document.adoptNode(fresh));
    });
    // A value now shown as a ticked box no longer needs its "add" field.
    form.querySelectorAll("[data-adder]").forEach(function (adder) {
      var chosen = form.querySelectorAll('input[type=checkbox][name="' + adder.name + '"]');
      Array.prototype.forEach.call(chosen, function (box) {
        if (box.value === adder.value) adder.value = "";
      });
    });
  }

  function update() {
    var query = queryString();
    var url = form.getAttribute("action") + (query ? "?" + query : "");
    if (pending) pending.abort();
    pending = new AbortController();
    var results = document.getElementById("results");
    if (results) results.setAttribute("aria-busy", "true");
    fetch(url, { signal: pending.signal, credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        swap(doc);
        window.history.pushState({ filters: true }, "", url);
        document.title = doc.title;
        var fresh = document.getElementById("results");
        if (status && fresh) status.textContent = fresh.dataset.summary || "";
        if (window.TrackerCharts && fresh) return window.TrackerCharts.drawAll(fresh);
      })
      .catch(function (error) {
        if (error.name !== "AbortError") window.location.assign(url);
      });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    update();
  });

  form.addEventListener("change", function (event) {
    if (event.target.type === "checkbox") update();
  });

  // Enter applies from a select too, as it does from a text or date field.
  form.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.tagName === "SELECT") {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  // On a narrow screen the filters start folded, so that the results come first.
  var panel = form.querySelector("details[data-fold]");
  var narrow = window.matchMedia("(max-width: 60rem)").matches;
  if (panel && narrow && !form.querySelector(".field-error")) panel.open = false;

  window.addEventListener("popstate", function () {
    window.location.reload();
  });

  function suggest(input) {
    var list = document.getElementById(input.getAttribute("list"));
    var timer = null;
    input.addEventListener("input", function () {
      var term = input.value.trim();
      var picked = Array.prototype.some.call(list.options, function (option) { return option.value === term; });
      if (picked) return update();
      clearTimeout(timer);
      if (term.length < 2) return;
      timer = setTimeout(function () {
        var params = new URLSearchParams({ q: term });
        form.querySelectorAll('input[type=checkbox][name="state"]:checked').forEach(function (box) {
          params.append("state", box.value);
        });
        fetch(input.dataset.autocomplete + "?" + params, { credentials: "same-origin" })
          .then(function (response) { return response.ok ? response.json() : { results: [] }; })
          .then(function (data) {
            list.replaceChildren.apply(list, data.results.map(function (item) {
              var option = document.createElement("option");
              option.value = item.value;
              option.textContent = item.label;
              return option;
            }));
          });
      }, 200);
    });
  }

  form.querySelectorAll("input[data-autocomplete]").forEach(suggest);
})();
