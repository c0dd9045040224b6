"""A real streaming replica: anonymous reads go to it, staff see their edit at once.

The replica is a second PostgreSQL, started from the test server by
tests/pgcluster.sh (pg_basebackup). Its replay is paused while the checks run,
so that it lags behind the primary for as long as the test needs: a page that
shows the old text was read on the replica, one that shows the new text on
the primary.
"""

import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.db import connection, connections

from .factories import IncidentFactory
from .test_edit_conflict import edit

ROOT = Path(__file__).resolve().parent.parent
ROUTER = "incidents.routers.ReplicaRouter"
PINNING = "incidents.routers.ReplicaPinningMiddleware"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="streaming replication is PostgreSQL's"),
    pytest.mark.django_db(transaction=True),
]


def pgcluster(*args):
    result = subprocess.run(["bash", "tests/pgcluster.sh", *args], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture
def replica(settings):
    # Directly under /tmp: pytest's own folders are closed to the `postgres` user.
    folder = tempfile.mkdtemp(prefix="tracker-replica-")
    port = pgcluster("replica", folder, str(connection.settings_dict["PORT"]))
    # Registered for this thread only, outside settings.DATABASES: the test
    # framework allows such a connection, and the router finds it by its alias.
    primary = connections["default"]
    replica = primary.__class__({**primary.settings_dict, "PORT": port}, "replica")
    connections["replica"] = replica
    settings.DATABASE_ROUTERS = [ROUTER]
    auth = settings.MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware")
    settings.MIDDLEWARE = [*settings.MIDDLEWARE[: auth + 1], PINNING, *settings.MIDDLEWARE[auth + 1 :]]
    try:
        yield replica
    finally:
        replica.close()
        del connections["replica"]
        pgcluster("stop", folder)


def on_replica(replica, sql):
    with replica.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def wait_for(condition):
    """Replication is asynchronous: poll until the replica has replayed what the primary wrote."""
    for _ in range(600):
        if condition():
            return
        time.sleep(0.1)
    pytest.fail("the replica did not catch up")


def page(client, incident):
    response = client.get(f"/incidents/{incident.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def test_anonymous_reads_use_the_replica_and_staff_see_their_edit_at_once(client, replica, settings):
    settings.DATABASE_REPLICA_PIN_SECONDS = 0  # no pause after writes: anonymous reads go to the replica
    incident = IncidentFactory(summary="First account of the arrest.")
    count = f"SELECT count(*) FROM incidents_incident WHERE id = {incident.pk}"
    wait_for(lambda: on_replica(replica, count) == 1)
    assert on_replica(replica, "SELECT pg_is_in_recovery()") is True
    on_replica(replica, "SELECT pg_wal_replay_pause()::text")
    try:
        staff = client.__class__()
        staff.force_login(User.objects.create_superuser("boss", "b@example.org", "pw-boss-123"))
        assert edit(staff, incident, 1, summary="Corrected account of the arrest.").status_code == 302
        assert "Corrected account" in page(staff, incident)  # the primary
        assert "First account" in page(client, incident)  # the replica, still behind
        settings.DATABASE_REPLICA_PIN_SECONDS = 3600
        assert "Corrected account" in page(client, incident)  # the write is recent: the primary
    finally:
        on_replica(replica, "SELECT pg_wal_replay_resume()::text")
    settings.DATABASE_REPLICA_PIN_SECONDS = 0
    wait_for(lambda: "Corrected account" in page(client, incident))
