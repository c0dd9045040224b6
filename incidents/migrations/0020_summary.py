"""The summary table (models.Summary), kept by triggers in the transaction of every write.

Each published incident counts once per dimension below, in its month's row and in
the ALL_TIME row of its state and value. A write changes the rows of what it
changed: the old row's counts are taken away and the new row's added, so an edit
of a summary's wording changes nothing here.

PostgreSQL: statement-level triggers with transition tables, so that an import's
COPY of 50,000 rows is one grouped upsert, not 50,000. SQLite: row-level triggers
(SQLite has no others). SQLite drops a table's triggers when a migration remakes
the table (see 0008): a later migration that adds or alters a column of incidents
must call sqlite_triggers_again() at its end, as 0016 does for 0008's.
"""

import datetime

from django.db import migrations, models
from django.db.models import Count, F, Sum
from django.db.models.functions import Cast, Coalesce, TruncMonth

ALL_TIME = "0001-01-01"
# dimension -> the incident column it counts (courthouse ids are stored as text)
DIMENSIONS = {
    "outcome": "outcome",
    "case_type": "case_type",
    "person_role": "person_role",
    "location": "location",
    "warrant": "warrant",
    "county": "county_id",
    "courthouse": "courthouse_id",
}
WITHOUT_MONTHS = {"county", "courthouse"}
COUNTED = ("status", "date", "state_id", "people_count", *DIMENSIONS.values())

UPSERT = """
    INSERT INTO incidents_summary AS s (month, state, dimension, value, incidents, people)
    {select}
    ON CONFLICT (dimension, month, state, value) DO UPDATE
       SET incidents = s.incidents + excluded.incidents, people = s.people + excluded.people;
"""


def _pg_select(source):
    """The changed counts of `source` (rows with a sign), one GROUP BY per dimension and grain.

    One scan per dimension rather than one scan that multiplies every row by each
    dimension: a hash aggregate over 50,000 rows is cheap, one over 700,000 is not.
    """
    parts = []
    for name, column in DIMENSIONS.items():
        for month in _grains(name, "date_trunc('month', c.date)::date", f"DATE '{ALL_TIME}'"):
            parts.append(
                f"SELECT {month} AS month, c.state_id, '{name}' AS dimension, c.{column}::text AS value,"
                " SUM(c.sign) AS incidents, SUM(c.sign * c.people_count) AS people"
                f" FROM ({source}) c GROUP BY 1, 2, 4"
            )
    return f"""
    SELECT * FROM ({" UNION ALL ".join(parts)}) d
     WHERE d.incidents <> 0 OR d.people <> 0
     ORDER BY 3, 1, 2, 4"""


def _grains(name, month, all_time):
    """Counties and courthouses are counted over all time only: by month they would hold
    about a row per incident, and cost every import as much as the incidents do."""
    return [all_time] if name in WITHOUT_MONTHS else [month, all_time]


def _pg_function(name, changed):
    return f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{UPSERT.format(select=_pg_select(changed))}
    RETURN NULL;
END
$$;"""


def _pg_rows(table, sign):
    columns = ", ".join(COUNTED)
    return f"SELECT {sign} AS sign, {columns} FROM {table} WHERE status = 'published'"


POSTGRESQL = [
    _pg_function("incidents_summary_inserted", _pg_rows("new_rows", 1)),
    _pg_function("incidents_summary_deleted", _pg_rows("old_rows", -1)),
    _pg_function(
        "incidents_summary_updated", f"{_pg_rows('new_rows', 1)} UNION ALL {_pg_rows('old_rows', -1)}"
    ),
    """CREATE TRIGGER incident_summary_inserted AFTER INSERT ON incidents_incident
        REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION incidents_summary_inserted();""",
    """CREATE TRIGGER incident_summary_deleted AFTER DELETE ON incidents_incident
        REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION incidents_summary_deleted();""",
    """CREATE TRIGGER incident_summary_updated AFTER UPDATE ON incidents_incident
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION incidents_summary_updated();""",
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS incident_summary_inserted ON incidents_incident;",
    "DROP TRIGGER IF EXISTS incident_summary_deleted ON incidents_incident;",
    "DROP TRIGGER IF EXISTS incident_summary_updated ON incidents_incident;",
    "DROP FUNCTION IF EXISTS incidents_summary_inserted();",
    "DROP FUNCTION IF EXISTS incidents_summary_deleted();",
    "DROP FUNCTION IF EXISTS incidents_summary_updated();",
]


def _sqlite_upsert(row, sign):
    """One row's counts (NEW), times sign, added to its rows."""
    dimensions = " UNION ALL ".join(
        f"SELECT '{name}' AS dimension, CAST({row}.{column} AS TEXT) AS value"
        for name, column in DIMENSIONS.items()
    )
    select = f"""
    SELECT m.month, {row}.state_id, d.dimension, d.value, {sign}, {sign} * {row}.people_count
      FROM (SELECT strftime('%Y-%m-01', {row}.date) AS month, 0 AS all_time
            UNION ALL SELECT '{ALL_TIME}', 1) m,
           ({dimensions}) d
     WHERE {row}.status = 'published'
       AND (m.all_time = 1 OR d.dimension NOT IN ('county', 'courthouse'))"""
    return UPSERT.format(select=select).replace("incidents_summary AS s", "incidents_summary").replace(
        "s.incidents", "incidents_summary.incidents"
    ).replace("s.people", "incidents_summary.people")


def _sqlite_take_away(row):
    """One row's counts taken from its rows: an UPDATE per dimension, never an insert.

    A row to take from always exists while the summary is whole. When it does not
    (a flush that emptied the summary before the incidents), nothing is taken and
    no negative row is left behind.
    """
    month = f"strftime('%Y-%m-01', {row}.date)"
    return " ".join(
        f"""UPDATE incidents_summary SET incidents = incidents - 1, people = people - {row}.people_count
     WHERE {row}.status = 'published' AND dimension = '{name}' AND state = {row}.state_id
       AND value = CAST({row}.{column} AS TEXT)
       AND month IN ('{ALL_TIME}'{"" if name in WITHOUT_MONTHS else f", {month}"});"""
        for name, column in DIMENSIONS.items()
    )


def _changed():
    return " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in COUNTED)


SQLITE = [
    f"""CREATE TRIGGER incident_summary_inserted AFTER INSERT ON incidents_incident
    BEGIN {_sqlite_upsert("NEW", 1)} END;""",
    f"""CREATE TRIGGER incident_summary_deleted AFTER DELETE ON incidents_incident
    BEGIN {_sqlite_take_away("OLD")} END;""",
    f"""CREATE TRIGGER incident_summary_updated AFTER UPDATE ON incidents_incident
    WHEN {_changed()}
    BEGIN {_sqlite_take_away("OLD")} {_sqlite_upsert("NEW", 1)} END;""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS incident_summary_inserted;",
    "DROP TRIGGER IF EXISTS incident_summary_deleted;",
    "DROP TRIGGER IF EXISTS incident_summary_updated;",
]


def _execute(schema_editor, statements):
    for sql in statements:
        schema_editor.execute(sql, None)


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    _execute(schema_editor, {"postgresql": POSTGRESQL, "sqlite": SQLITE}.get(vendor, []))


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    _execute(schema_editor, {"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE}.get(vendor, []))


def sqlite_triggers_again(apps, schema_editor):
    """For a later migration that remakes incidents on SQLite (which drops these triggers)."""
    if schema_editor.connection.vendor == "sqlite":
        _execute(schema_editor, SQLITE_REVERSE + SQLITE)


def count_existing_rows(apps, schema_editor):
    """The summary of the incidents already stored, by month and over all time."""
    Incident, Summary = apps.get_model("incidents", "Incident"), apps.get_model("incidents", "Summary")
    published = Incident.objects.filter(status="published").order_by()
    rows = []
    for name, column in DIMENSIONS.items():
        for month in _grains(name, TruncMonth("date"), models.Value(datetime.date(1, 1, 1))):
            grouped = published.annotate(
                m=month, v=Cast(F(column), models.CharField()), s=F("state_id")
            ).values("m", "s", "v")
            rows += [
                Summary(month=r["m"], state=r["s"], dimension=name, value=r["v"], incidents=r["n"], people=r["p"])
                for r in grouped.annotate(n=Count("id"), p=Coalesce(Sum("people_count"), 0))
            ]
    Summary.objects.bulk_create(rows, batch_size=5000)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0019_reference_figures")]

    operations = [
        migrations.CreateModel(
            name="Summary",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("month", models.DateField()),
                ("state", models.CharField(max_length=2)),
                ("dimension", models.CharField(max_length=16)),
                ("value", models.CharField(max_length=64)),
                ("incidents", models.IntegerField()),
                ("people", models.BigIntegerField()),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("dimension", "month", "state", "value"), name="summary_key")
                ],
            },
        ),
        migrations.RunPython(count_existing_rows, migrations.RunPython.noop),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
