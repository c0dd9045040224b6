"""Full-text search on summaries for q= (incidents/search.py). PostgreSQL only.

incident_summary_words(summary) is the 'simple' tsvector of a summary, and
inc_summary_words is a GIN index on it. The wrapper function exists for its
COST: it tells the planner what to_tsvector really costs per row (the built-in
is priced as cheap as a comparison). With the real price the planner reads a
rare word's few rows from the index, instead of walking the date index and
recomputing every summary's words until it has found 50 matches.

The index is not partial, unlike the others: ANALYZE keeps the word
frequencies the planner needs only for an expression index that is not partial.
"""

from django.db import migrations

CREATE = [
    """
    CREATE FUNCTION incident_summary_words(summary text) RETURNS tsvector
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE COST 1000
    AS $$ BEGIN RETURN to_tsvector('simple'::regconfig, COALESCE(summary, '')); END $$
    """,
    "CREATE INDEX inc_summary_words ON incidents_incident USING gin (incident_summary_words(summary))",
]
DROP = [
    "DROP INDEX IF EXISTS inc_summary_words",
    "DROP FUNCTION IF EXISTS incident_summary_words(text)",
]


def on_postgresql(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("incidents", "0014_limits_and_data_version")]

    operations = [migrations.RunPython(on_postgresql(CREATE), on_postgresql(DROP))]
