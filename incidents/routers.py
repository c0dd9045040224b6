"""Anonymous public reads on a streaming replica, everything else on the primary.

Installed only when DATABASE_REPLICA_URL is set (tracker/settings.py). Whether a
request may read the replica is decided once per request by
ReplicaPinningMiddleware and kept in a context variable: outside a request
(management commands, imports, tests) every read stays on the primary.
"""

import contextvars
import time

from django.conf import settings
from django.core.cache import cache

from .cache import data_version

REPLICA = "replica"
PRIMARY = "default"
# Set after any write, so that the writer's next pages come from the primary
# until the replica has surely caught up.
PIN_COOKIE = "tracker_primary"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

replica_allowed = contextvars.ContextVar("replica_allowed", default=False)

# The shared cache and sessions are written by every worker and read back at once:
# a lagging replica would miss what another worker has just stored.
PRIMARY_ONLY_APPS = {"django_cache", "sessions"}


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if replica_allowed.get() and model._meta.app_label not in PRIMARY_ONLY_APPS:
            return REPLICA
        return PRIMARY

    def db_for_write(self, model, **hints):
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        # Both aliases hold the same data.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # A replica is read-only; it receives the primary's schema by replication.
        return db == PRIMARY


def may_read_replica(request):
    """An anonymous visitor's safe request, with no write of theirs or anyone's in the last seconds."""
    if request.method not in SAFE_METHODS or PIN_COOKIE in request.COOKIES:
        return False
    return not request.user.is_authenticated and not written_lately()


def written_lately():
    """Whether the current data version is younger than DATABASE_REPLICA_PIN_SECONDS.

    Pages and figures are cached by data version (incidents/cache.py): one computed
    from a replica that has not yet replayed the latest write would be kept under the
    new version until the next write. The first request to see a version notes when.
    """
    key = f"incidents:replica-pin:{data_version()}"
    cache.add(key, time.time())
    return time.time() - cache.get(key, 0) < settings.DATABASE_REPLICA_PIN_SECONDS


class ReplicaPinningMiddleware:
    """Chooses the database of each request's reads and pins writers to the primary.

    Staff always read the primary, so replication lag can never show them an
    older version of what they have just saved. Anyone who writes (a public
    report, a login) gets a short-lived cookie that keeps them on the primary
    for DATABASE_REPLICA_PIN_SECONDS, and after any write everyone reads the
    primary for as long.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = replica_allowed.set(may_read_replica(request))
        try:
            response = self.get_response(request)
        finally:
            replica_allowed.reset(token)
        if request.method not in SAFE_METHODS:
            response.set_cookie(
                PIN_COOKIE,
                "1",
                max_age=settings.DATABASE_REPLICA_PIN_SECONDS,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response
