"""The reviewers' moderation queue of public reports (/staff/reports/).

Reviewers (and superusers) open a report, make it a new incident, attach it to
an existing one as another source, or reject it with a reason. Every action is a
services.py write, kept in the report's history.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .. import choices, services
from ..forms import AttachForm, RejectForm, ReportIncidentForm, report_initial
from ..matching import duplicates_of, possible_duplicates
from ..models import Report
from .staff import flag_duplicates, staff_only

VIEW_REPORT = "incidents.view_report"
CHANGE_REPORT = "incidents.change_report"
STATUSES = choices.ReportStatus


@staff_only(VIEW_REPORT)
def report_queue(request):
    status = request.GET.get("status", STATUSES.NEW)
    status = status if status in STATUSES.values else ""
    reports = Report.objects.select_related("courthouse__county")
    page = Paginator(reports.filter(status=status) if status else reports, 50).get_page(
        request.GET.get("page")
    )
    _flag_page(page)
    context = {"page": page, "status": status, "tabs": _tabs()}
    return render(request, "incidents/staff/report_queue.html", context)


def _tabs():
    counts = dict(Report.objects.values_list("status").annotate(n=Count("id")).order_by())
    return [(value, label, counts.get(value, 0)) for value, label in STATUSES.choices]


def _flag_page(page):
    """Each report's possible duplicates, for the whole page in one query."""
    found = possible_duplicates((r.courthouse_id, r.date) for r in page)
    for report in page:
        report.duplicates = found.get((report.courthouse_id, report.date), [])


@staff_only(VIEW_REPORT)
def report_detail(request, pk):
    report = get_object_or_404(Report.objects.select_related("courthouse__county", "incident"), pk=pk)
    return render(request, "incidents/staff/report_detail.html", _detail_context(report))


def _detail_context(report, **forms):
    history = report.history.select_related("history_user").order_by("-history_date", "-history_id")
    return {
        "report": report,
        "open": report.status in (STATUSES.NEW, STATUSES.IN_REVIEW),
        "duplicates": duplicates_of(report.courthouse_id, report.date),
        "history": history,
        "attach_form": forms.get("attach_form") or AttachForm(),
        "reject_form": forms.get("reject_form") or RejectForm(),
    }


@staff_only(CHANGE_REPORT)
@require_POST
def report_review(request, pk):
    get_object_or_404(Report, pk=pk)
    services.start_review(pk=pk, user=request.user)
    return redirect("report_detail", pk=pk)


@staff_only(CHANGE_REPORT)
def report_incident(request, pk):
    """The entry form, pre-filled from the report; saving accepts the report."""
    report = get_object_or_404(Report.objects.select_related("courthouse"), pk=pk)
    form = ReportIncidentForm(
        request.POST if request.method == "POST" else None, initial=report_initial(report), user=request.user
    )
    if form.is_bound and form.is_valid():
        try:
            incident = services.incident_from_report(
                incident=form.save(commit=False), report_pk=pk, user=request.user
            )
        except services.ClosedReport as closed:
            messages.error(request, str(closed))
            return redirect("report_detail", pk=pk)
        messages.success(request, _("Saved incident %(ref)s from the report.") % {"ref": incident.reference})
        flag_duplicates(request, incident)
        return redirect(incident)
    return render(request, "incidents/staff/incident_form.html", {"form": form, "report": report})


@staff_only(CHANGE_REPORT)
@require_POST
def report_attach(request, pk):
    report = get_object_or_404(Report.objects.select_related("courthouse__county", "incident"), pk=pk)
    form = AttachForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "incidents/staff/report_detail.html",
            _detail_context(report, attach_form=form),
            status=400,
        )
    incident = form.cleaned_data["reference"]
    return _closing(
        request,
        pk,
        services.attach_report,
        report_pk=pk,
        incident_pk=incident.pk,
        note=form.cleaned_data["note"],
    )


@staff_only(CHANGE_REPORT)
@require_POST
def report_reject(request, pk):
    report = get_object_or_404(Report.objects.select_related("courthouse__county", "incident"), pk=pk)
    form = RejectForm(request.POST)
    if not form.is_valid() or not form.cleaned_data["reason"].strip():
        form.add_error("reason", _("A rejection needs a reason."))
        return render(
            request,
            "incidents/staff/report_detail.html",
            _detail_context(report, reject_form=form),
            status=400,
        )
    return _closing(request, pk, services.reject_report, pk=pk, reason=form.cleaned_data["reason"])


def _closing(request, report_pk, action, /, **kwargs):
    try:
        action(user=request.user, **kwargs)
    except services.ClosedReport as closed:
        messages.error(request, str(closed))
    else:
        messages.success(request, _("Report #%(pk)d is closed.") % {"pk": report_pk})
    return redirect("report_detail", pk=report_pk)
