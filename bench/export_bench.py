#!/usr/bin/env python3
"""Export benchmark: the web CSV export over HTTP against psql's COPY of the same rows.

    .venv/bin/python bench/export_bench.py --rows 1000000

Starts a throwaway PostgreSQL (tests/pgcluster.sh), migrates it, loads N synthetic
incidents with one INSERT ... SELECT generate_series, serves the app with gunicorn
(2 sync workers, DEBUG off) and measures, in one run:

- the web export: /incidents/export.csv downloaded in full by curl;
- the practical limit: psql running COPY of the same SELECT to a file;
- the peak memory (VmHWM) of the gunicorn workers.

Prints a table and merges rows, export_vs_copy (export rows/s divided by COPY rows/s),
export_peak_rss_mb, export_rows_per_s and copy_rows_per_s into bench/results.json.
Every step is a function, so that a larger benchmark can reuse them.
"""

import argparse
import csv
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
RESULTS = ROOT / "bench" / "results.json"
PSQL = shutil.which("psql") or "/usr/lib/postgresql/15/bin/psql"
SECRET_KEY = "bench-only-secret-key-not-for-production-0123456789"


# --- PostgreSQL --------------------------------------------------------------


def start_cluster(directory):
    """DATABASE_URL of a new throwaway cluster in `directory`."""
    out = subprocess.run(
        ["bash", str(ROOT / "tests/pgcluster.sh"), "start", str(directory)],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def stop_cluster(directory):
    subprocess.run(["bash", str(ROOT / "tests/pgcluster.sh"), "stop", str(directory)], check=False)


def app_env(database_url):
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": SECRET_KEY,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_LOG_LEVEL": "WARNING",
        "DJANGO_HTTPS": "false",
        "DJANGO_SSL_REDIRECT": "false",
    }


def migrate(database_url):
    subprocess.run(
        [str(VENV_BIN / "python"), "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=app_env(database_url),
        check=True,
    )


def psql(database_url, sql, **kwargs):
    return subprocess.run(
        [PSQL, database_url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql],
        check=True,
        **kwargs,
    )


# Synthetic rows in one statement: every choice value used, about 1 summary in 40
# quoted (commas, quotes, a line break) and 1 in 97 starting with a formula
# character, so the export's quoting and escaping do real work.
LOAD_SQL = """
SET session_replication_role = replica;  -- the rows are consistent by construction: skip FK triggers
-- Joins on `n = g % total` with total a constant, so that they are hash joins.
WITH counties AS (
  SELECT fips, name, row_number() OVER (ORDER BY fips) - 1 AS n FROM incidents_county
)
INSERT INTO incidents_courthouse (name, slug, address, city, county_id, is_demo)
SELECT c.name || ' Courthouse ' || g, 'bench-' || g, g || ' Main Street', split_part(c.name, ' ', 1), c.fips, false
FROM generate_series(0, {courthouses} - 1) g
JOIN counties c ON c.n = g % (SELECT count(*) FROM incidents_county);

WITH courthouses AS (
  SELECT ch.id, ch.county_id, co.state_id, row_number() OVER (ORDER BY ch.id) - 1 AS n
  FROM incidents_courthouse ch JOIN incidents_county co ON co.fips = ch.county_id
), s AS (
  SELECT g,
    LEAST(date '2017-01-01' + ((g::bigint * 7919) % 3300)::int, current_date) AS day,
    g % 12 = 0 AS month_only,
    (ARRAY['criminal','family','civil','housing','traffic','juvenile','immigration','other','unknown'])[1 + g % 9] AS case_type,
    (ARRAY['arrested','arrested','arrested','attempted','observed','unknown'])[1 + (g / 3) % 6] AS outcome,
    (ARRAY['defendant','victim','witness','litigant','companion','other','unknown'])[1 + (g / 5) % 7] AS person_role,
    (ARRAY['courtroom','inside','entrance','outside','unknown'])[1 + (g / 7) % 5] AS location
  FROM generate_series(1, {rows}) g
)
INSERT INTO incidents_incident (
  reference, date, date_precision, courthouse_id, county_id, state_id, case_type, outcome, people_count,
  person_role, location, agency, plain_clothes, agents_identified, force_used, court_staff_assisted, warrant,
  verification, source_type, source_url, summary, status, retraction_reason, internal_notes, docket_number,
  reporter_contact, created_at, updated_at, version, is_demo)
SELECT
  'BENCH-' || lpad(s.g::text, 8, '0'),
  CASE WHEN month_only THEN date_trunc('month', day)::date ELSE day END,
  CASE WHEN month_only THEN 'month' ELSE 'day' END,
  c.id, c.county_id, c.state_id, case_type, outcome,
  CASE outcome WHEN 'arrested' THEN 1 + (s.g % 7 = 0)::int WHEN 'unknown' THEN s.g % 2 ELSE 0 END,
  person_role, location,
  (ARRAY['ice','ice','ice','cbp','other','unknown'])[1 + s.g % 6],
  (ARRAY['yes','no','unknown'])[1 + s.g % 3],
  (ARRAY['yes','no','unknown'])[1 + (s.g / 3) % 3],
  (ARRAY['yes','no','unknown'])[1 + (s.g / 9) % 3],
  (ARRAY['yes','no','unknown'])[1 + (s.g / 27) % 3],
  (ARRAY['judicial','administrative','none','unknown'])[1 + s.g % 4],
  (ARRAY['unverified','verified','disputed'])[1 + s.g % 3],
  (ARRAY['court_record','attorney','news','community','government','other'])[1 + s.g % 6],
  CASE WHEN s.g % 3 = 0 THEN 'https://example.org/reports/' || s.g ELSE '' END,
  CASE WHEN s.g % 97 = 0 THEN '=' ELSE '' END
    || 'Agents ' || outcome || ' (' || person_role || ', ' || location || ') during a ' || case_type
    || ' hearing; report number ' || s.g
    || CASE WHEN s.g % 40 = 0 THEN E', "quoted" and\\nspread over two lines' ELSE '.' END,
  'published', '', '', '', '', now(), now(), 1, false
FROM s JOIN courthouses c ON c.n = s.g % (SELECT count(*) FROM incidents_courthouse)
ORDER BY s.day, s.g;  -- rows are entered roughly in date order, so the table is laid out that way
"""


def load_incidents(database_url, rows, courthouses=8000):
    psql(database_url, LOAD_SQL.format(rows=int(rows), courthouses=int(courthouses)))
    psql(database_url, "VACUUM ANALYZE")  # not inside the load's transaction


def prepare(database_url, rows):
    migrate(database_url)
    load_incidents(database_url, rows)


def copy_select(database_url, query=""):
    """The SELECT the web export hands to COPY for a query string, from the app itself."""
    code = (
        "import django; django.setup()\n"
        "from django.http import QueryDict\n"
        "from incidents.export import copy_select\n"
        "from incidents.filters import filter_incidents\n"
        f"print(copy_select(filter_incidents(QueryDict({query!r})).incidents))\n"
    )
    env = {**app_env(database_url), "DJANGO_SETTINGS_MODULE": "tracker.settings"}
    return subprocess.run(
        [str(VENV_BIN / "python"), "-c", code],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


# --- gunicorn ----------------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(database_url, workers=2, port=None):
    """(gunicorn process, base URL), once it answers."""
    port = port or free_port()
    process = subprocess.Popen(
        [
            str(VENV_BIN / "gunicorn"),
            "tracker.wsgi:application",
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "600",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=app_env(database_url),
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            status = http_status("127.0.0.1", port, "/incidents/export.csv?state=ZZ")
        except OSError:
            if process.poll() is not None:
                raise RuntimeError("gunicorn exited while starting") from None
            time.sleep(0.1)
            continue
        if status == 400:  # the answer to a bad filter: it is up
            return process, base
        stop_server(process)
        raise RuntimeError(f"gunicorn answered {status} instead of 400 (an https redirect?)")
    stop_server(process)
    raise RuntimeError("gunicorn did not answer")


def http_status(host, port, path):
    connection = http.client.HTTPConnection(host, port, timeout=5)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


def stop_server(process):
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def worker_pids(master_pid):
    pids = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(master_pid):
            pids.append(int(status.parent.name))
    return pids


def memory_kb(pid, field):
    """VmRSS (now) or VmHWM (peak so far) of a process, in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


class RssSampler(threading.Thread):
    """Samples the workers' resident memory while a download runs."""

    def __init__(self, pids, every=0.02):
        super().__init__(daemon=True)
        self.pids, self.every, self.peak_kb, self.done = (
            pids,
            every,
            0,
            threading.Event(),
        )

    def run(self):
        while not self.done.is_set():
            self.peak_kb = max([self.peak_kb] + [memory_kb(pid, "VmRSS") for pid in self.pids])
            time.sleep(self.every)

    def stop(self):
        self.done.set()
        self.join()
        # VmHWM catches a peak shorter than the sampling interval.
        return max([self.peak_kb] + [memory_kb(pid, "VmHWM") for pid in self.pids]) / 1024


# --- measurements ------------------------------------------------------------


def timed_download(url, path):
    """(seconds, bytes) for curl fetching url into path."""
    started = time.perf_counter()
    out = subprocess.run(
        ["curl", "-sS", "--fail", "-o", str(path), "-w", "%{size_download}", url],
        check=True,
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - started, int(out.stdout)


def timed_copy(database_url, select, path):
    """(seconds, bytes) for psql running COPY of select into path."""
    started = time.perf_counter()
    with open(path, "wb") as out:
        psql(database_url, f"COPY ({select}) TO STDOUT WITH (FORMAT csv)", stdout=out)
    return time.perf_counter() - started, path.stat().st_size


def count_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return sum(1 for _ in csv.reader(f)) - 1  # less the header


def measure(database_url, base_url, master_pid, query="", repeat=2, workdir=None):
    """Best of `repeat` runs of each, after one COPY to warm the cache."""
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="export-bench-") as scratch:
            return measure(database_url, base_url, master_pid, query, repeat, scratch)
    workdir = Path(workdir)
    web_file, copy_file = workdir / "web.csv", workdir / "copy.csv"
    select = copy_select(database_url, query)
    timed_copy(database_url, select, copy_file)
    pids = worker_pids(master_pid)
    sampler = RssSampler(pids)
    sampler.start()
    exports = [timed_download(f"{base_url}/incidents/export.csv?{query}", web_file) for _ in range(repeat)]
    peak_mb = sampler.stop()
    copies = [timed_copy(database_url, select, copy_file) for _ in range(repeat)]
    disconnect_s = check_disconnect(database_url, base_url)
    rows = count_rows(web_file)
    header = web_file.read_bytes()[:4096].split(b"\n", 1)[0] + b"\n"
    identical = web_file.stat().st_size == len(header) + copy_file.stat().st_size
    web_file.unlink()
    copy_file.unlink()
    export_s, copy_s = min(s for s, _ in exports), min(s for s, _ in copies)
    return {
        "rows": rows,
        "export_seconds": round(export_s, 3),
        "copy_seconds": round(copy_s, 3),
        "export_rows_per_s": round(rows / export_s),
        "copy_rows_per_s": round(rows / copy_s),
        "export_vs_copy": round(copy_s / export_s, 3),
        "export_peak_rss_mb": round(peak_mb, 1),
        "export_mb": round(exports[0][1] / 1e6, 1),
        "same_bytes_as_copy": identical,
        "disconnect_cleanup_s": disconnect_s,
        "export_runs_s": [round(s, 3) for s, _ in exports],
        "copy_runs_s": [round(s, 3) for s, _ in copies],
    }


def open_sessions(database_url):
    """Sessions other than ours still running a COPY or holding a transaction open."""
    sql = (
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        " AND ((state = 'active' AND query LIKE 'COPY%') OR state LIKE 'idle in transaction%')"
    )
    out = subprocess.run(
        [PSQL, database_url, "-X", "-A", "-t", "-c", sql],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(out.stdout.strip())


def check_disconnect(database_url, base_url, read_bytes=1_000_000, wait=15):
    """Reads the start of the export, hangs up, and times how long until the server holds
    no COPY and no open transaction (None if it still does after `wait` seconds)."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(b"GET /incidents/export.csv HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        received = 0
        while received < read_bytes:
            data = sock.recv(65536)
            if not data:
                break
            received += len(data)
    left = time.perf_counter()
    while time.perf_counter() - left < wait:
        if (
            open_sessions(database_url) == 0
            and http_status(host, int(port), "/incidents/export.csv?state=ZZ") == 400
        ):
            return round(time.perf_counter() - left, 2)
        time.sleep(0.1)
    return None


RESULT_KEYS = (
    "rows",
    "export_vs_copy",
    "export_peak_rss_mb",
    "export_rows_per_s",
    "copy_rows_per_s",
    "export_seconds",
    "copy_seconds",
)


def write_results(results, path=RESULTS):
    """Merge this benchmark's keys into results.json, keeping other benchmarks' keys."""
    merged = json.loads(path.read_text()) if path.exists() else {}
    merged.update({key: results[key] for key in RESULT_KEYS})
    path.write_text(json.dumps(merged, indent=2, sort_keys=True) + "\n")


def print_table(results, out=sys.stdout):
    rows = results["rows"]
    out.write(f"\nExport benchmark, {rows:,} rows ({results['export_mb']} MB)\n")
    out.write(f"{'':28}{'seconds':>10}{'rows/s':>14}\n")
    out.write(
        f"{'web export (gunicorn, curl)':28}{results['export_seconds']:>10.2f}{results['export_rows_per_s']:>14,}\n"
    )
    out.write(
        f"{'psql COPY, same SELECT':28}{results['copy_seconds']:>10.2f}{results['copy_rows_per_s']:>14,}\n"
    )
    out.write(f"export_vs_copy (target >= 0.5): {results['export_vs_copy']}\n")
    out.write(f"gunicorn worker peak RSS (target < 150 MB): {results['export_peak_rss_mb']} MB\n")
    out.write(f"web file = header + COPY output, byte for byte: {results['same_bytes_as_copy']}\n")
    out.write(
        "client hanging up mid-export: server free of COPY and open transaction after "
        f"{results['disconnect_cleanup_s']} s (None: never)\n"
    )
    out.write(f"runs: export {results['export_runs_s']} s, copy {results['copy_runs_s']} s\n")


def run(rows, repeat=2, query=""):
    workdir = Path(tempfile.mkdtemp(prefix="export-bench-"))
    cluster = Path(tempfile.mkdtemp(prefix="export-bench-pg-"))  # pgcluster.sh hands it to postgres
    server = None
    try:
        database_url = start_cluster(cluster)
        started = time.perf_counter()
        prepare(database_url, rows)
        sys.stderr.write(f"Migrated and loaded {rows:,} incidents in {time.perf_counter() - started:.0f} s\n")
        server, base_url = start_server(database_url)
        return measure(
            database_url,
            base_url,
            server.pid,
            query=query,
            repeat=repeat,
            workdir=workdir,
        )
    finally:
        if server:
            stop_server(server)
        stop_cluster(cluster)
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv=None):
    # A plain SIGTERM would skip the finally blocks that stop gunicorn and PostgreSQL.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--repeat",
        type=int,
        default=2,
        help="runs of each measurement; the best counts",
    )
    parser.add_argument("--query", default="", help="filters for the export, e.g. state=NY")
    parser.add_argument("--no-write", action="store_true", help="do not update bench/results.json")
    args = parser.parse_args(argv)
    results = run(args.rows, repeat=args.repeat, query=args.query)
    print_table(results)
    if not args.no_write:
        write_results(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
