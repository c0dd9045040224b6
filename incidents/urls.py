from django.urls import path

from . import api, staff_views, views

urlpatterns = [
    # public pages (views.py)
    path("", views.dashboard, name="dashboard"),
    path("incidents/", views.incident_list, name="incident_list"),
    path("incidents/<int:pk>/", views.incident_detail, name="incident_detail"),
    path("courthouses/", views.courthouse_list, name="courthouse_list"),
    path("courthouses/<slug:slug>/", views.courthouse_detail, name="courthouse_detail"),
    path("counties/<str:fips>/", views.county_detail, name="county_detail"),
    # data for journalists and programs (api.py)
    path("incidents/export.csv", api.export_csv, name="export_csv"),
    path("api/incidents/", api.api_incidents, name="api_incidents"),
    path("api/stats/", api.api_stats, name="api_stats"),
    path("data/", api.data_dictionary, name="data_dictionary"),
    # staff entry, correction, review and import (staff_views.py)
    path("incidents/new/", staff_views.incident_create, name="incident_create"),
    path("incidents/<int:pk>/edit/", staff_views.incident_edit, name="incident_edit"),
    path("incidents/import/", staff_views.incident_import, name="incident_import"),
]
