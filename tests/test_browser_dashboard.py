"""The dashboard and the list in Debian's Chromium: charts draw, filters update in place,
and no request ever leaves the test server.

Set TRACKER_SCREENSHOT=docs/dashboard.png to save the dashboard with demo data as the
screenshots shown in README.md (docs/dashboard.png and docs/dashboard-phone.png).
"""

import os
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connections

from .browser import launch
from .factories import CourthouseFactory, IncidentFactory

# Playwright's sync API runs an event loop; the ORM calls of these tests are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
playwright = pytest.importorskip("playwright.sync_api")
expect = playwright.expect

# The flush after each transactional test empties every table; the app's
# post_migrate handler loads the geography and groups again (incidents/reference.py).
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# month, map, top counties, top courthouses, case type, role, location, warrant
CHARTS = 9


@pytest.fixture
def open_page(live_server):
    """open_page(javascript=True) -> a page that records console errors and every request.

    Chromium starts inside each test, after the database is set up: Playwright's sync
    API switches context, and a connection made in another context would miss the
    serialized data that restores the geography.
    """
    cache.clear()  # cached charts of an earlier test's data must not show
    with playwright.sync_playwright() as p:
        browser = launch(p)
        pages = []

        def open_(javascript=True, width=1280):
            context = browser.new_context(
                base_url=live_server.url,
                java_script_enabled=javascript,
                viewport={"width": width, "height": 900},
                accept_downloads=True,
            )
            page = context.new_page()
            page.errors, page.requests = [], []
            page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
            page.on("pageerror", lambda e: page.errors.append(str(e)))
            page.on("request", lambda r: page.requests.append(r.url))
            pages.append(page)
            return page

        yield open_
        # Close what this test opened in Playwright's context (see above).
        connections.close_all()
        browser.close()
    live_host = urlsplit(live_server.url).netloc
    elsewhere = [
        url
        for page in pages
        for url in page.requests
        if urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc != live_host
    ]
    assert elsewhere == []


def settle(page):
    """Wait until every chart is drawn (charts.js marks each one .drawn)."""
    page.wait_for_load_state("networkidle")
    expect(page.locator(".chart[data-figure]:not(.drawn)")).to_have_count(0)


def drawn_charts(page):
    """How many charts are drawn, each with its SVG and its source line under it."""
    cards = page.locator(".chart-card")
    for i in range(cards.count()):
        assert cards.nth(i).locator(".js-plotly-plot svg.main-svg").count() >= 1
        assert "Source: Courthouse ICE Arrest Tracker" in cards.nth(i).locator(".chart-source").inner_text()
    return cards.count()


def query(url):
    return parse_qs(urlsplit(url).query)


@pytest.fixture
def two_states():
    from incidents.models import County, State

    print("DBG counties", County.objects.count(), State.objects.count())
    brooklyn = CourthouseFactory(name="Brooklyn Criminal Court")
    el_paso = CourthouseFactory(name="El Paso County Courthouse", texas=True)
    IncidentFactory.create_batch(3, courthouse=brooklyn)
    IncidentFactory.create_batch(2, courthouse=el_paso, attempted=True)


@pytest.fixture
def demo_data():
    call_command("load_demo_data", verbosity=0)


def test_the_dashboard_draws_every_chart_with_demo_data(demo_data, open_page):
    page = open_page()
    page.goto("/")
    settle(page)
    assert drawn_charts(page) == CHARTS
    # Every county of the US map is drawn, grey where none happened, with state outlines.
    assert page.locator("#chart-map path.choroplethlocation").count() > 3000
    assert page.errors == []
    if os.environ.get("TRACKER_SCREENSHOT"):
        save_screenshots(open_page, os.environ["TRACKER_SCREENSHOT"])


def save_screenshots(open_, path):
    """The top of the dashboard at a laptop's size (headline figures, the monthly chart, the
    map, the top bars), and beside it, as NAME-phone.png, the top of it on a phone."""
    page = open_(width=1366)
    page.goto("/")
    settle(page)
    page.screenshot(path=path, full_page=True, clip={"x": 0, "y": 0, "width": 1366, "height": 2100})
    phone = open_(width=390)
    phone.goto("/")
    settle(phone)
    phone.screenshot(
        path=path.replace(".png", "-phone.png"),
        full_page=True,
        clip={"x": 0, "y": 0, "width": 390, "height": 1900},
    )


def test_the_png_download_carries_the_title_and_the_source_line(two_states, open_page, tmp_path):
    page = open_page()
    page.goto("/?state=NY")
    settle(page)
    assert page.locator(".modebar").count() == 0  # no toolbar over the bars
    with page.expect_download() as download:
        page.locator("button[data-png=chart-month]").click()
    assert download.value.suggested_filename == "chart-month.png"
    path = tmp_path / "chart.png"
    download.value.save_as(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The image is drawn from the figure the page holds: its title and its source line.
    layout = page.evaluate("JSON.parse(document.getElementById('chart-month-data').textContent).layout")
    assert layout["title"]["text"] == "Incidents per month, by outcome"
    assert "filters: state=NY" in layout["annotations"][-1]["text"]
    assert not layout["annotations"][-1]["visible"]  # on screen, the paragraph under the chart
    assert page.errors == []


def test_the_map_switches_to_states(two_states, open_page):
    page = open_page()
    page.goto("/")
    settle(page)
    page.get_by_role("button", name="States").click()
    assert page.get_by_role("button", name="States").get_attribute("aria-pressed") == "true"
    visible = page.evaluate(
        "document.getElementById('chart-map').data.filter(t => t.visible !== false).map(t => t.meta)"
    )
    assert visible == ["states"]
    assert page.errors == []


def test_changing_a_filter_updates_the_url_the_list_and_the_charts(two_states, open_page):
    page = open_page()
    page.goto("/")
    settle(page)
    assert "El Paso County Courthouse" in page.locator("#latest-title + .table-wrap").inner_text()
    page.select_option("#f-state", "NY")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url("**/?state=NY")
    settle(page)
    assert page.locator("#chosen-state input[value=NY]").is_checked()
    assert "El Paso County Courthouse" not in page.locator("#latest-title + .table-wrap").inner_text()
    assert page.locator("dl.figures dd").first.inner_text() == "3"
    counties = page.evaluate("document.getElementById('chart-counties').data[0].y")
    assert counties == ["Kings County, NY"]
    assert drawn_charts(page) == CHARTS
    for link in page.locator("a[data-export-link], a[data-list-link]").all():
        assert query(link.get_attribute("href")) == query(page.url)
    page.locator("details.choice-group summary", has_text="Outcome").click()
    page.get_by_label("Attempted arrest").check()
    page.wait_for_url("**/?state=NY&outcome=attempted")
    settle(page)
    assert "No incidents match these filters." in page.inner_text("#results")
    assert page.errors == []


def test_the_list_updates_in_place_and_its_csv_link_follows(two_states, open_page):
    page = open_page()
    page.goto("/incidents/")
    page.wait_for_load_state("networkidle")
    assert page.locator("table.incidents tbody tr").count() == 5
    page.locator("details.choice-group summary", has_text="Outcome").click()
    page.get_by_label("Attempted arrest").check()
    page.wait_for_url("**/incidents/?outcome=attempted")
    page.wait_for_load_state("networkidle")
    assert page.locator("table.incidents tbody tr").count() == 2
    csv = page.get_by_role("link", name="Download these 2 incidents as CSV")
    assert csv.get_attribute("href") == "/incidents/export.csv?outcome=attempted"
    assert query(csv.get_attribute("href")) == query(page.url)
    page.fill("#f-q", "El Paso")
    page.keyboard.press("Enter")
    page.wait_for_url("**/incidents/?q=El+Paso&outcome=attempted")
    assert page.locator("#filter-status").inner_text() == "2 incidents"
    assert page.errors == []


def test_typing_a_county_name_suggests_counties(two_states, open_page):
    page = open_page()
    page.goto("/incidents/")
    page.fill("#f-county", "Kings")
    expect(page.locator("#county-options option[value='36047']")).to_have_count(1)
    assert "Kings County, NY" in page.locator("#county-options").inner_html()
    page.fill("#f-county", "36047")  # what picking the suggestion puts in the field
    page.wait_for_url("**/incidents/?county=36047")
    page.wait_for_load_state("networkidle")
    assert page.locator("#chosen-county input[value='36047']").is_checked()
    assert page.locator("table.incidents tbody tr").count() == 3
    assert page.errors == []


def test_clicking_a_top_county_bar_opens_the_county_page(two_states, open_page):
    page = open_page()
    page.goto("/?outcome=attempted")
    settle(page)
    bar = page.locator("#chart-counties .bars path").first
    bar.scroll_into_view_if_needed()
    box = bar.bounding_box()
    # Plotly clicks what the pointer hovers.
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page.locator("#chart-counties .hoverlayer .hovertext")).to_have_count(1)
    page.mouse.down()
    page.mouse.up()
    page.wait_for_url("**/counties/48141/?outcome=attempted")
    assert page.locator("h1").inner_text() == "El Paso County, Texas"


def test_the_list_and_detail_work_without_javascript(two_states, open_page):
    page = open_page(javascript=False)
    page.goto("/incidents/")
    page.select_option("#f-state", "TX")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url("**/incidents/?*state=TX*")
    assert page.locator("table.incidents tbody tr").count() == 2
    page.locator("table.incidents tbody tr a").first.click()
    assert page.locator("h1").inner_text().startswith("Attempted arrest at El Paso County Courthouse")
