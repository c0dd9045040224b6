"""The benchmarks' data: courthouses, synthetic incidents loaded fast, the import file,
and the COPY baseline the export is measured against.

Every incident comes from incidents/synthetic.py (the one generator); this module
only writes its rows: COPY on PostgreSQL, executemany on SQLite, CSV for the import.
The incident columns are the model's own. Django must be set up (harness.setup_django_here)
before any function here runs, hence the imports inside them.
"""

import csv
import datetime
import io
import operator
import random
import shutil
import subprocess
import sys
import time
from typing import NamedTuple

from harness import log, query, scalar

COURTHOUSES = 8000  # over every county (3,200+)
PSQL = shutil.which("psql") or "/usr/lib/postgresql/15/bin/psql"
LOAD_SEED = 42


class Courthouse(NamedTuple):
    id: int
    county_id: str
    state_id: str
    name: str
    city: str
    county: str


# --- Courthouses ---------------------------------------------------------------------


def create_courthouses(db, total=COURTHOUSES, seed=7):
    """One courthouse in every county, the rest in counties picked with a skew; shuffled."""
    rng = random.Random(seed)
    counties = query(db, "SELECT fips, name FROM incidents_county ORDER BY fips")
    rng.shuffle(counties)
    extra = [counties[int(len(counties) * rng.random() ** 1.5)] for _ in range(max(0, total - len(counties)))]
    seen, rows = {}, []
    for fips, name in counties + extra:
        seen[fips] = n = seen.get(fips, 0) + 1
        rows.append(
            (
                f"{name} Courthouse {n}",
                f"bench-{fips}-{n}",
                f"{100 + n} Main Street",
                name.split(" ")[0],
                fips,
                COURT_TYPES[len(rows) % len(COURT_TYPES)],
            )
        )
    _insert_courthouses(db, rows)
    courthouses = [Courthouse(*row) for row in query(db, COURTHOUSE_SQL)]
    rng.shuffle(courthouses)
    return courthouses


# Mostly state courts, some immigration and federal ones (every court type has rows).
COURT_TYPES = ["state"] * 8 + ["immigration", "federal"]
COURTHOUSE_SQL = """SELECT ch.id, ch.county_id, c.state_id, ch.name, ch.city, c.name
    FROM incidents_courthouse ch JOIN incidents_county c ON c.fips = ch.county_id ORDER BY ch.id"""


def _insert_courthouses(db, rows):
    from django.db import connection, transaction

    # Through Django's connection on both databases: one code path, and on SQLite the
    # functions Django registers for its check constraints are there.
    with transaction.atomic(), connection.cursor() as cur:
        cur.executemany(
            "INSERT INTO incidents_courthouse (name, slug, address, city, is_demo, county_id, court_type) "
            "VALUES (%s, %s, %s, %s, false, %s, %s)",
            rows,
        )


def generator(courthouses, **options):
    from incidents.synthetic import Generator

    return Generator(courthouses, **options)


# --- Incidents -------------------------------------------------------------------


def incident_columns():
    """The incident table's columns and each one's default, from the model: all but the
    id and the nullable ones that no generated row fills (the database leaves them NULL)."""
    from incidents.models import Incident

    fields = [f for f in Incident._meta.concrete_fields if not (f.primary_key or f.null)]
    return [(f.attname, f.get_default()) for f in fields]


def _copy_value(value):
    if type(value) is str:
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    if value is None:
        return "\\N"
    if value is True or value is False:
        return "t" if value else "f"
    return str(value)


def _sqlite_value(value):
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).replace(tzinfo=None).isoformat(" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _values(columns, rows, number):
    defaults, values_of = dict(columns), operator.itemgetter(*(name for name, _ in columns))
    for n, row in enumerate(rows, number):
        yield values_of({**defaults, "reference": f"BENCH-{n:08d}", **row})


def _copy_batch(cur, columns, rows):
    buf = io.StringIO()
    for values in rows:
        buf.write("\t".join(map(_copy_value, values)))
        buf.write("\n")
    buf.seek(0)
    cur.copy_expert(f"COPY incidents_incident ({', '.join(name for name, _ in columns)}) FROM STDIN", buf)


def _sqlite_batch(columns, rows):
    from django.db import connection, transaction

    names, marks = ", ".join(name for name, _ in columns), ", ".join(["%s"] * len(columns))
    with transaction.atomic(), connection.cursor() as cur:
        cur.executemany(
            f"INSERT INTO incidents_incident ({names}) VALUES ({marks})",
            [[_sqlite_value(v) for v in values] for values in rows],
        )


def load_incidents(db, rows_of, first, count, batch=50_000):
    """Append `count` generated incidents, numbered from `first`, in date order."""
    started, columns = time.monotonic(), incident_columns()
    conn = db.connect()
    try:
        for offset in range(0, count, batch):
            size = min(batch, count - offset)
            rng = random.Random(f"{LOAD_SEED}-{first + offset}")
            rows = _values(
                columns, rows_of.rows(rng, first + offset, size, load=(first, count)), first + offset
            )
            if db.kind == "postgresql":
                _copy_batch(conn.cursor(), columns, rows)
            else:
                _sqlite_batch(columns, rows)
            rate = (offset + size) / max(time.monotonic() - started, 1e-6)
            sys.stderr.write(f"\r  {offset + size:,}/{count:,} incidents ({rate:,.0f}/s)   ")
        sys.stderr.write("\n")
    finally:
        conn.close()
    return time.monotonic() - started


INDEXES_SQL = """
    SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'incidents_incident'
    AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = 'incidents_incident'::regclass)"""
FK_TRIGGERS_SQL = """
    SELECT tgname FROM pg_trigger WHERE tgrelid = 'incidents_incident'::regclass
    AND tgisinternal AND tgconstraint IN (
        SELECT oid FROM pg_constraint WHERE contype = 'f' AND conrelid = 'incidents_incident'::regclass)"""


def bulk_load(db, rows_of, first, count):
    """load_incidents(), fast: on PostgreSQL a large load runs without the secondary
    indexes (rebuilt afterwards, which is several times quicker than maintaining them
    row by row) and without the foreign-key triggers (every row's courthouse, county
    and state come from the courthouse table; check_consistency() proves it after).
    User triggers, if the app ever adds any, stay on."""
    if db.kind != "postgresql" or count < 100_000:
        return load_incidents(db, rows_of, first, count)
    indexes = query(db, INDEXES_SQL)
    triggers = [name for (name,) in query(db, FK_TRIGGERS_SQL)]
    conn = db.connect()
    try:
        cur = conn.cursor()
        for name, _ in indexes:
            cur.execute(f'DROP INDEX "{name}"')
        for name in triggers:
            cur.execute(f'ALTER TABLE incidents_incident DISABLE TRIGGER "{name}"')
        seconds = load_incidents(db, rows_of, first, count)
    finally:
        started = time.monotonic()
        cur.execute("SET maintenance_work_mem = '256MB'")
        for name in triggers:
            cur.execute(f'ALTER TABLE incidents_incident ENABLE TRIGGER "{name}"')
        for _, definition in indexes:
            cur.execute(definition)
        conn.close()
    log(f"  {len(indexes)} indexes rebuilt in {time.monotonic() - started:.1f} s")
    check_consistency(db)
    return seconds


def check_consistency(db):
    """Every incident's courthouse exists and its county and state are the courthouse's."""
    bad = scalar(
        db,
        """
        SELECT count(*) FROM incidents_incident i
        LEFT JOIN incidents_courthouse ch ON ch.id = i.courthouse_id
        LEFT JOIN incidents_county co ON co.fips = ch.county_id
        WHERE ch.id IS NULL OR i.county_id <> ch.county_id OR i.state_id <> co.state_id""",
    )
    if bad:
        raise RuntimeError(f"{bad} generated incidents disagree with their courthouse")


def after_bulk_load(db):
    """Fresh planner statistics, and every cached figure forgotten (a new data version)."""
    query(db, "VACUUM ANALYZE" if db.kind == "postgresql" else "ANALYZE")
    query(db, "DELETE FROM incidents_dataversion")


def count_published(db, where="", params=()):
    return scalar(db, "SELECT count(*) FROM incidents_incident WHERE status = 'published'" + where, params)


# --- The import file ---------------------------------------------------------------


def write_import_file(path, courthouses, count, prefix):
    """A CSV file in the export's format of `count` new incidents (no id), written as generated."""
    from incidents import export

    rows_of, names = generator(courthouses), {c.id: c for c in courthouses}
    formatters = [export.CSV_FORMATTERS[kind] for kind in export.column_kinds()]
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = export.csv_writer(out)
        writer.writerow(export.COLUMNS)
        for n, row in enumerate(rows_of.rows(random.Random(prefix), 1, count)):
            cells = _import_cells(row, names[row["courthouse_id"]], f"{prefix}{n:08d}")
            writer.writerow([_cell(cells[name], fmt) for name, fmt in zip(export.COLUMNS, formatters)])
    return path


def _cell(value, format_):
    return "" if value == "" else format_(value)


def _import_cells(row, courthouse, reference):
    return {
        **row,
        "id": "",
        "reference": reference,
        "state": courthouse.state_id,
        "county": courthouse.county,
        "county_fips": courthouse.county_id,
        "courthouse": courthouse.name,
        "courthouse_city": courthouse.city,
        "court_type": "",  # a known courthouse keeps its own
        "source_url": row.get("source_url", ""),
        "created_at": "",
        "updated_at": "",
    }


# --- The COPY baseline -------------------------------------------------------------


def copy_select(query_string=""):
    """The SELECT the web export hands to COPY for a query string, from the app itself."""
    from django.http import QueryDict

    from incidents.export import copy_select as select
    from incidents.filters import filter_incidents

    return select(filter_incidents(QueryDict(query_string)).incidents)


def timed_copy(db, select, path):
    """(seconds, bytes) for psql running COPY of `select` into `path`."""
    started = time.perf_counter()
    with open(path, "wb") as out:
        command = [
            PSQL,
            db.url,
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            f"COPY ({select}) TO STDOUT WITH (FORMAT csv)",
        ]
        subprocess.run(command, check=True, stdout=out)
    return time.perf_counter() - started, path.stat().st_size


def count_csv_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return sum(1 for _ in csv.reader(f)) - 1  # less the header
