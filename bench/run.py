"""`make bench`: does any page's cost grow with the size of the data? (issue 7)

    .venv/bin/python bench/run.py --rows 1000000          # the full run (make bench)
    .venv/bin/python bench/run.py --rows 50000 --quick    # a few minutes, same code paths
    .venv/bin/python bench/run.py --rows 50000 --sqlite   # the same on SQLite

One run starts a throwaway PostgreSQL, migrates, loads 10,000 synthetic incidents,
serves the app with gunicorn (2 sync workers, production settings) and measures
every page with wrk; then it grows the data to --rows and measures again, times the
CSV export against psql COPY (with the server's peak memory), an import of an
N-row file into the N-row table (rate and peak memory), and the bytes a headless
Chromium transfers for a cold and a warm dashboard. It prints a table, writes bench/results.json and prints PASS or FAIL per
target. Everything it started is stopped at the end, also on error or Ctrl-C.
See bench/README.md.
"""

import argparse
import datetime
import re
import sys
import time
import types
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import data
import export_bench
import harness
import import_bench
import traffic
import uncached
from harness import log

SMALL = 10_000
# A combination the generator never produces (incidents/synthetic.NEVER), so the
# "matches nothing" list variant truly matches nothing at every size.
NO_MATCH = {"state": "WY", "case_type": "juvenile", "person_role": "witness", "location": "courtroom"}

LIST_VARIANTS = {
    "list_all": "",
    "list_state": "state=NY",
    "list_three_filters": "state=CA&case_type=criminal&outcome=arrested",
    "list_no_match": urllib.parse.urlencode(NO_MATCH),
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
    "import_peak_rss_mb": ("<=", 300, "peak RSS of import_incidents, dry run or real"),
    "dashboard_cold_bytes": ("<=", 1_000_000, "cold dashboard in Chromium"),
    "dashboard_warm_bytes": ("<=", 100_000, "warm dashboard in Chromium"),
    "uncached_scale_min": (">=", 0.5, "worst page with nothing cached, req/s at N / at 10,000"),
    "q_common_scale": (">=", 0.5, "q= a common word, nothing cached, req/s at N / at 10,000"),
    "q_rare_scale": (">=", 0.5, "q= a rare word, nothing cached, req/s at N / at 10,000"),
    "freshness_p99_s": ("<=", 5, "an edit's commit until / and /api/stats/ show it, at N"),
}


def main():
    args = parse_args()
    started = time.monotonic()
    with harness.Cleanup() as cleanup:
        db = harness.start_database(cleanup, sqlite=args.sqlite)
        env = harness.prepare_app(cleanup, db)
        harness.setup_django_here(env)
        courthouses = data.create_courthouses(db)
        generator = data.generator(courthouses, retracted=0.01)
        small = min(SMALL, args.rows)

        load(db, generator, 1, small)
        server = harness.start_gunicorn(cleanup, env)
        stages = {"small": measure_pages(server, db, args, small)}
        load_seconds = load(db, generator, small + 1, args.rows - small)
        stages["large"] = measure_pages(server, db, args, args.rows)

        export = measure_export(server, db)
        browser = measure_browser(server)
        imported = measure_import(env, courthouses, args)
        errors = server.errors_logged()
    results = summarize(args, stages, export, browser, imported, load_seconds, errors)
    results["wall_seconds"] = round(time.monotonic() - started)
    harness.write_json(harness.RESULTS, results)
    print_report(results)
    log(f"wrote {harness.RESULTS} ({results['wall_seconds']} s)")
    return 1 if any(target["pass"] is False for target in results["targets"].values()) else 0


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="incidents at the large stage")
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    parser.add_argument("--quick", action="store_true", help="short wrk runs and a smaller import")
    parser.add_argument("--duration", type=int, help="seconds per wrk run (default 10, quick 3)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--import-rows", type=int, help="rows in the import file (default --rows)")
    args = parser.parse_args()
    args.duration = args.duration or (3 if args.quick else 10)
    args.warmup = 1 if args.quick else 2
    args.import_rows = args.import_rows or (20_000 if args.quick else args.rows)
    if args.rows < SMALL:
        parser.error(f"--rows must be at least {SMALL:,}")
    return args


def load(db, generator, first, count):
    if count <= 0:
        return 0.0
    log(f"loading {count:,} incidents")
    seconds = data.bulk_load(db, generator, first, count)
    data.after_bulk_load(db)
    log(f"  {count:,} incidents in {seconds:.1f} s ({count / max(seconds, 1e-6):,.0f}/s)")
    return seconds


# --- Pages -----------------------------------------------------------------------


def measure_pages(server, db, args, rows):
    """wrk figures for every page variant at the current data size."""
    log(f"measuring pages at {rows:,} incidents")
    if data.count_published(
        db,
        " AND state_id = %s AND case_type = %s AND person_role = %s AND location = %s",
        tuple(NO_MATCH.values()),
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
    _measure_cached(server, args, stage, urls)
    log(f"measuring pages at {rows:,} incidents with nothing cached")
    lists = {name: path for name, path in urls.items() if name.startswith("list_")}
    stage["uncached"] = uncached.measure(server, db, lists, args)
    if db.kind == "postgresql" and rows == args.rows:
        stage["freshness_s"] = uncached.freshness(server, db)
    return stage


def _measure_cached(server, args, stage, urls):
    for name, path in urls.items():
        stage["pages"][name] = measure_url(server.base + path, args)
        page = stage["pages"][name]
        log(
            f"  {name:20} {page['rps']:9.1f} req/s  p50 {page['p50_ms'] or 0:8.2f} ms  "
            f"p99 {page['p99_ms'] or 0:8.2f} ms  {page['response_bytes']:,} B"
        )


def measure_url(url, args):
    try:
        response = traffic.check_page(url)
    except (RuntimeError, OSError) as exc:  # one broken page must not end a 20-minute run
        log(f"  ERROR {exc}")
        return {
            "url": url,
            "error": str(exc)[:300],
            "rps": 0.0,
            "p50_ms": 0.0,
            "p99_ms": 0.0,
            "response_bytes": 0,
        }
    base = "/".join(url.split("/", 3)[:3])
    drain(base)
    traffic.wrk(url, args.warmup, args.connections, headers=traffic.BROWSER_HEADERS)
    drain(base)
    result = traffic.wrk(url, args.duration, args.connections, headers=traffic.BROWSER_HEADERS)
    if result["non_2xx_3xx"] or result["socket_errors"]:
        log(f"  WARNING {url}: {result['non_2xx_3xx']} non-2xx, {result['socket_errors']} socket errors")
    result.update(url=url, response_bytes=len(response.body))
    return result


def drain(base):
    if not traffic.drain(base):
        log("WARNING: the server still looks busy after draining")


def cold_requests(server, db):
    """Seconds for the first request after the cache is emptied (as after any write)."""
    cold = {}
    for name, path in [
        ("dashboard_all", "/"),
        ("dashboard_state", "/?state=NY"),
        ("stats_month", "/api/stats/?by=month"),
        ("stats_county", "/api/stats/?by=county"),
    ]:
        harness.query(db, "DELETE FROM incidents_dataversion")
        response = traffic.get(server.base + path)
        cold[name] = round(response.seconds * 1000, 1) if response.status == 200 else None
    log("  cold (ms): " + ", ".join(f"{k} {v}" for k, v in cold.items()))
    return cold


def deep_list_query(server, db, offset):
    """The query string of the list page that starts `offset` rows deep.

    The list pages with a keyset cursor; following "next" 10,000 times would take
    minutes, so the "next" cursor of the row before `offset` is made directly, by the
    app's own incidents.cursors. The page must then start with the row at `offset`.
    """
    from incidents import cursors

    (before_id, before_date), (first_id, _) = harness.query(
        db,
        """SELECT id, date FROM incidents_incident WHERE status = 'published'
           ORDER BY date DESC, id DESC LIMIT 2 OFFSET %s""",
        (offset - 1,),
    )
    before = types.SimpleNamespace(id=before_id, date=_day(before_date))
    query = urllib.parse.urlencode({"cursor": cursors.encode("next", "-date", before)})
    page = traffic.check_page(f"{server.base}/incidents/?{query}").text()
    ids = [int(i) for i in re.findall(r'href="[^"]*/incidents/(\d+)/"', page)]
    if ids[:1] != [first_id]:
        raise RuntimeError(f"the deep page starts with {ids[:1]}, not incident {first_id}")
    return query


def _day(value):
    """A date from the database (SQLite answers text)."""
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value)[:10])


# --- Export, import, browser ---------------------------------------------------


def measure_export(server, db):
    """The web export's time and peak RSS, against COPY of the same rows on PostgreSQL."""
    log("export vs COPY")
    try:
        result = export_bench.measure(db, server)
    except Exception as exc:  # noqa: BLE001 (psql, the server: report and keep the run going)
        log(f"  ERROR {exc}")
        return {"error": str(exc)[:300], "export_vs_copy": 0.0, "export_peak_rss_mb": 0.0, "rows": 0}
    published = data.count_published(db)
    if result["rows"] != published:
        log(f"  WARNING: the export has {result['rows']:,} rows, the database {published:,} published")
    log(
        f"  COPY {result.get('copy_seconds')} s; export {result['export_seconds']:.2f} s "
        f"({result['export_mb']:.0f} MB); worker peak RSS {result['export_peak_rss_mb']:.0f} MB; "
        f"same bytes as COPY: {result.get('same_bytes_as_copy')}"
    )
    return {**result, "published_rows": published}


def measure_browser(server):
    log("dashboard bytes in Chromium")
    try:
        result = traffic.browser_bytes(server.base + "/")
    except Exception as exc:  # noqa: BLE001 (playwright raises its own Error types)
        log(f"  ERROR {exc}")
        empty = {"bytes": 0, "responses": 0, "largest": []}
        return {"error": str(exc)[:300], "cold": empty, "warm": empty}
    log(
        f"  cold {result['cold']['bytes']:,} B in {result['cold']['responses']} responses; "
        f"warm {result['warm']['bytes']:,} B in {result['warm']['responses']}"
    )
    return result


def measure_import(env, courthouses, args):
    """Rate and peak memory of a dry run and a real import (bench/import_bench.py)."""
    try:
        return import_bench.measure(env, courthouses, args.import_rows, table_rows=args.rows)
    except Exception as exc:  # noqa: BLE001 (reported in the table; the run goes on)
        log(f"  import failed: {exc}"[:600])
        return {
            "rows": args.import_rows,
            "error": str(exc)[:500],
            "import_rows_per_s": 0,
            "import_peak_rss_mb": None,
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
    uncached_small, uncached_large = stages["small"]["uncached"], stages["large"]["uncached"]
    uncached_scale = {
        name: ratio(uncached_large[name]["rps"], uncached_small[name]["rps"]) for name in uncached_large
    }
    freshness = stages["large"].get("freshness_s")
    results = {
        "uncached_scale_min": min(uncached_scale.values()),
        "uncached_scale": uncached_scale,
        "q_common_scale": uncached_scale["uncached_q_common"],
        "q_rare_scale": uncached_scale["uncached_q_rare"],
        "freshness_p99_s": round(max(freshness), 3) if freshness else None,
        "rows": args.rows,
        "database": "sqlite" if args.sqlite else "postgresql",
        "duration_per_run_s": args.duration,
        "connections": args.connections,
        "load_seconds": round(load_seconds, 1),
        "export_vs_copy": export["export_vs_copy"],
        "export_peak_rss_mb": export["export_peak_rss_mb"],
        "list_vs_baseline_min": ratio(min(large[n]["rps"] for n in lists), large["baseline"]["rps"]),
        "list_scale_min": min(scale[n] for n in lists),
        "dashboard_scale": min(scale[n] for n in dashboards),
        "dashboard_vs_list": ratio(min(large[n]["rps"] for n in dashboards), large["list_all"]["rps"]),
        "import_rows_per_s": imported["import_rows_per_s"],
        "import_peak_rss_mb": imported["import_peak_rss_mb"],
        "import_dry_run_peak_rss_mb": imported.get("import_dry_run_peak_rss_mb"),
        "import_real_peak_rss_mb": imported.get("import_real_peak_rss_mb"),
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
    results["targets"] = harness.targets(results, TARGETS)
    return results


def ratio(a, b):
    return round(a / b, 3) if b else 0.0


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
    print("\nnothing cached (a new filter combination per request, after a write):")
    for name, big in large["uncached"].items():
        little = small["uncached"][name]
        print(
            f"{name:30}{little['rps']:10.1f}{little['p50_ms'] or 0:9.2f}{big['rps']:10.1f}"
            f"{big['p50_ms'] or 0:9.2f}{big['p99_ms'] or 0:9.2f}{results['uncached_scale'][name]:8.2f}"
        )
    print("\nfirst request after a write (cache empty), ms:")
    for name in large["cold"]:
        print(f"  {name:20}{small['cold'][name] or 0:10.1f}{large['cold'][name] or 0:10.1f}")
    export, imported, browser = results["export"], results["import"], results["browser"]
    if export.get("error"):
        print(f"\nexport: not measured ({export['error'][:100]})")
    else:
        export_bench.print_table(export)
    if imported.get("error"):
        print(f"\nimport: not measured ({imported['error'][:100]})")
    else:
        import_bench.print_table(imported)
    print(f"dashboard in Chromium: cold {browser['cold']['bytes']:,} B, warm {browser['warm']['bytes']:,} B")
    if results["server_errors_logged"]:
        print(
            f"server logged {len(results['server_errors_logged'])} error lines, e.g. "
            f"{results['server_errors_logged'][0][:200]}"
        )
    print("\ntargets:")
    for name, target in results["targets"].items():
        shown = _shown(target["value"])
        print(f"  {VERDICTS[target['pass']]}  {name:22}{shown:>14}  {target['test']:>12}  ({target['what']})")


VERDICTS = {True: "PASS", False: "FAIL", None: "n/a "}


def _shown(value):
    if value is None:
        return "n/a"
    return f"{value:,.3f}" if isinstance(value, float) and value < 100 else f"{value:,.0f}"


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
