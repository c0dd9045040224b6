"""Every HTTP entry point, by who calls it.

- public.py: the dashboard, the list, an incident, courthouse and county pages;
- presentation.py: the filter form's controls, chips, errors and keyset pages;
- lookups.py: the courthouse and county autocompletes;
- api.py: the CSV export, the JSON API, stats and the data dictionary;
- changes.py, feeds.py, geojson.py: the change feed, Atom and GeoJSON, for mirrors;
- staff.py, staff_import.py: entry, correction, review, retraction, redaction, sources,
  merging, import;
- report.py: the public report form; staff_reports.py: the reviewers' queue of reports;
- health.py: the load balancer's check.

A filter is read once per request, by filters.filter_incidents(), into a FilterState.
"""
