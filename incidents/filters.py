"""One FilterSet for the list, dashboard, courthouse and county pages, CSV export and API.

The query-string parameters are the contract of SPEC.md ("Filters"): a URL
copied from the list works unchanged for the export and the API.
"""

import datetime
import re

import django_filters as filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from . import choices
from .models import County, Courthouse, Incident, State
from .search import search_text

MAX_VALUES = 50  # per repeatable parameter
MAX_Q = 200
EARLIEST = datetime.date(1900, 1, 1)


def month_start(day):
    return day.replace(day=1)


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


class CourthouseFilter(MultipleValueFilter):
    """Incidents of these courthouses, found through their counties' index.

    Incidents have no courthouse index of their own (models.Incident.Meta.indexes):
    naming the counties lets inc_pub_county_date serve the rows in date order.
    """

    def filter(self, qs, value):
        if not value:
            return qs
        places = Courthouse.objects.filter(slug__in=value).values_list("pk", "county_id")
        return qs.filter(
            courthouse_id__in=[pk for pk, _ in places], county_id__in={fips for _, fips in places}
        )


def known_states(values):
    return set(State.objects.filter(code__in=values).values_list("code", flat=True))


def known_counties(values):
    return set(County.objects.filter(fips__in=values).values_list("fips", flat=True))


def known_courthouses(values):
    return set(Courthouse.objects.filter(slug__in=values).values_list("slug", flat=True))


class StrictDateField(forms.DateField):
    """ISO dates only (2017-11-28), within a sane range."""

    input_formats = ["%Y-%m-%d"]

    def to_python(self, value):
        day = super().to_python(value)
        if day and day < EARLIEST:
            raise forms.ValidationError(_("Dates before 1900 are not accepted."))
        return day


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
        method="filter_date_after",
        label=_("From"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_before = StrictDateFilter(
        field_name="date", lookup_expr="lte", label=_("To"), widget=forms.DateInput(attrs={"type": "date"})
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

    def filter_date_after(self, qs, name, value):
        # A month-precision incident is stored on the 1st and matches any range
        # that overlaps its month; the range condition stays index-friendly.
        return qs.filter(date__gte=month_start(value)).filter(
            Q(date__gte=value) | Q(date_precision=choices.DatePrecision.MONTH)
        )

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


# Parameters that do not narrow the rows (they never make an export "filtered").
NON_FILTER_PARAMS = {"ordering", "page", "cursor", "excel", "format", "by"}


def is_filtered(params):
    return any(
        value.strip()
        for key in params
        if key not in NON_FILTER_PARAMS and key in IncidentFilterSet.base_filters
        for value in params.getlist(key)
    )


def filter_incidents(request_or_params, queryset=None):
    """(filterset, ordered queryset) for a request's query string.

    An invalid filterset yields an empty queryset, never a silently unfiltered one;
    views show the form errors (pages) or answer 400 (export, API).
    """
    params = getattr(request_or_params, "GET", request_or_params)
    base = Incident.objects.public() if queryset is None else queryset
    filterset = IncidentFilterSet(params, queryset=base)
    if not filterset.is_valid():
        return filterset, base.none()
    return filterset, filterset.qs.order_by(*filterset.sort_keys())


def error_message(filterset):
    """One line naming each bad parameter, for 400 answers."""
    return "; ".join(
        f"{name}: {' '.join(str(m) for m in messages)}" for name, messages in filterset.errors.items()
    )
