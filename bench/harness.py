"""The benchmarks' harness: processes, throwaway databases, the app server, memory.

A throwaway database (PostgreSQL via tests/pgcluster.sh, or an SQLite file), the
production settings served by gunicorn, and resident memory read from /proc or
from the kernel's accounting of a finished child. Everything started here is
registered with a `Cleanup`, which stops it on normal exit, on an exception, on
Ctrl-C and on SIGTERM.
"""

import contextlib
import json
import os
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
from pathlib import Path

import traffic

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results.json"  # make bench's figures; the scripts merge theirs in
PY = sys.executable
PGCLUSTER = ROOT / "tests" / "pgcluster.sh"
SECRET_KEY = "bench-only-secret-key-not-for-production-0123456789"


def log(message):
    sys.stderr.write(f"[{time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


def targets(results, goals):
    """{name: {value, test, what, pass}} for each goal (test, limit, what) of these results."""
    return {
        name: {
            "value": results[name],
            "test": f"{test} {limit}",
            "what": what,
            "pass": passes(results[name], test, limit),
        }
        for name, (test, limit, what) in goals.items()
    }


def passes(value, test, limit):
    if value is None:  # not measurable here (the COPY baseline on SQLite): neither PASS nor FAIL
        return None
    return {">=": value >= limit, "<=": value <= limit, "<": value < limit}[test]


def write_json(path, data):
    Path(path).write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def merge_json(path, data):
    """Merge `data` into the JSON object at `path`, keeping the keys other runs wrote."""
    merged = json.loads(Path(path).read_text()) if Path(path).exists() else {}
    write_json(path, {**merged, **data})


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
                if traffic.get(self.base + "/healthz").status == 200 and len(self.worker_pids()) >= workers:
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


# nginx in front, as README's "Production" runs the app: it reads each answer from
# gunicorn at once (a sync worker never waits on a slow client), keeps the clients'
# connections open, and sends signed-in people (a session cookie) to workers of
# their own, so that an edit never queues behind public traffic.
NGINX_CONF = """
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    upstream public {{ server 127.0.0.1:{public}; }}
    upstream staff {{ server 127.0.0.1:{staff}; }}
    map $cookie_sessionid $pool {{ "" public; default staff; }}
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        client_max_body_size 0;
        proxy_buffer_size 64k;
        proxy_buffers 32 64k;
        proxy_read_timeout 600s;
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        location / {{ proxy_pass http://$pool; }}
    }}
}}
"""


class Front:
    """nginx on a port of its own before two gunicorn pools: public visitors, signed-in staff."""

    def __init__(self, cleanup, env, workers, staff_workers):
        env = {**env, "DJANGO_PROXY_COUNT": "1"}
        self.public = Gunicorn(env, workers=workers)
        cleanup.callback(self.public.stop)
        self.staff = Gunicorn(env, workers=staff_workers)
        cleanup.callback(self.staff.stop)
        self.dir = tempfile.mkdtemp(prefix="tracker-bench-nginx.")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        conf = Path(self.dir) / "nginx.conf"
        conf.write_text(
            NGINX_CONF.format(dir=self.dir, port=self.port, public=self.public.port, staff=self.staff.port)
        )
        self.proc = subprocess.Popen(
            [
                shutil.which("nginx") or "/usr/sbin/nginx",
                "-p",
                self.dir,
                "-c",
                str(conf),
                "-g",
                "daemon off;",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        cleanup.callback(self.stop)
        self.pools = (self.public, self.staff)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                if traffic.get(self.base + "/healthz").status == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"nginx did not answer within 30 s: {(Path(self.dir) / 'error.log').read_text()}")

    def errors_logged(self):
        return [line for pool in self.pools for line in pool.errors_logged()]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def start_front(cleanup, env, workers, staff_workers):
    front = Front(cleanup, env, workers, staff_workers)
    log(f"nginx at {front.base}: {workers} sync workers for the public, {staff_workers} for signed-in staff")
    return front


# --- Memory ----------------------------------------------------------------------


def rss_mb(pid, field="VmRSS"):
    """A process's resident memory now (VmRSS) or at its peak so far (VmHWM), in MB."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    m = re.search(rf"{field}:\s+(\d+) kB", status)
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

    def high_water_mb(self):
        """The sampled peak, or the kernel's VmHWM if higher (a peak between two samples)."""
        return max([self.peak_worker] + [rss_mb(pid, "VmHWM") for pid in self.pids])


def cpu_seconds(pid):
    """CPU seconds used by a process, its live children and its children that have ended.

    For the PostgreSQL postmaster that is the whole database server; for the gunicorn
    master, every worker (the kernel adds an ended child's time to its parent's)."""
    ticks = os.sysconf("SC_CLK_TCK")

    def own(p, with_ended):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0
        used = int(fields[11]) + int(fields[12])
        return used + (int(fields[13]) + int(fields[14]) if with_ended else 0)

    children = [c for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split() if c]
    return (own(pid, True) + sum(own(int(c), False) for c in children)) / ticks


def postmaster_pid(db):
    return int((Path(db.dir) / "data" / "postmaster.pid").read_text().split()[0])


def run_measured(command, env, cwd=ROOT):
    """(seconds, peak RSS in MB, stdout, stderr) of a command run to its end.

    The peak is the child's own high-water mark (VmHWM), read every 20 ms until it ends: a
    high-water mark misses no peak between two readings. Not ru_maxrss: Linux starts a
    child's ru_maxrss at its parent's resident size when it forks (and keeps it through
    exec), so a benchmark process holding a gigabyte would report a gigabyte for every
    command it starts.
    """
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=err)
        peak = 0.0
        while True:
            peak = max(peak, rss_mb(proc.pid, "VmHWM"))
            try:
                proc.wait(0.02)
                break
            except subprocess.TimeoutExpired:
                continue
        seconds = time.perf_counter() - started
        out.seek(0), err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if proc.returncode:
        raise RuntimeError(f"{' '.join(map(str, command))} failed:\n{stdout[-1000:]}\n{stderr[-2000:]}")
    return seconds, peak, stdout, stderr
