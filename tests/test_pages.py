"""The public pages: list, detail, courthouses and counties, as a visitor sees them."""

import datetime
import html
import re
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.models import PUBLIC_FIELDS, Incident
from incidents.views import presentation as views

from .factories import CourthouseFactory, IncidentFactory

# Reading cached charts is a query where the shared cache is the database (PostgreSQL).
CACHE_QUERY = int("DatabaseCache" in settings.CACHES["default"]["BACKEND"])

pytestmark = pytest.mark.django_db

D = datetime.date
STAFF_SENTINELS = ("NOTE-7c1f", "DOCKET-7c1f", "reporter-7c1f@example.org")


def page(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, url
    return response.content.decode()


def row_ids(content):
    table = content.split('<table class="incidents">', 1)[-1].split("</table>", 1)[0]
    return [int(pk) for pk in re.findall(r'href="/incidents/(\d+)/"', table)]


def link(content, rel, base="/incidents/"):
    match = re.search(rf'href="([^"]*)" rel="{rel}"', content)
    return urljoin(base, html.unescape(match.group(1))) if match else None


def query_of(url):
    return parse_qs(urlsplit(url).query)


def many(n, **fields):
    """n incidents on n different days, newest first in the default order."""
    courthouse = CourthouseFactory()
    return [
        IncidentFactory(
            courthouse=courthouse,
            date=D(2020, 1, 1) + datetime.timedelta(days=i),
            **fields,
        )
        for i in range(n)
    ]


# -- list ----------------------------------------------------------------------


def test_the_list_shows_the_count_and_a_csv_link_with_the_same_filters(client):
    many(3)
    content = page(client, "/incidents/?state=NY&outcome=arrested&ordering=date")
    assert "3 incidents" in content
    href = html.unescape(re.search(r'href="(/incidents/export\.csv[^"]*)"', content).group(1))
    assert "Download these 3 incidents as CSV" in content
    assert query_of(href) == {
        "state": ["NY"],
        "outcome": ["arrested"],
        "ordering": ["date"],
    }


def test_the_csv_link_never_carries_a_page_cursor(client):
    many(60)
    first = page(client, "/incidents/?state=NY")
    second = page(client, link(first, "next"))
    href = html.unescape(re.search(r'href="(/incidents/export\.csv[^"]*)"', second).group(1))
    assert query_of(href) == {"state": ["NY"]}


def test_active_filters_show_as_chips_that_remove_one_value(client):
    many(1)
    content = page(client, "/incidents/?state=NY&state=TX&outcome=arrested")
    chips = {
        html.unescape(label): html.unescape(url)
        for url, label in re.findall(r'<a class="chip" href="([^"]*)"[^>]*><span>([^<]*)</span>', content)
    }
    assert set(chips) == {"State: New York", "State: Texas", "Outcome: Arrested"}
    assert query_of(chips["State: Texas"]) == {"state": ["NY"], "outcome": ["arrested"]}


def test_column_headers_sort_the_list(client):
    low, high = (
        IncidentFactory(people_count=1),
        IncidentFactory(people_count=3, date=D(2018, 1, 1)),
    )
    content = page(client, "/incidents/")
    assert row_ids(content) == [low.pk, high.pk]
    assert 'aria-sort="descending"' in content  # the date column, the default order
    people = re.search(r'<a href="([^"]*ordering=-people_count[^"]*)">People', content).group(1)
    people = urljoin("/incidents/", html.unescape(people))
    assert row_ids(page(client, people)) == [high.pk, low.pk]
    assert row_ids(page(client, "/incidents/?ordering=people_count")) == [
        low.pk,
        high.pk,
    ]
    assert row_ids(page(client, "/incidents/?ordering=date")) == [high.pk, low.pk]


def test_keyset_pages_list_every_row_once_in_order_and_go_back(client):
    incidents = many(views.PAGE_SIZE * 2 + 7)
    expected = [i.pk for i in sorted(incidents, key=lambda i: (i.date, i.pk), reverse=True)]
    seen, url, pages = [], "/incidents/", []
    while url:
        content = page(client, url)
        pages.append(content)
        seen += row_ids(content)
        url = link(content, "next")
    assert seen == expected
    assert len(pages) == 3
    assert link(pages[0], "prev") is None
    back = page(client, link(pages[2], "prev"))
    assert row_ids(back) == expected[views.PAGE_SIZE : views.PAGE_SIZE * 2]
    assert row_ids(page(client, link(back, "prev"))) == expected[: views.PAGE_SIZE]


@pytest.mark.parametrize("ordering", ["date", "-people_count", "updated_at", "-updated_at"])
def test_keyset_pages_work_for_every_ordering_with_ties(client, ordering):
    incidents = many(views.PAGE_SIZE + 5, people_count=2)  # every people_count ties
    seen, url = [], f"/incidents/?ordering={ordering}"
    while url:
        content = page(client, url)
        seen += row_ids(content)
        url = link(content, "next")
    assert sorted(seen) == sorted(i.pk for i in incidents)
    assert len(seen) == len(set(seen))


def test_a_deep_page_uses_no_offset_and_a_capped_count(client):
    many(views.PAGE_SIZE + 3)
    second = link(page(client, "/incidents/"), "next")
    with CaptureQueriesContext(connection) as queries:
        page(client, second)
    sql = " ".join(q["sql"] for q in queries).upper()
    assert "OFFSET" not in sql
    assert re.search(r"COUNT\(\*\).*FROM \(SELECT.*LIMIT 10001", sql)


def test_counting_stops_at_the_cap(client, monkeypatch):
    monkeypatch.setattr(views, "COUNT_CAP", 55)
    many(views.PAGE_SIZE + 10)
    content = page(client, "/incidents/")
    assert "More than 55 incidents" in content
    assert "Download these incidents as CSV (more than 55)" in content


@pytest.mark.parametrize("cursor", ["zzz", "%00", "eyJ4IjoxfQ", "WyJuZXh0IiwiLWRhdGUiLCJ4IiwxXQ", "A" * 400])
def test_a_bad_page_link_is_a_form_error_not_a_server_error(client, cursor):
    many(2)
    content = page(client, f"/incidents/?state=NY&cursor={cursor}", status=400)
    assert "This page link is not valid" in content
    assert "Go to the first page" in content


def test_a_page_link_for_another_ordering_is_refused(client):
    many(views.PAGE_SIZE + 1)
    next_page = link(page(client, "/incidents/"), "next")
    cursor = query_of(next_page)["cursor"][0]
    assert "not valid" in page(client, f"/incidents/?ordering=people_count&cursor={cursor}", status=400)


def test_the_empty_state_says_so(client):
    many(1)
    content = page(client, "/incidents/?state=TX")
    assert "0 incidents" in content
    assert "No incidents match these filters." in content
    assert "export.csv" not in content.split("<main", 1)[1].split("</main>", 1)[0]


def test_the_list_works_without_javascript(client):
    many(1)
    content = page(client, "/incidents/")
    assert re.search(r'<form class="filters" method="get" action="/incidents/"', content)
    assert '<button type="submit">' in content


# -- detail --------------------------------------------------------------------


def test_the_detail_page_shows_every_public_field_with_its_label(client):
    incident = IncidentFactory(source_url="https://news.example.org/story", summary="Agents waited outside.")
    content = page(client, f"/incidents/{incident.pk}/")
    for name in PUBLIC_FIELDS:
        label = str(Incident._meta.get_field(name).verbose_name)
        assert f"<dt>{html.escape(label[0].upper() + label[1:])}</dt>" in content, name
    assert f'href="/courthouses/{incident.courthouse.slug}/"' in content
    assert 'href="/counties/36047/"' in content
    assert '<a href="https://news.example.org/story" rel="noopener nofollow">' in content
    assert "Verified: the tracker confirmed" in content
    assert "Agents waited outside." in content
    assert content.count("<h1") == 1


def test_a_month_precision_date_says_only_the_month_is_known(client):
    incident = IncidentFactory(month_only=True)
    assert "May 2019 (only the month is known)" in page(client, f"/incidents/{incident.pk}/")


def test_the_change_log_lists_dated_public_corrections_only(client, superuser):
    incident = IncidentFactory(people_count=1)
    incident.internal_notes = STAFF_SENTINELS[0]
    incident.save()  # a staff-only change: no public correction
    incident.people_count = 2
    incident.verification = "disputed"
    incident._history_user = superuser
    incident.save()
    content = page(client, f"/incidents/{incident.pk}/")
    log = content.split("Change log", 1)[1]
    assert log.count("Corrected:") == 1
    assert log.count("Recorded.") == 1
    assert "People taken into custody: <del>1</del> → <ins>2</ins>" in log
    assert "Verification: <del>Verified</del> → <ins>Disputed</ins>" in log
    assert datetime.date.today().isoformat() in log
    assert STAFF_SENTINELS[0] not in content
    assert "root" not in log  # never the name of the user who made the change


def test_the_change_log_names_courthouses_not_ids(client):
    incident = IncidentFactory(courthouse=CourthouseFactory(name="Old Courthouse"))
    incident.courthouse = CourthouseFactory(name="New Courthouse")
    incident.save()
    log = page(client, f"/incidents/{incident.pk}/").split("Change log", 1)[1]
    assert "Courthouse: <del>Old Courthouse</del> → <ins>New Courthouse</ins>" in log


def test_a_retracted_incident_is_gone_and_a_missing_one_not_found(client):
    incident = IncidentFactory(retracted=True)
    page(client, f"/incidents/{incident.pk}/", status=410)
    page(client, f"/incidents/{incident.pk + 1}/", status=404)


# -- courthouses and counties ----------------------------------------------------


def test_the_courthouse_list_counts_incidents_per_courthouse_under_the_filters(client):
    brooklyn = CourthouseFactory(name="Brooklyn Criminal Court")
    el_paso = CourthouseFactory(name="El Paso County Courthouse", texas=True)
    IncidentFactory.create_batch(2, courthouse=brooklyn)
    IncidentFactory(courthouse=el_paso)
    content = page(client, "/courthouses/")
    assert content.index("Brooklyn Criminal Court") < content.index("El Paso County Courthouse")
    assert re.search(r'<td class="num">2</td>', content)
    filtered = page(client, "/courthouses/?state=TX")
    assert "El Paso County Courthouse" in filtered and "Brooklyn Criminal Court</a>" not in filtered


def test_a_courthouse_page_lists_its_incidents_with_a_trend_and_the_filters(client):
    here = CourthouseFactory(name="Queens Criminal Court")
    mine = IncidentFactory(courthouse=here, date=D(2019, 1, 5))
    attempted = IncidentFactory(courthouse=here, date=D(2019, 3, 5), attempted=True)
    other = IncidentFactory()
    content = page(client, f"/courthouses/{here.slug}/")
    assert content.count("<h1") == 1 and "Queens Criminal Court</h1>" in content
    assert set(row_ids(content)) == {mine.pk, attempted.pk}
    assert 'id="chart-month-data"' in content
    assert f"/api/stats/?by=month&amp;courthouse={here.slug}" in content
    assert f"/incidents/export.csv?courthouse={here.slug}" in content
    assert row_ids(page(client, f"/courthouses/{here.slug}/?outcome=attempted")) == [attempted.pk]
    assert other.pk not in row_ids(content)


def test_a_county_page_lists_its_incidents_with_a_trend(client):
    kings = IncidentFactory()
    IncidentFactory(courthouse=CourthouseFactory(texas=True))
    content = page(client, "/counties/36047/")
    assert "Kings County, New York</h1>" in content
    assert row_ids(content) == [kings.pk]
    assert 'id="chart-month-data"' in content
    assert "/api/stats/?by=month&amp;county=36047" in content


def test_unknown_places_are_not_found(client):
    page(client, "/courthouses/no-such-court/", status=404)
    page(client, "/counties/99999/", status=404)
    page(client, "/counties/abc/", status=404)


# -- autocomplete ------------------------------------------------------------------


def test_county_autocomplete_finds_counties_by_name_or_fips(client):
    found = client.get("/counties/autocomplete.json?q=kings").json()["results"]
    assert {"value": "36047", "label": "Kings County, NY"} in found
    assert client.get("/counties/autocomplete.json?q=360").json()["results"][0]["value"].startswith("360")
    in_texas = client.get("/counties/autocomplete.json?q=king&state=TX").json()["results"]
    assert in_texas and all(item["label"].endswith(", TX") for item in in_texas)


def test_courthouse_autocomplete_finds_courthouses_by_name_or_city(client):
    court = CourthouseFactory(name="Stanley Mosk Courthouse", california=True)
    IncidentFactory(courthouse=court)
    found = client.get("/courthouses/autocomplete.json?q=mosk").json()["results"]
    assert found == [{"value": court.slug, "label": "Stanley Mosk Courthouse (Los Angeles, CA)"}]
    assert client.get("/courthouses/autocomplete.json?q=los+ang").json()["results"] == found


def test_a_courthouse_only_retracted_incidents_name_is_not_public(client):
    court = CourthouseFactory(name="Stanley Mosk Courthouse", california=True)
    IncidentFactory(courthouse=court, retracted=True)
    assert client.get("/courthouses/autocomplete.json?q=mosk").json()["results"] == []
    assert client.get(f"/courthouses/{court.slug}/").status_code == 404
    IncidentFactory(courthouse=court)
    assert client.get(f"/courthouses/{court.slug}/").status_code == 200


@pytest.mark.parametrize("url", ["/counties/autocomplete.json", "/courthouses/autocomplete.json"])
@pytest.mark.parametrize("query", ["", "?q=", "?q=" + "x" * 101, "?q=a%00"])
def test_autocomplete_without_a_usable_term_answers_400_naming_it(client, url, query):
    response = client.get(url + query)
    assert response.status_code == 400
    assert response.json()["error"].startswith("q:")


# -- every public page -------------------------------------------------------------


@pytest.fixture
def everything():
    incident = IncidentFactory(
        internal_notes=STAFF_SENTINELS[0],
        docket_number=STAFF_SENTINELS[1],
        reporter_contact=STAFF_SENTINELS[2],
    )
    return incident


def public_urls(incident):
    return [
        "/",
        "/?state=NY",
        "/incidents/",
        "/incidents/?q=hallway",
        f"/incidents/{incident.pk}/",
        "/courthouses/",
        f"/courthouses/{incident.courthouse.slug}/",
        "/counties/36047/",
    ]


def test_no_public_page_shows_a_staff_only_value(client, everything):
    for url in public_urls(everything):
        content = page(client, url)
        for sentinel in STAFF_SENTINELS:
            assert sentinel not in content, (url, sentinel)


def test_every_page_has_one_h1_a_title_labelled_fields_and_no_inline_script(client, everything):
    for url in public_urls(everything):
        content = page(client, url)
        assert content.count("<h1") == 1, url
        assert re.search(r"<title>[^<]+ · Courthouse ICE Arrest Tracker</title>", content), url
        for script in re.findall(r"<script[^>]*>", content):
            assert "src=" in script or 'type="application/json"' in script, (
                url,
                script,
            )
        for field_id in re.findall(r'<(?:input|select)[^>]* id="(f-[^"]+)"', content):
            assert f'<label for="{field_id}"' in content, (url, field_id)


# -- query counts --------------------------------------------------------------------
# Pinned as measured; each count is the same for 3 rows as for a full page.
# Anonymous visitors: one query for the demo banner, one for the 56 states of the form,
# one for the data version (ETag, Last-Modified and "Data as of", incidents/http.py).


def test_the_list_page_runs_a_fixed_number_of_queries(client, django_assert_num_queries):
    many(3)
    # data version, banner, states, rows (a short first page needs no count)
    with django_assert_num_queries(4):
        client.get("/incidents/")
    many(views.PAGE_SIZE + 5)
    with django_assert_num_queries(5):  # + the capped count
        client.get("/incidents/")
    with django_assert_num_queries(6):  # + the state filter's validation
        client.get("/incidents/?state=NY&outcome=arrested")


def test_a_deep_list_page_runs_as_many_queries_as_the_first(client, django_assert_num_queries):
    many(views.PAGE_SIZE * 2 + 1)
    next_page = link(page(client, "/incidents/"), "next")
    with django_assert_num_queries(5):
        client.get(next_page)


def test_the_detail_page_runs_a_fixed_number_of_queries(client, django_assert_num_queries):
    incident = IncidentFactory()
    for people in (2, 3, 4):
        incident.people_count = people
        incident.save()
    # data version, banner, incident with its places, history, other sources
    with django_assert_num_queries(5):
        client.get(f"/incidents/{incident.pk}/")


def test_the_dashboard_runs_a_fixed_number_of_queries_once_cached(client, django_assert_num_queries):
    many(3)
    client.get("/")
    # data version (for the headers, then for the charts' key), banner, states, cached charts
    with django_assert_num_queries(4 + CACHE_QUERY):
        client.get("/")
    many(40)
    client.get("/?state=NY")
    with django_assert_num_queries(5 + CACHE_QUERY):  # + the state filter's validation
        client.get("/?state=NY")


def test_place_pages_run_a_fixed_number_of_queries_once_cached(client, django_assert_num_queries):
    incident = many(views.PAGE_SIZE + 1)[0]
    url = f"/courthouses/{incident.courthouse.slug}/"
    client.get(url)
    # banner, courthouse, states, rows, capped count, data version (twice: headers, chart key), cached chart
    with django_assert_num_queries(7 + CACHE_QUERY):
        client.get(url)
    client.get("/counties/36047/")
    with django_assert_num_queries(7 + CACHE_QUERY):
        client.get("/counties/36047/")


def test_signed_in_staff_see_an_edit_link_on_the_detail_page(client):
    incident = IncidentFactory()
    user = User.objects.create_superuser("editor", "e@example.org", "pw-editor-123")
    client.force_login(user)
    assert f'href="/incidents/{incident.pk}/edit/"' in page(client, f"/incidents/{incident.pk}/")
