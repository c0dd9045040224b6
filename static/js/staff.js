/* Staff forms: typed courthouse search, and counties that follow the chosen state.
 *
 * Without JavaScript both still work: the courthouse box takes a courthouse's
 * address name (its slug), and the courthouse form has a "Show this state's
 * counties" button that reloads the county list from the server.
 */
(function () {
  "use strict";
  if (!window.fetch) return;
  document.documentElement.classList.add("js");

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : { results: [] }; });
  }

  /* Courthouse combobox (WAI-ARIA "list autocomplete"): arrows move, Enter picks, Escape closes. */
  function courthousePicker(box) {
    var input = box.querySelector("input.courthouse-search");
    var list = box.querySelector(".options");
    var chosen = box.querySelector(".chosen");
    var url = box.getAttribute("data-search-url");
    var results = [], active = -1, timer = null, asked = "";

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("aria-expanded", "false");

    function close() {
      list.hidden = true;
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function highlight(index) {
      var items = list.querySelectorAll("li");
      items.forEach(function (item, n) { item.setAttribute("aria-selected", n === index ? "true" : "false"); });
      active = index;
      if (index >= 0 && items[index]) {
        input.setAttribute("aria-activedescendant", items[index].id);
        items[index].scrollIntoView({ block: "nearest" });
      }
    }

    function pick(index) {
      var result = results[index];
      if (!result) return;
      input.value = result.value;
      chosen.textContent = result.label;
      close();
    }

    function show(found) {
      results = found;
      list.textContent = "";
      found.forEach(function (result, n) {
        var item = document.createElement("li");
        item.id = "courthouse-option-" + n;
        item.setAttribute("role", "option");
        item.textContent = result.label;
        item.addEventListener("mousedown", function (event) { event.preventDefault(); pick(n); });
        list.appendChild(item);
      });
      if (!found.length) return close();
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      highlight(0);
    }

    function search() {
      var query = input.value.trim();
      if (query === asked) return;
      asked = query;
      if (query.length < 2) return close();
      getJSON(url + "&q=" + encodeURIComponent(query)).then(function (data) {
        if (input.value.trim() === query) show(data.results || []);
      });
    }

    input.addEventListener("input", function () {
      chosen.textContent = "";
      clearTimeout(timer);
      timer = setTimeout(search, 150);
    });
    input.addEventListener("keydown", function (event) {
      if (list.hidden) return;
      if (event.key === "ArrowDown") { event.preventDefault(); highlight(Math.min(active + 1, results.length - 1)); }
      else if (event.key === "ArrowUp") { event.preventDefault(); highlight(Math.max(active - 1, 0)); }
      else if (event.key === "Enter" && active >= 0) { event.preventDefault(); pick(active); }
      else if (event.key === "Escape") { event.preventDefault(); close(); }
    });
    input.addEventListener("blur", close);
  }

  /* The courthouse form's county list follows its state list. */
  function countyFollowsState(form) {
    var state = form.querySelector("select.state-select");
    var county = form.querySelector("select.county-select");
    var url = form.getAttribute("data-counties-url");
    if (!state || !county) return;
    state.addEventListener("change", function () {
      var placeholder = county.options[0] ? county.options[0].textContent : "";
      county.textContent = "";
      county.appendChild(new Option(placeholder, ""));
      if (!state.value) return;
      getJSON(url + "?state=" + encodeURIComponent(state.value)).then(function (data) {
        (data.results || []).forEach(function (row) { county.appendChild(new Option(row.label, row.value)); });
      });
    });
  }

  document.querySelectorAll(".courthouse-picker").forEach(courthousePicker);
  document.querySelectorAll("form[data-counties-url]").forEach(countyFollowsState);
})();
