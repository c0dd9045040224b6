"""The change feed (/api/changes/): a mirror that applies it holds exactly the public data set."""

import datetime
from urllib.parse import urlencode

import pytest

from incidents import services
from incidents.models import Incident
from incidents.views import changes

from .export_helpers import content_of, read_csv
from .factories import CourthouseFactory, IncidentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_grace(monkeypatch):
    # Each sync starts exactly where the last one was complete, so that a mirror
    # which missed a change could not pick it up again from the overlap.
    monkeypatch.setattr(changes, "COMMIT_GRACE", datetime.timedelta(0))


def export_rows(client, query=""):
    return {row["id"]: row for row in read_csv(content_of(client.get(f"/incidents/export.csv?{query}")))}


def sync(client, mirror, since, query=""):
    """Apply every entry since `since`, fetching rows from the export; the next `since`."""
    current = export_rows(client, query)
    url = f"/api/changes/?{urlencode({'limit': 2, 'since': since or ''})}&{query}"
    while url:
        page = client.get(url).json()
        for entry in page["results"]:
            if entry["change"] == "retracted":
                mirror.pop(str(entry["id"]), None)
            else:
                mirror[str(entry["id"])] = current[str(entry["id"])]
        url = page["next"]
    return page["as_of"]


def create(user, **fields):
    return services.create_incident(incident=IncidentFactory.build(**fields), user=user)


def edit(user, incident, **fields):
    incident.refresh_from_db()
    for name, value in fields.items():
        setattr(incident, name, value)
    services.update_incident(incident=incident, expected_version=incident.version, user=user)


def test_a_mirror_replaying_the_feed_in_rounds_holds_the_export(client, superuser, no_grace):
    brooklyn, el_paso = CourthouseFactory(), CourthouseFactory(texas=True)
    mirrors, since = {"": {}, "state=NY": {}}, {"": None, "state=NY": None}
    first = create(superuser, courthouse=brooklyn)
    second = create(superuser, courthouse=el_paso)
    rounds = [
        lambda: create(superuser, courthouse=brooklyn, summary="A third."),
        lambda: edit(superuser, first, summary="Corrected summary.", people_count=2),
        lambda: services.retract_incident(
            pk=first.pk, reason="Dup.", public_reason="duplicate", user=superuser
        ),
        lambda: edit(superuser, second, internal_notes="Staff only."),
        lambda: services.restore_incident(pk=first.pk, user=superuser),
        lambda: services.retract_incident(pk=second.pk, reason="No.", public_reason="other", user=superuser),
        lambda: edit(superuser, first, verification="disputed"),
    ]
    for step in [lambda: None, *rounds]:
        step()
        for query, mirror in mirrors.items():
            since[query] = sync(client, mirror, since[query], query)
            assert mirror == export_rows(client, query), query
    assert set(mirrors[""]) == set(mirrors["state=NY"]) and str(first.pk) in mirrors[""]


def test_entries_come_oldest_first_each_once_with_its_latest_change(client, superuser, courthouse):
    created, corrected, retracted, restored = (create(superuser, courthouse=courthouse) for _ in range(4))
    edit(superuser, corrected, summary="Corrected.")
    for incident in (retracted, restored):
        services.retract_incident(pk=incident.pk, reason="x", public_reason="other", user=superuser)
    services.restore_incident(pk=restored.pk, user=superuser)
    edit(superuser, created, docket_number="staff only: not a public change")
    results = client.get("/api/changes/").json()["results"]
    assert [(entry["id"], entry["change"]) for entry in results] == [
        (created.pk, "created"),
        (corrected.pk, "updated"),
        (retracted.pk, "retracted"),
        (restored.pk, "restored"),
    ]
    assert results[0]["reference"] == created.reference
    times = [datetime.datetime.fromisoformat(entry["at"]) for entry in results]
    assert times == sorted(times)


def test_since_leaves_out_earlier_changes_and_reads_a_time_without_zone_as_utc(client):
    old, new = IncidentFactory(), IncidentFactory(retracted=True)
    Incident.objects.filter(pk=old.pk).update(updated_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
    Incident.objects.filter(pk=new.pk).update(updated_at=datetime.datetime(2021, 1, 1, tzinfo=datetime.UTC))
    for since in ("2020-06-01", "2020-06-01T00:00:00", "2020-06-01T02:00:00+02:00", "2021-01-01T00:00:00Z"):
        assert [e["id"] for e in client.get("/api/changes/", {"since": since}).json()["results"]] == [new.pk]
    assert client.get("/api/changes/", {"since": "2021-01-01T00:00:01Z"}).json()["results"] == []


def test_every_page_of_one_reading_reports_the_as_of_of_the_first(client):
    IncidentFactory.create_batch(3)
    first = client.get("/api/changes/?limit=2").json()
    second = client.get(first["next"]).json()
    assert (len(first["results"]), len(second["results"]), second["next"]) == (2, 1, None)
    assert second["as_of"] == first["as_of"]


@pytest.mark.parametrize(
    "query",
    [
        "since=yesterday",
        "since=2026-13-01",
        "since=1989-12-31T00:00:00Z",
        "since=9999-12-31T23:59:59-12:00",
        "since=" + "2" * 100,
        "cursor=not-a-cursor",
        "cursor=WzEsMiwzXQ",  # [1,2,3]
        "limit=0",
        "state=ZZ",
        "ordering=summary",
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(client, query):
    response = client.get(f"/api/changes/?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()["parameters"]


def test_a_page_costs_two_queries_whatever_its_length(client, django_assert_num_queries):
    IncidentFactory.create_batch(5)
    IncidentFactory.create_batch(2, retracted=True)
    with django_assert_num_queries(3):  # the data version, published rows, retracted rows
        assert len(client.get("/api/changes/").json()["results"]) == 7
