"""Public pages: dashboard, list, detail, courthouse and county pages.

Every page reads its rows through filters.filter_incidents(), so one query
string means the same incidents on every page, in the export and in the API.
Bad input never raises: the page shows the form with its errors and answers 400.
"""

import base64
import binascii
import datetime
import json
import re

from django.db.models import Q
from django.http import JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import charts
from .cache import cached, public_page
from .changes import retraction_notice
from .dictionary import VERIFICATION_MEANINGS
from .filters import MAX_Q, MAX_VALUES, IncidentFilterSet, filter_incidents, is_filtered
from .history import field_changes
from .models import CHOICE_FIELDS, PUBLIC_FIELDS, County, Courthouse, Incident, State, display_text
from .stats import stats_for

PAGE_SIZE = 50
COUNT_CAP = 10_000
COURTHOUSES_SHOWN = 300
AUTOCOMPLETE_MAX = 20
CURSOR_MAX = 300  # characters; a real cursor is about 60
CHOICE_PARAMS = (
    "outcome",
    "case_type",
    "person_role",
    "location",
    "warrant",
    "agency",
    "verification",
)
ROW_LABELS = ("outcome", "case_type", "person_role", "verification")
TEXT_PARAMS = ("q", "date_after", "date_before", "updated_after")
# They choose a page of rows, not which rows: never carried into other links.
PAGE_PARAMS = ("cursor", "page")
# Links from a chart to a county or courthouse page keep every other filter.
PLACE_LINK_DROPS = PAGE_PARAMS + ("ordering", "county", "courthouse")

ORDERINGS = (
    ("", gettext_lazy("Newest first")),  # the default, so it stays out of addresses
    ("date", gettext_lazy("Oldest first")),
    ("-people_count", gettext_lazy("Most people taken into custody")),
    ("people_count", gettext_lazy("Fewest people taken into custody")),
    ("-updated_at", gettext_lazy("Recently updated")),
    ("updated_at", gettext_lazy("Least recently updated")),
)
# -- pages -------------------------------------------------------------------


@public_page
def dashboard(request):
    filterset, incidents = filter_incidents(request)
    context = _filter_page(request, filterset)
    if filterset.is_valid():
        context.update(_dashboard_parts(filterset, incidents, context))
        _labelled(context["latest"])
    return _render(request, "incidents/dashboard.html", context, filterset)


@public_page
def incident_list(request):
    filterset, incidents = filter_incidents(request)
    context = _filter_page(request, filterset)
    context.update(_page_of(request, filterset, incidents, context["params"]))
    return _render(request, "incidents/incident_list.html", context, filterset)


@public_page
def incident_detail(request, pk):
    incident = Incident.objects.public().filter(pk=pk).first()
    if incident is None:
        return retraction_notice(request, pk)
    return render(
        request,
        "incidents/incident_detail.html",
        {
            "incident": incident,
            "fields": _public_fields(incident),
            "changes": public_changes(incident),
            "verification_note": _verification_note(incident),
        },
    )


@public_page
def courthouse_list(request):
    filterset, incidents = filter_incidents(request)
    context = _filter_page(request, filterset)
    if filterset.is_valid():
        rows = stats_for(filterset, incidents, "courthouse")
        context["courthouses"] = _courthouse_rows(rows[:COURTHOUSES_SHOWN])
        context["courthouse_total"] = len(rows)
    return _render(request, "incidents/courthouse_list.html", context, filterset)


@public_page
def courthouse_detail(request, slug):
    courthouse = get_object_or_404(Courthouse.objects.select_related("county__state"), slug=slug)
    # The county too: its index serves the courthouse's rows in date order.
    here = Incident.objects.public().filter(courthouse=courthouse, county_id=courthouse.county_id)
    context = _place_page(request, here, ("courthouse", courthouse.slug))
    context["courthouse"] = courthouse
    return _render(request, "incidents/courthouse_detail.html", context, context["filter"])


@public_page
def county_detail(request, fips):
    county = get_object_or_404(County.objects.select_related("state"), fips=fips)
    here = Incident.objects.public().filter(county_id=county.fips)
    context = _place_page(request, here, ("county", county.fips))
    context["county"] = county
    return _render(request, "incidents/county_detail.html", context, context["filter"])


def courthouse_autocomplete(request):
    """{"results": [{"value": slug, "label": "Name (City, ST)"}]}: every word of `q` must
    match the name, the city or the start of the slug. The filter form and the
    staff entry form both use it."""
    words, error = _search_words(request)
    if error:
        return error
    found = Courthouse.objects.all()
    for word in words:
        found = found.filter(Q(name__icontains=word) | Q(city__icontains=word) | Q(slug__istartswith=word))
    found = found.order_by("name", "city").values_list("slug", "name", "city", "county__state_id")
    return JsonResponse(
        {
            "results": [
                {"value": slug, "label": f"{name} ({city}, {state})"}
                for slug, name, city, state in found[:AUTOCOMPLETE_MAX]
            ]
        }
    )


def county_autocomplete(request):
    """{"results": [{"value": FIPS, "label": "Kings County, NY"}]}: counties matching `q`,
    within the `state`s given. With one state and no `q`: every county of that state,
    for the courthouse form's county list."""
    states = _known_states(request)
    if states is None:
        return JsonResponse({"error": _("state: unknown state code")}, status=400)
    found, limit = (County.objects.filter(state_id__in=states) if states else County.objects.all()), None
    if "q" in request.GET or len(states) != 1:
        term, error = _search_term(request)
        if error:
            return error
        found, limit = found.filter(Q(name__icontains=term) | Q(fips__startswith=term)), AUTOCOMPLETE_MAX
    found = found.order_by("name", "state_id").values_list("fips", "name", "state_id")[:limit]
    return JsonResponse(
        {"results": [{"value": fips, "label": f"{name}, {state}"} for fips, name, state in found]}
    )


# -- shared page parts -------------------------------------------------------------


def _today():
    return timezone.now().date()


def _render(request, template, context, filterset):
    """Invalid filters (or a bad page link) still render the page, with a 400."""
    failed = not filterset.is_valid() or context.get("cursor_error")
    return render(request, template, context, status=400 if failed else 200)


def _clean_params(request):
    """The filter parameters of the query string: known names, non-empty values, in form order."""
    params = QueryDict(mutable=True)
    for name in IncidentFilterSet.base_filters:
        values = [v.strip() for v in request.GET.getlist(name) if v.strip()]
        if values:
            params.setlist(name, values)
    return params


def _query(params, *, without=(), remove=None, **replace):
    """The query string ("?..." or "") of `params` minus some names or one (name, value), plus replacements."""
    query = params.copy()
    for name in without:
        query.pop(name, None)
    if remove:
        name, value = remove
        query.setlist(name, [v for v in query.getlist(name) if v != value])
    for name, value in replace.items():
        query[name] = value
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else ""


def _filter_page(request, filterset, scope=None):
    """What every page with the filter form needs: values, chips, errors, links."""
    params = _clean_params(request)
    states = list(State.objects.values_list("code", "name"))
    labels = _value_labels(params, states)
    hidden = (scope[0],) if scope else ()
    # A courthouse or county page's download links answer for that place only.
    stats_query = _query(params, without=PAGE_PARAMS + ("ordering",), **dict([scope] if scope else []))
    return {
        **_url_prefixes(),
        "filter": filterset,
        "params": params,
        "query": _query(params, without=PAGE_PARAMS),
        "stats_query": stats_query.lstrip("?"),
        "place_link_query": _query(params, without=PLACE_LINK_DROPS),
        "controls": _controls(filterset, params, states, labels, hidden),
        "chips": _chips(filterset, params, labels),
        "errors": _errors(filterset),
        "is_filtered": is_filtered(params),
    }


def _place_page(request, here, scope):
    filterset, incidents = filter_incidents(request, here)
    context = _filter_page(request, filterset, scope)
    context.update(_page_of(request, filterset, incidents, context["params"]))
    # The export link answers for this place only, like the page.
    context["export_query"] = _query(context["params"], without=PAGE_PARAMS, **dict([scope]))
    if filterset.is_valid():
        context["charts_html"] = _cached_charts(
            "trend",
            filterset,
            context,
            scope,
            lambda today: charts.trend(filterset, incidents, scope=scope, today=today),
        )["charts_html"]
    return context


def _dashboard_parts(filterset, incidents, context):
    return _cached_charts(
        "dashboard",
        filterset,
        context,
        None,
        lambda today: charts.dashboard(
            filterset, incidents, today=today, link_query=context["place_link_query"]
        ),
    )


def _cached_charts(name, filterset, context, scope, build):
    """build(today)'s charts rendered to HTML, cached with the rest of what it returns.

    Rendering a few hundred table cells costs more than reading them from the
    cache; the key holds everything the HTML depends on (the filters, the links'
    query strings, the day printed in the source line, the language).
    """
    today = _today()
    key = (
        charts.filter_params(filterset),
        scope,
        today.isoformat(),
        translation.get_language(),
        context["stats_query"],
        context["place_link_query"],
    )

    def render_parts():
        parts = build(today)
        parts["charts_html"] = mark_safe(
            "".join(
                render_to_string(
                    "incidents/_chart.html",
                    {"chart": chart, "stats_query": context["stats_query"]},
                )
                for chart in parts.pop("charts")
            )
        )
        return parts

    return cached(f"page:{name}", key, render_parts)


def _url_prefixes():
    """Link prefixes, so that table rows render without one reverse() per link."""
    return {
        "incident_prefix": reverse("incident_list"),
        "courthouse_prefix": reverse("courthouse_list"),
        "county_prefix": reverse("county_detail", args=["00000"]).removesuffix("00000/"),
    }


def _errors(filterset):
    if filterset.is_valid():
        return []
    fields = filterset.form.fields
    return [
        (
            str(fields[name].label) if name in fields else name,
            " ".join(str(m) for m in messages),
        )
        for name, messages in filterset.form.errors.items()
    ]


def _value_labels(params, states):
    """{param: {value: label}} for every value a chip or a checked box shows."""
    labels = {name: {k: str(v) for k, v in CHOICE_FIELDS[name].choices} for name in CHOICE_PARAMS}
    labels["state"] = dict(states)
    counties, courthouses = (
        _well_formed(params, "county"),
        _well_formed(params, "courthouse"),
    )
    labels["county"] = (
        {
            fips: f"{name}, {state}"
            for fips, name, state in County.objects.filter(fips__in=counties).values_list(
                "fips", "name", "state_id"
            )
        }
        if counties
        else {}
    )
    labels["courthouse"] = (
        {
            slug: f"{name} ({city})"
            for slug, name, city in Courthouse.objects.filter(slug__in=courthouses).values_list(
                "slug", "name", "city"
            )
        }
        if courthouses
        else {}
    )
    return labels


def _well_formed(params, name):
    """The values of `name` that could exist; only these reach the database (a NUL byte
    or a 10,000-character value in a query would make PostgreSQL fail, not answer)."""
    pattern = IncidentFilterSet.base_filters[name].extra["pattern"]
    return [v for v in params.getlist(name)[:MAX_VALUES] if re.fullmatch(pattern, v)]


def _controls(filterset, params, states, labels, hidden):
    """The form's fields with their current values, in the order the template shows them."""
    fields, errors = filterset.form.fields, filterset.form.errors

    def field(name, **extra):
        return {
            "name": name,
            "label": fields[name].label,
            "errors": errors.get(name, []),
            **extra,
        }

    places = [
        field(name, chosen=[(v, labels[name].get(v, v)) for v in params.getlist(name)])
        for name in ("state", "county", "courthouse")
        if name not in hidden
    ]
    return {
        "text": {name: field(name, value=params.get(name, "")[: MAX_Q + 20]) for name in TEXT_PARAMS},
        "places": places,
        "states": states,
        "choices": [_choice_group(field(name), params.getlist(name), labels[name]) for name in CHOICE_PARAMS],
        "ordering": field(
            "ordering",
            value=params.get("ordering", "").removeprefix("-date"),
            options=ORDERINGS,
        ),
    }


def _choice_group(group, chosen, labels):
    group["options"] = [(value, label, value in chosen) for value, label in labels.items()]
    group["open"] = bool(chosen or group["errors"])  # a group in use starts unfolded
    return group


def _chips(filterset, params, labels):
    """One removable chip per active filter value."""
    fields = filterset.form.fields
    chips = []
    for name in params:
        if name == "ordering":
            continue
        for value in params.getlist(name):
            label = labels.get(name, {}).get(value, value)
            chips.append(
                {
                    "field": fields[name].label,
                    "value": label if len(label) <= 60 else label[:59] + "…",
                    "remove": _query(params, without=PAGE_PARAMS, remove=(name, value)) or "?",
                }
            )
    return chips


# -- keyset pagination -----------------------------------------------------------


class BadCursor(ValueError):
    pass


def _sort_field(keys):
    return keys[0].lstrip("-"), keys[0].startswith("-")


def encode_cursor(direction, keys, incident):
    """An opaque page link: the sort value and id of the row the page starts after (or before)."""
    field, _descending = _sort_field(keys)
    value = getattr(incident, field)
    value = value.isoformat() if hasattr(value, "isoformat") else value
    raw = json.dumps([direction, keys[0], value, incident.pk], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(token, keys):
    """(direction, sort value, id); BadCursor for anything this site did not write."""
    if len(token) > CURSOR_MAX:
        raise BadCursor(token)
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        parts = json.loads(raw)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadCursor(token) from exc
    if not isinstance(parts, list) or len(parts) != 4:
        raise BadCursor(token)
    direction, key, value, pk = parts
    if direction not in ("next", "prev") or key != keys[0] or type(pk) is not int or not 0 < pk < 2**63:
        raise BadCursor(token)
    return direction, _cursor_value(_sort_field(keys)[0], value), pk


def _cursor_value(field, value):
    try:
        if field == "date":
            return datetime.date.fromisoformat(value)
        if field == "updated_at":
            moment = datetime.datetime.fromisoformat(value)
            if moment.tzinfo is None:
                raise BadCursor(value)
            return moment
    except (TypeError, ValueError) as exc:
        raise BadCursor(value) from exc
    if type(value) is not int or not 0 <= value < 2**31:
        raise BadCursor(value)
    return value


def _beyond(keys, value, pk, backwards=False):
    """Rows after (value, pk) in the sort order; `backwards`: the rows before it.

    `field <= value AND (field < value OR id < pk)` lets the database walk the
    (field, id) index from the cursor on, so a deep page costs what the first does.
    """
    field, descending = _sort_field(keys)
    if backwards:
        descending = not descending
    strict, edge = ("lt", "lte") if descending else ("gt", "gte")
    return Q(**{f"{field}__{edge}": value}) & (
        Q(**{f"{field}__{strict}": value}) | Q(**{f"pk__{strict}": pk})
    )


def _reversed_keys(keys):
    return [key[1:] if key.startswith("-") else f"-{key}" for key in keys]


def _page_of(request, filterset, incidents, params):
    """One page of rows, its Previous/Next links and the (capped) number of matches."""
    keys = filterset.sort_keys()
    token = request.GET.get("cursor", "").strip()
    rows, has_prev, has_next = [], False, False
    if token and filterset.is_valid():
        try:
            direction, value, pk = decode_cursor(token, keys)
        except BadCursor:
            return _page_context(
                params,
                keys,
                [],
                False,
                False,
                (0, False),
                cursor_error=_("This page link is not valid or is out of date."),
            )
        if direction == "next":
            found = list(incidents.filter(_beyond(keys, value, pk))[: PAGE_SIZE + 1])
            rows, has_prev, has_next = found[:PAGE_SIZE], True, len(found) > PAGE_SIZE
        else:
            found = list(
                incidents.filter(_beyond(keys, value, pk, backwards=True)).order_by(*_reversed_keys(keys))[
                    : PAGE_SIZE + 1
                ]
            )
            if len(found) > PAGE_SIZE:
                rows, has_prev, has_next = found[:PAGE_SIZE][::-1], True, True
            else:
                token = ""  # the previous page is the first one: show it whole
    if not token:
        found = list(incidents[: PAGE_SIZE + 1])
        rows, has_next = found[:PAGE_SIZE], len(found) > PAGE_SIZE
        if not has_next:
            return _page_context(params, keys, rows, False, False, (len(rows), False))
    return _page_context(params, keys, rows, has_prev, has_next, _capped_count(incidents))


def _labelled(incidents):
    """Choice labels for table rows, looked up once per page rather than per cell."""
    labels = {name: {k: str(v) for k, v in CHOICE_FIELDS[name].choices} for name in ROW_LABELS}
    for incident in incidents:
        for name, choices_ in labels.items():
            value = getattr(incident, name)
            setattr(incident, f"{name}_label", choices_.get(value, value))
    return incidents


def _capped_count(incidents):
    """(count, more): counting stops after COUNT_CAP rows instead of scanning every match."""
    n = incidents.order_by().values("pk")[: COUNT_CAP + 1].count()
    return min(n, COUNT_CAP), n > COUNT_CAP


def _page_context(params, keys, rows, has_prev, has_next, count, cursor_error=None):
    first_page = _query(params, without=PAGE_PARAMS) or "?"
    return {
        "incidents": _labelled(rows),
        "count": count[0],
        "count_more": count[1],
        "cursor_error": cursor_error,
        "first_page": first_page,
        "prev_page": _query(params, without=PAGE_PARAMS, cursor=encode_cursor("prev", keys, rows[0]))
        if has_prev and rows
        else None,
        "next_page": _query(params, without=PAGE_PARAMS, cursor=encode_cursor("next", keys, rows[-1]))
        if has_next and rows
        else None,
        "sort_links": _sort_links(params, keys[0]),
        "export_query": _query(params, without=PAGE_PARAMS),
    }


def _sort_links(params, current):
    """Column header links: the first click sorts descending, the next ascending."""
    links = {}
    for field in ("date", "people_count"):
        if current.lstrip("-") == field:
            state = "descending" if current.startswith("-") else "ascending"
            target = field if state == "descending" else f"-{field}"
        else:
            state, target = "none", f"-{field}"
        links[field] = {
            "url": _query(params, without=PAGE_PARAMS, ordering=target),
            "aria_sort": state,
        }
    return links


# -- detail --------------------------------------------------------------------------


def _public_fields(incident):
    """(name, label, display text) for every public field, in PUBLIC_FIELDS order."""
    meta, precision = incident._meta, incident.date_precision
    return [
        (
            name,
            meta.get_field(name).verbose_name,
            display_text(name, getattr(incident, name), precision=precision),
        )
        for name in PUBLIC_FIELDS
    ]


def _verification_note(incident):
    """ "Verified: the tracker confirmed ...", from the data dictionary's meaning of the value."""
    meaning = str(VERIFICATION_MEANINGS.get(incident.verification, ""))
    return f"{incident.get_verification_display()}: {meaning[:1].lower()}{meaning[1:]}"


def public_changes(incident):
    """Dated public history, newest first: when the incident was recorded and each correction.

    Only PUBLIC_FIELDS are read, compared and shown: a change to staff-only notes is
    not a public correction, and neither the user who made it nor any staff-only
    value is ever loaded here.
    """
    records = incident.history.only("history_id", "history_date", *PUBLIC_FIELDS)
    return field_changes(records.order_by("history_date", "history_id"), PUBLIC_FIELDS, initial_values=False)


# -- courthouses and autocomplete -----------------------------------------------------


def _courthouse_rows(stats_rows):
    """Stats rows (slug, name, counts) joined to each courthouse's city and county, in one query."""
    details = {
        row["slug"]: row
        for row in Courthouse.objects.filter(slug__in=[r["key"] for r in stats_rows]).values(
            "slug", "city", "county_id", "county__name", "county__state_id"
        )
    }
    return [{**row, **details.get(row["key"], {})} for row in stats_rows]


def _search_term(request):
    term = request.GET.get("q", "").strip()
    if not term or len(term) > 100 or "\x00" in term:
        message = _("q: type 1 to 100 characters to search.")
        return None, JsonResponse({"error": message}, status=400)
    return term, None


def _search_words(request):
    term, error = _search_term(request)
    return (term.split()[:5] if term else None), error


def _known_states(request):
    """The upper-cased `state` values, or None when one of them names no state."""
    states = {s.strip().upper() for s in request.GET.getlist("state")[:MAX_VALUES] if s.strip()}
    if not all(re.fullmatch(r"[A-Z]{2}", state) for state in states):
        return None
    if states and State.objects.filter(code__in=states).count() != len(states):
        return None
    return sorted(states)
