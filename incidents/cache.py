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
import functools
import gzip
import hashlib
import logging
import secrets
import threading
import time
from collections import OrderedDict
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.http import HttpResponse
from django.utils import timezone, translation

from .filters import normalise

logger = logging.getLogger(__name__)


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
        value = single_flight(key, compute)
    return value


# How long a recomputation may hold its lock (a worker that dies frees it then), and
# how long another request waits for it before computing the figure itself.
LOCK_SECONDS = 30
WAIT_SECONDS = 10
POLL_SECONDS = 0.02


def single_flight(key, compute, stale_key=None, lock=None):
    """The value under `key`, computed by one request at a time across every server.

    The request that takes the lock (an atomic cache.add) computes; the others wait
    for its result, or, when `stale_key` holds an earlier value, answer that at once
    (stale while revalidating). By default the lock is the key's own (one data
    version); a page passes its address's lock, whatever the version, so that while
    writes come faster than one rebuild, one request rebuilds and the next takes over
    when it ends, rather than one per write. A lock that outlives WAIT_SECONDS (its
    holder died or is stuck) holds no one back.
    """
    lock = lock or f"{key}:lock"
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if cache.add(lock, 1, LOCK_SECONDS):
            return _compute_and_store(key, compute, stale_key, lock)
        found = cache.get(stale_key) if stale_key else None
        if found is not None:
            return found
        pause()
        found = cache.get(key)
        if found is not None:
            return found
    return _compute_and_store(key, compute, stale_key, None)


def _compute_and_store(key, compute, stale_key, lock):
    try:
        value = compute()
        if value is not None:
            cache.set(key, value)
            if stale_key:
                cache.set(stale_key, value)
        return value
    finally:
        if lock:
            cache.delete(lock)


def pause():
    time.sleep(POLL_SECONDS)


def shared_request(request):
    """A read by a visitor whose page cannot differ from anyone else's: no session, no messages."""
    cookies = request.COOKIES
    return (
        request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in cookies
        and "messages" not in cookies
    )


def _anonymous_without_state(request):
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
        expires = time.monotonic() + settings.CACHES["default"].get("TIMEOUT", 300)
        with self.lock:
            self.pages[key] = (expires, value)
            self.pages.move_to_end(key)
            while len(self.pages) > self.size:
                self.pages.popitem(last=False)

    def clear(self):
        with self.lock:
            self.pages.clear()


local_pages = LocalPages(size=64)  # pages of this version and the latest of each address


def public_page(view):
    """Serve a public page from the shared cache while no write has happened.

    Anonymous visitors without a session all see the same page for the same
    address, so the rendered response is kept per (data version, path, query,
    language); any write bumps the version, so a cached page is never stale.
    A hit is two small queries and no rendering. Pages are kept gzipped: a
    fifth of the bytes to read back, and sent as they are to browsers.

    After a write, one request rebuilds a page; the others meanwhile get the page as it
    was before the write, never a wait behind the rebuild (_Page).
    """
    from django.utils.cache import patch_vary_headers

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not _anonymous_without_state(request):
            return view(request, *args, **kwargs)
        page = _Page(view, request, args, kwargs)
        found = local_pages.get(page.key) or page.shared()
        if isinstance(found, HttpResponse):  # built by this request
            return found
        status, content_type, packed, version, plain = found
        if "gzip" in request.META.get("HTTP_ACCEPT_ENCODING", ""):
            response = HttpResponse(packed, status=status, content_type=content_type)
            response["Content-Encoding"] = "gzip"
        else:
            response = HttpResponse(plain, status=status, content_type=content_type)
        patch_vary_headers(response, ["Accept-Encoding"])
        # The page as it was before a write, answered while it is rebuilt: no validator
        # of the current version may be sent with it (http.public_data).
        response.stale_page = version != data_version(request)
        if page.rebuild_after:
            # Run by the server once the response is sent (HttpResponse.close()), so that
            # no visitor waits for the rebuild, not even the one who asked for it.
            response._resource_closers.append(page.rebuild)
        return response

    return wrapper


class _Page:
    """One public page of one request: the shared cache's copy, the latest one while it is
    rebuilt, or the response this request builds.

    One query asks for the page, the rebuild's lock and the version of the latest page.
    When the page must be rebuilt, the latest one is answered at once by every request
    while another holds the lock. When none does and the latest page was built at most
    PAGE_STALE_SECONDS ago (writes come often), the request that takes the lock answers
    it too and rebuilds the page after its response is sent, once the latest page is
    PAGE_REBUILD_SECONDS old: under a stream of writes, a page is rebuilt at most that
    often. After a quiet spell, the request builds the page first, so that a lone write
    shows to the next visitor. This process keeps its own copy of the latest page and
    answers it while its version is the latest: nothing read, unzipped or written. Pages
    are kept as (status, content type, gzipped, version) and held here with the unzipped
    text too.
    """

    def __init__(self, view, request, args, kwargs):
        self.view, self.request, self.args, self.kwargs = view, request, args, kwargs
        self.language = translation.get_language()
        self.key, self.latest = _page_keys(request, self.language)
        self.lock, self.marker = _page_lock(self.latest), f"{self.latest}:version"
        self.rebuild_after = False

    def shared(self):
        found = cache.get_many([self.key, self.lock, self.marker])
        if self.key in found:
            page = _unpacked(found[self.key])
            local_pages.set(self.key, page)
            return page
        version, built_at = found.get(self.marker, (None, 0))
        stale = self.latest_page(version)
        if stale is not None and self.lock in found:
            return stale  # another request is rebuilding it
        age = time.time() - built_at
        if stale is not None and age <= settings.PAGE_STALE_SECONDS:
            # Rebuilt by this request after its answer, unless another one took the lock or
            # the latest page is younger than PAGE_REBUILD_SECONDS.
            if age >= settings.PAGE_REBUILD_SECONDS:
                self.rebuild_after = cache.add(self.lock, 1, LOCK_SECONDS)
            return stale
        built = []
        page = single_flight(self.key, functools.partial(self.build, built), self.latest, self.lock)
        return built[0] if built else _unpacked(page)

    def latest_page(self, version):
        """The latest page: this process's copy if it is that version, else the shared one."""
        stale = local_pages.get(self.latest)
        if stale is None or stale[3] != version:
            stale = _unpacked(cache.get(self.latest))
            if stale is not None:
                local_pages.set(self.latest, stale)
        return stale

    def build(self, built):
        page = _build_page(self.view, self.request, self.args, self.kwargs, built)
        if page is not None:
            cache.set(self.marker, (page[3], time.time()))
        return page

    def rebuild(self):
        try:
            with translation.override(self.language):
                _compute_and_store(self.key, functools.partial(self.build, []), self.latest, self.lock)
        except Exception:  # the response is sent; nothing else would tell of it
            logger.exception("rebuilding %s failed", self.request.path)


def _unpacked(page):
    """A cached page with its unzipped text (unzipped once per process), or None."""
    return None if page is None else (*page, gzip.decompress(page[2]))


def _build_page(view, request, args, kwargs, built):
    """The view's response (kept in `built`), and what the cache keeps of it, if anything."""
    from django.utils.text import compress_string

    response = view(request, *args, **kwargs)
    built.append(response)
    # Never an error page: each junk address would take a place of its own.
    if response.status_code == 200 and not response.cookies and not response.streaming:
        packed = compress_string(response.content)
        return (response.status_code, response["Content-Type"], packed, data_version(request))
    return None


def _page_keys(request, language):
    """One key per page a visitor can see: the path, the filters in their canonical form
    (unknown parameters dropped, see filters.normalise), the page link and the language;
    and the key of the latest version of that page, answered while it is rebuilt.
    "page.v": entries of an earlier format (without their version) are not read."""
    address = (request.path, list(normalise(request.GET).lists()), request.GET.get("cursor", "").strip())
    digest = hashlib.sha256(repr(("page.v", address, language)).encode()).hexdigest()[:32]
    return f"incidents:page:{data_version(request)}:{digest}", f"incidents:page:latest:{digest}"


def _page_lock(latest):
    return f"{latest}:lock"
