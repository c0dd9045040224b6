"""Figures published by others beside our own count for the same slice of the data.

A figure is shown where the filters cover it: every place, period, court type and
outcome it counts is inside what the filters select, and no other filter (a case
type, a search) narrows our data in a way the figure does not. Our count is the
number a reader gets by setting the figure's filters (its link, slice_params):
the same conditions, counted once per data version for every figure by a query
that reads only that figure's state and period.
"""

from django.db.models import Count, Q, Sum
from django.http import QueryDict
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from . import choices
from .cache import cached
from .models import Courthouse, Incident, ReferenceFigure

Outcome = choices.Outcome
COUNTED_OUTCOMES = {
    choices.Counted.ARRESTS: (Outcome.ARRESTED,),
    choices.Counted.ATTEMPTS: (Outcome.ATTEMPTED,),
    choices.Counted.SIGHTINGS: (Outcome.OBSERVED,),
    choices.Counted.ARRESTS_AND_ATTEMPTS: (Outcome.ARRESTED, Outcome.ATTEMPTED),
    choices.Counted.ALL: (Outcome.ARRESTED, Outcome.ATTEMPTED, Outcome.OBSERVED),
}
# The filters a figure can be matched against; any other one narrows our count in a
# way no figure does (ordering only sorts).
COMPARABLE = {"state", "county", "court_type", "outcome", "date_after", "date_before", "ordering"}


def figures_for(state):
    """The reference figures the filters of a valid, unscoped FilterState cover, each with our count.

    Cached per filters, language and data version (a change to a figure is a write too).
    """
    if state.scope or set(state.params) - COMPARABLE:
        return []
    data = state.filterset.form.cleaned_data
    return cached("reference-figures", (state.key, get_language()), lambda: _covered(data))


def _covered(data):
    return [row for row in all_compared() if covers(data, row["figure"], row["county_fips"])]


def all_compared():
    """Every figure with our count, computed once per data version and language for all filters."""
    return cached("reference-figures:all", get_language(), _all_compared)


def _all_compared():
    figures = list(_figures())
    ours = our_counts(figures)
    return [compared(figure, ours[figure.pk]) for figure in figures]


def _figures():
    return ReferenceFigure.objects.select_related("state").prefetch_related("counties")


def covers(data, figure, counties=None):
    """Whether filters (a form's cleaned_data) select all of the figure's slice (its county
    codes given, or read from the database)."""
    counties = set(counties if counties is not None else (c.fips for c in figure.counties.all()))
    return (
        _includes(data.get("state"), {figure.state_id} if figure.state_id else None)
        and _includes(data.get("county"), counties or None)
        and _includes(data.get("court_type"), {figure.court_type} if figure.court_type else None)
        and _includes(data.get("outcome"), set(COUNTED_OUTCOMES[figure.counted]))
        and (not data.get("date_after") or data["date_after"] <= figure.period_start)
        and (not data.get("date_before") or data["date_before"] >= figure.period_end)
    )


def _includes(chosen, needed):
    """No value chosen selects everything; otherwise the chosen values must hold every needed one
    (None: the figure needs them all, which a choice never covers)."""
    if not chosen:
        return True
    return needed is not None and needed <= set(chosen)


def slice_params(figure):
    """The query string (as a QueryDict) that selects the figure's slice of our data."""
    params = QueryDict(mutable=True)
    if figure.state_id:
        params["state"] = figure.state_id
    params.setlist("county", sorted(c.fips for c in figure.counties.all()))
    if figure.court_type:
        params["court_type"] = figure.court_type
    params.setlist("outcome", list(COUNTED_OUTCOMES[figure.counted]))
    params["date_after"] = figure.period_start.isoformat()
    params["date_before"] = figure.period_end.isoformat()
    return params


def our_counts(figures):
    """{figure id: {"incidents", "people"}} of each figure's slice.

    The conditions are those slice_params() gives the filters; the people are
    those taken into custody (arrests only). A small query per figure, each
    through the index of its state (or of the dates) and its period: one query
    with a condition per figure would read every row of every period."""
    counts = {}
    for figure in figures:
        found = (
            Incident.objects.public()
            .filter(_slice(figure))
            .aggregate(n=Count("id"), p=Sum("people_count", filter=Q(outcome=Outcome.ARRESTED)))
        )
        counts[figure.pk] = {"incidents": found["n"], "people": found["p"] or 0}
    return counts


def _slice(figure):
    """The figure's slice as one condition: what the filters of slice_params() select."""
    where = Q(outcome__in=COUNTED_OUTCOMES[figure.counted]) & Q(
        date__range=(figure.period_start, figure.period_end)
    )
    if figure.state_id:
        where &= Q(state_id=figure.state_id)
    counties = [c.fips for c in figure.counties.all()]
    if counties:
        where &= Q(county_id__in=counties)
    if figure.court_type:
        where &= Q(courthouse_id__in=Courthouse.objects.filter(court_type=figure.court_type).values("pk"))
    return where


def compared(figure, ours):
    """The figure and our count, ready to show or cache (nothing left to query)."""
    query = slice_params(figure).urlencode()
    return {
        "figure": figure,
        "county_fips": sorted(c.fips for c in figure.counties.all()),
        "ours": ours,
        "our_definition": our_definition(figure),
        "our_url": f"{reverse('incident_list')}?{query}",
    }


def our_definition(figure):
    outcomes = ", ".join(str(Outcome(value).label) for value in COUNTED_OUTCOMES[figure.counted])
    courts = choices.CourtType(figure.court_type).label if figure.court_type else _("every kind of court")
    return _(
        "Incidents recorded by this tracker with the outcome %(outcomes)s, at %(courts)s, in "
        "%(area)s, dated %(start)s to %(end)s. One incident is one action at one courthouse on one "
        "day, whatever the number of people; an incident known only by its month counts on the "
        "month's first day."
    ) % {
        "outcomes": outcomes,
        "courts": courts,
        "area": _area(figure),
        "start": date_format(figure.period_start, "Y-m-d"),
        "end": date_format(figure.period_end, "Y-m-d"),
    }


def _area(figure):
    counties = [c.name for c in figure.counties.all()]
    if counties:
        return ", ".join(sorted(counties))
    return figure.state.name if figure.state_id else _("the United States")


def as_json(row, request):
    """One compared figure as /api/reference-figures/ gives it."""
    figure = row["figure"]
    return {
        "publisher": figure.publisher,
        "title": figure.title,
        "url": figure.url,
        "published": figure.published.isoformat(),
        "area": figure.area,
        "state": figure.state_id,
        "county_fips": row["county_fips"],
        "period_start": figure.period_start.isoformat(),
        "period_end": figure.period_end.isoformat(),
        "court_type": figure.court_type,
        "counted": figure.counted,
        "value": figure.value,
        "definition": figure.definition,
        "ours": {
            **row["ours"],
            "outcomes": list(COUNTED_OUTCOMES[figure.counted]),
            "definition": row["our_definition"],
            "url": request.build_absolute_uri(row["our_url"]),
        },
    }
