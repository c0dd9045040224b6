"""A courthouse's court type through the filter, CSV, API, stats, dashboard, import and /data/."""

import datetime
import html
import re

import pytest

from incidents import export
from incidents.models import Courthouse, Incident
from incidents.services import import_incidents

from .export_helpers import read_csv
from .factories import CourthouseFactory, IncidentFactory
from .test_charts import bars, figures
from .test_import import csv_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def courts():
    """Two incidents at a state court, one at an immigration court, none at a federal court."""
    state = CourthouseFactory(name="Brooklyn Criminal Court")
    immigration = CourthouseFactory(name="Varick Street Immigration Court", court_type="immigration")
    return {
        "state": [IncidentFactory(courthouse=state), IncidentFactory(courthouse=state, people_count=2)],
        "immigration": [IncidentFactory(courthouse=immigration, date=datetime.date(2025, 3, 4))],
    }


def ids(incidents):
    return sorted(incident.pk for incident in incidents)


def api_ids(client, query):
    return sorted(row["id"] for row in client.get(f"/api/incidents/?{query}").json()["results"])


def export_rows(client, query=""):
    response = client.get(f"/incidents/export.csv?{query}")
    assert response.status_code == 200
    return read_csv(b"".join(response.streaming_content))


# --- filter ------------------------------------------------------------------


def test_the_filter_keeps_incidents_at_courts_of_the_chosen_types(client, courts):
    assert api_ids(client, "court_type=immigration") == ids(courts["immigration"])
    assert api_ids(client, "court_type=state") == ids(courts["state"])
    both = api_ids(client, "court_type=state&court_type=immigration")
    assert both == ids(courts["state"] + courts["immigration"])
    assert api_ids(client, "court_type=federal") == []


def test_the_list_page_filters_by_court_type_and_offers_it_as_a_choice(client, courts):
    content = client.get("/incidents/?court_type=immigration").content.decode()
    assert f'href="/incidents/{courts["immigration"][0].pk}/"' in content
    assert f'href="/incidents/{courts["state"][0].pk}/"' not in content
    assert 'name="court_type" value="immigration"' in content


@pytest.mark.parametrize("url", ["/incidents/?court_type=county", "/api/incidents/?court_type=x"])
def test_an_unknown_court_type_is_a_400(client, courts, url):
    response = client.get(url)
    assert response.status_code == 400
    assert "court_type" in response.content.decode() or "Court type" in response.content.decode()


# --- CSV and API -------------------------------------------------------------


def test_the_csv_has_court_type_right_after_courthouse_city(client, courts):
    assert export.COLUMNS.index("court_type") == export.COLUMNS.index("courthouse_city") + 1
    rows = {int(row["id"]): row["court_type"] for row in export_rows(client)}
    assert rows == {
        **{incident.pk: "state" for incident in courts["state"]},
        courts["immigration"][0].pk: "immigration",
    }
    assert [row["id"] for row in export_rows(client, "court_type=immigration")] == [
        str(courts["immigration"][0].pk)
    ]


def test_the_api_object_has_court_type_right_after_courthouse_city(client, courts):
    row = client.get("/api/incidents/?court_type=immigration").json()["results"][0]
    keys = list(row)
    assert keys[keys.index("courthouse_city") + 1] == "court_type"
    assert row["court_type"] == "immigration"


# --- stats and dashboard -----------------------------------------------------


def test_stats_count_incidents_and_people_per_court_type(client, courts):
    rows = client.get("/api/stats/?by=court_type").json()["results"]
    assert [(r["key"], r["label"], r["incidents"], r["people"]) for r in rows] == [
        ("state", "State or local court", 2, 3),
        ("immigration", "Immigration court (EOIR)", 1, 1),
    ]
    csv_text = client.get("/api/stats/?by=court_type&format=csv").content.decode()
    assert "immigration,Immigration court (EOIR),1,1" in csv_text


def test_the_dashboard_splits_incidents_by_court_type(client, courts):
    content = client.get("/").content.decode()
    assert bars(figures(content)["chart-court_type"]) == {
        "State or local court": 2,
        "Immigration court (EOIR)": 1,
    }
    assert html.escape("/api/stats/?by=court_type&format=csv") in content


# --- import ------------------------------------------------------------------


NEW = {"date": "2025-05-14", "state": "NY", "county_fips": "36061", "courthouse_city": "New York"}


def import_rows(*rows, header=export.COLUMNS):
    """Import rows of test_import's ROW with these values, new courthouses in Manhattan."""
    return import_incidents(
        csv_file(*[{**NEW, **row} for row in rows], header=header), create_courthouses=True
    )


def court_types():
    return dict(Courthouse.objects.values_list("name", "court_type"))


def test_import_gives_a_new_courthouse_the_court_type_of_its_row(db):
    report = import_rows(
        {"courthouse": "26 Federal Plaza", "court_type": "immigration"},
        {"courthouse": "Moynihan Courthouse", "court_type": "federal"},
        {"courthouse": "Manhattan Criminal Court", "court_type": "state"},
        {"courthouse": "Midtown Immigration Court", "court_type": ""},  # empty: the name decides
    )
    assert report.written, report.errors
    assert court_types() == {
        "26 Federal Plaza": "immigration",
        "Moynihan Courthouse": "federal",
        "Manhattan Criminal Court": "state",
        "Midtown Immigration Court": "immigration",
    }


def test_a_file_from_before_the_court_type_column_still_imports(db):
    legacy = [name for name in export.COLUMNS if name != "court_type"]
    report = import_rows(
        {"courthouse": "Varick Street Immigration Court"},
        {"courthouse": "Manhattan Criminal Court"},
        header=legacy,
    )
    assert report.written, report.errors
    assert Incident.objects.count() == 2
    assert court_types() == {
        "Varick Street Immigration Court": "immigration",
        "Manhattan Criminal Court": "state",
    }


def test_a_legacy_file_with_a_row_of_the_wrong_width_names_the_line(db):
    legacy = [name for name in export.COLUMNS if name != "court_type"]
    data = csv_file({**NEW, "courthouse": "Manhattan Criminal Court"}, header=legacy) + b"a,b\r\n"
    report = import_incidents(data, create_courthouses=True)
    assert not report.written
    assert report.errors == [f"line 3: expected {len(legacy)} values, found 2"]


def test_an_unknown_court_type_is_reported_with_its_line_and_column(db):
    report = import_rows({"courthouse": "New Court", "court_type": "tribal"})
    assert report.errors == ["line 2, column court_type: 'tribal' is not one of state, immigration, federal"]
    assert not Courthouse.objects.exists()


def test_import_leaves_an_existing_courthouse_s_court_type_alone(db):
    CourthouseFactory(name="Manhattan Criminal Court", city="New York", county_id="36061")
    report = import_rows({"courthouse": "Manhattan Criminal Court", "court_type": "federal"})
    assert report.written, report.errors
    assert court_types() == {"Manhattan Criminal Court": "state"}


def test_export_then_import_into_an_empty_database_keeps_court_types(client, courts):
    CourthouseFactory(name="Moynihan Courthouse", court_type="federal")
    IncidentFactory(courthouse=Courthouse.objects.get(name="Moynihan Courthouse"), reference="FED-1")
    first = export_rows(client)
    response = client.get("/incidents/export.csv")
    data = b"".join(response.streaming_content)

    Incident.objects.all().delete()
    Courthouse.objects.all().delete()
    assert import_incidents(data, create_courthouses=True).written

    def comparable(rows):
        ignored = ("id", "created_at", "updated_at")
        return sorted(({k: v for k, v in row.items() if k not in ignored} for row in rows), key=str)

    assert comparable(export_rows(client)) == comparable(first)
    assert {row["court_type"] for row in first} == {"state", "immigration", "federal"}


# --- data dictionary ---------------------------------------------------------


def test_the_data_dictionary_explains_court_types_and_their_coverage(client):
    page = html.unescape(client.get("/data/").content.decode())
    row = re.search(r'<tr id="column-court_type">(.*?)</tr>', page, re.DOTALL)[1]
    for value, label in (
        ("state", "State or local court"),
        ("immigration", "Immigration court (EOIR)"),
        ("federal", "Federal court"),
    ):
        assert f"<code>{value}</code>: {label}" in row
    assert "Immigration Court" in row  # how a file without the column is read
    coverage = re.search(r'<tr id="court-type-immigration">(.*?)</tr>', page, re.DOTALL)[1]
    assert '<time datetime="2025-01-01">' in coverage
    assert "<code>court_type</code>" in page  # the filter
    assert "Court types and coverage" in page


# --- staff: adding a courthouse ----------------------------------------------


@pytest.mark.parametrize(
    "name, chosen, court_type",
    [
        ("Moynihan Courthouse", "federal", "federal"),
        ("Varick Street Immigration Court", "", "immigration"),  # left empty: the name decides
        ("Manhattan Criminal Court", "", "state"),
    ],
)
def test_staff_add_a_courthouse_with_its_court_type(client, court_admin, name, chosen, court_type):
    client.force_login(court_admin)
    form = client.get("/staff/courthouses/new/").content.decode()
    assert 'name="court_type"' in form
    data = {"name": name, "court_type": chosen, "city": "New York", "state": "NY", "county": "36061"}
    assert client.post("/staff/courthouses/new/", data).status_code == 302
    assert court_types() == {name: court_type}
