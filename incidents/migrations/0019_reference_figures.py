import django.core.validators
import django.db.models.deletion
from django.db import migrations, models

import incidents.limits
from incidents import reference


def load_figures(apps, schema_editor):
    reference.load_reference_figures(apps, schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0018_drafts_jurisdictions_notes"),
    ]

    operations = [
        migrations.CreateModel(
            name="ReferenceFigure",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "publisher",
                    models.CharField(
                        max_length=200,
                        validators=[incidents.limits.no_bidi_controls],
                        verbose_name="publisher",
                    ),
                ),
                (
                    "title",
                    models.CharField(
                        max_length=300, validators=[incidents.limits.no_bidi_controls], verbose_name="title"
                    ),
                ),
                (
                    "url",
                    models.URLField(
                        max_length=500,
                        validators=[incidents.limits.no_bidi_controls_in_host],
                        verbose_name="URL",
                    ),
                ),
                ("published", models.DateField(verbose_name="published on")),
                (
                    "area",
                    models.CharField(
                        help_text="The area as the publisher names it: New York City, say.",
                        max_length=100,
                        verbose_name="area",
                    ),
                ),
                ("period_start", models.DateField(verbose_name="period start")),
                ("period_end", models.DateField(verbose_name="period end")),
                (
                    "court_type",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("state", "State or local court"),
                            ("immigration", "Immigration court (EOIR)"),
                            ("federal", "Federal court"),
                        ],
                        help_text="Empty when the figure counts every kind of court.",
                        max_length=12,
                        verbose_name="court type",
                    ),
                ),
                (
                    "counted",
                    models.CharField(
                        choices=[
                            ("arrests", "Arrests"),
                            ("attempts", "Attempted arrests"),
                            ("sightings", "Sightings of agents"),
                            ("arrests_and_attempts", "Arrests and attempted arrests"),
                            ("all", "Arrests, attempted arrests and sightings"),
                        ],
                        max_length=24,
                        verbose_name="what is counted",
                    ),
                ),
                ("value", models.PositiveIntegerField(verbose_name="value")),
                (
                    "definition",
                    models.TextField(
                        help_text="What the publisher counted, as it defines it.",
                        validators=[django.core.validators.MaxLengthValidator(1000)],
                        verbose_name="definition",
                    ),
                ),
                (
                    "counties",
                    models.ManyToManyField(
                        blank=True,
                        help_text="Empty for the whole state (or country); else the counties the figure covers.",
                        related_name="+",
                        to="incidents.county",
                        verbose_name="counties",
                    ),
                ),
                (
                    "state",
                    models.ForeignKey(
                        blank=True,
                        help_text="Empty for a figure of the whole country.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="incidents.state",
                        verbose_name="state",
                    ),
                ),
            ],
            options={
                "ordering": ["period_start", "period_end", "id"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("period_end__gte", models.F("period_start"))),
                        name="reference_figure_period_in_order",
                    )
                ],
            },
        ),
        migrations.RunPython(load_figures, migrations.RunPython.noop),
    ]
