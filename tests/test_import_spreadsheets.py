"""An import that forgives ordinary spreadsheets, and goes through services (issues 15 and 11)."""

import csv
import io
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from incidents import services
from incidents.imports import IGNORED_COLUMNS, REQUIRED_COLUMNS
from incidents.models import Courthouse, Incident
from incidents.services import import_incidents

from .factories import CourthouseFactory, IncidentFactory
from .test_import import token_of, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def brooklyn(db):
    return CourthouseFactory(name="Brooklyn Criminal Court", city="Brooklyn", county_id="36047")


@pytest.fixture
def clerk(court_admin):
    return court_admin


@pytest.fixture
def clerk_client(client, clerk, settings, tmp_path):
    settings.IMPORT_UPLOAD_DIR = str(tmp_path / "uploads")
    client.force_login(clerk)
    return client


FOUR = ("date", "state", "courthouse", "outcome")


def sheet(header, *rows):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def test_a_four_column_file_creates_incidents_with_the_documented_defaults(brooklyn, clerk):
    data = sheet(
        FOUR,
        ("2024-03-05", "NY", "Brooklyn Criminal Court", "arrested"),
        ("2024-03-06", "NY", "Brooklyn Criminal Court", "observed"),
    )
    report = import_incidents(data, user=clerk)
    assert report.written, report.errors
    arrested, observed = Incident.objects.order_by("date")
    assert (arrested.people_count, observed.people_count) == (1, 0)
    assert arrested.reference.startswith("TRK-") and arrested.courthouse == brooklyn
    assert (arrested.county_id, arrested.state_id) == ("36047", "NY")
    defaults = ("unknown", "unknown", "unknown", "unverified", "other", "day", "", "")
    assert (
        arrested.case_type,
        arrested.agency,
        arrested.warrant,
        arrested.verification,
        arrested.source_type,
        arrested.date_precision,
        arrested.summary,
        arrested.internal_notes,
    ) == defaults


def test_columns_may_come_in_any_order_and_case(brooklyn, clerk):
    data = sheet(
        (" Outcome", "COURTHOUSE", "summary", "State", "date"),
        ("arrested", "Brooklyn Criminal Court", "x", "NY", "2024-03-05"),
    )
    report = import_incidents(data, user=clerk)
    assert report.written, report.errors
    assert Incident.objects.get().summary == "x"


def test_the_four_required_columns_are_named_when_missing(brooklyn, clerk):
    report = import_incidents(sheet(("summary",), ("x",)), user=clerk)
    assert report.errors == [
        f"line 1, column {name}: this column is missing; it is required" for name in REQUIRED_COLUMNS
    ]


def test_an_update_keeps_the_values_of_the_columns_the_file_lacks(brooklyn, clerk):
    incident = IncidentFactory(
        reference="OCA-1", courthouse=brooklyn, summary="Kept.", internal_notes="kept note", people_count=3
    )
    data = sheet(
        ("reference", *FOUR),
        ("OCA-1", incident.date.isoformat(), "NY", "Brooklyn Criminal Court", "arrested"),
    )
    report = import_incidents(data, user=clerk)
    assert not report.error_count
    incident.refresh_from_db()
    assert (incident.summary, incident.internal_notes, incident.people_count) == ("Kept.", "kept note", 3)


def test_an_update_whose_kept_values_break_a_rule_is_an_error_not_a_crash(brooklyn, clerk):
    IncidentFactory(reference="OCA-1", courthouse=brooklyn, outcome="arrested", people_count=2)
    data = sheet(("reference", *FOUR), ("OCA-1", "2024-03-05", "NY", "Brooklyn Criminal Court", "observed"))
    report = import_incidents(data, user=clerk)
    assert report.errors == [
        "line 2, column people_count: Must be 0 when the outcome is attempted or observed."
    ]


def test_a_courthouse_name_that_does_not_match_suggests_the_closest(brooklyn, clerk):
    CourthouseFactory(name="Bronx Criminal Court", city="Bronx", county_id="36005")
    CourthouseFactory(name="Brooklyn Criminal Court", city="El Paso", county_id="48141")  # another state
    data = sheet(
        FOUR,
        ("2024-03-05", "NY", "Brooklyn Criminal Crt", "arrested"),
        ("2024-03-06", "NY", "Brooklyn Criminal Crt", "arrested"),
    )
    report = import_incidents(data, user=clerk)
    assert report.errors == [
        "line 2, column courthouse: no courthouse named 'Brooklyn Criminal Crt' in NY; "
        "did you mean: Brooklyn Criminal Court (Brooklyn); Bronx Criminal Court (Bronx)?"
    ]
    assert not report.written and Courthouse.objects.count() == 3
    # Without a city and county the file cannot create it either: no tick is offered.
    assert not report.creatable_courthouses


def test_a_city_that_does_not_match_is_not_silently_another_courthouse(brooklyn, clerk):
    data = sheet(
        (*FOUR, "courthouse_city", "county_fips"),
        ("2024-03-05", "NY", "Brooklyn Criminal Court", "arrested", "Brookyln", "36047"),
    )
    report = import_incidents(data, user=clerk)
    assert report.errors == [
        "line 2, column courthouse: no courthouse named 'Brooklyn Criminal Court' in Brookyln, NY; "
        "did you mean: Brooklyn Criminal Court (Brooklyn)?"
    ]
    assert list(report.creatable_courthouses) == [("Brooklyn Criminal Court", "Brookyln", "NY")]


def test_two_courthouses_of_one_name_need_the_city(brooklyn, clerk):
    CourthouseFactory(name="Brooklyn Criminal Court", city="Albany", county_id="36001")
    report = import_incidents(
        sheet(FOUR, ("2024-03-05", "NY", "Brooklyn Criminal Court", "arrested")), user=clerk
    )
    assert report.errors == [
        "line 2, column courthouse: several courthouses match: Brooklyn Criminal Court (Albany), "
        "Brooklyn Criminal Court (Brooklyn); give courthouse_city"
    ]


NEW_PLACE = (*FOUR, "courthouse_city", "county_fips")
NEW_ROW = ("2024-03-05", "NY", "Albany City Court", "arrested", "Albany", "36001")


def test_a_new_courthouse_is_created_only_when_asked(db, clerk):
    refused = import_incidents(sheet(NEW_PLACE, NEW_ROW), user=clerk)
    assert not refused.written and not Courthouse.objects.exists()
    assert list(refused.creatable_courthouses.items()) == [(("Albany City Court", "Albany", "NY"), "36001")]
    created = import_incidents(sheet(NEW_PLACE, NEW_ROW), user=clerk, create_courthouses=True)
    assert created.written and Courthouse.objects.get().name == "Albany City Court"


def test_a_new_courthouse_needs_its_county(db, clerk):
    data = sheet((*FOUR, "courthouse_city"), ("2024-03-05", "NY", "Albany City Court", "arrested", "Albany"))
    report = import_incidents(data, user=clerk, create_courthouses=True)
    assert report.errors == ["line 2, column county_fips: a new courthouse needs its county_fips"]


def test_the_command_creates_courthouses_only_with_the_flag(db, tmp_path):
    path = tmp_path / "sheet.csv"
    path.write_bytes(sheet(NEW_PLACE, NEW_ROW))
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_incidents", str(path), stdout=io.StringIO(), stderr=err)
    assert "run again with --create-courthouses:\n  Albany City Court (Albany, NY)" in err.getvalue()
    assert not Courthouse.objects.exists()
    out = io.StringIO()
    call_command("import_incidents", str(path), "--create-courthouses", stdout=out, stderr=io.StringIO())
    assert "1 courthouses create" in out.getvalue()
    assert Incident.objects.get().courthouse.name == "Albany City Court"


def test_the_preview_offers_the_tick_and_lists_exactly_which_courthouses(db, clerk_client):
    CourthouseFactory(name="Albany County Courthouse", city="Albany", county_id="36001")
    response = upload(clerk_client, sheet(NEW_PLACE, NEW_ROW, NEW_ROW))
    html = response.content.decode()
    assert "did you mean: Albany County Courthouse (Albany)?" in html
    assert "<li>Albany City Court (Albany, NY; county 36001)</li>" in html
    assert 'name="create_courthouses"' in html and "Import this file" not in html
    token = token_of(response)
    unticked = clerk_client.post("/incidents/import/", {"token": token})
    assert "Import this file" not in unticked.content.decode()
    ticked = clerk_client.post("/incidents/import/", {"token": token, "create_courthouses": "on"})
    assert "Importing also creates the courthouse listed below." in ticked.content.decode()
    assert Courthouse.objects.count() == 1  # a preview writes nothing
    result = clerk_client.post("/incidents/import/confirm/", {"token": token_of(ticked)})
    assert result.status_code == 200
    assert Courthouse.objects.filter(name="Albany City Court").exists() and Incident.objects.count() == 2


def test_an_unticked_token_does_not_create_courthouses_on_confirmation(db, clerk_client):
    response = upload(clerk_client, sheet(NEW_PLACE, NEW_ROW))
    result = clerk_client.post("/incidents/import/confirm/", {"token": token_of(response)})
    assert result.status_code == 400 and not Courthouse.objects.exists()


def test_the_preview_shows_old_and_new_of_every_changed_value(brooklyn, clerk_client):
    CourthouseFactory(name="Bronx Criminal Court", city="Bronx", county_id="36005")
    IncidentFactory(
        reference="OCA-1", courthouse=brooklyn, outcome="arrested", people_count=1, docket_number=""
    )
    data = sheet(
        ("reference", *FOUR, "people_count", "docket_number"),
        ("OCA-1", "2024-03-05", "NY", "Bronx Criminal Court", "arrested", "4", "D-77"),
    )
    html = upload(clerk_client, data).content.decode()
    for field, old, new in [
        ("courthouse", "Brooklyn Criminal Court (Brooklyn)", "Bronx Criminal Court (Bronx)"),
        ("people_count", "1", "4"),
        ("docket_number", "(empty)", "D-77"),
    ]:
        assert f'<span class="field">{field}</span>: <del>{old}</del> → <ins>{new}</ins>' in html


def test_staff_only_columns_are_imported_and_never_exported(brooklyn, clerk, client):
    data = sheet(
        (*FOUR, "internal_notes", "docket_number", "reporter_contact"),
        (
            "2024-03-05",
            "NY",
            "Brooklyn Criminal Court",
            "arrested",
            "NOTE-MARK",
            "DOCKET-MARK",
            "CONTACT-MARK",
        ),
    )
    assert import_incidents(data, user=clerk).written
    incident = Incident.objects.get()
    assert (incident.internal_notes, incident.docket_number, incident.reporter_contact) == (
        "NOTE-MARK",
        "DOCKET-MARK",
        "CONTACT-MARK",
    )
    exported = b"".join(client.get("/incidents/export.csv").streaming_content)
    assert b"MARK" not in exported and incident.reference.encode() in exported


def test_a_staff_only_change_keeps_the_public_updated_at(brooklyn, clerk):
    incident = IncidentFactory(reference="OCA-1", courthouse=brooklyn)
    before = Incident.objects.get(pk=incident.pk).updated_at
    data = sheet(
        ("reference", *FOUR, "people_count", "internal_notes"),
        (
            "OCA-1",
            incident.date.isoformat(),
            "NY",
            brooklyn.name,
            incident.outcome,
            incident.people_count,
            "n",
        ),
    )
    report = import_incidents(data, user=clerk)
    assert report.updated == 1, report.errors
    incident.refresh_from_db()
    assert (incident.internal_notes, incident.updated_at) == ("n", before)


def test_the_upload_page_offers_a_template_that_imports(brooklyn, clerk_client):
    page = clerk_client.get("/incidents/import/").content.decode()
    assert 'href="?template=csv"' in page
    response = clerk_client.get("/incidents/import/?template=csv")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    header = response.content.decode().strip().split(",")
    assert set(REQUIRED_COLUMNS) <= set(header) and not set(IGNORED_COLUMNS) & set(header)
    assert {"internal_notes", "docket_number", "reporter_contact"} <= set(header)
    row = {"date": "2024-03-05", "state": "NY", "courthouse": brooklyn.name, "outcome": "arrested"}
    filled = sheet(header, [row.get(name, "") for name in header])
    assert token_of(upload(clerk_client, filled))


def test_the_template_is_staff_only(client):
    assert client.get("/incidents/import/?template=csv").status_code in (302, 403)


# --- One write path (issue 11) ----------------------------------------------------


def test_the_command_writes_through_services(brooklyn, tmp_path):
    path = tmp_path / "sheet.csv"
    path.write_bytes(sheet(FOUR, ("2024-03-05", "NY", "Brooklyn Criminal Court", "arrested")))
    with mock.patch.object(services, "bump_data_version") as bump:
        call_command("import_incidents", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    assert bump.call_count == 1 and Incident.objects.count() == 1


def test_the_web_confirmation_writes_through_services(brooklyn, clerk_client):
    response = upload(clerk_client, sheet(FOUR, ("2024-03-05", "NY", "Brooklyn Criminal Court", "arrested")))
    with mock.patch.object(services, "import_incidents", wraps=services.import_incidents) as write:
        clerk_client.post("/incidents/import/confirm/", {"token": token_of(response)})
    assert write.call_count == 1 and Incident.objects.count() == 1
    assert Incident.history.get().history_change_reason == "CSV import"


def test_a_dry_run_and_a_failed_import_leave_the_data_version_alone(brooklyn, clerk):
    data = sheet(FOUR, ("2024-03-05", "NY", "Brooklyn Criminal Court", "arrested"))
    with mock.patch.object(services, "bump_data_version") as bump:
        import_incidents(data, user=clerk, dry_run=True)
        import_incidents(data + b"2099-01-01,NY,Brooklyn Criminal Court,arrested\r\n", user=clerk)
    assert bump.call_count == 0 and not Incident.objects.exists()
