"""Create the shared database cache table as part of migrate (see incidents/cache.py)."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0002_geography")]
    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
