"""A data version shared by every app server, changed on every write.

Cached aggregates and pages are keyed by this version, so any write (form,
admin, import, retraction, demo loader) makes every cached figure unreachable at
once. The version is a row in the database (models.DataVersion), where no
cache cull can reach it: a flood of cached entries can evict pages, never the
version. The cache itself is settings.CACHES["default"]: on PostgreSQL the
database cache shared by every app server; on SQLite, which serves from one
machine, each process's own memory, so that an anonymous read never writes
to the database (see README, "Limits").

A page already read from the shared cache is also kept in the reading process
(LocalPages), under the same key. That key names the data version, which is
read from the database on every request; after a write, every process looks up
a new key. The copy saves reading and unzipping the page on every hit.
"""

import datetime
import hashlib
import secrets
import threading
import time
from collections import OrderedDict
from typing import NamedTuple

from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from .filters import normalise


def _fresh_version():
    # Random rather than counted: a version must never meet entries cached under an
    # earlier identical number (after a restore, or a test's rolled-back write).
    return secrets.randbits(62)


class DataState(NamedTuple):
    version: int
    changed_at: datetime.datetime  # aware, UTC


def data_state(request=None):
    """The data version and when it changed, read once per request when one is given."""
    found = getattr(request, "_data_state", None)
    if found is None:
        found = _read_state()
        if request is not None:
            request._data_state = found
    return found


def data_version(request=None):
    return data_state(request).version


def _read_state():
    from .models import DataVersion

    # Plain SQL: read on every request, and the ORM would cost more than the query.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT value, changed_at FROM {DataVersion._meta.db_table} WHERE id = 1")
        found = cursor.fetchone()
    if not found:
        return _bump()
    value, changed_at = found
    if isinstance(changed_at, str):  # SQLite without its converter (e.g. a raw connection)
        changed_at = datetime.datetime.fromisoformat(changed_at)
    if changed_at.tzinfo is None:  # SQLite keeps UTC without a zone
        changed_at = changed_at.replace(tzinfo=datetime.UTC)
    return DataState(value, changed_at)


def _bump():
    from .models import DataVersion

    state = DataState(_fresh_version(), timezone.now())
    if not DataVersion.objects.filter(pk=1).update(value=state.version, changed_at=state.changed_at):
        row = DataVersion(pk=1, value=state.version, changed_at=state.changed_at)
        DataVersion.objects.bulk_create([row], ignore_conflicts=True)
    return state


def bump_data_version():
    """Called on every write. The row is changed in the write's transaction, so the new
    version appears exactly when the data does; changing it again after the commit
    also retires anything a reader cached while the transaction was open."""
    _bump()
    transaction.on_commit(_bump)


def cached(name, params, compute):
    """compute() once per (name, params, data version), shared by all servers."""
    digest = hashlib.sha256(repr(params).encode()).hexdigest()[:32]
    key = f"incidents:{name}:{data_version()}:{digest}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value)
    return value


def shared_request(request):
    """A read by a visitor whose page cannot differ from anyone else's: no session, no messages."""
    from django.conf import settings

    cookies = request.COOKIES
    return (
        request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in cookies
        and "messages" not in cookies
    )


def _anonymous_without_state(request):
    from django.conf import settings

    return settings.PUBLIC_PAGE_CACHE and shared_request(request)


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
        key = _page_key(request, translation.get_language())
        found = local_pages.get(key)
        if found is None:
            found = cache.get(key)
            if found is None:
                response = view(request, *args, **kwargs)
                # Never an error page: each junk address would take a place of its own.
                if response.status_code == 200 and not response.cookies and not response.streaming:
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


def _page_key(request, language):
    """One key per page a visitor can see: the path, the filters in their canonical form
    (unknown parameters dropped, see filters.normalise), the page link and the language.
    "page.gz": entries of the format before pages were stored gzipped are not read."""
    address = (request.path, list(normalise(request.GET).lists()), request.GET.get("cursor", "").strip())
    digest = hashlib.sha256(repr(("page.gz", address, language)).encode()).hexdigest()[:32]
    return f"incidents:page:{data_version(request)}:{digest}"
