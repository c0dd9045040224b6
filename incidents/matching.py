"""The one rule for a possible duplicate, used by the entry form, the import preview
and the moderation queue: a published incident at the same courthouse within one
day (before or after) of another incident or report."""

import datetime
from functools import reduce
from operator import or_

from django.db.models import Q

from .models import PUBLISHED, Courthouse, Incident

WITHIN = datetime.timedelta(days=1)
# Keys per query: a page of the queue is one query; an import of 10,000 new rows is 50.
CHUNK = 200


def possible_duplicates(keys, exclude=()):
    """{(courthouse_id, date): [(pk, reference), ...]} for each key with a match.

    Incidents whose pk is in `exclude` (the incident itself, when editing) never match.
    """
    keys = {(ch, day) for ch, day in keys if ch and day}
    counties = dict(Courthouse.objects.filter(pk__in={ch for ch, _ in keys}).values_list("pk", "county_id"))
    keys = sorted(key for key in keys if key[0] in counties)
    found = {}
    for start in range(0, len(keys), CHUNK):
        for row in _matches(keys[start : start + CHUNK], counties, exclude):
            _assign(found, keys, row)
    return found


def _matches(keys, counties, exclude):
    # The county lets each condition use the published (county, date) index.
    near = reduce(or_, (_near(counties[ch], ch, day) for ch, day in keys))
    rows = Incident.objects.filter(PUBLISHED).filter(near).exclude(pk__in=list(exclude))
    return rows.order_by("date", "id").values_list("pk", "reference", "courthouse_id", "date")


def _near(county, courthouse, day):
    return Q(county_id=county, courthouse_id=courthouse, date__range=(day - WITHIN, day + WITHIN))


def _assign(found, keys, row):
    pk, reference, courthouse, day = row
    for key in keys:
        if key[0] == courthouse and abs(key[1] - day) <= WITHIN:
            found.setdefault(key, []).append((pk, reference))


def duplicates_of(courthouse_id, day, exclude=()):
    """[(pk, reference), ...] of the possible duplicates of one incident or report."""
    return possible_duplicates([(courthouse_id, day)], exclude).get((courthouse_id, day), [])
