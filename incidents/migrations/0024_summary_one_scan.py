"""The summary's PostgreSQL functions read their rows once: one GROUP BY GROUPING SETS.

0020's functions run one GROUP BY per dimension and grain, twelve in all, and each
reads its source again. For a trigger's transition table that is cheap; for
incidents_summary_add_from (0023), which an import calls over every row it
created, it is twelve reads of a million rows: 12 s of a 1M-row import into a 1M
table. One read feeding twelve hash tables takes 4 s, and the upsert 2 s more.

add_from may hash in up to WORK_MEM: the number of groups, not of rows, bounds
it (34 MB for 1M imported rows). With the default 4 MB the hash tables spill to
disk and the grouping sets are sorted instead, which is slower than 0020's way.
The triggers' inputs are a statement's rows, and keep the default.
"""

import importlib

from django.db import migrations

summary = importlib.import_module("incidents.migrations.0020_summary")
later = importlib.import_module("incidents.migrations.0023_summary_after_import")

WORK_MEM = "128MB"


def select_once(source):
    """The changed counts of `source` (rows with a sign), in one read of it: the same
    rows as 0020's _pg_select, in the same order (3, 1, 2, 4), so that concurrent
    upserts take the summary's row locks in one order."""
    sets, dimension, value = [], [], []
    for name, column in summary.DIMENSIONS.items():
        sets.append(f"(c.state_id, c.{column})")
        if name not in summary.WITHOUT_MONTHS:
            sets.append(f"(c.month, c.state_id, c.{column})")
        dimension.append(f"WHEN GROUPING(c.{column}) = 0 THEN '{name}'")
        value.append(f"WHEN GROUPING(c.{column}) = 0 THEN c.{column}::text")
    return f"""
    SELECT CASE WHEN GROUPING(c.month) = 0 THEN c.month ELSE DATE '{summary.ALL_TIME}' END AS month,
           c.state_id, CASE {" ".join(dimension)} END AS dimension, CASE {" ".join(value)} END AS value,
           SUM(c.sign) AS incidents, SUM(c.sign * c.people_count) AS people
      FROM (SELECT date_trunc('month', r.date)::date AS month, r.* FROM ({source}) r) c
     GROUP BY GROUPING SETS ({", ".join(sets)})
    HAVING SUM(c.sign) <> 0 OR SUM(c.sign * c.people_count) <> 0
     ORDER BY 3, 1, 2, 4"""


def _function(name, rows, first=""):
    """A trigger function upserting the counts of `rows` (0020's, with `first` before them)."""
    return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{first}{summary.UPSERT.format(select=select_once(rows))}
    RETURN NULL;
END
$$;"""


NEW_ROWS, OLD_ROWS = summary._pg_rows("new_rows", 1), summary._pg_rows("old_rows", -1)
# 0023: an import counts its rows itself, once, at its end
COUNTED_LATER = f"""    IF current_setting('{later.LATER}', true) = 'on' THEN
        RETURN NULL;
    END IF;
"""
FORWARD = [
    _function("incidents_summary_inserted", NEW_ROWS, first=COUNTED_LATER),
    _function("incidents_summary_deleted", OLD_ROWS),
    _function("incidents_summary_updated", f"{NEW_ROWS} UNION ALL {OLD_ROWS}"),
    f"""
CREATE OR REPLACE FUNCTION incidents_summary_add_from(from_id bigint) RETURNS void LANGUAGE plpgsql
SET work_mem = '{WORK_MEM}' AS $$
BEGIN
{summary.UPSERT.format(select=select_once(later.COUNTED_FROM))}
END
$$;""",
]
BACKWARD = [
    later.SKIPPED_LATER,
    summary._pg_function("incidents_summary_deleted", OLD_ROWS).replace(
        "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"
    ),
    summary._pg_function("incidents_summary_updated", f"{NEW_ROWS} UNION ALL {OLD_ROWS}").replace(
        "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"
    ),
    "DROP FUNCTION incidents_summary_add_from(bigint);",
    later.ADD_FROM,
]


class Migration(migrations.Migration):
    dependencies = [("incidents", "0023_summary_after_import")]

    operations = [migrations.RunPython(later.on_postgresql(FORWARD), later.on_postgresql(BACKWARD))]
