"""/embed/<chart>/: one chart that any site may frame; every other page stays unframeable."""

import re

import pytest

from incidents import charts
from incidents.models import Courthouse

from .factories import CourthouseFactory, IncidentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def incidents():
    IncidentFactory.create_batch(2)
    IncidentFactory(courthouse=CourthouseFactory(texas=True), attempted=True)


def frame_ancestors(response):
    return re.search(r"frame-ancestors ([^;]+)", response["Content-Security-Policy"]).group(1)


@pytest.mark.parametrize("name", charts.EMBEDS)
def test_every_dashboard_chart_has_an_embed_page_that_any_site_may_frame(client, incidents, name):
    response = client.get(f"/embed/{name}/?state=NY")
    assert response.status_code == 200
    assert frame_ancestors(response) == "*"
    assert "X-Frame-Options" not in response
    page = response.content.decode()
    assert page.count('data-figure="') == 1 and f'id="chart-{name}-data"' in page
    assert "filters: state=NY" in page and "data as of" in page
    assert 'href="http://testserver/?state=NY" target="_blank"' in page
    assert 'class="site-header"' not in page and "<form" not in page


def test_the_set_of_embeds_is_the_dashboards_charts(client, incidents):
    page = client.get("/").content.decode()
    ids = re.findall(r'<div class="chart" id="chart-([a-z_]+)"', page)
    assert sorted(ids) == sorted(charts.EMBEDS)


def test_a_cached_embed_keeps_its_own_policy(client, incidents, settings):
    settings.PUBLIC_PAGE_CACHE = True
    first, second = client.get("/embed/map/"), client.get("/embed/map/")
    assert second.content == first.content
    assert frame_ancestors(first) == frame_ancestors(second) == "*"
    assert "X-Frame-Options" not in second


@pytest.mark.parametrize(
    "path", ["/", "/incidents/", "/courthouses/", "/data/", "/api/stats/?by=month", "/embed/"]
)
def test_every_other_page_stays_unframeable(client, incidents, path):
    response = client.get(path)
    assert frame_ancestors(response) == "'none'"
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("name", ["outcome", "nope", "MONTH", "month%00", "x" * 3000, "%E2%80%AE"])
def test_an_unknown_chart_is_a_404(client, name):
    assert client.get(f"/embed/{name}/").status_code == 404


@pytest.mark.parametrize("query", ["state=ZZ", "date_after=2019-13-01", "county=%00"])
def test_a_bad_filter_is_a_400_with_a_message(client, query):
    response = client.get(f"/embed/month/?{query}")
    assert response.status_code == 400
    assert "These filters cannot be read" in response.content.decode()


def test_no_incidents_is_a_message_not_an_empty_chart(client, incidents):
    for name in charts.EMBEDS:
        page = client.get(f"/embed/{name}/?state=CA").content.decode()
        assert "No incidents match these filters." in page and "data-figure" not in page


def test_each_chart_offers_an_iframe_snippet_for_its_filters(client, incidents):
    page = client.get("/?state=NY&ordering=date").content.decode()
    snippets = re.findall(r"<textarea id=\"chart-([a-z_]+)-embed\"[^>]*>([^<]*)</textarea>", page)
    assert sorted(name for name, _ in snippets) == sorted(charts.EMBEDS)
    month = dict(snippets)["month"]
    assert month.startswith('&lt;iframe src="/embed/month/?state=NY" title="Incidents per month')
    assert "<summary>Embed</summary>" in page


def test_place_pages_offer_the_embed_of_their_own_charts(client, incidents):
    slug = Courthouse.objects.filter(county_id="36047").values_list("slug", flat=True).first()
    page = client.get(f"/courthouses/{slug}/").content.decode()
    assert f"/embed/month/?courthouse={slug}" in page
    assert "chart-outcome-embed" not in page  # no embed of its own: not a dashboard chart
    embedded = client.get(f"/embed/month/?courthouse={slug}")
    assert embedded.status_code == 200 and f"courthouse={slug}" in embedded.content.decode()
