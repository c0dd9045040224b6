"""Public pages: dashboard, list, detail, courthouse and county pages.

Every page reads its rows through filters.filter_incidents(), so one query
string means the same incidents on every page, in the export and in the API.
Bad input never raises: the page shows the form with its errors and answers 400.
"""

import base64
import binascii
import datetime
import json

from django.db.models import Q
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import charts, choices
from .cache import cached, public_page
from .filters import CHOICE_PARAMS, MAX_Q, filter_incidents
from .models import CHOICE_FIELDS, PUBLIC_FIELDS, County, Courthouse, Incident, today_utc
from .stats import stats_for

PAGE_SIZE = 50
COUNT_CAP = 10_000
COURTHOUSES_SHOWN = 300
AUTOCOMPLETE_MAX = 20
CURSOR_MAX = 300  # characters; a real cursor is about 60
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
VERIFICATION_NOTES = {
    choices.Verification.VERIFIED: gettext_lazy(
        "Verified: the tracker confirmed this report against the source shown or a second, "
        "independent source (such as a court record or an attorney)."
    ),
    choices.Verification.UNVERIFIED: gettext_lazy(
        "Unverified: reported by the source shown, not yet confirmed independently. "
        "It may be corrected as more is learned."
    ),
    choices.Verification.DISPUTED: gettext_lazy(
        "Disputed: the facts of this report are contested, for example by another source "
        "or by the agency involved."
    ),
}


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
    incident = get_object_or_404(Incident.objects.public(), pk=pk)
    return render(
        request,
        "incidents/incident_detail.html",
        {
            "incident": incident,
            "fields": _public_fields(incident),
            "changes": public_changes(incident),
            "verification_note": VERIFICATION_NOTES.get(incident.verification, ""),
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
    """{"results": [{"value": slug, "label": ...}]} for the courthouse filter's typed search."""
    term, error = _search_term(request)
    if error:
        return error
    found = (
        Courthouse.objects.public()
        .filter(Q(name__icontains=term) | Q(city__icontains=term) | Q(slug__startswith=term))
        .order_by("name")
        .values_list("slug", "name", "city", "county__state_id")[:AUTOCOMPLETE_MAX]
    )
    return JsonResponse(
        {
            "results": [
                {"value": slug, "label": f"{name} ({city}, {state})"} for slug, name, city, state in found
            ]
        }
    )


def county_autocomplete(request):
    """{"results": [{"value": FIPS, "label": "Kings County, NY"}]}; `state` narrows the search."""
    term, error = _search_term(request)
    if error:
        return error
    found = County.objects.filter(Q(name__icontains=term) | Q(fips__startswith=term))
    states = filter_incidents(request).well_formed("state")
    if states:
        found = found.filter(state_id__in=states)
    found = found.order_by("name", "state_id").values_list("fips", "name", "state_id")[:AUTOCOMPLETE_MAX]
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


def _page_of(request, state):
    """One page of rows, its Previous/Next links and the (capped) number of matches."""
    keys, incidents = state.filterset.sort_keys(), state.incidents
    token = request.GET.get("cursor", "").strip()
    rows, has_prev, has_next = [], False, False
    if token and state.valid:
        try:
            direction, value, pk = decode_cursor(token, keys)
        except BadCursor:
            return _page_context(
                state,
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
        "prev_page": state.query(cursor=encode_cursor("prev", keys, rows[0])) if has_prev and rows else None,
        "next_page": state.query(cursor=encode_cursor("next", keys, rows[-1])) if has_next and rows else None,
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
    """(name, label, display value) for every public field, in PUBLIC_FIELDS order."""
    meta = incident._meta
    return [
        (name, meta.get_field(name).verbose_name, _display_value(incident, name)) for name in PUBLIC_FIELDS
    ]


def _display_value(incident, name):
    value = getattr(incident, name)
    if name == "date":
        return _date_text(value, incident.date_precision)
    if name in CHOICE_FIELDS:
        return getattr(incident, f"get_{name}_display")()
    return value


def _date_text(day, precision):
    if precision == choices.DatePrecision.MONTH:
        return _("%(month)s (only the month is known)") % {"month": day.strftime("%B %Y")}
    return day.isoformat()


def public_changes(incident):
    """Dated public history, newest first: when the incident was recorded and each correction.

    Only PUBLIC_FIELDS are compared and shown: a change to staff-only notes is not
    a public correction, and neither the user who made it nor any staff-only value
    is ever read here.
    """
    columns = [f"{name}_id" if name == "courthouse" else name for name in PUBLIC_FIELDS]
    records = incident.history.order_by("history_date", "history_id").values("history_date", *columns)
    entries, previous = [], None
    for record in records:
        changed = [
            (name, previous[column], record[column])
            for name, column in zip(PUBLIC_FIELDS, columns)
            if previous is not None and previous[column] != record[column]
        ]
        if previous is None or changed:
            entries.append(
                {
                    "date": record["history_date"],
                    "created": previous is None,
                    "changes": changed,
                }
            )
        previous = record
    return _with_display_values(entries)[::-1]


def _with_display_values(entries):
    courthouse_ids = {
        v for e in entries for name, *values in e["changes"] if name == "courthouse" for v in values
    }
    names = (
        dict(Courthouse.objects.filter(pk__in=courthouse_ids).values_list("pk", "name"))
        if courthouse_ids
        else {}
    )
    meta = Incident._meta
    for entry in entries:
        entry["changes"] = [
            {
                "label": meta.get_field(name).verbose_name,
                "old": _history_value(name, old, names),
                "new": _history_value(name, new, names),
            }
            for name, old, new in entry["changes"]
        ]
    return entries


def _history_value(name, value, courthouse_names):
    if value in (None, ""):
        return _("(empty)")
    if name == "courthouse":
        return courthouse_names.get(value, _("a courthouse no longer listed"))
    if name in CHOICE_FIELDS:
        return str(dict(CHOICE_FIELDS[name].choices).get(value, value))
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


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
