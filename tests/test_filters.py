"""The one FilterSet, as people use it: through the list page's query string."""

import datetime
import re

import pytest
from django.http import QueryDict

from incidents import choices
from incidents.filters import filter_incidents

from .factories import CourthouseFactory, IncidentFactory

pytestmark = pytest.mark.django_db

D = datetime.date


def listed(client, query=""):
    """The incidents the list page shows for a query string, as a set of ids."""
    response = client.get(f"/incidents/?{query}")
    assert response.status_code == 200, response.content.decode()[:500]
    table = response.content.decode().split('<table class="incidents">', 1)[-1].split("</table>", 1)[0]
    return {int(pk) for pk in re.findall(r'href="/incidents/(\d+)/"', table)}


def ids(*incidents):
    return {incident.pk for incident in incidents}


@pytest.fixture
def ny_and_tx():
    brooklyn = CourthouseFactory(name="Brooklyn Criminal Court")
    el_paso = CourthouseFactory(name="El Paso County Courthouse", texas=True)
    return {
        "ny": IncidentFactory(courthouse=brooklyn, summary="Arrested in the hallway."),
        "tx": IncidentFactory(
            courthouse=el_paso,
            case_type=choices.CaseType.FAMILY,
            person_role=choices.PersonRole.VICTIM,
            location=choices.Location.OUTSIDE,
            agency=choices.Agency.CBP,
            warrant=choices.Warrant.JUDICIAL,
            verification=choices.Verification.DISPUTED,
            summary="Agents waited on the steps.",
            attempted=True,
        ),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("state=NY", "ny"),
        ("state=tx", "tx"),
        ("county=36047", "ny"),
        ("county=48141", "tx"),
        ("case_type=family", "tx"),
        ("outcome=arrested", "ny"),
        ("outcome=attempted", "tx"),
        ("person_role=victim", "tx"),
        ("location=inside", "ny"),
        ("agency=cbp", "tx"),
        ("warrant=judicial", "tx"),
        ("verification=verified", "ny"),
        ("q=hallway", "ny"),
        ("q=STEPS", "tx"),
        ("q=el+paso", "tx"),
    ],
)
def test_it_filters_by_each_parameter(client, ny_and_tx, query, expected):
    assert listed(client, query) == ids(ny_and_tx[expected])


def test_it_filters_by_courthouse_slug(client, ny_and_tx):
    slug = ny_and_tx["tx"].courthouse.slug
    assert listed(client, f"courthouse={slug}") == ids(ny_and_tx["tx"])


def test_it_filters_by_update_date(client):
    old = IncidentFactory(updated_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
    new = IncidentFactory(updated_at=datetime.datetime(2024, 3, 2, 12, tzinfo=datetime.UTC))
    assert listed(client, "updated_after=2024-03-02") == ids(new)
    assert listed(client, "updated_after=2019-12-31") == ids(old, new)


def test_values_of_one_parameter_are_ored(client, ny_and_tx):
    ny, tx = ny_and_tx["ny"], ny_and_tx["tx"]
    ca = IncidentFactory(courthouse=CourthouseFactory(california=True))
    assert listed(client, "state=NY&state=TX") == ids(ny, tx)
    assert listed(client, "outcome=attempted&outcome=observed") == ids(tx)
    assert listed(client, "case_type=family&case_type=criminal") == ids(ny, tx, ca)
    assert listed(client, "county=36047&county=06037") == ids(ny, ca)


def test_parameters_are_anded(client, ny_and_tx):
    assert listed(client, "state=NY&outcome=attempted") == set()
    assert listed(client, "state=TX&outcome=attempted&case_type=family") == ids(ny_and_tx["tx"])
    assert listed(client, "state=NY&state=TX&warrant=administrative") == ids(ny_and_tx["ny"])


def test_the_date_range_is_inclusive(client):
    first = IncidentFactory(date=D(2019, 5, 1))
    last = IncidentFactory(date=D(2019, 5, 31))
    IncidentFactory(date=D(2019, 4, 30))
    IncidentFactory(date=D(2019, 6, 1))
    assert listed(client, "date_after=2019-05-01&date_before=2019-05-31") == ids(first, last)
    assert listed(client, "date_after=2019-05-31&date_before=2019-05-31") == ids(last)


def test_a_month_precision_incident_counts_on_the_first_day_of_its_month(client):
    may = IncidentFactory(month_only=True)  # only "May 2019" is known: stored as 2019-05-01
    assert listed(client, "date_after=2019-05-01") == ids(may)
    assert listed(client, "date_before=2019-05-01") == ids(may)
    assert listed(client, "date_after=2019-05-02") == set()
    assert listed(client, "date_after=2019-05-10&date_before=2019-05-20") == set()
    assert listed(client, "date_before=2019-04-30") == set()


def test_a_day_precision_incident_does_not_match_by_its_month(client):
    IncidentFactory(date=D(2019, 5, 14))
    assert listed(client, "date_after=2019-05-20") == set()


def test_retracted_incidents_never_appear(client):
    kept = IncidentFactory()
    retracted = IncidentFactory(retracted=True, summary="Retracted report")
    assert listed(client) == ids(kept)
    for url in [
        "/",
        "/incidents/",
        f"/courthouses/{retracted.courthouse.slug}/",
        "/counties/36047/",
    ]:
        assert "Retracted report" not in client.get(url).content.decode(), url


def test_the_form_keeps_its_values(client, ny_and_tx):
    page = client.get(
        "/incidents/?q=hallway&state=NY&outcome=arrested&date_after=2019-01-01"
    ).content.decode()
    assert 'name="q" value="hallway"' in page
    assert 'name="date_after" value="2019-01-01"' in page
    assert re.search(r'name="state" value="NY" checked', page)
    assert re.search(r'name="outcome" value="arrested" checked', page)
    assert not re.search(r'name="outcome" value="attempted" checked', page)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("date_after=2017-13-45", "Enter a valid date."),
        ("date_before=yesterday", "Enter a valid date."),
        ("state=ZZ", "Unknown value: ZZ"),
        ("county=3604", "Unknown value: 3604"),
        ("county=99999", "Unknown value: 99999"),
        ("courthouse=no-such-court", "Unknown value: no-such-court"),
        ("outcome=vanished", "Select a valid choice"),
        ("q=" + "x" * 10_000, "at most 200 characters"),
        ("ordering=summary", "Select a valid choice"),
        ("updated_after=2024-02-30", "Enter a valid date."),
        ("county=%00", "Unknown value"),
        ("courthouse=a%00b", "Unknown value"),
        ("q=a%00b", "Null characters are not allowed."),
    ],
)
@pytest.mark.parametrize("page", ["/", "/incidents/", "/courthouses/", "/counties/36047/"])
def test_bad_input_shows_the_form_with_its_error(client, ny_and_tx, page, query, message):
    response = client.get(f"{page}?{query}")
    content = response.content.decode()
    assert response.status_code == 400
    assert message in content
    assert 'role="alert"' in content
    assert "<form" in content and "data-filter-form" in content
    # An invalid filter never shows unfiltered rows.
    assert ny_and_tx["ny"].summary not in content


def test_repeated_single_value_parameters_never_break_a_page(client, ny_and_tx):
    for page in ["/", "/incidents/", "/courthouses/"]:
        response = client.get(f"{page}?date_after=2019-01-01&date_after=bad&q=a&q=b&ordering=date&ordering=x")
        assert response.status_code in (200, 400)


def test_an_empty_value_is_no_filter(client, ny_and_tx):
    assert listed(client, "state=&q=&date_after=&outcome=") == ids(*ny_and_tx.values())


def test_a_lower_case_state_shows_its_chip_and_links_in_upper_case(client, ny_and_tx):
    html = client.get("/incidents/?state=ny&state=NY").content.decode()
    assert html.count("<span>State: New York</span>") == 1
    state = filter_incidents(QueryDict("state=ny&state=NY&foo=1"))
    assert state.params.getlist("state") == ["NY"]
    assert state.queries["page"] == "?state=NY"
    assert listed(client, "state=ny") == ids(ny_and_tx["ny"])


def test_addresses_that_select_the_same_rows_share_one_key():
    keys = {
        filter_incidents(QueryDict(query)).key
        for query in [
            "state=TX&state=NY&date_after=1900-01-01",
            "date_after=1990-01-01&state=ny&state=TX&utm_source=x",
            "state=NY&state=TX&state=NY&date_after=1989-12-31&page=7",
        ]
    }
    assert len(keys) == 1
