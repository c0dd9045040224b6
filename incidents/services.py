"""Multi-step writes on incidents: entry, correction, verification, retraction.

Every write goes through `_save_version`, which claims the next version with a
conditional UPDATE before saving: two people who loaded the same version can
never both save, on PostgreSQL and SQLite alike. Each save leaves one history
row naming its author. The bulk import lives in imports.py.
"""

from django.db import transaction
from django.utils import timezone

from . import choices
from .models import Incident


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
    incident.updated_at = timezone.now()
    incident._history_user = user
    incident.save()
