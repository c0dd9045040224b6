# ruff: noqa: F401, F811 (fixtures imported from test_browser_readable are parameters here)
"""The Spanish site in Debian's Chromium at a laptop's and a phone's size: Spanish labels are
longer, and every chart label must still be readable; months and numbers in Spanish; the
switcher keeps the page and its filters; no serious accessibility fault, with lang="es".

TRACKER_SCREENSHOT_DIR=DIR saves the Spanish dashboard at both sizes there.
"""

import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from .test_browser_readable import (
    SIZES,
    axe_module,
    browser,
    demo_data,
    first_result_top,
    place_pages,
    settle,
    sideways,
    unreadable_labels,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("size", SIZES)
def test_every_spanish_chart_label_is_inside_its_chart_and_clear_of_the_others(
    demo_data, browser, size, tmp_path
):
    page = browser(*SIZES[size])
    for path in ("/es/", *("/es" + p for p in place_pages()[:2])):
        page.goto(path)
        settle(page)
        assert page.locator("html").get_attribute("lang") == "es"
        assert page.locator(".js-plotly-plot").count() >= (8 if path == "/es/" else 4), path
        assert unreadable_labels(page) == [], path
        assert sideways(page) <= 0, path
        if size == "phone":
            assert first_result_top(page) < 900, path
    assert page.errors == []
    page.goto("/es/")
    settle(page)
    folder = Path(os.environ.get("TRACKER_SCREENSHOT_DIR") or tmp_path)
    width, height = SIZES[size]
    for n in range(3):  # the top of the page, where the figures and the first charts are
        clip = {"x": 0, "y": n * 1.5 * height, "width": width, "height": 1.5 * height}
        page.screenshot(path=str(folder / f"dashboard-es-{size}-{n + 1}.png"), full_page=True, clip=clip)


def test_spanish_charts_say_months_and_numbers_in_spanish(demo_data, browser):
    page = browser()
    page.goto("/es/")
    settle(page)
    ticks = svg_texts(page, "#chart-month .xtick text")
    titles = svg_texts(page, "#chart-month .g-ytitle text")
    assert titles == ["Incidentes"]
    assert ticks and not any(name in " ".join(ticks) for name in ("Jan", "Apr", "May", "Aug", "Dec"))
    # Hover text over a bar: the month in Spanish ("nov 2026"), the outcome in Spanish.
    box = page.evaluate(
        """() => {
          const bars = [...document.querySelectorAll('#chart-month .point path')];
          const tallest = bars.sort((a, b) => b.getBoundingClientRect().height - a.getBoundingClientRect().height)[0];
          tallest.scrollIntoView({ block: "center" });
          const r = tallest.getBoundingClientRect();
          return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
        }"""
    )
    page.mouse.move(box["x"], box["y"])
    page.locator("#chart-month .hoverlayer .hovertext").first.wait_for()
    hover = svg_texts(page, "#chart-month .hoverlayer .hovertext")[0]
    month = hover.split(":")[0].split(" (")[0]
    assert month.split()[0] in (
        "ene",
        "feb",
        "mar",
        "abr",
        "may",
        "jun",
        "jul",
        "ago",
        "sep",
        "oct",
        "nov",
        "dic",
    )
    headline = page.locator("dl.figures dd").first.inner_text()
    assert "." in headline and "," not in headline  # 1.502
    assert page.errors == []


def svg_texts(page, selector):
    return page.locator(selector).evaluate_all("(nodes) => nodes.map((n) => n.textContent)")


def test_the_switcher_keeps_the_page_and_its_filters(demo_data, browser):
    page = browser()
    page.goto("/incidents/?state=NY&outcome=arrested")
    page.get_by_role("link", name="Español").click()
    page.wait_for_url("**/es/incidents/?*")
    assert parse_qs(urlsplit(page.url).query) == {"state": ["NY"], "outcome": ["arrested"]}
    assert page.locator("html").get_attribute("lang") == "es"
    # The choice is remembered: the dashboard at / now opens in Spanish.
    page.goto("/")
    assert urlsplit(page.url).path == "/es/"
    page.get_by_role("link", name="English").click()
    page.wait_for_url("**/")
    assert page.locator("html").get_attribute("lang") == "en"
    page.goto("/")
    assert urlsplit(page.url).path == "/"


@pytest.mark.parametrize("size", SIZES)
def test_no_spanish_page_has_a_serious_accessibility_fault(demo_data, browser, size):
    axe = axe_module.Axe()
    page = browser(*SIZES[size])
    faults = {}
    for path in (
        "/es/",
        "/es/incidents/",
        "/es/courthouses/",
        "/es/data/",
        *("/es" + p for p in place_pages()),
    ):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        assert page.locator("html").get_attribute("lang") == "es", path
        if page.locator(".chart[data-figure]").count():
            settle(page)
        results = axe.run(page)
        serious = [
            (v["id"], [n["target"] for n in v["nodes"]][:3])
            for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        if serious:
            faults[path] = serious
    assert faults == {}


def test_on_a_phone_each_label_of_a_listed_incident_stays_clear_of_the_next(demo_data, browser):
    """Spanish labels wrap ("Papel de la persona"): each pushes the next row of its card down."""
    page = browser(*SIZES["phone"])
    page.goto("/es/incidents/")
    overlaps = page.locator("table.incidents tbody tr").first.evaluate(
        """(row) => {
          const cells = [...row.querySelectorAll("td")];
          const found = [];
          cells.slice(0, -1).forEach((cell, i) => {
            const label = getComputedStyle(cell, "::before");
            const bottom = cell.getBoundingClientRect().top + parseFloat(label.height);
            if (bottom > cells[i + 1].getBoundingClientRect().top + 1) found.push(cell.dataset.label);
          });
          return found;
        }"""
    )
    assert overlaps == []
