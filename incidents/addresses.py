"""The client's address, as the login throttle (django-axes) and the report form's
hourly limit both count it.

Without proxies (DJANGO_PROXY_COUNT=0) it is REMOTE_ADDR, and X-Forwarded-For is
ignored: a client can write anything there. Behind N proxies, each appends the
address it received from, so the client is the Nth entry from the right; the
entries to its left may be forged and are never read.
"""

from django.conf import settings


def client_address(request):
    count = getattr(settings, "PROXY_COUNT", 0)
    remote = request.META.get("REMOTE_ADDR", "")
    if not count:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    return forwarded[-count] if len(forwarded) >= count else remote
