import base64
import collections
import csv
import datetime
import io
import json

import pytest

from incidents import choices, export, stats
from incidents.models import Incident
from incidents.views import presentation

from .export_helpers import LIST_QUERIES, bulk_incidents, listed_ids, varied_incidents
from .factories import CourthouseFactory, IncidentFactory

pytestmark = pytest.mark.django_db


def get_json(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    return response.json()


def all_pages(client, query, limit=2):
    """Every id the API gives for a query, following `next` to the end."""
    ids, url = [], f"/api/incidents/?{query}&limit={limit}"
    while url:
        body = get_json(client, url)
        ids += [row["id"] for row in body["results"]]
        url = body["next"]
    return ids


# --- /api/incidents/ ---------------------------------------------------------


def test_it_gives_the_csv_columns_with_json_types_and_no_escaping(client):
    incident = IncidentFactory(summary="=SUM(A1)", source_url="", people_count=2)
    row = get_json(client, "/api/incidents/")["results"][0]
    assert list(row) == [*export.COLUMNS, "sources"]
    assert row["sources"] == [{"source_type": row["source_type"], "url": "", "date": None, "note": ""}]
    assert row["id"] == incident.pk
    assert row["people_count"] == 2
    assert row["summary"] == "=SUM(A1)"
    assert row["source_url"] == ""
    assert row["date"] == "2019-05-14"
    assert row["created_at"].endswith("Z")
    assert (row["state"], row["county_fips"], row["outcome"]) == (
        "NY",
        "36047",
        "arrested",
    )


@pytest.mark.parametrize("query", LIST_QUERIES)
def test_api_pages_hold_exactly_the_rows_of_the_list(client, query):
    varied_incidents()
    assert all_pages(client, query) == listed_ids(query)


def test_it_never_shows_retracted_rows_or_staff_only_values(client):
    varied_incidents()
    content = client.get("/api/incidents/?limit=1000").content
    for secret in (
        b"RETRACTED-1",
        b"retracted-summary",
        b"SECRET-NOTE",
        b"DOCKET-XYZ-9",
        b"reporter@example.org",
        b"internal_notes",
        b"docket_number",
        b"reporter_contact",
        b"is_demo",
        b"status",
    ):
        assert secret not in content


def test_its_cursor_is_stable_when_rows_arrive_between_pages(client):
    bulk_incidents(5, date=datetime.date(2019, 5, 14))
    first = get_json(client, "/api/incidents/?limit=3")
    IncidentFactory(date=datetime.date(2019, 6, 1))  # sorts first: must not shift page 2
    IncidentFactory(date=datetime.date(2019, 5, 14))  # same date, higher id: also before the cursor
    second = get_json(client, first["next"])
    ids = [row["id"] for row in first["results"] + second["results"]]
    assert ids == sorted(
        Incident.objects.filter(reference__startswith="BULK-").values_list("id", flat=True),
        reverse=True,
    )
    assert second["next"] is None


def test_next_keeps_the_filters_and_pages_with_a_cursor(client):
    bulk_incidents(3)
    body = get_json(client, "/api/incidents/?state=NY&limit=2&ordering=people_count")
    assert body["next"].startswith("http://testserver/api/incidents/?")
    assert (
        "state=NY" in body["next"] and "ordering=people_count" in body["next"] and "cursor=" in body["next"]
    )
    assert "offset" not in body["next"] and "page" not in body["next"]


def test_every_page_gives_the_count_of_all_matches(client):
    bulk_incidents(3)
    assert get_json(client, "/api/incidents/?limit=3")["count"] == 3
    assert get_json(client, "/api/incidents/?state=TX")["count"] == 0
    first = get_json(client, "/api/incidents/?limit=2")
    assert (first["count"], first["count_capped"]) == (3, False)
    assert get_json(client, first["next"])["count"] == 3


def test_the_count_stops_at_the_list_pages_cap(client, monkeypatch):
    monkeypatch.setattr(presentation, "COUNT_CAP", 2)
    bulk_incidents(3)
    body = get_json(client, "/api/incidents/?limit=1")
    assert (body["count"], body["count_capped"]) == (2, True)


def test_it_pages_by_a_hundred_by_default(client):
    bulk_incidents(101)
    body = get_json(client, "/api/incidents/")
    assert len(body["results"]) == 100 and body["next"]


@pytest.mark.parametrize("limit", ["0", "-1", "1001", "abc", "1.5", "١٠"])
def test_a_bad_limit_gets_a_400_naming_it(client, limit):
    body = get_json(client, f"/api/incidents/?limit={limit}", status=400)
    assert body["error"].startswith("limit:")
    assert list(body["parameters"]) == ["limit"]


@pytest.mark.parametrize("cursor", ["abc", "!!!", "W10", "WyJkYXRlIiwxLDFd", "eyJhIjoxfQ"])
def test_a_bad_cursor_gets_a_400_naming_it(client, cursor):
    body = get_json(client, f"/api/incidents/?cursor={cursor}", status=400)
    assert body["error"].startswith("cursor:")
    assert list(body["parameters"]) == ["cursor"]


def token(parts):
    return base64.urlsafe_b64encode(json.dumps(parts).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "parts",
    [
        ["-date", "2019-05-14", 5],  # the API's earlier token shape
        ["prev", "-date", "2019-05-14", 5],  # a list page's "Previous" link: the API only goes forward
        ["next", "-date", "2019-05-14", 0],
        ["next", "-date", "2019-13-01", 5],
    ],
)
def test_a_cursor_it_did_not_give_gets_a_400(client, parts):
    body = get_json(client, f"/api/incidents/?cursor={token(parts)}", status=400)
    assert list(body["parameters"]) == ["cursor"]


def test_a_list_pages_next_link_cursor_pages_the_api_too(client):
    bulk_incidents(3)
    first = get_json(client, "/api/incidents/?limit=1")["results"][0]
    parts = ["next", "-date", first["date"], first["id"]]
    following = get_json(client, f"/api/incidents/?limit=5&cursor={token(parts)}")["results"]
    assert len(following) == 2 and first["id"] not in [row["id"] for row in following]


def test_a_cursor_from_another_ordering_gets_a_400(client):
    bulk_incidents(3)
    following = get_json(client, "/api/incidents/?limit=1&ordering=people_count")["next"]
    cursor = following.split("cursor=")[1]
    body = get_json(client, f"/api/incidents/?cursor={cursor}", status=400)
    assert list(body["parameters"]) == ["cursor"]


@pytest.mark.parametrize(
    "query, parameter",
    [
        ("state=ZZ", "state"),
        ("date_after=2019-02-30", "date_after"),
        ("ordering=summary", "ordering"),
        ("case_type=fraud", "case_type"),
        ("county=abc", "county"),
    ],
)
def test_a_bad_filter_gets_a_json_400_naming_it(client, incident, query, parameter):
    body = get_json(client, f"/api/incidents/?{query}", status=400)
    assert body["error"].startswith(f"{parameter}:")
    assert list(body["parameters"]) == [parameter]


def test_it_reads_a_page_in_five_queries(client, django_assert_num_queries):
    bulk_incidents(5)
    # the data version, the state filter's lookup, the page, the capped count, the page's sources
    with django_assert_num_queries(5):
        get_json(client, "/api/incidents/?state=NY&limit=2")


# --- /api/stats/ -------------------------------------------------------------


def expected_counts(key_of, incidents=None):
    """Counts computed in Python, independently of stats.py's GROUP BY."""
    counts = collections.defaultdict(lambda: [0, 0])
    for incident in incidents or Incident.objects.public():
        counts[key_of(incident)][0] += 1
        counts[key_of(incident)][1] += incident.people_count
    return {key: tuple(value) for key, value in counts.items()}


KEYS = {
    "month": lambda i: i.date.strftime("%Y-%m"),
    "state": lambda i: i.state_id,
    "county": lambda i: i.county_id,
    "courthouse": lambda i: i.courthouse.slug,
    "case_type": lambda i: i.case_type,
    "outcome": lambda i: i.outcome,
    "person_role": lambda i: i.person_role,
    "location": lambda i: i.location,
    "warrant": lambda i: i.warrant,
    "court_type": lambda i: i.courthouse.court_type,
}


@pytest.mark.parametrize("by", list(KEYS))
def test_stats_equal_independently_computed_counts(client, by):
    varied_incidents()
    rows = get_json(client, f"/api/stats/?by={by}")["results"]
    got = {row["key"]: (row["incidents"], row["people"]) for row in rows if row["incidents"]}
    assert got == expected_counts(KEYS[by])
    assert all(set(row) == {"key", "label", "incidents", "people"} for row in rows)


def test_stats_apply_the_filters(client):
    varied_incidents()
    rows = get_json(client, "/api/stats/?by=outcome&state=TX&date_after=2019-01-01")["results"]
    got = {row["key"]: (row["incidents"], row["people"]) for row in rows}
    tx = Incident.objects.public().filter(state_id="TX", date__gte=datetime.date(2019, 1, 1))
    assert got == expected_counts(KEYS["outcome"], tx)


def test_stats_label_groups_for_people(client):
    IncidentFactory(courthouse=CourthouseFactory(name="Brooklyn Criminal Court", slug="brooklyn-criminal"))
    assert get_json(client, "/api/stats/?by=courthouse")["results"][0] == {
        "key": "brooklyn-criminal",
        "label": "Brooklyn Criminal Court",
        "incidents": 1,
        "people": 1,
    }
    assert get_json(client, "/api/stats/?by=state")["results"][0]["label"] == "New York"
    assert get_json(client, "/api/stats/?by=county")["results"][0]["key"] == "36047"
    assert get_json(client, "/api/stats/?by=outcome")["results"][0]["label"] == str(
        choices.Outcome.ARRESTED.label
    )
    assert get_json(client, "/api/stats/?by=month")["results"][0] == {
        "key": "2019-05",
        "label": "May 2019",
        "incidents": 1,
        "people": 1,
    }


def test_stats_come_from_the_charts_aggregation(client, monkeypatch):
    calls = []
    original = stats.stats_for
    monkeypatch.setattr(stats, "stats_for", lambda *args: calls.append(args[1]) or original(*args))
    IncidentFactory()
    get_json(client, "/api/stats/?by=case_type")["results"]
    assert calls == ["case_type"]


def test_stats_as_csv_are_escaped_like_the_export(client):
    IncidentFactory(courthouse=CourthouseFactory(name="=HYPERLINK(x)", slug="formula"))
    response = client.get("/api/stats/?by=courthouse&format=csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.content.decode(), newline="")))
    assert rows == [
        ["key", "label", "incidents", "people"],
        ["formula", "'=HYPERLINK(x)", "1", "1"],
    ]


@pytest.mark.parametrize(
    "query, parameter",
    [
        ("", "by"),
        ("by=summary", "by"),
        ("by=month&format=xml", "format"),
        ("by=month&state=ZZ", "state"),
        ("by=state&date_before=soon", "date_before"),
    ],
)
def test_stats_answer_400_naming_the_parameter(client, query, parameter):
    body = get_json(client, f"/api/stats/?{query}", status=400)
    assert body["error"].startswith(f"{parameter}:")
    assert parameter in body["parameters"]
