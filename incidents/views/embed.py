"""/embed/<chart>/?<filters>: one dashboard chart alone, for other sites to put in a frame.

The only pages any site may frame: their own Content-Security-Policy says
`frame-ancestors *`, and X-Frame-Options is left off; every other page keeps
`frame-ancestors 'none'` and `X-Frame-Options: DENY` (settings.py).
"""

import functools

from django.conf import settings
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_exempt

from .. import charts
from ..cache import public_page
from ..filters import error_message, filter_incidents
from ..http import public_data
from ..models import today_utc


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
@public_data
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
    # Its source line says what the data is as of (charts.source_line).
    context["chart"] = charts.one_chart(state, name, today=today_utc())
    return render(request, "incidents/embed.html", context)
