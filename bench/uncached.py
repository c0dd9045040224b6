"""Pages with nothing cached, and how soon a write shows (issue 17).

Uncached: after a write (the data version forgotten), wrk asks each page with a
filter combination nobody asked for before: every request carries its own
`date_after`, a day before any incident (1990-01-02, 1990-01-03, ...: each wrk
thread counts from its own start), so the rows and the work are the whole page's,
but neither the page cache nor any cached figure can answer it. Past the 9,800
days before the data starts, a `date_before` a day earlier per round keeps the
addresses new. Stale-while-revalidate never serves these: no earlier version of
such an address exists.

Freshness: an incident's outcome is changed and its data version bumped in one
committed transaction, as services.py does; then /api/stats/?by=outcome and / are
asked again until they show it. The seconds from the commit to the first answer
that shows it are the sample.
"""

import subprocess
import tempfile
import time
from pathlib import Path

import harness
import traffic
from harness import log

STATS_BY = (
    "month",
    "county",
    "state",
    "courthouse",
    "case_type",
    "outcome",
    "person_role",
    "location",
    "warrant",
    "court_type",
)
COMMON_WORD, RARE_WORD = "courthouse", "juvenile"

LUA = """
local n, counter = 0, 0
function setup(thread)
  thread:set("offset", counter * 4900)
  counter = counter + 1
end
function request()
  n = n + 1
  local k = (offset or 0) + n
  local day = os.date("!%Y-%m-%d", os.time({year = 1990, month = 1, day = 1, hour = 12}) + (k % 9800 + 1) * 86400)
  local query = "date_after=" .. day
  local round = math.floor(k / 9800)
  if round > 0 then
    query = query .. "&date_before=" .. os.date("!%Y-%m-%d", os.time() - round * 86400)
  end
  return wrk.format("GET", wrk.path .. (string.find(wrk.path, "?", 1, true) and "&" or "?") .. query)
end
"""


def pages(db, list_urls):
    """name -> path of every page measured uncached."""
    slug, fips = harness.query(
        db,
        """SELECT c.slug, c.county_id FROM incidents_incident i JOIN incidents_courthouse c
           ON c.id = i.courthouse_id GROUP BY c.slug, c.county_id ORDER BY count(*) DESC LIMIT 1""",
    )[0]
    found = {"uncached_dashboard_all": "/", "uncached_dashboard_state": "/?state=NY"}
    found.update({f"uncached_{name}": path for name, path in list_urls.items()})
    found["uncached_q_common"] = f"/incidents/?q={COMMON_WORD}"
    found["uncached_q_rare"] = f"/incidents/?q={RARE_WORD}"
    found.update({f"uncached_stats_{by}": f"/api/stats/?by={by}" for by in STATS_BY})
    found["uncached_courthouses"] = "/courthouses/"
    found["uncached_county"] = f"/counties/{fips}/"
    found["uncached_courthouse"] = f"/courthouses/{slug}/"
    return found


def measure(server, db, list_urls, args):
    """{name: wrk figures} for every page, each request new, after a write."""
    script = Path(tempfile.mkdtemp(prefix="bench-uncached-")) / "fresh.lua"
    script.write_text(LUA)
    measured = {}
    for name, path in pages(db, list_urls).items():
        harness.query(db, "DELETE FROM incidents_dataversion")
        measured[name] = _wrk(server.base + path, args, script)
        page = measured[name]
        log(
            f"  {name:28} {page['rps']:9.1f} req/s  p50 {page['p50_ms'] or 0:8.2f} ms  p99 {page['p99_ms'] or 0:8.2f} ms"
        )
    return measured


def _wrk(url, args, script):
    try:
        traffic.check_page(url)
    except (RuntimeError, OSError) as exc:
        log(f"  ERROR {exc}"[:400])
        return {"url": url, "error": str(exc)[:300], "rps": 0.0, "p50_ms": 0.0, "p99_ms": 0.0}
    traffic.drain("/".join(url.split("/", 3)[:3]))
    command = traffic.wrk_command(
        url, args.duration, args.connections, script=script, headers=traffic.BROWSER_HEADERS
    )
    out = subprocess.run(command, capture_output=True, text=True, timeout=args.duration + 300, check=False)
    if out.returncode:
        raise RuntimeError(f"wrk failed on {url}: {out.stderr.strip()}")
    result = traffic.parse_wrk(out.stdout)
    if result["non_2xx_3xx"] or result["socket_errors"]:
        log(f"  WARNING {url}: {result['non_2xx_3xx']} non-2xx, {result['socket_errors']} socket errors")
    return {**result, "url": url}


def freshness(server, db, samples=5, limit=60.0):
    """Seconds from an edit's commit until the dashboard and /api/stats/ show it, per sample."""
    seconds = []
    for n in range(samples):
        pk, outcome = _an_arrest(db, n)
        before_stats, before_page = _outcome_counts(server), traffic.get(server.base + "/").body
        harness.query(
            db,
            f"""UPDATE incidents_incident SET outcome = 'attempted', people_count = 0 WHERE id = {pk};
                UPDATE incidents_dataversion SET value = (random() * 1e15)::bigint""",
        )
        committed = time.monotonic()
        seconds.append(_until_shown(server, before_stats, before_page, committed, limit))
        log(
            f"  freshness sample {n + 1}: incident {pk} ({outcome} -> attempted) shown in {seconds[-1]:.3f} s"
        )
    return seconds


def _an_arrest(db, n):
    return harness.query(
        db,
        """SELECT id, outcome FROM incidents_incident WHERE status = 'published' AND outcome = 'arrested'
           ORDER BY date DESC, id DESC LIMIT 1 OFFSET %s""",
        (n,),
    )[0]


def _outcome_counts(server):
    return traffic.get(server.base + "/api/stats/?by=outcome").body


def _until_shown(server, before_stats, before_page, committed, limit):
    stats_seen = page_seen = None
    while time.monotonic() - committed < limit and (stats_seen is None or page_seen is None):
        if stats_seen is None and _outcome_counts(server) != before_stats:
            stats_seen = time.monotonic() - committed
        if page_seen is None and traffic.get(server.base + "/").body != before_page:
            page_seen = time.monotonic() - committed
    return max(stats_seen or limit, page_seen or limit)
