"""Counts read from the summary table (models.Summary) instead of every incident.

The table answers the filters a dashboard is mostly asked for: none, states, and
a date range. Whole months come from its month rows (or its all-time rows when
the range holds every incident); the days of a month the range cuts are counted
from the incidents themselves, through the date index. Counties and courthouses
are kept over all time only, so a range that leaves incidents out counts them
from the incidents. Any other filter, or a county or courthouse page, is counted
from the incidents (stats._counts).

Returns rows in the shape of stats._counts: [(group value, incidents, people)].
"""

import datetime

from django.db.models import Max, Min, Sum

from .cache import cached
from .models import Courthouse, Incident, Summary, today_utc

ANSWERED_PARAMS = {"state", "date_after", "date_before", "ordering"}
STORED = {"outcome", "case_type", "person_role", "location", "warrant", "county", "courthouse"}
# dimension asked -> (dimension stored, the Summary column grouped on)
READ_AS = {
    **{by: (by, "value") for by in STORED},
    "month": ("outcome", "month"),
    "state": ("outcome", "state"),
    "court_type": ("courthouse", "value"),
}
# Kept over all time only (migration 0020): a date range that leaves incidents out
# counts these from the incidents.
ALL_TIME_ONLY = {"county", "courthouse"}
ONE_DAY = datetime.timedelta(days=1)


def answers(state):
    """Whether these filters can be counted from the summary."""
    return state.valid and state.scope is None and set(state.params) <= ANSWERED_PARAMS


def counts(state, by, outcome=None):
    """(group, incidents, people) rows for `by` over the state's rows (with this outcome), or None."""
    if by not in READ_AS or not answers(state):
        return None
    data = state.filterset.form.cleaned_data
    states = [str(code) for code in data.get("state") or []]
    whole, parts = _plan(data.get("date_after"), data.get("date_before"))
    if whole is not None and READ_AS[by][0] in ALL_TIME_ONLY:
        return None
    totals = _from_summary(by, states, whole, outcome)
    for first, last in parts:
        totals.update(_from_incidents(state, by, first, last, outcome))
    return _as_rows(by, totals)


def _plan(first, last):
    """(whole months to read, [(first, last) day ranges to count from incidents]).

    Whole months are None for "every month" or (first month, last month); a range
    that holds every published incident reads every month.
    """
    low, high = stored_dates()
    if (first is None or first <= low) and (last is None or last >= high):
        return None, []
    first, last = max(first or low, low), min(last or high, high)
    start = first if first.day == 1 else _next_month(first)
    end = _month_of(last) if _next_month(last) - ONE_DAY == last else _month_of(_month_of(last) - ONE_DAY)
    if start > end:
        return (), [(first, last)] if first <= last else []
    parts = [(first, start - ONE_DAY), (_next_month(end), last)]
    return (start, end), [(a, b) for a, b in parts if a <= b]


def _month_of(day):
    return day.replace(day=1)


def _next_month(day):
    return (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def stored_dates():
    """(first, last) date of any published incident, as stored."""
    return cached("summary:dates", (), _stored_dates)


def _stored_dates():
    found = Incident.objects.public().aggregate(Min("date"), Max("date"))
    today = today_utc()
    return found["date__min"] or today, found["date__max"] or today


def _from_summary(by, states, whole, outcome):
    """Counter {group: (incidents, people)} of the summary rows for these states and months."""
    dimension, column = READ_AS[by]
    rows = Summary.objects.filter(dimension=dimension)
    if states:
        rows = rows.filter(state__in=states)
    if outcome:
        rows = rows.filter(value=outcome)
    if whole == ():
        return _Totals()
    if whole is None:
        rows = (
            rows.exclude(month=Summary.ALL_TIME) if column == "month" else rows.filter(month=Summary.ALL_TIME)
        )
    else:
        rows = rows.filter(month__range=whole)
    grouped = rows.order_by().values_list(column).annotate(Sum("incidents"), Sum("people"))
    return _Totals({_typed(by, group): (n, p) for group, n, p in grouped})


def _from_incidents(state, by, first, last, outcome):
    from .stats import _counts

    rows = state.incidents.filter(date__range=(first, last))
    if outcome:
        rows = rows.filter(outcome=outcome)
    grouped = _counts(rows, "courthouse" if by == "court_type" else by)
    return {_typed(by, group): (n, p) for group, n, p in grouped}


def _typed(by, group):
    """A stored text value as the incident column holds it."""
    if by in ("courthouse", "court_type"):
        return int(group)
    if by == "month" and isinstance(group, datetime.datetime):
        return group.date().replace(day=1)
    if by == "month":
        return group.replace(day=1)
    return group


def _as_rows(by, totals):
    if by == "court_type":
        totals = _by_court_type(totals)
    rows = [(group, n, p) for group, (n, p) in totals.items() if n > 0]
    return sorted(rows, key=lambda r: (-r[1], str(r[0])))


def _by_court_type(totals):
    types = dict(Courthouse.objects.values_list("pk", "court_type"))
    grouped = _Totals()
    for pk, pair in totals.items():
        if pk in types and pair[0] > 0:  # a place deleted since, or a row left empty, counts nothing
            grouped.update({types[pk]: pair})
    return grouped


class _Totals(dict):
    """{group: (incidents, people)} that adds what it is updated with."""

    def update(self, other):
        for group, (n, p) in other.items():
            old_n, old_p = self.get(group, (0, 0))
            self[group] = (old_n + n, old_p + p)
