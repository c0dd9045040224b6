"""Generated and hostile query strings against every public endpoint: never a 500."""

from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .factories import CourthouseFactory, IncidentFactory

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    "/",
    "/incidents/",
    "/incidents/export.csv",
    "/api/incidents/",
    "/api/stats/?by=month&",
    "/api/stats/",
    "/courthouses/",
    "/data/",
    "/counties/36047/",
    "/courthouses/fuzz-court/",
    "/api/changes/",
    "/feeds/incidents.atom",
    "/api/courthouses.geojson",
]
PARAMS = [
    "date_after",
    "date_before",
    "state",
    "county",
    "courthouse",
    "case_type",
    "outcome",
    "person_role",
    "location",
    "agency",
    "warrant",
    "verification",
    "q",
    "updated_after",
    "ordering",
    "cursor",
    "page",
    "by",
    "format",
    "excel",
    "limit",
    "since",
]
HOSTILE = [
    "' OR 1=1 --",
    "1; DROP TABLE incidents_incident; --",
    "<script>alert(1)</script>",
    "\x00",
    "a\x00b",
    "%00",
    "\ud800".encode("utf-8", "surrogatepass").decode("latin-1"),
    "x" * 10_000,
    "0000-00-00",
    "99999-01-01",
    "2017-13-45",
    "-1",
    "1e308",
    "NaN",
    "null",
    "../../etc/passwd",
    '=HYPERLINK("http://x")',
    "\r\n",
    "\u202eevil\u202c",
    "9" * 400,
    "ñ",
    "🙂",
    " ",
    "",
]
RAW_QUERIES = [
    "q=%ZZ",
    "q=%C3%28",
    "q=%FF%FE",
    "state=%00",
    "date_after=%E0%80%80",
    "cursor=%F0%28%8C%28",
    "&".join(["state=NY"] * 1000),
    "&".join(f"county={n:05d}" for n in range(1000)),
    "ordering=-date&ordering=people_count",
    "by=month&by=county",
    "limit=-5",
    "limit=100000",
    "since=2020-01-01T00:00:00%2B99:00",
    "since=0001-01-01T00:00:00%2B00:01",
]


# Dates at and beyond the calendar's ends, and forms that are almost ISO dates.
EXTREME_DATES = [
    "0001-01-01",
    "1900-01-01",
    "9999-12-31",
    "9999-11-30",
    "2017-02-30",
    "10000-01-01",
    "11-30",
    "+2020-01-01",
    "-2020-01-01",
    "2020-01-01T00:00",
    "٢٠٢٠-٠١-٠١",
]


@pytest.fixture
def some_incidents():
    IncidentFactory.create_batch(3)
    IncidentFactory(courthouse=CourthouseFactory(name="Fuzz Court"), month_only=True)
    IncidentFactory(retracted=True)


def check(response, url):
    assert response.status_code < 500, url
    # A streamed export fails while it is read, not when it starts.
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if response.status_code >= 400:
        assert content.strip(), f"{url} answered {response.status_code} without a message"


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_values_never_break_an_endpoint(client, some_incidents, endpoint, value):
    for param in PARAMS:
        url = endpoint + ("&" if "?" in endpoint else "?") + urlencode({param: value})
        check(client.get(url), url)


@pytest.mark.parametrize("page_cache", [False, True])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_extreme_dates_never_break_an_endpoint(client, settings, some_incidents, endpoint, page_cache):
    settings.PUBLIC_PAGE_CACHE = page_cache
    for param in ("date_after", "date_before", "updated_after"):
        for value in EXTREME_DATES:
            url = endpoint + ("&" if "?" in endpoint else "?") + urlencode({param: value})
            check(client.get(url), url)
    for after, before in [("1900-01-01", "9999-12-31"), ("9999-12-31", "0001-01-01")]:
        url = endpoint + ("&" if "?" in endpoint else "?") + f"date_after={after}&date_before={before}"
        check(client.get(url), url)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("query", RAW_QUERIES, ids=range(len(RAW_QUERIES)))
def test_malformed_query_strings_never_break_an_endpoint(client, some_incidents, endpoint, query):
    url = endpoint + ("&" if "?" in endpoint else "?") + query
    check(client.get(url), url)


query_pairs = st.lists(
    st.tuples(
        st.one_of(st.sampled_from(PARAMS), st.text(max_size=12)),
        st.one_of(
            st.sampled_from(HOSTILE[:12] + ["NY", "36047", "criminal", "-date", "2019-01-01"]),
            st.text(max_size=40),
        ),
    ),
    max_size=6,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(endpoint=st.sampled_from(ENDPOINTS), pairs=query_pairs)
def test_generated_query_strings_never_break_an_endpoint(client, some_incidents, endpoint, pairs):
    url = endpoint + ("&" if "?" in endpoint else "?") + urlencode(pairs)
    check(client.get(url), url)
