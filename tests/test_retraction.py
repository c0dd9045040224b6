"""Verification, retraction and restoration by reviewers."""

import importlib

import pytest
from django.test import Client

from incidents import services
from incidents.models import Incident

from .factories import IncidentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(db):
    return IncidentFactory(reference="OCA-RETRACT-1", verification="unverified")


@pytest.fixture
def reviewer_client(reviewer):
    client = Client()
    client.force_login(reviewer)
    return client


def public_views(incident):
    """Whether the incident shows on each public page, export and API."""
    anonymous = Client()
    export = b"".join(anonymous.get("/incidents/export.csv").streaming_content).decode()
    api = anonymous.get("/api/incidents/").json()["results"]
    stats = anonymous.get("/api/stats/", {"by": "state"}).json()["results"]
    return {
        "detail": anonymous.get(f"/incidents/{incident.pk}/").status_code == 200,
        "list": f'href="/incidents/{incident.pk}/"' in anonymous.get("/incidents/").content.decode(),
        "export": incident.reference in export,
        "api": any(row["reference"] == incident.reference for row in api),
        "stats": sum(row["incidents"] for row in stats),
    }


def retract(client, incident, reason="Duplicate of OCA-7.", public_reason="duplicate"):
    return client.post(
        f"/incidents/{incident.pk}/retract/", {"reason": reason, "public_reason": public_reason}
    )


def test_a_retraction_hides_the_incident_everywhere_and_keeps_it(
    incident, reviewer, reviewer_client, django_capture_on_commit_callbacks
):
    assert public_views(incident) == {"detail": True, "list": True, "export": True, "api": True, "stats": 1}
    with django_capture_on_commit_callbacks(execute=True):
        response = retract(reviewer_client, incident)
    assert response.status_code == 302 and response["Location"] == f"/incidents/{incident.pk}/review/"
    assert public_views(incident) == {
        "detail": False,
        "list": False,
        "export": False,
        "api": False,
        "stats": 0,
    }
    incident.refresh_from_db()
    assert (incident.status, incident.retraction_reason, incident.version) == (
        "retracted",
        "Duplicate of OCA-7.",
        2,
    )
    latest = incident.history.first()
    assert (latest.history_user, latest.status, latest.retraction_reason) == (
        reviewer,
        "retracted",
        "Duplicate of OCA-7.",
    )


def test_a_retraction_needs_a_reason(incident, reviewer_client):
    response = retract(reviewer_client, incident, reason="   ")
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    incident.refresh_from_db()
    assert incident.status == "published" and incident.version == 1


def test_a_restoration_publishes_it_again_and_the_reason_stays_in_the_history(
    incident, reviewer_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        retract(reviewer_client, incident)
    with django_capture_on_commit_callbacks(execute=True):
        response = reviewer_client.post(f"/incidents/{incident.pk}/restore/")
    assert response.status_code == 302
    assert public_views(incident) == {"detail": True, "list": True, "export": True, "api": True, "stats": 1}
    incident.refresh_from_db()
    assert (incident.status, incident.retraction_reason, incident.version) == ("published", "", 3)
    statuses = list(incident.history.order_by("history_date").values_list("status", "retraction_reason"))
    assert statuses == [("published", ""), ("retracted", "Duplicate of OCA-7."), ("published", "")]


def test_restore_only_answers_post(incident, reviewer_client):
    assert reviewer_client.get(f"/incidents/{incident.pk}/restore/").status_code == 405


def test_the_review_page_offers_what_the_reviewer_may_do(
    incident, reviewer_client, django_assert_num_queries
):
    # session, user, permissions (2), incident, retraction requests, demo banner,
    # its sources, possible duplicates (2)
    with django_assert_num_queries(10):
        html = reviewer_client.get(f"/incidents/{incident.pk}/review/").content.decode()
    assert f'action="/incidents/{incident.pk}/verification/"' in html
    assert f'href="/incidents/{incident.pk}/retract/"' in html
    assert "/edit/" not in html and "/history/" not in html  # a court administrator's pages
    retract(reviewer_client, incident)
    html = reviewer_client.get(f"/incidents/{incident.pk}/review/").content.decode()
    assert "Duplicate of OCA-7." in html and f'action="/incidents/{incident.pk}/restore/"' in html


def test_a_reviewer_marks_an_incident_verified_or_disputed(incident, reviewer, reviewer_client):
    response = reviewer_client.post(f"/incidents/{incident.pk}/verification/", {"verification": "disputed"})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert (incident.verification, incident.version, incident.updated_by) == ("disputed", 2, reviewer)
    assert incident.history.first().verification == "disputed"
    reviewer_client.post(f"/incidents/{incident.pk}/verification/", {"verification": "verified"})
    incident.refresh_from_db()
    assert incident.verification == "verified"
    page = reviewer_client.get(f"/incidents/{incident.pk}/review/").content.decode()
    assert "OCA-RETRACT-1 is now verified." in page


def test_an_unknown_verification_changes_nothing(incident, reviewer_client):
    reviewer_client.post(f"/incidents/{incident.pk}/verification/", {"verification": "true"})
    incident.refresh_from_db()
    assert (incident.verification, incident.version) == ("unverified", 1)


def test_setting_the_same_verification_again_writes_nothing(incident, reviewer_client):
    reviewer_client.post(f"/incidents/{incident.pk}/verification/", {"verification": "unverified"})
    assert incident.history.count() == 1


def test_reviewers_find_retracted_incidents_in_the_staff_list(
    incident, reviewer_client, django_assert_num_queries
):
    IncidentFactory.create_batch(3)
    retract(reviewer_client, incident)
    # session, user, permissions (2), retraction requests, count, page, demo banner
    with django_assert_num_queries(8):
        html = reviewer_client.get("/staff/incidents/", {"status": "retracted"}).content.decode()
    assert "OCA-RETRACT-1" in html and html.count('class="retracted"') == 1
    assert f'href="/incidents/{incident.pk}/review/"' in html


def test_a_retraction_needs_a_public_reason_from_the_list(incident, reviewer_client):
    for public_reason in ("", "because"):
        response = retract(reviewer_client, incident, public_reason=public_reason)
        assert response.status_code == 200
    incident.refresh_from_db()
    assert incident.status == "published" and incident.version == 1
    with pytest.raises(ValueError):
        services.retract_incident(pk=incident.pk, reason="Dup.", public_reason="because", user=None)


def test_a_retracted_incident_answers_gone_with_its_date_and_public_reason_only(incident, reviewer_client):
    retract(reviewer_client, incident, reason="Staff-only words 4d1c", public_reason="not_at_courthouse")
    incident.refresh_from_db()
    response = Client().get(f"/incidents/{incident.pk}/")
    text = response.content.decode()
    assert response.status_code == 410
    assert "Report OCA-RETRACT-1 was retracted" in text
    assert f'retracted on <time datetime="{incident.retracted_at.date()}' in text
    assert f">{incident.retracted_at:%-d %B %Y}</time>" in text
    assert "Reason: Not at or near a courthouse." in text
    assert "Staff-only words 4d1c" not in text and incident.summary not in text


def test_a_restored_incident_has_its_page_again_and_no_notice(incident, reviewer_client):
    retract(reviewer_client, incident)
    reviewer_client.post(f"/incidents/{incident.pk}/restore/")
    incident.refresh_from_db()
    assert (incident.retraction_public_reason, incident.retracted_at) == ("", None)
    assert Client().get(f"/incidents/{incident.pk}/").status_code == 200


def test_rows_retracted_before_public_reasons_get_other_in_the_migration(incident):
    from django.apps import apps

    migration = importlib.import_module("incidents.migrations.0016_retraction_notice")
    Incident.objects.filter(pk=incident.pk).update(status="retracted", retraction_reason="Old reason.")
    migration.notices_for_retracted_rows(apps, None)
    incident.refresh_from_db()
    assert (incident.retraction_public_reason, incident.retracted_at) == ("other", incident.updated_at)
    assert IncidentFactory().retraction_public_reason == ""  # published rows are left alone
