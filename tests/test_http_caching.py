"""Every public answer says when its data last changed (as of), and HTTP caches can keep it:
ETag and Last-Modified from the data version, 304 while they still match, never for staff."""

import datetime
import re

import pytest
from django.utils.http import http_date, parse_http_date

from incidents.cache import data_state

from .factories import IncidentFactory

pytestmark = pytest.mark.django_db

# Pages, chart data, CSV, API, feeds, GeoJSON, the API's description and page.
PUBLIC = [
    "/",
    "/incidents/",
    "/incidents/?state=NY&outcome=arrested",
    "/incidents/{pk}/",
    "/courthouses/",
    "/courthouses/{slug}/",
    "/counties/{fips}/",
    "/data/",
    "/api/",
    "/api/stats/?by=month",
    "/api/stats/?by=month&format=csv",
    "/incidents/export.csv",
    "/api/incidents/",
    "/api/changes/",
    "/feeds/incidents.atom",
    "/api/courthouses.geojson",
    "/api/schema.json",
    "/api/reference-figures/",
    "/data/datapackage.json",
    "/embed/month/?state=NY",
]
PAGES = [url for url in PUBLIC[:9]]
STAFF = ["/staff/incidents/", "/incidents/new/", "/incidents/{pk}/edit/", "/incidents/{pk}/history/"]


@pytest.fixture
def address(incident):
    def fill(url):
        courthouse = incident.courthouse
        return url.format(pk=incident.pk, slug=courthouse.slug, fips=courthouse.county_id)

    return fill


@pytest.fixture(params=[False, True], ids=["built", "from the page cache"])
def page_cache(request, settings):
    settings.PUBLIC_PAGE_CACHE = request.param
    return request.param


@pytest.mark.parametrize("url", PUBLIC)
def test_every_public_answer_has_validators_from_the_data_version(client, address, page_cache, url):
    url = address(url)
    first, again = client.get(url), client.get(url)  # the second from the page cache, when it is on
    assert first.status_code == again.status_code == 200, url
    assert first["ETag"] == again["ETag"] and re.fullmatch(r'W/"[0-9a-f]{32}"', first["ETag"])
    assert parse_http_date(again["Last-Modified"]) == int(data_state().changed_at.timestamp())
    assert "max-age=0" in first["Cache-Control"] and "Cookie" in first["Vary"]


@pytest.mark.parametrize("url", PUBLIC)
def test_a_matching_etag_gets_304_without_building_anything(
    client, address, page_cache, url, django_assert_num_queries
):
    url = address(url)
    etag = client.get(url)["ETag"]
    with django_assert_num_queries(1):  # the data version, nothing else: no page, no cache read
        response = client.get(url, headers={"If-None-Match": etag})
    assert response.status_code == 304 and response.content == b""
    assert response["ETag"] == etag and response["Last-Modified"]


@pytest.mark.parametrize("url", PUBLIC)
def test_an_unchanged_modification_time_gets_304(client, address, url):
    url = address(url)
    modified = client.get(url)["Last-Modified"]
    assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    earlier = http_date(parse_http_date(modified) - 60)
    assert client.get(url, headers={"If-Modified-Since": earlier}).status_code == 200


@pytest.mark.parametrize("url", ["/", "/incidents/", "/api/incidents/", "/incidents/export.csv"])
def test_a_write_makes_every_old_validator_stale(client, address, page_cache, url):
    url = address(url)
    before = client.get(url)
    later = before["Last-Modified"]
    IncidentFactory()
    after = client.get(url, headers={"If-None-Match": before["ETag"]})
    assert after.status_code == 200 and after["ETag"] != before["ETag"]
    # The new time is after the old one (or in the same second, where the ETag still tells).
    assert parse_http_date(after["Last-Modified"]) >= parse_http_date(later)


def test_each_address_and_language_has_its_own_etag(client):
    IncidentFactory()
    tags = {
        client.get("/incidents/")["ETag"],
        client.get("/incidents/?state=NY")["ETag"],
        client.get("/es/incidents/")["ETag"],
    }
    assert len(tags) == 3
    other = client.get("/incidents/?state=NY")["ETag"]
    assert client.get("/incidents/", headers={"If-None-Match": other}).status_code == 200


def test_a_bad_filter_is_answered_without_validators(client):
    response = client.get("/api/incidents/?state=ZZ")
    assert response.status_code == 400 and not response.has_header("ETag")


@pytest.mark.parametrize("url", STAFF)
def test_staff_pages_are_never_cached_this_way(staff_client, address, url):
    url = address(url)
    response = staff_client.get(url)
    assert response.status_code == 200, url
    assert not response.has_header("ETag") and not response.has_header("Last-Modified")
    future = http_date((datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)).timestamp())
    assert staff_client.get(url, headers={"If-Modified-Since": future}).status_code == 200


def test_signed_in_visitors_get_public_pages_fresh(staff_client, address):
    url = address("/incidents/{pk}/")
    anonymous_tag = staff_client.get(url)  # with a session: no validators at all
    assert not anonymous_tag.has_header("ETag")
    assert staff_client.get(url, headers={"If-None-Match": "*"}).status_code == 200


# -- "as of" -----------------------------------------------------------------------


@pytest.mark.parametrize("url", PAGES)
def test_every_public_page_says_when_its_data_is_as_of(client, address, url):
    page = client.get(address(url)).content.decode()
    as_of = data_state().changed_at
    shown = rf'Data as of <time datetime="{as_of:%Y-%m-%dT%H:%M:%S}[^"]*">{as_of.day} {as_of:%b %Y, %H:%M} UTC</time>'
    assert re.search(shown, page)


def test_staff_pages_do_not_say_it(staff_client):
    assert "Data as of" not in staff_client.get("/staff/incidents/").content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/api/incidents/",
        "/api/stats/?by=outcome",
        "/api/stats/?by=month&by=outcome",
        "/api/courthouses.geojson",
    ],
)
def test_every_api_answer_gives_as_of(client, incident, url):
    body = client.get(url).json()
    assert datetime.datetime.fromisoformat(body["as_of"]) == data_state().changed_at


def test_the_change_feed_keeps_its_own_as_of_complete_up_to(client, incident):
    # Documented apart: the time the listing is complete up to, earlier than now, not the data's.
    as_of = datetime.datetime.fromisoformat(client.get("/api/changes/").json()["as_of"])
    assert as_of < datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=10)


def test_the_data_version_time_moves_with_a_write(incident):
    before = data_state()
    IncidentFactory()
    after = data_state()
    assert after.version != before.version and after.changed_at >= before.changed_at


@pytest.mark.parametrize(
    "headers",
    [
        {"If-Modified-Since": "yesterday"},
        {"If-Modified-Since": "Mon, 31 Feb 99999 25:61:61 GMT"},
        {"If-None-Match": "W/" + '"x",' * 2000},
        {"If-None-Match": '"\x00"'},
        {"If-None-Match": "not-quoted"},
    ],
)
def test_junk_validators_get_the_full_answer(client, incident, headers):
    for url in ("/", "/api/incidents/", "/incidents/export.csv"):
        assert client.get(url, headers=headers).status_code == 200


def test_a_page_answered_while_it_is_rebuilt_carries_no_validator(client, incident, settings):
    """After a write, visitors get the page as it was until one request has rebuilt it:
    that older page must not be kept under the new version's ETag."""
    from django.core.cache import cache
    from django.test import RequestFactory

    from incidents.cache import _page_keys, _page_lock, local_pages

    settings.PUBLIC_PAGE_CACHE = True
    before = client.get("/")
    IncidentFactory(courthouse=incident.courthouse)  # a write: a new data version
    local_pages.clear()
    _, latest = _page_keys(RequestFactory().get("/"), "en")
    assert cache.add(_page_lock(latest), 1, 30)  # another request is rebuilding the page
    try:
        stale = client.get("/")
    finally:
        cache.delete(_page_lock(latest))
    assert stale.content == before.content
    assert "ETag" not in stale and "Last-Modified" not in stale
    assert "no-cache" in stale["Cache-Control"]
    rebuilt = client.get("/")
    assert rebuilt.content != before.content and rebuilt["ETag"] != before["ETag"]
