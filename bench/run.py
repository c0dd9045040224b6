"""`make bench`: does any page's cost grow with the size of the data? (issue 7)

    .venv/bin/python bench/run.py --rows 1000000          # the full run (make bench)
    .venv/bin/python bench/run.py --rows 50000 --quick    # a few minutes, same code paths
    .venv/bin/python bench/run.py --rows 50000 --sqlite   # the same on SQLite

One run starts a throwaway PostgreSQL, migrates, loads 10,000 synthetic incidents,
serves the app with gunicorn (2 sync workers, production settings) and measures
every page with wrk; then it grows the data to --rows and measures again, times the
CSV export against psql COPY (with the server's peak memory), an import of a
100,000-row file, and the bytes a headless Chromium transfers for a cold and a warm
dashboard. It prints a table, writes bench/results.json and prints PASS or FAIL per
target. Everything it started is stopped at the end, also on error or Ctrl-C.
See bench/README.md.
"""

import argparse
import base64
import binascii
import datetime
import html
import json
import re
import sys
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
from common import log

SMALL = 10_000
RESULTS = common.BENCH / "results.json"

LIST_VARIANTS = {
    "list_all": "",
    "list_state": "state=NY",
    "list_three_filters": "state=CA&case_type=criminal&outcome=arrested",
    "list_no_match": urllib.parse.urlencode(common.NO_MATCH),
    # "list_deep" is added per stage: a cursor half-way through the data (see deep_list_query)
}
DASHBOARD_VARIANTS = {"dashboard_all": "", "dashboard_state": "state=NY"}
STATS_VARIANTS = {"stats_month": "by=month", "stats_county": "by=county"}

# name: (test, threshold, description)
TARGETS = {
    "list_scale_min": (">=", 0.7, "worst list variant, req/s at N / at 10,000"),
    "dashboard_scale": (">=", 0.7, "worst dashboard variant, req/s at N / at 10,000"),
    "list_vs_baseline_min": (">=", 0.1, "worst list variant at N / trivial view"),
    "dashboard_vs_list": (">=", 0.5, "worst dashboard variant at N / unfiltered list"),
    "export_vs_copy": (">=", 0.5, "psql COPY seconds / export seconds"),
    "export_peak_rss_mb": ("<", 150, "peak RSS of the worker serving the export"),
    "import_rows_per_s": (">=", 20_000, "import of a new-incident file"),
    "dashboard_cold_bytes": ("<=", 1_000_000, "cold dashboard in Chromium"),
    "dashboard_warm_bytes": ("<=", 100_000, "warm dashboard in Chromium"),
}


def main():
    args = parse_args()
    started = time.monotonic()
    with common.Cleanup() as cleanup:
        db = common.start_database(cleanup, sqlite=args.sqlite)
        env = common.prepare_app(cleanup, db)
        common.setup_django_here(env)
        courthouses = common.create_courthouses(db)
        generator = common.IncidentGenerator(courthouses)
        small = min(SMALL, args.rows)

        load(db, env, generator, 1, small)
        server = common.start_gunicorn(cleanup, env)
        stages = {"small": measure_pages(server, db, args, small)}
        load_seconds = load(db, env, generator, small + 1, args.rows - small)
        stages["large"] = measure_pages(server, db, args, args.rows)

        export = measure_export(server, db, args)
        browser = measure_browser(server)
        imported = measure_import(env, db, args)
        errors = server.errors_logged()
    results = summarize(args, stages, export, browser, imported, load_seconds, errors)
    results["wall_seconds"] = round(time.monotonic() - started)
    common.write_json(RESULTS, results)
    print_report(results)
    log(f"wrote {RESULTS} ({results['wall_seconds']} s)")
    return 0 if all(results["targets"][name]["pass"] for name in results["targets"]) else 1


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="incidents at the large stage")
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    parser.add_argument("--quick", action="store_true", help="short wrk runs and a smaller import")
    parser.add_argument("--duration", type=int, help="seconds per wrk run (default 10, quick 3)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--import-rows", type=int, help="rows in the import file (default 100,000)")
    args = parser.parse_args()
    args.duration = args.duration or (3 if args.quick else 10)
    args.warmup = 1 if args.quick else 2
    args.import_rows = args.import_rows or (20_000 if args.quick else 100_000)
    if args.rows < SMALL:
        parser.error(f"--rows must be at least {SMALL:,}")
    return args


def load(db, env, generator, first, count):
    if count <= 0:
        return 0.0
    log(f"loading {count:,} incidents")
    seconds = common.bulk_load(db, generator, first, count)
    common.after_bulk_load(db, env)
    log(f"  {count:,} incidents in {seconds:.1f} s ({count / max(seconds, 1e-6):,.0f}/s)")
    return seconds


# --- Pages -----------------------------------------------------------------------


def measure_pages(server, db, args, rows):
    """wrk figures for every page variant at the current data size."""
    log(f"measuring pages at {rows:,} incidents")
    if common.count_published(
        db,
        " AND state_id = %s AND case_type = %s AND person_role = %s AND location = %s",
        tuple(common.NO_MATCH.values()),
    ):
        raise RuntimeError("the no-match combination matches rows")
    stage = {"rows": rows, "cold": cold_requests(server, db), "pages": {}}
    urls = {"baseline": "/healthz"}
    urls.update({name: "/incidents/" + (f"?{q}" if q else "") for name, q in LIST_VARIANTS.items()})
    try:
        urls["list_deep"] = "/incidents/?" + deep_list_query(server, db, min(500_000, rows // 2))
    except (RuntimeError, OSError) as exc:
        log(f"  ERROR list_deep: {exc}"[:400])
        urls["list_deep"] = "/incidents/?cursor=unavailable"
    urls.update({name: "/" + (f"?{q}" if q else "") for name, q in DASHBOARD_VARIANTS.items()})
    urls.update({name: f"/api/stats/?{q}" for name, q in STATS_VARIANTS.items()})
    for name, path in urls.items():
        stage["pages"][name] = measure_url(server.base + path, args)
        page = stage["pages"][name]
        log(
            f"  {name:20} {page['rps']:9.1f} req/s  p50 {page['p50_ms'] or 0:8.2f} ms  "
            f"p99 {page['p99_ms'] or 0:8.2f} ms  {page['response_bytes']:,} B"
        )
    return stage


def measure_url(url, args):
    try:
        response = common.check_page(url)
    except (
        RuntimeError,
        OSError,
    ) as exc:  # one broken page must not end a 20-minute run
        log(f"  ERROR {exc}")
        return {
            "url": url,
            "error": str(exc)[:300],
            "rps": 0.0,
            "p50_ms": 0.0,
            "p99_ms": 0.0,
            "response_bytes": 0,
        }
    base = url.split("/", 3)
    base = "/".join(base[:3])
    common.drain(base)
    common.wrk(url, args.warmup, args.connections)
    common.drain(base)
    result = common.wrk(url, args.duration, args.connections)
    if result["non_2xx_3xx"] or result["socket_errors"]:
        log(f"  WARNING {url}: {result['non_2xx_3xx']} non-2xx, {result['socket_errors']} socket errors")
    result.update(url=url, response_bytes=len(response.body))
    return result


def cold_requests(server, db):
    """Seconds for the first request after the cache is emptied (as after any write)."""
    cold = {}
    for name, path in [
        ("dashboard_all", "/"),
        ("dashboard_state", "/?state=NY"),
        ("stats_month", "/api/stats/?by=month"),
        ("stats_county", "/api/stats/?by=county"),
    ]:
        common.query(db, "DELETE FROM incidents_dataversion")
        response = common.get(server.base + path)
        cold[name] = round(response.seconds * 1000, 1) if response.status == 200 else None
    log("  cold (ms): " + ", ".join(f"{k} {v}" for k, v in cold.items()))
    return cold


def deep_list_query(server, db, offset):
    """The query string of the list page that starts `offset` rows deep.

    The list pages with a keyset cursor; following "next" 10,000 times would take
    minutes, so the cursor for the row at `offset` is built directly: the first
    page's "next" cursor is decoded (urlsafe base64 of JSON, as views.encode_cursor
    writes it), the row it names is found, and that row is swapped for the one
    before `offset`. The result is checked: the page must start with the row at `offset`.
    """
    first = common.check_page(server.base + "/incidents/").text()
    links = re.findall(r'href="([^"]*[?&](?:amp;)?cursor=[^"]*)"', first)
    if not links:
        raise RuntimeError("the list page has no cursor link")
    params = urllib.parse.parse_qs(urllib.parse.urlsplit(html.unescape(links[-1])).query)
    cursor = params.pop("cursor")[0]
    rows = common.query(
        db,
        """SELECT id, date FROM incidents_incident WHERE status = 'published'
                               ORDER BY date DESC, id DESC LIMIT 2 OFFSET %s""",
        (offset - 1,),
    )
    named = common.query(
        db,
        """SELECT id, date FROM incidents_incident WHERE status = 'published'
                                ORDER BY date DESC, id DESC LIMIT 2 OFFSET 49""",
    )
    rows, named = [(pk, _day(d)) for pk, d in rows], [(pk, _day(d)) for pk, d in named]
    # The cursor names the last row of page 1 (offset 49: rows after it) or the first
    # row of page 2 (offset 50: rows from it); either way the deep page starts at `offset`.
    for old, new in zip(named, rows):
        token = recode_cursor(cursor, old, new)
        if token is None:
            continue
        query = urllib.parse.urlencode({**{k: v[0] for k, v in params.items()}, "cursor": token})
        page = common.check_page(f"{server.base}/incidents/?{query}").text()
        ids = [int(i) for i in re.findall(r'href="[^"]*/incidents/(\d+)/"', page)]
        if ids and ids[0] == rows[1][0]:
            return query
        raise RuntimeError(f"the deep page starts with {ids[:1]}, not incident {rows[1][0]}")
    raise RuntimeError(f"cursor {cursor!r} names neither row 50 nor 51; see deep_list_query()")


def _day(value):
    """A date from the database (SQLite answers text)."""
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value)[:10])


def recode_cursor(cursor, old, new):
    """`cursor` with the (id, date) `old` swapped for `new`; None if it does not name `old`."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        parts = json.loads(raw)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if not isinstance(parts, list) or old[0] not in parts or old[1].isoformat() not in parts:
        return None
    swap = {old[0]: new[0], old[1].isoformat(): new[1].isoformat()}
    parts = [swap.get(part, part) if isinstance(part, (int, str)) else part for part in parts]
    raw = json.dumps(parts, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# --- Export, import, browser ---------------------------------------------------


def measure_export(server, db, args):
    """The web export against COPY of the same rows, best of two each, and peak RSS."""
    log("export vs COPY")
    try:
        return _measure_export(server, db)
    except Exception as exc:  # noqa: BLE001 (curl, psql, the server: report and keep the run going)
        log(f"  ERROR {exc}")
        return {
            "error": str(exc)[:300],
            "export_vs_copy": 0.0,
            "peak_worker_rss_mb": 0.0,
            "peak_server_rss_mb": 0.0,
            "copy_seconds": 0.0,
            "export_seconds": 0.0,
            "export_bytes": 0,
            "export_rows": 0,
        }


def _measure_export(server, db):
    if db.kind == "postgresql":
        try:
            import export_bench
        except ImportError:
            export_bench = None
        if export_bench is not None and hasattr(export_bench, "measure"):
            return _measure_export_with_export_bench(export_bench, server, db)
    return _measure_export_here(server, db)


def _measure_export_with_export_bench(export_bench, server, db):
    """bench/export_bench.py's measure(): COPY of the very SELECT the export runs, curl, VmHWM."""
    r = export_bench.measure(db.url, server.base, server.proc.pid, repeat=2)
    published = common.count_published(db)
    if r["rows"] != published:
        log(f"  WARNING: the export has {r['rows']:,} rows, the database {published:,} published")
    log(
        f"  COPY {r['copy_seconds']:.2f} s; export {r['export_seconds']:.2f} s ({r['export_mb']:.0f} MB); "
        f"worker peak RSS {r['export_peak_rss_mb']:.0f} MB; same bytes as COPY: {r['same_bytes_as_copy']}"
    )
    return {
        "measured_by": "bench/export_bench.py measure()",
        "copy_seconds": r["copy_seconds"],
        "export_seconds": r["export_seconds"],
        "export_bytes": int(r["export_mb"] * 1e6),
        "export_rows": r["rows"],
        "published_rows": published,
        "export_vs_copy": r["export_vs_copy"],
        "peak_worker_rss_mb": r["export_peak_rss_mb"],
        "same_bytes_as_copy": r["same_bytes_as_copy"],
        "runs": {"export": r["export_runs_s"], "copy": r["copy_runs_s"]},
    }


def _measure_export_here(server, db):
    published = common.count_published(db)
    copy_runs = [common.copy_seconds(db) for _ in range(2)]
    export_runs, peak_worker, peak_total = [], 0.0, 0.0
    for _ in range(2):
        with common.RssSampler(server.worker_pids()) as rss:
            seconds, size, lines = common.download(server.base + "/incidents/export.csv")
        export_runs.append((seconds, size))
        peak_worker, peak_total = (
            max(peak_worker, rss.peak_worker),
            max(peak_total, rss.peak_total),
        )
        if lines != published + 1:
            log(f"  WARNING: the export has {lines - 1:,} rows, the database {published:,} published")
    copy_s, copy_bytes = min(copy_runs)
    export_s, export_bytes = min(export_runs)
    result = {
        "measured_by": "bench/common.py (COPY of an equivalent SELECT, streamed GET)",
        "copy_seconds": round(copy_s, 3),
        "copy_bytes": copy_bytes,
        "export_seconds": round(export_s, 3),
        "export_bytes": export_bytes,
        "export_rows": lines - 1,
        "published_rows": published,
        "export_vs_copy": round(copy_s / export_s, 3),
        "peak_worker_rss_mb": round(peak_worker, 1),
        "peak_server_rss_mb": round(peak_total, 1),
    }
    log(
        f"  COPY {copy_s:.2f} s ({copy_bytes / 1e6:.0f} MB); export {export_s:.2f} s "
        f"({export_bytes / 1e6:.0f} MB); worker peak RSS {peak_worker:.0f} MB"
    )
    return result


def measure_browser(server):
    log("dashboard bytes in Chromium")
    try:
        result = common.browser_bytes(server.base + "/")
    except Exception as exc:  # noqa: BLE001 (playwright raises its own Error types)
        log(f"  ERROR {exc}")
        empty = {"bytes": 0, "responses": 0, "largest": []}
        return {"error": str(exc)[:300], "cold": empty, "warm": empty}
    log(
        f"  cold {result['cold']['bytes']:,} B in {result['cold']['responses']} responses; "
        f"warm {result['warm']['bytes']:,} B in {result['warm']['responses']}"
    )
    return result


def measure_import(env, db, args):
    """Rows per second importing a file of new incidents (bench/import_bench.py's measure)."""
    log(f"import of {args.import_rows:,} rows")
    try:
        from import_bench import measure_import as measure
    except ImportError as exc:
        log(f"  import not measured: bench/import_bench.py unavailable ({exc})")
        return {"rows": args.import_rows, "rows_per_s": 0.0, "error": str(exc)}
    try:
        rate, seconds = measure(args.import_rows)
    except (Exception, SystemExit) as exc:  # noqa: BLE001 (reported in the table; the run goes on)
        log(f"  import failed: {exc}")
        return {"rows": args.import_rows, "rows_per_s": 0.0, "error": str(exc)[:500]}
    log(f"  {args.import_rows:,} rows in {seconds:.1f} s = {rate:,.0f} rows/s")
    return {
        "rows": args.import_rows,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rate),
    }


# --- Report ----------------------------------------------------------------------


def summarize(args, stages, export, browser, imported, load_seconds, errors):
    small, large = stages["small"]["pages"], stages["large"]["pages"]
    lists = [name for name in large if name.startswith("list_")]
    dashboards = list(DASHBOARD_VARIANTS)
    scale = {name: ratio(large[name]["rps"], small[name]["rps"]) for name in large}
    # The same ratio measured against each stage's own trivial view: on a machine
    # shared with other work, this cancels drift in the load between the two stages.
    normalized = {
        name: ratio(
            ratio(large[name]["rps"], large["baseline"]["rps"]),
            ratio(small[name]["rps"], small["baseline"]["rps"]),
        )
        for name in large
    }
    results = {
        "rows": args.rows,
        "database": "sqlite" if args.sqlite else "postgresql",
        "duration_per_run_s": args.duration,
        "connections": args.connections,
        "load_seconds": round(load_seconds, 1),
        "export_vs_copy": export["export_vs_copy"],
        "export_peak_rss_mb": export["peak_worker_rss_mb"],
        "list_vs_baseline_min": ratio(min(large[n]["rps"] for n in lists), large["baseline"]["rps"]),
        "list_scale_min": min(scale[n] for n in lists),
        "dashboard_scale": min(scale[n] for n in dashboards),
        "dashboard_vs_list": ratio(min(large[n]["rps"] for n in dashboards), large["list_all"]["rps"]),
        "import_rows_per_s": imported["rows_per_s"],
        "dashboard_cold_ms": stages["large"]["cold"]["dashboard_all"],
        "dashboard_cold_bytes": browser["cold"]["bytes"],
        "dashboard_warm_bytes": browser["warm"]["bytes"],
        "scale": scale,
        "scale_vs_baseline": normalized,
        "stages": stages,
        "export": export,
        "import": imported,
        "browser": browser,
        "server_errors_logged": errors[:20],
    }
    results["targets"] = {
        name: {
            "value": results[name],
            "test": f"{test} {limit}",
            "what": what,
            "pass": passes(results[name], test, limit),
        }
        for name, (test, limit, what) in TARGETS.items()
    }
    return results


def ratio(a, b):
    return round(a / b, 3) if b else 0.0


def passes(value, test, limit):
    return {">=": value >= limit, "<=": value <= limit, "<": value < limit}[test]


def print_report(results):
    small, large = results["stages"]["small"], results["stages"]["large"]
    print(
        f"\nCourthouse tracker benchmark: {results['database']}, {small['rows']:,} -> "
        f"{large['rows']:,} incidents, wrk -c{results['connections']} "
        f"{results['duration_per_run_s']} s per run\n"
    )
    head = (
        f"{'page':22}{'req/s':>10}{'p50 ms':>9}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'N/10k':>8}"
        f"{'norm.':>7}"
    )
    print(f"{'':22}{'at ' + format(small['rows'], ','):>19}{'at ' + format(large['rows'], ','):>28}")
    print(head)
    print("-" * len(head))
    for name, big in large["pages"].items():
        little = small["pages"][name]
        print(
            f"{name:22}{little['rps']:10.1f}{little['p50_ms'] or 0:9.2f}{big['rps']:10.1f}"
            f"{big['p50_ms'] or 0:9.2f}{big['p99_ms'] or 0:9.2f}{results['scale'][name]:8.2f}"
            f"{results['scale_vs_baseline'][name]:7.2f}"
        )
    print(
        "(N/10k: req/s at N over req/s at 10,000; norm.: the same, each measured against its "
        "stage's trivial view)"
    )
    print("\nfirst request after a write (cache empty), ms:")
    for name in large["cold"]:
        print(f"  {name:20}{small['cold'][name] or 0:10.1f}{large['cold'][name] or 0:10.1f}")
    export, imported, browser = results["export"], results["import"], results["browser"]
    print(
        f"\nexport: {export['export_seconds']:.2f} s for {export['export_rows']:,} rows "
        f"({export['export_bytes'] / 1e6:.0f} MB); psql COPY {export['copy_seconds']:.2f} s; "
        f"worker peak RSS {export['peak_worker_rss_mb']:.0f} MB"
    )
    print(
        f"import: {imported['rows']:,} rows at {imported['rows_per_s']:,.0f} rows/s"
        + (f" ({imported['error'][:100]})" if imported.get("error") else "")
    )
    print(f"dashboard in Chromium: cold {browser['cold']['bytes']:,} B, warm {browser['warm']['bytes']:,} B")
    if results["server_errors_logged"]:
        print(
            f"server logged {len(results['server_errors_logged'])} error lines, e.g. "
            f"{results['server_errors_logged'][0][:200]}"
        )
    print("\ntargets:")
    for name, target in results["targets"].items():
        value = target["value"]
        shown = f"{value:,.3f}" if isinstance(value, float) and value < 100 else f"{value:,.0f}"
        print(
            f"  {'PASS' if target['pass'] else 'FAIL'}  {name:22}{shown:>14}  {target['test']:>12}"
            f"  ({target['what']})"
        )


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
