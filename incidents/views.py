"""Public pages: dashboard, list, detail, courthouse and county pages.

Every page reads its rows through filters.filter_incidents(), so one query
string means the same incidents on every page, in the export and in the API.
Bad input never raises: the page shows the form with its errors and answers 400.
"""

import re

from django.db.models import Q
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import charts, cursors
from .cache import cached, public_page
from .changes import retraction_notice
from .dictionary import VERIFICATION_MEANINGS
from .filters import CHOICE_PARAMS, MAX_Q, MAX_VALUES, filter_incidents
from .history import field_changes
from .models import CHOICE_FIELDS, PUBLIC_FIELDS, County, Courthouse, Incident, State, display_text, today_utc
from .stats import stats_for

PAGE_SIZE = 50
COUNT_CAP = 10_000
COURTHOUSES_SHOWN = 300
AUTOCOMPLETE_MAX = 20
ROW_LABELS = ("outcome", "case_type", "person_role", "verification")
TEXT_PARAMS = ("q", "date_after", "date_before", "updated_after")

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
    state = filter_incidents(request)
    context = _filter_page(state)
    if state.valid:
        context.update(_dashboard_parts(state))
        _labelled(context["latest"])
    return _render(request, "incidents/dashboard.html", context, state)


@public_page
def incident_list(request):
    state = filter_incidents(request)
    context = _filter_page(state)
    context.update(_page_of(request, state))
    return _render(request, "incidents/incident_list.html", context, state)


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
    state = filter_incidents(request)
    context = _filter_page(state)
    if state.valid:
        rows = stats_for(state, "courthouse")
        context["courthouses"] = _courthouse_rows(rows[:COURTHOUSES_SHOWN])
        context["courthouse_total"] = len(rows)
    return _render(request, "incidents/courthouse_list.html", context, state)


@public_page
def courthouse_detail(request, slug):
    # A courthouse only retracted incidents name is not public (nor in the autocomplete).
    courthouse = get_object_or_404(Courthouse.objects.public().select_related("county__state"), slug=slug)
    # The county too: its index serves the courthouse's rows in date order.
    here = Incident.objects.public().filter(courthouse=courthouse, county_id=courthouse.county_id)
    state = filter_incidents(request, here, ("courthouse", courthouse.slug))
    context = {**_place_page(request, state), "courthouse": courthouse}
    return _render(request, "incidents/courthouse_detail.html", context, state)


@public_page
def county_detail(request, fips):
    county = get_object_or_404(County.objects.select_related("state"), fips=fips)
    here = Incident.objects.public().filter(county_id=county.fips)
    state = filter_incidents(request, here, ("county", county.fips))
    context = {**_place_page(request, state), "county": county}
    return _render(request, "incidents/county_detail.html", context, state)


def courthouse_autocomplete(request):
    """{"results": [{"value": slug, "label": "Name (City, ST)"}]}: every word of `q` must
    match the name, the city or the start of the slug. The filter form and the
    staff entry form both use it; `?all=1` (staff who may enter incidents only)
    also offers courthouses without a published incident, which are not public."""
    words, error = _search_words(request)
    if error:
        return error
    found = Courthouse.objects.public()
    if request.GET.get("all") == "1" and request.user.has_perm("incidents.add_incident"):
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


def _render(request, template, context, state):
    """Invalid filters (or a bad page link) still render the page, with a 400."""
    failed = not state.valid or context.get("cursor_error")
    return render(request, template, context, status=400 if failed else 200)


def _filter_page(state):
    """What every page with the filter form needs: values, chips, errors, links."""
    hidden = (state.scope[0],) if state.scope else ()
    return {
        **_url_prefixes(),
        "filter": state.filterset,
        "params": state.params,
        "queries": state.queries,
        "controls": _controls(state, hidden),
        "chips": _chips(state),
        "errors": _errors(state.filterset),
        "is_filtered": state.is_filtered,
    }


def _place_page(request, state):
    context = {**_filter_page(state), **_page_of(request, state)}
    if state.valid:
        context["charts_html"] = _cached_charts(
            "trend", state, lambda today: charts.trend(state, today=today)
        )["charts_html"]
    return context


def _dashboard_parts(state):
    return _cached_charts("dashboard", state, lambda today: charts.dashboard(state, today=today))


def _cached_charts(name, state, build):
    """build(today)'s charts rendered to HTML, cached with the rest of what it returns.

    Rendering a few hundred table cells costs more than reading them from the
    cache; the key holds everything the HTML depends on (the filters and scope,
    which also make the links' query strings, the order of the latest rows, the
    day printed in the source line, the language).
    """
    today = today_utc()
    key = (state.key, state.params.get("ordering"), today.isoformat(), translation.get_language())

    def render_parts():
        parts = build(today)
        parts["charts_html"] = mark_safe(
            "".join(
                render_to_string(
                    "incidents/_chart.html",
                    {"chart": chart, "stats_query": state.queries["stats"]},
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


def _controls(state, hidden):
    """The form's fields with their current values, in the order the template shows them."""
    fields, errors = state.filterset.form.fields, state.filterset.form.errors
    params, labels = state.params, state.labels

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
        "states": list(labels["state"].items()),
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


def _chips(state):
    """One removable chip per active filter value."""
    fields = state.filterset.form.fields
    chips = []
    for name in state.params:
        if name == "ordering":
            continue
        for value in state.params.getlist(name):
            label = state.labels.get(name, {}).get(value, value)
            chips.append(
                {
                    "field": fields[name].label,
                    "value": label if len(label) <= 60 else label[:59] + "…",
                    "remove": state.query(remove=(name, value)) or "?",
                }
            )
    return chips


# -- keyset pagination (cursors.py) ---------------------------------------------


def _page_of(request, state):
    """One page of rows, its Previous/Next links and the (capped) number of matches."""
    keys, incidents = state.filterset.sort_keys(), state.incidents
    token = request.GET.get("cursor", "").strip()
    rows, has_prev, has_next = [], False, False
    if token and state.valid:
        try:
            cursor = cursors.decode(token, keys[0])
        except cursors.BadCursor:
            return _page_context(
                state,
                keys,
                [],
                False,
                False,
                (0, False),
                cursor_error=_("This page link is not valid or is out of date."),
            )
        if cursor.direction == "next":
            found = list(incidents.filter(cursors.beyond(keys[0], cursor))[: PAGE_SIZE + 1])
            rows, has_prev, has_next = found[:PAGE_SIZE], True, len(found) > PAGE_SIZE
        else:
            found = list(
                incidents.filter(cursors.beyond(keys[0], cursor, backwards=True)).order_by(
                    *cursors.reversed_keys(keys)
                )[: PAGE_SIZE + 1]
            )
            if len(found) > PAGE_SIZE:
                rows, has_prev, has_next = found[:PAGE_SIZE][::-1], True, True
            else:
                token = ""  # the previous page is the first one: show it whole
    if not token:
        found = list(incidents[: PAGE_SIZE + 1])
        rows, has_next = found[:PAGE_SIZE], len(found) > PAGE_SIZE
        if not has_next:
            return _page_context(state, keys, rows, False, False, (len(rows), False))
    return _page_context(state, keys, rows, has_prev, has_next, _capped_count(incidents))


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


def _page_context(state, keys, rows, has_prev, has_next, count, cursor_error=None):
    first_page = state.query() or "?"
    return {
        "incidents": _labelled(rows),
        "count": count[0],
        "count_more": count[1],
        "cursor_error": cursor_error,
        "first_page": first_page,
        "prev_page": state.query(cursor=cursors.encode("prev", keys[0], rows[0]))
        if has_prev and rows
        else None,
        "next_page": state.query(cursor=cursors.encode("next", keys[0], rows[-1]))
        if has_next and rows
        else None,
        "sort_links": _sort_links(state, keys[0]),
    }


def _sort_links(filters, current):
    """Column header links: the first click sorts descending, the next ascending."""
    links = {}
    for field in ("date", "people_count"):
        if current.lstrip("-") == field:
            state = "descending" if current.startswith("-") else "ascending"
            target = field if state == "descending" else f"-{field}"
        else:
            state, target = "none", f"-{field}"
        links[field] = {
            "url": filters.query(ordering=target),
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
