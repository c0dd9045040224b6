#!/usr/bin/env python3
"""Export benchmark: the web CSV export over HTTP against psql's COPY of the same rows.

    .venv/bin/python bench/export_bench.py --rows 1000000

Starts a throwaway PostgreSQL, migrates it, loads N synthetic incidents (bench/data.py),
serves the app with gunicorn (2 sync workers, DEBUG off) and measures, in one run:

- the web export: /incidents/export.csv downloaded in full;
- the practical limit: psql running COPY of the very SELECT the export runs;
- the peak memory of the gunicorn workers (sampled, and their VmHWM);
- a client hanging up mid-export: how soon the server holds no COPY and no transaction.

Prints a table and merges rows, export_vs_copy (export rows/s divided by COPY rows/s),
export_peak_rss_mb, export_rows_per_s and copy_rows_per_s into bench/results.json.
bench/run.py calls measure().
"""

import argparse
import socket
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import data
import harness
import traffic

RESULT_KEYS = (
    "rows",
    "export_vs_copy",
    "export_peak_rss_mb",
    "export_rows_per_s",
    "copy_rows_per_s",
    "export_seconds",
    "copy_seconds",
)


def measure(db, server, query="", repeat=2):
    """Best of `repeat` downloads and, on PostgreSQL, of `repeat` COPYs (after one to warm the cache)."""
    postgres = db.kind == "postgresql"
    with tempfile.TemporaryDirectory(prefix="export-bench-") as scratch:
        web_file, copy_file = Path(scratch) / "web.csv", Path(scratch) / "copy.csv"
        select = data.copy_select(query) if postgres else None
        copies = [data.timed_copy(db, select, copy_file) for _ in range(repeat + 1)][1:] if postgres else []
        with harness.RssSampler(server.worker_pids()) as rss:
            url = f"{server.base}/incidents/export.csv?{query}"
            exports = [traffic.save(url, web_file) for _ in range(repeat)]
        result = _export_figures(exports, data.count_csv_rows(web_file), rss.high_water_mb())
        if postgres:
            result.update(_copy_figures(copies, result), same_bytes_as_copy=same_bytes(web_file, copy_file))
            result["disconnect_cleanup_s"] = check_disconnect(db, server.base)
    return result


def _export_figures(exports, rows, peak_mb):
    export_s = min(s for s, _ in exports)
    return {
        "rows": rows,
        "export_seconds": round(export_s, 3),
        "export_rows_per_s": round(rows / export_s),
        "export_peak_rss_mb": round(peak_mb, 1),
        "export_mb": round(exports[0][1] / 1e6, 1),
        "export_runs_s": [round(s, 3) for s, _ in exports],
        "export_vs_copy": None,  # without PostgreSQL's COPY to compare with
    }


def _copy_figures(copies, export):
    copy_s = min(s for s, _ in copies)
    return {
        "copy_seconds": round(copy_s, 3),
        "copy_rows_per_s": round(export["rows"] / copy_s),
        "export_vs_copy": round(copy_s / export["export_seconds"], 3),
        "copy_runs_s": [round(s, 3) for s, _ in copies],
    }


def same_bytes(web_file, copy_file):
    """The web file is the header line plus the COPY output, byte for byte."""
    header = web_file.read_bytes()[:4096].split(b"\n", 1)[0] + b"\n"
    return web_file.read_bytes() == header + copy_file.read_bytes()


OPEN_SESSIONS_SQL = """SELECT count(*) FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid()
    AND ((state = 'active' AND query LIKE 'COPY%%') OR state LIKE 'idle in transaction%%')"""


def check_disconnect(db, base_url, read_bytes=1_000_000, wait=15):
    """Reads the start of the export, hangs up, and times how long until the server holds
    no COPY and no open transaction (None if it still does after `wait` seconds)."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(b"GET /incidents/export.csv HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        received = 0
        while received < read_bytes and (chunk := sock.recv(65536)):
            received += len(chunk)
    left = time.perf_counter()
    while time.perf_counter() - left < wait:
        if harness.scalar(db, OPEN_SESSIONS_SQL) == 0 and traffic.get(base_url + "/healthz").status == 200:
            return round(time.perf_counter() - left, 2)
        time.sleep(0.1)
    return None


def print_table(results, out=sys.stdout):
    out.write(f"\nExport benchmark, {results['rows']:,} rows ({results['export_mb']} MB)\n")
    out.write(f"{'':28}{'seconds':>10}{'rows/s':>14}\n")
    for label, key in (("web export (gunicorn)", "export"), ("psql COPY, same SELECT", "copy")):
        if f"{key}_seconds" in results:
            out.write(f"{label:28}{results[f'{key}_seconds']:>10.2f}{results[f'{key}_rows_per_s']:>14,}\n")
    out.write(f"export_vs_copy (target >= 0.5): {results['export_vs_copy']}\n")
    out.write(f"gunicorn worker peak RSS (target < 150 MB): {results['export_peak_rss_mb']} MB\n")
    if "copy_seconds" in results:
        out.write(f"web file = header + COPY output, byte for byte: {results['same_bytes_as_copy']}\n")
        out.write(
            "client hanging up mid-export: server free of COPY and open transaction after "
            f"{results['disconnect_cleanup_s']} s (None: never)\n"
        )
    out.write(f"runs: export {results['export_runs_s']} s, copy {results.get('copy_runs_s')} s\n")


def run(rows, repeat=2, query=""):
    with harness.Cleanup() as cleanup:
        db = harness.start_database(cleanup)
        env = harness.prepare_app(cleanup, db)
        harness.setup_django_here(env)
        data.bulk_load(db, data.generator(data.create_courthouses(db)), 1, rows)
        data.after_bulk_load(db)
        server = harness.start_gunicorn(cleanup, env)
        return measure(db, server, query=query, repeat=repeat)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2, help="runs of each measurement; the best counts")
    parser.add_argument("--query", default="", help="filters for the export, e.g. state=NY")
    parser.add_argument("--no-write", action="store_true", help="do not update bench/results.json")
    args = parser.parse_args(argv)
    results = run(args.rows, repeat=args.repeat, query=args.query)
    print_table(results)
    if not args.no_write:
        harness.merge_json(harness.RESULTS, {key: results[key] for key in RESULT_KEYS})
    return 0


if __name__ == "__main__":
    sys.exit(main())
