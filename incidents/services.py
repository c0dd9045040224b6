"""Multi-step writes on incidents: entry, correction, verification, retraction, bulk import.

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

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import choices, imports
from .cache import bump_data_version
from .models import (
    PUBLIC_FIELDS,
    REDACTABLE_FIELDS,
    REDACTED,
    STAFF_ONLY_FIELDS,
    Incident,
    Redaction,
    RetractionRequest,
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
    incident = _fresh(pk)
    incident.status = choices.Status.RETRACTED
    incident.retraction_reason, incident.retraction_public_reason = reason, public_reason
    incident.retracted_at = timezone.now()
    _save_version(incident, incident.version, user, change=choices.Change.RETRACTED)
    _decide_requests(pk, choices.RequestOutcome.RETRACTED, user)
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
