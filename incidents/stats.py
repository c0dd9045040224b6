"""The one aggregation behind every chart and /api/stats/, so they cannot disagree.

Counting happens in the database: from the summary table when the filters allow
(summary.py), else GROUP BY over the incidents. Results are cached per filter
combination and data version in the shared cache (see cache.py).
"""

import datetime

from django.db.models import Count, F, Max, Min, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.utils.translation import get_language

from . import summary
from .cache import cached
from .dateformats import short_month
from .limits import EARLIEST_DATE
from .models import LABELLED_CHOICES, County, Courthouse, Incident, State, today_utc

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
    # Zero-padded by hand: strftime writes the year 24 as "24", which no reader parses back.
    return f"{day.year:04d}-{day.month:02d}"


def month_label(day):
    """ "Nov 2026" in English, "nov 2026" in Spanish."""
    return short_month(day)


def add_month(day):
    """The first day of the next month; the last month of the calendar has none, so date.max."""
    if (day.year, day.month) == (datetime.MAXYEAR, 12):
        return datetime.date.max
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


def split_counts(queryset, by, field, values):
    """{value of `field`: _counts(queryset.filter(field=value), by)} for each of `values`,
    from one GROUP BY over both: one read of the rows instead of one per value."""
    rows = (
        queryset.filter(**{f"{field}__in": values})
        .order_by()
        .annotate(group=DIMENSIONS[by])
        .values(field, "group")
        .annotate(incidents=Count("id"), people=Coalesce(Sum("people_count"), 0))
        .values_list(field, "group", "incidents", "people")
    )
    split = {value: [] for value in values}
    for value, group, incidents, people in rows:
        split[value].append((group, incidents, people))
    return {value: sorted(found, key=lambda r: (-r[1], str(r[0]))) for value, found in split.items()}


def _labels(by, values):
    if by == "county":
        return {c.fips: str(c) for c in _among(County.objects.all(), "fips", values)}
    if by == "state":
        return dict(State.objects.filter(code__in=values).values_list("code", "name"))
    if by == "courthouse":
        places = _among(Courthouse.objects.all(), "pk", values).values_list("pk", "slug", "name")
        return {pk: (slug, name) for pk, slug, name in places}
    return dict(LABELLED_CHOICES[by].choices)


def _among(queryset, field, values):
    """The rows whose `field` is one of `values`: every row, when values name most of them
    (an IN list of thousands costs more to send and plan than the rows it leaves out)."""
    if len(values) > 500:
        return queryset
    return queryset.filter(**{f"{field}__in": values})


def _month_rows(counts, first, last):
    """Every month from first to last, months without incidents as zero."""
    by_month = {_as_date(group).replace(day=1): (n, p) for group, n, p in counts}
    month, rows = first, []
    while month <= last:
        n, p = by_month.get(month, (0, 0))
        rows.append({"key": month_key(month), "label": month_label(month), "incidents": n, "people": p})
        month = add_month(month)
    return rows


def _as_date(value):
    return value.date() if isinstance(value, datetime.datetime) else value


def aggregate(queryset, by, first=None, last=None, counts=None):
    """[{"key", "label", "incidents", "people"}] for one dimension.

    `counts`, when given, are the queryset's rows already counted (summary.counts()).

    By month: every month from `first` (else the first month with incidents) to
    `last` (else the last), never beyond the months of all published incidents.
    """
    counts = _counts(queryset, by) if counts is None else counts
    if by == "month":
        span = _month_span(counts, first, last)
        return _month_rows(counts, *span) if span else []
    labels = _labels(by, [group for group, _, _ in counts])
    if by == "courthouse":
        return [
            {"key": labels[g][0], "label": labels[g][1], "incidents": n, "people": p}
            for g, n, p in counts
            if g in labels
        ]
    return [{"key": g, "label": str(labels.get(g, g)), "incidents": n, "people": p} for g, n, p in counts]


def _month_span(counts, first, last):
    """(first, last) month to draw: what was asked, clipped to the data.

    A range as wide as the calendar costs what the data's own months cost, and a
    stored date outside the accepted range is counted but not drawn month by month.
    """
    start, end = (day.replace(day=1) for day in (data_span() if first or last else _accepted()))
    months = [m for m in (_as_date(group) for group, _, _ in counts) if start <= m <= end]
    if not months:
        return None
    first = max((first or min(months)).replace(day=1), start)
    last = min((last or max(months)).replace(day=1), end)
    return (first, last) if first <= last else None


def _accepted():
    return EARLIEST_DATE, today_utc()


def data_span():
    """(first, last) day of all published incidents within the accepted dates."""
    return cached("stats:span", (), _span)


def _span():
    first, last = _accepted()
    found = Incident.objects.public().filter(date__range=(first, last)).aggregate(Min("date"), Max("date"))
    return found["date__min"] or first, found["date__max"] or first


def stats_for(state, by):
    """aggregate() for a valid FilterState, cached per its key, data version and language
    (the rows carry their labels: "Arrested" on an English page and /api/stats/, "Arresto"
    on a Spanish page)."""
    data = state.filterset.form.cleaned_data
    first, last = data.get("date_after"), data.get("date_before")
    return cached(
        f"stats:{by}",
        (state.key, get_language()),
        lambda: aggregate(state.incidents, by, first, last, summary.counts(state, by)),
    )


def crosstab_for(state, first, second):
    """cross_tab() for a valid FilterState, cached like stats_for()."""
    return cached(
        f"stats:{first}:{second}",
        (state.key, get_language()),
        lambda: cross_tab(state.incidents, first, second),
    )


def cross_tab(queryset, first, second):
    """[{first, first_label, second, second_label, "incidents", "people"}]: one row per pair
    of values that has incidents, in the order of the first dimension's values (months in
    order, other values by their total), then of the second's."""
    rows = (
        queryset.order_by()
        .annotate(a=DIMENSIONS[first], b=DIMENSIONS[second])
        .values("a", "b")
        .annotate(incidents=Count("id"), people=Coalesce(Sum("people_count"), 0))
        .values_list("a", "b", "incidents", "people")
    )
    rows = list(rows)
    keys = {by: _keys_and_labels(by, [row[i] for row in rows]) for i, by in enumerate((first, second))}
    order = {by: _order(by, rows, i) for i, by in enumerate((first, second))}
    rows.sort(key=lambda r: (order[first][r[0]], order[second][r[1]]))
    return [
        {
            first: keys[first][a][0],
            f"{first}_label": keys[first][a][1],
            second: keys[second][b][0],
            f"{second}_label": keys[second][b][1],
            "incidents": n,
            "people": p,
        }
        for a, b, n, p in rows
    ]


def _keys_and_labels(by, values):
    """{grouped value: (key, label)} as aggregate() gives them for one dimension."""
    if by == "month":
        return {v: (month_key(_as_date(v)), month_label(_as_date(v))) for v in values}
    labels = _labels(by, values)
    if by == "courthouse":
        return {v: labels[v] for v in values}
    return {v: (v, str(labels.get(v, v))) for v in values}


def _order(by, rows, i):
    """{value: rank}: months by date, other values by their total incidents, biggest first."""
    totals = {}
    for row in rows:
        totals[row[i]] = totals.get(row[i], 0) + row[2]
    if by == "month":
        ranked = sorted(totals, key=_as_date)
    else:
        ranked = sorted(totals, key=lambda v: (-totals[v], str(v)))
    return {value: rank for rank, value in enumerate(ranked)}
