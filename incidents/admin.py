from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from simple_history.admin import SimpleHistoryAdmin

from . import services
from .forms import IncidentAdminForm
from .models import (
    County,
    Courthouse,
    CoverageChange,
    Incident,
    Jurisdiction,
    PolicyEvent,
    Redaction,
    ReferenceFigure,
    RetractionRequest,
    State,
)
from .permissions import may_write


class ReadOnlyAdmin(admin.ModelAdmin):
    """Reference geography is loaded by migrations, never typed by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(State)
class StateAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "fips"]
    search_fields = ["code", "name", "fips"]


@admin.register(County)
class CountyAdmin(ReadOnlyAdmin):
    list_display = ["fips", "name", "state"]
    list_filter = ["state"]
    search_fields = ["fips", "name"]
    list_select_related = ["state"]


@admin.register(Courthouse)
class CourthouseAdmin(SimpleHistoryAdmin):
    list_display = ["name", "city", "county", "court_type", "slug"]
    list_filter = ["court_type", "county__state", "is_demo"]
    search_fields = ["name", "city", "slug", "county__name"]
    autocomplete_fields = ["county"]
    prepopulated_fields = {"slug": ["name"]}
    list_select_related = ["county"]


@admin.register(Incident)
class IncidentAdmin(SimpleHistoryAdmin):
    list_display = [
        "reference",
        "date",
        "courthouse",
        "state",
        "case_type",
        "outcome",
        "people_count",
        "verification",
        "status",
    ]
    list_filter = ["status", "verification", "outcome", "case_type", "person_role", "state", "is_demo"]
    search_fields = ["reference", "summary", "courthouse__name"]
    date_hierarchy = "date"
    autocomplete_fields = ["courthouse"]
    list_select_related = ["courthouse", "state"]
    readonly_fields = [
        "status",
        "retraction_reason",
        "retraction_public_reason",
        "retracted_at",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "version",
    ]
    show_full_result_count = False

    form = IncidentAdminForm

    def save_model(self, request, obj, form, change):
        # The same write as the entry and correction forms: a stale version is refused,
        # and a court administrator writes only in their jurisdiction.
        stored = Incident.objects.filter(pk=obj.pk).first() if change else None
        if not may_write(request.user, obj) or (stored and not may_write(request.user, stored)):
            raise PermissionDenied
        if change:
            services.update_incident(
                incident=obj, expected_version=form.cleaned_data["loaded_version"], user=request.user
            )
        else:
            services.create_incident(incident=obj, user=request.user)

    def changeform_view(self, request, *args, **kwargs):
        try:
            return super().changeform_view(request, *args, **kwargs)
        except services.EditConflict as conflict:
            message = _(
                "%(ref)s was changed by someone else while you edited it, and nothing was saved. "
                "The form now shows their version: make your change again."
            )
            self.message_user(request, message % {"ref": conflict.saved.reference}, messages.ERROR)
            return HttpResponseRedirect(request.path)

    def history_form_view(self, request, *args, **kwargs):
        # A revert would write an old status and retraction reason back unseen;
        # corrections go through the change form.
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, *args, **kwargs)

    def revert_disabled(self, request, obj=None):
        return True


@admin.register(PolicyEvent)
class PolicyEventAdmin(admin.ModelAdmin):
    list_display = ["date", "state", "title"]
    list_filter = ["state"]
    search_fields = ["title"]
    date_hierarchy = "date"
    list_select_related = ["state"]


@admin.register(CoverageChange)
class CoverageChangeAdmin(admin.ModelAdmin):
    list_display = ["start", "court_type", "note"]
    list_filter = ["court_type"]


@admin.register(Redaction)
class RedactionAdmin(ReadOnlyAdmin):
    """The audit of redactions; a redaction is made on the incident's staff pages (services.redact)."""

    list_display = ["redacted_at", "incident", "field", "redacted_by", "reason"]
    list_filter = ["field"]
    list_select_related = ["incident__courthouse", "redacted_by"]
    date_hierarchy = "redacted_at"


@admin.register(ReferenceFigure)
class ReferenceFigureAdmin(admin.ModelAdmin):
    """Figures others published; the dashboard shows each beside our count (comparison.py)."""

    list_display = ["publisher", "area", "period_start", "period_end", "counted", "value"]
    list_filter = ["publisher", "counted", "court_type", "state"]
    search_fields = ["publisher", "title", "area", "definition"]
    autocomplete_fields = ["counties"]
    date_hierarchy = "period_start"


class JurisdictionInline(admin.TabularInline):
    """Where a court administrator may enter, correct and import incidents (permissions.py)."""

    model = Jurisdiction
    extra = 1
    autocomplete_fields = ["county", "courthouse"]
    verbose_name_plural = _lazy("jurisdictions: one state, county or courthouse per row")


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    inlines = [*UserAdmin.inlines, JurisdictionInline]


@admin.register(Jurisdiction)
class JurisdictionAdmin(admin.ModelAdmin):
    list_display = ["user", "state", "county", "courthouse"]
    list_filter = ["state"]
    search_fields = ["user__username", "county__name", "courthouse__name"]
    autocomplete_fields = ["user", "county", "courthouse"]
    list_select_related = ["user", "state", "county", "courthouse__county"]


@admin.register(RetractionRequest)
class RetractionRequestAdmin(ReadOnlyAdmin):
    """The record of court administrators' requests; reviewers decide on the incident's review page."""

    list_display = ["requested_at", "incident", "requested_by", "public_reason", "outcome", "decided_by"]
    list_filter = ["outcome", "public_reason"]
    list_select_related = ["incident__courthouse", "requested_by", "decided_by"]
