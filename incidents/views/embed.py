"""/embed/<chart>/?<filters>: one dashboard chart alone, for other sites to put in a frame.

The only pages any site may frame: their own Content-Security-Policy says
`frame-ancestors *`, and X-Frame-Options is left off; every other page keeps
`frame-ancestors 'none'` and `X-Frame-Options: DENY` (settings.py).
"""

import functools

from django.conf import settings
from django.db.models import Max
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_exempt

from .. import charts
from ..cache import cached, public_page
from ..filters import error_message, filter_incidents
from ..models import Incident, today_utc


def frameable(view):
    """Lets any site frame the view's answers, cached ones included (public_page keeps no headers)."""

    @functools.wraps(view)
    @xframe_options_exempt
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Content-Security-Policy"] = settings.EMBED_CONTENT_SECURITY_POLICY
        return response

    return wrapper


@frameable
@public_page
def embed_chart(request, name):
    if name not in charts.EMBEDS:
        raise Http404("No such chart.")
    state = filter_incidents(request)
    context = {
        "name": name,
        "back_url": request.build_absolute_uri(reverse("dashboard") + state.queries["page"]),
    }
    if not state.valid:
        context["error"] = error_message(state.filterset)
        return render(request, "incidents/embed.html", context, status=400)
    context["chart"] = charts.one_chart(state, name, today=today_utc())
    context["as_of"] = data_as_of()
    return render(request, "incidents/embed.html", context)


def data_as_of():
    """When the public data last changed: the latest write to any incident, retractions included."""
    return cached("embed:as_of", (), lambda: Incident.objects.aggregate(latest=Max("updated_at"))["latest"])
