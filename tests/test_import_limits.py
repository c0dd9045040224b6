"""The import's limits and permissions: who may set verification, how long a value may be,
which texts and dates it refuses, and how it treats its uploads (issue 12)."""

import os
import stat
import threading
import time
import tracemalloc

import pytest
from django.db import connection
from django.test import Client

from incidents.limits import SUMMARY_MAX_CHARS
from incidents.models import Incident
from incidents.services import import_incidents

from .factories import CourthouseFactory, IncidentFactory
from .test_import import csv_file, token_of, upload

pytestmark = pytest.mark.django_db
UNVERIFIED = {"verification": "unverified"}


@pytest.fixture
def brooklyn(db):
    return CourthouseFactory(name="Brooklyn Criminal Court", city="Brooklyn", county_id="36047")


# Verification is a reviewer's decision ---------------------------------------


def test_a_court_administrator_cannot_set_verification_on_a_new_incident(brooklyn, court_admin):
    report = import_incidents(csv_file(UNVERIFIED, {"verification": "verified"}), user=court_admin)
    assert report.errors == [
        "line 3, column verification: only a reviewer may set the verification; "
        "this row would change it from unverified to verified"
    ]
    assert not Incident.objects.exists()


def test_a_court_administrator_cannot_change_the_verification_of_an_incident(brooklyn, court_admin):
    IncidentFactory(reference="OCA-1", courthouse=brooklyn, verification="verified")
    report = import_incidents(csv_file({"reference": "OCA-1", "verification": "disputed"}), user=court_admin)
    assert report.errors == [
        "line 2, column verification: only a reviewer may set the verification; "
        "this row would change it from verified to disputed"
    ]
    assert Incident.objects.get().verification == "verified"


def test_a_court_administrator_may_import_rows_that_keep_the_verification(brooklyn, court_admin):
    IncidentFactory(reference="OCA-1", courthouse=brooklyn, verification="verified", summary="Old.")
    rows = [{"reference": "OCA-1", "verification": "verified", "summary": "New."}, UNVERIFIED]
    report = import_incidents(csv_file(*rows), user=court_admin)
    assert report.written and (report.created, report.updated) == (1, 1)


def test_a_reviewer_may_set_verification_through_the_import(brooklyn, court_admin, reviewer):
    court_admin.groups.add(*reviewer.groups.all())
    report = import_incidents(csv_file({"verification": "disputed"}), user=court_admin)
    assert report.written and Incident.objects.get().verification == "disputed"


# One summary limit ---------------------------------------------------------------


def test_a_summary_over_the_limit_is_an_error_on_its_line_and_the_rest_is_read(brooklyn, superuser):
    rows = [{"summary": "x" * (SUMMARY_MAX_CHARS + 1)}, {"summary": "x" * 150_000}, {"outcome": "bad"}]
    report = import_incidents(csv_file(*rows), user=superuser)
    assert report.errors[0] == f"line 2, column summary: longer than {SUMMARY_MAX_CHARS:,} characters"
    assert report.errors[1].startswith("line 3: a value is longer than")
    assert not Incident.objects.exists()


def test_a_summary_of_the_longest_length_is_imported(brooklyn, superuser):
    report = import_incidents(csv_file({"summary": "=" + "x" * (SUMMARY_MAX_CHARS - 1)}), user=superuser)
    assert report.written and len(Incident.objects.get().summary) == SUMMARY_MAX_CHARS


# Texts, numbers and dates it refuses ---------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"])
def test_a_utf16_or_utf32_file_is_asked_for_in_utf8(brooklyn, superuser, encoding):
    data = csv_file({}).decode().encode(encoding)
    report = import_incidents(data, user=superuser)
    assert len(report.errors) == 1
    assert report.errors[0].startswith("line 1: the file is UTF-16/UTF-32 text: save as UTF-8")


@pytest.mark.parametrize("count", ["٣", "３", "߃"])
def test_a_people_count_in_other_digits_is_refused(brooklyn, superuser, count):
    report = import_incidents(csv_file({"people_count": count}), user=superuser)
    assert report.errors == [f"line 2, column people_count: {count!r} is not a whole number of 0 or more"]


@pytest.mark.parametrize("day", ["1989-12-31", "0024-05-01", "0001-01-01"])
def test_a_date_before_1990_is_refused(brooklyn, superuser, day):
    report = import_incidents(csv_file({"date": day}), user=superuser)
    assert report.errors == [f"line 2, column date: {day} is before 1990-01-01, the earliest date accepted"]


def test_the_earliest_date_is_accepted(brooklyn, superuser):
    assert import_incidents(csv_file({"date": "1990-01-01"}), user=superuser).written


# Bounded memory, one reading -------------------------------------------------------


class CountingFile:
    """A file that counts the bytes read from it."""

    def __init__(self, data):
        import io

        self.file, self.read_bytes = io.BytesIO(data), 0

    def read(self, size=-1):
        data = self.file.read(size)
        self.read_bytes += len(data)
        return data

    def seek(self, *args):
        return self.file.seek(*args)

    def tell(self):
        return self.file.tell()


def many_rows(count, prefix, summary="s" * 200):
    return csv_file(*({"reference": f"{prefix}-{n}", "summary": summary} for n in range(count)))


@pytest.mark.parametrize("dry_run", [True, False])
def test_the_file_is_read_once(brooklyn, superuser, dry_run):
    data = many_rows(300, "ONCE")
    source = CountingFile(data)
    assert import_incidents(source, user=superuser, dry_run=dry_run).created == 300
    assert source.read_bytes <= len(data) + 4  # the first four bytes are looked at first


def peak_memory(data, user, dry_run):
    tracemalloc.start()
    try:
        report = import_incidents(data, user=user, dry_run=dry_run)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        assert report.written is not dry_run and not report.errors


@pytest.mark.parametrize("dry_run", [True, False])
def test_memory_grows_far_less_than_the_file(brooklyn, superuser, dry_run):
    # Only each row's reference and line are kept: a file four times larger
    # costs a small fraction of the extra bytes, not several times them.
    small, large = (many_rows(count, f"MEM{count}", "s" * 1000) for count in (3000, 12_000))
    growth = peak_memory(large, superuser, dry_run) - peak_memory(small, superuser, dry_run)
    assert growth < (len(large) - len(small)) / 2


# Uploads -------------------------------------------------------------------------


@pytest.fixture
def uploads(settings, tmp_path):
    folder = tmp_path / "uploads"
    settings.IMPORT_UPLOAD_DIR = str(folder)
    return folder


def test_the_upload_folder_is_private_to_the_app(brooklyn, uploads, client, superuser):
    client.force_login(superuser)
    uploads.mkdir(mode=0o755)
    os.chmod(uploads, 0o755)
    upload(client, csv_file({"reference": "OCA-1"}))
    assert stat.S_IMODE(uploads.stat().st_mode) == 0o700 and uploads.stat().st_uid == os.getuid()
    (kept,) = uploads.iterdir()
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600


def test_an_unconfirmed_upload_expires(brooklyn, uploads, client, superuser):
    client.force_login(superuser)
    upload(client, csv_file({"reference": "OCA-1"}))
    (kept,) = uploads.iterdir()
    an_hour_ago = time.time() - 3601
    os.utime(kept, (an_hour_ago, an_hour_ago))
    client.get("/incidents/import/")
    assert not kept.exists()


def test_expiry_skips_a_file_that_vanishes_while_it_looks(brooklyn, uploads, client, superuser):
    # A confirmation claims its file by renaming it, possibly between the listing and the
    # look at its age; a dangling link is that file, seen at that moment.
    client.force_login(superuser)
    upload(client, csv_file({"reference": "OCA-1"}))
    (uploads / "claimed.csv").symlink_to(uploads / "gone.csv")
    assert client.get("/incidents/import/").status_code == 200


def test_an_upload_that_cannot_be_imported_is_not_kept(brooklyn, uploads, client, superuser):
    client.force_login(superuser)
    upload(client, csv_file({"outcome": "bad"}))
    assert list(uploads.iterdir()) == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="two confirmations at once need PostgreSQL")
def test_two_simultaneous_confirmations_import_the_file_once(brooklyn, uploads, superuser, monkeypatch):
    # Rows without a reference would be created twice by a second import of the file.
    client = Client()
    client.force_login(superuser)
    token = token_of(upload(client, csv_file({}, {"summary": "Second."})))
    together = threading.Barrier(2)
    real = import_incidents

    def waiting_import(*args, **kwargs):
        # Each confirmation that gets this far waits for the other: both come in
        # together, or the other has been answered without importing.
        try:
            together.wait(timeout=30)
        except threading.BrokenBarrierError:
            pass
        return real(*args, **kwargs)

    monkeypatch.setattr("incidents.services.import_incidents", waiting_import)
    responses = []

    def confirm():
        other = Client()
        other.force_login(superuser)
        responses.append(other.post("/incidents/import/confirm/", {"token": token}))
        together.abort()

    threads = [threading.Thread(target=confirm) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(response.status_code for response in responses) == [200, 302]
    assert Incident.objects.count() == 2
