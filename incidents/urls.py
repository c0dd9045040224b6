from django.urls import path

from .views import api, changes, feeds, geojson, health, lookups, public, reports, staff, staff_import

urlpatterns = [
    # load balancers' health check and the benchmark's baseline (views/health.py)
    path("healthz", health.healthz, name="healthz"),
    # public pages (views/public.py, views/lookups.py)
    path("", public.dashboard, name="dashboard"),
    path("incidents/", public.incident_list, name="incident_list"),
    path("incidents/<int:pk>/", public.incident_detail, name="incident_detail"),
    path("courthouses/", public.courthouse_list, name="courthouse_list"),
    path("courthouses/<slug:slug>/", public.courthouse_detail, name="courthouse_detail"),
    path("counties/<str:fips>/", public.county_detail, name="county_detail"),
    path("courthouses/autocomplete.json", lookups.courthouse_autocomplete, name="courthouse_autocomplete"),
    path("counties/autocomplete.json", lookups.county_autocomplete, name="county_autocomplete"),
    # data for journalists and programs (views/api.py)
    path("incidents/export.csv", api.export_csv, name="export_csv"),
    path("api/incidents/", api.api_incidents, name="api_incidents"),
    path("api/stats/", api.api_stats, name="api_stats"),
    path("data/", api.data_dictionary, name="data_dictionary"),
    # for mirrors, feed readers and maps (views/changes.py, feeds.py, geojson.py)
    path("api/changes/", changes.api_changes, name="api_changes"),
    path("feeds/incidents.atom", feeds.incidents_atom, name="incidents_atom"),
    path("api/courthouses.geojson", geojson.courthouses_geojson, name="courthouses_geojson"),
    # public reports and the reviewers' moderation queue (views/reports.py)
    path("report/", reports.report_form, name="report_form"),
    path("report/sent/", reports.report_sent, name="report_sent"),
    path("staff/reports/", reports.report_queue, name="report_queue"),
    path("staff/reports/<int:pk>/", reports.report_detail, name="report_detail"),
    path("staff/reports/<int:pk>/review/", reports.report_review, name="report_review"),
    path("staff/reports/<int:pk>/incident/", reports.report_incident, name="report_incident"),
    path("staff/reports/<int:pk>/attach/", reports.report_attach, name="report_attach"),
    path("staff/reports/<int:pk>/reject/", reports.report_reject, name="report_reject"),
    # staff entry, correction, review and import (staff.py)
    path("incidents/new/", staff.incident_create, name="incident_create"),
    path("incidents/<int:pk>/edit/", staff.incident_edit, name="incident_edit"),
    path("incidents/import/", staff_import.incident_import, name="incident_import"),
    path("incidents/import/confirm/", staff_import.incident_import_confirm, name="incident_import_confirm"),
    path("incidents/<int:pk>/history/", staff.incident_history, name="incident_history"),
    path("incidents/<int:pk>/review/", staff.incident_review, name="incident_review"),
    path("incidents/<int:pk>/redact/", staff.incident_redact, name="incident_redact"),
    path("incidents/<int:pk>/verification/", staff.incident_verify, name="incident_verify"),
    path("incidents/<int:pk>/retract/", staff.incident_retract, name="incident_retract"),
    path("incidents/<int:pk>/restore/", staff.incident_restore, name="incident_restore"),
    path("incidents/<int:pk>/merge/", staff.incident_merge, name="incident_merge"),
    path("incidents/<int:pk>/sources/", staff.incident_add_source, name="incident_add_source"),
    path("staff/incidents/", staff.staff_incident_list, name="staff_incident_list"),
    path("staff/courthouses/new/", staff.courthouse_create, name="courthouse_create"),
]
