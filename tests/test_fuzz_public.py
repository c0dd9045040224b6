"""Generated and hostile query strings against every public endpoint: never a 500."""

from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .factories import IncidentFactory

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


@pytest.fixture
def some_incidents():
    IncidentFactory.create_batch(3)
    IncidentFactory(retracted=True)


def check(response, url):
    assert response.status_code < 500, url
    if response.status_code >= 400:
        content = b"".join(response.streaming_content) if response.streaming else response.content
        assert content.strip(), f"{url} answered {response.status_code} without a message"


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_values_never_break_an_endpoint(client, some_incidents, endpoint, value):
    for param in PARAMS:
        url = endpoint + ("&" if "?" in endpoint else "?") + urlencode({param: value})
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
