"""Public pages: the dashboard, the list, an incident, courthouses and counties.

Every page reads its rows through filters.filter_incidents(), so one query
string means the same incidents on every page, in the export and in the API.
Bad input never raises: the page shows the form with its errors and answers 400.
What the filter form and the list show is built in presentation.py.
"""

from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import mark_safe

from .. import charts, choices, comparison
from ..cache import cached, public_page
from ..dictionary import VERIFICATION_MEANINGS
from ..filters import filter_incidents
from ..history import field_changes
from ..http import public_data
from ..models import PUBLIC_FIELDS, County, Courthouse, Incident, display_text, today_utc
from ..stats import stats_for
from .changes import retraction_notice
from .presentation import filter_page, labelled, page_of

COURTHOUSES_SHOWN = 300


# -- pages -------------------------------------------------------------------


@public_data
@public_page
def dashboard(request):
    state = filter_incidents(request)
    context = filter_page(state)
    if state.valid:
        context.update(_dashboard_parts(state))
        labelled(context["latest"])
    return _render(request, "incidents/dashboard.html", context, state)


@public_data
@public_page
def incident_list(request):
    state = filter_incidents(request)
    context = filter_page(state)
    context.update(page_of(request, state))
    return _render(request, "incidents/incident_list.html", context, state)


@public_data
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
            "sources": incident.sources.all(),
            "verification_note": _verification_note(incident),
        },
    )


@public_data
@public_page
def courthouse_list(request):
    state = filter_incidents(request)
    context = filter_page(state)
    if state.valid:
        rows = stats_for(state, "courthouse")
        context["courthouses"] = _courthouse_rows(rows[:COURTHOUSES_SHOWN])
        context["courthouse_total"] = len(rows)
    return _render(request, "incidents/courthouse_list.html", context, state)


@public_data
@public_page
def courthouse_detail(request, slug):
    # A courthouse only retracted incidents name is not public (nor in the autocomplete).
    courthouse = get_object_or_404(Courthouse.objects.public().select_related("county__state"), slug=slug)
    # The county too: its index serves the courthouse's rows in date order.
    here = Incident.objects.public().filter(courthouse=courthouse, county_id=courthouse.county_id)
    state = filter_incidents(request, here, ("courthouse", courthouse.slug))
    context = {**_place_page(request, state), "courthouse": courthouse}
    return _render(request, "incidents/courthouse_detail.html", context, state)


@public_data
@public_page
def county_detail(request, fips):
    county = get_object_or_404(County.objects.select_related("state"), fips=fips)
    here = Incident.objects.public().filter(county_id=county.fips)
    state = filter_incidents(request, here, ("county", county.fips))
    context = {**_place_page(request, state), "county": county}
    return _render(request, "incidents/county_detail.html", context, state)


# -- shared page parts -------------------------------------------------------------


def _render(request, template, context, state):
    """Invalid filters (or a bad page link) still render the page, with a 400."""
    failed = not state.valid or context.get("cursor_error")
    return render(request, template, context, status=400 if failed else 200)


def _place_page(request, state):
    context = {**filter_page(state), **page_of(request, state)}
    if state.valid:
        context["charts_html"] = _cached_charts(
            "trend", state, lambda today: charts.trend(state, today=today)
        )["charts_html"]
    return context


def _dashboard_parts(state):
    return _cached_charts(
        "dashboard",
        state,
        lambda today: {**charts.dashboard(state, today=today), "comparisons": comparison.figures_for(state)},
    )


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
                    {
                        "chart": chart,
                        "stats_query": state.queries["stats"],
                        "embed": charts.embed_name(chart),
                    },
                )
                for chart in parts.pop("charts")
            )
        )
        return parts

    return cached(f"page:{name}", key, render_parts)


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

    Only PUBLIC_FIELDS and each correction's public note are read, compared and shown: a change to staff-only notes is
    not a public correction, and neither the user who made it nor any staff-only
    value is ever loaded here.
    """
    records = incident.history.only("history_id", "history_date", "status", "public_note", *PUBLIC_FIELDS)
    records = since_published(list(records.order_by("history_date", "history_id")))
    return field_changes(records, PUBLIC_FIELDS, initial_values=False)


def since_published(records):
    """The history rows from the incident's publication on: its edits as a draft were never public."""
    drafts = [index for index, record in enumerate(records) if record.status == choices.Status.DRAFT]
    return records[drafts[-1] + 1 :] if drafts else records


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
