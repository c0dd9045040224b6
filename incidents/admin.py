from django.contrib import admin
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from .models import County, Courthouse, CoverageChange, Incident, PolicyEvent, State


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
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "version",
    ]
    show_full_result_count = False

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        if not change:
            obj.created_by = request.user
        else:
            obj.version += 1
        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)


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
