"""Staff pages: entry, correction, review and retraction, import, courthouses, history.

Every view checks its permission on the server through `staff_only`: an anonymous
visitor is sent to sign in, a signed-in user without the permission gets 403.
Court administrators add and change incidents and courthouses and import, inside
their jurisdictions only (permissions.py), and withdraw their own entries for a
day; reviewers set verification, retract and restore; superusers do everything.
"""

import datetime
from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .. import choices, services
from ..forms import (
    CourthouseForm,
    IncidentEditForm,
    IncidentForm,
    MergeForm,
    RedactForm,
    RetractForm,
    SourceForm,
    VerificationForm,
)
from ..history import STAFF_FIELDS, field_changes
from ..matching import duplicates_of
from ..models import (
    REDACTABLE_FIELDS,
    SLUG,
    STAFF_ONLY_FIELDS,
    Incident,
    RetractionRequest,
    Source,
    display_text,
)
from ..permissions import may_withdraw, may_write, write_scope

ADD = "incidents.add_incident"
CHANGE = "incidents.change_incident"
VIEW = "incidents.view_incident"
REVIEW = "incidents.review_incident"
RETRACT = "incidents.retract_incident"
ADD_COURTHOUSE = "incidents.add_courthouse"
IMPORT = (ADD, CHANGE, ADD_COURTHOUSE)


def staff_only(*perms, any_of=False):
    """Sign-in first, then every permission of `perms` (or one of them, with any_of)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            allowed = any(map(user.has_perm, perms)) if any_of else user.has_perms(perms)
            if not allowed:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


# Entry and correction -------------------------------------------------------


@staff_only(ADD)
def incident_create(request):
    form = IncidentForm(_posted(request), initial=_repeat_initial(request.GET), user=request.user)
    if form.is_bound and form.is_valid():
        draft = "save_draft" in request.POST
        incident = services.create_incident(incident=form.save(commit=False), user=request.user, draft=draft)
        messages.success(request, _saved_message(incident))
        flag_duplicates(request, incident)
        if "add_another" in request.POST:
            return redirect(_add_another_url(incident))
        return redirect(_staff_page(incident))
    return render(request, "incidents/staff/incident_form.html", {"form": form})


@staff_only(CHANGE)
def incident_edit(request, pk):
    incident = get_object_or_404(Incident.objects.select_related("courthouse__county"), pk=pk)
    if not may_write(request.user, incident):
        return outside_jurisdiction(request, incident)
    form = IncidentEditForm(_posted(request), instance=incident, user=request.user)
    if form.is_bound and form.is_valid():
        publish = "publish" in request.POST and incident.is_draft
        if not publish and not set(form.changed_data) - {"public_note"}:
            messages.info(request, _("Nothing changed."))
            return redirect(_staff_page(incident))
        try:
            services.update_incident(
                incident=form.save(commit=False),
                expected_version=form.cleaned_data["version"],
                user=request.user,
                note=form.cleaned_data["public_note"],
                publish=publish,
            )
        except services.EditConflict as conflict:
            return _conflict(request, form, conflict.saved)
        messages.success(request, _saved_message(incident, corrected=not publish))
        return redirect(_staff_page(incident))
    return render(request, "incidents/staff/incident_form.html", {"form": form, "incident": incident})


def _saved_message(incident, corrected=False):
    if incident.is_draft:
        return _("Saved %(ref)s as a draft: no visitor can see it until it is published.") % {
            "ref": incident.reference
        }
    if corrected:
        return _("Saved the correction to %(ref)s.") % {"ref": incident.reference}
    return _("Saved incident %(ref)s.") % {"ref": incident.reference}


def outside_jurisdiction(request, incident):
    """403 with the reason: the incident's courthouse is not in the user's jurisdictions."""
    context = {"incident": incident, "places": write_scope(request.user).names()}
    return render(request, "incidents/staff/outside_jurisdiction.html", context, status=403)


def flag_duplicates(request, incident):
    """A warning naming each published incident at the same courthouse within a day, linked to
    its review page for those who may merge, else to its public page."""
    page = "incident_review" if may_review(request.user) else "incident_detail"
    for pk, reference in duplicates_of(incident.courthouse_id, incident.date, exclude=[incident.pk]):
        link = format_html('<a href="{}">{}</a>', reverse(page, args=[pk]), reference)
        messages.warning(request, format_html(_("Possible duplicate of {}."), link))


def may_review(user):
    """Whether `user` may open an incident's review page (and merge from it)."""
    return user.has_perm(REVIEW) or user.has_perm(RETRACT)


def _posted(request):
    return request.POST if request.method == "POST" else None


def _repeat_initial(params):
    """Courthouse and date carried over by "save and add another"."""
    initial = {}
    if SLUG.fullmatch(params.get("courthouse", "")):
        initial["courthouse"] = params["courthouse"]
    try:
        initial["date"] = datetime.date.fromisoformat(params.get("date", ""))
    except ValueError:
        pass
    return initial


def _add_another_url(incident):
    query = urlencode({"courthouse": incident.courthouse.slug, "date": incident.date.isoformat()})
    return f"{reverse('incident_create')}?{query}"


def _staff_page(incident):
    """The public page while published; a draft its form; a retracted incident the review page."""
    if incident.is_published:
        return incident.get_absolute_url()
    if incident.is_draft:
        return reverse("incident_edit", args=[incident.pk])
    return reverse("incident_review", args=[incident.pk])


def _conflict(request, form, saved):
    """409: someone saved first. Both versions side by side; nothing was written."""
    rows = []
    for name in form.Meta.fields:
        mine, theirs = form.cleaned_data.get(name), getattr(saved, name)
        rows.append((form[name].label, display_text(name, mine), display_text(name, theirs), mine != theirs))
    keep_mine = IncidentEditForm(data={**request.POST.dict(), "version": saved.version}, instance=saved)
    context = {"incident": saved, "rows": rows, "keep_mine": keep_mine}
    return render(request, "incidents/staff/conflict.html", context, status=409)


# Review, verification, retraction -------------------------------------------


@staff_only(VIEW, CHANGE, REVIEW, RETRACT, any_of=True)
def staff_incident_list(request):
    """Every incident, retracted ones included, newest change first."""
    incidents = Incident.objects.select_related("courthouse").order_by("-updated_at", "-id")
    status = request.GET.get("status", "")
    if status in choices.Status.values:
        incidents = incidents.filter(status=status)
    verification = request.GET.get("verification", "")
    if verification in choices.Verification.values:
        incidents = incidents.filter(verification=verification)
    reference = request.GET.get("reference", "").strip()[:64]
    if reference:
        incidents = incidents.filter(reference__istartswith=reference)
    page = Paginator(incidents, 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "status": status,
        "verification": verification,
        "reference": reference,
        "statuses": choices.Status.choices,
        "verifications": choices.Verification.choices,
    }
    if request.user.has_perm(RETRACT):
        context["requests"] = _open_requests(RetractionRequest.objects.all())
    return render(request, "incidents/staff/incident_list.html", context)


def _open_requests(requests):
    """Retraction requests waiting for a reviewer, oldest first."""
    waiting = requests.filter(outcome=choices.RequestOutcome.OPEN)
    return waiting.select_related("incident__courthouse", "requested_by")[:100]


@staff_only(REVIEW, RETRACT, any_of=True)
def incident_review(request, pk):
    incident = get_object_or_404(Incident.objects.select_related("courthouse__county"), pk=pk)
    context = {
        "incident": incident,
        "verification_form": VerificationForm(initial={"verification": incident.verification}),
        "requests": _open_requests(incident.retraction_requests.all()),
        "merge_form": MergeForm(),
        "source_form": SourceForm(),
        "duplicates": duplicates_of(incident.courthouse_id, incident.date, exclude=[incident.pk]),
        "sources": incident.sources.select_related("report"),
    }
    return render(request, "incidents/staff/review.html", context)


@staff_only(REVIEW)
@require_POST
def incident_verify(request, pk):
    get_object_or_404(Incident, pk=pk)
    form = VerificationForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose verified, unverified or disputed."))
        return redirect("incident_review", pk=pk)
    incident = _retrying(
        services.set_verification,
        pk=pk,
        verification=form.cleaned_data["verification"],
        user=request.user,
    )
    messages.success(
        request,
        _("%(ref)s is now %(state)s.")
        % {"ref": incident.reference, "state": incident.get_verification_display().lower()},
    )
    return redirect("incident_review", pk=pk)


@staff_only(RETRACT)
def incident_retract(request, pk):
    incident = get_object_or_404(Incident.objects.select_related("courthouse__county"), pk=pk)
    form = RetractForm(_posted(request), initial=_requested(incident))
    if form.is_bound and form.is_valid() and incident.is_published:
        _retrying(services.retract_incident, **form.cleaned_data, pk=pk, user=request.user)
        messages.success(
            request,
            _("%(ref)s is retracted: a notice replaces its page; it leaves every list, export and chart.")
            % {"ref": incident.reference},
        )
        return redirect("incident_review", pk=pk)
    return render(request, "incidents/staff/retract.html", {"incident": incident, "form": form})


@staff_only(CHANGE)
def incident_withdraw(request, pk):
    """A court administrator's own entry, within a day: withdrawn. After that: a request to a reviewer."""
    incident = get_object_or_404(Incident.objects.select_related("courthouse__county"), pk=pk)
    if not may_write(request.user, incident):
        return outside_jurisdiction(request, incident)
    withdraw = may_withdraw(request.user, incident)
    form = RetractForm(_posted(request))
    if form.is_bound and form.is_valid() and incident.is_published:
        try:
            _withdraw_or_request(request, pk, withdraw, form.cleaned_data)
        except services.NotAllowed as refused:
            messages.error(request, str(refused))
        return redirect(_after_withdrawal(request.user, Incident.objects.get(pk=pk)))
    context = {
        "incident": incident,
        "form": form,
        "withdraw": withdraw,
        "requests": _open_requests(incident.retraction_requests.all()),
    }
    return render(request, "incidents/staff/withdraw.html", context)


def _after_withdrawal(user, incident):
    if incident.is_published:  # a request: the incident stays
        return incident.get_absolute_url()
    # A court administrator has no review page: the list shows the incident as retracted.
    if user.has_perm(RETRACT):
        return reverse("incident_review", args=[incident.pk])
    return reverse("staff_incident_list")


def _withdraw_or_request(request, pk, withdraw, cleaned):
    if withdraw:
        incident = _retrying(services.withdraw_incident, pk=pk, user=request.user, **cleaned)
        messages.success(
            request,
            _("%(ref)s is withdrawn: a retraction notice replaces its page.") % {"ref": incident.reference},
        )
    else:
        services.request_retraction(pk=pk, user=request.user, **cleaned)
        messages.success(
            request, _("Your request is with the reviewers; the incident stays published until one decides.")
        )


@staff_only(REVIEW, RETRACT, any_of=True)
@require_POST
def incident_add_source(request, pk):
    """One more source, from the review page (reviewers: court administrators have none)."""
    incident = get_object_or_404(Incident, pk=pk)
    form = SourceForm(request.POST, instance=Source(incident=incident))
    if form.is_valid():
        services.add_source(source=form.save(commit=False), user=request.user)
        messages.success(request, _("Added a source to %(ref)s.") % {"ref": incident.reference})
    for errors in form.errors.values():
        messages.error(request, " ".join(errors))
    return redirect("incident_review", pk=pk)


@staff_only(RETRACT)
@require_POST
def incident_decline_retraction(request, pk):
    """The reviewer keeps the incident published; the court administrator's request is closed."""
    get_object_or_404(Incident, pk=pk)
    services.decline_retraction(pk=pk, user=request.user)
    messages.success(request, _("The retraction request is declined; the incident stays published."))
    return redirect("incident_review", pk=pk)


def _requested(incident):
    """The reasons of a court administrator's open request, to start the reviewer's retraction from."""
    request = incident.retraction_requests.filter(outcome=choices.RequestOutcome.OPEN).first()
    return {"public_reason": request.public_reason, "reason": request.reason} if request else {}


@staff_only(RETRACT)
@require_POST
def incident_merge(request, pk):
    """Merge this incident, a duplicate, into the one whose reference is given."""
    other = get_object_or_404(Incident, pk=pk)
    form = MergeForm(request.POST)
    if form.is_valid():
        try:
            kept = services.merge_incidents(
                kept_pk=form.cleaned_data["kept"].pk, other_pk=pk, user=request.user
            )
        except services.CannotMerge as refused:
            messages.error(request, str(refused))
        else:
            messages.success(
                request,
                _("%(other)s is merged into %(kept)s.") % {"other": other.reference, "kept": kept.reference},
            )
            return redirect("incident_review", pk=kept.pk)
    for error in form.errors.get("kept", []):
        messages.error(request, error)
    return redirect("incident_review", pk=pk)


@staff_only(RETRACT)
@require_POST
def incident_restore(request, pk):
    get_object_or_404(Incident, pk=pk)
    incident = _retrying(services.restore_incident, pk=pk, user=request.user)
    messages.success(request, _("%(ref)s is published again.") % {"ref": incident.reference})
    return redirect("incident_review", pk=pk)


def _retrying(action, **kwargs):
    # These actions read the row fresh inside their transaction; a conflict means
    # an edit landed in between, and one more try applies the action on top of it.
    try:
        return action(**kwargs)
    except services.EditConflict:
        return action(**kwargs)


@staff_only(VIEW)
def incident_history(request, pk):
    """Who changed what and when, every field including staff-only ones."""
    incident = get_object_or_404(Incident.objects.select_related("courthouse"), pk=pk)
    records = incident.history.select_related("history_user").order_by("history_date", "history_id")
    context = {
        "incident": incident,
        "entries": field_changes(records, STAFF_FIELDS, reasons=True),
        "redactions": incident.redactions.select_related("redacted_by"),
    }
    return render(request, "incidents/staff/history.html", context)


@staff_only(REVIEW)
def incident_redact(request, pk):
    """Remove a text (a name, say) from a field's current value and from all its history."""
    incident = get_object_or_404(Incident.objects.select_related("courthouse"), pk=pk)
    form = RedactForm(_posted(request), fields=_redactable_fields(request.user))
    if form.is_bound and form.is_valid():
        try:
            redaction = _retrying(services.redact, pk=pk, user=request.user, **form.cleaned_data)
        except services.NothingToRedact as nothing:
            form.add_error("text", str(nothing))
        else:
            messages.success(request, _redacted_message(redaction))
            return redirect(_after_redaction(request.user, pk))
    context = {
        "incident": incident,
        "form": form,
        "redactions": incident.redactions.select_related("redacted_by"),
    }
    return render(request, "incidents/staff/redact.html", context)


def _redactable_fields(user):
    # Staff-only fields are offered only to those who may read them.
    if user.has_perm(VIEW):
        return REDACTABLE_FIELDS
    return [name for name in REDACTABLE_FIELDS if name not in STAFF_ONLY_FIELDS]


def _redacted_message(redaction):
    return _("Redacted from %(field)s: the current value and %(rows)d earlier versions were rewritten.") % {
        "field": redaction.get_field_display(),
        "rows": redaction.history_rows,
    }


def _after_redaction(user, pk):
    return reverse("incident_history" if user.has_perm(VIEW) else "incident_review", args=[pk])


# Courthouses ----------------------------------------------------------------


@staff_only(ADD_COURTHOUSE)
def courthouse_create(request):
    next_url = _safe_next(request)
    if "choose_state" in request.POST:
        # Without JavaScript: list the chosen state's counties, save nothing yet.
        form = CourthouseForm(initial=request.POST.dict())
    else:
        form = CourthouseForm(_posted(request))
    if form.is_bound and form.is_valid():
        courthouse = form.save()
        messages.success(request, _("Added %(name)s.") % {"name": courthouse.name})
        return redirect(_with_courthouse(next_url, courthouse))
    return render(request, "incidents/staff/courthouse_form.html", {"form": form, "next": next_url})


def _safe_next(request):
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("incident_create")


def _with_courthouse(url, courthouse):
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}{urlencode({'courthouse': courthouse.slug})}"


# Import ---------------------------------------------------------------------
