"""Load states and counties from incidents/data/ (see SOURCES.md there)."""

import csv
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data"


def rows(name):
    with open(DATA / name, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def load(apps, schema_editor):
    State = apps.get_model("incidents", "State")
    County = apps.get_model("incidents", "County")
    states = [State(code=r["usps"], fips=r["fips"], name=r["name"]) for r in rows("states.csv")]
    State.objects.bulk_create(states)
    code_by_fips = {s.fips: s.code for s in states}
    County.objects.bulk_create(
        County(fips=r["fips"], name=r["name"], state_id=code_by_fips[r["state_fips"]])
        for r in rows("counties.csv")
    )


def unload(apps, schema_editor):
    apps.get_model("incidents", "County").objects.all().delete()
    apps.get_model("incidents", "State").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("incidents", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
