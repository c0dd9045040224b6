"""The public report form (/report/): no account, no JavaScript, never cached.

A report is never public by itself: it waits in the moderation queue
(views/staff_reports.py) until a reviewer makes it an incident, attaches it to
one as a source, or rejects it. The page is left out of the public page cache
and carries no data-version validators (http.py): it holds a CSRF token of its
own, and a POST is never answered from a cache.
"""

from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from .. import services
from ..forms import ReportForm
from ..reports import address_hash, retry_at


@never_cache
@csrf_protect
def report_form(request):
    form = ReportForm(request.POST if request.method == "POST" else None)
    if form.is_bound:
        hashed = address_hash(request)
        retry = retry_at(hashed, timezone.now())
        if retry:
            return _too_many(request, retry)
        if form.is_spam:
            return redirect("report_sent")  # looks like success; nothing is stored
        if form.is_valid():
            services.submit_report(report=form.save(commit=False), address_hash=hashed)
            return redirect("report_sent")
    status = 400 if form.is_bound else 200
    return render(request, "incidents/report_form.html", {"form": form}, status=status)


@never_cache
def report_sent(request):
    return render(request, "incidents/report_sent.html")


def _too_many(request, retry):
    minutes = max(1, int((retry - timezone.now()).total_seconds() // 60) + 1)
    response = render(
        request, "429.html", {"retry_text": f"{retry:%Y-%m-%d %H:%M}", "minutes": minutes}, status=429
    )
    response["Retry-After"] = str(minutes * 60)
    return response
