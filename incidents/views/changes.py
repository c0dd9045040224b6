"""What changed publicly, and when: the retraction notice and the change feed for mirrors.

The feed is derived from each incident's status and timestamps, not from the
history rows: `updated_at` moves only on a public change (services.py), and
`last_change` names that change. So each incident is listed once, at its latest
public change; a mirror needs no more than that to hold the current data set,
and a staff-only edit never shows up (the world cannot tell it happened).

Published and retracted rows are read by two queries, each served in order by
its own partial index (inc_pub_updated, inc_retracted_updated), and merged.
"""

import base64
import binascii
import datetime
import heapq
import json

from django.db.models import Q
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from .. import choices
from ..filters import error_message, filter_incidents
from ..http import public_data
from ..limits import EARLIEST_DATE
from ..models import PUBLISHED, RETRACTED, Incident, Merge
from .api import BadParameter, _json_error, _limit, _next_url

# A write's rows carry the time it began, and become visible when it commits. A
# listing is called complete up to this long before it was first requested, so
# that a mirror that reads again from its `as_of` misses no slow write's rows.
COMMIT_GRACE = datetime.timedelta(minutes=15)
SINCE_MAX = 64  # characters; an ISO timestamp is about 32
FEED_FIELDS = ("id", "reference", "status", "last_change", "updated_at")


def change_of(status, last_change):
    """The change an entry reports: a retracted row is "retracted" whatever was edited after."""
    return choices.Change.RETRACTED if status == choices.Status.RETRACTED else last_change


def latest_changes(incidents, *, since=None, after=None, descending=False, limit=50):
    """Up to `limit` rows of `incidents`, published and retracted, by (updated_at, id).

    `since` keeps changes at or after a time; `after` is the (updated_at, id) of
    the last row already read, in the direction of `descending`.
    """
    keys = ("-updated_at", "-id") if descending else ("updated_at", "id")
    incidents = incidents.order_by(*keys)
    if since is not None:
        incidents = incidents.filter(updated_at__gte=since)
    if after is not None:
        op = "lt" if descending else "gt"
        at, pk = after
        incidents = incidents.filter(Q(**{f"updated_at__{op}": at}) | Q(updated_at=at, **{f"id__{op}": pk}))
    # Drafts are in neither: they were never public.
    parts = [list(incidents.filter(condition)[:limit]) for condition in (PUBLISHED, RETRACTED)]
    merged = heapq.merge(*parts, key=lambda row: (row.updated_at, row.pk), reverse=descending)
    return list(merged)[:limit]


# -- the retraction notice ------------------------------------------------------------


def retraction_notice(request, pk):
    """410 Gone with the public notice of a retracted incident; 404 for none, or for a draft.

    Only the reference, the date and the public reason are read: neither the
    staff's own reason nor the retracted text can reach the page.
    """
    notice = (
        Incident.objects.filter(RETRACTED, pk=pk)
        .values("reference", "retracted_at", "updated_at", "retraction_public_reason")
        .first()
    )
    if notice is None:
        raise Http404
    reason = choices.RetractionReason(notice["retraction_public_reason"] or choices.RetractionReason.OTHER)
    notice.update(reason=reason.label, retracted_at=notice["retracted_at"] or notice["updated_at"])
    notice["kept"] = _kept(pk) if reason == choices.RetractionReason.DUPLICATE else None
    return render(request, "410.html", {"notice": notice}, status=410)


def _kept(pk):
    """The published incident a merged duplicate points to, if any."""
    kept = Merge.objects.filter(merged_id=pk, kept__status=choices.Status.PUBLISHED).values_list(
        "kept_id", "kept__reference"
    )
    return kept.first()


# -- the change feed ------------------------------------------------------------------


@public_data(cors=True)
def api_changes(request):
    """Every incident created, updated, retracted or restored since `since`, oldest first."""
    state = filter_incidents(request, queryset=Incident.objects.all())
    filterset, incidents = state.filterset, state.incidents
    if not state.valid:
        return _json_error(error_message(filterset), filterset.errors)
    try:
        since = parse_since(request.GET.get("since"))
        limit = _limit(request.GET.get("limit"))
        after, as_of = decode_position(request.GET.get("cursor"))
    except BadParameter as bad:
        return _json_error(str(bad), {bad.name: [bad.message]})
    as_of = as_of or timezone.now() - COMMIT_GRACE
    rows = latest_changes(incidents.only(*FEED_FIELDS), since=since, after=after, limit=limit + 1)
    body = {"results": [_entry(row) for row in rows[:limit]], "as_of": as_of.isoformat()}
    more = len(rows) > limit
    body["next"] = _next_url(request, encode_position(rows[limit - 1], as_of)) if more else None
    return JsonResponse(body)


def _entry(row):
    change = change_of(row.status, row.last_change)
    return {"id": row.pk, "reference": row.reference, "change": change, "at": row.updated_at.isoformat()}


def parse_since(value):
    """An ISO 8601 date or timestamp; one without a time zone is read as UTC."""
    if value in (None, ""):
        return None
    try:
        if len(value) > SINCE_MAX:
            raise ValueError
        since = _utc(datetime.datetime.fromisoformat(value.strip()))
    except (ValueError, OverflowError):
        raise BadParameter("since", "must be an ISO 8601 timestamp, e.g. 2026-11-30T15:00:00Z.") from None
    if since.date() < EARLIEST_DATE:
        raise BadParameter("since", f"must not be before {EARLIEST_DATE.isoformat()}.")
    return since


def _utc(moment):
    # In UTC here, so that a time at the ends of the calendar fails now, not in the query.
    return moment.replace(tzinfo=moment.tzinfo or datetime.UTC).astimezone(datetime.UTC)


# The cursor holds the last entry's (updated_at, id) and the first page's as_of,
# so that every page of one reading reports the same as_of.
def encode_position(row, as_of):
    raw = json.dumps([row.updated_at.isoformat(), row.pk, as_of.isoformat()], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_position(token):
    """((updated_at, id), as_of) of a cursor, or (None, None) on the first page."""
    if not token:
        return None, None
    try:
        at, pk, as_of = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        at, as_of = _utc(datetime.datetime.fromisoformat(at)), _utc(datetime.datetime.fromisoformat(as_of))
        if type(pk) is not int:
            raise ValueError
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise BadParameter("cursor", "is not a cursor this API gave.") from None
    return (at, pk), as_of
