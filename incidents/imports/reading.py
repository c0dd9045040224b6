"""Reading: the file's bytes to checked rows, one record at a time.

The file is decoded as it is read (a buffered reader under a text wrapper), so
memory holds one chunk of it, never the whole. Each record is checked against the
model's choices, lengths, validators and `Incident.clean()` rules; what the
database must say (existing incidents, courthouses) is left to planning.
"""

import codecs
import csv
import datetime
import io
import operator
import re
from dataclasses import dataclass
from types import SimpleNamespace

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..choices import Outcome
from ..export import COLUMNS, unescape_formula
from ..limits import EARLIEST_DATE, SUMMARY_MAX_CHARS
from ..models import CHOICE_FIELDS, LABELLED_CHOICES, STAFF_ONLY_FIELDS, Courthouse, Incident
from .report import Place

PROGRESS_EVERY = 20_000
CHUNK_BYTES = 1 << 20
# The csv module's limit on one value. A longer summary than SUMMARY_MAX_CHARS is
# reported on its own line; only a value over twice that ends the reading.
FIELD_LIMIT = 2 * SUMMARY_MAX_CHARS

CHOICE_COLUMNS = tuple(name for name in COLUMNS if name in CHOICE_FIELDS)
# What a file may hold: the export's columns, then the staff-only ones (never exported).
IMPORT_COLUMNS = (*COLUMNS, *STAFF_ONLY_FIELDS)
# The only columns a file must have; any other may be absent, in any order.
REQUIRED_COLUMNS = ("date", "state", "courthouse", "outcome")
# Read and ignored: the export writes them, so that an exported file imports as it is.
IGNORED_COLUMNS = ("id", "county", "created_at", "updated_at")
TEXT_COLUMNS = ("reference", "source_url", "summary", *STAFF_ONLY_FIELDS)
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
COUNT = re.compile(r"[0-9]{1,9}")  # \d would take other scripts' digits ("٣")


def _max_length(model, name):
    return model._meta.get_field(name).max_length


LIMITS = {
    "reference": _max_length(Incident, "reference"),
    "source_url": _max_length(Incident, "source_url"),
    "summary": SUMMARY_MAX_CHARS,
    "internal_notes": SUMMARY_MAX_CHARS,
    "docket_number": _max_length(Incident, "docket_number"),
    "reporter_contact": _max_length(Incident, "reporter_contact"),
    "courthouse": _max_length(Courthouse, "name"),
    "courthouse_city": _max_length(Courthouse, "city"),
}
URL_VALIDATORS = Incident._meta.get_field("source_url").validators
INDEX = {name: n for n, name in enumerate(IMPORT_COLUMNS)}
# (column, its index, {value: the model's own value}, the value of an empty cell or None: an error)
CHOICE_SPEC = [
    (
        name,
        INDEX[name],
        {str(value): str(value) for value in CHOICE_FIELDS[name].values},
        None if name in REQUIRED_COLUMNS else str(Incident._meta.get_field(name).get_default()),
    )
    for name in CHOICE_COLUMNS
]
# A courthouse's, read for a new courthouse only; empty: its name decides (planning).
COURT_TYPES = {"": "", **{str(value): str(value) for value in LABELLED_CHOICES["court_type"].values}}
RULE_FIELDS = ("date", "date_precision", "outcome", "people_count")  # what Incident.clean() reads
RULE_KEY = operator.itemgetter(*RULE_FIELDS)
NOT_UTF8 = gettext_lazy('save it as UTF-8 ("CSV UTF-8" in Excel) and try again')
# Where the first four bytes of UTF-16 or UTF-32 text without a byte-order mark are zero.
WIDE_ZEROS = {
    (False, True, False, True),
    (True, False, True, False),
    (False, True, True, True),
    (True, True, True, False),
}
WIDE_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


@dataclass(slots=True)
class Row:
    """A record that passed every check of its own."""

    line: int  # of the record's first line; the header is line 1
    fields: dict
    place: Place
    fips: str
    court_type: str  # one of COURT_TYPES; empty when the file leaves it to the courthouse's name
    blank: list  # fields whose cell is empty (or absent): a new incident gets the default, an update keeps


def check_size(size):
    """The message for a file over IMPORT_MAX_BYTES, or None."""
    limit = settings.IMPORT_MAX_BYTES
    if size > limit:
        return _(
            "the file is %(size)s bytes, over the limit of %(limit)s bytes "
            "(IMPORT_MAX_BYTES); split it into smaller files"
        ) % {"size": _number(size), "limit": _number(limit)}
    return None


def opens(raw, report):
    """Whether the binary file `raw` may be read as CSV text; reports why not."""
    raw.seek(0, io.SEEK_END)
    too_big = check_size(raw.tell())
    raw.seek(0)
    head = raw.read(4)
    raw.seek(0)
    if too_big:
        report.error(1, too_big)
    elif head.startswith(WIDE_BOMS) or tuple(byte == 0 for byte in head) in WIDE_ZEROS:
        report.error(1, _("the file is UTF-16/UTF-32 text: save as UTF-8 (%(how)s)") % {"how": NOT_UTF8})
    return not report.error_count


def rows(raw, known, report, progress):
    """Each valid Row of the file; every problem is reported."""
    check = RowChecker(known, report)
    for line, record in _records(raw, report, progress):
        row = check(line, record)
        if row:
            yield row


class NotText(Exception):
    def __init__(self, line):
        super().__init__(line)
        self.line = line


class _Checked(io.RawIOBase):
    """The file's bytes as they are read; a NUL byte, which no CSV text has, stops them."""

    def __init__(self, raw):
        self.raw, self.lines = raw, 0

    def readable(self):
        return True

    def readinto(self, buffer):
        data = self.raw.read(len(buffer))
        nul = data.find(b"\x00")  # PostgreSQL text cannot hold it either
        if nul >= 0:
            raise NotText(self.lines + data.count(b"\n", 0, nul) + 1)
        self.lines += data.count(b"\n")
        buffer[: len(data)] = data
        return len(data)


def _records(raw, report, progress):
    """(line, record) for each non-blank record under a correct header.

    A wrong header, bytes that are not UTF-8 text, malformed CSV or too many rows
    is reported and ends the records.
    """
    csv.field_size_limit(FIELD_LIMIT)
    text = io.TextIOWrapper(io.BufferedReader(_Checked(raw), CHUNK_BYTES), encoding="utf-8-sig", newline="")
    reader = csv.reader(text, strict=True)
    try:
        header = _header(reader, report)
        if header:
            yield from _body(reader, header, report, progress)
    except NotText as exc:
        report.error(exc.line, _("this is a binary file, not CSV text"))
    except UnicodeDecodeError:
        line, byte = _undecodable(raw)
        report.error(
            line,
            _("the file is not UTF-8 text (byte 0x%(byte)02X); %(how)s") % {"byte": byte, "how": NOT_UTF8},
        )
    except csv.Error as exc:
        report.error(reader.line_num or 1, _malformed(exc))


def _header(reader, report):
    """The file's columns, lower-cased and stripped; None after reporting what is wrong with them."""
    header = next(reader, None)
    if header is None or not "".join(header).strip():
        if not any("".join(record).strip() for record in reader):
            report.error(1, _("the file is empty; expected a header line and rows"))
            return None
    header = tuple(name.strip().lower() for name in header or ())
    if not _check_header(header, report):
        return None
    report.absent_columns = tuple(
        name for name in IMPORT_COLUMNS if name not in header and name not in IGNORED_COLUMNS
    )
    return header


def _body(reader, header, report, progress):
    """(line, record) with a value for each of IMPORT_COLUMNS: empty for an absent column."""
    limit, width, pick = settings.IMPORT_MAX_ROWS, len(header), _picker(header)
    last = reader.line_num  # a record's line is the one after the previous record's last
    for record in reader:
        line, last = last + 1, reader.line_num
        if not record:
            continue  # a blank line
        report.rows += 1
        if report.rows > limit:
            report.error(
                line,
                _("the file has more than %(limit)s rows (IMPORT_MAX_ROWS); split it")
                % {"limit": _number(limit)},
            )
            return
        if len(record) != width:
            report.error(
                line, _("expected %(width)d values, found %(found)d") % {"width": width, "found": len(record)}
            )
        else:
            yield line, pick(record)
        if report.rows % PROGRESS_EVERY == 0:
            progress(f"read {report.rows:,} rows")
    if not report.rows:
        report.error(2, _("the file has a header but no rows"))


def _picker(header):
    """A function from a record in `header`'s order to its values in IMPORT_COLUMNS' order."""
    absent = [name for name in IMPORT_COLUMNS if name not in header]
    at = {name: n for n, name in enumerate((*header, *absent))}
    defaults = [""] * len(absent)
    getter = operator.itemgetter(*(at[name] for name in IMPORT_COLUMNS))
    return lambda record: getter(record + defaults)


def _malformed(exc):
    if str(exc).startswith("field larger than field limit"):
        return _(
            "a value is longer than %(limit)s characters (a summary has at most "
            "%(summary)s); nothing after this line was read"
        ) % {"limit": _number(FIELD_LIMIT), "summary": _number(SUMMARY_MAX_CHARS)}
    return _("malformed CSV (%(problem)s); nothing after this line was read") % {"problem": exc}


def _undecodable(raw):
    """(line, byte) of the first byte that is not UTF-8: read again, only on this error."""
    raw.seek(0)
    decoder, lines = codecs.getincrementaldecoder("utf-8-sig")(), 0
    while chunk := raw.read(CHUNK_BYTES):
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            data = exc.object  # the bytes held from the last chunk (no newline among them), then this one
            return lines + data.count(b"\n", 0, exc.start) + 1, data[exc.start]
        lines += chunk.count(b"\n")
    return lines + 1, 0


def _check_header(header, report):
    for n, name in enumerate(header):
        if name not in IMPORT_COLUMNS:
            report.error(
                1, _("not a column of this format"), column=name or _("#%(n)d (empty)") % {"n": n + 1}
            )
        elif header.index(name) != n:
            report.error(1, _("this column appears twice"), column=name)
    for name in REQUIRED_COLUMNS:
        if name not in header:
            report.error(1, _("this column is missing; it is required"), column=name)
    return not report.error_count


class RowChecker:
    """Validates one record at a time, remembering what repeats from row to row.

    Dates and the model's cross-field rules are computed once per distinct value:
    a file has a few thousand distinct dates, not one per row. `seen` keeps each
    reference's first line (the one thing kept per row), to name both lines of a repeat.
    """

    def __init__(self, known, report):
        self.known, self.report = known, report
        self.dates, self.rules, self.seen = {}, {}, {}

    def __call__(self, line, record):
        """A Row, or None after reporting its errors; `record` has a value for each of IMPORT_COLUMNS."""
        report = self.report
        # The test is inlined: a call per value would cost 0.3 s per 100,000 rows.
        values = [unescape_formula(value) if value[:1] == "'" else value for value in record]
        errors_before = report.error_count
        fields, blank = {}, []
        for name, at, allowed, default in CHOICE_SPEC:
            # The model's own value object: a million rows then share a dozen strings.
            value = fields[name] = allowed.get(values[at])
            if value is None and values[at] == "" and default is not None:
                fields[name] = default
                blank.append(name)
            elif value is None:
                report.error(line, _not_a_choice(values[at], name), column=name)
        fields["date"] = self.date(line, values[INDEX["date"]])
        count = values[INDEX["people_count"]]
        fields["people_count"] = _count(line, count, fields["outcome"], report)
        if not count:
            blank.append("people_count")
        for name in TEXT_COLUMNS:
            fields[name] = values[INDEX[name]]
        _check_text(line, fields, report)
        place, fips = _place(line, values, self.known, report)
        court_type = _court_type(line, values[INDEX["court_type"]], report)
        if report.error_count == errors_before:
            self.model_rules(line, fields)
        if report.error_count > errors_before or self.repeated(line, fields["reference"]):
            return None
        return Row(line, fields, place, fips, court_type, blank)

    def date(self, line, value):
        if value not in self.dates:
            self.dates[value] = _date(value)
        day = self.dates[value]
        if day is None:
            self.report.error(
                line, _("%(value)r is not a valid date (YYYY-MM-DD)") % {"value": value}, column="date"
            )
        elif day < EARLIEST_DATE:
            earliest = EARLIEST_DATE.isoformat()
            self.report.error(
                line,
                _("%(value)s is before %(earliest)s, the earliest date accepted")
                % {"value": value, "earliest": earliest},
                column="date",
            )
            return None
        return day

    def model_rules(self, line, fields):
        """Incident.clean()'s rules, with the model's own messages."""
        key = RULE_KEY(fields)
        if key not in self.rules:
            self.rules[key] = rule_errors(fields)
        for column, message in self.rules[key]:
            self.report.error(line, message, column=column)

    def repeated(self, line, reference):
        if not reference:
            return False
        first = self.seen.setdefault(reference, line)
        if first != line:
            self.report.error(
                line,
                _("%(reference)s is repeated: it is also on line %(first)d")
                % {"reference": reference, "first": first},
                column="reference",
            )
        return first != line


def rule_errors(fields):
    """[(column, message)] of Incident.clean() for these fields' values."""
    # clean() reads only these values; a namespace stands in for an Incident,
    # whose creation costs more than the rest of the row's checks. A rule reading
    # another field fails loudly here (AttributeError) instead of being skipped.
    try:
        Incident.clean(SimpleNamespace(**{name: fields[name] for name in RULE_FIELDS}))
    except ValidationError as exc:
        return [(column, message) for column, messages in exc.message_dict.items() for message in messages]
    return []


def _not_a_choice(value, name):
    allowed = ", ".join(LABELLED_CHOICES[name].values)
    return _("%(value)r is not one of %(allowed)s") % {"value": value, "allowed": allowed}


def _longer(limit):
    return _("longer than %(limit)s characters") % {"limit": _number(limit)}


def _number(n):
    """1,502 in English, 1.502 in Spanish."""
    return number_format(n, force_grouping=True)


def _date(value):
    try:
        return datetime.date.fromisoformat(value) if ISO_DATE.fullmatch(value) else None
    except ValueError:
        return None


def _count(line, value, outcome, report):
    """The people count; empty (or an absent column): 1 for an arrest, else 0."""
    if not value:
        return 1 if outcome == Outcome.ARRESTED else 0
    if COUNT.fullmatch(value):
        return int(value)
    report.error(
        line, _("%(value)r is not a whole number of 0 or more") % {"value": value}, column="people_count"
    )
    return None


def _check_text(line, fields, report):
    for name in TEXT_COLUMNS:
        if len(fields[name]) > LIMITS[name]:
            report.error(line, _longer(LIMITS[name]), column=name)
    url = fields["source_url"]
    if url and len(url) <= LIMITS["source_url"]:
        try:
            for validator in URL_VALIDATORS:
                validator(url)
        except ValidationError:
            report.error(line, _("%(url)r is not a valid URL") % {"url": url}, column="source_url")


def _place(line, values, known, report):
    """(Place, county FIPS), checking state and county; an empty city or FIPS is left to planning."""
    state, fips = values[INDEX["state"]], values[INDEX["county_fips"]]
    name, city = values[INDEX["courthouse"]], values[INDEX["courthouse_city"]]
    if state not in known.states:
        report.error(
            line,
            _("unknown state %(state)r (expected a USPS code such as NY)") % {"state": state},
            column="state",
        )
    county_state = known.counties.get(fips)
    if fips and county_state is None:
        report.error(line, _("unknown county FIPS code %(fips)r") % {"fips": fips}, column="county_fips")
    elif fips and state in known.states and county_state != state:
        report.error(
            line,
            _("county %(fips)s is in %(in)s, not %(state)s")
            % {"fips": fips, "in": county_state, "state": state},
            column="county_fips",
        )
    if not name.strip():
        report.error(line, _("must not be empty"), column="courthouse")
    for column, value in (("courthouse", name), ("courthouse_city", city)):
        if len(value) > LIMITS[column]:
            report.error(line, _longer(LIMITS[column]), column=column)
    return Place(name, city, state), fips


def _court_type(line, value, report):
    court_type = COURT_TYPES.get(value)
    if court_type is None:
        report.error(line, _not_a_choice(value, "court_type"), column="court_type")
    return court_type
