"""Load states and counties from incidents/data/ (see SOURCES.md there)."""

from django.db import migrations

from incidents.reference import load_geography


def load(apps, schema_editor):
    load_geography(apps, schema_editor.connection.alias)


def unload(apps, schema_editor):
    apps.get_model("incidents", "County").objects.all().delete()
    apps.get_model("incidents", "State").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("incidents", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
