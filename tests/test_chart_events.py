"""Policy events and coverage changes on the monthly charts: who sees which, and how they differ."""

import datetime
import importlib

import pytest

from incidents.models import CoverageChange
from incidents.reference import ensure_reference_data

from .factories import CourthouseFactory, IncidentFactory, PolicyEventFactory
from .test_charts import figures

pytestmark = pytest.mark.django_db

D = datetime.date
MIGRATION = importlib.import_module("incidents.migrations.0013_court_type_and_coverage")


@pytest.fixture
def places():
    """Incidents from Dec 2024 to Feb 2025 in New York and Texas, at state and immigration courts."""
    ny = CourthouseFactory(name="Brooklyn Criminal Court")
    tx = CourthouseFactory(name="El Paso County Courthouse", texas=True)
    ny_immigration = CourthouseFactory(name="Varick Street Immigration Court", court_type="immigration")
    for courthouse in (ny, tx, ny_immigration):
        IncidentFactory(courthouse=courthouse, date=D(2024, 12, 3))
        IncidentFactory(courthouse=courthouse, date=D(2025, 2, 9))
    PolicyEventFactory(date=D(2025, 1, 15), state_id="NY", title="Judicial warrants in New York")
    PolicyEventFactory(date=D(2025, 1, 21), state_id=None, title="Federal guidance")
    return {"ny": ny, "tx": tx, "ny_immigration": ny_immigration}


def month_chart(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return figures(response.content.decode())["chart-month"]


def hover(figure, name):
    """The hover texts of one event trace, or [] when it is not drawn."""
    trace = next((t for t in figure["data"] if t.get("name") == name), None)
    # Each marker's text starts with its number in the list under the chart ("2. ").
    return [text.split(". ", 1)[1] for text in trace["hovertext"]] if trace else []


def policy_titles(figure):
    return [text.split(": ", 1)[1] for text in hover(figure, "Policy events")]


def test_a_new_york_policy_event_is_absent_from_a_texas_chart_and_present_on_new_york(client, places):
    assert policy_titles(month_chart(client, "/?state=TX")) == ["Federal guidance"]
    assert policy_titles(month_chart(client, "/?state=NY")) == [
        "Judicial warrants in New York",
        "Federal guidance",
    ]
    both = policy_titles(month_chart(client, "/?state=NY&state=TX"))
    assert both == ["Judicial warrants in New York", "Federal guidance"]


def test_with_no_state_filter_every_policy_event_is_drawn(client, places):
    figure = month_chart(client, "/")
    assert policy_titles(figure) == ["Judicial warrants in New York", "Federal guidance"]
    assert "2025-01-15 · New York: Judicial warrants in New York" in hover(figure, "Policy events")
    assert "2025-01-21 · Federal: Federal guidance" in hover(figure, "Policy events")


def test_a_place_page_draws_only_its_own_state_s_and_federal_events(client, places):
    texas = month_chart(client, f"/courthouses/{places['tx'].slug}/")
    assert policy_titles(texas) == ["Federal guidance"]
    kings = month_chart(client, "/counties/36047/")
    assert policy_titles(kings) == ["Judicial warrants in New York", "Federal guidance"]


def test_coverage_changes_are_drawn_apart_from_policy_events(client, places):
    figure = month_chart(client, "/")
    (coverage,) = hover(figure, "Coverage changes")
    assert coverage.startswith("2025-01-01 · Recording begins: Immigration court (EOIR)")
    lines = {shape["x0"]: shape["line"] for shape in figure["layout"]["shapes"]}
    policy, start = lines["2025-01-15"], lines["2025-01-01"]
    assert (start["dash"], policy["dash"]) == ("dash", "dot")
    assert start["color"] != policy["color"]
    markers = {t["name"]: t["marker"]["symbol"] for t in figure["data"] if t.get("mode") == "markers+text"}
    assert markers["Coverage changes"] != markers["Policy events"]


def test_coverage_changes_follow_the_court_type_filter(client, places):
    assert hover(month_chart(client, "/?court_type=state"), "Coverage changes") == []
    assert len(hover(month_chart(client, "/?court_type=immigration"), "Coverage changes")) == 1
    state_court = month_chart(client, f"/courthouses/{places['ny'].slug}/")
    assert hover(state_court, "Coverage changes") == []


def test_a_coverage_change_outside_the_chart_s_months_is_not_drawn(client, places):
    CoverageChange.objects.create(court_type="federal", start=D(2026, 6, 1))
    texts = hover(month_chart(client, "/"), "Coverage changes")
    assert not any("Federal court" in text for text in texts)


def test_the_list_under_the_chart_names_policy_events_and_coverage_changes(client, places):
    content = client.get("/?state=TX").content.decode()
    listed = content.split('class="chart-events"', 1)[1].split("</ol>", 1)[0]
    assert 'class="event-coverage"' in listed and "Coverage change:" in listed
    assert "Federal: Federal guidance" in listed
    assert "Judicial warrants in New York" not in content


@pytest.mark.parametrize(
    "text, state",
    [
        ("New York", "NY"),
        ("new york ", "NY"),
        ("NY", "NY"),
        ("Texas (state courts)", "TX"),
        ("Federal", None),
        ("US", None),
        ("United States (ICE)", None),
        ("Nowhere in particular", None),
    ],
)
def test_the_migration_turns_a_jurisdiction_naming_a_state_into_that_state(text, state):
    states = {"ny": "NY", "new york": "NY", "tx": "TX", "texas": "TX"}
    assert MIGRATION.state_named(text, states) == state


def test_the_first_coverage_starts_come_back_after_a_database_is_emptied():
    CoverageChange.objects.all().delete()
    ensure_reference_data(sender=None)
    assert list(CoverageChange.objects.values_list("court_type", "start")) == [
        ("state", D(2017, 1, 1)),
        ("immigration", D(2025, 1, 1)),
    ]
    CoverageChange.objects.filter(court_type="state").delete()
    ensure_reference_data(sender=None)  # what staff changed stays changed
    assert CoverageChange.objects.count() == 1
