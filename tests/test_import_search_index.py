"""After a bulk import on PostgreSQL the full-text index is whole: merged, and it finds every new row."""

import pytest
from django.db import connection

from incidents.models import Incident
from incidents.search import search_text
from incidents.services import import_incidents

from .factories import CourthouseFactory
from .test_import_spreadsheets import FOUR, sheet

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the full-text index is PostgreSQL's"),
]
ROWS = 3000


def pending_pages():
    """Pages that were still in the index's pending list (merging them now)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT gin_clean_pending_list('inc_summary_words'::regclass)")
        return cursor.fetchone()[0]


def test_a_large_import_leaves_the_search_index_merged_and_complete(superuser):
    court = CourthouseFactory(name="Brooklyn Criminal Court", city="Brooklyn", county_id="36047")
    rows = [
        ("2024-03-05", "NY", court.name, "arrested", f"zebra crossing {'okapi ' if n % 20 == 0 else ''}n{n}")
        for n in range(ROWS)
    ]
    report = import_incidents(sheet((*FOUR, "summary"), *rows), user=superuser)
    assert report.written and report.created == ROWS
    assert pending_pages() == 0
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # the index answers, not a scan
    found = search_text(Incident.objects.all(), "zebra")
    assert found.count() == ROWS
    assert search_text(Incident.objects.all(), "okapi").count() == ROWS // 20  # rare: ids from the index
    assert search_text(Incident.objects.all(), "n2999").get().summary == "zebra crossing n2999"
