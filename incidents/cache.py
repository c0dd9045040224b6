"""A data version shared by every app server, bumped on every write.

Cached aggregates are keyed by this version, so any write (form, admin,
import, retraction, demo loader) makes every cached figure unreachable at once.
The cache is Django's database cache: per-process memory would let a second
gunicorn worker serve stale numbers.
"""

import hashlib

from django.core.cache import cache
from django.db import transaction

VERSION_KEY = "incidents:data-version"


def data_version():
    version = cache.get(VERSION_KEY)
    if version is None:
        version = 1
        cache.add(VERSION_KEY, version, timeout=None)
    return version


def bump_data_version():
    def bump():
        try:
            cache.incr(VERSION_KEY)
        except ValueError:
            cache.set(VERSION_KEY, 2, timeout=None)

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
