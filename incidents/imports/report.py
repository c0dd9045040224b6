"""What an import found and did: counts, the first rows for the preview, and errors up to a cap.

Nothing here grows with the file beyond MAX_ERRORS messages and PREVIEW_ROWS rows,
so a million-row file costs no more memory to report than a small one.
"""

import datetime
from dataclasses import dataclass, field
from typing import NamedTuple

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

MAX_ERRORS = 1000  # reported; a file with more has a systematic problem
PREVIEW_ROWS = 200  # rows of each kind the preview lists


class Place(NamedTuple):
    """A courthouse as a file names it."""

    name: str
    city: str
    state: str


class Created(NamedTuple):
    line: int
    reference: str  # empty: one is assigned at creation
    date: datetime.date
    place: Place
    outcome: str
    courthouse_id: int | None = None  # None: a courthouse the import creates


class Change(NamedTuple):
    """One value an update changes, as stored (a courthouse as "Name (City)")."""

    field: str
    old: object
    new: object


class Updated(NamedTuple):
    line: int
    reference: str
    changes: list  # [Change]


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    creates: list = field(default_factory=list)  # [Created], the first PREVIEW_ROWS
    updates: list = field(default_factory=list)  # [Updated], the first PREVIEW_ROWS
    new_courthouses: dict = field(default_factory=dict)  # {Place: Courthouse}
    # Courthouses that match none, to create with `create_courthouses`: {Place: county FIPS,
    # or None when the file lacks what a new courthouse needs (its city or county)}
    unknown_courthouses: dict = field(default_factory=dict)
    absent_columns: tuple = ()  # importable columns the file lacks (defaults, or kept on update)
    errors: list = field(default_factory=list)
    error_count: int = 0
    written: bool = False

    def restart(self):
        """Forget everything, to read the file again."""
        self.__dict__.update(ImportReport().__dict__)

    def error(self, line, message, column=None):
        self.error_count += 1
        if self.error_count <= MAX_ERRORS:
            if column:
                where = _("line %(line)d, column %(column)s") % {"line": line, "column": column}
            else:
                where = _("line %(line)d") % {"line": line}
            self.errors.append(f"{where}: {message}")

    def create(self, line, fields, place):
        self.created += 1
        if len(self.creates) < PREVIEW_ROWS:
            created = Created(line, fields["reference"], fields["date"], place, fields["outcome"])
            self.creates.append(created._replace(courthouse_id=fields.get("courthouse_id")))

    def update(self, line, fields, changes):
        """`changes()` gives the row's [Change]; it is called only for the rows the preview lists."""
        self.updated += 1
        if len(self.updates) < PREVIEW_ROWS:
            self.updates.append(Updated(line, fields["reference"], changes()))

    @property
    def creatable_courthouses(self):
        """{Place: county FIPS} of the courthouses a tick (or --create-courthouses) would create,
        when they are the file's only errors; else empty."""
        unknown = self.unknown_courthouses
        if not unknown or self.error_count != len(unknown) or None in unknown.values():
            return {}
        return unknown

    @property
    def error_lines(self):
        """Every error, with a last line saying how many were left out."""
        hidden = self.error_count - len(self.errors)
        more = ngettext("... and %(n)s more error", "... and %(n)s more errors", hidden) % {
            "n": number_format(hidden, force_grouping=True)
        }
        return self.errors + ([more] if hidden else [])

    def summary(self):
        verb = "" if self.written else "to "
        return (
            f"{self.rows:,} rows: {self.created:,} {verb}create, "
            f"{self.updated:,} {verb}update, {self.unchanged:,} unchanged, "
            f"{len(self.new_courthouses):,} courthouses {verb}create"
        )
