"""Multi-step writes on incidents and reports: entry, correction, verification,
retraction, bulk import, sources, merging, and the moderation of public reports.

Every write goes through `_save_version`, which claims the next version with a
conditional UPDATE before saving: two people who loaded the same version can
never both save, on PostgreSQL and SQLite alike. Each save leaves one history
row naming its author. The entry and correction forms, the admin, review,
retraction and the bulk import (import_incidents: the staff import pages and the
command) all write here; the import's reading and COPY writer are in imports/.

A write that changes only staff-only fields keeps the public `updated_at` and
saves no public column, so the data version (signals.py) stays too: the world
cannot tell that staff notes changed.
"""

import datetime

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import choices, imports
from .cache import bump_data_version
from .limits import CONTACT_KEPT_AFTER_CLOSE
from .models import (
    PUBLIC_FIELDS,
    PUBLISHED,
    REDACTABLE_FIELDS,
    REDACTED,
    STAFF_ONLY_FIELDS,
    Incident,
    Merge,
    Redaction,
    Report,
    RetractionRequest,
    Source,
)
from .permissions import may_withdraw

# What a visitor can see of a row, as database columns.
PUBLIC_COLUMNS = (
    *("courthouse_id" if name == "courthouse" else name for name in PUBLIC_FIELDS),
    "status",
    "retraction_reason",
    "retraction_public_reason",
)
# What a staff-only correction saves; signals.py leaves the data version alone for it.
PRIVATE_WRITE = frozenset({*STAFF_ONLY_FIELDS, "version", "updated_by"})


class EditConflict(Exception):
    """Someone saved the incident after it was loaded; nothing was written."""

    def __init__(self, saved):
        super().__init__(f"{saved.reference} was changed by someone else")
        self.saved = saved


class NotAllowed(Exception):
    """The write is not this user's to make (permissions.py); nothing was written."""


@transaction.atomic
def create_incident(*, incident, user, draft=False):
    """Save a new incident: published, or with `draft` a draft that no visitor can see."""
    now = timezone.now()
    if draft:
        incident.status = choices.Status.DRAFT
    incident.created_by = incident.updated_by = user
    incident.created_at = incident.updated_at = now
    incident.version = 1
    incident._history_user = user
    incident.save()
    return incident


@transaction.atomic
def update_incident(*, incident, expected_version, user, note="", publish=False):
    """Save the edited `incident` unless someone saved since `expected_version`.

    `note` is the public reason for a correction of a published incident; `publish`
    makes a draft public, as a new incident.
    """
    change = choices.Change.UPDATED
    if publish and incident.is_draft:
        incident.status, change = choices.Status.PUBLISHED, choices.Change.CREATED
    _save_version(incident, expected_version, user, change=change, note=note)
    return incident


@transaction.atomic
def set_verification(*, pk, verification, user):
    incident = _fresh(pk)
    if incident.verification != verification:
        incident.verification = verification
        _save_version(incident, incident.version, user)
    return incident


@transaction.atomic
def retract_incident(*, pk, reason, public_reason, user):
    """Withdraw the incident from public view; its notice gives `public_reason`, never `reason`."""
    reason = reason.strip()
    if not reason or public_reason not in choices.RetractionReason.values:
        raise ValueError("A retraction needs a reason and a public reason.")
    return _retract(_fresh(pk), reason, public_reason, user)


def _retract(incident, reason, public_reason, user):
    incident.status = choices.Status.RETRACTED
    incident.retraction_reason, incident.retraction_public_reason = reason, public_reason
    incident.retracted_at = timezone.now()
    _save_version(incident, incident.version, user, change=choices.Change.RETRACTED)
    _decide_requests(incident.pk, choices.RequestOutcome.RETRACTED, user)
    return incident


@transaction.atomic
def withdraw_incident(*, pk, reason, public_reason, user):
    """A court administrator's retraction of their own entry, within the withdrawal window."""
    if not may_withdraw(user, _fresh(pk)):
        raise NotAllowed(_("Only your own entry, within 24 hours of saving it, can be withdrawn."))
    return retract_incident(pk=pk, reason=reason, public_reason=public_reason, user=user)


@transaction.atomic
def request_retraction(*, pk, reason, public_reason, user):
    """Ask a reviewer to retract a published incident; one open request per incident."""
    incident = _fresh(pk)
    if not incident.is_published:
        raise NotAllowed(_("Only a published incident can be retracted."))
    if incident.retraction_requests.filter(outcome=choices.RequestOutcome.OPEN).exists():
        raise NotAllowed(_("A retraction of this incident is already waiting for a reviewer."))
    return RetractionRequest.objects.create(
        incident=incident, reason=reason.strip(), public_reason=public_reason, requested_by=user
    )


@transaction.atomic
def decline_retraction(*, pk, user):
    """A reviewer keeps the incident published: its open requests are declined."""
    _fresh(pk)
    _decide_requests(pk, choices.RequestOutcome.DECLINED, user)


def _decide_requests(pk, outcome, user):
    RetractionRequest.objects.filter(incident_id=pk, outcome=choices.RequestOutcome.OPEN).update(
        outcome=outcome, decided_by=user, decided_at=timezone.now()
    )


@transaction.atomic
def restore_incident(*, pk, user):
    """Publish a retracted incident again; its reasons stay in the history."""
    incident = _fresh(pk)
    if incident.status != choices.Status.RETRACTED:
        return incident
    incident.status = choices.Status.PUBLISHED
    incident.retraction_reason = incident.retraction_public_reason = ""
    incident.retracted_at = None
    _save_version(incident, incident.version, user, change=choices.Change.RESTORED)
    return incident


class NothingToRedact(ValueError):
    """The text is in no version of the field; nothing was written."""


@transaction.atomic
def redact(*, pk, field, text, reason, user):
    """Replace `text` by REDACTED in `field`: in the incident and in every history row.

    The one write that changes history. A current value that holds the text is
    corrected like any other edit (a new version, a history row); the earlier rows
    are rewritten in place. The Redaction row records who, when, where and why,
    never the text.
    """
    if field not in REDACTABLE_FIELDS or not text or not reason.strip():
        raise ValueError("A redaction needs a redactable field, a text and a reason.")
    incident = _fresh(pk)
    rows = [row for row in incident.history.only("history_id", field) if text in getattr(row, field)]
    if text in getattr(incident, field):
        setattr(incident, field, getattr(incident, field).replace(text, REDACTED))
        incident._change_reason = _("redaction")
        _save_version(incident, incident.version, user)
    elif not rows:
        raise NothingToRedact(_("This text is in no version of the field."))
    for row in rows:
        setattr(row, field, getattr(row, field).replace(text, REDACTED))
    incident.history.model.objects.bulk_update(rows, [field])
    if field in PUBLIC_FIELDS:
        bump_data_version()  # cached pages hold the public change log
    return Redaction.objects.create(
        incident=incident, field=field, reason=reason.strip(), redacted_by=user, history_rows=len(rows)
    )


def import_incidents(source, *, user=None, dry_run=False, create_courthouses=False, progress=None):
    """Check a CSV file (bytes, or a binary file that can seek) and, unless dry_run or any error,
    write it, all or nothing. Returns an ImportReport; `report.written` says whether it was saved.

    A courthouse that matches no known one is an error, unless create_courthouses.
    On PostgreSQL a real import first locks the incident table against other writers
    (readers go on), so no one adds a reference or takes an id meanwhile.
    """
    report, progress = imports.ImportReport(), progress or (lambda message: None)
    raw = imports.opened(source, report)
    if raw is None:
        return report
    with transaction.atomic():
        if not dry_run and connection.vendor == "postgresql":
            imports.lock_incidents()
        options = {"user": user, "dry_run": dry_run, "create_courthouses": create_courthouses}
        imports.run(raw, report, progress=progress, **options)
        if report.error_count or dry_run:
            transaction.set_rollback(True)  # nothing may commit; a dry run has written nothing
            return report
        bump_data_version()  # bulk writes send no post_save signal; cached figures must still go stale
    report.written = True
    progress(f"created {report.created:,} incidents and updated {report.updated:,}")
    return report


def _fresh(pk):
    # The row lock (PostgreSQL) keeps a concurrent edit out until commit.
    return Incident.objects.select_for_update().get(pk=pk)


def _save_version(incident, expected_version, user, change=choices.Change.UPDATED, note=""):
    claimed = Incident.objects.filter(pk=incident.pk, version=expected_version).update(
        version=expected_version + 1
    )
    if not claimed:
        raise EditConflict(
            Incident.objects.select_related("courthouse__county", "updated_by").get(pk=incident.pk)
        )
    incident.version = expected_version + 1
    incident.updated_by = user
    incident._history_user = user
    if _public_change(incident):
        incident.updated_at = timezone.now()
        incident.last_change = change
        # signals.public_note puts it on the history row; only a correction of a published incident has one.
        incident._public_note = (
            note.strip() if change == choices.Change.UPDATED and incident.is_published else ""
        )
        incident.save()
    else:
        incident.save(update_fields=PRIVATE_WRITE)


def _public_change(incident):
    """Whether `incident` differs from its stored row in anything a visitor can see."""
    stored = Incident.objects.filter(pk=incident.pk).values_list(*PUBLIC_COLUMNS).get()
    return stored != tuple(getattr(incident, column) for column in PUBLIC_COLUMNS)


# Sources and merging ---------------------------------------------------------


def add_source(*, source, user):
    """Save one more source of an incident (signals.py renews the public pages)."""
    source._history_user = user
    source.save()
    return source


class CannotMerge(ValueError):
    """The two incidents cannot be merged; nothing was written."""


@transaction.atomic
def merge_incidents(*, kept_pk, other_pk, user):
    """`other` duplicates `kept`: kept gains its sources and reports, other is retracted
    as a duplicate pointing to kept, and both histories say so."""
    if kept_pk == other_pk:
        raise CannotMerge(_("An incident cannot be merged with itself."))
    # Locked in id order, so that two opposite merges cannot wait on each other.
    locked = {
        row.pk: row
        for row in Incident.objects.select_for_update().filter(pk__in=[kept_pk, other_pk]).order_by("pk")
    }
    kept, other = locked.get(kept_pk), locked.get(other_pk)
    if kept is None or other is None or not (kept.is_published and other.is_published):
        raise CannotMerge(_("Only two published incidents can be merged."))
    _move_sources(other, kept, user)
    kept._change_reason = _("merged %(ref)s into this incident") % {"ref": other.reference}
    _save_version(kept, kept.version, user)
    other._change_reason = _("merged into %(ref)s") % {"ref": kept.reference}
    _retract(other, other._change_reason, choices.RetractionReason.DUPLICATE, user)
    Merge.objects.update_or_create(merged=other, defaults={"kept": kept, "merged_by": user})
    return kept


def _move_sources(other, kept, user):
    if other.source_url:
        primary = Source(incident=kept, source_type=other.source_type, url=other.source_url, date=other.date)
        primary.note = _("from %(ref)s") % {"ref": other.reference}
        add_source(source=primary, user=user)
    for source in other.sources.all():
        source.incident = kept
        add_source(source=source, user=user)
    Report.objects.filter(incident=other).update(incident=kept)


# Public reports and the moderation queue ---------------------------------------


def submit_report(*, report, address_hash):
    """A public report, waiting in the queue; never public by itself."""
    report.address_hash = address_hash
    report._change_reason = _("received")
    report.save()
    return report


@transaction.atomic
def start_review(*, pk, user):
    report = _fresh_report(pk)
    if report.status == choices.ReportStatus.NEW:
        _save_report(report, choices.ReportStatus.IN_REVIEW, user, _("taken for review"))
    return report


@transaction.atomic
def incident_from_report(*, incident, report_pk, user):
    """A new incident from a report, which is then accepted and linked to it."""
    report = _open_report(report_pk)
    incident._change_reason = _("from public report #%(pk)d") % {"pk": report.pk}
    create_incident(incident=incident, user=user)
    report.incident = incident
    _save_report(
        report, choices.ReportStatus.ACCEPTED, user, _("made into %(ref)s") % {"ref": incident.reference}
    )
    return incident


@transaction.atomic
def attach_report(*, report_pk, incident_pk, note, user):
    """The report becomes another source of a published incident, linked to the report."""
    report = _open_report(report_pk)
    incident = Incident.objects.filter(PUBLISHED, pk=incident_pk).first()
    if incident is None:
        raise ClosedReport(_("Only a published incident can take a report as a source."))
    source = Source(incident=incident, source_type=choices.SourceType.COMMUNITY, url=report.source_url)
    source.date, source.note, source.report = report.date, note, report
    add_source(source=source, user=user)
    report.incident = incident
    _save_report(
        report, choices.ReportStatus.ACCEPTED, user, _("attached to %(ref)s") % {"ref": incident.reference}
    )
    return source


@transaction.atomic
def reject_report(*, pk, reason, user):
    reason = reason.strip()
    if not reason:
        raise ValueError("A rejection needs a reason.")
    report = _open_report(pk)
    report.rejection_reason = reason
    _save_report(report, choices.ReportStatus.REJECTED, user, _("rejected"))
    return report


def purge_report_contacts(*, now=None):
    """Erase the contact details of reports closed CONTACT_KEPT_AFTER_CLOSE ago or more,
    and every address hash older than a day; returns how many contacts were erased.
    Contacts and hashes are never copied into the reports' history."""
    now = now or timezone.now()
    old = Report.objects.filter(closed_at__lte=now - CONTACT_KEPT_AFTER_CLOSE).exclude(contact="")
    erased = old.update(contact="")
    Report.objects.filter(created_at__lte=now - datetime.timedelta(days=1)).exclude(address_hash="").update(
        address_hash=""
    )
    return erased


class ClosedReport(ValueError):
    """The report was already accepted or rejected; nothing was written."""


def _fresh_report(pk):
    return Report.objects.select_for_update().get(pk=pk)


def _open_report(pk):
    report = _fresh_report(pk)
    if report.status in (choices.ReportStatus.ACCEPTED, choices.ReportStatus.REJECTED):
        raise ClosedReport(
            _("This report was already %(status)s.") % {"status": report.get_status_display().lower()}
        )
    return report


def _save_report(report, status, user, reason):
    report.status = status
    if status in (choices.ReportStatus.ACCEPTED, choices.ReportStatus.REJECTED):
        report.closed_at = timezone.now()
    report._history_user, report._change_reason = user, reason
    report.save()
