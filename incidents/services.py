"""Multi-step writes on incidents: entry, correction, verification, retraction.

Every write goes through `_save_version`, which claims the next version with a
conditional UPDATE before saving: two people who loaded the same version can
never both save, on PostgreSQL and SQLite alike. Each save leaves one history
row naming its author. The entry and correction forms, the admin, review and
retraction all write here; the bulk import lives in imports.py.

A write that changes only staff-only fields keeps the public `updated_at` and
saves no public column, so the data version (signals.py) stays too: the world
cannot tell that staff notes changed.
"""

from django.db import transaction
from django.utils import timezone

from . import choices
from .models import PUBLIC_FIELDS, STAFF_ONLY_FIELDS, Incident

# What a visitor can see of a row, as database columns.
PUBLIC_COLUMNS = (
    *("courthouse_id" if name == "courthouse" else name for name in PUBLIC_FIELDS),
    "status",
    "retraction_reason",
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
def retract_incident(*, pk, reason, user):
    reason = reason.strip()
    if not reason:
        raise ValueError("A retraction needs a reason.")
    incident = _fresh(pk)
    incident.status = choices.Status.RETRACTED
    incident.retraction_reason = reason
    _save_version(incident, incident.version, user)
    return incident


@transaction.atomic
def restore_incident(*, pk, user):
    """Publish a retracted incident again; its reason stays in the history."""
    incident = _fresh(pk)
    if incident.status != choices.Status.RETRACTED:
        return incident
    incident.status = choices.Status.PUBLISHED
    incident.retraction_reason = ""
    _save_version(incident, incident.version, user)
    return incident


def _fresh(pk):
    # The row lock (PostgreSQL) keeps a concurrent edit out until commit.
    return Incident.objects.select_for_update().get(pk=pk)


def _save_version(incident, expected_version, user):
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
        incident.save()
    else:
        incident.save(update_fields=PRIVATE_WRITE)


def _public_change(incident):
    """Whether `incident` differs from its stored row in anything a visitor can see."""
    stored = Incident.objects.filter(pk=incident.pk).values_list(*PUBLIC_COLUMNS).get()
    return stored != tuple(getattr(incident, column) for column in PUBLIC_COLUMNS)
