"""HTTP for public data: "as of" times, Last-Modified and ETag, 304 answers, and CORS.

Every public view is wrapped by `public_data`, so
there is one place where the headers are decided. The data version
(cache.DataVersion) changes on every public write; a response's ETag is that
version with the address and the language, its Last-Modified the time the
version last changed. A request whose If-None-Match (or, without one,
If-Modified-Since) still matches gets 304 before the view runs: no page is built
and no cached page is read, only the version (one small query).

Only visitors without a session are answered this way, as cache.public_page
serves only them: a signed-in person's page differs (their menu, a CSRF token),
and staff pages never carry these headers.
"""

import functools
import hashlib

from django.utils import translation
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date

from .cache import data_state, shared_request
from .dateformats import short_date

CORS_HEADERS = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "ETag"}


def as_of(request=None):
    """When the public data last changed (aware, UTC)."""
    return data_state(request).changed_at


def as_of_text(moment):
    """ "30 Nov 2026, 20:31 UTC": the form pages and chart source lines print."""
    return f"{short_date(moment)}, {moment:%H:%M} UTC"


def public_data(view=None, *, cors=False):
    """Decorator: Last-Modified, ETag and 304s from the data version; `cors` for programs' endpoints."""
    if view is None:
        return functools.partial(public_data, cors=cors)

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        request.public_data = True  # pages show "Data as of" (context_processors.py)
        if not shared_request(request):
            return _with_cors(view(request, *args, **kwargs), cors)
        state = data_state(request)
        etag, modified = _etag(request, state.version), int(state.changed_at.timestamp())
        response = get_conditional_response(request, etag=etag, last_modified=modified)
        if response is None:
            response = view(request, *args, **kwargs)
        if getattr(response, "stale_page", False):
            patch_cache_control(response, no_cache=True)  # kept by no one: a newer page is being built
        elif response.status_code in (200, 304) and not response.cookies:
            _validators(response, etag, modified)
        return _with_cors(response, cors)

    return wrapper


def _etag(request, version):
    """Weak: the same data gzipped or not. The full address, as every parameter may shape the body."""
    address = (version, request.get_full_path(), translation.get_language())
    return 'W/"' + hashlib.sha256(repr(address).encode()).hexdigest()[:32] + '"'


def _validators(response, etag, modified):
    response["ETag"] = etag
    patch_vary_headers(response, ["Cookie"])  # a signed-in visitor's page differs
    response["Last-Modified"] = http_date(modified)  # over the feed's own, which is older
    # Stored by browsers and proxies, but asked again each time: a write shows at once.
    patch_cache_control(response, public=True, max_age=0, must_revalidate=True)


def any_site(view):
    """Decorator: any site's scripts may read the answers (a release's files, say)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        return _with_cors(view(request, *args, **kwargs), True)

    return wrapper


def _with_cors(response, cors):
    if cors:
        for name, value in CORS_HEADERS.items():
            response[name] = value
    return response
