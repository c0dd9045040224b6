"""Where a member of staff may write: the one rule for entry, correction, withdrawal and import.

A court administrator writes only inside their jurisdictions (models.Jurisdiction:
states, counties or courthouses assigned in the admin). Reviewers and superusers
are not limited, and neither is the import command run without --user.
"""

from django.db.models import Q
from django.utils import timezone

from .models import WITHDRAWAL_WINDOW, Courthouse, Incident, Jurisdiction

UNLIMITED = "incidents.review_incident"


class Scope:
    """The places a court administrator may write in."""

    def __init__(self, assignments):
        self.assignments = assignments  # Jurisdiction rows, with their places loaded
        self.states = {row.state_id for row in assignments if row.state_id}
        self.counties = {row.county_id for row in assignments if row.county_id}
        self.courthouses = {row.courthouse_id for row in assignments if row.courthouse_id}
        self._courthouse_ids = None

    def allows(self, state, county, courthouse_id=None):
        """Whether a place is inside: a courthouse in `state` and `county`, or a new one (id None).

        With only the courthouse's id known, every courthouse inside is read once.
        """
        if state is None and county is None:
            return courthouse_id in self.courthouse_ids()
        return courthouse_id in self.courthouses or county in self.counties or state in self.states

    def courthouse_ids(self):
        """Every courthouse inside, read once (an import asks for each row)."""
        if self._courthouse_ids is None:
            inside = (
                Q(pk__in=self.courthouses) | Q(county__in=self.counties) | Q(county__state__in=self.states)
            )
            self._courthouse_ids = set(Courthouse.objects.filter(inside).values_list("pk", flat=True))
        return self._courthouse_ids

    def names(self):
        return [str(row.place) for row in self.assignments]


def write_scope(user):
    """None when `user` may write anywhere; else their Scope (kept on the user for the request)."""
    if user is None or user.is_superuser or user.has_perm(UNLIMITED):
        return None
    if not hasattr(user, "_write_scope"):
        rows = Jurisdiction.objects.filter(user=user).select_related("state", "county", "courthouse__county")
        user._write_scope = Scope(list(rows))
    return user._write_scope


def may_write(user, target):
    """Whether `user` may create, correct or withdraw `target`, an Incident or a Courthouse."""
    scope = write_scope(user)
    if scope is None:
        return True
    if isinstance(target, Incident):
        return scope.allows(target.state_id, target.county_id, target.courthouse_id)
    return scope.allows(target.county.state_id, target.county_id, target.pk)


def may_withdraw(user, incident):
    """A court administrator's own published entry, in their jurisdiction, within the window."""
    return (
        incident.is_published
        and incident.created_by_id == user.pk
        and timezone.now() - incident.created_at <= WITHDRAWAL_WINDOW
        and may_write(user, incident)
    )
