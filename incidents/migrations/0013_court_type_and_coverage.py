"""Court types, the dates from which each is covered, and policy events tied to a state.

Data steps:
- existing courthouses whose name contains "Immigration Court" become `immigration`,
  every other one `state`;
- coverage starts: state and local courts from 2017-01-01, immigration courts from
  2025-01-01. These are the dates on which the tracker began recording incidents at
  each kind of court, not dates on which enforcement began;
- a policy event's free-text jurisdiction becomes its state when the text names one
  ("New York", "NY", "New York (courts)"); anything else ("Federal", "US",
  "United States (ICE)", unknown text) becomes no state, which means federal.
"""

import importlib

import django.db.models.deletion
from django.db import migrations, models

from incidents.reference import load_coverage

# SQLite remakes the courthouse table to add a column with a default, and refuses
# while the incident table's courthouse triggers (migration 0008) name it: they are
# dropped for the change and made again after it.
TRIGGERS = importlib.import_module("incidents.migrations.0008_courthouse_check_per_statement")

COURT_TYPES = [
    ("state", "State or local court"),
    ("immigration", "Immigration court (EOIR)"),
    ("federal", "Federal court"),
]
COURT_TYPE_HELP = "Each court type is covered from its own date (see the coverage changes)."


def court_type_field():
    return models.CharField(
        choices=COURT_TYPES,
        default="state",
        help_text=COURT_TYPE_HELP,
        max_length=12,
        verbose_name="court type",
    )


def on_sqlite(statements):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            for sql in statements:
                schema_editor.execute(sql, None)

    return operation


def set_court_types(apps, schema_editor):
    for name in ("Courthouse", "HistoricalCourthouse"):
        model = apps.get_model("incidents", name)
        model.objects.filter(name__icontains="Immigration Court").update(court_type="immigration")


def add_coverage(apps, schema_editor):
    # reference.COVERAGE: state courts from 2017-01-01, immigration courts from 2025-01-01.
    load_coverage(apps, schema_editor.connection.alias)


def state_named(text, states):
    """The code of the state `text` names ({lowercase name or code: code}), or None."""
    return states.get(text.split("(")[0].strip().lower())


def states_by_name(apps):
    State = apps.get_model("incidents", "State")
    states = {}
    for code, name in State.objects.values_list("code", "name"):
        states[code.lower()], states[name.lower()] = code, code
    return states


def jurisdictions_to_states(apps, schema_editor):
    PolicyEvent = apps.get_model("incidents", "PolicyEvent")
    states = states_by_name(apps)
    for event in PolicyEvent.objects.all():
        event.state_id = state_named(event.jurisdiction, states)
        event.save(update_fields=["state"])


def states_to_jurisdictions(apps, schema_editor):
    PolicyEvent = apps.get_model("incidents", "PolicyEvent")
    for event in PolicyEvent.objects.select_related("state"):
        event.jurisdiction = event.state.name if event.state_id else "Federal"
        event.save(update_fields=["jurisdiction"])


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0012_redaction"),
    ]

    operations = [
        migrations.RunPython(on_sqlite(TRIGGERS.SQLITE_REVERSE), on_sqlite(TRIGGERS.SQLITE)),
        migrations.AddField(model_name="courthouse", name="court_type", field=court_type_field()),
        migrations.AddField(model_name="historicalcourthouse", name="court_type", field=court_type_field()),
        migrations.RunPython(set_court_types, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="courthouse",
            constraint=models.CheckConstraint(
                condition=models.Q(("court_type__in", ["state", "immigration", "federal"])),
                name="courthouse_court_type_valid",
            ),
        ),
        migrations.RunPython(on_sqlite(TRIGGERS.SQLITE), on_sqlite(TRIGGERS.SQLITE_REVERSE)),
        migrations.CreateModel(
            name="CoverageChange",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("court_type", models.CharField(choices=COURT_TYPES, max_length=12, verbose_name="court type")),
                ("start", models.DateField(verbose_name="covered from")),
                ("note", models.CharField(blank=True, max_length=300, verbose_name="note")),
            ],
            options={"ordering": ["start", "court_type"]},
        ),
        migrations.RunPython(add_coverage, migrations.RunPython.noop),
        migrations.AddField(
            model_name="policyevent",
            name="state",
            field=models.ForeignKey(
                blank=True,
                help_text="Empty for a federal event, which every chart shows.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="incidents.state",
                verbose_name="state",
            ),
        ),
        migrations.RunPython(jurisdictions_to_states, states_to_jurisdictions),
        # A default, so that undoing the removal can add the column back to filled tables.
        migrations.AlterField(
            model_name="policyevent",
            name="jurisdiction",
            field=models.CharField(default="", max_length=100, verbose_name="jurisdiction"),
        ),
        migrations.RemoveField(model_name="policyevent", name="jurisdiction"),
    ]
