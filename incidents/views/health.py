"""A health check for load balancers, and the benchmark's trivial-view baseline.

It answers from the process alone, without the database or a template, so it
measures what Django and gunicorn cost on their own, and a load balancer keeps
routing to an app server while the database is briefly away (pages then answer
503 by themselves).
"""

from django.http import HttpResponse
from django.views.decorators.cache import never_cache


@never_cache
def healthz(request):
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")
