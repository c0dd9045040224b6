"""Corrections at /incidents/<id>/edit/: optimistic locking, history, the staff history page."""

import re
from html import unescape

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from incidents import services
from incidents.models import Incident, Jurisdiction

from .factories import IncidentFactory
from .test_permissions import entry_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(db):
    return IncidentFactory(reference="OCA-1", summary="Original summary.", internal_notes="first note")


def clerk(name):
    user = User.objects.create_user(name, password=f"pw-{name}-123")
    user.groups.add(Group.objects.get(name="Court administrators"))
    Jurisdiction.objects.create(user=user, state_id="NY")
    client = Client()
    client.force_login(user)
    return user, client


def hidden_inputs(html):
    """The fields of the conflict page's "save my version" form."""
    form = html.split("Save my version over the saved one")[0].rsplit("<form", 1)[1]
    return {
        name: unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form)
    }


def edit(client, incident, version, **changes):
    return client.post(f"/incidents/{incident.pk}/edit/", entry_data(incident, version=version, **changes))


def test_the_edit_form_carries_the_version_it_was_loaded_with(incident, django_assert_num_queries):
    _, client = clerk("anaq7")
    # session, user, permissions (2), incident, jurisdictions, demo banner
    with django_assert_num_queries(7):
        html = client.get(f"/incidents/{incident.pk}/edit/").content.decode()
    assert '<input type="hidden" name="version" value="1"' in html
    assert 'value="first note"' not in html and "first note" in html  # staff-only textarea


def test_a_correction_is_saved_with_a_new_version_and_a_history_row(incident):
    ana, client = clerk("anaq7")
    response = edit(client, incident, 1, summary="Corrected summary.")
    assert response.status_code == 302 and response["Location"] == f"/incidents/{incident.pk}/"
    incident.refresh_from_db()
    assert (incident.summary, incident.version, incident.updated_by) == ("Corrected summary.", 2, ana)
    latest = incident.history.first()
    assert (latest.history_type, latest.history_user, latest.summary) == ("~", ana, "Corrected summary.")


def test_two_people_editing_at_once_the_second_save_is_refused_and_the_first_kept(incident):
    ana, first = clerk("anaq7")
    _, second = clerk("benq7")
    # Both open the form at version 1.
    assert 'name="version" value="1"' in first.get(f"/incidents/{incident.pk}/edit/").content.decode()
    assert 'name="version" value="1"' in second.get(f"/incidents/{incident.pk}/edit/").content.decode()

    assert edit(first, incident, 1, summary="Ana's correction.").status_code == 302
    response = edit(second, incident, 1, summary="Ben's correction.", people_count="2")

    assert response.status_code == 409
    html = response.content.decode()
    assert "Someone saved OCA-1 while you were editing it" in html
    assert "anaq7 saved this incident" in html
    assert "Ben&#x27;s correction." in html and "Ana&#x27;s correction." in html  # both versions
    assert html.count('class="differs"') == 2  # summary and people count
    incident.refresh_from_db()
    assert (incident.summary, incident.people_count, incident.version, incident.updated_by) == (
        "Ana's correction.",
        1,
        2,
        ana,
    )
    assert incident.history.count() == 2  # creation and Ana's correction only


def test_after_a_conflict_the_second_person_can_still_save_their_version(incident):
    _, first = clerk("anaq7")
    ben, second = clerk("benq7")
    edit(first, incident, 1, summary="Ana's correction.")
    conflict = edit(second, incident, 1, summary="Ben's correction.")
    keep_mine = hidden_inputs(conflict.content.decode())
    assert keep_mine["version"] == "2" and keep_mine["summary"] == "Ben's correction."
    assert second.post(f"/incidents/{incident.pk}/edit/", keep_mine).status_code == 302
    incident.refresh_from_db()
    assert (incident.summary, incident.version, incident.updated_by) == ("Ben's correction.", 3, ben)
    summaries = list(incident.history.order_by("history_date").values_list("summary", flat=True))
    assert summaries == ["Original summary.", "Ana's correction.", "Ben's correction."]


def test_the_service_refuses_a_stale_version_and_writes_nothing(incident):
    stale = Incident.objects.get(pk=incident.pk)
    Incident.objects.filter(pk=incident.pk).update(version=2)
    stale.summary = "Stale write."
    with pytest.raises(services.EditConflict) as conflict:
        services.update_incident(incident=stale, expected_version=1, user=None)
    assert conflict.value.saved.version == 2
    incident.refresh_from_db()
    assert (incident.summary, incident.version) == ("Original summary.", 2)
    assert incident.history.count() == 1


def test_saving_without_changes_writes_nothing(incident):
    _, client = clerk("anaq7")
    response = edit(client, incident, 1)
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.version == 1 and incident.history.count() == 1


def test_an_invalid_correction_changes_nothing(incident):
    _, client = clerk("anaq7")
    response = edit(client, incident, 1, outcome="observed", people_count="3")
    assert response.status_code == 200
    incident.refresh_from_db()
    assert (incident.outcome, incident.version) == ("arrested", 1)


def test_staff_see_who_changed_each_field_before_and_after(incident, django_assert_num_queries):
    _, client = clerk("anaq7")
    edit(client, incident, 1, summary="Corrected summary.", internal_notes="second note", people_count="2")
    # session, user, permissions (2), incident, history, courthouse names, redactions, demo banner
    with django_assert_num_queries(9):
        html = client.get(f"/incidents/{incident.pk}/history/").content.decode()
    changed = html.split("changed")[1].split("created")[0]
    assert 'by <span class="who">anaq7</span>' in changed
    assert "Original summary." in changed and "Corrected summary." in changed
    assert "first note" in changed and "second note" in changed  # staff-only included
    assert "People taken into custody" in changed
    assert "Case type" not in changed  # only the fields that changed


def test_the_history_page_is_for_staff_only(incident, reviewer, client):
    assert client.get(f"/incidents/{incident.pk}/history/").status_code == 302
    client.force_login(reviewer)
    assert client.get(f"/incidents/{incident.pk}/history/").status_code == 403


def test_the_public_page_shows_no_staff_only_value_or_staff_name(incident):
    _, client = clerk("anaq7")
    edit(client, incident, 1, summary="Corrected summary.", internal_notes="secret staff note")
    html = Client().get(f"/incidents/{incident.pk}/").content.decode()
    assert "Corrected summary." in html
    assert "secret staff note" not in html and "first note" not in html
    assert "anaq7" not in html


def test_a_staff_only_correction_keeps_the_public_update_time_and_data_version(incident):
    from incidents.cache import data_version

    ana, client = clerk("anaq7")
    updated_at, version = incident.updated_at, data_version()
    response = edit(
        client, incident, 1, internal_notes="second note", docket_number="D-2", reporter_contact="x"
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert (incident.internal_notes, incident.version, incident.updated_by) == ("second note", 2, ana)
    assert incident.updated_at == updated_at and data_version() == version
    assert incident.history.first().internal_notes == "second note"  # still in the staff history
    edit(client, incident, 2, summary="Corrected summary.")
    incident.refresh_from_db()
    assert incident.updated_at > updated_at and data_version() != version
