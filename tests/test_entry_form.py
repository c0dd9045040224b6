"""The entry form /incidents/new/, its courthouse search and the courthouse form."""

import datetime
import re

import pytest
from django.test import Client

from incidents.models import Courthouse, Incident, today_utc

from .factories import CourthouseFactory, IncidentFactory
from .test_permissions import entry_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def brooklyn(db):
    return CourthouseFactory(name="Brooklyn Criminal Court", city="Brooklyn", county_id="36047")


@pytest.fixture
def clerk_client(client, court_admin):
    client.force_login(court_admin)
    return client


def post(client, **overrides):
    return client.post("/incidents/new/", entry_data(**overrides))


def error_of(response, field):
    """The error text shown next to one field."""
    html = response.content.decode()
    found = re.findall(rf'<p class="field-error" id="id_{field}_error">([^<]*)</p>', html)
    return " ".join(found)


def test_it_shows_the_form_with_defaults(clerk_client, brooklyn, django_assert_num_queries):
    with django_assert_num_queries(5):  # session, user, permissions (2), demo banner
        html = clerk_client.get("/incidents/new/").content.decode()
    assert f'value="{today_utc().isoformat()}"' in html
    for field in ("plain_clothes", "agents_identified", "force_used", "court_staff_assisted"):
        assert re.search(rf'type="radio" name="{field}" value="unknown"[^>]*checked', html), field
    assert re.search(r'<select name="case_type"[^>]*>.*?value="unknown" selected', html, re.DOTALL)
    assert 'data-search-url="/courthouses/autocomplete.json?all=1"' in html
    assert "Courthouse not listed? Add it." in html
    assert "<script>" not in html  # no inline script: a strict CSP forbids it


def test_it_saves_an_incident_and_shows_its_page(clerk_client, brooklyn, court_admin):
    response = post(clerk_client, internal_notes="Called the clerk's office.")
    incident = Incident.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/incidents/{incident.pk}/"
    assert incident.reference == f"TRK-{incident.pk:06d}"
    assert (incident.courthouse, incident.created_by, incident.version) == (brooklyn, court_admin, 1)
    assert incident.internal_notes == "Called the clerk's office."
    assert incident.history.get().history_user == court_admin
    page = clerk_client.get(response["Location"])
    assert f"Saved incident {incident.reference}." in page.content.decode()


def test_a_reference_given_is_kept(clerk_client, brooklyn):
    post(clerk_client, reference="UOR-2019-0042")
    assert Incident.objects.get().reference == "UOR-2019-0042"


def test_save_and_add_another_keeps_the_courthouse_and_date(clerk_client, brooklyn):
    data = entry_data(date="2019-06-03", add_another="")
    response = clerk_client.post("/incidents/new/", data)
    assert response["Location"] == "/incidents/new/?courthouse=brooklyn-criminal-court&date=2019-06-03"
    html = clerk_client.get(response["Location"]).content.decode()
    assert 'value="brooklyn-criminal-court"' in html and 'value="2019-06-03"' in html
    assert "Brooklyn Criminal Court (Brooklyn, NY)" in html
    assert "Saved incident" in html


def test_a_future_date_is_refused_next_to_the_field(clerk_client, brooklyn):
    tomorrow = today_utc() + datetime.timedelta(days=1)
    response = post(clerk_client, date=tomorrow.isoformat())
    assert response.status_code == 200
    assert error_of(response, "date") == f"{tomorrow.isoformat()} is in the future"
    assert not Incident.objects.exists()


def test_todays_date_is_accepted(clerk_client, brooklyn):
    post(clerk_client, date=today_utc().isoformat())
    assert Incident.objects.get().date == today_utc()


def test_month_precision_stores_the_first_day(clerk_client, brooklyn):
    post(clerk_client, date="2019-05-14", date_precision="month")
    assert Incident.objects.get().date == datetime.date(2019, 5, 1)


@pytest.mark.parametrize(
    "outcome, count, error",
    [
        ("arrested", "0", "At least 1 person when the outcome is arrested."),
        ("attempted", "1", "Must be 0 when the outcome is attempted or observed."),
        ("observed", "2", "Must be 0 when the outcome is attempted or observed."),
        ("arrested", "-1", "Ensure this value is greater than or equal to 0."),
    ],
)
def test_people_count_must_match_the_outcome(clerk_client, brooklyn, outcome, count, error):
    response = post(clerk_client, outcome=outcome, people_count=count)
    assert error in error_of(response, "people_count")
    assert not Incident.objects.exists()


@pytest.mark.parametrize("outcome, count", [("arrested", "3"), ("attempted", "0"), ("unknown", "4")])
def test_people_count_rules_accept_valid_counts(clerk_client, brooklyn, outcome, count):
    post(clerk_client, outcome=outcome, people_count=count)
    assert Incident.objects.get().people_count == int(count)


def test_the_source_url_must_be_well_formed(clerk_client, brooklyn):
    response = post(clerk_client, source_url="htp:/example")
    assert error_of(response, "source_url") == "Enter a valid URL."
    assert not Incident.objects.exists()


def test_an_unknown_courthouse_is_refused_with_a_hint(clerk_client, brooklyn):
    response = post(clerk_client, courthouse="no-such-court")
    assert "Type part of its name and pick it from the list" in error_of(response, "courthouse")


def test_an_unknown_choice_is_refused(clerk_client, brooklyn):
    response = post(clerk_client, plain_clothes="maybe")
    assert "Select a valid choice" in error_of(response, "plain_clothes")


def test_a_reference_in_use_is_refused(clerk_client, brooklyn):
    IncidentFactory(reference="UOR-1")
    response = post(clerk_client, reference="UOR-1")
    assert "already exists" in error_of(response, "reference")


def test_a_typed_reference_cannot_look_like_an_assigned_one(clerk_client, brooklyn):
    response = post(clerk_client, reference="TRK-000777")
    assert "assigned by the tracker" in error_of(response, "reference")
    assert not Incident.objects.exists()


def test_the_form_lists_how_many_fields_need_correcting(clerk_client, brooklyn):
    response = post(clerk_client, date="", people_count="0", source_url="nope")
    assert "Correct the 3 fields marked below." in response.content.decode()


# Courthouse search ----------------------------------------------------------


def test_the_courthouse_search_matches_every_word(clerk_client, brooklyn):
    CourthouseFactory(name="Kings County Supreme Court", city="Brooklyn")
    CourthouseFactory(texas=True, name="El Paso County Courthouse")
    data = clerk_client.get("/courthouses/autocomplete.json", {"q": "brooklyn crim", "all": "1"}).json()
    assert data == {
        "results": [{"value": "brooklyn-criminal-court", "label": "Brooklyn Criminal Court (Brooklyn, NY)"}]
    }
    found = clerk_client.get("/courthouses/autocomplete.json", {"q": "brooklyn", "all": "1"}).json()[
        "results"
    ]
    names = [r["label"] for r in found]
    assert names == ["Brooklyn Criminal Court (Brooklyn, NY)", "Kings County Supreme Court (Brooklyn, NY)"]


def test_the_courthouse_search_costs_one_query(client, brooklyn, django_assert_num_queries):
    IncidentFactory.create_batch(5, courthouse__city="Brooklyn")
    with django_assert_num_queries(1):  # the search: it reads no session or user
        response = client.get("/courthouses/autocomplete.json", {"q": "brook"})
    assert len(response.json()["results"]) == 5  # the fixture's courthouse has no published incident


def test_staff_search_every_courthouse_and_visitors_only_public_ones(clerk_client):
    CourthouseFactory(name="Quiet Hall of Justice", city="Nowhere")  # no incident yet
    public = Client().get("/courthouses/autocomplete.json", {"q": "quiet", "all": "1"}).json()
    assert public == {"results": []}
    staff = clerk_client.get("/courthouses/autocomplete.json", {"q": "quiet", "all": "1"}).json()
    assert [r["value"] for r in staff["results"]] == ["quiet-hall-of-justice"]


def test_the_county_list_follows_the_state(clerk_client):
    counties = clerk_client.get("/counties/autocomplete.json", {"state": "ca"}).json()["results"]
    assert {"value": "06037", "label": "Los Angeles County, CA"} in counties
    assert len(counties) == 58 and all(row["value"].startswith("06") for row in counties)
    for state in ("ZZ", "N\x00"):
        response = clerk_client.get("/counties/autocomplete.json", {"state": state})
        assert response.status_code == 400 and response.json() == {"error": "state: unknown state code"}


# Adding a missing courthouse ------------------------------------------------


def test_a_missing_courthouse_can_be_added_and_is_then_chosen(clerk_client, court_admin):
    response = clerk_client.post(
        "/staff/courthouses/new/",
        {
            "name": "Stanley Mosk Courthouse",
            "address": "111 North Hill Street",
            "city": "Los Angeles",
            "state": "CA",
            "county": "06037",
            "next": "/incidents/new/?date=2019-06-03",
        },
    )
    courthouse = Courthouse.objects.get()
    assert (courthouse.county_id, courthouse.slug) == ("06037", "stanley-mosk-courthouse")
    assert response["Location"] == "/incidents/new/?date=2019-06-03&courthouse=stanley-mosk-courthouse"
    assert courthouse.history.get().history_user == court_admin
    html = clerk_client.get(response["Location"]).content.decode()
    assert 'value="stanley-mosk-courthouse"' in html and "Added Stanley Mosk Courthouse." in html


def test_the_county_must_belong_to_the_state(clerk_client):
    response = clerk_client.post(
        "/staff/courthouses/new/",
        {
            "name": "Somewhere Court",
            "city": "Albany",
            "state": "NY",
            "county": "06037",
        },
    )
    assert "Select a valid choice" in error_of(response, "county")
    assert not Courthouse.objects.exists()


def test_a_courthouse_that_exists_is_not_added_twice(clerk_client, brooklyn):
    response = clerk_client.post(
        "/staff/courthouses/new/",
        {
            "name": "Brooklyn Criminal Court",
            "city": "Brooklyn",
            "state": "NY",
            "county": "36047",
        },
    )
    assert "already exists (address name brooklyn-criminal-court)" in response.content.decode()
    assert Courthouse.objects.count() == 1


def test_without_javascript_choosing_a_state_lists_its_counties(clerk_client):
    response = clerk_client.post("/staff/courthouses/new/", {"name": "X", "state": "TX", "choose_state": ""})
    html = response.content.decode()
    assert '<option value="48141">El Paso County</option>' in html
    assert "Kings County" not in html
    assert not Courthouse.objects.exists()


def test_an_outside_next_address_is_ignored(clerk_client):
    response = clerk_client.post(
        "/staff/courthouses/new/",
        {
            "name": "New Court",
            "city": "Albany",
            "state": "NY",
            "county": "36001",
            "next": "https://evil.example/",
        },
    )
    assert response["Location"] == "/incidents/new/?courthouse=new-court"


# -- the documented limits (incidents/limits.py) ----------------------------------------


@pytest.mark.parametrize("day", ["0024-05-01", "0001-01-01", "1989-12-31"])
def test_a_date_before_1990_is_refused_next_to_the_field(clerk_client, brooklyn, day):
    response = post(clerk_client, date=day)
    assert error_of(response, "date") == f"{day} is before 1990-01-01, the earliest date the tracker accepts."
    assert not Incident.objects.exists()


def test_the_model_refuses_a_date_before_1990_too(brooklyn):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="earliest date"):
        IncidentFactory.build(courthouse=brooklyn, date=datetime.date(24, 5, 1)).full_clean()


def test_a_summary_over_the_limit_is_refused_with_its_length(clerk_client, brooklyn):
    from incidents.limits import SUMMARY_MAX_CHARS

    response = post(clerk_client, summary="x" * (SUMMARY_MAX_CHARS + 1))
    assert f"at most {SUMMARY_MAX_CHARS:,}".replace(",", "") in error_of(response, "summary").replace(",", "")
    assert not Incident.objects.exists()
    assert post(clerk_client, summary="x" * SUMMARY_MAX_CHARS).status_code == 302


@pytest.mark.parametrize("count", ["٣", "３", "1٣"])
def test_a_people_count_in_other_scripts_digits_is_refused(clerk_client, brooklyn, count):
    response = post(clerk_client, people_count=count)
    assert "Enter a whole number." in error_of(response, "people_count")
    assert not Incident.objects.exists()


@pytest.mark.parametrize("mark", ["\u202e", "\u2066", "\u200f"])
def test_a_text_direction_control_is_refused_in_a_source_host(clerk_client, brooklyn, mark):
    response = post(clerk_client, source_url=f"https://news{mark}.example.org/story")
    assert "text-direction" in error_of(response, "source_url")
    assert not Incident.objects.exists()


@pytest.mark.parametrize("field", ["name", "city"])
def test_a_text_direction_control_is_refused_in_a_courthouse_name(clerk_client, field):
    data = {"name": "Somewhere Court", "city": "Albany", "state": "NY", "county": "36001"}
    data[field] = "Somewhere \u202eCourt"
    response = clerk_client.post("/staff/courthouses/new/", data)
    assert "text-direction" in error_of(response, field)
    assert not Courthouse.objects.exists()
