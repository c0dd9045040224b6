"""The CSV format shared by export and import (docs/csv.md).

The column list is explicit: a new model field never reaches an export unless
it is added here, and staff-only fields are never among them.
"""

import csv
import datetime
import functools
import queue
import threading

from django.core.exceptions import EmptyResultSet
from django.db import connections, models
from django.db.models import F, Func, TextField, Value
from django.utils import timezone

from .models import STAFF_ONLY_FIELDS, Incident

# (CSV column, queryset lookup)
COLUMN_SOURCES = (
    ("id", "id"),
    ("reference", "reference"),
    ("date", "date"),
    ("date_precision", "date_precision"),
    ("state", "state_id"),
    ("county", "county__name"),
    ("county_fips", "county_id"),
    ("courthouse", "courthouse__name"),
    ("courthouse_city", "courthouse__city"),
    ("court_type", "courthouse__court_type"),
    ("case_type", "case_type"),
    ("outcome", "outcome"),
    ("people_count", "people_count"),
    ("person_role", "person_role"),
    ("location", "location"),
    ("agency", "agency"),
    ("plain_clothes", "plain_clothes"),
    ("agents_identified", "agents_identified"),
    ("force_used", "force_used"),
    ("court_staff_assisted", "court_staff_assisted"),
    ("warrant", "warrant"),
    ("verification", "verification"),
    ("source_type", "source_type"),
    ("source_url", "source_url"),
    ("summary", "summary"),
    ("created_at", "created_at"),
    ("updated_at", "updated_at"),
)
COLUMNS = tuple(name for name, _ in COLUMN_SOURCES)
LOOKUPS = tuple(lookup for _, lookup in COLUMN_SOURCES)
assert not set(COLUMNS) & set(STAFF_ONLY_FIELDS)

# A cell starting (after any apostrophes) with one of these is a formula to a spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def is_formula_like(value):
    return value.lstrip("'").startswith(FORMULA_STARTS)


def escape_formula(value):
    """`=SUM(A1)` -> `'=SUM(A1)`, `'=x` -> `''=x`; anything else unchanged."""
    return "'" + value if is_formula_like(value) else value


def unescape_formula(value):
    """The exact inverse of escape_formula, applied by import."""
    return value[1:] if value.startswith("'") and is_formula_like(value) else value


# --- Writers -----------------------------------------------------------------
#
# Two writers give one result, byte for byte: on PostgreSQL the rows come from
# `COPY (SELECT ...) TO STDOUT WITH (FORMAT csv)` with dates, timestamps and
# formula escaping done in SQL (rows formatted in Python cost several times more:
# bench/README.md, "Costs per row, measured");
# elsewhere csv.writer formats values_list() rows. tests/test_export.py runs both
# over hostile values and compares the bytes.
#
# Quoting rules both sides follow: a field is quoted when it contains a comma,
# a double quote, CR or LF (PostgreSQL's rule, and csv.writer's when its line
# terminator is "\r\n"); empty text is written as nothing (PostgreSQL would write
# `""` for it, so SQL turns '' into NULL); lines end with "\n", as COPY's do.

CHUNK_SIZE = 64 * 1024
BOM = "\ufeff".encode()
FREE_TEXT = ("text", "url")


def _field(lookup):
    model, field = Incident, None
    for part in lookup.split("__"):
        field = model._meta.get_field(part)
        model = field.related_model
    return field


def kind_of(field):
    """The column type as the data dictionary names it; free text is what gets escaped."""
    if field.is_relation:
        return "code"
    if isinstance(field, models.DateTimeField):
        return "timestamp"
    if isinstance(field, models.DateField):
        return "date"
    if isinstance(field, (models.IntegerField, models.AutoField)):
        return "integer"
    if field.choices:
        return "choice"
    if isinstance(field, models.URLField):
        return "url"
    return "text"


@functools.cache
def column_fields():
    """{column: model field it comes from}, resolved through relations."""
    return {name: _field(lookup) for name, lookup in COLUMN_SOURCES}


@functools.cache
def column_kinds():
    return tuple(kind_of(field) for field in column_fields().values())


def utc_timestamp(value):
    return value.astimezone(datetime.UTC).strftime(TIMESTAMP_FORMAT)


def _csv_text(value):
    return "" if value is None else escape_formula(value)


def _json_text(value):
    return "" if value is None else value


def _same(value):
    return value


def _iso(value):
    return value.isoformat()


CSV_FORMATTERS = {
    "integer": _same,
    "code": _same,
    "choice": _same,
    "date": _iso,
    "timestamp": utc_timestamp,
    "text": _csv_text,
    "url": _csv_text,
}
JSON_FORMATTERS = {**CSV_FORMATTERS, "text": _json_text, "url": _json_text}


def json_row(values):
    """One values_list(*LOOKUPS) row as the API's dict: CSV keys, JSON types, no escaping."""
    return {name: JSON_FORMATTERS[kind](value) for name, kind, value in zip(COLUMNS, column_kinds(), values)}


class _Lines:
    """csv.writer's file: it writes rows ending "\r\n" (so that a lone CR is quoted,
    as PostgreSQL quotes it) and keeps them ending "\n", as COPY writes them."""

    def __init__(self):
        self.lines, self.size = [], 0

    def write(self, line):
        self.lines.append(line[:-2])
        self.size += len(line)

    def take(self):
        data = ("\n".join(self.lines) + "\n").encode() if self.lines else b""
        self.lines, self.size = [], 0
        return data


def csv_writer(out):
    return csv.writer(out, lineterminator="\r\n")


def csv_bytes(rows):
    """Rows of already formatted cells as CSV bytes, quoted exactly as the export quotes them."""
    out = _Lines()
    csv_writer(out).writerows(rows)
    return out.take()


def header_line():
    return csv_bytes([COLUMNS])


def python_rows(queryset):
    """The body of the CSV (no header) in ~64 KB chunks, formatted in Python."""
    out = _Lines()
    writer = csv_writer(out)
    formatters = [CSV_FORMATTERS[kind] for kind in column_kinds()]
    for values in queryset.values_list(*LOOKUPS).iterator(chunk_size=2000):
        writer.writerow([fmt(value) for fmt, value in zip(formatters, values)])
        if out.size >= CHUNK_SIZE:
            yield out.take()
    if out.lines:
        yield out.take()


_FORMULA_CODES = ", ".join(str(ord(c)) for c in FORMULA_STARTS)


class SqlFormulaEscape(Func):
    """escape_formula() in SQL; '' becomes NULL so that COPY writes it unquoted.

    ascii() reads the first character without copying the text, so the common
    case (a letter first) costs a fifth of left(ltrim(x, ...), 1); only a value
    that starts with an apostrophe pays for ltrim().
    """

    template = (
        f"NULLIF(CASE WHEN ascii(%(expressions)s) IN ({_FORMULA_CODES}) OR (ascii(%(expressions)s) = 39"
        f" AND ascii(ltrim(%(expressions)s, '''')) IN ({_FORMULA_CODES}))"
        " THEN '''' || %(expressions)s ELSE %(expressions)s END, '')"
    )
    output_field = TextField()


class SqlUtcTimestamp(Func):
    template = "to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
    output_field = TextField()


def _sql_column(lookup, kind):
    if kind in FREE_TEXT:
        return SqlFormulaEscape(F(lookup))
    if kind == "timestamp":
        return SqlUtcTimestamp(F(lookup))
    if kind == "date":
        return Func(F(lookup), Value("YYYY-MM-DD"), function="to_char", output_field=TextField())
    return lookup


def copy_select(queryset):
    """The SELECT that COPY runs: the queryset's own SQL, parameters bound by the driver."""
    columns = [_sql_column(lookup, kind) for lookup, kind in zip(LOOKUPS, column_kinds())]
    try:
        sql, params = queryset.values_list(*columns).query.sql_with_params()
    except EmptyResultSet:
        # A filter that can match nothing (an empty IN list) has no SQL of its own;
        # COPY still needs a SELECT with the export's columns and no rows.
        sql, params = (
            queryset.model.objects.filter(pk__isnull=True).values_list(*columns).query.sql_with_params()
        )
    return connections[queryset.db].ops.compose_sql(sql, params)


def copy_sql(queryset):
    return f"COPY ({copy_select(queryset)}) TO STDOUT WITH (FORMAT csv)"


class _CopyStream:
    """Carries COPY's output from the thread that runs it to the response.

    psycopg2 calls write() once per row; rows are gathered into ~64 KB chunks so
    that the queue moves a few thousand objects per million rows. The queue is
    bounded, so memory stays flat when the client reads slowly.
    """

    END = None

    def __init__(self):
        self.queue = queue.Queue(maxsize=8)
        self.buffer = bytearray()
        self.stopped = False  # set by the response when the client has gone
        self.error = None

    def write(self, data):
        # Never raise here: psycopg2 would leave the connection in the middle of
        # a COPY. After a stop the rows are dropped until the cancel lands.
        if self.stopped:
            return
        self.buffer += data
        if len(self.buffer) >= CHUNK_SIZE:
            self._put(bytes(self.buffer))
            self.buffer.clear()

    def _put(self, item):
        while not self.stopped:
            try:
                return self.queue.put(item, timeout=0.2)
            except queue.Full:
                pass

    def run(self, cursor, sql):
        try:
            cursor.copy_expert(sql, self)
            if self.buffer:
                self._put(bytes(self.buffer))
        except BaseException as exc:  # noqa: BLE001 -- handed to the response's thread, raised there
            self.error = exc
        finally:
            self._put(self.END)

    def chunks(self, thread):
        while True:
            try:
                item = self.queue.get(timeout=0.5)
            except queue.Empty:
                if thread.is_alive():
                    continue
                item = self.END
            if item is self.END:
                break
            yield item
        if self.error is not None:
            raise self.error


def copy_rows(queryset):
    """The body of the CSV (no header) in ~64 KB chunks, straight from PostgreSQL's COPY.

    COPY runs on the request's own connection (so it sees what the request sees,
    transaction included) from a thread, because psycopg2's copy_expert() only
    returns at the end. When the client leaves, the generator is closed: the COPY
    is cancelled and the thread joined before the connection is used again.
    """
    connection = connections[queryset.db]
    sql = copy_sql(queryset)
    connection.ensure_connection()
    savepoint = connection.savepoint() if connection.in_atomic_block else None
    raw = connection.connection
    cursor = raw.cursor()
    stream = _CopyStream()
    thread = threading.Thread(target=stream.run, args=(cursor, sql), name="csv-export-copy", daemon=True)
    thread.start()
    finished = False
    try:
        yield from stream.chunks(thread)
        finished = True
    finally:
        _stop_copy(stream, thread, raw, finished)
        cursor.close()
        if savepoint and (finished and stream.error is None):
            connection.savepoint_commit(savepoint)
        elif savepoint:
            # A cancelled COPY aborts the enclosing transaction; undo just the COPY.
            connection.savepoint_rollback(savepoint)


def _stop_copy(stream, thread, raw, finished):
    if finished:
        thread.join()
        return
    stream.stopped = True
    while thread.is_alive():
        raw.cancel()  # thread-safe in psycopg2; ignored by an idle server
        thread.join(0.2)


def body_chunks(queryset):
    """The writer this database uses."""
    if connections[queryset.db].vendor == "postgresql":
        return copy_rows(queryset)
    return python_rows(queryset)


def csv_chunks(queryset, excel=False):
    """The whole file: optional byte-order mark, header, rows."""
    yield (BOM if excel else b"") + header_line()
    yield from body_chunks(queryset)


def export_filename(filtered, now=None):
    scope = "filtered" if filtered else "all"
    return f"incidents-{scope}-{(now or timezone.now()):%Y%m%d}.csv"
