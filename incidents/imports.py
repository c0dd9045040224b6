"""Bulk import of the export's CSV format (SPEC.md, "CSV format").

One function, `import_csv`, serves both the web import and the
`import_incidents` command. It validates every row with the model's own
choices, lengths, validators and `Incident.clean()` rules, using a few queries
for the whole file (states, counties, courthouses, existing references) and
none per row. Everything is written in one transaction, with bulk inserts and
updates and one history row for each incident actually created or changed; a
file with any error, or a dry run, leaves the database as it was.

On PostgreSQL the rows to create stream into `COPY` while later rows are still
being validated, so that the database inserts and indexes while Python reads
(see `_stream`). The first error stops the stream, the rest of the file is
still checked so that every error is reported, and the transaction is rolled
back: nothing of an invalid file is ever committed.
"""

import csv
import datetime
import io
import itertools
import re
import uuid
from dataclasses import dataclass, field
from types import SimpleNamespace

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, CharField, Value, When
from django.db.models.functions import Cast, Concat, LPad
from django.utils import timezone
from django.utils.text import slugify
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from . import choices
from .cache import bump_data_version
from .export import COLUMNS, unescape_formula
from .models import (
    CHOICE_FIELDS,
    County,
    Courthouse,
    Incident,
    State,
    assigned_reference,
)

CHANGE_REASON = "CSV import"
MAX_ERRORS = 1000  # reported; a file with more has a systematic problem
BATCH = 2000
PROGRESS_EVERY = 20_000

# CSV columns copied as they are onto the incident (after the checks below).
# `id`, `created_at`, `updated_at` are ignored, `county` (the name) is informative,
# and `state`, `county_fips`, `courthouse`, `courthouse_city` identify the courthouse.
CHOICE_COLUMNS = tuple(name for name in COLUMNS if name in CHOICE_FIELDS)
TEXT_COLUMNS = ("reference", "source_url", "summary")
IMPORTED_FIELDS = (*CHOICE_COLUMNS, "date", "people_count", "source_url", "summary")
# What decides whether a row changes its incident, and what an update writes.
COMPARED = (*IMPORTED_FIELDS, "courthouse_id")
UPDATED = (*COMPARED, "county_id", "state_id")

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
ASSIGNED = re.compile(r"TRK-(\d{6,12})")  # references the tracker assigns (models.assigned_reference)
COUNT = re.compile(r"\d{1,9}")


def _max_length(model, name):
    return model._meta.get_field(name).max_length


LIMITS = {
    "reference": _max_length(Incident, "reference"),
    "source_url": _max_length(Incident, "source_url"),
    "courthouse": _max_length(Courthouse, "name"),
    "courthouse_city": _max_length(Courthouse, "city"),
}
URL_VALIDATORS = Incident._meta.get_field("source_url").validators
INDEX = {name: n for n, name in enumerate(COLUMNS)}
CHOICE_SPEC = [
    (name, INDEX[name], {str(value): str(value) for value in CHOICE_FIELDS[name].values})
    for name in CHOICE_COLUMNS
]
# The fields Incident.clean() reads.
RULE_FIELDS = ("date", "date_precision", "outcome", "people_count")


@dataclass
class ImportReport:
    rows: int = 0
    # [(line, field values, (courthouse, city, state))]
    to_create: list = field(default_factory=list)
    # [(line, field values, (courthouse, city, state), [changed field names])]
    to_update: list = field(default_factory=list)
    unchanged: int = 0
    new_courthouses: dict = field(default_factory=dict)  # {(name, city, state): Courthouse}
    errors: list = field(default_factory=list)
    error_count: int = 0
    written: bool = False

    def restart(self):
        """Forget everything, to read the file again."""
        self.__dict__.update(ImportReport().__dict__)

    def error(self, line, message, column=None):
        self.error_count += 1
        if self.error_count <= MAX_ERRORS:
            where = f"line {line}, column {column}" if column else f"line {line}"
            self.errors.append(f"{where}: {message}")

    @property
    def error_lines(self):
        """Every error, with a last line saying how many were left out."""
        hidden = self.error_count - len(self.errors)
        return self.errors + ([f"... and {hidden:,} more errors"] if hidden else [])

    def summary(self):
        verb = "" if self.written else "to "
        return (
            f"{self.rows:,} rows: {len(self.to_create):,} {verb}create, "
            f"{len(self.to_update):,} {verb}update, {self.unchanged:,} unchanged, "
            f"{len(self.new_courthouses):,} courthouses {verb}create"
        )


def import_csv(data, *, user=None, dry_run=False, progress=None):
    """Validate `data` (bytes) and, unless dry_run or any error, write it all.

    Returns an ImportReport; `report.written` says whether anything was saved.
    """
    report = ImportReport()
    progress = progress or (lambda message: None)
    text = _decode(data, report)
    if text is None:
        return report
    with transaction.atomic():
        reference = ReferenceData.load()
        if connection.vendor == "postgresql" and not dry_run:
            _stream(text, reference, report, user, progress)
        else:
            rows = _parse(text, reference, report, progress)
            _plan(rows, reference, report)
            if not (report.error_count or dry_run):
                _write(report, user, progress)
        if report.error_count or dry_run:
            # Nothing may commit; a dry run has written nothing to roll back.
            transaction.set_rollback(True)
            return report
    report.written = True
    return report


def check_size(size):
    """The message for a file over IMPORT_MAX_BYTES, or None."""
    limit = settings.IMPORT_MAX_BYTES
    if size > limit:
        return (
            f"the file is {size:,} bytes, over the limit of {limit:,} bytes "
            f"(IMPORT_MAX_BYTES); split it into smaller files"
        )
    return None


# Reading --------------------------------------------------------------------


def _decode(data, report):
    too_big = check_size(len(data))
    if too_big:
        report.error(1, too_big)
        return None
    if not data.strip():
        report.error(1, "the file is empty; expected a header line and rows")
        return None
    nul = data.find(b"\x00")  # PostgreSQL text cannot hold it, and no CSV text has it
    if nul >= 0:
        report.error(data.count(b"\n", 0, nul) + 1, "this is a binary file, not CSV text")
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        report.error(
            line,
            f"the file is not UTF-8 text (byte 0x{data[exc.start]:02X}); "
            'save it as UTF-8 ("CSV UTF-8" in Excel) and try again',
        )
        return None


def _records(text, report, progress):
    """(line, record) for each non-blank record under a correct header.

    A wrong header, malformed CSV or too many rows is reported and ends the records.
    """
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, [])
    except csv.Error as exc:
        report.error(1, f"malformed CSV header ({exc})")
        return
    if not _check_header(header, report):
        return
    limit = settings.IMPORT_MAX_ROWS
    last = reader.line_num  # a record's line is the one after the previous record's last
    try:
        for record in reader:
            line, last = last + 1, reader.line_num
            if not record:
                continue  # a blank line
            report.rows += 1
            if report.rows > limit:
                report.error(line, f"the file has more than {limit:,} rows (IMPORT_MAX_ROWS); split it")
                return
            yield line, record
            if report.rows % PROGRESS_EVERY == 0:
                progress(f"read {report.rows:,} rows")
    except csv.Error as exc:
        report.error(last + 1, f"malformed CSV ({exc}); nothing after this line was read")
        return
    if not report.rows:
        report.error(2, "the file has a header but no rows")


def _parse(text, reference, report, progress):
    """[(line, field values, (courthouse, city, state), county FIPS)] of the valid rows."""
    check = RowChecker(reference, report)
    return [row for line, record in _records(text, report, progress) if (row := check(line, record))]


def _check_header(header, report):
    if tuple(header) == COLUMNS:
        return True
    for name in COLUMNS:
        if name not in header:
            report.error(1, "this column is missing", column=name)
    for n, name in enumerate(header):
        if name not in COLUMNS:
            report.error(1, "not a column of this format", column=name or f"#{n + 1} (empty)")
        elif header.index(name) != n:
            report.error(1, "this column appears twice", column=name)
    if not report.error_count:
        report.error(1, f"the columns are not in the export's order: {', '.join(COLUMNS)}")
    return False


class RowChecker:
    """Validates one record at a time, remembering what repeats from row to row.

    Dates and the model's cross-field rules are computed once per distinct value:
    a file has a few thousand distinct dates, not one per row.
    """

    def __init__(self, reference, report):
        self.reference, self.report = reference, report
        self.dates, self.rules, self.seen = {}, {}, {}

    def __call__(self, line, record):
        """(line, field values, courthouse key, county FIPS), or None after reporting errors."""
        report = self.report
        if len(record) != len(COLUMNS):
            report.error(line, f"expected {len(COLUMNS)} values, found {len(record)}")
            return None
        values = [unescape_formula(value) if value[:1] == "'" else value for value in record]
        errors_before = report.error_count
        fields = {}
        for name, at, allowed in CHOICE_SPEC:
            # The model's own value object: a million rows then share a dozen strings.
            value = fields[name] = allowed.get(values[at])
            if value is None:
                report.error(line, _not_a_choice(values[at], name), column=name)
        fields["date"] = self.date(line, values[INDEX["date"]])
        fields["people_count"] = _count(line, values[INDEX["people_count"]], report)
        for name in TEXT_COLUMNS:
            fields[name] = values[INDEX[name]]
        _check_text(line, fields, report)
        place = _place(line, values, self.reference, report)
        if report.error_count == errors_before:
            self.model_rules(line, fields)
        if report.error_count > errors_before:
            return None
        self.repeated(line, fields["reference"])
        return (line, fields, *place)

    def date(self, line, value):
        if value not in self.dates:
            self.dates[value] = _date(value)
        day = self.dates[value]
        if day is None:
            self.report.error(line, f"{value!r} is not a valid date (YYYY-MM-DD)", column="date")
        return day

    def model_rules(self, line, fields):
        """Incident.clean()'s rules, with the model's own messages."""
        key = tuple(fields[name] for name in RULE_FIELDS)
        if key not in self.rules:
            self.rules[key] = _clean_errors(dict(zip(RULE_FIELDS, key)))
        for column, message in self.rules[key]:
            self.report.error(line, message, column=column)

    def repeated(self, line, reference):
        if reference:
            first = self.seen.setdefault(reference, line)
            if first != line:
                self.report.error(
                    line, f"{reference} is repeated: it is also on line {first}", column="reference"
                )


def _clean_errors(values):
    # clean() reads only these values; a namespace stands in for an Incident,
    # whose creation would cost 20 µs a row. A rule reading another field
    # fails loudly here (AttributeError) instead of being skipped.
    try:
        Incident.clean(SimpleNamespace(**values))
    except ValidationError as exc:
        return [(column, message) for column, messages in exc.message_dict.items() for message in messages]
    return []


def _not_a_choice(value, name):
    allowed = ", ".join(CHOICE_FIELDS[name].values)
    return f"{value!r} is not one of {allowed}"


def _date(value):
    try:
        return datetime.date.fromisoformat(value) if ISO_DATE.fullmatch(value) else None
    except ValueError:
        return None


def _count(line, value, report):
    if COUNT.fullmatch(value):
        return int(value)
    report.error(line, f"{value!r} is not a whole number of 0 or more", column="people_count")
    return None


def _check_text(line, fields, report):
    for name in ("reference", "source_url"):
        if len(fields[name]) > LIMITS[name]:
            report.error(line, f"longer than {LIMITS[name]} characters", column=name)
    url = fields["source_url"]
    if url and len(url) <= LIMITS["source_url"]:
        try:
            for validator in URL_VALIDATORS:
                validator(url)
        except ValidationError:
            report.error(line, f"{url!r} is not a valid URL", column="source_url")


def _place(line, values, reference, report):
    """((courthouse name, city, state), county FIPS), checking state and county."""
    state, fips = values[INDEX["state"]], values[INDEX["county_fips"]]
    name, city = values[INDEX["courthouse"]], values[INDEX["courthouse_city"]]
    if state not in reference.states:
        report.error(line, f"unknown state {state!r} (expected a USPS code such as NY)", column="state")
    county_state = reference.counties.get(fips)
    if county_state is None:
        report.error(line, f"unknown county FIPS code {fips!r}", column="county_fips")
    elif state in reference.states and county_state != state:
        report.error(line, f"county {fips} is in {county_state}, not {state}", column="county_fips")
    for column, value in (("courthouse", name), ("courthouse_city", city)):
        if not value.strip():
            report.error(line, "must not be empty", column=column)
        elif len(value) > LIMITS[column]:
            report.error(line, f"longer than {LIMITS[column]} characters", column=column)
    return (name, city, state), fips


# Planning -------------------------------------------------------------------


@dataclass
class ReferenceData:
    states: set
    counties: dict  # FIPS -> state code
    courthouses: dict  # (name, city, state) -> [(id, county FIPS)]

    @classmethod
    def load(cls):
        courthouses = {}
        for pk, name, city, county, state in Courthouse.objects.values_list(
            "pk", "name", "city", "county_id", "county__state_id"
        ):
            courthouses.setdefault((name, city, state), []).append((pk, county))
        return cls(
            states=set(State.objects.values_list("code", flat=True)),
            counties=dict(County.objects.values_list("fips", "state_id")),
            courthouses=courthouses,
        )


def _plan(rows, reference, report):
    plan = Planner(reference, _existing([fields["reference"] for _, fields, *_ in rows]), report)
    for row in rows:
        plan(*row)
    plan.finish()


class Planner:
    """Decides what each valid row does: create, update or nothing; matches courthouses.

    A new courthouse is made once, for the first row naming it; `new_courthouses`
    may be given ones already saved (the PostgreSQL stream saves them first).
    """

    def __init__(self, reference, existing, report, new_courthouses=None):
        self.reference, self.existing, self.report = reference, existing, report
        self.new_courthouses = new_courthouses or {}  # key -> (Courthouse, first line)
        self.matched = {}  # (key, fips) -> courthouse id, or None for one to create

    def __call__(self, line, fields, key, fips):
        """True when the row creates an incident (appended to report.to_create)."""
        report = self.report
        courthouse_id = self.matched.get((key, fips), False)
        if courthouse_id is False:
            courthouse_id = _courthouse_for(line, key, fips, self.reference, self.new_courthouses, report)
            if courthouse_id is False:
                return False
            self.matched[key, fips] = courthouse_id
        fields["courthouse_id"], fields["county_id"], fields["state_id"] = courthouse_id, fips, key[2]
        current = self.existing.get(fields["reference"])
        if current is None:
            report.to_create.append((line, fields, key))
            return True
        changed = [name for name in COMPARED if current[name] != fields[name]]
        if not changed:
            report.unchanged += 1
            return False
        fields["pk"] = current["id"]
        report.to_update.append((line, fields, key, [name.removesuffix("_id") for name in changed]))
        return False

    def finish(self):
        self.report.new_courthouses = {
            key: courthouse for key, (courthouse, _) in self.new_courthouses.items()
        }


def _existing(references):
    """{reference: {column: value}} of the incidents with these references."""
    references = [reference for reference in references if reference]
    columns = ("id", "reference", *COMPARED)
    if not references:
        return {}
    if connection.vendor == "postgresql":
        # One query for the whole file: `= ANY(array)` takes any number of values.
        quote = connection.ops.quote_name
        sql = (
            f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(Incident._meta.db_table)} "
            f"WHERE {quote('reference')} = ANY(%s)"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [references])
            found = [dict(zip(columns, row)) for row in cursor.fetchall()]
    else:
        size = _in_size()
        found = []
        for start in range(0, len(references), size):
            chunk = references[start : start + size]
            found += Incident.objects.filter(reference__in=chunk).values(*columns)
    return {values["reference"]: values for values in found}


def _in_size():
    """How many values one `IN (...)` may take on this database."""
    return min(BATCH, connection.features.max_query_params or BATCH)


def _courthouse_for(line, key, fips, reference, new_courthouses, report):
    """The matched courthouse's id (None for one not saved yet), or False on error."""
    matches = reference.courthouses.get(key)
    if matches:
        for pk, county in matches:
            if county == fips:
                return pk
        report.error(
            line,
            f"{key[0]} ({key[1]}, {key[2]}) is in county {matches[0][1]}, not {fips}",
            column="county_fips",
        )
        return False
    if key not in new_courthouses:
        new_courthouses[key] = (Courthouse(name=key[0], city=key[1], county_id=fips), line)
    courthouse, first = new_courthouses[key]
    if courthouse.county_id != fips:
        report.error(
            line,
            f"{key[0]} ({key[1]}, {key[2]}) is in county {courthouse.county_id} on line {first}",
            column="county_fips",
        )
        return False
    return courthouse.pk


# Writing --------------------------------------------------------------------


def _write(report, user, progress):
    """Write a validated plan with the ORM (every database but PostgreSQL)."""
    now = timezone.now()
    history = _history_defaults(user, now)
    _create_courthouses(list(report.new_courthouses.values()), history)
    _link_new_courthouses(report)
    if report.to_create:
        progress(f"creating {len(report.to_create):,} incidents")
        rows = [fields for _, fields, _ in report.to_create]
        _ids_after_imported_references(fields["reference"] for fields in rows)
        _orm_create(rows, user, now, history)
    _finish(report, user, now, progress)


def _finish(report, user, now, progress):
    if report.to_update:
        progress(f"updating {len(report.to_update):,} incidents")
        _update_incidents(
            [fields for _, fields, _, _ in report.to_update], user, now, _history_defaults(user, now)
        )
    # bulk writes send no post_save signal; cached figures must still go stale.
    bump_data_version()


def _history_defaults(user, now):
    return {"default_user": user, "default_change_reason": CHANGE_REASON, "default_date": now}


def _ids_after_imported_references(references):
    """New ids start after the largest TRK-<number> the file brings in.

    Assigned references are TRK-<id>, and a file exported elsewhere brings its
    own: without this, a later incident could be assigned one already in use.
    """
    numbers = [int(match[1]) for reference in references if (match := ASSIGNED.fullmatch(reference))]
    if not numbers:
        return
    highest, table = max(numbers), Incident._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT setval(seq, GREATEST(%s, nextval(seq))) FROM pg_get_serial_sequence(%s, 'id') AS seq",
                [highest, connection.ops.quote_name(table)],
            )
            return
        cursor.execute("UPDATE sqlite_sequence SET seq = MAX(seq, %s) WHERE name = %s", [highest, table])
        if not cursor.rowcount:
            cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, highest])


def _create_courthouses(courthouses, history):
    if not courthouses:
        return
    taken = set(Courthouse.objects.values_list("slug", flat=True))
    for courthouse in courthouses:
        courthouse.slug = _free_slug(courthouse, taken)
    bulk_create_with_history(courthouses, Courthouse, batch_size=BATCH, **history)


def _free_slug(courthouse, taken):
    """The slug Courthouse.save() would choose, checked against `taken` in memory."""
    base = slugify(courthouse.name)[:200] or "courthouse"
    if base in taken:
        base = slugify(f"{courthouse.name} {courthouse.city}")[:200] or "courthouse"
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    taken.add(slug)
    return slug


def _link_new_courthouses(report):
    rows = [(fields, key) for _, fields, key in report.to_create]
    rows += [(fields, key) for _, fields, key, _ in report.to_update]
    for fields, key in rows:
        if fields["courthouse_id"] is None:
            fields["courthouse_id"] = report.new_courthouses[key].pk


def _orm_create(rows, user, now, history):
    """bulk_create with history; references are assigned from the new ids afterwards."""
    token = f"TMP-{uuid.uuid4().hex}-"
    incidents = []
    for n, fields in enumerate(rows):
        incident = Incident(**fields, created_at=now, updated_at=now, created_by=user, updated_by=user)
        incident.reference = incident.reference or f"{token}{n}"
        incidents.append(incident)
    created = bulk_create_with_history(incidents, Incident, batch_size=BATCH, **history)
    if any(not fields["reference"] for fields in rows):
        _assign_references(created, token)
    for fields, incident in zip(rows, created):
        fields["reference"] = incident.reference


def _assign_references(created, token):
    """TRK-<id> for rows created without a reference, as Incident.save() does."""
    ids = [incident.pk for incident in created]
    number = Cast("id", CharField())
    final = Case(
        When(id__gte=1_000_000, then=Concat(Value("TRK-"), number)),
        default=Concat(Value("TRK-"), LPad(number, 6, Value("0"))),
    )
    span = {"id__gte": min(ids), "id__lte": max(ids), "reference__startswith": token}
    Incident.objects.filter(**span).update(reference=final)
    Incident.history.filter(**span).update(reference=final)
    for incident in created:
        if incident.reference.startswith(token):
            incident.reference = assigned_reference(incident.pk)


def _update_incidents(rows, user, now, history):
    by_pk = {fields["pk"]: fields for fields in rows}
    incidents = []
    pks, size = list(by_pk), _in_size()
    for start in range(0, len(pks), size):
        incidents += Incident.objects.select_for_update().filter(pk__in=pks[start : start + size])
    for incident in incidents:
        for name in UPDATED:
            setattr(incident, name, by_pk[incident.pk][name])
        incident.updated_at, incident.updated_by = now, user
        incident.last_change = choices.Change.UPDATED
        incident.version += 1
    fields = [*UPDATED, "updated_at", "updated_by_id", "version", "last_change"]
    bulk_update_with_history(incidents, Incident, fields, batch_size=BATCH // 2, **history)


# PostgreSQL: validation streamed into COPY ------------------------------------
#
# Django's bulk_create spends most of its time compiling values, one field at a
# time (2,300 rows/s with history on the reference machine). Here the rows to
# create are formatted as COPY text as soon as they are validated and fed to one
# `COPY ... FROM STDIN`: the database inserts and indexes each megabyte while
# Python validates the next, on the machine's other core. Their history rows are
# then copied inside the database (INSERT ... SELECT), never formatted twice.
#
# Everything the stream needs before its first row is taken from a first, quick
# reading of the file: the references it names (which rows update, and how many
# ids to reserve) and the courthouses it creates (saved first, so that rows can
# name their ids). Ids come from the table's own sequence, so that assigned
# references (TRK-<id>) are final at once.

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
    "county_id",
    "state_id",
)
CHUNK = 1 << 18  # characters per read: small enough that the database starts at once
SAMPLE = 1000  # references looked up before a file is taken to bring only new incidents
REFERENCE_UNIQUE = "incident_reference_unique"  # models.Incident.Meta.constraints
assert any(constraint.name == REFERENCE_UNIQUE for constraint in Incident._meta.constraints)


def _stream(text, reference, report, user, progress):
    """Validate and write the whole file; on any error report it and write nothing usable."""
    _lock(Incident)  # before reading references: no one else may add one meanwhile
    now = timezone.now()
    head = _first_references(text, SAMPLE)
    if head and not _existing(head):
        # The file's first references are all new: most likely every one is (a file of
        # new incidents). Then the rows go straight to COPY, with no first reading of
        # the file and no lookup of each reference, which together cost a fifth of the
        # import. Should a reference be in the database after all, its unique
        # constraint stops the COPY, and the file is read again the careful way.
        ids = _next_ids(Incident, text.count("\n") + 1)  # one per line is enough
        try:
            with transaction.atomic():
                _stream_rows(text, reference, report, {}, {}, ids, user, now, progress)
        except IntegrityError as exc:
            if getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None) != REFERENCE_UNIQUE:
                raise
            progress("some references are already in the database: reading the file again")
            report.restart()
        else:
            return _after_stream(report, ids, user, now, progress)
    scan = _scan(text, reference)
    _ids_after_imported_references(scan.references)
    existing = _existing(scan.references)
    new_courthouses = _save_new_courthouses(scan.courthouses, reference, _history_defaults(user, now))
    ids = _next_ids(Incident, sum(1 for ref in scan.references if ref not in existing) or 1)
    _stream_rows(text, reference, report, existing, new_courthouses, ids, user, now, progress)
    _after_stream(report, ids, user, now, progress)


def _after_stream(report, ids, user, now, progress):
    if report.error_count:
        return  # import_csv rolls the transaction back
    created = len(report.to_create)
    if created:
        progress(f"created {created:,} incidents; recording their history")
        _copy_history(ids[0], ids[0] + created - 1, user, now)
        # Later incidents are numbered after the TRK-<number> references just imported.
        _ids_after_imported_references(fields["reference"] for _, fields, _ in report.to_create)
    _finish(report, user, now, progress)


def _stream_rows(text, reference, report, existing, new_courthouses, ids, user, now, progress):
    """Check and plan every row; COPY the new incidents, with ids from `ids`, while no row has an error.

    A courthouse not saved yet ends one COPY: it is saved, and the next COPY goes on.
    """
    plan = Planner(reference, existing, report, new_courthouses)
    check = RowChecker(reference, report)
    lines = _created_lines(_records(text, report, progress), check, plan, iter(ids))
    columns, fixed = _fixed_columns(Incident, _fixed_values(user, now))
    source = _Reader(lines, fixed)
    while True:
        _copy(Incident, [*ROW_COLUMNS, *columns], source)
        if source.pending is None:
            break
        _create_courthouses([source.pending], _history_defaults(user, now))
        source.pending = None
    plan.finish()


def _first_references(text, count):
    """The references of the first `count` rows, or None if the file does not start well."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        if tuple(next(reader, [])) != COLUMNS:
            return None
        at = INDEX["reference"]
        return [_unescaped(record[at]) for record in itertools.islice(reader, count) if len(record) > at]
    except csv.Error:
        return None


@dataclass
class Scan:
    references: list  # every row's reference, blank ones too
    courthouses: dict  # (name, city, state) -> (first line, county FIPS) of those not in the database


def _scan(text, reference):
    """A first reading: references and new courthouses. Problems are left to the real reading."""
    scan = Scan(references=[], courthouses={})
    at = INDEX["reference"], INDEX["courthouse"], INDEX["courthouse_city"], INDEX["state"]
    fips_at, columns = INDEX["county_fips"], len(COLUMNS)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        if tuple(next(reader, [])) != COLUMNS:
            return scan
        last, limit = reader.line_num, settings.IMPORT_MAX_ROWS
        for record in reader:
            line, last = last + 1, reader.line_num
            if len(record) != columns or len(scan.references) >= limit:
                continue
            ref, name, city, state = (_unescaped(record[n]) for n in at)
            scan.references.append(ref)
            key = (name, city, state)
            if key not in reference.courthouses and key not in scan.courthouses:
                scan.courthouses[key] = (line, _unescaped(record[fips_at]))
    except csv.Error:
        pass
    return scan


def _unescaped(value):
    # RowChecker inlines the same test: a call per value would cost the import 0.3 s per 100,000 rows.
    return unescape_formula(value) if value[:1] == "'" else value


def _save_new_courthouses(courthouses, reference, history):
    """{key: (Courthouse, first line)} saved for each new courthouse a valid row could name.

    A row naming one with an invalid place is reported by RowChecker, and the file
    is then rolled back: what is saved here never outlives an invalid file.
    """
    new = {}
    for (name, city, state), (line, fips) in courthouses.items():
        valid = (
            reference.counties.get(fips) == state
            and name.strip()
            and city.strip()
            and len(name) <= LIMITS["courthouse"]
            and len(city) <= LIMITS["courthouse_city"]
        )
        if valid:
            new[name, city, state] = (Courthouse(name=name, city=city, county_id=fips), line)
    _create_courthouses([courthouse for courthouse, _ in new.values()], history)
    return new


def _created_lines(records, check, plan, ids):
    """COPY text of each incident to create, while no row so far has an error.

    A new courthouse not saved yet is yielded before the first row naming it; the
    row follows once it is saved. After the first error nothing more is yielded,
    but every row is still checked.
    """
    report = check.report
    for line, record in records:
        row = check(line, record)
        if not row or not plan(*row) or report.error_count:
            continue
        _, fields, key, fips = row
        if fields["courthouse_id"] is None:
            courthouse = plan.new_courthouses[key][0]
            yield courthouse
            fields["courthouse_id"] = plan.matched[key, fips] = courthouse.pk
        pk = next(ids)
        fields["reference"] = fields["reference"] or assigned_reference(pk)
        yield "\t".join(
            (
                str(pk),
                fields["reference"].translate(COPY_ESCAPES),
                fields["date"].isoformat(),
                str(fields["courthouse_id"]),
                *[fields[name] for name in CHOICE_COLUMNS],
                str(fields["people_count"]),
                fields["source_url"].translate(COPY_ESCAPES),
                fields["summary"].translate(COPY_ESCAPES),
                fields["county_id"],
                fields["state_id"],
            )
        )


class _Reader:
    """A file for copy_expert: COPY lines, about `size` characters per read.

    A Courthouse among the lines ends the file early; it waits in `pending`.
    """

    def __init__(self, lines, fixed):
        self.lines, self.suffix, self.pending = lines, f"\t{fixed}\n", None

    def read(self, size=-1):
        if self.pending is not None:
            return ""
        parts, total, suffix = [], 0, self.suffix
        for line in self.lines:
            if not isinstance(line, str):
                self.pending = line
                break
            parts.append(line)
            total += len(line)
            if 0 < size <= total:
                break
        return suffix.join(parts) + suffix if parts else ""


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


def _copy_history(first, last, user, now):
    """The creation history row of incidents first..last, copied inside the database."""
    history_model, quote = Incident.history.model, connection.ops.quote_name
    given = {
        "history_date": now,
        "history_change_reason": CHANGE_REASON,
        "history_type": "+",
        "history_user_id": user.pk if user else None,
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
        f"SELECT {', '.join(values)} FROM {quote(Incident._meta.db_table)} WHERE id BETWEEN %s AND %s ORDER BY id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, first, last])


def _lock(model):
    """Every other INSERT (and edit) of the table waits until this import commits."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"LOCK TABLE {connection.ops.quote_name(model._meta.db_table)} IN SHARE ROW EXCLUSIVE MODE"
        )


def _next_ids(model, count):
    """`count` consecutive new primary keys from the table's sequence.

    Under _lock() no other row can take an id inside the reserved block.
    """
    quote = connection.ops.quote_name
    table, column = model._meta.db_table, model._meta.pk.column
    _lock(model)
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
