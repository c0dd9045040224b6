"""An incident's courthouse must exist: checked once per statement, not once per row.

A foreign-key constraint runs one lookup for every inserted row (its cost per row is
in bench/README.md, "Costs per row, measured"). These triggers keep the same
guarantee with one join over all the rows a statement wrote.

PostgreSQL: after each INSERT or UPDATE of incidents, every courthouse they name
is locked FOR KEY SHARE, as a foreign key would lock it, so that it cannot be
deleted before this transaction ends, and a missing one raises
foreign_key_violation (Django's IntegrityError). Deleting a courthouse (or
changing its id) that incidents still name raises it too.

SQLite: the same check before each inserted or changed row (a lookup is cheap
there). Deleting a courthouse is refused by Django (on_delete=PROTECT); a SQLite
trigger on that side would break the flush of test databases, which deletes
tables in name order.

tests/test_models.py checks both backends refuse a missing courthouse: SQLite
drops a table's triggers when a later migration remakes the table, and the test
would then fail.
"""

import django.db.models.deletion
from django.db import migrations, models

POSTGRESQL = """
CREATE FUNCTION incidents_incident_courthouse_exists() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    missing bigint;
BEGIN
    PERFORM 1 FROM incidents_courthouse
     WHERE id IN (SELECT DISTINCT courthouse_id FROM new_rows) FOR KEY SHARE;
    SELECT n.courthouse_id INTO missing FROM new_rows n
     WHERE NOT EXISTS (SELECT 1 FROM incidents_courthouse c WHERE c.id = n.courthouse_id)
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
            MESSAGE = format('incident names courthouse %s, which does not exist', missing);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER incident_courthouse_inserted AFTER INSERT ON incidents_incident
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION incidents_incident_courthouse_exists();
CREATE TRIGGER incident_courthouse_updated AFTER UPDATE ON incidents_incident
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION incidents_incident_courthouse_exists();

CREATE FUNCTION incidents_courthouse_unused() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    used bigint;
BEGIN
    IF TG_OP = 'DELETE' THEN
        SELECT i.courthouse_id INTO used FROM incidents_incident i
         WHERE i.courthouse_id IN (SELECT id FROM old_rows) LIMIT 1;
    ELSE
        SELECT i.courthouse_id INTO used FROM incidents_incident i
         WHERE i.courthouse_id IN (SELECT id FROM old_rows EXCEPT SELECT id FROM new_rows) LIMIT 1;
    END IF;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
            MESSAGE = format('courthouse %s is still named by incidents', used);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER courthouse_deleted AFTER DELETE ON incidents_courthouse
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION incidents_courthouse_unused();
CREATE TRIGGER courthouse_renumbered AFTER UPDATE ON incidents_courthouse
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION incidents_courthouse_unused();
"""

POSTGRESQL_REVERSE = """
DROP TRIGGER courthouse_renumbered ON incidents_courthouse;
DROP TRIGGER courthouse_deleted ON incidents_courthouse;
DROP FUNCTION incidents_courthouse_unused();
DROP TRIGGER incident_courthouse_updated ON incidents_incident;
DROP TRIGGER incident_courthouse_inserted ON incidents_incident;
DROP FUNCTION incidents_incident_courthouse_exists();
"""

SQLITE_CHECK = """
CREATE TRIGGER incident_courthouse_{event} BEFORE {statement} ON incidents_incident
WHEN NOT EXISTS (SELECT 1 FROM incidents_courthouse WHERE id = NEW.courthouse_id)
BEGIN
    SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: the incident names no existing courthouse');
END;
"""
SQLITE = [
    SQLITE_CHECK.format(event="inserted", statement="INSERT"),
    SQLITE_CHECK.format(event="updated", statement="UPDATE OF courthouse_id"),
]
SQLITE_REVERSE = [
    "DROP TRIGGER incident_courthouse_updated",
    "DROP TRIGGER incident_courthouse_inserted",
]


def run(statements):
    def operation(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        for sql in statements.get(vendor, []):
            schema_editor.execute(sql, None)  # no parameters: the % signs are PL/pgSQL format()

    return operation


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0007_import_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="incident",
            name="courthouse",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="incidents",
                to="incidents.courthouse",
                verbose_name="courthouse",
            ),
        ),
        migrations.RunPython(
            run({"postgresql": [POSTGRESQL], "sqlite": SQLITE}),
            run({"postgresql": [POSTGRESQL_REVERSE], "sqlite": SQLITE_REVERSE}),
        ),
    ]
