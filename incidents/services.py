"""Multi-step writes on incidents and reports: entry, correction, verification,
retraction, sources, merging, and the moderation of public reports.

Every write goes through `_save_version`, which claims the next version with a
conditional UPDATE before saving: two people who loaded the same version can
never both save, on PostgreSQL and SQLite alike. Each save leaves one history
row naming its author. The entry and correction forms, the admin, review and
retraction all write here; the bulk import lives in imports.py.

A write that changes only staff-only fields keeps the public `updated_at` and
saves no public column, so the data version (signals.py) stays too: the world
cannot tell that staff notes changed.
"""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import choices
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
    Source,
)

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


@transaction.atomic
def create_incident(*, incident, user):
    now = timezone.now()
    incident.created_by = incident.updated_by = user
    incident.created_at = incident.updated_at = now
    incident.version = 1
    incident._history_user = user
    incident.save()
    return incident


@transaction.atomic
def update_incident(*, incident, expected_version, user):
    """Save the edited `incident` unless someone saved since `expected_version`."""
    _save_version(incident, expected_version, user)
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
    return incident


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


def _fresh(pk):
    # The row lock (PostgreSQL) keeps a concurrent edit out until commit.
    return Incident.objects.select_for_update().get(pk=pk)


def _save_version(incident, expected_version, user, change=choices.Change.UPDATED):
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
