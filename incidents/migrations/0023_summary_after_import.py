"""An import counts its new incidents in the summary once, at its end (PostgreSQL).

0020's insert trigger upserts the summary after every COPY statement. An import of
200,000 rows into a table of 1,000,000 runs five COPYs, and each one upserts
most of the summary rows its months touch again: 8.7 s of the import's 21 s. One
upsert over all of them at the end takes 3.8 s.

So the insert trigger does nothing while the transaction has set
`incidents.summary_later` to on (SET LOCAL, imports/writing.py), and
incidents_summary_add_from(first) adds every incident from id `first` on, which
under the import's table lock are exactly the ones it created. Edits and deletes
keep their triggers: an edit of a row not yet counted takes away and adds the
same counts, which cancel.
"""

import importlib

from django.db import migrations

summary = importlib.import_module("incidents.migrations.0020_summary")

LATER = "incidents.summary_later"
INSERTED = summary._pg_function("incidents_summary_inserted", summary._pg_rows("new_rows", 1))
SKIPPED_LATER = INSERTED.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION").replace(
    "BEGIN\n", f"BEGIN\n    IF current_setting('{LATER}', true) = 'on' THEN\n        RETURN NULL;\n    END IF;\n", 1
)
COUNTED_FROM = summary._pg_rows("(SELECT * FROM incidents_incident WHERE id >= from_id) AS i", 1)
ADD_FROM = f"""
CREATE FUNCTION incidents_summary_add_from(from_id bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
{summary.UPSERT.format(select=summary._pg_select(COUNTED_FROM))}
END
$$;"""

FORWARD = [SKIPPED_LATER, ADD_FROM]
BACKWARD = [
    "DROP FUNCTION IF EXISTS incidents_summary_add_from(bigint);",
    INSERTED.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"),
]


def on_postgresql(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql, None)

    return run


class Migration(migrations.Migration):
    dependencies = [("incidents", "0022_summary_language")]

    operations = [migrations.RunPython(on_postgresql(FORWARD), on_postgresql(BACKWARD))]
