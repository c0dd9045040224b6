"""Drafts: saved by staff, never public anywhere, published later; and corrections' public notes."""

import pytest
from django.test import Client

from incidents import choices
from incidents.models import Incident

from .factories import CourthouseFactory, IncidentFactory
from .test_permissions import entry_data
from .test_privacy import body, public_urls

pytestmark = pytest.mark.django_db

DRAFT_SUMMARY = "SENTINEL-draft-summary-3c1d"
DRAFT_REFERENCE = "SENTINEL-DRAFT-REF-9"
NOTE = "Date corrected from the court record."


@pytest.fixture
def clerk(client, court_admin):
    client.force_login(court_admin)
    return client


@pytest.fixture
def draft(clerk):
    """A draft, alone at its own courthouse, entered through the form."""
    courthouse = CourthouseFactory(name="Draft-only Courthouse")
    data = entry_data(courthouse=courthouse.slug, summary=DRAFT_SUMMARY, reference=DRAFT_REFERENCE)
    response = clerk.post("/incidents/new/", {**data, "save_draft": "1"})
    incident = Incident.objects.get(reference=DRAFT_REFERENCE)
    assert response.status_code == 302 and response["Location"] == f"/incidents/{incident.pk}/edit/"
    return incident


def publish(client, incident, **changes):
    return client.post(f"/incidents/{incident.pk}/edit/", {**entry_data(incident, **changes), "publish": "1"})


def test_a_draft_is_saved_as_a_draft(draft):
    assert draft.status == choices.Status.DRAFT
    assert draft.history.get().status == choices.Status.DRAFT


def test_a_draft_is_on_no_public_page_export_feed_or_count(draft):
    visitor = Client()
    published = IncidentFactory()
    for url in [*public_urls(published), "/courthouses/draft-only-courthouse/"]:
        response = visitor.get(url)
        assert response.status_code in (200, 404), url
        text = body(response)
        assert DRAFT_SUMMARY not in text and DRAFT_REFERENCE not in text, url
        assert "Draft-only Courthouse" not in text, url
    assert visitor.get("/api/incidents/").json()["count"] == 1
    by_state = visitor.get("/api/stats/?by=state").json()["results"]
    assert [row["incidents"] for row in by_state if row["incidents"]] == [1]
    # Not even a retraction notice: the incident was never public.
    assert visitor.get(f"/incidents/{draft.pk}/").status_code == 404
    assert visitor.get("/courthouses/draft-only-courthouse/").status_code == 404


def test_staff_find_drafts_and_publish_them(clerk, draft):
    listed = clerk.get("/staff/incidents/", {"status": "draft"}).content.decode()
    assert f'href="/incidents/{draft.pk}/edit/">{DRAFT_REFERENCE}' in listed
    # Edits of a draft need no public note and stay private.
    assert clerk.post(f"/incidents/{draft.pk}/edit/", entry_data(draft, public_note="", date="2019-05-13"))
    draft.refresh_from_db()
    assert (draft.status, draft.date.isoformat()) == (choices.Status.DRAFT, "2019-05-13")

    response = publish(clerk, draft, public_note="")
    assert response.status_code == 302 and response["Location"] == f"/incidents/{draft.pk}/"
    draft.refresh_from_db()
    assert (draft.status, draft.last_change) == (choices.Status.PUBLISHED, choices.Change.CREATED)
    page = Client().get(f"/incidents/{draft.pk}/").content.decode()
    assert DRAFT_SUMMARY in page
    assert "Corrected:" not in page  # its edits as a draft were never public corrections
    change = Client().get("/api/changes/").json()["results"]
    assert [(row["reference"], row["change"]) for row in change] == [(DRAFT_REFERENCE, "created")]


# -- public notes on corrections ------------------------------------------------------


def test_a_correction_of_a_published_incident_needs_a_public_note(clerk):
    incident = IncidentFactory()
    response = clerk.post(
        f"/incidents/{incident.pk}/edit/", entry_data(incident, date="2019-05-13", public_note="")
    )
    assert response.status_code == 200
    assert "Say in a few words why the published incident changed." in response.content.decode()
    incident.refresh_from_db()
    assert incident.version == 1


def test_the_note_is_in_the_public_change_log_beside_the_corrected_fields_and_in_the_feed(clerk):
    incident = IncidentFactory()
    response = clerk.post(
        f"/incidents/{incident.pk}/edit/", entry_data(incident, date="2019-05-13", public_note=NOTE)
    )
    assert response.status_code == 302
    page = Client().get(f"/incidents/{incident.pk}/").content.decode()
    log = page.split('class="change-log"')[1]
    assert f'<q class="note">{NOTE}</q>' in log
    assert log.index("Corrected:") < log.index(NOTE) < log.index("2019-05-14")
    feed = Client().get("/feeds/incidents.atom").content.decode()
    assert f"Corrected: date. Why: {NOTE}" in feed


def test_a_staff_only_correction_needs_no_note_and_shows_none(clerk):
    incident = IncidentFactory()
    data = entry_data(incident, internal_notes="Called the clerk's office.", public_note="")
    assert clerk.post(f"/incidents/{incident.pk}/edit/", data).status_code == 302
    incident.refresh_from_db()
    assert incident.internal_notes == "Called the clerk's office." and incident.version == 2
    assert incident.history.first().public_note is None
    assert "Corrected:" not in Client().get(f"/incidents/{incident.pk}/").content.decode()


@pytest.mark.parametrize("note", ["x" * 201, "date \u202ecorrected", "nul\x00byte"])
def test_a_bad_note_is_a_form_error(clerk, note):
    incident = IncidentFactory()
    response = clerk.post(
        f"/incidents/{incident.pk}/edit/", entry_data(incident, date="2019-05-13", public_note=note)
    )
    assert response.status_code == 200
    incident.refresh_from_db()
    assert incident.version == 1
