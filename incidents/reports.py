"""The public report form's hourly limit per address.

The address is read as the login throttle reads it (addresses.py, with
DJANGO_PROXY_COUNT), and only a keyed hash of it is kept, on the report,
until `manage.py purge_report_contacts` erases it a day later.
"""

import hashlib
import hmac

from django.conf import settings

from .addresses import client_address
from .limits import REPORT_WINDOW, REPORTS_PER_WINDOW
from .models import Report


def address_hash(request):
    address = client_address(request)
    return hmac.new(settings.SECRET_KEY.encode(), address.encode(), hashlib.sha256).hexdigest()


def retry_at(hashed, now):
    """None while this address may send another report; else the time from which it may."""
    recent = list(
        Report.objects.filter(address_hash=hashed, created_at__gt=now - REPORT_WINDOW)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:REPORTS_PER_WINDOW]
    )
    if len(recent) < REPORTS_PER_WINDOW:
        return None
    return recent[-1] + REPORT_WINDOW
