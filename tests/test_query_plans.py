"""The hot list queries use an index, never a sequential scan (PostgreSQL only).

Each page is requested through the real view; every ordered, limited query it runs
on the incident table is then EXPLAINed on 20,000 analysed synthetic rows. With
the indexes of models.Incident.Meta missing or unusable (a filter rewritten so
that no index matches it, a dropped index), PostgreSQL falls back to reading the
whole table, and this test names the page and the plan.
"""

import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.models import Courthouse, Incident

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="plans are PostgreSQL's"),
]

ROWS = 20_000
PAGE_QUERY = re.compile(r'FROM "incidents_incident".*ORDER BY .* LIMIT \d+', re.S)
ANY_QUERY = re.compile(r'FROM "incidents_incident"')


@pytest.fixture
def incidents(db):
    call_command("generate_incidents", count=ROWS, seed=3, courthouses=300, stdout=None)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE incidents_incident")
        cursor.execute("ANALYZE incidents_courthouse")
    assert Incident.objects.count() == ROWS


def page_plans(client, url, pattern=PAGE_QUERY):
    """{sql: plan} of the ordered, limited incident queries the page runs (or those matching `pattern`)."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    plans = {}
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            if pattern.search(query["sql"]):
                cursor.execute("EXPLAIN " + query["sql"])
                plans[query["sql"]] = "\n".join(row[0] for row in cursor.fetchall())
    return plans


def test_list_pages_and_the_api_walk_an_index(client, incidents):
    busiest = (
        Courthouse.objects.filter(incidents__isnull=False)
        .order_by("?")
        .values_list("slug", flat=True)
        .first()
    )
    county = Incident.objects.values_list("county_id", flat=True).first()
    urls = [
        "/incidents/",
        "/incidents/?state=NY",
        f"/incidents/?county={county}",
        f"/incidents/?courthouse={busiest}",
        f"/courthouses/{busiest}/",
        f"/counties/{county}/",
        "/incidents/?state=CA&case_type=criminal&outcome=arrested",
        "/incidents/?state=WY&case_type=juvenile&person_role=witness&location=courtroom",
        "/incidents/?ordering=-people_count",
        "/incidents/?ordering=-updated_at",
    ]
    seen, failures = 0, []
    for url in urls:
        plans = page_plans(client, url)
        assert plans, f"{url}: no ordered, limited incident query was captured"
        seen += len(plans)
        for sql, plan in plans.items():
            if "Seq Scan on incidents_incident" in plan:
                failures.append(f"{url}\n{sql}\n{plan}")
    assert not failures, "\n\n".join(failures)
    assert seen >= len(urls)


def test_a_deep_page_starts_at_its_cursor(client, incidents):
    response = client.get("/incidents/")
    for _ in range(5):  # five pages in, by the page's own "next" link
        link = re.search(r'href="(\?[^"]*cursor=[^"]+)"[^>]*rel="next"', response.content.decode())
        if link is None:
            link = re.search(r'rel="next"[^>]*href="(\?[^"]*cursor=[^"]+)"', response.content.decode())
        assert link, "no next-page link"
        url = "/incidents/" + link[1].replace("&amp;", "&")
        response = client.get(url)
    plans = page_plans(client, url)
    assert plans
    for sql, plan in plans.items():
        assert "Seq Scan on incidents_incident" not in plan, f"{sql}\n{plan}"
        assert "Index" in plan


ORDERINGS = ["-date", "date", "-people_count", "people_count", "-updated_at", "updated_at"]


def assert_no_table_scan(plans, url):
    assert plans, f"{url}: no ordered, limited incident query was captured"
    for sql, plan in plans.items():
        assert "Seq Scan on incidents_incident" not in plan, f"{url}\n{sql}\n{plan}"


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_api_pages_walk_an_index_in_every_ordering(client, incidents, ordering):
    url = f"/api/incidents/?ordering={ordering}&limit=200"
    assert_no_table_scan(page_plans(client, url), url)
    for _ in range(10):  # ten pages in, by the API's own "next" links
        following = client.get(url).json()["next"]
        assert following and "cursor=" in following
        url = following.removeprefix("http://testserver")
    plans = page_plans(client, url)
    assert_no_table_scan(plans, url)
    # The cursor bounds the index scan itself (an Index Cond on the sort column),
    # rather than the scan reading from the index's start and filtering each row.
    bound = re.compile(rf"Index Cond: \(+{ordering.lstrip('-')} [<>]=")
    assert all(bound.search(plan) for plan in plans.values()), plans
    assert_no_table_scan(page_plans(client, f"{url}&state=NY"), f"{url}&state=NY")


def test_court_type_lists_walk_an_index(client, incidents):
    # One courthouse in 30 is an immigration court (about their share of the country's
    # courthouses); no federal court has incidents. With one in 10, the immigration
    # courts' rows lie on nearly every page of this 20,000-row table, where reading the
    # whole table is the right plan and the planner's choice depends on the table's
    # physical size (autovacuum's timing): the test failed once in CI that way.
    pks = list(Courthouse.objects.order_by("pk").values_list("pk", flat=True))
    Courthouse.objects.filter(pk__in=pks[::30]).update(court_type="immigration")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE incidents_courthouse")
        cursor.execute("ANALYZE incidents_county")
        cursor.execute("ANALYZE incidents_incident")
    failures = []
    for url in (
        "/incidents/?court_type=immigration",
        "/incidents/?court_type=state",
        "/incidents/?court_type=federal",
        "/incidents/?state=NY&court_type=immigration",
        "/api/incidents/?court_type=immigration",
    ):
        plans = page_plans(client, url)
        # A type no courthouse has needs no query at all.
        assert plans or "federal" in url, f"{url}: no ordered, limited incident query was captured"
        for sql, plan in plans.items():
            if "Seq Scan on incidents_incident" in plan:
                failures.append(f"{url}\n{sql}\n{plan}")
    assert not failures, "\n\n".join(failures)


def test_free_text_search_reads_a_rare_word_from_its_index(client, incidents):
    """A common word walks the date index; a rare one, even unknown to the planner, is read
    from the word index, never by recomputing every summary's words (incidents/search.py)."""
    rare = list(Incident.objects.values_list("id", flat=True)[:5])
    Incident.objects.filter(id__in=rare).update(summary="Los agentes realizaron una detención.")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE incidents_incident")
    checks = [
        ("/incidents/?q=agents", PAGE_QUERY),
        # for a rare word, every query: the lookup of its ids too
        ("/incidents/?q=detención", ANY_QUERY),
        ("/?q=detención", ANY_QUERY),
        ("/api/incidents/?q=detención", ANY_QUERY),
    ]
    failures = []
    for url, pattern in checks:
        plans = page_plans(client, url, pattern)
        assert plans, f"{url}: no incident query was captured"
        failures += [
            f"{url}\n{sql}\n{plan}" for sql, plan in plans.items() if "Seq Scan on incidents_incident" in plan
        ]
    assert not failures, "\n\n".join(failures)
    assert f"/incidents/{rare[0]}/" in client.get("/incidents/?q=detención").content.decode()


COUNTING_QUERY = re.compile(r'FROM "incidents_(incident|summary)"')
SUMMARISED = [
    "/",
    "/?state=NY",
    "/?date_after=2001-01-01",
    "/api/stats/?by=month&state=CA&date_after=2023-03-15&date_before=2024-05-20",
    "/api/stats/?by=outcome&date_before=2024-06-10",
    *(f"/api/stats/?by={by}&state=TX" for by in ("county", "courthouse", "court_type")),
]


def test_the_dashboard_reads_the_summary_not_every_incident(client, incidents):
    """The dashboard's figures come from the summary table, plus the days of a cut month by the date index."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE incidents_summary")
    for url in SUMMARISED:
        plans = page_plans(client, url, COUNTING_QUERY)
        assert any("incidents_summary" in sql for sql in plans), url
        for sql, plan in plans.items():
            assert "Seq Scan on incidents_incident" not in plan, f"{url}\n{sql}\n{plan}"
