"""One FilterSet for the list, dashboard, courthouse and county pages, CSV export and API.

The query-string parameters are the contract of docs/data-model.md ("Filters"): a URL
copied from the list works unchanged for the export and the API.
"""

import datetime
import re
from dataclasses import dataclass
from functools import cached_property

import django_filters as filters
from django import forms
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from . import choices
from .limits import EARLIEST_DATE
from .models import LABELLED_CHOICES, County, Courthouse, Incident, State, today_utc
from .search import search_text

MAX_VALUES = 50  # per repeatable parameter
MAX_Q = 200
CHOICE_PARAMS = (
    "court_type",
    "outcome",
    "case_type",
    "person_role",
    "location",
    "warrant",
    "agency",
    "verification",
)
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
ONE_DAY = datetime.timedelta(days=1)


class MultiValueWidget(forms.SelectMultiple):
    """Reads repeated parameters (`state=NY&state=TX`) and renders as plain inputs in templates."""

    def value_from_datadict(self, data, files, name):
        getter = getattr(data, "getlist", None)
        values = getter(name) if getter else data.get(name)
        if isinstance(values, str):
            values = [values]
        return [v.strip() for v in (values or []) if v and v.strip()]


class MultipleValueField(forms.Field):
    """Many values of one parameter, each checked by `pattern` and then against the database."""

    widget = MultiValueWidget
    pattern = None
    lookup = None  # callable(values) -> the set of values that exist

    def __init__(self, *args, pattern=None, lookup=None, upper=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.pattern, self.lookup, self.upper = pattern, lookup, upper

    def to_python(self, value):
        values = list(dict.fromkeys(v.upper() if self.upper else v for v in value or []))
        if len(values) > MAX_VALUES:
            raise forms.ValidationError(_("At most %(n)d values."), params={"n": MAX_VALUES})
        bad = [v for v in values if not re.fullmatch(self.pattern, v)]
        if not bad and values and self.lookup:
            known = self.lookup(values)
            bad = [v for v in values if v not in known]
        if bad:
            raise forms.ValidationError(
                _("Unknown value: %(values)s."), params={"values": ", ".join(bad[:5])[:200]}
            )
        return values


class MultipleValueFilter(filters.Filter):
    field_class = MultipleValueField

    def filter(self, qs, value):
        if not value:
            return qs
        return qs.filter(**{f"{self.field_name}__in": value})


def at_courthouses(qs, courthouses):
    """Incidents of these courthouses, found through their counties' index.

    Incidents have no courthouse index of their own (models.Incident.Meta.indexes):
    naming the counties lets inc_pub_county_date serve the rows in date order.
    """
    places = courthouses.values_list("pk", "county_id")
    return qs.filter(courthouse_id__in=[pk for pk, _ in places], county_id__in={fips for _, fips in places})


class CourthouseFilter(MultipleValueFilter):
    def filter(self, qs, value):
        return at_courthouses(qs, Courthouse.objects.filter(slug__in=value)) if value else qs


class CourtTypeFilter(filters.MultipleChoiceFilter):
    """Incidents at courthouses of these types, found as CourthouseFilter finds them.

    A join on the courthouse's type would leave PostgreSQL no index for a rare
    type, and it would read the whole table (tests/test_query_plans.py).
    """

    def filter(self, qs, value):
        return at_courthouses(qs, Courthouse.objects.filter(court_type__in=value)) if value else qs


def known_states(values):
    return set(State.objects.filter(code__in=values).values_list("code", flat=True))


def known_counties(values):
    return set(County.objects.filter(fips__in=values).values_list("fips", flat=True))


def known_courthouses(values):
    return set(Courthouse.objects.filter(slug__in=values).values_list("slug", flat=True))


def parse_date(text):
    """An ISO date (2017-11-28, ASCII digits, no sign or extra digits), or None."""
    if not ISO_DATE.fullmatch(text):
        return None
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        return None


def clip_start(day):
    """A range's first day, within the days that can hold an incident.

    Every stored date lies from EARLIEST_DATE to today, so clipping never changes
    which incidents match, only how wide a range the charts are asked to draw.
    """
    return min(max(day, EARLIEST_DATE), today_utc() + ONE_DAY)


def clip_end(day):
    return min(max(day, EARLIEST_DATE - ONE_DAY), today_utc())


class StrictDateField(forms.DateField):
    """ISO dates only (2017-11-28), clipped to the days that can hold an incident."""

    def __init__(self, *args, clip=clip_start, **kwargs):
        super().__init__(*args, **kwargs)
        self.clip = clip

    def to_python(self, value):
        if value in self.empty_values:
            return None
        day = parse_date(str(value))
        if day is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return self.clip(day)


class StrictDateFilter(filters.DateFilter):
    field_class = StrictDateField


class ChoicesFilter(filters.MultipleChoiceFilter):
    """Values of one parameter OR-ed as one `IN (...)`."""

    def filter(self, qs, value):
        if not value:
            return qs
        return qs.filter(**{f"{self.field_name}__in": value})


def choice_filter(klass, field_name):
    # distinct=False: no join here multiplies rows, and DISTINCT would sort them all.
    return ChoicesFilter(
        field_name=field_name, choices=klass.choices, distinct=False, widget=MultiValueWidget
    )


class IncidentFilterSet(filters.FilterSet):
    date_after = StrictDateFilter(
        field_name="date",
        lookup_expr="gte",
        label=_("From"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_before = StrictDateFilter(
        field_name="date",
        lookup_expr="lte",
        label=_("To"),
        clip=clip_end,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    state = MultipleValueFilter(
        field_name="state_id", label=_("State"), pattern=r"[A-Z]{2}", lookup=known_states, upper=True
    )
    county = MultipleValueFilter(
        field_name="county_id", label=_("County (FIPS)"), pattern=r"\d{5}", lookup=known_counties
    )
    courthouse = CourthouseFilter(
        field_name="courthouse__slug",
        label=_("Courthouse"),
        pattern=r"[-a-zA-Z0-9_]{1,220}",
        lookup=known_courthouses,
    )
    case_type = choice_filter(choices.CaseType, "case_type")
    outcome = choice_filter(choices.Outcome, "outcome")
    person_role = choice_filter(choices.PersonRole, "person_role")
    location = choice_filter(choices.Location, "location")
    agency = choice_filter(choices.Agency, "agency")
    warrant = choice_filter(choices.Warrant, "warrant")
    verification = choice_filter(choices.Verification, "verification")
    court_type = CourtTypeFilter(
        choices=choices.CourtType.choices, label=_("Court type"), distinct=False, widget=MultiValueWidget
    )
    q = filters.CharFilter(method="filter_text", label=_("Search"), max_length=MAX_Q)
    updated_after = StrictDateFilter(
        field_name="updated_at", method="filter_updated_after", label=_("Updated since")
    )
    ordering = filters.OrderingFilter(
        fields=(("date", "date"), ("updated_at", "updated_at"), ("people_count", "people_count")),
        field_labels={"date": _("Date"), "updated_at": _("Last update"), "people_count": _("People")},
        label=_("Sort by"),
    )

    class Meta:
        model = Incident
        fields = []

    def filter_text(self, qs, name, value):
        value = value.strip()
        if not value:
            return qs
        return search_text(qs, value)

    def filter_updated_after(self, qs, name, value):
        start = datetime.datetime.combine(value, datetime.time.min, tzinfo=datetime.UTC)
        return qs.filter(updated_at__gte=start)

    def sort_keys(self):
        """The order of the result, ending with id so that every sort is total."""
        chosen = (self.form.cleaned_data.get("ordering") or ["-date"])[0] if self.is_valid() else "-date"
        descending = chosen.startswith("-")
        return [chosen, "-id" if descending else "id"]


REPEATABLE = (MultipleValueFilter, filters.MultipleChoiceFilter)


def normalise(params):
    """A query string's filters in one canonical form, as a QueryDict.

    Known names only, in the FilterSet's order; values stripped, repeated values
    once and sorted (and never more than one beyond MAX_VALUES), state codes
    upper-case, dates in ISO form and clipped. Two
    addresses that show the same rows give the same result, so that links,
    chips and every cache key (FilterState.key, cache.public_page) agree.
    Values that do not validate are kept as they are, for the form to show.
    """
    clean = QueryDict(mutable=True)
    for name, spec in IncidentFilterSet.base_filters.items():
        values = [v.strip() for v in params.getlist(name) if v.strip()]
        if values:
            clean.setlist(name, _canonical(spec, values))
    return clean


def _canonical(spec, values):
    if isinstance(spec, REPEATABLE):
        # One value more than allowed is enough for the form to refuse the rest.
        return sorted({v.upper() if spec.extra.get("upper") else v for v in values})[: MAX_VALUES + 1]
    value = values[-1]  # a form reads the last of repeated single values
    day = parse_date(value) if isinstance(spec, StrictDateFilter) else None
    return [spec.extra.get("clip", clip_start)(day).isoformat() if day else value]


@dataclass
class FilterState:
    """One request's filters, read once: every view, link and cache key starts here."""

    filterset: IncidentFilterSet
    incidents: QuerySet  # ordered; empty when the filters are invalid
    params: QueryDict  # normalise()d: what the form, chips and links show
    scope: tuple | None = None  # ("courthouse", slug) on a place's own page

    @property
    def valid(self):
        return self.filterset.is_valid()

    @property
    def is_filtered(self):
        """Whether any parameter narrows the rows (ordering only sorts them)."""
        return any(name != "ordering" for name in self.params)

    @property
    def key(self):
        """The cache key of these rows, the same for every address that selects them."""
        pairs = [(n, tuple(self.params.getlist(n))) for n in self.params if n != "ordering"]
        return (self.scope, tuple(pairs))

    def query(self, *, without=(), remove=None, **replace):
        """ "?..." (or "") for these filters minus some names or one (name, value), plus replacements."""
        query = self.params.copy()
        for name in without:
            query.pop(name, None)
        if remove:
            name, value = remove
            query.setlist(name, [v for v in query.getlist(name) if v != value])
        for name, value in replace.items():
            query[name] = value
        encoded = query.urlencode()
        return f"?{encoded}" if encoded else ""

    @cached_property
    def queries(self):
        """The query strings of a page's links. A place's export and data links answer
        for that place only; links to other places keep every filter but the place."""
        scope = dict([self.scope]) if self.scope else {}
        return {
            "page": self.query(),
            "export": self.query(**scope),
            "stats": self.query(without=("ordering",), **scope).lstrip("?"),
            "place_link": self.query(without=("ordering", "county", "courthouse")),
        }

    @cached_property
    def labels(self):
        """{param: {value: label}} for every value a chip or a checked box shows."""
        labels = {name: {k: str(v) for k, v in LABELLED_CHOICES[name].choices} for name in CHOICE_PARAMS}
        labels["state"] = dict(State.objects.values_list("code", "name"))
        counties, courthouses = self.well_formed("county"), self.well_formed("courthouse")
        labels["county"] = {
            fips: f"{name}, {state}"
            for fips, name, state in County.objects.filter(fips__in=counties).values_list(
                "fips", "name", "state_id"
            )
        }
        labels["courthouse"] = {
            slug: f"{name} ({city})"
            for slug, name, city in Courthouse.objects.filter(slug__in=courthouses).values_list(
                "slug", "name", "city"
            )
        }
        return labels

    def well_formed(self, name):
        """The values of `name` that could exist; only these reach the database (a NUL byte
        or a 10,000-character value in a query would make PostgreSQL fail, not answer)."""
        pattern = IncidentFilterSet.base_filters[name].extra["pattern"]
        return [v for v in self.params.getlist(name)[:MAX_VALUES] if re.fullmatch(pattern, v)]


def filter_incidents(request_or_params, queryset=None, scope=None):
    """The FilterState of a request's query string (or of a QueryDict).

    An invalid filterset yields an empty queryset, never a silently unfiltered one;
    views show the form errors (pages) or answer 400 (export, API).
    """
    params = normalise(getattr(request_or_params, "GET", request_or_params))
    base = Incident.objects.public() if queryset is None else queryset
    filterset = IncidentFilterSet(params, queryset=base)
    incidents = filterset.qs.order_by(*filterset.sort_keys()) if filterset.is_valid() else base.none()
    return FilterState(filterset, incidents, params, scope)


def error_message(filterset):
    """One line naming each bad parameter, for 400 answers."""
    return "; ".join(
        f"{name}: {' '.join(str(m) for m in messages)}" for name, messages in filterset.errors.items()
    )
