"""The language switcher, and the JavaScript strings of the visitor's language.

Every page for people is in English without a prefix and in Spanish under /es/
(tracker/urls.py). The switcher's links lead here: the choice is remembered in a
cookie, so that the dashboard at / no longer follows the browser's Accept-Language
(middleware.FirstVisitLanguageMiddleware), and the visitor lands on the same page,
with the same filters, in the language chosen.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse, translate_url
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language_from_path
from django.views.decorators.cache import cache_control
from django.views.decorators.http import last_modified
from django.views.i18n import JavaScriptCatalog

LANGUAGE_CODES = {code for code, _name in settings.LANGUAGES}
# The catalogue changes only with a deployment, which restarts the process.
STARTED = timezone.now().replace(microsecond=0)


def switch_language(request, code):
    if code not in LANGUAGE_CODES:
        raise Http404("no such language")
    target = _same_page(request.GET.get("next", ""), code)
    response = HttpResponseRedirect(target)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        code,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=True,
    )
    return response


def _same_page(address, code):
    """`address` (a path with its query) in language `code`; the dashboard for anything
    that is not an address of this site."""
    safe = url_has_allowed_host_and_scheme(address, allowed_hosts=None) and address.startswith("/")
    address = address if safe else "/"
    # The address is resolved in its own language (/es/... in Spanish), then reversed in `code`.
    with translation.override(get_language_from_path(address) or settings.LANGUAGE_CODE):
        return translate_url(address, code)


def language_links(request):
    """(code, name, link to this page in that language, address of this page in it)
    for each language: the switcher's links and the page's hreflang alternates."""
    here = request.get_full_path()
    return [
        (
            code,
            name,
            reverse("switch_language", args=[code]) + "?" + urlencode({"next": here}),
            translate_url(here, code),
        )
        for code, name in settings.LANGUAGES
    ]


def _started(request, *args, **kwargs):
    return STARTED


@cache_control(public=True, max_age=3600)
@last_modified(_started)
def javascript_catalog(request):
    """gettext() for static/js, in the language of the address (/es/jsi18n/)."""
    return JavaScriptCatalog.as_view()(request)
