import csv
import datetime
import io
import random
import threading
from zoneinfo import ZoneInfo

import pytest
from django.core.signals import request_finished
from django.db import close_old_connections, connection
from django.http import StreamingHttpResponse

from incidents import export
from incidents.models import Incident
from incidents.views import api

from .export_helpers import (
    FORMULA_VALUES,
    HOSTILE,
    LIST_QUERIES,
    PLAIN_VALUES,
    SPEC_HEADER,
    bulk_incidents,
    content_of,
    listed_ids,
    read_csv,
    varied_incidents,
)
from .factories import CourthouseFactory, IncidentFactory

pytestmark = pytest.mark.django_db
on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")


def download(client, query=""):
    response = client.get(f"/incidents/export.csv?{query}")
    assert response.status_code == 200, response.content
    return response, content_of(response)


def exported(client, **fields):
    """The one exported row of an incident made with these fields."""
    incident = IncidentFactory(**fields)
    _, content = download(client)
    return next(row for row in read_csv(content) if row["id"] == str(incident.pk))


def test_it_writes_exactly_the_spec_header(client):
    _, content = download(client)
    assert content == (SPEC_HEADER + "\n").encode()
    assert ",".join(export.COLUMNS) == SPEC_HEADER


def test_it_streams_as_csv_with_no_byte_order_mark_by_default(client, incident):
    response, content = download(client)
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert content.startswith(b"id,reference,")


def test_it_adds_a_byte_order_mark_for_excel(client, incident):
    _, content = download(client, "excel=1")
    assert content.startswith(b"\xef\xbb\xbfid,reference,")
    assert content[3:] == download(client)[1]


@pytest.mark.parametrize("value", FORMULA_VALUES)
def test_export_escapes_formula_cells(client, value):
    courthouse = CourthouseFactory(name=value, city=value, slug="formula")
    row = exported(client, summary=value, reference=value, courthouse=courthouse)
    for column in ("summary", "reference", "courthouse", "courthouse_city"):
        assert row[column] == "'" + value


@pytest.mark.parametrize("value", PLAIN_VALUES)
def test_export_leaves_every_other_value_exactly_as_it_is(client, value):
    row = exported(client, summary=value, source_url="", reference=f"R{value}")
    assert row["summary"] == value
    assert row["reference"] == f"R{value}"
    assert row["source_url"] == ""


def test_escaping_is_undone_by_unescape_formula(client):
    for value in HOSTILE:
        assert export.unescape_formula(export.escape_formula(value)) == value


def test_non_ascii_and_embedded_newlines_survive_a_csv_reader(client):
    summary = 'Línea 1\nLínea 2, "citada"\r\nfin 日本語 🙂\r'
    row = exported(
        client,
        summary=summary,
        courthouse=CourthouseFactory(name="Tribunal de Mayagüez, Sala 2"),
    )
    assert row["summary"] == summary
    assert row["courthouse"] == "Tribunal de Mayagüez, Sala 2"


def test_it_writes_iso_dates_utc_timestamps_and_machine_values(client):
    incident = IncidentFactory(month_only=True, case_type="family", source_url="https://example.org/a?b=1,2")
    local = datetime.datetime(2019, 5, 14, 20, 30, 15, 999999, tzinfo=ZoneInfo("America/New_York"))
    Incident.objects.filter(pk=incident.pk).update(created_at=local, updated_at=local)
    row = read_csv(download(client)[1])[0]
    assert row["date"] == "2019-05-01"
    assert row["date_precision"] == "month"
    assert (row["created_at"], row["updated_at"]) == (
        "2019-05-15T00:30:15Z",
        "2019-05-15T00:30:15Z",
    )
    assert (row["case_type"], row["state"], row["county_fips"]) == (
        "family",
        "NY",
        "36047",
    )
    assert row["county"] == "Kings County"
    assert row["source_url"] == "https://example.org/a?b=1,2"
    assert row["people_count"] == "1"


@pytest.mark.parametrize("query", LIST_QUERIES)
def test_export_holds_exactly_the_rows_of_the_list(client, query):
    varied_incidents()
    rows = read_csv(download(client, query)[1])
    assert [int(row["id"]) for row in rows] == listed_ids(query)


def test_it_never_exports_retracted_rows_or_staff_only_values(client):
    varied_incidents()
    _, content = download(client)
    for secret in (
        b"RETRACTED-1",
        b"retracted-summary",
        b"SECRET-NOTE",
        b"DOCKET-XYZ-9",
        b"reporter@example.org",
    ):
        assert secret not in content
    retracted = Incident.objects.get(reference="RETRACTED-1")
    assert str(retracted.pk) not in {row["id"] for row in read_csv(content)}


@pytest.mark.parametrize(
    "query, name",
    [
        ("", "incidents-all-20190514.csv"),
        ("ordering=-date&excel=1&state=&page=2&cursor=x", "incidents-all-20190514.csv"),
        ("state=NY", "incidents-filtered-20190514.csv"),
        ("q=hallway", "incidents-filtered-20190514.csv"),
    ],
)
def test_it_names_the_file_for_what_was_exported(client, monkeypatch, query, name):
    # 23:30 in New York is already the 15th in UTC: the name uses the UTC date.
    monkeypatch.setattr(
        export.timezone,
        "now",
        lambda: datetime.datetime(2019, 5, 14, 23, 30, tzinfo=datetime.UTC),
    )
    response = client.get(f"/incidents/export.csv?{query}")
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'


@pytest.mark.parametrize(
    "query, parameter",
    [
        ("state=ZZ", "state"),
        ("state=N1", "state"),
        ("county=123", "county"),
        ("courthouse=no-such-courthouse", "courthouse"),
        ("date_after=2019-13-01", "date_after"),
        ("date_before=yesterday", "date_before"),
        ("outcome=vanished", "outcome"),
        ("ordering=summary", "ordering"),
        ("updated_after=%2B2020-01-01", "updated_after"),
        ("excel=maybe", "excel"),
        ("q=" + "x" * 500, "q"),
    ],
)
def test_a_bad_filter_gets_a_400_naming_it(client, incident, query, parameter):
    response = client.get(f"/incidents/export.csv?{query}")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode().startswith(f"{parameter}:")


def test_it_streams_a_large_export_in_bounded_chunks(client):
    bulk_incidents(1500, summary="x" * 300)
    response = client.get("/incidents/export.csv")
    chunks = list(response.streaming_content)
    assert len(chunks) > 5
    assert max(len(chunk) for chunk in chunks) < 2 * export.CHUNK_SIZE
    assert len(read_csv(b"".join(chunks))) == 1500


def _copy_threads():
    return [t for t in threading.enumerate() if t.name == "csv-export-copy"]


def _stuck_sessions():
    """Other sessions still running our COPY or holding a transaction open."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT state, query FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND datname = current_database()"
            " AND (state LIKE 'idle in transaction%%' OR (state = 'active' AND query LIKE 'COPY%%'))"
        )
        return cursor.fetchall()


def _leave_mid_export(response, keep_connection=True):
    chunks = iter(response.streaming_content)
    next(chunks), next(chunks)  # the header, then the first 64 KB of rows
    # What the WSGI server does when the client disconnects. Its request_finished
    # signal would close the test transaction's connection: keep that one open.
    if keep_connection:
        request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


def test_a_client_leaving_mid_export_leaves_no_thread_and_a_usable_connection(rf):
    bulk_incidents(3000, summary="y" * 400)
    _leave_mid_export(api.export_csv(rf.get("/incidents/export.csv")))
    assert _copy_threads() == []
    assert Incident.objects.count() == 3000  # the connection is not stuck in a COPY or an aborted transaction
    if connection.vendor == "postgresql":
        assert _stuck_sessions() == []


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_client_leaving_mid_export_leaves_no_open_transaction_in_autocommit(client):
    # As in production: no test transaction around the request.
    bulk_incidents(3000, summary="z" * 400)
    _leave_mid_export(client.get("/incidents/export.csv"), keep_connection=False)
    assert _copy_threads() == []
    assert _stuck_sessions() == []
    assert Incident.objects.count() == 3000


def _hostile_incidents(seed=7, rows=150):
    """Every hostile value in every free-text column, then random mixtures of them."""
    rng = random.Random(seed)
    alphabet = "=+-@'\t\r\n,\" ;aZé日🙂\\\x0b\u2028"
    courthouses = [
        CourthouseFactory(name=value, city=value, slug=f"hostile-{n}") for n, value in enumerate(HOSTILE[:12])
    ]
    for n, value in enumerate(HOSTILE):
        IncidentFactory(
            summary=value,
            reference=f"H{n}{value}",
            courthouse=courthouses[n % len(courthouses)],
            source_url="" if n % 2 else f"https://example.org/{n}",
        )
    for n in range(rows):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        IncidentFactory(
            summary=text,
            reference=f"R{n}-{text}",
            courthouse=rng.choice(courthouses),
            date=datetime.date(2017, 1, 1) + datetime.timedelta(days=rng.randint(0, 2000)),
            date_precision="day",
        )


@on_postgresql
def test_copy_and_python_writers_give_byte_identical_files():
    _hostile_incidents()
    Incident.objects.filter(pk__in=Incident.objects.values("pk")[:40]).update(
        updated_at=datetime.datetime(2020, 2, 29, 23, 59, 59, 999999, tzinfo=datetime.UTC)
    )
    for incidents in (
        Incident.objects.public().order_by("-date", "-id"),
        Incident.objects.public().filter(summary__contains="=").order_by("people_count", "id"),
    ):
        from_copy = b"".join(export.copy_rows(incidents))
        from_python = b"".join(export.python_rows(incidents))
        assert incidents.exists()
        assert from_copy == from_python


@on_postgresql
def test_the_web_export_on_postgresql_uses_copy(client, monkeypatch):
    IncidentFactory()
    monkeypatch.setattr(export, "python_rows", None)  # any use of the Python writer would fail
    _, content = download(client)
    assert len(read_csv(content)) == 1


def test_python_writer_quotes_like_postgresql():
    """PostgreSQL quotes a field holding a comma, a quote, CR or LF, and nothing else."""
    values = ["a\rb", "c\nd", "", " x ", 'q"', "e,f", "\\.", "é", "\tg"]
    line = export.csv_bytes([values])
    assert line == '"a\rb","c\nd",, x ,"q""","e,f",\\.,é,\tg\n'.encode()
    assert list(csv.reader(io.StringIO(line.decode(), newline=""))) == [values]
