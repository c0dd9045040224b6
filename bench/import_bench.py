"""Import speed: rows per second for a CSV file of new incidents.

    .venv/bin/python bench/import_bench.py --rows 100000

Without DATABASE_URL it starts a throwaway PostgreSQL cluster (tests/pgcluster.sh),
migrates it, imports one generated file and stops the cluster. It prints the rate
and merges `import_rows_per_s` into bench/results.json. `measure_import()` is the
reusable part for a database that is already migrated (e.g. from bench/run.py).
"""

import argparse
import csv
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"


def generate_csv(rows, seed=1, courthouses=200):
    """A CSV file (bytes) in the export's format, of `rows` incidents not yet in the database."""
    from incidents.export import COLUMNS
    from incidents.management.commands.generate_incidents import Command
    from incidents.synthetic import build_incidents

    rng = random.Random(seed)
    pool = Command().courthouse_pool(rng, courthouses)
    county_names = {c.county_id: c.county.name for c in pool}
    prefix = f"BENCH-{seed}-{rng.getrandbits(32):08x}-"
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for incident in build_incidents(rng, pool, rows, prefix):
        courthouse = incident.courthouse
        values = {
            "id": "",
            "created_at": "",
            "updated_at": "",
            "state": incident.state_id,
            "county": county_names[incident.county_id],
            "county_fips": incident.county_id,
            "courthouse": courthouse.name,
            "courthouse_city": courthouse.city,
            "date": incident.date.isoformat(),
        }
        row = [values[name] if name in values else getattr(incident, name) for name in COLUMNS]
        writer.writerow(row)
    return out.getvalue().encode()


def measure_import(rows, seed=1):
    """Rows per second of import_csv() for a generated file of new incidents."""
    from incidents.imports import import_csv

    data = generate_csv(rows, seed)
    started = time.perf_counter()
    report = import_csv(data)
    elapsed = time.perf_counter() - started
    if not report.written or len(report.to_create) != rows:
        raise SystemExit(f"import failed: {report.error_lines[:5]}")
    return rows / elapsed, elapsed


def save_result(name, value):
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results[name] = value
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")


def setup_django():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def run(rows, seed):
    setup_django()
    from django.db import connection

    rate, elapsed = measure_import(rows, seed)
    print(f"import: {rows:,} new incidents in {elapsed:.2f} s = {rate:,.0f} rows/s ({connection.vendor})")
    if connection.vendor == "postgresql":  # the target is stated for PostgreSQL only
        save_result("import_rows_per_s", round(rate))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if os.environ.get("DATABASE_URL"):
        return run(args.rows, args.seed)
    cluster = tempfile.mkdtemp(prefix="tracker-bench-pg.")
    script = ROOT / "tests" / "pgcluster.sh"
    try:
        url = subprocess.run(
            ["bash", script, "start", cluster], check=True, capture_output=True, text=True
        ).stdout.strip()
        os.environ["DATABASE_URL"] = url
        run(args.rows, args.seed)
    finally:
        subprocess.run(["bash", script, "stop", cluster], check=False)


if __name__ == "__main__":
    main()
