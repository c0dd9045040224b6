"""/api/schema.json describes every public endpoint truly: it is valid OpenAPI 3.1, and
every documented path answers with the status, type and JSON shape it documents."""

import csv
import io
from urllib.parse import urlencode

import jsonschema
import pytest
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from incidents import urls
from incidents.filters import IncidentFilterSet
from incidents.models import Incident, Source

from .factories import CourthouseFactory, IncidentFactory

pytestmark = pytest.mark.django_db

# A value for each parameter an endpoint requires.
REQUIRED = {"by": "month", "q": "a"}
# The county search needs q unless it is given one state, which OpenAPI cannot say: as documented.
FIRST_CALL = {"/counties/autocomplete.json": {"q": "a"}}
# Parameter values a program might send, one of each kind the schema documents.
SAMPLES = {
    "state": "NY",
    "outcome": "arrested",
    "date_after": "2019-01-01",
    "limit": "2",
    "by": ["month", "outcome"],
}
DATA_ROUTES = (
    "api/",
    "data/",
    "incidents/export",
    "feeds/",
    "counties/autocomplete",
    "courthouses/autocomplete",
)
PAGES = ("api/", "data/")  # pages about the data, not data
RELEASES = "data/releases/"  # pages, and files whose addresses the release pages give


@pytest.fixture
def described(client):
    response = client.get("/api/schema.json")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    return response.json()


@pytest.fixture
def data(db):
    first, *_others = IncidentFactory.create_batch(3)
    # one more source, so that the answers hold a full source object and the primary one
    Source.objects.create(
        incident=first,
        source_type="court_record",
        url="https://court.example/1",
        date=first.date,
        note="docket",
    )
    IncidentFactory(courthouse=CourthouseFactory(texas=True, latitude=31.8, longitude=-106.4))
    IncidentFactory(retracted=True)


def test_it_is_valid_openapi_3_1(described):
    validate(described)
    assert described["openapi"].startswith("3.1")


def test_every_public_data_route_is_documented(described):
    routes = {str(pattern.pattern) for pattern in urls.urlpatterns}
    data_routes = {
        f"/{route}"
        for route in routes
        if route.startswith(DATA_ROUTES) and route not in PAGES and not route.startswith(RELEASES)
    }
    assert data_routes and data_routes <= set(described["paths"])


def test_every_filter_is_a_documented_parameter(described):
    documented = described["components"]["parameters"]
    assert set(documented) == set(IncidentFilterSet.base_filters)
    outcomes = list(dict(Incident._meta.get_field("outcome").choices))
    assert documented["outcome"]["schema"]["items"]["enum"] == outcomes


def test_every_incident_column_is_described_with_its_allowed_values(described):
    incident = described["components"]["schemas"]["Incident"]["properties"]
    assert incident["county_fips"]["type"] == "string"
    assert incident["date"] == {**incident["date"], "type": "string", "format": "date"}
    assert incident["outcome"]["enum"] == list(dict(Incident._meta.get_field("outcome").choices))
    assert all(value["description"] for value in incident.values())


def operations(described):
    return [(path, item["get"]) for path, item in described["paths"].items()]


def test_every_documented_path_answers_as_documented(client, described, data):
    for path, operation in operations(described):
        query = {p["name"]: REQUIRED[p["name"]] for p in operation.get("parameters", []) if p.get("required")}
        query.update(FIRST_CALL.get(path, {}))
        check(client, described, path, operation, query, "200")


def test_every_documented_path_takes_the_documented_parameters(client, described, data):
    for path, operation in operations(described):
        names = {parameter_of(described, p)["name"] for p in operation.get("parameters", [])}
        query = {p: REQUIRED[p] for p in names & set(REQUIRED)}
        query.update({name: value for name, value in SAMPLES.items() if name in names})
        check(client, described, path, operation, query, "200")


def test_every_documented_bad_parameter_answer_is_as_documented(client, described, data):
    for path, operation in operations(described):
        if "400" not in operation["responses"]:
            continue
        names = {parameter_of(described, p)["name"] for p in operation.get("parameters", [])}
        query = {p: REQUIRED[p] for p in names & set(REQUIRED)}
        query.update({"state": "ZZ"} if "state" in names else {"q": ""})
        check(client, described, path, operation, query, "400")


def parameter_of(described, parameter):
    if "$ref" in parameter:
        return described["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[1]]
    return parameter


def check(client, described, path, operation, query, status):
    url = f"{path}?{urlencode(query, doseq=True)}" if query else path
    response = client.get(url)
    assert str(response.status_code) == status, (url, response.content[:300])
    content = operation["responses"][status]["content"]
    media = response["Content-Type"].split(";")[0]
    assert media in content, (url, media)
    if "json" in media:
        pointer = "/".join(
            ["#/paths", escape(path), "get/responses", status, "content", escape(media), "schema"]
        )
        validator(described, pointer).validate(response.json())
    for header in operation["responses"][status].get("headers", {}):
        assert response.has_header(header), (url, header)


def escape(part):
    return part.replace("~", "~0").replace("/", "~1")


def validator(described, pointer):
    """A JSON Schema 2020-12 validator for one schema of the description, its $refs resolved in it."""
    registry = Registry().with_resource("urn:api", Resource.from_contents(described, DRAFT202012))
    return jsonschema.Draft202012Validator({"$ref": f"urn:api{pointer}"}, registry=registry)


def test_the_validator_would_see_a_wrong_shape(described):
    pointer = "#/components/schemas/IncidentPage"
    with pytest.raises(jsonschema.ValidationError):
        validator(described, pointer).validate({"results": [], "next": None, "as_of": "x"})
    with pytest.raises(jsonschema.ValidationError):
        validator(described, "#/components/schemas/Incident").validate({"id": "1"})
    source = {"source_type": "news", "url": "https://a.example/", "date": None, "note": ""}
    validator(described, "#/components/schemas/Source").validate(source)
    for wrong in ({**source, "source_type": "rumour"}, {**source, "date": 20250304}, {"url": ""}):
        with pytest.raises(jsonschema.ValidationError):
            validator(described, "#/components/schemas/Source").validate(wrong)


def test_an_incident_documents_its_sources_list(described):
    incident = described["components"]["schemas"]["Incident"]
    assert "sources" in incident["required"]
    assert incident["properties"]["sources"]["items"] == {"$ref": "#/components/schemas/Source"}
    assert "source_url" in incident["properties"]  # the CSV's single primary source stays


# -- /api/, the page ---------------------------------------------------------------


def test_the_api_page_shows_every_path_and_parameter(client, described):
    page = client.get("/api/").content.decode()
    for path, operation in operations(described):
        assert f"<code>GET {path}</code>" in page
        for parameter in operation.get("parameters", []):
            assert f"<code>{parameter_of(described, parameter)['name']}</code>" in page
    assert 'href="/api/schema.json"' in page


# -- CORS -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/api/incidents/",
        "/api/incidents/?state=ZZ",
        "/api/stats/?by=month",
        "/api/changes/",
        "/incidents/export.csv",
        "/feeds/incidents.atom",
        "/api/courthouses.geojson",
        "/api/schema.json",
        "/api/reference-figures/",
        "/data/datapackage.json",
    ],
)
def test_programs_endpoints_answer_any_site(client, incident, url):
    assert client.get(url)["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("url", ["/", "/incidents/", "/api/", "/data/"])
def test_pages_do_not(client, incident, url):
    assert not client.get(url).has_header("Access-Control-Allow-Origin")


def test_staff_pages_do_not(staff_client):
    assert not staff_client.get("/staff/incidents/").has_header("Access-Control-Allow-Origin")


# -- /api/stats/ cross-tabs -------------------------------------------------------------


def test_two_dimensions_give_a_row_per_pair_with_both_keys(client, data):
    body = client.get("/api/stats/?by=month&by=outcome").json()
    assert body["by"] == ["month", "outcome"]
    expected = {}
    for incident in Incident.objects.public():
        key = (f"{incident.date:%Y-%m}", incident.outcome)
        n, p = expected.get(key, (0, 0))
        expected[key] = (n + 1, p + incident.people_count)
    got = {(row["month"], row["outcome"]): (row["incidents"], row["people"]) for row in body["results"]}
    assert got == expected
    assert set(body["results"][0]) == {
        "month",
        "month_label",
        "outcome",
        "outcome_label",
        "incidents",
        "people",
    }
    months = [row["month"] for row in body["results"]]
    assert months == sorted(months)


def test_a_cross_tab_follows_the_filters(client, data):
    rows = client.get("/api/stats/?by=state&by=courthouse&state=TX").json()["results"]
    assert [(row["state"], row["incidents"]) for row in rows] == [("TX", 1)]
    assert rows[0]["courthouse"] == Incident.objects.get(state_id="TX").courthouse.slug


def test_a_cross_tab_as_csv_has_both_keys_as_columns(client, data):
    response = client.get("/api/stats/?by=outcome&by=state&format=csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert list(rows[0]) == ["outcome", "outcome_label", "state", "state_label", "incidents", "people"]
    assert sum(int(row["incidents"]) for row in rows) == Incident.objects.public().count()
    assert "incidents-by-outcome-state-" in response["Content-Disposition"]


@pytest.mark.parametrize(
    "query", ["by=month&by=nope", "by=month&by=month", "by=month&by=outcome&by=state", "by=month&by=%00"]
)
def test_a_bad_second_dimension_is_a_400_naming_by(client, query):
    response = client.get(f"/api/stats/?{query}")
    assert response.status_code == 400
    assert response.json()["error"].startswith("by:")
