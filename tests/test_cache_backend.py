"""The shared cache on PostgreSQL (incidents/cachebackend.py): one statement per write,
Django's meaning of set() and add(), and a table still culled past MAX_ENTRIES."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents import cachebackend

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the database cache runs on PostgreSQL"),
]


@pytest.fixture
def cache():
    found = cachebackend.DatabaseCache("tracker_cache", {"OPTIONS": {"MAX_ENTRIES": 200}})
    found.clear()
    found.writes = 1  # the next write is not the one that counts
    yield found
    found.clear()


def rows():
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM tracker_cache")
        return cursor.fetchone()[0]


def test_a_write_is_one_statement_and_reads_back(cache):
    with CaptureQueriesContext(connection) as queries:
        cache.set("figure", {"rows": [1, 2]}, 60)
    assert [q["sql"].split()[0] for q in queries] == ["INSERT"]
    cache.set("figure", {"rows": [3]}, 60)
    assert cache.get("figure") == {"rows": [3]}
    cache.set("forever", "kept", None)
    assert cache.get("forever") == "kept"


def test_add_writes_only_over_a_missing_or_expired_entry(cache):
    assert cache.add("lock", 1, 60)
    assert not cache.add("lock", 2, 60)
    assert cache.get("lock") == 1
    assert cache.add("short", 1, 1)
    time.sleep(2.1)  # expiry times are kept to the second
    assert cache.add("short", 2, 60)
    assert cache.get("short") == 2


def test_one_write_in_cull_every_counts_the_table_and_culls_it(cache):
    for n in range(10 * cachebackend.CULL_EVERY):
        cache.set(f"page-{n}", n, 60)
        assert rows() <= 200 + cachebackend.CULL_EVERY
    counted = []
    for n in range(cachebackend.CULL_EVERY):
        with CaptureQueriesContext(connection) as queries:
            cache.set(f"more-{n}", n, 60)
        counted += [q["sql"] for q in queries if "COUNT(*)" in q["sql"]]
    assert len(counted) == 1
