"""Bulk import of the export's CSV format (docs: "CSV format").

One function, `import_csv`, serves the web preview, the web confirmation and the
`import_incidents` command, on every database, and reads the file once:

    reading.rows        bytes -> checked rows (one record in memory at a time)
    planning.events     rows -> create / update, with a lookup of each batch's references
    writing.*Writer     those events -> the database (a dry run writes nothing)

What is kept for the whole file is its references and their first lines (to
name both lines of a repeat), the courthouses it creates, the first rows of
each kind for the preview, and errors up to a cap. Every row is checked with the
model's own choices, lengths, validators and `Incident.clean()` rules.
Everything is written in one transaction, with one history row for each incident
actually created or changed; a file with any error, or a dry run, leaves the
database as it was.
"""

import io

from django.db import IntegrityError, connection, transaction

from ..permissions import write_scope
from . import planning, reading, writing
from .reading import check_size
from .report import ImportReport

__all__ = ["ImportReport", "check_size", "import_csv"]


def import_csv(source, *, user=None, dry_run=False, progress=None):
    """Check `source` (bytes, or a binary file that can seek) and, unless dry_run or any error, write it.

    Returns an ImportReport; `report.written` says whether anything was saved.
    """
    report = ImportReport()
    raw = io.BytesIO(source) if isinstance(source, bytes) else source
    if not reading.opens(raw, report):
        return report
    with transaction.atomic():
        progress = progress or (lambda message: None)
        _run(raw, report, user, dry_run, progress)
        if report.error_count or dry_run:
            # Nothing may commit; a dry run has written nothing to roll back.
            transaction.set_rollback(True)
            return report
    report.written = True
    progress(f"created {report.created:,} incidents and updated {report.updated:,}")
    return report


def _run(raw, report, user, dry_run, progress):
    if dry_run:
        return _read(raw, report, user, writing.DryRun(report), progress)
    if connection.vendor != "postgresql":
        return _read(raw, report, user, writing.OrmWriter(report, user), progress)
    writing.lock_incidents()
    try:
        with transaction.atomic():
            return _read(raw, report, user, writing.CopyWriter(report, user, guess_new=True), progress)
    except IntegrityError as exc:
        if not writing.is_reference_clash(exc):
            raise
    # The first references were new but a later one is not: read again, looking each batch up.
    progress("some references are already in the database: reading the file again")
    report.restart()
    raw.seek(0)
    return _read(raw, report, user, writing.CopyWriter(report, user, guess_new=False), progress)


def _read(raw, report, user, writer, progress):
    planner = planning.Planner(planning.Known.load(), report, planning.may_review(user), write_scope(user))
    rows = reading.rows(raw, planner.known, report, progress)
    writer.run(planning.events(rows, planner, guess_new=writer.guess_new))
