from django.urls import path

from .views import (
    api,
    apidocs,
    changes,
    embed,
    feeds,
    geojson,
    health,
    language,
    lookups,
    public,
    releases,
    report,
    staff,
    staff_import,
    staff_reports,
)

# Addresses for programs: the same in every language, never prefixed with /es/.
# Their human labels (/api/stats/'s "label") are in English.
machine_urlpatterns = [
    # load balancers' health check and the benchmark's baseline (views/health.py)
    path("healthz", health.healthz, name="healthz"),
    path("courthouses/autocomplete.json", lookups.courthouse_autocomplete, name="courthouse_autocomplete"),
    path("counties/autocomplete.json", lookups.county_autocomplete, name="county_autocomplete"),
    path("incidents/export.csv", api.export_csv, name="export_csv"),
    path("api/incidents/", api.api_incidents, name="api_incidents"),
    path("api/stats/", api.api_stats, name="api_stats"),
    path("api/changes/", changes.api_changes, name="api_changes"),
    path("api/courthouses.geojson", geojson.courthouses_geojson, name="courthouses_geojson"),
    path("api/reference-figures/", api.api_reference_figures, name="api_reference_figures"),
    # the OpenAPI description of all of these (views/apidocs.py); /api/ is its page for people
    path("api/schema.json", apidocs.api_schema, name="api_schema"),
    # the data package and the files of numbered releases (views/releases.py)
    path("data/datapackage.json", releases.datapackage_json, name="datapackage_json"),
    path("data/releases/<str:number>/<str:filename>", releases.release_file, name="release_file"),
    # the language switcher: remembers the choice, then shows the same page in it
    path("language/<str:code>/", language.switch_language, name="switch_language"),
]

# Pages for people: unprefixed in English, under /es/ in Spanish (tracker/urls.py).
urlpatterns = [
    path("jsi18n/", language.javascript_catalog, name="javascript_catalog"),
    # public pages (views/public.py, views/lookups.py)
    path("", public.dashboard, name="dashboard"),
    path("incidents/", public.incident_list, name="incident_list"),
    path("incidents/<int:pk>/", public.incident_detail, name="incident_detail"),
    path("courthouses/", public.courthouse_list, name="courthouse_list"),
    path("courthouses/<slug:slug>/", public.courthouse_detail, name="courthouse_detail"),
    path("counties/<str:fips>/", public.county_detail, name="county_detail"),
    # data for journalists and programs (views/api.py)
    path("data/", api.data_dictionary, name="data_dictionary"),
    # numbered releases and the data package (views/releases.py)
    path("data/releases/", releases.release_list, name="release_list"),
    path("data/releases/<str:number>/", releases.release_detail, name="release_detail"),
    # for mirrors, feed readers and maps (views/changes.py, feeds.py, geojson.py)
    path("feeds/incidents.atom", feeds.incidents_atom, name="incidents_atom"),
    # one chart, for other sites' pages (views/embed.py)
    path("embed/<str:name>/", embed.embed_chart, name="embed_chart"),
    # the description of the addresses for programs, for people (views/apidocs.py)
    path("api/", apidocs.api_docs, name="api_docs"),
    # the public report form (views/report.py)
    path("report/", report.report_form, name="report_form"),
    path("report/sent/", report.report_sent, name="report_sent"),
    # the reviewers' moderation queue of reports (views/staff_reports.py)
    path("staff/reports/", staff_reports.report_queue, name="report_queue"),
    path("staff/reports/<int:pk>/", staff_reports.report_detail, name="report_detail"),
    path("staff/reports/<int:pk>/review/", staff_reports.report_review, name="report_review"),
    path("staff/reports/<int:pk>/incident/", staff_reports.report_incident, name="report_incident"),
    path("staff/reports/<int:pk>/attach/", staff_reports.report_attach, name="report_attach"),
    path("staff/reports/<int:pk>/reject/", staff_reports.report_reject, name="report_reject"),
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
    path("incidents/<int:pk>/withdraw/", staff.incident_withdraw, name="incident_withdraw"),
    path(
        "incidents/<int:pk>/retraction-request/decline/",
        staff.incident_decline_retraction,
        name="incident_decline_retraction",
    ),
    path("incidents/<int:pk>/merge/", staff.incident_merge, name="incident_merge"),
    path("incidents/<int:pk>/sources/", staff.incident_add_source, name="incident_add_source"),
    path("staff/incidents/", staff.staff_incident_list, name="staff_incident_list"),
    path("staff/courthouses/new/", staff.courthouse_create, name="courthouse_create"),
]
