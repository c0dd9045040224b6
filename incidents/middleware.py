import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseRedirect
from django.middleware.gzip import GZipMiddleware
from django.template.loader import render_to_string
from django.urls import translate_url
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_supported_language_variant
from django.utils.translation.trans_real import parse_accept_lang_header

log = logging.getLogger("incidents.database")


class CompressPagesMiddleware(GZipMiddleware):
    """gzip for pages and JSON, but not for streamed exports.

    A CSV export of a million rows would spend seconds of server CPU on
    compression; it streams as it is. (Django masks the CSRF token in every
    response, which is what keeps compressed pages safe from BREACH.)
    """

    def process_response(self, request, response):
        if response.streaming:
            return response
        return super().process_response(request, response)


class ContentSecurityPolicyMiddleware:
    """Adds the policy of settings.CONTENT_SECURITY_POLICY to every response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response


class DatabaseUnavailableMiddleware:
    """A 503 page and one log line when the database cannot be reached.

    Django closes a broken connection at the end of the request, so the next
    request reconnects by itself once the database is back.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        first_line = (str(exception).strip().splitlines() or [type(exception).__name__])[0]
        log.error("database unavailable: %s %s: %s", request.method, request.path, first_line)
        # Rendered without context processors: they would query the database again.
        response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = "30"
        return response


class FirstVisitLanguageMiddleware:
    """A first-time visitor arriving at the dashboard whose browser prefers Spanish
    is sent to /es/. Only there, and only without a language chosen before (the
    switcher's cookie, views/language.py): every other address names its language."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path != "/" or request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        chosen = _preferred_language(request)
        if chosen == settings.LANGUAGE_CODE:
            response = self.get_response(request)
        else:
            response = HttpResponseRedirect(translate_url(request.get_full_path(), chosen))
        patch_vary_headers(response, ["Accept-Language", "Cookie"])
        return response


def _preferred_language(request):
    """The language chosen with the switcher, else the browser's first supported one."""
    remembered = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if remembered in dict(settings.LANGUAGES):
        return remembered
    for accepted, _quality in parse_accept_lang_header(request.META.get("HTTP_ACCEPT_LANGUAGE", "")):
        if accepted == "*":
            break
        try:
            return get_supported_language_variant(accepted)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE
