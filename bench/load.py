"""`make load`: public traffic and concurrent staff edits at once, with nothing lost (issue 6, §6).

    .venv/bin/python bench/load.py                      # 100,000 incidents, 3 x 30 s of wrk, 500 edits
    .venv/bin/python bench/load.py --rows 20000 --duration 5 --edits 100   # a quick check

A throwaway PostgreSQL gets the demo data (load_demo_data) plus synthetic incidents
up to --rows; gunicorn serves it with production settings behind nginx, as README's
"Production" has it: one pool of workers for the public and one for signed-in staff
(harness.Front). wrk then drives the
dashboard, a filtered list and the API at 64 connections each, asking for gzip as a
browser does (one after another, or all at once with --parallel) while a second process, the editor, signs in as
court administrators and performs --edits incident edits through the web form from
a pool of threads, spread evenly over the wrk runs so that every endpoint is measured
under the same writes (--burst: as fast as the editors go). Two edits go to each chosen
incident, so some collide: the loser gets 409 and retries from a fresh form, as a
person would.

Each attempt writes a unique token into the summary. Afterwards the database is
checked: every acknowledged edit (302 after POST) is in the incident's history
under the version it claimed, each incident ends at its last acknowledged edit,
and no refused (409) attempt left a trace. Results go to bench/load_results.json;
the exit status is non-zero on any error or lost edit.
"""

import argparse
import http.client
import multiprocessing
import os
import queue as queue_module
import random
import statistics
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import data
import harness
import traffic
import uncached
from harness import log

RESULTS = harness.BENCH / "load_results.json"
PASSWORD = "load-test-password-8d2f"
# name: (test, threshold, description), issue 17
GOALS = {
    "load_dashboard_p99_ms": ("<=", 1000, "dashboard p99 while edits run"),
    "load_edit_p99_ms": ("<=", 500, "edit p99 while the pages are asked"),
    "load_dashboard_vs_list": (">=", 0.5, "dashboard req/s / filtered list req/s"),
    "load_freshness_p99_s": ("<=", 5, "an edit's commit until / and /api/stats/ show it"),
}
TARGETS = {
    "dashboard": "/",
    "filtered_list": "/incidents/?state=NY&outcome=arrested",
    "api": "/api/incidents/?state=CA&case_type=criminal",
}


def main():
    args = parse_args()
    started = time.monotonic()
    with harness.Cleanup() as cleanup:
        db = harness.start_database(cleanup)
        env = harness.prepare_app(cleanup, db)
        harness.setup_django_here(env)
        prepare_data(db, env, args.rows)
        users = create_editors(env, args.workers)
        server = harness.start_front(cleanup, env, args.server_workers, args.staff_workers)
        for path in TARGETS.values():
            traffic.check_page(server.base + path)
        plan = edit_plan(db, args.edits)
        before = _cpu(db, server)
        measured, edits = run_load(server, args, users, plan)
        cpu = {name: round(after - before[name], 1) for name, after in _cpu(db, server).items()}
        verification = verify(db, edits)
        freshness = uncached.freshness(server, db, samples=3)
        errors = server.errors_logged()
    results = summarize(args, measured, edits, verification, errors)
    results.update(goals(results, freshness))
    results["cpu_seconds"] = cpu
    results["app_servers_per_primary"] = round(cpu["app"] / cpu["database"], 1) if cpu["database"] else None
    results["wall_seconds"] = round(time.monotonic() - started)
    harness.write_json(RESULTS, results)
    print_report(results)
    return 0 if results["ok"] and all(g["pass"] for g in results["targets"].values()) else 1


def _cpu(db, server):
    """CPU seconds so far of the database server, of the app servers (every worker of both
    pools) and of nginx."""
    return {
        "database": harness.cpu_seconds(harness.postmaster_pid(db)),
        "app": sum(harness.cpu_seconds(pool.proc.pid) for pool in server.pools),
        "nginx": harness.cpu_seconds(server.proc.pid),
    }


def goals(results, freshness):
    """The issue-17 figures and their PASS/FAIL."""
    rps = results["requests_per_s"]
    found = {
        "load_dashboard_p99_ms": results["p99_ms"]["dashboard"],
        "load_edit_p99_ms": results["edits"]["p99_ms"],
        "load_dashboard_vs_list": round(rps["dashboard"] / rps["filtered_list"], 3)
        if rps["filtered_list"]
        else 0,
        "load_freshness_p99_s": round(max(freshness), 3),
        "freshness_samples_s": [round(f, 3) for f in freshness],
    }
    found["targets"] = harness.targets(found, GOALS)
    return found


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="incidents in all (demo + synthetic)")
    parser.add_argument("--duration", type=int, default=30, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections per endpoint")
    parser.add_argument("--edits", type=int, default=500, help="acknowledged edits wanted")
    parser.add_argument("--workers", type=int, default=16, help="editor threads (one user each)")
    parser.add_argument(
        "--server-workers",
        type=int,
        default=2 * (os.cpu_count() or 1) + 1,
        help="gunicorn sync workers for the public (default 2 x cores + 1)",
    )
    parser.add_argument(
        "--staff-workers", type=int, default=2, help="gunicorn sync workers for signed-in staff"
    )
    parser.add_argument("--parallel", action="store_true", help="run the three wrk at once")
    parser.add_argument(
        "--burst",
        action="store_true",
        help="edits as fast as the editors go (the first endpoint then gets every write), "
        "not spread over the wrk runs",
    )
    return parser.parse_args()


# --- Set-up ----------------------------------------------------------------------


def prepare_data(db, env, rows):
    log("load_demo_data")
    harness.manage(env, "load_demo_data")
    present = harness.scalar(db, "SELECT count(*) FROM incidents_incident")
    if rows > present:
        courthouses = data.create_courthouses(db)
        generator = data.generator(courthouses, retracted=0.01)
        log(f"loading {rows - present:,} synthetic incidents")
        data.bulk_load(db, generator, 1, rows - present)
    data.after_bulk_load(db)
    log(f"{harness.scalar(db, 'SELECT count(*) FROM incidents_incident'):,} incidents")


CREATE_USERS = """
from django.contrib.auth.models import Group, User
from incidents.models import Jurisdiction, State
group = Group.objects.get(name="Court administrators")
for name in {names!r}:
    user = User.objects.create_user(name, password={password!r})
    user.groups.add(group)
    Jurisdiction.objects.bulk_create(Jurisdiction(user=user, state=state) for state in State.objects.all())
"""


def create_editors(env, count):
    names = [f"loadclerk{n:02d}" for n in range(count)]
    harness.manage(env, "shell", "-c", CREATE_USERS.format(names=names, password=PASSWORD))
    return names


def edit_plan(db, edits):
    """Two edits per incident, shuffled so that the pair often overlaps in time."""
    ids = [
        row[0]
        for row in harness.query(
            db,
            "SELECT id FROM incidents_incident WHERE status = 'published' ORDER BY random() LIMIT %s",
            ((edits + 1) // 2,),
        )
    ]
    plan = [pk for pk in ids for _ in range(2)][:edits]
    random.Random(6).shuffle(plan)
    return plan


# --- The editor --------------------------------------------------------------------


def edit_once(browser, pk, token):
    """One attempt: load the form, add the token to the summary, post it."""
    path = f"/incidents/{pk}/edit/"
    started = time.perf_counter()
    status, _, page = browser.request("GET", path)
    if status != 200:
        return {"status": status, "phase": "form", "body": page[:300]}
    form = traffic.find_form(page, "version")
    if form is None or "summary" not in form["fields"]:
        return {
            "status": status,
            "phase": "form",
            "body": "no form with version and summary",
        }
    fields = dict(form["fields"])
    fields["summary"] = f"{fields['summary'].strip()} [{token}]".strip()
    if "public_note" in fields:  # a published incident's correction says why (issue 14)
        fields["public_note"] = f"Load test correction {token}"
    status, _, body = browser.request("POST", form["action"] or path, fields)
    return {
        "status": status,
        "phase": "post",
        "version": int(fields["version"]),
        "seconds": time.perf_counter() - started,
        "body": "" if status in (302, 409) else body[:500],
    }


def editor(base, users, plan, results, pace=0.0, ready=None):
    """The second process: edits from a thread pool, each thread with a signed-in user.

    Every editor signs in first (a password check costs about a second of a worker, and
    sixteen at once would stall the first endpoint's run), then `ready` is called. Edit n
    starts no earlier than n x `pace` seconds after that (0: as fast as the editors go)."""
    browsers = queue_module.Queue()
    with ThreadPoolExecutor(max_workers=len(users)) as pool:
        for browser in pool.map(lambda user: _signed_in(base, user), users):
            browsers.put(browser)
    if ready:
        ready()
    started = time.time()

    def edit(job):
        n, pk = job
        pause = started + n * pace - time.time()
        if pause > 0:
            time.sleep(pause)
        browser, attempts = browsers.get(), []
        try:
            for attempt in range(8):
                token = f"LOADTEST-{n:04d}-{attempt}-{uuid.uuid4().hex[:10]}"
                try:
                    outcome = edit_once(browser, pk, token)
                except (OSError, http.client.HTTPException, RuntimeError) as exc:
                    outcome = {"status": 0, "phase": "connection", "body": str(exc)[:300]}
                attempts.append({"pk": pk, "token": token, "at": time.time(), **outcome})
                if outcome["status"] != 409:
                    break
        finally:
            browsers.put(browser)
        return attempts

    with ThreadPoolExecutor(max_workers=len(users)) as pool:
        for attempts in pool.map(edit, enumerate(plan)):
            results.extend(attempts)


def _signed_in(base, user):
    browser = traffic.Browser(base)
    browser.sign_in(user, PASSWORD)
    return browser


def run_editor_process(base, users, plan, queue, pace):
    results = []
    started = time.time()
    try:
        editor(base, users, plan, results, pace, ready=lambda: queue.put("ready"))
    finally:
        queue.put({"started": started, "finished": time.time(), "attempts": results})


# --- The load --------------------------------------------------------------------


def run_load(server, args, users, plan):
    log(
        f"{len(plan)} edits by {len(users)} editors while wrk runs "
        f"({args.connections} connections, {args.duration} s per endpoint, "
        f"{'at once' if args.parallel else 'one after another'})"
    )
    queue = multiprocessing.Queue()
    # Spread over every endpoint's run, so that each is measured under the same writes.
    pace = 0.0 if args.burst else args.duration * (1 if args.parallel else len(TARGETS)) / len(plan)
    editor_process = multiprocessing.Process(
        target=run_editor_process, args=(server.base, users, plan, queue, pace)
    )
    measured = {}
    editor_process.start()
    if queue.get(timeout=600) != "ready":
        raise RuntimeError("the editors could not sign in")
    started = time.time()
    try:
        if args.parallel:
            procs = {
                name: subprocess.Popen(
                    traffic.wrk_command(
                        server.base + path, args.duration, args.connections, headers=traffic.BROWSER_HEADERS
                    ),
                    stdout=subprocess.PIPE,
                    text=True,
                )
                for name, path in TARGETS.items()
            }
            for name, proc in procs.items():
                measured[name] = traffic.parse_wrk(proc.communicate(timeout=args.duration + 300)[0])
        else:
            for name, path in TARGETS.items():
                traffic.drain(server.base, quick=1.0)
                measured[name] = traffic.wrk(
                    server.base + path, args.duration, args.connections, headers=traffic.BROWSER_HEADERS
                )
                log(
                    f"  {name:14} {measured[name]['rps']:8.1f} req/s  p50 {measured[name]['p50_ms']} ms  "
                    f"p99 {measured[name]['p99_ms']} ms"
                )
        wrk_finished = time.time()
        edits = queue.get(timeout=3600)
        editor_process.join()
    finally:
        if editor_process.is_alive():
            editor_process.terminate()
    edits.update(wrk_started=started, wrk_finished=wrk_finished)
    return measured, edits


# --- Verification ------------------------------------------------------------------


def verify(db, edits):
    """Every acknowledged edit in the history under its version; no refused one anywhere."""
    attempts = edits["attempts"]
    acked = [a for a in attempts if a["status"] == 302]
    refused = [a for a in attempts if a["status"] == 409]
    history = {}
    for pk, version, summary in harness.query(
        db,
        """
            SELECT id, version, summary FROM incidents_historicalincident
            WHERE summary LIKE '%%LOADTEST-%%' ORDER BY history_id""",
    ):
        history.setdefault(pk, []).append((version, summary))
    current = {
        pk: (version, summary)
        for pk, version, summary in harness.query(
            db,
            """
            SELECT id, version, summary FROM incidents_incident WHERE id IN %s""",
            (tuple({a["pk"] for a in attempts}) or (0,),),
        )
    }

    missing = [
        a["token"]
        for a in acked
        if not any(v == a["version"] + 1 and a["token"] in s for v, s in history.get(a["pk"], []))
    ]
    leaked = [
        a["token"]
        for a in refused
        if any(a["token"] in s for _, s in history.get(a["pk"], []))
        or a["token"] in current.get(a["pk"], (0, ""))[1]
    ]
    last = {}
    for a in acked:
        if a["version"] >= last.get(a["pk"], {"version": -1})["version"]:
            last[a["pk"]] = a
    wrong_final = [
        pk for pk, a in last.items() if current[pk][0] != a["version"] + 1 or a["token"] not in current[pk][1]
    ]
    extra_history = sum(
        max(0, len(rows) - sum(1 for a in acked if a["pk"] == pk)) for pk, rows in history.items()
    )
    return {
        "acknowledged": len(acked),
        "found_in_history": len(acked) - len(missing),
        "missing": missing[:20],
        "refused_409": len(refused),
        "refused_but_written": leaked[:20],
        "incidents_edited": len(last),
        "incidents_not_at_last_edit": wrong_final[:20],
        "unexpected_history_rows": extra_history,
    }


# --- Report ----------------------------------------------------------------------


def summarize(args, measured, edits, verification, server_errors):
    attempts = edits["attempts"]
    errors = [a for a in attempts if a["status"] not in (302, 409)]
    seconds = sorted(a["seconds"] for a in attempts if a.get("seconds"))
    # An endpoint that answered nothing within the run counts as failing too.
    wrk_errors = sum(t["non_2xx_3xx"] + t["socket_errors"] + (t["requests"] == 0) for t in measured.values())
    ok = (
        not errors
        and not wrk_errors
        and not verification["missing"]
        and not verification["refused_but_written"]
        and not verification["incidents_not_at_last_edit"]
        and not verification["unexpected_history_rows"]
        and verification["acknowledged"]
    )
    overlap = max(0.0, min(edits["finished"], edits["wrk_finished"]) - edits["started"])
    return {
        "rows": args.rows,
        "server_workers": args.server_workers,
        "staff_workers": args.staff_workers,
        "connections_per_endpoint": args.connections,
        "duration_per_endpoint_s": args.duration,
        "parallel": args.parallel,
        "traffic": measured,
        "requests_per_s": {name: t["rps"] for name, t in measured.items()},
        "p50_ms": {name: t["p50_ms"] for name, t in measured.items()},
        "p99_ms": {name: t["p99_ms"] for name, t in measured.items()},
        "wrk_errors": wrk_errors,
        "edits": {
            "planned": args.edits,
            "attempts": len(attempts),
            "acknowledged": verification["acknowledged"],
            "conflicts_409": verification["refused_409"],
            "errors": len(errors),
            "error_examples": [{k: e[k] for k in ("pk", "phase", "status", "body")} for e in errors[:5]],
            "seconds": round(edits["finished"] - edits["started"], 1),
            "seconds_overlapping_wrk": round(overlap, 1),
            "p50_ms": round(statistics.median(seconds) * 1000, 1) if seconds else None,
            "p99_ms": round(seconds[int(len(seconds) * 0.99) - 1] * 1000, 1) if seconds else None,
        },
        "verification": verification,
        "errors": len(errors) + wrk_errors,
        "server_errors_logged": server_errors[:20],
        "ok": ok,
    }


def print_report(results):
    print(
        f"\nLoad test: {results['rows']:,} incidents, nginx before gunicorn {results['server_workers']} "
        f"+ {results['staff_workers']} (staff) sync workers, "
        f"wrk {results['connections_per_endpoint']} connections x {results['duration_per_endpoint_s']} s "
        f"per endpoint{' (all at once)' if results['parallel'] else ''}\n"
    )
    print(f"{'endpoint':16}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'non-2xx':>9}{'sock err':>9}")
    for name, t in results["traffic"].items():
        print(
            f"{name:16}{t['rps']:10.1f}{t['p50_ms'] or 0:10.1f}{t['p99_ms'] or 0:10.1f}"
            f"{t['non_2xx_3xx']:9}{t['socket_errors']:9}"
        )
    e, v = results["edits"], results["verification"]
    print(
        f"\nedits: {e['acknowledged']} acknowledged of {e['planned']} planned in {e['attempts']} attempts; "
        f"{e['conflicts_409']} answered 409 and were retried; {e['errors']} errors; "
        f"p50 {e['p50_ms']} ms, p99 {e['p99_ms']} ms per edit; {e['seconds']} s "
        f"({e['seconds_overlapping_wrk']} s while wrk ran)"
    )
    for example in e["error_examples"]:
        print(
            f"  error: incident {example['pk']} {example['phase']} {example['status']}: "
            f"{example['body'][:160]!r}"
        )
    print(
        f"verification: {v['found_in_history']} of {v['acknowledged']} acknowledged edits found in the "
        f"history; {len(v['incidents_not_at_last_edit'])} incidents not at their last edit; "
        f"{len(v['refused_but_written'])} refused edits written; "
        f"{v['unexpected_history_rows']} unexpected history rows"
    )
    if results["server_errors_logged"]:
        print(
            f"server logged {len(results['server_errors_logged'])} error lines, e.g. "
            f"{results['server_errors_logged'][0][:200]}"
        )
    cpu = results["cpu_seconds"]
    print(
        f"\nCPU while the load ran: database {cpu['database']} s, app servers {cpu['app']} s, nginx {cpu.get('nginx', 0)} s: one primary "
        f"carries about {results['app_servers_per_primary']} app servers like this one"
    )
    print("\ntargets:")
    for name, goal in results["targets"].items():
        verdict = "PASS" if goal["pass"] else "FAIL"
        print(f"  {verdict}  {name:24}{goal['value']!s:>10}  {goal['test']:>8}  ({goal['what']})")
    print(
        f"\n{'PASS' if results['ok'] else 'FAIL'}: errors {results['errors']}, "
        f"acknowledged {v['acknowledged']}, found {v['found_in_history']}"
    )


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
