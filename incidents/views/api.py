"""Data for journalists and programs: the CSV export, the JSON API, chart data, the data dictionary.

Every view takes the same filter parameters as the list (filters.py), and every bad
parameter is answered with a 400 naming it: never a 500, never an unfiltered file.
"""

import re

from django.db import connections
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from .. import comparison, cursors, dictionary, export, stats
from ..filters import error_message, filter_incidents
from ..http import as_of, public_data
from ..models import Source
from .presentation import capped_count

DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
TRUE, FALSE = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")


class BadParameter(ValueError):
    def __init__(self, name, message):
        super().__init__(f"{name}: {message}")
        self.name, self.message = name, message


@public_data(cors=True)
def export_csv(request):
    state = filter_incidents(request)
    if not state.valid:
        return HttpResponse(
            error_message(state.filterset),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    try:
        excel = _flag(request.GET, "excel")
    except BadParameter as bad:
        return HttpResponse(str(bad), status=400, content_type="text/plain; charset=utf-8")
    # Asked before the answer starts: with the database gone, that is a 503 page,
    # not a 200 cut off after the header line.
    _database_answers(state.incidents.db)
    response = StreamingHttpResponse(
        export.csv_chunks(state.incidents, excel=excel),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{export.export_filename(state.is_filtered)}"'
    return response


@public_data(cors=True)
def api_incidents(request):
    state = filter_incidents(request)
    filterset, incidents = state.filterset, state.incidents
    if not state.valid:
        return _json_error(error_message(filterset), filterset.errors)
    keys = filterset.sort_keys()
    try:
        limit = _limit(request.GET.get("limit"))
        after = _cursor(request.GET.get("cursor", ""), keys[0])
    except BadParameter as bad:
        return _json_error(str(bad), {bad.name: [bad.message]})
    if after is not None:
        incidents = incidents.filter(cursors.beyond(keys[0], after))
    page = list(incidents.values_list(*export.LOOKUPS, named=True)[: limit + 1])
    rows, more = page[:limit], len(page) > limit
    # Free when the whole result is on this page; else counted as the list counts, up to a cap.
    count = (len(rows), False) if after is None and not more else capped_count(state.incidents)
    return JsonResponse(
        {
            "count": count[0],
            "count_capped": count[1],
            "as_of": as_of(request).isoformat(),
            "results": _with_sources([export.json_row(row) for row in rows]),
            "next": _next_url(request, cursors.encode("next", keys[0], rows[-1])) if more else None,
        }
    )


def _with_sources(results):
    """Each incident's `sources`: its primary source (the CSV's source_type and source_url)
    first, then the others, all read in one query for the page."""
    extra = {}
    rows = Source.objects.filter(incident_id__in=[r["id"] for r in results]).order_by("date", "id")
    for incident_id, *values in rows.values_list("incident_id", "source_type", "url", "date", "note"):
        extra.setdefault(incident_id, []).append(_source(*values))
    for result in results:
        primary = _source(result["source_type"], result["source_url"], None, "")
        result["sources"] = [primary, *extra.get(result["id"], [])]
    return results


def _source(source_type, url, date, note):
    return {"source_type": source_type, "url": url, "date": date and date.isoformat(), "note": note}


@public_data(cors=True)
def api_stats(request):
    """Counts per value of one dimension (`by`), or per pair of values of two (`by=month&by=outcome`)."""
    state = filter_incidents(request)
    fmt = request.GET.get("format", "json")
    try:
        dims = _dimensions(request.GET.getlist("by"))
    except BadParameter as bad:
        return _json_error(str(bad), {bad.name: [bad.message]})
    if fmt not in ("json", "csv"):
        return _json_error("format: choose json or csv.", {"format": ["Unknown value."]})
    if not state.valid:
        return _json_error(error_message(state.filterset), state.filterset.errors)
    rows = stats.stats_for(state, dims[0]) if len(dims) == 1 else stats.crosstab_for(state, *dims)
    if fmt == "csv":
        return _stats_csv(rows, dims)
    return JsonResponse({"by": dims, "as_of": as_of(request).isoformat(), "results": rows})


@public_data(cors=True)
def api_reference_figures(request):
    """The figures others published that the filters cover, each beside our count (comparison.py)."""
    state = filter_incidents(request)
    if not state.valid:
        return _json_error(error_message(state.filterset), state.filterset.errors)
    rows = comparison.figures_for(state)
    results = [comparison.as_json(row, request) for row in rows]
    return JsonResponse({"as_of": as_of(request).isoformat(), "results": results})


@public_data
def data_dictionary(request):
    return render(request, "incidents/data_dictionary.html", dictionary.context(request))


# --- helpers -----------------------------------------------------------------


def _database_answers(alias):
    """Raises the database's error (a 503, see middleware.py) when it is gone."""
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT 1")


def _json_error(message, errors):
    parameters = {name: [str(m) for m in messages] for name, messages in errors.items()}
    return JsonResponse({"error": message, "parameters": parameters}, status=400)


def _flag(params, name):
    value = params.get(name, "").strip().lower()
    if value not in TRUE + FALSE:
        raise BadParameter(name, "must be 1 or 0.")
    return value in TRUE


def _limit(value):
    if value in (None, ""):
        return DEFAULT_LIMIT
    # isdigit() alone would accept other scripts' digits, which int() reads too.
    if not re.fullmatch(r"[0-9]{1,4}", value) or not 1 <= int(value) <= MAX_LIMIT:
        raise BadParameter("limit", f"must be a whole number from 1 to {MAX_LIMIT}.")
    return int(value)


def _cursor(token, sort_key):
    """The cursor to start after, None for the first page; the API only pages forward."""
    if not token:
        return None
    try:
        cursor = cursors.decode(token, sort_key)
        if cursor.direction == "next":
            return cursor
    except cursors.BadCursor:
        pass
    raise BadParameter("cursor", "is not one this API gave for this ordering; start again without it.")


def _next_url(request, cursor):
    params = request.GET.copy()
    params["cursor"] = cursor
    return request.build_absolute_uri(f"{request.path}?{params.urlencode()}")


def _dimensions(values):
    """One or two known, different dimensions for /api/stats/."""
    known = ", ".join(stats.DIMENSIONS)
    if not 1 <= len(values) <= 2 or any(value not in stats.DIMENSIONS for value in values):
        raise BadParameter("by", f"give one or two of {known}.")
    if len(set(values)) != len(values):
        raise BadParameter("by", "give two different dimensions for a cross-tab.")
    return values


def _stats_csv(rows, dims):
    """One column per key and label ("key", "label" for one dimension), then the counts."""
    text = ["key", "label"] if len(dims) == 1 else [c for by in dims for c in (by, f"{by}_label")]
    cells = [text + ["incidents", "people"]] + [
        [export.escape_formula(str(row[column])) for column in text] + [row["incidents"], row["people"]]
        for row in rows
    ]
    response = HttpResponse(export.csv_bytes(cells), content_type="text/csv; charset=utf-8")
    name = "-".join(dims)
    response["Content-Disposition"] = (
        f'attachment; filename="incidents-by-{name}-{timezone.now():%Y%m%d}.csv"'
    )
    return response
