from django.urls import path

from . import api, changes, feeds, geojson, staff_views, views, views_health

urlpatterns = [
    # load balancers' health check and the benchmark's baseline (views_health.py)
    path("healthz", views_health.healthz, name="healthz"),
    # public pages (views.py)
    path("", views.dashboard, name="dashboard"),
    path("incidents/", views.incident_list, name="incident_list"),
    path("incidents/<int:pk>/", views.incident_detail, name="incident_detail"),
    path("courthouses/", views.courthouse_list, name="courthouse_list"),
    path("courthouses/<slug:slug>/", views.courthouse_detail, name="courthouse_detail"),
    path("counties/<str:fips>/", views.county_detail, name="county_detail"),
    path("courthouses/autocomplete.json", views.courthouse_autocomplete, name="courthouse_autocomplete"),
    path("counties/autocomplete.json", views.county_autocomplete, name="county_autocomplete"),
    # data for journalists and programs (api.py)
    path("incidents/export.csv", api.export_csv, name="export_csv"),
    path("api/incidents/", api.api_incidents, name="api_incidents"),
    path("api/stats/", api.api_stats, name="api_stats"),
    path("data/", api.data_dictionary, name="data_dictionary"),
    # for mirrors, feed readers and maps (changes.py, feeds.py, geojson.py)
    path("api/changes/", changes.api_changes, name="api_changes"),
    path("feeds/incidents.atom", feeds.incidents_atom, name="incidents_atom"),
    path("api/courthouses.geojson", geojson.courthouses_geojson, name="courthouses_geojson"),
    # staff entry, correction, review and import (staff_views.py)
    path("incidents/new/", staff_views.incident_create, name="incident_create"),
    path("incidents/<int:pk>/edit/", staff_views.incident_edit, name="incident_edit"),
    path("incidents/import/", staff_views.incident_import, name="incident_import"),
    path("incidents/import/confirm/", staff_views.incident_import_confirm, name="incident_import_confirm"),
    path("incidents/<int:pk>/history/", staff_views.incident_history, name="incident_history"),
    path("incidents/<int:pk>/review/", staff_views.incident_review, name="incident_review"),
    path("incidents/<int:pk>/redact/", staff_views.incident_redact, name="incident_redact"),
    path("incidents/<int:pk>/verification/", staff_views.incident_verify, name="incident_verify"),
    path("incidents/<int:pk>/retract/", staff_views.incident_retract, name="incident_retract"),
    path("incidents/<int:pk>/restore/", staff_views.incident_restore, name="incident_restore"),
    path("staff/incidents/", staff_views.staff_incident_list, name="staff_incident_list"),
    path("staff/courthouses/new/", staff_views.courthouse_create, name="courthouse_create"),
]
