"""Figures published by others (ReferenceFigure) beside our count for the same slice."""

import csv
import datetime

import pytest
from django.conf import settings

from incidents import choices
from incidents.cache import data_version
from incidents.comparison import covers
from incidents.models import ReferenceFigure

from .factories import CourthouseFactory, IncidentFactory

pytestmark = pytest.mark.django_db

NYC = ["36005", "36047", "36061", "36081", "36085"]


def figure(**fields):
    defaults = {
        "publisher": "Immigrant Defense Project",
        "title": "The Courthouse Trap",
        "url": "https://example.org/courthouse-trap",
        "published": datetime.date(2019, 1, 28),
        "state_id": "NY",
        "area": "New York State",
        "period_start": datetime.date(2018, 1, 1),
        "period_end": datetime.date(2018, 12, 31),
        "court_type": choices.CourtType.STATE,
        "counted": choices.Counted.ARRESTS,
        "value": 178,
        "definition": "Confirmed ICE arrests in and around courthouses of the state.",
    }
    counties = fields.pop("counties", [])
    made = ReferenceFigure.objects.create(**{**defaults, **fields})
    made.counties.set(counties)
    return made


@pytest.fixture
def only_our_figure():
    ReferenceFigure.objects.all().delete()
    return figure()


@pytest.fixture
def ny_2018():
    brooklyn = CourthouseFactory(name="Kings County Criminal Court")
    immigration = CourthouseFactory(name="Varick Street", court_type=choices.CourtType.IMMIGRATION)
    counted = [
        IncidentFactory(courthouse=brooklyn, date=datetime.date(2018, 3, 5), people_count=2),
        IncidentFactory(courthouse=brooklyn, date=datetime.date(2018, 12, 1), month_only=True),
    ]
    IncidentFactory(courthouse=brooklyn, date=datetime.date(2018, 4, 2), attempted=True)  # not an arrest
    IncidentFactory(courthouse=brooklyn, date=datetime.date(2017, 12, 31))  # before the period
    IncidentFactory(courthouse=brooklyn, date=datetime.date(2018, 5, 5), retracted=True)  # not public
    IncidentFactory(courthouse=immigration, date=datetime.date(2018, 5, 5))  # another court type
    IncidentFactory(courthouse=CourthouseFactory(texas=True), date=datetime.date(2018, 5, 5))
    return counted


def test_it_loads_the_first_figures_with_their_sources_from_the_repository():
    path = settings.BASE_DIR / "incidents" / "data" / "reference-figures.csv"
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert ReferenceFigure.objects.count() == len(rows) >= 20
    assert all(row["url"].startswith(("http://", "https://")) and row["definition"] for row in rows)
    nyc_2018 = ReferenceFigure.objects.get(area="New York City", period_start="2018-01-01", value=127)
    assert sorted(c.fips for c in nyc_2018.counties.all()) == NYC
    assert (nyc_2018.state_id, nyc_2018.counted) == ("NY", choices.Counted.ARRESTS)
    national = ReferenceFigure.objects.get(area="United States")
    assert (national.state_id, national.court_type) == (None, choices.CourtType.IMMIGRATION)


def test_the_dashboard_shows_a_covered_figure_beside_our_count_for_its_slice(
    client, only_our_figure, ny_2018
):
    page = client.get("/?state=NY").content.decode()
    assert "Published figures beside ours" in page
    section = page[page.index('id="reference-title"') :]
    assert '<p class="number">178</p>' in section
    # our count for NY, state courts, arrests, 2018: the two counted incidents, 3 people
    assert "state=NY&amp;court_type=state&amp;outcome=arrested&amp;date_after=2018-01-01" in section
    assert ">2</a></p>" in section and "3 people taken into custody" in section
    assert "Their definition:" in section and only_our_figure.definition in section
    assert "Our definition:" in section and "with the outcome Arrested, at State or local court" in section


@pytest.mark.parametrize(
    "query",
    [
        "state=TX",  # another state
        "county=36047",  # a county: the figure counts the whole state
        "date_after=2018-06-01",  # half of its period
        "date_before=2018-06-30",
        "court_type=immigration",
        "outcome=attempted",
        "case_type=criminal",  # our data narrowed in a way the figure is not
        "q=hallway",
    ],
)
def test_the_dashboard_leaves_out_a_figure_the_filters_do_not_cover(client, only_our_figure, ny_2018, query):
    response = client.get(f"/?{query}")
    assert response.status_code == 200
    assert "Published figures beside ours" not in response.content.decode()
    assert client.get(f"/api/reference-figures/?{query}").json()["results"] == []


def test_wider_filters_cover_narrower_figures(only_our_figure):
    brooklyn = figure(area="Brooklyn", counties=["36047"], value=35)
    national = figure(state_id=None, area="United States", court_type="", counted=choices.Counted.ALL)
    ny = only_our_figure
    assert covers({}, national) and covers({}, ny) and covers({}, brooklyn)
    assert covers({"state": ["NY", "NJ"]}, brooklyn) and not covers({"state": ["NY"]}, national)
    assert covers({"county": ["36047", "36081"]}, brooklyn) and not covers({"county": ["36047"]}, ny)
    assert covers({"court_type": ["state"]}, ny) and not covers({"court_type": ["state"]}, national)
    assert not covers({"outcome": ["arrested", "attempted"]}, national)
    assert covers({"outcome": ["arrested", "attempted", "observed"]}, national)
    day = datetime.date
    assert covers({"date_after": day(2018, 1, 1), "date_before": day(2019, 1, 1)}, ny)
    assert not covers({"date_after": day(2018, 1, 2)}, ny)


def test_the_api_serves_the_same_comparison(client, only_our_figure, ny_2018):
    response = client.get("/api/reference-figures/?state=NY&date_after=2017-01-01")
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["value"] == 178 and row["publisher"] == "Immigrant Defense Project"
    assert row["definition"] == only_our_figure.definition
    assert (row["state"], row["county_fips"], row["court_type"], row["counted"]) == (
        "NY",
        [],
        "state",
        "arrests",
    )
    assert (row["period_start"], row["period_end"]) == ("2018-01-01", "2018-12-31")
    ours = row["ours"]
    assert (ours["incidents"], ours["people"], ours["outcomes"]) == (2, 3, ["arrested"])
    assert ours["url"].startswith("http://testserver/incidents/?state=NY&")
    listed = client.get(ours["url"]).content.decode()
    assert listed.count('href="/incidents/') - listed.count('href="/incidents/?') >= 2


@pytest.mark.parametrize("query", ["state=ZZ", "date_after=2018-02-30", "county=1%00", "outcome=nope"])
def test_a_bad_filter_is_a_400(client, query):
    response = client.get(f"/api/reference-figures/?{query}")
    assert response.status_code == 400
    assert "error" in response.json()


def test_staff_manage_figures_in_the_admin_and_a_change_reaches_the_pages(admin_client, only_our_figure):
    assert admin_client.get("/admin/incidents/referencefigure/").status_code == 200
    assert admin_client.get("/admin/incidents/referencefigure/add/").status_code == 200
    before = data_version()
    only_our_figure.value = 179
    only_our_figure.save()
    assert data_version() != before
    before = data_version()
    only_our_figure.counties.set(["36047"])
    assert data_version() != before


def test_a_figure_cannot_end_before_it_starts(only_our_figure):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        figure(period_start=datetime.date(2019, 1, 1), period_end=datetime.date(2018, 1, 1))
