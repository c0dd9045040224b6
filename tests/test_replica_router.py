"""Which database each read goes to when a replica is configured (incidents/routers.py).

The pages are requested through the real middleware; the router records its choice
and then answers "default", so that these tests run on any single database.
"""

import pytest
from django.contrib.auth.models import User

from incidents.cache import bump_data_version
from incidents.models import Incident
from incidents.routers import (
    PIN_COOKIE,
    PRIMARY,
    REPLICA,
    ReplicaRouter,
    replica_allowed,
)

ROUTER = "tests.test_replica_router.RecordingRouter"
MIDDLEWARE = "incidents.routers.ReplicaPinningMiddleware"


class RecordingRouter(ReplicaRouter):
    choices = []

    def db_for_read(self, model, **hints):
        chosen = super().db_for_read(model, **hints)
        self.choices.append((model._meta.object_name, chosen))
        return PRIMARY


@pytest.fixture
def routed(settings):
    settings.DATABASE_ROUTERS = [ROUTER]
    settings.DATABASE_REPLICA_PIN_SECONDS = 0  # the fixtures' own writes pin nobody
    auth = settings.MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware")
    settings.MIDDLEWARE = [*settings.MIDDLEWARE[: auth + 1], MIDDLEWARE, *settings.MIDDLEWARE[auth + 1 :]]
    RecordingRouter.choices = []
    return RecordingRouter.choices


def incident_reads(choices):
    return {alias for label, alias in choices if label == "Incident"}


def test_outside_a_request_every_read_and_write_is_on_the_primary():
    router = ReplicaRouter()
    assert router.db_for_read(Incident) == PRIMARY
    assert router.db_for_write(Incident) == PRIMARY


def test_an_allowed_read_goes_to_the_replica_but_writes_never_do():
    router = ReplicaRouter()
    token = replica_allowed.set(True)
    try:
        assert router.db_for_read(Incident) == REPLICA
        assert router.db_for_write(Incident) == PRIMARY
    finally:
        replica_allowed.reset(token)


def test_the_shared_cache_and_sessions_are_always_read_on_the_primary():
    from django.contrib.sessions.models import Session
    from django.core.cache.backends.db import DatabaseCache

    cache_model_class = DatabaseCache("tracker_cache", {}).cache_model_class
    router = ReplicaRouter()
    token = replica_allowed.set(True)
    try:
        assert router.db_for_read(Session) == PRIMARY
        assert router.db_for_read(cache_model_class) == PRIMARY
    finally:
        replica_allowed.reset(token)


def test_migrations_run_on_the_primary_only():
    router = ReplicaRouter()
    assert router.allow_migrate(PRIMARY, "incidents")
    assert not router.allow_migrate(REPLICA, "incidents")


@pytest.mark.django_db
def test_an_anonymous_visitor_reads_public_pages_from_the_replica(client, routed, incident):
    assert client.get(f"/incidents/{incident.pk}/").status_code == 200
    assert client.get("/incidents/").status_code == 200
    assert incident_reads(routed) == {REPLICA}


@pytest.mark.django_db
def test_after_anyones_write_anonymous_visitors_read_the_primary_for_a_while(
    client, routed, incident, settings
):
    settings.DATABASE_REPLICA_PIN_SECONDS = 60
    bump_data_version()  # what every write does, on any server
    assert client.get(f"/incidents/{incident.pk}/").status_code == 200
    assert incident_reads(routed) == {PRIMARY}
    settings.DATABASE_REPLICA_PIN_SECONDS = 0  # the same version, older than the pin time
    routed.clear()
    assert client.get(f"/incidents/{incident.pk}/").status_code == 200
    assert incident_reads(routed) == {REPLICA}


@pytest.mark.django_db
def test_staff_read_every_page_from_the_primary(client, routed, incident):
    client.force_login(User.objects.create_superuser("boss", "b@example.org", "pw-boss-123"))
    assert client.get(f"/incidents/{incident.pk}/").status_code == 200
    assert client.get(f"/incidents/{incident.pk}/edit/").status_code == 200
    assert incident_reads(routed) == {PRIMARY}


@pytest.mark.django_db
def test_a_visitor_who_has_just_written_reads_the_primary(client, routed, incident, settings):
    settings.DATABASE_REPLICA_PIN_SECONDS = 7
    response = client.post("/accounts/login/", {"username": "nobody", "password": "wrong"})
    assert response.cookies[PIN_COOKIE]["max-age"] == 7
    routed.clear()
    assert client.get(f"/incidents/{incident.pk}/").status_code == 200
    assert incident_reads(routed) == {PRIMARY}


@pytest.mark.django_db
def test_the_choice_ends_with_the_request(client, routed, incident):
    client.get(f"/incidents/{incident.pk}/")
    assert not replica_allowed.get()
    assert ReplicaRouter().db_for_read(Incident) == PRIMARY
