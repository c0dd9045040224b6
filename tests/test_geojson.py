"""Courthouses as GeoJSON (/api/courthouses.geojson) for QGIS, Datawrapper and web maps."""

from decimal import Decimal

import pytest
from django.conf import settings

from .factories import CourthouseFactory, IncidentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def places():
    brooklyn = CourthouseFactory(
        name="Brooklyn", latitude=Decimal("40.69213"), longitude=Decimal("-73.98797")
    )
    el_paso = CourthouseFactory(
        name="El Paso", texas=True, latitude=Decimal("31.75872"), longitude=Decimal("-106.48693")
    )
    unplaced = CourthouseFactory(name="No coordinates")
    IncidentFactory.create_batch(2, courthouse=brooklyn, people_count=2)
    IncidentFactory(courthouse=brooklyn, attempted=True)
    IncidentFactory(courthouse=el_paso)
    IncidentFactory(courthouse=el_paso, retracted=True)
    IncidentFactory(courthouse=unplaced)
    return brooklyn, el_paso


def features(client, query=""):
    response = client.get(f"/api/courthouses.geojson?{query}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    assert response["Access-Control-Allow-Origin"] == "*"
    body = response.json()
    assert body["type"] == "FeatureCollection"
    return {f["properties"]["slug"]: f for f in body["features"]}


def test_courthouses_with_coordinates_are_points_with_their_public_counts(client, places):
    brooklyn, el_paso = places
    found = features(client)
    assert set(found) == {brooklyn.slug, el_paso.slug}
    assert found[brooklyn.slug]["geometry"] == {"type": "Point", "coordinates": [-73.98797, 40.69213]}
    assert found[brooklyn.slug]["properties"] == {
        "slug": brooklyn.slug,
        "name": "Brooklyn",
        "city": "Brooklyn",
        "county_fips": "36047",
        "state": "NY",
        "incidents": 3,
        "people": 4,
        "url": f"http://testserver/courthouses/{brooklyn.slug}/",
    }
    assert (found[el_paso.slug]["properties"]["incidents"], found[el_paso.slug]["properties"]["people"]) == (
        1,
        1,
    )


def test_the_counts_follow_the_filters_without_a_query_per_courthouse(
    client, places, django_assert_num_queries
):
    brooklyn, _ = places
    for n in range(5):
        IncidentFactory(courthouse=CourthouseFactory(latitude=Decimal(40 + n), longitude=Decimal("-74")))
    features(client, "state=NY&outcome=arrested")  # counts the rows, then caches the counts
    # data version (for the headers, then for the counts' key), filter check, cached counts
    # (a query where the cache is the database), places
    with django_assert_num_queries(4 + int("DatabaseCache" in settings.CACHES["default"]["BACKEND"])):
        found = features(client, "state=NY&outcome=arrested")
    assert len(found) == 6 and found[brooklyn.slug]["properties"]["incidents"] == 2
    assert features(client, "state=TX")[places[1].slug]["properties"]["incidents"] == 1


@pytest.mark.parametrize("query", ["state=ZZ", "outcome=maybe", "date_after=2017-02-30", "county=1"])
def test_a_bad_filter_is_a_400_naming_it(client, query):
    response = client.get(f"/api/courthouses.geojson?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()["parameters"]
