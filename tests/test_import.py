"""The CSV import (incidents/imports/): docs/csv.md."""

import csv
import datetime
import io
import re

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.cache import data_version
from incidents.export import COLUMNS
from incidents.limits import SUMMARY_MAX_CHARS
from incidents.models import Courthouse, Incident, today_utc
from incidents.services import import_incidents

from .factories import CourthouseFactory, IncidentFactory

pytestmark = pytest.mark.django_db

ROW = {
    "id": "",
    "reference": "",
    "date": "2019-05-14",
    "date_precision": "day",
    "state": "NY",
    "county": "Kings County",
    "county_fips": "36047",
    "courthouse": "Brooklyn Criminal Court",
    "courthouse_city": "Brooklyn",
    "case_type": "criminal",
    "outcome": "arrested",
    "people_count": "1",
    "person_role": "defendant",
    "location": "inside",
    "agency": "ice",
    "plain_clothes": "yes",
    "agents_identified": "no",
    "force_used": "unknown",
    "court_staff_assisted": "unknown",
    "warrant": "administrative",
    "verification": "verified",
    "source_type": "attorney",
    "source_url": "https://example.org/report",
    "summary": "Agents arrested a defendant in the hallway.",
    "created_at": "",
    "updated_at": "",
}


def csv_file(*rows, header=COLUMNS, bom=False):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        values = {**ROW, **row}
        writer.writerow([values.get(name, "") for name in header])
    return (("\ufeff" if bom else "") + out.getvalue()).encode()


@pytest.fixture
def brooklyn(db):
    return CourthouseFactory(name="Brooklyn Criminal Court", city="Brooklyn", county_id="36047")


@pytest.fixture
def clerk(court_admin):
    """A court administrator who is also a reviewer, so that rows may carry any verification."""
    court_admin.groups.add(Group.objects.get(name="Reviewers"))
    return court_admin


def test_it_creates_incidents_with_their_references(brooklyn, clerk):
    report = import_incidents(
        csv_file({"reference": "OCA-1"}, {"reference": "OCA-2", "outcome": "observed", "people_count": "0"}),
        user=clerk,
    )
    assert report.written and not report.errors
    assert sorted(Incident.objects.values_list("reference", flat=True)) == ["OCA-1", "OCA-2"]
    incident = Incident.objects.get(reference="OCA-1")
    assert incident.courthouse == brooklyn
    assert (incident.county_id, incident.state_id) == ("36047", "NY")
    assert incident.date == datetime.date(2019, 5, 14)
    assert incident.source_url == "https://example.org/report"
    assert (incident.created_by, incident.updated_by, incident.version) == (clerk, clerk, 1)


def test_each_created_incident_has_one_history_row_naming_the_importer(brooklyn, clerk):
    import_incidents(csv_file({"reference": "OCA-1"}, {"reference": "OCA-2"}), user=clerk)
    history = Incident.history.order_by("reference")
    assert [(h.reference, h.history_type, h.history_user) for h in history] == [
        ("OCA-1", "+", clerk),
        ("OCA-2", "+", clerk),
    ]
    assert history[0].history_change_reason == "CSV import"
    assert history[0].summary == ROW["summary"]


def test_a_row_without_reference_gets_an_assigned_one_in_the_history_too(brooklyn, clerk):
    report = import_incidents(csv_file({}, {"summary": "Second."}), user=clerk)
    assert report.written
    for incident in Incident.objects.all():
        assert incident.reference == f"TRK-{incident.pk:06d}"
        assert list(incident.history.values_list("reference", flat=True)) == [incident.reference]


def test_a_file_whose_rows_all_bring_a_reference_reads_no_created_row_again(brooklyn, clerk):
    """Placeholders are looked for (and renamed) only when a row was created without one."""
    for rows, renamed in (([{"reference": "OCA-1"}, {"reference": "TRK-000500"}], False), ([{}], True)):
        with CaptureQueriesContext(connection) as queries:
            report = import_incidents(csv_file(*rows), user=clerk)
        assert report.written, report.errors
        assert any("TMP-" in query["sql"] for query in queries) is renamed, rows
        assert Incident.objects.order_by("pk").last().reference.startswith(("OCA", "TRK")), rows
    assert Incident.objects.filter(reference__startswith="TMP-").count() == 0


def test_an_imported_trk_reference_is_never_assigned_again(brooklyn, clerk):
    from incidents import services

    report = import_incidents(csv_file({"reference": "TRK-000500"}, {"summary": "No reference."}), user=clerk)
    assert report.written
    assigned = Incident.objects.exclude(reference="TRK-000500").get()
    assert assigned.pk != 500 and assigned.reference == f"TRK-{assigned.pk:06d}"
    later = services.create_incident(
        incident=Incident(courthouse=brooklyn, date=datetime.date(2020, 1, 2)), user=clerk
    )
    assert later.pk > assigned.pk and later.reference == f"TRK-{later.pk:06d}"


def test_a_missing_courthouse_is_created_in_the_given_county(db, clerk):
    row = {
        "courthouse": "Stanley Mosk Courthouse",
        "courthouse_city": "Los Angeles",
        "state": "CA",
        "county_fips": "06037",
        "county": "whatever the file says",
    }
    report = import_incidents(csv_file(row, {**row, "reference": "X-2"}), user=clerk, create_courthouses=True)
    assert report.written
    courthouse = Courthouse.objects.get()
    assert (courthouse.name, courthouse.city, courthouse.county_id) == (
        "Stanley Mosk Courthouse",
        "Los Angeles",
        "06037",
    )
    assert courthouse.slug == "stanley-mosk-courthouse"
    assert Incident.objects.filter(courthouse=courthouse).count() == 2
    assert courthouse.history.get().history_user == clerk


def test_a_new_courthouse_gets_a_free_slug(db, clerk):
    CourthouseFactory(name="City Court", city="Albany", county_id="36001")
    import_incidents(
        csv_file({"courthouse": "City Court", "courthouse_city": "Brooklyn"}),
        user=clerk,
        create_courthouses=True,
    )
    assert Courthouse.objects.get(city="Brooklyn").slug == "city-court-brooklyn"


def test_an_existing_reference_updates_that_incident(brooklyn, clerk):
    incident = IncidentFactory(
        reference="OCA-1", courthouse=brooklyn, internal_notes="keep me", docket_number="D-1"
    )
    report = import_incidents(
        csv_file({"reference": "OCA-1", "summary": "Corrected summary.", "people_count": "2"}), user=clerk
    )
    assert report.written and report.updated == 1
    assert {"people_count", "summary"} <= {change.field for change in report.updates[0].changes}
    incident.refresh_from_db()
    assert (incident.summary, incident.people_count, incident.version) == ("Corrected summary.", 2, 2)
    assert (incident.internal_notes, incident.docket_number) == ("keep me", "D-1")
    assert incident.updated_by == clerk
    latest = incident.history.first()
    assert (latest.history_type, latest.history_user, latest.summary) == ("~", clerk, "Corrected summary.")
    assert latest.internal_notes == "keep me"
    assert Incident.objects.count() == 1


def test_an_update_can_move_an_incident_to_a_new_courthouse(brooklyn, clerk):
    incident = IncidentFactory(reference="OCA-1", courthouse=brooklyn)
    row = {
        "reference": "OCA-1",
        "courthouse": "El Paso County Courthouse",
        "courthouse_city": "El Paso",
        "state": "TX",
        "county_fips": "48141",
    }
    import_incidents(csv_file(row), user=clerk, create_courthouses=True)
    incident.refresh_from_db()
    assert (incident.courthouse.name, incident.county_id, incident.state_id) == (
        "El Paso County Courthouse",
        "48141",
        "TX",
    )


def test_reimporting_an_unchanged_file_writes_nothing(brooklyn, clerk):
    data = csv_file({"reference": "OCA-1"}, {"reference": "OCA-2", "summary": "'=SUM(A1)"})
    import_incidents(data, user=clerk)
    before = list(Incident.objects.order_by("pk").values_list("pk", "updated_at", "version"))
    history = Incident.history.count()
    report = import_incidents(data, user=clerk)
    assert (report.unchanged, report.created, report.updated) == (2, 0, 0)
    assert list(Incident.objects.order_by("pk").values_list("pk", "updated_at", "version")) == before
    assert Incident.history.count() == history


def test_it_removes_one_leading_apostrophe_from_escaped_formulas_only(brooklyn, clerk):
    values = {
        "'=SUM(A1)": "=SUM(A1)",
        "''=x": "'=x",
        "'+1": "+1",
        "'-1": "-1",
        "'@cmd": "@cmd",
        "'\tx": "\tx",
        "'hello": "'hello",
        "'": "'",
        "a'=b": "a'=b",
        " '=x": " '=x",
    }
    rows = [{"reference": f"R-{n}", "summary": escaped} for n, escaped in enumerate(values)]
    assert import_incidents(csv_file(*rows), user=clerk).written
    for n, expected in enumerate(values.values()):
        assert Incident.objects.get(reference=f"R-{n}").summary == expected


def test_it_reads_a_byte_order_mark(brooklyn, clerk):
    assert import_incidents(csv_file({"reference": "OCA-1"}, bom=True), user=clerk).written
    assert Incident.objects.filter(reference="OCA-1").exists()


def test_the_import_is_all_or_nothing_when_the_last_row_is_bad(brooklyn, clerk):
    future = (today_utc() + datetime.timedelta(days=400)).isoformat()
    report = import_incidents(
        csv_file({"reference": "A"}, {"reference": "B"}, {"reference": "C", "date": future}), user=clerk
    )
    assert not report.written
    assert report.errors == [f"line 4, column date: {future} is in the future"]
    assert not Incident.objects.exists()
    assert not Incident.history.exists()


@pytest.mark.parametrize("last_row_bad", [False, True])
def test_rows_streamed_in_many_pieces_are_all_or_nothing(brooklyn, clerk, monkeypatch, last_row_bad):
    # On PostgreSQL valid rows reach COPY while later ones are still being read;
    # one row per read makes every row its own piece.
    monkeypatch.setattr("incidents.imports.writing.CHUNK", 1)
    rows = [{"reference": f"R-{n}", "summary": f"Row {n}\twith a tab"} for n in range(40)]
    rows.append({"reference": "", "people_count": "-1" if last_row_bad else "2"})
    report = import_incidents(csv_file(*rows), user=clerk)
    assert report.written is not last_row_bad
    assert Incident.objects.count() == Incident.history.count() == (0 if last_row_bad else 41)
    if not last_row_bad:
        assert Incident.objects.get(reference="R-39").summary == "Row 39\twith a tab"
        last = Incident.objects.get(people_count=2)
        assert last.reference == f"TRK-{last.pk:06d}"
        assert Incident.history.get(id=last.pk).reference == last.reference


def test_a_known_reference_after_the_first_rows_still_updates(brooklyn, clerk, monkeypatch):
    # On PostgreSQL a file whose first batch of references is new is written without
    # looking the rest up; a known one further down must still be an update.
    monkeypatch.setattr("incidents.imports.planning.BATCH", 1)
    incident = IncidentFactory(reference="OCA-9", courthouse=brooklyn, summary="Before.")
    rows = [{"reference": "NEW-1"}, {"reference": "OCA-9", "summary": "After."}, {"reference": "NEW-2"}]
    report = import_incidents(csv_file(*rows), user=clerk)
    assert report.written and (report.created, report.updated) == (2, 1)
    incident.refresh_from_db()
    assert (incident.summary, incident.version) == ("After.", 2)
    assert Incident.objects.count() == 3
    assert Incident.history.filter(history_type="+").count() == 3  # the factory's, NEW-1, NEW-2
    assert list(incident.history.values_list("history_type", flat=True)) == ["~", "+"]


def test_an_imported_trk_reference_inside_the_new_ids_is_not_assigned_twice(brooklyn, clerk):
    # The next id is 1 above the last; a file naming that TRK number and bringing a
    # row without reference must not give the same reference to both.
    last = IncidentFactory(courthouse=brooklyn).pk
    taken = [f"TRK-{n:06d}" for n in range(last + 1, last + 4)]
    report = import_incidents(csv_file({}, *({"reference": ref} for ref in taken), {}), user=clerk)
    assert report.written
    references = list(Incident.objects.values_list("reference", flat=True))
    assert len(references) == len(set(references)) == 6
    assert set(taken) <= set(references)


def test_new_courthouses_between_known_ones_are_created_once(brooklyn, clerk, monkeypatch):
    monkeypatch.setattr("incidents.imports.writing.CHUNK", 1)
    albany = {"courthouse": "Albany City Court", "courthouse_city": "Albany", "county_fips": "36001"}
    queens = {"courthouse": "Queens Criminal Court", "courthouse_city": "Queens", "county_fips": "36081"}
    rows = [{}, albany, {}, queens, albany, {}, queens]
    report = import_incidents(
        csv_file(*({**row, "reference": f"R-{n}"} for n, row in enumerate(rows))),
        user=clerk,
        create_courthouses=True,
    )
    assert report.written and len(report.new_courthouses) == 2
    names = dict(Incident.objects.values_list("reference", "courthouse__name"))
    assert [names[f"R-{n}"] for n in range(len(rows))] == [
        row.get("courthouse", "Brooklyn Criminal Court") for row in rows
    ]
    assert Courthouse.objects.count() == 3
    assert Courthouse.history.filter(name="Albany City Court").count() == 1


def test_a_bad_row_after_a_new_courthouse_creates_no_courthouse(db, clerk):
    row = {"courthouse": "New Court", "courthouse_city": "Albany", "county_fips": "36001"}
    report = import_incidents(csv_file(row, {**row, "outcome": "nope"}), user=clerk, create_courthouses=True)
    assert report.errors and not report.written
    assert not Courthouse.objects.exists()


def test_a_dry_run_reports_and_writes_nothing(brooklyn, clerk):
    IncidentFactory(reference="OCA-1", courthouse=brooklyn)
    new_place = {"courthouse": "New Court", "courthouse_city": "Albany", "county_fips": "36001"}
    data = csv_file({"reference": "OCA-1", "summary": "changed"}, {"reference": "OCA-2"}, new_place)
    report = import_incidents(data, user=clerk, dry_run=True, create_courthouses=True)
    assert (report.created, report.updated, len(report.new_courthouses)) == (2, 1, 1)
    assert not report.written
    assert Incident.objects.count() == 1 and Courthouse.objects.count() == 1
    assert Incident.objects.get().summary != "changed"
    assert Incident.history.count() == 1


def test_a_record_spanning_several_lines_is_counted_from_its_first(brooklyn, clerk):
    data = csv_file({"reference": "A", "summary": "one\ntwo\nthree"}, {"reference": "B", "outcome": "bad"})
    report = import_incidents(data, user=clerk)
    assert report.errors == [
        "line 5, column outcome: 'bad' is not one of arrested, attempted, observed, unknown"
    ]


BAD_ROWS = [
    ({"date": "2019-02-30"}, "line 2, column date: '2019-02-30' is not a valid date (YYYY-MM-DD)"),
    ({"date": "14/05/2019"}, "line 2, column date: '14/05/2019' is not a valid date (YYYY-MM-DD)"),
    ({"date": "2099-01-01"}, "line 2, column date: 2099-01-01 is in the future"),
    (
        {"date_precision": "month"},
        "line 2, column date: A month-precision date must be the first day of its month.",
    ),
    (
        {"case_type": "tax"},
        (
            "line 2, column case_type: 'tax' is not one of criminal, family, civil, "
            "housing, traffic, juvenile, immigration, other, unknown"
        ),
    ),
    ({"plain_clothes": "Yes"}, "line 2, column plain_clothes: 'Yes' is not one of yes, no, unknown"),
    ({"people_count": "-1"}, "line 2, column people_count: '-1' is not a whole number of 0 or more"),
    ({"people_count": "1.5"}, "line 2, column people_count: '1.5' is not a whole number of 0 or more"),
    ({"people_count": "0"}, "line 2, column people_count: At least 1 person when the outcome is arrested."),
    (
        {"outcome": "attempted"},
        "line 2, column people_count: Must be 0 when the outcome is attempted or observed.",
    ),
    ({"state": "ZZ"}, "line 2, column state: unknown state 'ZZ' (expected a USPS code such as NY)"),
    ({"county_fips": "06037"}, "line 2, column county_fips: county 06037 is in CA, not NY"),
    ({"county_fips": "99999"}, "line 2, column county_fips: unknown county FIPS code '99999'"),
    (
        {"county_fips": "36061"},
        "line 2, column county_fips: Brooklyn Criminal Court (Brooklyn, NY) is in county 36047, not 36061",
    ),
    ({"courthouse": ""}, "line 2, column courthouse: must not be empty"),
    ({"source_url": "not a url"}, "line 2, column source_url: 'not a url' is not a valid URL"),
    ({"reference": "R" * 65}, "line 2, column reference: longer than 64 characters"),
]


@pytest.mark.parametrize("row, error", BAD_ROWS, ids=[e.split(": ", 1)[1][:40] for _, e in BAD_ROWS])
def test_a_bad_value_is_reported_with_its_line_and_column(brooklyn, clerk, row, error):
    report = import_incidents(csv_file(row), user=clerk)
    assert report.errors == [error]
    assert not report.written and not Incident.objects.exists()


def test_every_error_of_the_file_is_reported(brooklyn, clerk):
    report = import_incidents(csv_file({"outcome": "x", "agency": "fbi"}, {}, {"state": "ZZ"}), user=clerk)
    assert [error.split(":")[0] for error in report.errors] == [
        "line 2, column outcome",
        "line 2, column agency",
        "line 4, column state",
    ]


def test_a_reference_repeated_in_the_file_names_both_lines(brooklyn, clerk):
    report = import_incidents(
        csv_file({"reference": "OCA-1"}, {"reference": "OCA-2"}, {"reference": "OCA-1"}), user=clerk
    )
    assert report.errors == ["line 4, column reference: OCA-1 is repeated: it is also on line 2"]
    assert not Incident.objects.exists()


def test_one_new_courthouse_given_two_counties_is_an_error(db, clerk):
    row = {"courthouse": "New Court", "courthouse_city": "Albany", "county_fips": "36001"}
    report = import_incidents(
        csv_file(row, {**row, "county_fips": "36047"}), user=clerk, create_courthouses=True
    )
    assert report.errors == [
        "line 3, column county_fips: New Court (Albany, NY) is in county 36001 on line 2"
    ]


def header_without(name):
    return [column for column in COLUMNS if column != name]


@pytest.mark.parametrize(
    "header, errors",
    [
        (header_without("outcome"), ["line 1, column outcome: this column is missing; it is required"]),
        ([*COLUMNS, "notes"], ["line 1, column notes: not a column of this format"]),
        ([*COLUMNS, "summary"], ["line 1, column summary: this column appears twice"]),
        ([*COLUMNS, ""], ["line 1, column #28 (empty): not a column of this format"]),
    ],
)
def test_a_wrong_header_is_refused(brooklyn, clerk, header, errors):
    report = import_incidents(csv_file({}, header=header), user=clerk)
    assert report.errors == errors
    assert not Incident.objects.exists()


@pytest.mark.parametrize(
    "data, error",
    [
        (b"", "line 1: the file is empty; expected a header line and rows"),
        (b"  \r\n", "line 1: the file is empty; expected a header line and rows"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "line 3: this is a binary file, not CSV text"),
        (",".join(COLUMNS).encode() + b"\r\n", "line 2: the file has a header but no rows"),
    ],
)
def test_an_empty_or_binary_file_is_refused(db, clerk, data, error):
    report = import_incidents(data, user=clerk)
    assert report.errors == [error]


def test_a_file_that_is_not_utf8_is_refused_naming_the_line(brooklyn, clerk):
    data = csv_file({"reference": "A"}, {"reference": "B", "summary": "café"}).decode().encode("latin-1")
    report = import_incidents(data, user=clerk)
    assert report.errors == [
        (
            'line 3: the file is not UTF-8 text (byte 0xE9); save it as UTF-8 ("CSV UTF-8" in Excel) '
            "and try again"
        )
    ]
    assert not Incident.objects.exists()


def test_malformed_quoting_is_refused(brooklyn, clerk):
    data = csv_file({"reference": "A"}) + b'"unterminated,\r\n'
    report = import_incidents(data, user=clerk)
    assert report.errors[0].startswith("line 3: malformed CSV")
    assert not Incident.objects.exists()


def test_the_row_limit_is_enforced_with_a_clear_message(brooklyn, clerk, settings):
    settings.IMPORT_MAX_ROWS = 2
    report = import_incidents(
        csv_file({"reference": "A"}, {"reference": "B"}, {"reference": "C"}), user=clerk
    )
    assert report.errors == ["line 4: the file has more than 2 rows (IMPORT_MAX_ROWS); split it"]
    assert not Incident.objects.exists()


def test_the_size_limit_is_enforced_with_a_clear_message(brooklyn, clerk, settings):
    data = csv_file({"reference": "A"})
    settings.IMPORT_MAX_BYTES = len(data) - 1
    report = import_incidents(data, user=clerk)
    assert report.errors == [
        (
            f"line 1: the file is {len(data):,} bytes, over the limit of {len(data) - 1:,} bytes "
            "(IMPORT_MAX_BYTES); split it into smaller files"
        )
    ]


def test_the_number_of_queries_does_not_grow_with_the_rows(brooklyn, clerk):
    def queries(count, prefix):
        rows = [{"reference": f"{prefix}-{n}"} for n in range(count)]
        rows += [{"courthouse": f"{prefix} Court", "courthouse_city": "Albany", "county_fips": "36001"}] * 3
        with CaptureQueriesContext(connection) as captured:
            assert import_incidents(csv_file(*rows), user=clerk, create_courthouses=True).written
        return len(captured)

    clerk.has_perm("incidents.review_incident")  # the user's permissions are read once, then cached
    # (SQLite inserts at most 25 history rows of this width per statement: stay under that.)
    assert queries(3, "small") == queries(20, "large")


def test_an_import_makes_cached_figures_stale(brooklyn, clerk, django_capture_on_commit_callbacks):
    before = data_version()
    with django_capture_on_commit_callbacks(execute=True):
        import_incidents(csv_file({"reference": "A"}), user=clerk)
    assert data_version() != before


def test_export_then_import_into_an_empty_database_gives_the_same_rows(client, clerk):
    el_paso = CourthouseFactory(texas=True, name="El Paso County Courthouse")
    hostile = [
        "=SUM(A1)",
        "'=x",
        "+1",
        "-",
        "@cmd",
        "\tx",
        "'hello",
        "line\nbreak",
        'say "hi", ok',
        "\\N",
        "résumé ✓",
        "  padded  ",
        "cr\rin the middle",
        "",
        "=" + "x" * (SUMMARY_MAX_CHARS - 1),  # the longest summary, one character longer once escaped
    ]
    for n, summary in enumerate(hostile):
        IncidentFactory(
            summary=summary,
            courthouse=el_paso if n % 2 else CourthouseFactory(),
            source_url="" if n % 3 else "https://example.org/a?b=1",
        )
    IncidentFactory(month_only=True, reference="OCA-77", observed=True, verification="disputed")
    IncidentFactory(retracted=True)  # not exported, so not imported
    exported = export_bytes(client)
    first = rows_without_bookkeeping(exported)
    assert len(first) == len(hostile) + 1

    Incident.objects.all().delete()
    Courthouse.objects.all().delete()
    report = import_incidents(exported, user=clerk, create_courthouses=True)
    assert report.written, report.errors
    assert rows_without_bookkeeping(export_bytes(client)) == first


def export_bytes(client):
    response = client.get("/incidents/export.csv")
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def rows_without_bookkeeping(data):
    """The export's rows without id, created_at, updated_at, sorted by reference."""
    rows = csv.DictReader(io.StringIO(data.decode("utf-8"), newline=""))
    ignored = ("id", "created_at", "updated_at")
    return sorted(
        ({name: value for name, value in row.items() if name not in ignored} for row in rows),
        key=lambda row: row["reference"],
    )


# The web import: upload, preview, confirm ------------------------------------


@pytest.fixture
def clerk_client(client, clerk, settings, tmp_path):
    settings.IMPORT_UPLOAD_DIR = str(tmp_path / "uploads")
    client.force_login(clerk)
    return client


def upload(client, data, name="incidents.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        "/incidents/import/", {"file": SimpleUploadedFile(name, data, content_type="text/csv")}
    )


def token_of(response):
    return re.search(r'name="token" value="([^"]+)"', response.content.decode()).group(1)


def test_the_upload_page_states_the_limits(clerk_client, settings):
    settings.IMPORT_MAX_ROWS = 5000
    html = clerk_client.get("/incidents/import/").content.decode()
    assert "5,000 rows" in html and 'enctype="multipart/form-data"' in html
    assert "at most 20,000 characters" in html and "before 1990-01-01" in html


def test_an_upload_shows_a_preview_and_writes_nothing(brooklyn, clerk_client):
    IncidentFactory(reference="OCA-1", courthouse=brooklyn)
    new_place = {
        "reference": "OCA-3",
        "courthouse": "New Court",
        "courthouse_city": "Albany",
        "county_fips": "36001",
    }
    response = upload(
        clerk_client,
        csv_file({"reference": "OCA-1", "summary": "Changed."}, {"reference": "OCA-2"}, new_place),
    )
    token = token_of(response)  # the file is kept for the tick
    response = clerk_client.post("/incidents/import/", {"token": token, "create_courthouses": "on"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Import preview" in html and "Nothing has been saved yet." in html
    assert "<td>OCA-2</td>" in html and "<td>OCA-3</td>" in html  # rows to create
    assert "<td>OCA-1</td>" in html and "<del>Agents arrested a defendant in the hallway.</del>" in html
    assert "<td>New Court</td><td>Albany</td><td>NY</td><td>36001</td>" in html  # courthouse to create
    assert Incident.objects.count() == 1 and Incident.objects.get().summary != "Changed."


def test_confirming_the_preview_writes_the_file(brooklyn, clerk_client, clerk):
    response = upload(clerk_client, csv_file({"reference": "OCA-2"}, {"reference": "OCA-3"}))
    result = clerk_client.post("/incidents/import/confirm/", {"token": token_of(response)})
    assert result.status_code == 200
    assert "Imported: 2 incidents created, 0 updated." in result.content.decode()
    assert set(Incident.objects.values_list("reference", flat=True)) == {"OCA-2", "OCA-3"}
    assert Incident.history.filter(history_user=clerk).count() == 2
    # The kept file is gone: the same confirmation cannot run twice.
    again = clerk_client.post("/incidents/import/confirm/", {"token": token_of(response)})
    assert again.status_code == 302 and Incident.objects.count() == 2


def test_a_preview_lists_every_error_and_offers_no_confirmation(brooklyn, clerk_client):
    response = upload(clerk_client, csv_file({"reference": "A"}, {"date": "2019-13-01"}, {"state": "XX"}))
    html = response.content.decode()
    assert "2 errors: nothing will be imported." in html
    assert "line 3, column date: &#x27;2019-13-01&#x27; is not a valid date (YYYY-MM-DD)" in html
    assert "line 4, column state: unknown state &#x27;XX&#x27;" in html
    assert 'name="token"' not in html
    assert not Incident.objects.exists()


def test_a_binary_upload_is_refused_with_a_clear_message(brooklyn, clerk_client):
    html = upload(clerk_client, b"PK\x03\x04\x00\x00binary", name="sheet.xlsx").content.decode()
    assert "line 1: this is a binary file, not CSV text" in html
    assert not Incident.objects.exists()


def test_an_upload_over_the_size_limit_is_refused(brooklyn, clerk_client, settings):
    settings.IMPORT_MAX_BYTES = 100
    response = upload(clerk_client, csv_file({}))
    assert "over the limit of 100 bytes" in response.content.decode()
    assert response.status_code == 200 and not Incident.objects.exists()


def test_someone_elses_or_a_forged_token_is_refused(brooklyn, clerk_client, superuser):
    from django.test import Client

    token = token_of(upload(clerk_client, csv_file({"reference": "OCA-2"})))
    other = Client()
    other.force_login(superuser)
    for forged in (token, token[:-2] + "xx", "../../etc/passwd"):
        response = other.post("/incidents/import/confirm/", {"token": forged})
        assert response.status_code == 302 and response["Location"] == "/incidents/import/"
    assert not Incident.objects.exists()


def test_a_file_that_changes_nothing_says_so(brooklyn, clerk_client, clerk):
    data = csv_file({"reference": "OCA-2"})
    import_incidents(data, user=clerk)
    html = upload(clerk_client, data).content.decode()
    assert "This file changes nothing" in html and 'name="token"' not in html
