"""Bulk import of CSV files in the export's format, or any subset of its columns (docs/csv.md).

`services.import_incidents` is the one entry point (web preview, web confirmation,
the `import_incidents` command): it owns the transaction, the table lock and the
data version, and calls `run` here, which reads the file once:

    reading.rows        bytes -> checked rows (one record in memory at a time)
    planning.events     rows -> create / update, with a lookup of each batch's references
    writing.*Writer     those events -> the database (a dry run writes nothing)

What is kept for the whole file is its references and their first lines (to
name both lines of a repeat), the courthouses it creates or does not know, the
first rows of each kind for the preview, and errors up to a cap. Every row is
checked with the model's own choices, lengths, validators and `Incident.clean()`
rules. One history row is written for each incident actually created or changed.
"""

import io

from django.db import IntegrityError, connection, transaction

from ..permissions import write_scope
from . import planning, reading, writing
from .reading import IGNORED_COLUMNS, IMPORT_COLUMNS, REQUIRED_COLUMNS, check_size
from .report import ImportReport
from .writing import lock_incidents

__all__ = [
    "IGNORED_COLUMNS",
    "IMPORT_COLUMNS",
    "REQUIRED_COLUMNS",
    "ImportReport",
    "check_size",
    "lock_incidents",
    "opened",
    "run",
]


def opened(source, report):
    """`source` (bytes, or a binary file that can seek) as a binary file; None after reporting
    why it cannot be read as CSV text."""
    raw = io.BytesIO(source) if isinstance(source, bytes) else source
    return raw if reading.opens(raw, report) else None


def run(raw, report, *, user, dry_run, create_courthouses, progress):
    """Read, plan and, unless dry_run, write the file, in the caller's transaction.

    The caller rolls back when the report has any error; on PostgreSQL it holds
    lock_incidents() for a real import.
    """
    options = {"user": user, "create_courthouses": create_courthouses, "progress": progress}
    if dry_run:
        return _read(raw, report, writing.DryRun(report), **options)
    if connection.vendor != "postgresql":
        return _read(raw, report, writing.OrmWriter(report, user), **options)
    try:
        with transaction.atomic():
            return _read(raw, report, writing.CopyWriter(report, user, guess_new=True), **options)
    except IntegrityError as exc:
        if not writing.is_reference_clash(exc):
            raise
    # The first references were new but a later one is not: read again, looking each batch up.
    progress("some references are already in the database: reading the file again")
    report.restart()
    raw.seek(0)
    return _read(raw, report, writing.CopyWriter(report, user, guess_new=False), **options)


def _read(raw, report, writer, *, user, create_courthouses, progress):
    may_review = planning.may_review(user)
    planner = planning.Planner(
        planning.Known.load(), report, may_review, create_courthouses, write_scope(user)
    )
    rows = reading.rows(raw, planner.known, report, progress)
    writer.run(planning.events(rows, planner, guess_new=writer.guess_new))
