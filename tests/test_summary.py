"""The summary table answers what GROUP BY over the incidents answers, after every kind of write."""

import datetime

import pytest
from django.db import connection, transaction
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from incidents import choices, services, summary
from incidents.filters import filter_incidents
from incidents.models import Incident, Summary
from incidents.stats import _counts

from .factories import CourthouseFactory, IncidentFactory

on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's import")

DIMENSIONS = [*summary.READ_AS]
FILTERS = [
    "",
    "state=NY",
    "state=NY&state=TX",
    "date_after=2019-05-01",
    "date_before=2019-05-31",
    "date_after=2019-05-15&date_before=2019-07-02",
    "date_after=2019-05-02&date_before=2019-05-20",
    "date_after=2019-05-15&date_before=2019-05-14",
    "state=CA&date_before=2020-01-10",
]


def state_of(query):
    return filter_incidents(QueryDict(query))


def assert_same_as_incidents():
    for query in FILTERS:
        state = state_of(query)
        for by in DIMENSIONS:
            found = summary.counts(state, by)
            if found is None:  # kept over all time only, asked for a range that leaves rows out
                assert "date" in query and by in ("county", "courthouse", "court_type"), (query, by)
                continue
            assert found == _counts(state.incidents, by), (query, by)
        for outcome in choices.Outcome.values:
            expected = _counts(state.incidents.filter(outcome=outcome), "month")
            assert summary.counts(state, "month", outcome) == expected, (query, outcome)


@pytest.fixture
def spread(db):
    brooklyn, el_paso, la = (
        CourthouseFactory(),
        CourthouseFactory(texas=True),
        CourthouseFactory(california=True),
    )
    days = [datetime.date(2019, 4, 30), datetime.date(2019, 5, 1), datetime.date(2019, 5, 14)]
    days += [datetime.date(2019, 6, 3), datetime.date(2019, 7, 2), datetime.date(2020, 1, 9)]
    rows = []
    for n, day in enumerate(days):
        for place in (brooklyn, el_paso, la):
            rows.append(IncidentFactory(date=day, courthouse=place, people_count=n % 3 + 1))
    IncidentFactory(date=days[2], courthouse=el_paso, attempted=True)
    IncidentFactory(date=days[3], courthouse=la, retracted=True)
    return rows


def test_it_counts_what_the_incidents_count(spread):
    assert_same_as_incidents()


def test_an_edit_through_services_shows_in_the_summary(spread, superuser):
    incident = spread[0]
    incident.outcome, incident.people_count = choices.Outcome.OBSERVED, 0
    services.update_incident(incident=incident, expected_version=incident.version, user=superuser)
    observed = Summary.objects.get(dimension="outcome", value="observed", month=Summary.ALL_TIME, state="NY")
    assert observed.incidents == 1
    assert_same_as_incidents()


def test_retraction_restoration_and_moves_show(spread, superuser):
    services.retract_incident(pk=spread[1].pk, reason="x", public_reason="duplicate", user=superuser)
    services.restore_incident(pk=Incident.objects.filter(status="retracted").first().pk, user=superuser)
    moved = spread[4]
    moved.date, moved.courthouse = datetime.date(2019, 5, 20), spread[5].courthouse
    services.update_incident(incident=moved, expected_version=moved.version, user=superuser)
    assert_same_as_incidents()


def test_bulk_writes_and_deletes_show(spread):
    Incident.objects.filter(state_id="TX", outcome="arrested").update(
        case_type=choices.CaseType.CIVIL, people_count=7
    )
    Incident.objects.filter(date__lt=datetime.date(2019, 5, 2), state_id="CA").delete()
    place = spread[0].courthouse
    new = [
        IncidentFactory.build(courthouse=place, county_id=place.county_id, state_id="NY", reference=f"B{n}")
        for n in range(3)
    ]
    Incident.objects.bulk_create(new)
    assert_same_as_incidents()


def test_a_wording_edit_writes_no_summary_row(spread, superuser, django_assert_num_queries):
    before = list(Summary.objects.order_by("pk").values_list("pk", "incidents", "people"))
    incident = spread[2]
    incident.summary = "Agents waited outside the courtroom."
    services.update_incident(incident=incident, expected_version=incident.version, user=superuser)
    assert list(Summary.objects.order_by("pk").values_list("pk", "incidents", "people")) == before


@pytest.mark.parametrize("query", ["county=36047", "outcome=arrested", "q=hallway", "state=ZZ"])
def test_other_filters_count_the_incidents(spread, query):
    assert summary.counts(state_of(query), "outcome") is None


def test_a_place_page_counts_the_incidents(spread):
    place = spread[0].courthouse
    state = filter_incidents(
        QueryDict(""), Incident.objects.public().filter(courthouse=place), ("courthouse", "x")
    )
    assert summary.counts(state, "outcome") is None


def test_the_dashboard_reads_the_summary(client, spread):
    Summary.objects.filter(dimension="outcome", month=Summary.ALL_TIME).update(incidents=999)
    assert "999" in client.get("/api/stats/?by=outcome").content.decode()


@pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="PostgreSQL's flush truncates every table at once, firing no trigger",
)
def test_emptying_the_summary_before_the_incidents_leaves_no_row(spread):
    """SQLite's test database flush deletes the tables one by one, in any order."""
    Summary.objects.all().delete()
    Incident.objects.all().delete()
    assert not Summary.objects.filter(incidents__lt=0).exists()
    assert not Summary.objects.exclude(incidents=0).exists()


def test_a_row_left_negative_or_for_a_deleted_place_never_breaks_a_page(client, spread):
    Summary.objects.create(
        month=Summary.ALL_TIME, state="NY", dimension="courthouse", value="987654", incidents=-1, people=-1
    )
    Summary.objects.create(
        month=Summary.ALL_TIME, state="NY", dimension="courthouse", value="987655", incidents=2, people=2
    )
    assert client.get("/").status_code == 200
    assert client.get("/api/stats/?by=courthouse").status_code == 200


def test_an_import_shows_in_the_summary_and_the_next_write_too(spread):
    """An import writes through COPY on PostgreSQL (a statement trigger per COPY), through
    bulk inserts on SQLite (a row trigger each)."""
    from .test_import import csv_file

    place = spread[0].courthouse
    rows = [
        {
            "reference": f"IMP-{n}",
            "date": f"2019-0{5 + n % 3}-1{n % 9}",
            "outcome": outcome,
            "people_count": "2" if outcome == "arrested" else "0",
        }
        for n, outcome in enumerate(["arrested", "attempted", "observed", "arrested", "arrested"])
    ]
    named = {"courthouse": place.name, "courthouse_city": place.city, "county_fips": place.county_id}
    report = services.import_incidents(csv_file(*({**row, **named} for row in rows)))
    assert report.written, report.errors
    assert_same_as_incidents()
    IncidentFactory(courthouse=place, date=datetime.date(2019, 5, 20))  # a plain INSERT afterwards
    assert_same_as_incidents()


@on_postgresql
def test_an_import_of_several_copies_counts_its_rows_once_at_its_end(spread, monkeypatch):
    """Ids reserved two at a time: a COPY per two rows; rows without a reference are
    renamed by an UPDATE before the count, and an existing incident is edited."""
    from incidents.imports import writing

    from .test_import import csv_file

    monkeypatch.setattr(writing, "FIRST_IDS", 2)
    place = spread[0].courthouse
    named = {"courthouse": place.name, "courthouse_city": place.city, "county_fips": place.county_id}
    rows = [{"reference": "", "date": f"2019-0{5 + n % 3}-1{n}", **named} for n in range(7)]
    edited = spread[1]
    rows.append({"reference": edited.reference, "date": "2019-08-08", **named})
    with CaptureQueriesContext(connection) as queries:
        report = services.import_incidents(csv_file(*rows))
    assert report.written, report.errors
    assert Incident.objects.get(pk=edited.pk).date == datetime.date(2019, 8, 8)
    first_new = sorted(Incident.objects.values_list("pk", flat=True))[-7]
    assert [q["sql"] for q in queries if "summary_add_from" in q["sql"]] == [
        f"SELECT incidents_summary_add_from({first_new})"
    ]
    assert_same_as_incidents()


@on_postgresql
def test_while_an_import_counts_later_the_insert_trigger_counts_nothing(spread):
    def rows():
        return sorted(Summary.objects.values_list("dimension", "month", "state", "value", "incidents"))

    before = rows()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL incidents.summary_later = on")
        new = IncidentFactory(courthouse=spread[0].courthouse, date=datetime.date(2019, 5, 20))
        assert rows() == before
        with connection.cursor() as cursor:
            cursor.execute("SELECT incidents_summary_add_from(%s)", [new.pk])
    assert rows() != before
    assert_same_as_incidents()


@on_postgresql
def test_one_read_counts_what_twelve_group_bys_count(spread):
    """Migration 0024's GROUPING SETS give 0020's rows, in 0020's order, for added and
    taken-away rows alike (the update trigger's source), and leave out what cancels."""
    import importlib

    old = importlib.import_module("incidents.migrations.0020_summary")
    new = importlib.import_module("incidents.migrations.0024_summary_one_scan")
    table = Incident._meta.db_table
    # the same rows taken away from months 400 days later: those months go negative,
    # and their all-time counts cancel
    columns = ", ".join("date + 400 AS date" if column == "date" else column for column in old.COUNTED)
    taken = f"SELECT -1 AS sign, {columns} FROM {table} WHERE status = 'published' AND id > {spread[9].pk:d}"
    source = f"{old._pg_rows(table, 1)} UNION ALL {taken}"
    found = []
    with connection.cursor() as cursor:
        for select in (old._pg_select, new.select_once):
            cursor.execute(select(source))
            found.append(cursor.fetchall())
    assert found[0] == found[1]
    assert {row[2] for row in found[0]} == set(old.DIMENSIONS)
    assert {row[0] for row in found[0]} > {Summary.ALL_TIME, datetime.date(2019, 5, 1)}
    assert any(row[4] < 0 for row in found[0]) and any(row[4] > 0 for row in found[0])
