"""A data version shared by every app server, bumped on every write.

Cached aggregates are keyed by this version, so any write (form, admin,
import, retraction, demo loader) makes every cached figure unreachable at once.
The cache is Django's database cache: per-process memory would let a second
gunicorn worker serve stale numbers.

One exception, which cannot go stale: a page already read from that shared
cache is also kept in the reading process (LocalPages), under the same key. That
key names the data version, which is read from the shared cache on every
request; after a write, every process looks up a new key. The copy saves
reading and unzipping the page again from the database on every hit.
"""

import hashlib
import threading
import time
from collections import OrderedDict

from django.core.cache import cache
from django.db import transaction

VERSION_KEY = "incidents:data-version"


def _fresh_version():
    # Should the version key ever be culled, a new one must not meet old entries.
    return time.time_ns()


def data_version():
    version = cache.get(VERSION_KEY)
    if version is None:
        version = _fresh_version()
        if not cache.add(VERSION_KEY, version, timeout=None):
            version = cache.get(VERSION_KEY, version)
    return version


def bump_data_version():
    """Called on every write. The database cache shares the write's transaction, so the
    new version appears exactly when the data does; bumping again after the commit
    also retires anything a reader cached while the transaction was open."""

    def bump():
        try:
            cache.incr(VERSION_KEY)
        except ValueError:
            cache.set(VERSION_KEY, _fresh_version(), timeout=None)

    bump()
    transaction.on_commit(bump)


def cached(name, params, compute):
    """compute() once per (name, params, data version), shared by all servers."""
    digest = hashlib.sha256(repr(params).encode()).hexdigest()[:32]
    key = f"incidents:{name}:{data_version()}:{digest}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value)
    return value


def _anonymous_without_state(request):
    """A visitor whose page cannot differ from anyone else's: no session, no messages."""
    from django.conf import settings

    cookies = request.COOKIES
    return (
        settings.PUBLIC_PAGE_CACHE
        and request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in cookies
        and "messages" not in cookies
    )


class LocalPages:
    """A few pages, by their version-naming key, kept no longer than the shared cache keeps them."""

    def __init__(self, size=32):
        self.size, self.pages, self.lock = size, OrderedDict(), threading.Lock()

    def get(self, key):
        with self.lock:
            found = self.pages.get(key)
            if found is None:
                return None
            if found[0] < time.monotonic():
                del self.pages[key]
                return None
            self.pages.move_to_end(key)
            return found[1]

    def set(self, key, value):
        from django.conf import settings

        expires = time.monotonic() + settings.CACHES["default"].get("TIMEOUT", 300)
        with self.lock:
            self.pages[key] = (expires, value)
            self.pages.move_to_end(key)
            while len(self.pages) > self.size:
                self.pages.popitem(last=False)

    def clear(self):
        with self.lock:
            self.pages.clear()


local_pages = LocalPages()


def public_page(view):
    """Serve a public page from the shared cache while no write has happened.

    Anonymous visitors without a session all see the same page for the same
    address, so the rendered response is kept per (data version, path, query,
    language); any write bumps the version, so a cached page is never stale.
    A hit is two small queries and no rendering. Pages are kept gzipped: a
    fifth of the bytes to read back, and sent as they are to browsers.
    """
    import functools
    import gzip

    from django.http import HttpResponse
    from django.utils import translation
    from django.utils.cache import patch_vary_headers
    from django.utils.text import compress_string

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not _anonymous_without_state(request):
            return view(request, *args, **kwargs)
        # "page.gz": entries of the format before pages were stored gzipped are not read.
        key = _page_key(("page.gz", request.get_full_path(), translation.get_language()))
        found = local_pages.get(key)
        if found is None:
            found = cache.get(key)
            if found is None:
                response = view(request, *args, **kwargs)
                if response.status_code in (200, 400) and not response.cookies and not response.streaming:
                    packed = compress_string(response.content)
                    cache.set(key, (response.status_code, response["Content-Type"], packed))
                return response
            # (status, content type, gzipped, plain): unzipped once per process.
            found = (*found, gzip.decompress(found[2]))
            local_pages.set(key, found)
        status, content_type, packed, plain = found
        if "gzip" in request.META.get("HTTP_ACCEPT_ENCODING", ""):
            response = HttpResponse(packed, status=status, content_type=content_type)
            response["Content-Encoding"] = "gzip"
        else:
            response = HttpResponse(plain, status=status, content_type=content_type)
        patch_vary_headers(response, ["Accept-Encoding"])
        return response

    return wrapper


def _page_key(params):
    digest = hashlib.sha256(repr(params).encode()).hexdigest()[:32]
    return f"incidents:page:{data_version()}:{digest}"
