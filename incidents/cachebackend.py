"""The shared cache on PostgreSQL: Django's database cache, with one statement per write.

Django's DatabaseCache counts the table's rows before every set() and add(), to cull
it once it holds more than MAX_ENTRIES, and then reads the key before it inserts or
updates it: five round trips. At 17,000 entries the count alone takes 3 ms, and a
county page built with nothing cached writes 16 entries (its figures, its charts,
the page), so 50 ms of its 250 went to counting the cache.

Here a write is one upsert (INSERT ... ON CONFLICT), and each process counts the
table, and culls it as Django does, on one write in CULL_EVERY: the table may hold
up to CULL_EVERY entries more than MAX_ENTRIES per process before that write culls
it. add() keeps Django's meaning (it writes only over a missing or expired entry),
in one statement, so two processes can never both take the same lock.
"""

import base64
import contextlib
import datetime
import pickle

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.db import DatabaseError, connections, router, transaction
from django.utils import timezone

CULL_EVERY = 50


class DatabaseCache(DjangoDatabaseCache):
    def __init__(self, table, params):
        super().__init__(table, params)
        self.writes = 0

    def _base_set(self, mode, key, value, timeout=DEFAULT_TIMEOUT):
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        self.writes += 1
        if mode == "touch" or connection.vendor != "postgresql" or self.writes % CULL_EVERY == 0:
            return super()._base_set(mode, key, value, timeout)  # counts, and culls past MAX_ENTRIES
        timeout = self.get_backend_timeout(timeout)
        if timeout is None:
            expires = datetime.datetime.max
        else:
            expires = datetime.datetime.fromtimestamp(timeout, tz=datetime.UTC)
        expires = connection.ops.adapt_datetimefield_value(expires.replace(microsecond=0))
        encoded = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")
        table = connection.ops.quote_name(self._table)
        sql = (
            f"INSERT INTO {table} (cache_key, value, expires) VALUES (%s, %s, %s) "
            "ON CONFLICT (cache_key) DO UPDATE SET value = EXCLUDED.value, expires = EXCLUDED.expires"
        )
        params = [key, encoded, expires]
        if mode == "add":
            sql += f" WHERE {table}.expires < %s"
            params.append(timezone.now().replace(microsecond=0))
        # Inside a transaction a savepoint, as Django's, so that a failed write fails alone;
        # outside one the statement is its own transaction.
        alone = transaction.atomic(using=db) if connection.in_atomic_block else contextlib.nullcontext()
        try:
            with alone, connection.cursor() as cursor:
                cursor.execute(sql + " RETURNING 1", params)
                return cursor.fetchone() is not None
        except DatabaseError:  # as Django's: a cache write that fails is a miss, not an error
            return False
