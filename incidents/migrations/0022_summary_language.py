"""The language of each incident's summary (README, "Languages"), and translated model names.

SQLite remakes incidents_incident to add the column, which drops the table's triggers:
0008's courthouse check and 0020's summary. Both are made again at the end (and, going
back, after the column is removed again).
"""

import importlib

from django.db import migrations, models

# 0020's triggers (the summary table), made again on SQLite; its docstring asks for this.
sqlite_triggers_again = importlib.import_module("incidents.migrations.0020_summary").sqlite_triggers_again


def courthouse_triggers_again(apps, schema_editor):
    """0008's courthouse check, made again on SQLite as 0016 does."""
    if schema_editor.connection.vendor == "sqlite":
        checks = importlib.import_module("incidents.migrations.0008_courthouse_check_per_statement")
        drops = [sql.replace("DROP TRIGGER", "DROP TRIGGER IF EXISTS") for sql in checks.SQLITE_REVERSE]
        for sql in drops + checks.SQLITE:
            schema_editor.execute(sql, None)


def all_triggers_again(apps, schema_editor):
    courthouse_triggers_again(apps, schema_editor)
    sqlite_triggers_again(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0021_reports_and_sources")]

    operations = [
        # Going back, this runs last: after the column is removed, which remakes the table again.
        migrations.RunPython(migrations.RunPython.noop, all_triggers_again),
        migrations.AlterModelOptions(
            name="county",
            options={
                "ordering": ["state_id", "name"],
                "verbose_name": "county",
                "verbose_name_plural": "counties",
            },
        ),
        migrations.AlterModelOptions(
            name="courthouse",
            options={
                "ordering": ["name"],
                "verbose_name": "courthouse",
                "verbose_name_plural": "courthouses",
            },
        ),
        migrations.AlterModelOptions(
            name="state",
            options={"ordering": ["name"], "verbose_name": "state", "verbose_name_plural": "states"},
        ),
        migrations.AddField(
            model_name="historicalincident",
            name="summary_language",
            field=models.CharField(
                choices=[("en", "English"), ("es", "Spanish")],
                default="en",
                help_text="Summaries are not translated; pages mark each with its language.",
                max_length=2,
                verbose_name="language of the summary",
            ),
        ),
        migrations.AddField(
            model_name="incident",
            name="summary_language",
            field=models.CharField(
                choices=[("en", "English"), ("es", "Spanish")],
                default="en",
                help_text="Summaries are not translated; pages mark each with its language.",
                max_length=2,
                verbose_name="language of the summary",
            ),
        ),
        migrations.AddConstraint(
            model_name="incident",
            constraint=models.CheckConstraint(
                condition=models.Q(("summary_language__in", ["en", "es"])),
                name="incident_summary_language_valid",
            ),
        ),
        migrations.RunPython(courthouse_triggers_again, migrations.RunPython.noop),
        migrations.RunPython(sqlite_triggers_again, migrations.RunPython.noop),
    ]
