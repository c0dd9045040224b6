"""Atom feed of the latest new, corrected, retracted and restored incidents under the filters.

Only public values are read (FEED_FIELDS below, the public history fields); a
retracted entry says no more than the incident's retraction notice does.
"""

import itertools
from urllib.parse import urlencode

from django.contrib.syndication.views import Feed
from django.http import HttpResponse
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _

from .. import choices
from ..filters import error_message, filter_incidents
from ..history import field_changes
from ..http import public_data
from ..models import PUBLIC_FIELDS, Incident, display_text
from .changes import change_of, latest_changes

ENTRIES = 50
FEED_FIELDS = (
    "id",
    "reference",
    "date",
    "date_precision",
    "courthouse__name",
    "outcome",
    "people_count",
    "case_type",
    "status",
    "last_change",
    "retraction_public_reason",
    "updated_at",
)
# The pages that link their own feed, and the parameter their address stands for.
PAGES_WITH_FEEDS = {
    "dashboard": None,
    "incident_list": None,
    "courthouse_detail": "courthouse",
    "county_detail": "county",
}
NOT_FILTERS = ("cursor", "page", "ordering")


@public_data(cors=True)
def incidents_atom(request):
    state = filter_incidents(request, queryset=Incident.objects.all())
    if not state.valid:
        return HttpResponse(
            error_message(state.filterset), status=400, content_type="text/plain; charset=utf-8"
        )
    return IncidentFeed(state.incidents)(request)


def feed_url(request):
    """The Atom feed for the filters of the page being shown, or None on a page without one."""
    match = request.resolver_match
    if match is None or match.url_name not in PAGES_WITH_FEEDS:
        return None
    params = [(key, value) for key, value in request.GET.lists() if key not in NOT_FILTERS]
    place = PAGES_WITH_FEEDS[match.url_name]
    if place:
        params = [(key, value) for key, value in params if key != place]
        params.append((place, [next(iter(match.kwargs.values()))]))
    query = urlencode(params, doseq=True)
    return reverse("incidents_atom") + (f"?{query}" if query else "")


class IncidentFeed(Feed):
    feed_type = Atom1Feed
    item_guid_is_permalink = False

    def __init__(self, incidents):
        super().__init__()
        self.incidents, self.corrected = incidents, {}

    def get_object(self, request):
        self.request, self.query = request, request.GET.urlencode()
        rows = latest_changes(
            self.incidents.select_related("courthouse").only(*FEED_FIELDS), descending=True, limit=ENTRIES
        )
        self.corrected = corrected_fields(rows)
        return rows

    def title(self):
        return _("Courthouse ICE Arrest Tracker: new, corrected and retracted reports")

    def subtitle(self):
        return _("The %(n)d latest changes to public incident reports matching the filters.") % {"n": ENTRIES}

    def link(self):
        return reverse("incident_list") + (f"?{self.query}" if self.query else "")

    def feed_url(self):
        return self.request.get_full_path()

    def items(self, rows):
        return rows

    def item_title(self, item):
        change = choices.Change(change_of(item.status, item.last_change))
        if change == choices.Change.RETRACTED:
            return f"{item.reference} · {change.label}"
        day = display_text("date", item.date, precision=item.date_precision)
        return f"{item.reference} · {change.label} · {day} · {item.courthouse.name}"

    def item_description(self, item):
        return describe(item, self.corrected.get(item.pk))

    def item_link(self, item):
        return item.get_absolute_url()

    def item_guid(self, item):
        # One entry per public change: a later change is a new entry for readers.
        return f"{self.request.build_absolute_uri(item.get_absolute_url())}#{item.updated_at.isoformat()}"

    def item_updateddate(self, item):
        return item.updated_at

    def item_pubdate(self, item):
        return item.updated_at


def describe(item, corrected):
    """What changed, in one sentence of public values only."""
    change = change_of(item.status, item.last_change)
    if change == choices.Change.RETRACTED:
        reason = item.retraction_public_reason or choices.RetractionReason.OTHER
        return _("Retracted: %(reason)s.") % {"reason": choices.RetractionReason(reason).label}
    if change == choices.Change.RESTORED:
        return _("Published again after a retraction.")
    if change == choices.Change.UPDATED:
        labels, note = corrected or ([], None)
        text = _("Corrected: %(fields)s.") % {"fields": ", ".join(labels) or _("details")}
        return _("%(corrected)s Why: %(note)s") % {"corrected": text, "note": note} if note else text
    return _("New report: %(outcome)s, %(people)d taken into custody, %(case)s case.") % {
        "outcome": item.get_outcome_display(),
        "people": item.people_count,
        "case": item.get_case_type_display().lower(),
    }


def corrected_fields(rows):
    """{id: (labels of the fields its latest correction changed, its public note)}, from the public
    history, in one query."""
    ids = [row.pk for row in rows if change_of(row.status, row.last_change) == choices.Change.UPDATED]
    if not ids:
        return {}
    records = (
        Incident.history.filter(id__in=ids)
        .only("id", "history_id", "history_date", "public_note", *PUBLIC_FIELDS)
        .order_by("id", "history_date", "history_id")
    )
    corrected = {}
    for pk, group in itertools.groupby(records, key=lambda record: record.id):
        entries = field_changes(list(group), PUBLIC_FIELDS, initial_values=False)
        latest = next((entry for entry in entries if not entry.created), None)
        corrected[pk] = (
            ([change.label for change in latest.changes], latest.record.public_note) if latest else None
        )
    return corrected
