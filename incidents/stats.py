"""The one aggregation behind every chart and /api/stats/, so they cannot disagree.

Counting happens in the database (GROUP BY); results are cached per filter
combination and data version in the shared cache (see cache.py).
"""

import datetime

from django.db.models import Count, F, Sum
from django.db.models.functions import Coalesce, TruncMonth

from .cache import cached
from .models import LABELLED_CHOICES, County, Courthouse, State

# dimension -> expression grouped on
DIMENSIONS = {
    "month": TruncMonth("date"),
    "county": F("county_id"),
    "state": F("state_id"),
    "courthouse": F("courthouse_id"),
    "case_type": F("case_type"),
    "outcome": F("outcome"),
    "person_role": F("person_role"),
    "location": F("location"),
    "warrant": F("warrant"),
    "court_type": F("courthouse__court_type"),
}


def month_key(day):
    return day.strftime("%Y-%m")


def month_label(day):
    return day.strftime("%b %Y")


def add_month(day):
    return (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def _counts(queryset, by):
    """[(group value, incidents, people)] straight from GROUP BY, biggest first."""
    rows = (
        queryset.order_by()
        .annotate(group=DIMENSIONS[by])
        .values("group")
        .annotate(incidents=Count("id"), people=Coalesce(Sum("people_count"), 0))
        .values_list("group", "incidents", "people")
    )
    return sorted(rows, key=lambda r: (-r[1], str(r[0])))


def _labels(by, values):
    if by == "county":
        return {c.fips: str(c) for c in County.objects.filter(fips__in=values)}
    if by == "state":
        return dict(State.objects.filter(code__in=values).values_list("code", "name"))
    if by == "courthouse":
        return {c.pk: c for c in Courthouse.objects.filter(pk__in=values).only("name", "slug")}
    return dict(LABELLED_CHOICES[by].choices)


def _month_rows(counts, first=None, last=None):
    """Every month from first to last, months without incidents as zero."""
    by_month = {_as_date(group).replace(day=1): (n, p) for group, n, p in counts}
    if not by_month and not (first and last):
        return []
    month = (first or min(by_month)).replace(day=1)
    last = (last or max(by_month)).replace(day=1)
    rows = []
    while month <= last:
        n, p = by_month.get(month, (0, 0))
        rows.append({"key": month_key(month), "label": month_label(month), "incidents": n, "people": p})
        month = add_month(month)
    return rows


def _as_date(value):
    return value.date() if isinstance(value, datetime.datetime) else value


def aggregate(queryset, by, first=None, last=None):
    """[{"key", "label", "incidents", "people"}] for one dimension."""
    counts = _counts(queryset, by)
    if by == "month":
        if first or last:
            first = first or (min(_as_date(g) for g, _, _ in counts) if counts else None)
            last = last or (max(_as_date(g) for g, _, _ in counts) if counts else None)
        return _month_rows(counts, first, last)
    labels = _labels(by, [group for group, _, _ in counts])
    if by == "courthouse":
        return [
            {"key": labels[g].slug, "label": labels[g].name, "incidents": n, "people": p}
            for g, n, p in counts
        ]
    return [{"key": g, "label": str(labels.get(g, g)), "incidents": n, "people": p} for g, n, p in counts]


def stats_for(filterset, queryset, by, scope=None):
    """aggregate() for a valid filterset, cached per filters and data version.

    `scope` names any restriction of `queryset` beyond the filters (a courthouse
    or county page passes ("courthouse", slug)), so that it gets its own cache key.
    """
    data = filterset.form.cleaned_data
    params = sorted((k, str(v)) for k, v in data.items() if v not in (None, "", []) and k != "ordering")
    if scope:
        params.append(("scope", scope))
    first, last = data.get("date_after"), data.get("date_before")
    return cached(f"stats:{by}", params, lambda: aggregate(queryset, by, first, last))
