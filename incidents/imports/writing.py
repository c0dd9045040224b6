"""Writing: planned rows go into the database in batches, as they are planned.

Every writer takes the same events (planning.events) and runs their lookups; a
dry run does nothing else. Anything written belongs to the import's transaction,
which is rolled back if any row has an error, so a writer stops writing at the
first error and lets the reading go on to report the rest.

Rows created without a reference get a placeholder, replaced at the end by
TRK-<id>, as Incident.save() assigns; rows whose id would give a TRK number that
the file itself brings are moved to higher ids first.

On PostgreSQL the new rows are formatted as COPY text and fed to `COPY ... FROM
STDIN` as they are checked: the database inserts and indexes each chunk while
Python checks the next, on the machine's other core. Their history rows are then
copied inside the database (INSERT ... SELECT), never formatted twice. No query
can run while a COPY is open, so each piece of database work the stream needs
(a lookup, a new courthouse, more ids, a batch of updates) ends one COPY, runs,
and the next COPY goes on.
"""

import datetime
import itertools
import re
import uuid
from functools import partial

from django.db import connection
from django.db.models import Case, CharField, F, Max, Min, Value, When
from django.db.models.functions import Cast, Concat, LPad
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from .. import choices
from ..models import STAFF_ONLY_FIELDS, Courthouse, Incident, free_slug
from .planning import BATCH, CREATE, UPDATE, UPDATED, in_size
from .reading import CHOICE_COLUMNS

CHANGE_REASON = "CSV import"
ASSIGNED = re.compile(r"TRK-([0-9]{6,12})")  # references the tracker assigns (models.assigned_reference)
REFERENCE_UNIQUE = "incident_reference_unique"  # models.Incident.Meta.constraints
assert any(constraint.name == REFERENCE_UNIQUE for constraint in Incident._meta.constraints)


class DryRun:
    guess_new = False

    def __init__(self, report, user=None):
        self.report = report

    def run(self, events):
        for event in events:
            if callable(event):
                event()


class Writer(DryRun):
    """What both databases share: courthouses, updates, assigned references."""

    def __init__(self, report, user):
        self.report, self.user, self.now = report, user, timezone.now()
        self.history = {
            "default_user": user,
            "default_change_reason": CHANGE_REASON,
            "default_date": self.now,
        }
        self.token = f"TMP-{uuid.uuid4().hex}-"
        self.highest = 0  # the largest TRK-<number> among the references the file creates
        self.first_id = None  # of the incidents created
        self.placeholders = False  # whether any row was created without a reference
        self.updates = []  # Rows waiting to be written

    def courthouse_id(self, row):
        """The row's courthouse id; None while its new courthouse is not saved."""
        fields = row.fields
        if fields["courthouse_id"] is None:
            fields["courthouse_id"] = self.report.new_courthouses[row.place].pk
        return fields["courthouse_id"]

    def save_courthouses(self, rows):
        new = {
            row.place: self.report.new_courthouses[row.place]
            for row in rows
            if self.courthouse_id(row) is None
        }
        _create_courthouses(list(new.values()), self.history)
        for row in rows:
            self.courthouse_id(row)

    def reference(self, fields, n):
        reference = fields["reference"]
        if not reference:
            self.placeholders = True
            return f"{self.token}{n}"
        if reference.startswith("TRK-") and (match := ASSIGNED.fullmatch(reference)):
            self.highest = max(self.highest, int(match[1]))
        return reference

    def flush_updates(self):
        if self.updates:
            _update_incidents([row.fields for row in self.updates], self.user, self.now, self.history)
        self.updates = []

    def finish(self):
        if self.first_id is not None:
            if self.placeholders:
                _settle_references(self.token, self.first_id, self.highest)
            else:  # no created row needs reading again
                _ids_after(self.highest)
            self.record_history()

    def record_history(self):
        """bulk_create_with_history has written it already."""


class OrmWriter(Writer):
    """Every database but PostgreSQL: bulk inserts and updates, BATCH rows at a time."""

    def run(self, events):
        creates, created = [], 0
        for event in events:
            if callable(event):
                event()
            elif not self.report.error_count:
                kind, row = event
                (creates if kind == CREATE else self.updates).append(row)
                if len(creates) + len(self.updates) >= BATCH:
                    created += self.flush(creates, created)
                    creates = []
        if not self.report.error_count:
            self.flush(creates, created)
            self.finish()

    def flush(self, creates, created):
        self.save_courthouses([*creates, *self.updates])
        self.flush_updates()
        if creates:
            self.create(creates, created)
        return len(creates)

    def create(self, rows, created):
        incidents = [
            Incident(**{**row.fields, "reference": self.reference(row.fields, created + n)}, **self.stamps())
            for n, row in enumerate(rows)
        ]
        incidents = bulk_create_with_history(incidents, Incident, batch_size=BATCH, **self.history)
        if self.first_id is None:
            self.first_id = incidents[0].pk

    def stamps(self):
        user = self.user
        return {"created_at": self.now, "updated_at": self.now, "created_by": user, "updated_by": user}


def _update_incidents(rows, user, now, history):
    by_pk = {fields["pk"]: fields for fields in rows}
    incidents = []
    pks, size = list(by_pk), in_size()
    for start in range(0, len(pks), size):
        incidents += Incident.objects.select_for_update().filter(pk__in=pks[start : start + size])
    for incident in incidents:
        fields = by_pk[incident.pk]
        for name in UPDATED:
            setattr(incident, name, fields[name])
        if fields["public"]:  # a change of staff-only notes keeps the public updated_at
            incident.updated_at, incident.last_change = now, choices.Change.UPDATED
        incident.updated_by = user
        incident.version += 1
    fields = [*UPDATED, "updated_at", "updated_by_id", "version", "last_change"]
    bulk_update_with_history(incidents, Incident, fields, batch_size=BATCH // 2, **history)


def _settle_references(token, first_id, highest):
    """TRK-<id> for the rows created with a placeholder, clear of the file's own TRK numbers."""
    new = Incident.objects.filter(id__gte=first_id, reference__startswith=token)
    history = Incident.history.filter(id__gte=first_id, reference__startswith=token)
    lowest = new.aggregate(lowest=Min("id"))["lowest"]
    if lowest is not None and lowest <= highest:
        top = max(highest, Incident.objects.aggregate(top=Max("id"))["top"])
        for rows in (new, history):
            rows.update(id=F("id") + (top - lowest + 1))
    if lowest is not None:
        number = Cast("id", CharField())
        final = Case(
            When(id__gte=1_000_000, then=Concat(Value("TRK-"), number)),
            default=Concat(Value("TRK-"), LPad(number, 6, Value("0"))),
        )
        for rows in (new, history):
            rows.update(reference=final)
    _ids_after(highest)


def _ids_after(highest):
    """New ids start after the largest id and the largest TRK-<number> the file brings.

    Assigned references are TRK-<id>, and a file exported elsewhere brings its
    own: without this, a later incident could be assigned one already in use.
    On PostgreSQL this also gives back the ids reserved but not used.
    """
    table = Incident._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            quote = connection.ops.quote_name
            cursor.execute(
                f"SELECT setval(seq, GREATEST(%s, (SELECT MAX(id) FROM {quote(table)}))) "
                "FROM pg_get_serial_sequence(%s, 'id') AS seq",
                [highest, quote(table)],
            )
            return
        top = max(highest, Incident.objects.aggregate(top=Max("id"))["top"] or 0)
        cursor.execute("UPDATE sqlite_sequence SET seq = MAX(seq, %s) WHERE name = %s", [top, table])
        if not cursor.rowcount:
            cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, top])


def _create_courthouses(courthouses, history):
    if not courthouses:
        return
    taken = set(Courthouse.objects.values_list("slug", flat=True))
    for courthouse in courthouses:
        courthouse.slug = free_slug(courthouse.name, courthouse.city, taken.__contains__)
        taken.add(courthouse.slug)
    bulk_create_with_history(courthouses, Courthouse, batch_size=BATCH, **history)


# PostgreSQL: rows streamed into COPY ------------------------------------------

COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
# Per-row COPY columns, in this order, then the columns equal on every row.
ROW_COLUMNS = (
    "id",
    "reference",
    "date",
    "courthouse_id",
    *CHOICE_COLUMNS,
    "people_count",
    "source_url",
    "summary",
    *STAFF_ONLY_FIELDS,
    "county_id",
    "state_id",
)
CHUNK = 1 << 18  # characters per read: small enough that the database starts at once
FIRST_IDS, MOST_IDS = 1000, 1 << 18  # ids reserved at once: growing, so a small file wastes few


class CopyWriter(Writer):
    def __init__(self, report, user, guess_new):
        super().__init__(report, user)
        self.guess_new, self.ids, self.block = guess_new, iter(()), FIRST_IDS

    def run(self, events):
        columns, fixed = _fixed_columns(Incident, _fixed_values(self.user, self.now))
        _defer_index_work()
        _copy_items(self.items(events), [*ROW_COLUMNS, *columns], f"\t{fixed}\n")
        if not self.report.error_count:
            self.finish()
            _count_in_summary(self.first_id)
            _merge_gin()

    def items(self, events):
        """COPY lines, and the database work to run between COPYs, while no row has an error."""
        for event in events:
            if callable(event):
                yield event
            elif not self.report.error_count:
                yield from self.take(*event)
        if self.updates and not self.report.error_count:
            yield self.flush_updates

    def take(self, kind, row):
        if self.courthouse_id(row) is None:
            yield partial(self.save_courthouses, [row])
        if kind == UPDATE:
            self.updates.append(row)
            if len(self.updates) >= BATCH:
                yield self.flush_updates
            return
        pk = next(self.ids, None)
        if pk is None:
            yield self.reserve_ids
            pk = next(self.ids)
        yield _copy_line(pk, self.reference(row.fields, pk), row.fields)

    def reserve_ids(self):
        ids = _next_ids(Incident, self.block)
        self.ids, self.block = iter(ids), min(self.block * 4, MOST_IDS)
        if self.first_id is None:
            self.first_id = ids[0]

    def record_history(self):
        _copy_history(self.first_id, self.user, self.now)


# The full-text index (migration 0015, incidents/search.py) costs each inserted row
# several times what a b-tree does. Its new entries wait in the index's pending list
# and are merged in bulk, which is cheaper the larger the list: this transaction's is
# allowed PENDING_LIST_KB (the default is 4 MB), and is merged before the commit.
# The summary (migration 0020) is counted once at the end too, not after every COPY
# (migration 0023).
PENDING_LIST_KB = 256 * 1024
GIN_INDEXES = """
    SELECT c.oid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
    WHERE i.indrelid = %s::regclass AND a.amname = 'gin'"""


def _defer_index_work():
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL gin_pending_list_limit = {PENDING_LIST_KB}")
        cursor.execute("SET LOCAL incidents.summary_later = on")


def _count_in_summary(first):
    """The incidents from id `first` on (this import's, under lock_incidents()) added to
    the summary, and the insert trigger counting again for the rest of the transaction."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL incidents.summary_later = off")
        if first is not None:
            cursor.execute("SELECT incidents_summary_add_from(%s)", [first])


def _merge_gin():
    """Every GIN index of the incident table with its pending list merged into it."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT gin_clean_pending_list(oid) FROM ({GIN_INDEXES}) AS gin", [Incident._meta.db_table]
        )


def is_reference_clash(exc):
    """Whether an IntegrityError is an existing reference, which CopyWriter(guess_new=True) may meet."""
    return getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None) == REFERENCE_UNIQUE


def _copy_line(pk, reference, fields):
    return "\t".join(
        (
            str(pk),
            reference.translate(COPY_ESCAPES),
            fields["date"].isoformat(),
            str(fields["courthouse_id"]),
            *[fields[name] for name in CHOICE_COLUMNS],
            str(fields["people_count"]),
            fields["source_url"].translate(COPY_ESCAPES),
            fields["summary"].translate(COPY_ESCAPES),
            *[fields[name].translate(COPY_ESCAPES) for name in STAFF_ONLY_FIELDS],
            fields["county_id"],
            fields["state_id"],
        )
    )


def _copy_items(items, columns, suffix):
    """COPY the lines among `items`, running each callable between two COPYs."""
    items = iter(items)
    for item in items:
        if callable(item):
            item()
            continue
        source = _Reader(itertools.chain([item], items), suffix)
        _copy(Incident, columns, source)
        if source.pending:
            source.pending()


class _Reader:
    """A file for copy_expert: COPY lines, about `size` characters per read.

    A callable among the lines ends the file early; it waits in `pending`.
    """

    def __init__(self, lines, suffix):
        self.lines, self.suffix, self.pending = lines, suffix, None

    def read(self, size=-1):
        if self.pending is not None:
            return ""
        parts, total = [], 0
        for line in self.lines:
            if callable(line):
                self.pending = line
                break
            parts.append(line)
            total += len(line)
            if 0 < size <= total:
                break
        return self.suffix.join(parts) + self.suffix if parts else ""


def _fixed_values(user, now):
    user_id = user.pk if user else None
    return {"created_at": now, "updated_at": now, "created_by_id": user_id, "updated_by_id": user_id}


def _fixed_columns(model, values):
    """(column names, their tab-joined COPY text) for the columns equal on every row."""
    names, texts = [], []
    for model_field in model._meta.concrete_fields:
        name = model_field.attname
        if name not in ROW_COLUMNS:
            names.append(model_field.column)
            texts.append(_copy_text(values[name] if name in values else model_field.get_default()))
    return names, "\t".join(texts)


def _copy_text(value):
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return str(value).translate(COPY_ESCAPES)


def _copy_history(first, user, now):
    """The creation history rows of the incidents from id `first` on, copied inside the database.

    Under lock_incidents() every incident from `first` on is one this import created.
    """
    history_model, quote = Incident.history.model, connection.ops.quote_name
    given = {
        "history_date": now,
        "history_change_reason": CHANGE_REASON,
        "history_type": "+",
        "history_user_id": user.pk if user else None,
        "public_note": None,  # only a correction made in the form has one
    }
    columns, values, params = [], [], []
    for model_field in history_model._meta.concrete_fields:
        name = model_field.attname
        if name == "history_id":
            continue  # the table's own sequence
        columns.append(quote(model_field.column))
        if name in given:
            values.append("%s")
            params.append(given[name])
        else:
            values.append(quote(Incident._meta.get_field(name).column))
    sql = (
        f"INSERT INTO {quote(history_model._meta.db_table)} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM {quote(Incident._meta.db_table)} WHERE id >= %s ORDER BY id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, first])


def lock_incidents():
    """Every other INSERT (and edit) of incidents waits until this import commits.

    Taken once, before the first lookup: no one else may add a reference meanwhile,
    or take an id inside a block reserved by _next_ids.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"LOCK TABLE {connection.ops.quote_name(Incident._meta.db_table)} IN SHARE ROW EXCLUSIVE MODE"
        )


def _next_ids(model, count):
    """`count` consecutive new primary keys from the table's sequence (under lock_incidents())."""
    quote = connection.ops.quote_name
    table, column = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(seq, nextval(seq) + %s - 1) FROM pg_get_serial_sequence(%s, %s) AS seq",
            [count, quote(table), column],
        )
        (last,) = cursor.fetchone()
    return range(last - count + 1, last + 1)


def _copy(model, columns, source):
    quote = connection.ops.quote_name
    sql = f"COPY {quote(model._meta.db_table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    # copy_expert is psycopg2's own: Django does not turn its errors into IntegrityError.
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.copy_expert(sql, source, CHUNK)
