"""Autocompletes for the filter form and the staff forms: courthouses and counties,
both answering {"results": [{"value", "label"}]}."""

import re

from django.db.models import Q
from django.http import JsonResponse
from django.utils.translation import gettext as _

from ..filters import MAX_VALUES
from ..models import (
    County,
    Courthouse,
    State,
)

AUTOCOMPLETE_MAX = 20


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
