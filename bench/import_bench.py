#!/usr/bin/env python3
"""Import benchmark: rows per second and peak memory of `manage.py import_incidents`.

    .venv/bin/python bench/import_bench.py --rows 1000000                      # into a 1M-row table
    .venv/bin/python bench/import_bench.py --rows 20000 --table-rows 0 --no-write

Loads --table-rows incidents first (default: as many as the file has), as
`make bench` imports into its N-row table. Writes a CSV file of new incidents in the export's format (bench/data.py, from the
one synthetic generator), then runs `manage.py import_incidents FILE --dry-run` and
`manage.py import_incidents FILE`, each in its own process. The peak resident memory
of each process is its own high-water mark (VmHWM, harness.run_measured), so no
peak between two samples is missed. The rate is the real import's rows per second.
Standalone, it starts a throwaway PostgreSQL and merges its keys into bench/results.json;
bench/run.py calls measure() on the database it already has.
"""

import argparse
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import data
import harness

RESULT_KEYS = (
    "import_rows_per_s",
    "import_peak_rss_mb",
    "import_dry_run_peak_rss_mb",
    "import_real_peak_rss_mb",
)


def measure(env, courthouses, rows, table_rows=None):
    """Peak RSS of a dry run and of a real import of a `rows`-row file, and the import's rate.

    `table_rows`: how many incidents the table holds before (for the record)."""
    with tempfile.TemporaryDirectory(prefix="import-bench-") as scratch:
        path = data.write_import_file(Path(scratch) / "incidents.csv", courthouses, rows, "IMPORT-")
        size = path.stat().st_size
        # The file may be larger than the default upload limit; the limit is not what is measured here.
        env = {**env, "IMPORT_MAX_BYTES": str(max(size, 1))}
        harness.log(f"import of {rows:,} rows ({size / 1e6:.0f} MB): dry run, then for real")
        dry = _import(env, path, "--dry-run")
        real = _import(env, path)
    return {
        "rows": rows,
        "table_rows": table_rows,
        "file_mb": round(size / 1e6, 1),
        "dry_run": dry,
        "real": real,
        "import_rows_per_s": round(rows / real["seconds"]),
        "import_dry_run_peak_rss_mb": dry["peak_rss_mb"],
        "import_real_peak_rss_mb": real["peak_rss_mb"],
        "import_peak_rss_mb": max(dry["peak_rss_mb"], real["peak_rss_mb"]),
    }


def _import(env, path, *flags):
    command = [harness.PY, "manage.py", "import_incidents", str(path), *flags]
    wall, peak, stdout, _ = harness.run_measured(command, env)
    # The command reports the import's own time; without it, the wall time (startup included).
    reported = re.search(r"\(([\d.]+) s\)\.?\s*$", stdout)
    seconds = float(reported[1]) if reported else wall
    harness.log(f"  import_incidents {' '.join(flags)}: {seconds:.1f} s, peak RSS {peak:.0f} MB")
    return {"seconds": round(seconds, 2), "wall_seconds": round(wall, 2), "peak_rss_mb": round(peak, 1)}


def print_table(result, out=sys.stdout):
    into = f" into {result['table_rows']:,} incidents" if result.get("table_rows") is not None else ""
    out.write(f"\nImport benchmark, {result['rows']:,} rows ({result['file_mb']} MB){into}\n")
    for name in ("dry_run", "real"):
        run = result[name]
        out.write(f"  {name:8} {run['seconds']:>8.1f} s   peak RSS {run['peak_rss_mb']:>8.1f} MB\n")
    out.write(f"import_rows_per_s (target >= 20,000): {result['import_rows_per_s']:,}\n")
    out.write(f"import_peak_rss_mb (target <= 300): {result['import_peak_rss_mb']}\n")


def run(rows, table_rows):
    with harness.Cleanup() as cleanup:
        db = harness.start_database(cleanup)
        env = harness.prepare_app(cleanup, db)
        harness.setup_django_here(env)
        courthouses = data.create_courthouses(db)
        if table_rows:
            harness.log(f"loading {table_rows:,} incidents")
            data.bulk_load(db, data.generator(courthouses, retracted=0.01), 1, table_rows)
            data.after_bulk_load(db)
        return measure(env, courthouses, rows, table_rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the import file")
    parser.add_argument("--table-rows", type=int, help="incidents in the table before (default --rows)")
    parser.add_argument("--no-write", action="store_true", help="do not update bench/results.json")
    args = parser.parse_args(argv)
    table_rows = args.rows if args.table_rows is None else args.table_rows
    result = run(args.rows, table_rows)
    print_table(result)
    if not args.no_write:
        harness.merge_json(harness.RESULTS, {key: result[key] for key in RESULT_KEYS})
    return 0


if __name__ == "__main__":
    sys.exit(main())
