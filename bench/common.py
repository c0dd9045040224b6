"""Shared machinery of the benchmarks (bench/run.py, bench/load.py).

A throwaway database (PostgreSQL via tests/pgcluster.sh, or an SQLite file), the
production settings served by gunicorn, synthetic incidents loaded fast (COPY on
PostgreSQL), wrk runs parsed into numbers, and the server's memory sampled from /proc.
Everything started here is registered with a `Cleanup`, which stops it on normal
exit, on an exception, on Ctrl-C and on SIGTERM.
"""

import bisect
import contextlib
import datetime
import http.client
import io
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PY = sys.executable
PGCLUSTER = ROOT / "tests" / "pgcluster.sh"
SECRET_KEY = "bench-only-secret-key-not-for-production-0123456789"

# The benchmark's synthetic data: ~8,000 courthouses over every county (3,200+).
COURTHOUSES = 8000
FIRST_DATE = datetime.date(2017, 1, 1)
# A combination the generator never produces (see IncidentGenerator.row), so the
# "matches nothing" list variant truly matches nothing at every size.
NO_MATCH = {
    "state": "WY",
    "case_type": "juvenile",
    "person_role": "witness",
    "location": "courtroom",
}


def log(message):
    sys.stderr.write(f"[{time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


# --- Cleanup -------------------------------------------------------------------


class Cleanup(contextlib.ExitStack):
    """An ExitStack that also unwinds on SIGTERM and SIGHUP (Ctrl-C raises KeyboardInterrupt)."""

    def __enter__(self):
        super().__enter__()
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, _exit_on_signal)
        # A process started in the background by a script inherits SIGINT ignored.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        return self

    def __exit__(self, *exc):
        if exc[0] is not None and issubclass(exc[0], (KeyboardInterrupt, SystemExit)):
            log("interrupted: stopping everything this run started")
        return super().__exit__(*exc)


def _exit_on_signal(signum, frame):
    raise SystemExit(128 + signum)


# --- Databases -------------------------------------------------------------------


class PostgresCluster:
    """A throwaway PostgreSQL 15 cluster (tests/pgcluster.sh), removed by stop()."""

    kind = "postgresql"

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="tracker-bench-pg.")
        out = subprocess.run(
            ["bash", PGCLUSTER, "start", self.dir],
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode:
            self.stop()
            raise RuntimeError(f"PostgreSQL did not start: {out.stderr.strip()}")
        self.url = out.stdout.strip()

    def connect(self):
        import psycopg2

        conn = psycopg2.connect(self.url)
        conn.autocommit = True
        return conn

    def stop(self):
        subprocess.run(["bash", PGCLUSTER, "stop", self.dir], capture_output=True, check=False)


class SqliteDatabase:
    """An SQLite file in a temporary directory."""

    kind = "sqlite"

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="tracker-bench-sqlite.")
        self.path = Path(self.dir) / "db.sqlite3"
        self.url = f"sqlite:///{self.path}"

    def connect(self):
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=60)
        return conn

    def stop(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def start_database(cleanup, sqlite=False):
    db = SqliteDatabase() if sqlite else PostgresCluster()
    cleanup.callback(db.stop)
    log(f"database: {db.kind} at {db.url}")
    return db


def query(db, sql, params=()):
    """All rows of one statement, on a short-lived connection."""
    conn = db.connect()
    try:
        cur = conn.cursor()
        cur.execute(sql if db.kind == "postgresql" else sql.replace("%s", "?"), params)
        return cur.fetchall() if cur.description else []
    finally:
        conn.close()


def scalar(db, sql, params=()):
    return query(db, sql, params)[0][0]


# --- Django --------------------------------------------------------------------


def django_env(db, static_root):
    """The production environment (DEBUG off) for manage.py and gunicorn."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    env.update(
        DATABASE_URL=db.url,
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=SECRET_KEY,
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_HTTPS="false",
        DJANGO_SETTINGS_MODULE="bench_settings",
        DJANGO_LOG_LEVEL="WARNING",
        BENCH_STATIC_ROOT=str(static_root),
        PYTHONPATH=os.pathsep.join([str(BENCH), str(ROOT)]),
    )
    return env


def setup_django_here(env):
    """Configure this process like the server, for ORM use (cursor encoding, import)."""
    os.environ.update(env)
    for path in (str(ROOT), str(BENCH)):
        if path not in sys.path:
            sys.path.insert(0, path)
    import django

    django.setup()


def manage(env, *args, capture=False):
    out = subprocess.run(
        [PY, "manage.py", *args],
        cwd=ROOT,
        env=env,
        text=True,
        capture_output=True,
        check=False,
    )
    if out.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
    return out.stdout if capture else None


def prepare_app(cleanup, db):
    """Migrate and collect static files; returns the environment for the server."""
    static_root = tempfile.mkdtemp(prefix="tracker-bench-static.")
    cleanup.callback(shutil.rmtree, static_root, True)
    env = django_env(db, static_root)
    log("migrate + collectstatic")
    manage(env, "migrate", "--noinput")
    manage(env, "collectstatic", "--noinput")
    return env


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """gunicorn with sync workers, as production runs it; stop() ends it and its workers."""

    def __init__(self, env, workers=2, timeout=600):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        # Kept open for the server's lifetime (closed in stop()), hence no `with`.
        self.logfile = tempfile.NamedTemporaryFile(  # noqa: SIM115
            prefix="tracker-bench-gunicorn.", suffix=".log", delete=False
        )
        self.proc = subprocess.Popen(
            [
                PY,
                "-m",
                "gunicorn",
                "tracker.wsgi:application",
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--timeout",
                str(timeout),
                "--graceful-timeout",
                "5",
                "--backlog",
                "2048",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.logfile,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.wait_ready(workers)

    def wait_ready(self, workers, seconds=60):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                if get(self.base + "/healthz").status == 200 and len(self.worker_pids()) >= workers:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer /healthz within {seconds} s:\n{self.log_tail()}")

    def worker_pids(self):
        try:
            children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        except OSError:
            return []
        return [int(p) for p in children.split()]

    def log_tail(self, lines=40):
        with contextlib.suppress(OSError):
            return "\n".join(Path(self.logfile.name).read_text(errors="replace").splitlines()[-lines:])
        return ""

    def errors_logged(self):
        """Tracebacks and ERROR lines the server wrote (a benchmark should produce none)."""
        text = Path(self.logfile.name).read_text(errors="replace")
        return [line for line in text.splitlines() if "Traceback" in line or " ERROR " in line]

    def stop(self):
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.logfile.close()
        if self.errors_logged():
            log(f"gunicorn logged errors; its log is kept at {self.logfile.name}")
        else:
            with contextlib.suppress(OSError):
                os.unlink(self.logfile.name)


def start_gunicorn(cleanup, env, workers=2):
    server = Gunicorn(env, workers=workers)
    cleanup.callback(server.stop)
    log(f"gunicorn: {workers} sync workers at {server.base}")
    return server


# --- HTTP ----------------------------------------------------------------------


class Response:
    def __init__(self, status, headers, body, seconds):
        self.status, self.headers, self.body, self.seconds = (
            status,
            headers,
            body,
            seconds,
        )

    def text(self):
        return self.body.decode("utf-8", errors="replace")


def get(url, headers=None, timeout=600):
    """One GET (no redirect followed), with the time to the last byte."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    started = time.perf_counter()
    try:
        conn.request("GET", path or "/", headers=headers or {})
        response = conn.getresponse()
        body = response.read()
        return Response(
            response.status,
            dict(response.getheaders()),
            body,
            time.perf_counter() - started,
        )
    finally:
        conn.close()


def download(url, chunk=64 * 1024):
    """(seconds, bytes, newlines) for a streamed GET read to the end and thrown away."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=1800)
    started = time.perf_counter()
    size = lines = 0
    try:
        conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""))
        response = conn.getresponse()
        if response.status != 200:
            raise RuntimeError(f"GET {url}: {response.status} {response.read(500)!r}")
        while data := response.read(chunk):
            size += len(data)
            lines += data.count(b"\n")
    finally:
        conn.close()
    return time.perf_counter() - started, size, lines


# --- wrk -----------------------------------------------------------------------

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}
SIZES = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}


def _ms(text):
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * UNITS[unit]


def parse_wrk(output):
    """Requests/s, latency percentiles (ms), request and error counts from `wrk --latency`."""
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))}
    result.update(p50_ms=None, p75_ms=None, p90_ms=None, p99_ms=None)
    for pct, value in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", output, re.MULTILINE):
        result[f"p{pct}_ms"] = round(_ms(value), 3)
    if result["p99_ms"] is None:
        result["wrk_output"] = output[-1500:]
    m = re.search(r"(\d+) requests in ([\d.]+\w+), ([\d.]+)(\w+) read", output)
    result["requests"] = int(m.group(1))
    result["seconds"] = round(_ms(m.group(2)) / 1000, 2)
    result["bytes_read"] = int(float(m.group(3)) * SIZES[m.group(4)])
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    result["non_2xx_3xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    result["socket_errors"] = sum(int(g) for g in m.groups()) if m else 0
    return result


def wrk_command(url, duration, connections=16, threads=2, script=None):
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--latency",
        "--timeout",
        "60s",
    ]
    if script:
        command += ["-s", str(script)]
    return command + [url]


def wrk(url, duration, connections=16, threads=2):
    out = subprocess.run(
        wrk_command(url, duration, connections, threads),
        capture_output=True,
        text=True,
        timeout=duration + 120,
        check=False,
    )
    if out.returncode:
        raise RuntimeError(f"wrk failed on {url}: {out.stderr.strip()}")
    return parse_wrk(out.stdout)


def drain(base, quick=0.1, limit=600):
    """Wait until the server has worked through requests queued by an earlier wrk run.

    wrk abandons its connections at the end, but sync workers still answer every
    request already queued; those would eat into the next measurement. /healthz
    waits in the same queue, so once it answers quickly the queue is empty.
    """
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if get(base + "/healthz").seconds < quick:
            return
    log("WARNING: the server still looks busy after draining")


def check_page(url, expect=200):
    """One GET that must answer `expect` (wrk counts redirects as successes, so check first)."""
    response = get(url)
    if response.status != expect:
        raise RuntimeError(f"GET {url} answered {response.status}, not {expect}: {response.text()[:300]}")
    return response


# --- Memory ----------------------------------------------------------------------


def rss_mb(pid):
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    m = re.search(r"VmRSS:\s+(\d+) kB", status)
    return int(m.group(1)) / 1024 if m else 0.0


class RssSampler(threading.Thread):
    """Peak resident memory of each given process (and of their sum), sampled every 20 ms."""

    def __init__(self, pids, interval=0.02):
        super().__init__(daemon=True)
        self.pids, self.interval = list(pids), interval
        self.peak = dict.fromkeys(self.pids, 0.0)
        self.peak_total = 0.0
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            sizes = {pid: rss_mb(pid) for pid in self.pids}
            for pid, size in sizes.items():
                self.peak[pid] = max(self.peak[pid], size)
            self.peak_total = max(self.peak_total, sum(sizes.values()))
            self.done.wait(self.interval)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.join()

    @property
    def peak_worker(self):
        return max(self.peak.values(), default=0.0)


# --- Synthetic data ------------------------------------------------------------


class Weighted:
    """A fast weighted choice: one random number and a bisect."""

    def __init__(self, weights):
        self.values = list(weights)
        total, acc = sum(weights.values()), 0
        self.cumulative = []
        for value in self.values:
            acc += weights[value]
            self.cumulative.append(acc / total)

    def __call__(self, rng):
        return self.values[min(bisect.bisect(self.cumulative, rng.random()), len(self.values) - 1)]


INCIDENT_COLUMNS = (
    "reference",
    "date",
    "date_precision",
    "courthouse_id",
    "county_id",
    "state_id",
    "case_type",
    "outcome",
    "people_count",
    "person_role",
    "location",
    "agency",
    "plain_clothes",
    "agents_identified",
    "force_used",
    "court_staff_assisted",
    "warrant",
    "verification",
    "source_type",
    "source_url",
    "summary",
    "status",
    "retraction_reason",
    "internal_notes",
    "docket_number",
    "reporter_contact",
    "created_at",
    "updated_at",
    "version",
    "is_demo",
)


class IncidentGenerator:
    """Rows for the incident table, deterministic per (seed, row number).

    Field frequencies are those of incidents/synthetic.py (the demo data); dates run
    from 2017 to today with more recent years busier, and in date order (with a few
    weeks of jitter) within one load, as a tracker fills up: reports arrive roughly
    in date order, so the table's physical order follows the date. (Random dates per
    row would make every date-ordered scan of many rows, such as the export, read
    pages at random, which no real table of this kind does.) Courthouse popularity is skewed
    (a few busy courthouses, a long tail); outcome and people_count agree, month-precision
    dates fall on the 1st, and county and state are the courthouse's own.
    """

    def __init__(self, courthouses, today=None):
        from incidents import synthetic

        self.courthouses = courthouses  # [(id, county_id, state_id)], shuffled
        self.today = today or datetime.datetime.now(datetime.UTC).date()
        self.span = (self.today - FIRST_DATE).days
        self.pick = {
            name: Weighted(weights)
            for name, weights in {
                "case_type": synthetic.CASE_TYPES,
                "outcome": synthetic.OUTCOMES,
                "person_role": synthetic.ROLES,
                "location": synthetic.LOCATIONS,
                "agency": synthetic.AGENCIES,
                "warrant": synthetic.WARRANTS,
                "ynu": synthetic.YNU,
                "force_used": {"yes": 10, "no": 50, "unknown": 40},
                "court_staff_assisted": {"yes": 6, "no": 50, "unknown": 44},
                "verification": synthetic.VERIFICATION,
                "source_type": synthetic.SOURCES,
            }.items()
        }
        self.summary_for = synthetic.summary_for
        self.now = datetime.datetime.now(datetime.UTC)

    def rows(self, first, count, load=None, seed=42):
        """`count` rows for incident numbers first .. first + count - 1.

        `load` is (first, count) of the whole load this batch belongs to: dates
        advance from 2017 to today across it.
        """
        load_first, load_count = load or (first, count)
        rng = random.Random(f"{seed}-{first}")
        for n in range(first, first + count):
            yield self.row(rng, n, (n - load_first + 0.5) / load_count)

    def row(self, rng, n, progress):
        p = self.pick
        courthouse_id, county_id, state_id = self.courthouses[int(len(self.courthouses) * rng.random() ** 2)]
        # The inverse of the recent-bias distribution, at this row's place in the load.
        u = min(max(progress + (rng.random() - 0.5) * 0.02, 0.0), 1.0)
        day = FIRST_DATE + datetime.timedelta(days=int(self.span * u ** (1 / 1.4)))
        precision = "day"
        if rng.random() < 0.08:
            day, precision = day.replace(day=1), "month"
        outcome = p["outcome"](rng)
        people = {
            "arrested": 1 + (rng.random() < 0.12) + (rng.random() < 0.03),
            "unknown": int(rng.random() < 0.5),
        }.get(outcome, 0)
        fields = {
            "case_type": p["case_type"](rng),
            "outcome": outcome,
            "person_role": p["person_role"](rng),
            "location": p["location"](rng),
            "plain_clothes": p["ynu"](rng),
        }
        if (fields["case_type"], fields["person_role"], fields["location"]) == (
            NO_MATCH["case_type"],
            NO_MATCH["person_role"],
            NO_MATCH["location"],
        ):
            fields["location"] = "inside"
        summary = self.summary_for(fields)
        if rng.random() < 0.002:
            summary = "- " + summary  # formula-like text, which the export must escape
        source_type = p["source_type"](rng)
        source_url = f"https://news.example.org/{day.year}/story-{n}" if source_type == "news" else ""
        created = datetime.datetime.combine(day, datetime.time(9), datetime.UTC) + datetime.timedelta(
            days=int(rng.random() * 20), seconds=int(rng.random() * 28800)
        )
        created = min(created, self.now)
        updated = (
            min(created + datetime.timedelta(days=int(rng.random() * 60)), self.now)
            if rng.random() < 0.2
            else created
        )
        retracted = rng.random() < 0.01
        return (
            f"BENCH-{n:08d}",
            day,
            precision,
            courthouse_id,
            county_id,
            state_id,
            fields["case_type"],
            outcome,
            people,
            fields["person_role"],
            fields["location"],
            p["agency"](rng),
            fields["plain_clothes"],
            p["ynu"](rng),
            p["force_used"](rng),
            p["court_staff_assisted"](rng),
            p["warrant"](rng),
            p["verification"](rng),
            source_type,
            source_url,
            summary,
            "retracted" if retracted else "published",
            "Duplicate of another report." if retracted else "",
            "",
            "",
            "",
            created,
            updated,
            1,
            False,
        )


def create_courthouses(db, total=COURTHOUSES, seed=7):
    """One courthouse in every county, the rest in counties picked with a skew."""
    rng = random.Random(seed)
    counties = query(db, "SELECT fips, name FROM incidents_county ORDER BY fips")
    rng.shuffle(counties)
    picks = list(counties) + [
        counties[int(len(counties) * rng.random() ** 1.5)] for _ in range(max(0, total - len(counties)))
    ]
    seen = {}
    rows = []
    for fips, name in picks:
        seen[fips] = seen.get(fips, 0) + 1
        n = seen[fips]
        rows.append(
            (
                f"{name} Courthouse {n}",
                f"bench-{fips}-{n}",
                f"{100 + n} Main Street",
                name.split(" ")[0],
                False,
                fips,
            )
        )
    conn = db.connect()
    try:
        cur = conn.cursor()
        sql = (
            "INSERT INTO incidents_courthouse (name, slug, address, city, is_demo, county_id) "
            "VALUES (%s, %s, %s, %s, %s, %s)"
        )
        if db.kind == "postgresql":
            from psycopg2.extras import execute_values

            execute_values(cur, sql.replace("(%s, %s, %s, %s, %s, %s)", "%s"), rows, page_size=1000)
        else:
            cur.execute("BEGIN")
            cur.executemany(sql.replace("%s", "?"), rows)
            cur.execute("COMMIT")
    finally:
        conn.close()
    courthouses = query(
        db,
        "SELECT ch.id, ch.county_id, c.state_id FROM incidents_courthouse ch "
        "JOIN incidents_county c ON c.fips = ch.county_id ORDER BY ch.id",
    )
    rng.shuffle(courthouses)
    return courthouses


def _copy_value(value):
    if value is None:
        return "\\N"
    if value is True or value is False:
        return "t" if value else "f"
    if isinstance(value, str):
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return str(value)


def _sqlite_value(value):
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).replace(tzinfo=None).isoformat(" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _sqlite_insert(columns, rows):
    # Through Django's connection: the check constraints call functions (e.g.
    # django_date_extract) that Django registers on its own SQLite connections.
    from django.db import connection, transaction

    marks = ", ".join(["%s"] * len(INCIDENT_COLUMNS))
    with transaction.atomic(), connection.cursor() as cur:
        cur.executemany(
            f"INSERT INTO incidents_incident ({columns}) VALUES ({marks})",
            [[_sqlite_value(v) for v in row] for row in rows],
        )


def load_incidents(db, generator, first, count, batch=50_000):
    """Append `count` generated incidents (COPY on PostgreSQL, executemany on SQLite)."""
    started = time.monotonic()
    conn = db.connect()
    try:
        cur = conn.cursor()
        columns = ", ".join(INCIDENT_COLUMNS)
        for offset in range(0, count, batch):
            size = min(batch, count - offset)
            rows = generator.rows(first + offset, size, load=(first, count))
            if db.kind == "postgresql":
                buf = io.StringIO()
                for row in rows:
                    buf.write("\t".join(map(_copy_value, row)))
                    buf.write("\n")
                buf.seek(0)
                cur.copy_expert(f"COPY incidents_incident ({columns}) FROM STDIN", buf)
            else:
                _sqlite_insert(columns, rows)
            done = offset + size
            rate = done / max(time.monotonic() - started, 1e-6)
            sys.stderr.write(f"\r  {done:,}/{count:,} incidents ({rate:,.0f}/s)   ")
            sys.stderr.flush()
        sys.stderr.write("\n")
    finally:
        conn.close()
    return time.monotonic() - started


def bulk_load(db, generator, first, count):
    """load_incidents(), fast: on PostgreSQL a large load runs without the secondary
    indexes (rebuilt afterwards, which is several times quicker than maintaining them
    row by row) and without the foreign-key triggers (every row's courthouse, county
    and state come from the courthouse table; check_consistency() proves it after).
    User triggers, if the app ever adds any, stay on."""
    if db.kind != "postgresql" or count < 100_000:
        return load_incidents(db, generator, first, count)
    indexes = query(
        db,
        """
        SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'incidents_incident'
        AND indexname NOT IN (SELECT conname FROM pg_constraint
                              WHERE conrelid = 'incidents_incident'::regclass)""",
    )
    triggers = [
        name
        for (name,) in query(
            db,
            """
        SELECT tgname FROM pg_trigger WHERE tgrelid = 'incidents_incident'::regclass
        AND tgisinternal AND tgconstraint IN (
            SELECT oid FROM pg_constraint
            WHERE contype = 'f' AND conrelid = 'incidents_incident'::regclass)""",
        )
    ]
    conn = db.connect()
    try:
        cur = conn.cursor()
        for name, _ in indexes:
            cur.execute(f'DROP INDEX "{name}"')
        for name in triggers:
            cur.execute(f'ALTER TABLE incidents_incident DISABLE TRIGGER "{name}"')
        seconds = load_incidents(db, generator, first, count)
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


def after_bulk_load(db, env):
    """Fresh planner statistics, and every cached figure forgotten (a new data version)."""
    if db.kind == "postgresql":
        query(db, "VACUUM ANALYZE")
    else:
        query(db, "ANALYZE")
    query(db, "DELETE FROM incidents_dataversion")
    refresh_summaries(env)


# Management commands that rebuild derived tables after writes that bypass the app
# (bulk SQL loads): run whichever of them the app provides.
SUMMARY_COMMANDS = (
    "refresh_summaries",
    "rebuild_summaries",
    "refresh_stats",
    "rebuild_stats",
)


def refresh_summaries(env):
    commands = ROOT / "incidents" / "management" / "commands"
    for name in SUMMARY_COMMANDS:
        if (commands / f"{name}.py").exists():
            log(f"manage.py {name}")
            manage(env, name)


def count_published(db, where="", params=()):
    return scalar(
        db,
        "SELECT count(*) FROM incidents_incident WHERE status = 'published'" + where,
        params,
    )


# --- Export against COPY -------------------------------------------------------------

# The export's rows, as plain SQL: what `psql COPY` can do at best.
COPY_SQL = """
COPY (
  SELECT i.id, i.reference, i.date, i.date_precision, i.state_id, co.name, i.county_id,
         ch.name, ch.city, i.case_type, i.outcome, i.people_count, i.person_role, i.location,
         i.agency, i.plain_clothes, i.agents_identified, i.force_used, i.court_staff_assisted,
         i.warrant, i.verification, i.source_type, i.source_url, i.summary,
         to_char(i.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
         to_char(i.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
  FROM incidents_incident i
  JOIN incidents_courthouse ch ON ch.id = i.courthouse_id
  JOIN incidents_county co ON co.fips = i.county_id
  WHERE i.status = 'published'
  ORDER BY i.date DESC, i.id DESC
) TO STDOUT WITH (FORMAT csv, HEADER)
"""


def copy_seconds(db):
    """(seconds, bytes) for `psql -c "COPY (...) TO STDOUT"`, the output read to the end."""
    if db.kind == "sqlite":
        sql = re.search(r"COPY \((.*)\) TO STDOUT", COPY_SQL, re.DOTALL).group(1)
        sql = sql.replace(
            "to_char(i.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
            "strftime('%Y-%m-%dT%H:%M:%SZ', i.created_at)",
        )
        sql = sql.replace(
            "to_char(i.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
            "strftime('%Y-%m-%dT%H:%M:%SZ', i.updated_at)",
        )
        command = ["sqlite3", "-csv", "-header", str(db.path), sql]
    else:
        command = ["psql", "-X", "-q", db.url, "-c", COPY_SQL]
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE)
    size = 0
    while data := proc.stdout.read(64 * 1024):
        size += len(data)
    if proc.wait():
        raise RuntimeError(f"{command[0]} COPY failed")
    return time.perf_counter() - started, size


# --- Browser ---------------------------------------------------------------------


def _launch_chromium(playwright):
    """Debian's Chromium with the same flags as the browser tests (tests/browser.py)."""
    sys.path.insert(0, str(ROOT))
    from tests.browser import launch

    return launch(playwright)


def browser_bytes(url, settle=1.0, limit=30.0):
    """Bytes on the wire (headers included) for a cold and then a warm load of `url`.

    Counted from the DevTools protocol's Network.loadingFinished encodedDataLength,
    for every response of the page, including what scripts fetch after the load
    event: each load waits until no request has been in flight for `settle` seconds.
    Warm is a second navigation in the same context, so the HTTP cache answers
    whatever its headers allow.
    """
    from playwright.sync_api import sync_playwright

    requests = {}  # requestId -> {"phase", "url", "bytes", "done"}
    phase = {"name": None}

    def started(event):
        requests[event["requestId"]] = {
            "phase": phase["name"],
            "url": event["request"]["url"],
            "bytes": 0,
            "done": False,
        }

    def finished(event, failed=False):
        entry = requests.get(event["requestId"])
        if entry:
            entry["done"] = True
            entry["bytes"] = 0 if failed else int(event.get("encodedDataLength", 0))
            entry["failed"] = failed

    result = {}
    with sync_playwright() as p:
        browser = _launch_chromium(p)
        try:
            context = browser.new_context()
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.on("Network.requestWillBeSent", started)
            cdp.on("Network.loadingFinished", finished)
            cdp.on("Network.loadingFailed", lambda e: finished(e, failed=True))
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on(
                "console",
                lambda m: errors.append(m.text) if m.type == "error" else None,
            )
            for name in ("cold", "warm"):
                phase["name"] = name
                page.goto(url, wait_until="load")
                quiet_since, deadline = time.monotonic(), time.monotonic() + limit
                while time.monotonic() < deadline:
                    page.wait_for_timeout(100)
                    if any(not r["done"] for r in requests.values()):
                        quiet_since = time.monotonic()
                    elif time.monotonic() - quiet_since >= settle:
                        break
                mine = [r for r in requests.values() if r["phase"] == name]
                result[name] = {
                    "bytes": sum(r["bytes"] for r in mine),
                    "responses": len(mine),
                    "failed": [r["url"] for r in mine if r.get("failed")],
                    "largest": [
                        {"bytes": r["bytes"], "url": r["url"]}
                        for r in sorted(mine, key=lambda r: -r["bytes"])[:6]
                    ],
                }
            result["page_errors"] = errors[:5]
        finally:
            browser.close()
    return result


def write_json(path, data):
    Path(path).write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
