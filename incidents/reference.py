"""Reference data every database must hold: geography, the staff groups, coverage starts,
the first reference figures.

Loaded by the migrations and checked again after every `migrate` and `flush`
(post_migrate), so a database emptied by a test run or by hand heals itself.
"""

import csv
import datetime
from pathlib import Path

from django.contrib.auth.management import create_permissions

DATA = Path(__file__).resolve().parent / "data"

GROUPS = {
    # create and edit incidents and courthouses, see staff-only fields, import
    "Court administrators": [
        ("incident", "add_incident"),
        ("incident", "change_incident"),
        ("incident", "view_incident"),
        ("courthouse", "add_courthouse"),
        ("courthouse", "change_courthouse"),
        ("courthouse", "view_courthouse"),
    ],
    # set verification, retract, restore and merge; moderate public reports
    "Reviewers": [
        ("incident", "review_incident"),
        ("incident", "retract_incident"),
        ("report", "view_report"),
        ("report", "change_report"),
    ],
}


# The dates on which the tracker began recording incidents at each kind of court
# (not dates on which enforcement began there): court type, start, note.
COVERAGE = [
    (
        "state",
        datetime.date(2017, 1, 1),
        "The tracker began recording incidents at state and local courts.",
    ),
    (
        "immigration",
        datetime.date(2025, 1, 1),
        "The tracker began recording incidents at immigration courts (EOIR); "
        "earlier months hold none because none were recorded, not because none happened.",
    ),
]


def _rows(name):
    with open(DATA / name, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def load_geography(apps, using="default"):
    State = apps.get_model("incidents", "State")
    County = apps.get_model("incidents", "County")
    if State.objects.using(using).exists():
        return
    states = [State(code=r["usps"], fips=r["fips"], name=r["name"]) for r in _rows("states.csv")]
    State.objects.using(using).bulk_create(states)
    code_by_fips = {s.fips: s.code for s in states}
    County.objects.using(using).bulk_create(
        County(fips=r["fips"], name=r["name"], state_id=code_by_fips[r["state_fips"]])
        for r in _rows("counties.csv")
    )


def load_coverage(apps, using="default"):
    """The first coverage starts, unless staff have recorded any (in the admin)."""
    CoverageChange = apps.get_model("incidents", "CoverageChange")
    if CoverageChange.objects.using(using).exists():
        return
    CoverageChange.objects.using(using).bulk_create(
        CoverageChange(court_type=court_type, start=start, note=note) for court_type, start, note in COVERAGE
    )


def load_reference_figures(apps, using="default"):
    """The figures of data/reference-figures.csv (sources in data/SOURCES.md), unless staff
    have recorded any (in the admin)."""
    ReferenceFigure = apps.get_model("incidents", "ReferenceFigure")
    if ReferenceFigure.objects.using(using).exists():
        return
    for row in _rows("reference-figures.csv"):
        counties, state = row.pop("counties"), row.pop("state")
        figure = ReferenceFigure.objects.using(using).create(**row, state_id=state or None)
        figure.counties.set(counties.split(";") if counties else [])


def create_groups(apps, using="default"):
    # Permissions are otherwise created only after the whole migrate run.
    app_config = apps.get_app_config("incidents")
    models_module = getattr(app_config, "models_module", None)
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0, using=using)
    app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in GROUPS.items():
        group, created = Group.objects.using(using).get_or_create(name=name)
        if not created:
            continue
        # A model a later migration adds has no permissions yet; that migration adds them.
        group.permissions.add(
            *Permission.objects.using(using).filter(
                content_type__app_label="incidents", codename__in=[codename for _, codename in perms]
            )
        )


def ensure_reference_data(sender, using="default", apps=None, **kwargs):
    """post_migrate: after migrate or flush, the reference data is there again."""
    from django.apps import apps as global_apps

    apps = apps or global_apps
    try:
        apps.get_model("incidents", "State")
    except LookupError:  # migrated back before the model existed
        return
    load_geography(apps, using)
    create_groups(apps, using)
    for load in (load_coverage, load_reference_figures):
        try:
            load(apps, using)
        except LookupError:  # migrated back before the model existed
            pass
