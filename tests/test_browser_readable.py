"""What a reader sees, in Debian's Chromium at a laptop's and a phone's size: every label of
every chart readable, filters usable from the keyboard, pages that fit a phone, a map that
opens county pages, and no serious accessibility fault (axe-core, shipped with its package).
"""

import os
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connections

from .browser import launch
from .factories import CourthouseFactory, IncidentFactory

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
playwright = pytest.importorskip("playwright.sync_api")
axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")
expect = playwright.expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"laptop": (1366, 900), "phone": (390, 844)}
ROTATED = ".xtick text[transform*=rotate], .ytick text[transform*=rotate]"  # numbers on their side
PUBLIC_PAGES = ("/", "/incidents/", "/courthouses/", "/data/", "/login/")
# Every piece of text Plotly draws: ticks, axis titles, legend, annotations, event
# numbers, the colour bar. Their boxes come from the rendered SVG.
LABELS = (
    ".xtick text, .ytick text, .g-xtitle text, .g-ytitle text, .legendtext, "
    ".annotation-text-g text, .textpoint text, .cbaxis text, .cbtitle text"
)
LABEL_BOXES = """([root, selector]) => {
  const frame = root.getBoundingClientRect();
  return [...root.querySelectorAll(selector)]
    .filter((t) => t.textContent.trim())
    .map((t) => {
      const r = t.getBoundingClientRect();
      return { text: t.textContent, l: r.left - frame.left, t: r.top - frame.top,
               r: r.right - frame.left, b: r.bottom - frame.top, w: frame.width, h: frame.height };
    })
    .filter((r) => r.r - r.l > 0);
}"""


@pytest.fixture
def browser(live_server):
    """browser(width, height) -> a page on the live server that records every request."""
    cache.clear()
    with playwright.sync_playwright() as p:
        chromium = launch(p)

        def open_(width=1366, height=900):
            page = chromium.new_context(
                base_url=live_server.url, viewport={"width": width, "height": height}
            ).new_page()
            page.errors, page.requests = [], []
            page.on("pageerror", lambda e: page.errors.append(str(e)))
            page.on("request", lambda r: page.requests.append(r.url))
            return page

        yield open_
        connections.close_all()
        chromium.close()


@pytest.fixture
def demo_data():
    call_command("load_demo_data", verbosity=0)


@pytest.fixture
def two_states():
    brooklyn = CourthouseFactory(name="Brooklyn Criminal Court")
    el_paso = CourthouseFactory(name="El Paso County Courthouse", texas=True)
    IncidentFactory.create_batch(3, courthouse=brooklyn)
    IncidentFactory.create_batch(2, courthouse=el_paso, attempted=True)


def settle(page):
    page.wait_for_load_state("networkidle")
    expect(page.locator(".chart[data-figure]:not(.drawn)")).to_have_count(0)


def place_pages():
    """A county page, a courthouse page and an incident page, of the latest incident."""
    from incidents.models import Incident

    latest = Incident.objects.values_list("county_id", "courthouse__slug", "pk").order_by("-date").first()
    return (f"/counties/{latest[0]}/", f"/courthouses/{latest[1]}/", f"/incidents/{latest[2]}/")


def overlaps(a, b):
    return min(a["r"], b["r"]) - max(a["l"], b["l"]) > 0.5 and min(a["b"], b["b"]) - max(a["t"], b["t"]) > 0.5


def unreadable_labels(page):
    """(chart, label, problem) for every label outside its chart's box or on another label."""
    found = []
    for chart in page.locator(".js-plotly-plot").all():
        name = chart.get_attribute("id")
        boxes = page.evaluate(LABEL_BOXES, [chart.element_handle(), LABELS])
        assert boxes, name
        for i, box in enumerate(boxes):
            if box["l"] < -0.5 or box["t"] < -0.5 or box["r"] > box["w"] + 0.5 or box["b"] > box["h"] + 0.5:
                found.append((name, box["text"], "outside the chart"))
            found += [
                (name, box["text"], f"on {other['text']}") for other in boxes[i + 1 :] if overlaps(box, other)
            ]
    return found


# For every chart, how far its drawing (every Plotly SVG layer) misses its card's inner
# right edge: positive when the chart is cut off at the right, negative when it leaves
# the card half empty. Measured at the next frame, before any timer could run.
MISFITS = """() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => done(
  [...document.querySelectorAll('.js-plotly-plot')].map((plot) => {
    const card = plot.closest('.chart-card');
    const style = getComputedStyle(card);
    const inner = card.getBoundingClientRect().right - parseFloat(style.paddingRight)
      - parseFloat(style.borderRightWidth);
    const right = Math.max(...[...plot.querySelectorAll('svg.main-svg')]
      .map((svg) => svg.getBoundingClientRect().right));
    return { chart: plot.id, by: Math.round(right - inner), beyond: Math.round(right - window.innerWidth) };
  }).filter((c) => Math.abs(c.by) > 1 || c.beyond > 0)))))"""


def misfits(page):
    return page.evaluate(MISFITS)


# Charts whose legend lies on a plotting area (the bars, or the strip of event markers).
LEGEND_ON_DATA = """() => [...document.querySelectorAll('.js-plotly-plot')].filter((plot) => {
  const legend = plot.querySelector('.legend');
  if (!legend) return false;
  const l = legend.getBoundingClientRect();
  return [...plot.querySelectorAll('.nsewdrag')].some((area) => {
    const a = area.getBoundingClientRect();
    return Math.min(l.bottom, a.bottom) - Math.max(l.top, a.top) > 1 && Math.min(l.right, a.right) > Math.max(l.left, a.left);
  });
}).map((plot) => plot.id)"""


def first_result_top(page):
    return page.evaluate(
        "document.querySelector('#results .figures, #results .chart-card, #results tbody tr')"
        ".getBoundingClientRect().top + window.scrollY"
    )


def sideways(page):
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


@pytest.mark.parametrize("size", SIZES)
def test_every_chart_label_is_inside_its_chart_and_clear_of_the_others(demo_data, browser, size):
    page = browser(*SIZES[size])
    # The demo's 26 Federal Plaza incidents begin in a January: the monthly chart's first
    # bar sits on a tick whose date reached under the y axis's "0" on a phone.
    for path in ("/", *place_pages()[:2], "/courthouses/26-federal-plaza-immigration-court/"):
        page.goto(path)
        settle(page)
        assert page.locator(".js-plotly-plot").count() >= (8 if path == "/" else 4), path
        assert unreadable_labels(page) == [], path
        assert page.locator(".modebar").count() == 0  # no toolbar over the data
        assert page.locator(ROTATED).count() == 0, path
        assert sideways(page) <= 0, path
        if size == "phone":
            assert first_result_top(page) < 900, path
    assert page.errors == []


def test_every_chart_fits_its_card_whatever_changes_the_width(demo_data, browser):
    """A rotation, a resize, or a scrollbar that narrows the page without any resize event:
    each chart fills its card and is never cut at the right."""
    page = browser(*SIZES["laptop"])
    for path in ("/", place_pages()[0]):
        page.goto(path)
        settle(page)
        assert misfits(page) == [], path
        page.set_viewport_size({"width": 390, "height": 844})
        assert misfits(page) == [], path
        page.set_viewport_size({"width": 200, "height": 844})  # narrower than any phone: legends wrap
        misfits(page)  # two frames
        page.set_viewport_size({"width": 390, "height": 844})
        page.evaluate("document.documentElement.style.paddingRight = '17px'")  # as a scrollbar does
        assert misfits(page) == [], path
        page.set_viewport_size({"width": 844, "height": 390})
        assert misfits(page) == [], path
        page.set_viewport_size({"width": 1366, "height": 900})
        assert misfits(page) == [], path
        assert unreadable_labels(page) == [], path  # nothing the narrow sizes pushed stays
        assert page.evaluate(LEGEND_ON_DATA) == [], path
    assert page.errors == []


def test_no_public_page_scrolls_sideways_on_a_phone_and_results_come_first(demo_data, browser):
    page = browser(*SIZES["phone"])
    for path in PUBLIC_PAGES:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        assert sideways(page) <= 0, path
    page.goto("/incidents/")
    assert first_result_top(page) < 900
    # Filters fold into one control; opened, they are all there.
    assert not page.locator("details.filter-panel").get_attribute("open")
    page.locator("details.filter-panel > summary").click()
    expect(page.locator("#f-state")).to_be_visible()


def test_the_state_filter_works_from_the_keyboard_and_applies_once(two_states, browser):
    page = browser()
    page.goto("/")
    settle(page)
    page.requests.clear()
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "f-state":
            break
    assert page.evaluate("document.activeElement.id") == "f-state"
    page.keyboard.type("New York")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    assert page.input_value("#f-state") == "NY"
    assert page.requests == []  # choosing is not applying
    page.keyboard.press("Enter")
    page.wait_for_url("**/?state=NY")
    settle(page)
    assert parse_qs(urlsplit(page.url).query) == {"state": ["NY"]}
    assert page.locator("dl.figures dd").first.inner_text() == "3"
    assert page.errors == []


def test_typing_a_date_sends_nothing_until_applied(two_states, browser):
    page = browser()
    page.goto("/incidents/")
    page.wait_for_load_state("networkidle")
    page.requests.clear()
    page.locator("#f-date_after").click()
    page.keyboard.type("01022019")
    assert page.requests == []
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url("**/incidents/?date_after=2019-01-02")
    assert page.errors == []


def test_clicking_a_county_on_the_map_opens_its_page_with_the_other_filters(two_states, browser):
    page = browser()
    page.goto("/?state=TX&outcome=attempted")
    settle(page)
    box = page.evaluate(
        """() => {
          const path = [...document.querySelectorAll('#chart-map path.choroplethlocation')]
            .find((p) => p.__data__ && p.__data__.loc === '48141' && p.__data__.tx !== undefined);
          path.scrollIntoView({ block: "center" });
          const r = path.getBoundingClientRect();
          return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
        }"""
    )
    page.mouse.move(box["x"], box["y"])
    expect(page.locator("#chart-map .hoverlayer .hovertext")).to_have_count(1)
    page.mouse.down()
    page.mouse.up()
    page.wait_for_url("**/counties/48141/*")
    assert parse_qs(urlsplit(page.url).query) == {"state": ["TX"], "outcome": ["attempted"]}
    assert page.locator("h1").inner_text() == "El Paso County, Texas"


@pytest.fixture
def islands():
    guam = CourthouseFactory(name="Guam Judicial Center", city="Hagåtña", county_id="66010")
    IncidentFactory.create_batch(2, courthouse=guam)
    IncidentFactory(courthouse=CourthouseFactory(name="Centro Judicial de San Juan", county_id="72127"))
    IncidentFactory(courthouse=CourthouseFactory())


# The centre (on screen) of each island county's square in its inset, by county name.
ISLAND_SQUARES = """() => Object.fromEntries([...document.querySelectorAll('#chart-map .scattergeo path.point')]
  .filter((p) => p.__data__.trace.meta === 'island-counties')
  .map((p) => { const r = p.getBoundingClientRect();
                return [p.__data__.tx, { x: r.left + r.width / 2, y: r.top + r.height / 2, w: r.width }]; }))"""


@pytest.mark.parametrize("size", SIZES)
def test_island_counties_show_in_their_insets_and_open_their_pages(islands, browser, size):
    page = browser(*SIZES[size])
    page.goto("/?outcome=arrested")
    settle(page)
    page.locator("#chart-map").scroll_into_view_if_needed()
    squares = page.evaluate(ISLAND_SQUARES)
    assert set(squares) == {"Guam, GU", "San Juan Municipio, PR"}
    assert all(s["w"] >= 9 for s in squares.values())  # big enough to see and tap
    inset = page.locator("#chart-map g.geo2").bounding_box()  # Guam and the Northern Marianas
    guam = squares["Guam, GU"]
    assert inset["x"] <= guam["x"] <= inset["x"] + inset["width"]
    page.mouse.click(guam["x"], guam["y"])
    page.wait_for_url("**/counties/66010/*")
    assert parse_qs(urlsplit(page.url).query) == {"outcome": ["arrested"]}
    # Filtered to Guam, only its inset is drawn, and the main map is not fitted to nothing.
    page.goto("/?state=GU")
    settle(page)
    assert page.locator("#chart-map g.geo2 path.choroplethlocation").count() >= 5
    assert page.locator("#chart-map g.geo4 path.choroplethlocation").count() == 0
    labels = page.locator("#chart-map .annotation-text").all_text_contents()
    assert "GU · MP" in labels and "PR · VI" not in labels
    assert page.errors == []


@pytest.mark.parametrize("size", SIZES)
def test_no_public_page_has_a_serious_accessibility_fault(demo_data, browser, size):
    axe = axe_module.Axe()
    page = browser(*SIZES[size])
    faults = {}
    for path in (*PUBLIC_PAGES, *place_pages()):
        page.goto(path)
        page.wait_for_load_state("networkidle")
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
