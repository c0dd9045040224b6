import pytest
from django.forms.models import model_to_dict

from incidents import services
from incidents.models import Incident

from .factories import IncidentFactory

pytestmark = pytest.mark.django_db

ADMIN_PAGES = [
    "/admin/incidents/incident/",
    "/admin/incidents/courthouse/",
    "/admin/incidents/county/",
    "/admin/incidents/policyevent/",
    "/admin/incidents/policyevent/add/",
    "/admin/incidents/coveragechange/",
    "/admin/incidents/coveragechange/add/",
    "/admin/incidents/incident/add/",
]


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_staff_see_the_admin_pages(staff_client, url):
    IncidentFactory()
    assert staff_client.get(url).status_code == 200


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_the_courthouse_field_is_an_autocomplete_not_a_dropdown(staff_client):
    IncidentFactory.create_batch(3)
    html = staff_client.get("/admin/incidents/incident/add/").content.decode()
    assert "admin-autocomplete" in html
    assert "Test Courthouse" not in html


def test_an_admin_edit_is_in_the_history_with_its_author(staff_client, superuser):
    incident = IncidentFactory()
    response = staff_client.get(f"/admin/incidents/incident/{incident.pk}/history/")
    assert response.status_code == 200
    incident.summary = "Edited in the admin."
    incident._history_user = superuser
    incident.save()
    html = staff_client.get(f"/admin/incidents/incident/{incident.pk}/history/").content.decode()
    assert "root" in html


def test_counties_are_read_only_in_the_admin(staff_client):
    assert staff_client.get("/admin/incidents/county/36047/change/").status_code == 200
    assert staff_client.post("/admin/incidents/county/36047/change/", {"name": "X"}).status_code == 403


ADMIN_FIELDS = [f.name for f in Incident._meta.fields if f.editable and f.name != "id"]


def admin_post(client, incident, loaded_version, **changes):
    data = {**model_to_dict(incident, fields=ADMIN_FIELDS), "loaded_version": loaded_version, **changes}
    data = {name: "" if value is None else value for name, value in data.items()}
    return client.post(f"/admin/incidents/incident/{incident.pk}/change/", data, follow=True)


def test_an_admin_save_goes_through_the_version_check(staff_client, superuser):
    incident = IncidentFactory(summary="Original.")
    html = staff_client.get(f"/admin/incidents/incident/{incident.pk}/change/").content.decode()
    assert 'name="loaded_version" value="1"' in html
    response = admin_post(staff_client, incident, 1, summary="Edited in the admin.")
    assert response.status_code == 200
    incident.refresh_from_db()
    assert (incident.summary, incident.version, incident.updated_by) == ("Edited in the admin.", 2, superuser)
    assert incident.history.first().history_user == superuser


def test_an_admin_save_with_a_stale_version_is_refused_and_overwrites_nothing(staff_client, court_admin):
    incident = IncidentFactory(summary="Original.")
    stale = Incident.objects.get(pk=incident.pk)
    incident.summary = "A clerk's correction."
    services.update_incident(incident=incident, expected_version=1, user=court_admin)
    response = admin_post(staff_client, stale, 1, summary="The admin's edit.")
    assert (
        "was changed by someone else while you edited it, and nothing was saved" in response.content.decode()
    )
    assert response.redirect_chain[-1][0] == f"/admin/incidents/incident/{incident.pk}/change/"
    incident.refresh_from_db()
    assert (incident.summary, incident.version, incident.updated_by) == (
        "A clerk's correction.",
        2,
        court_admin,
    )
    assert incident.history.count() == 2


def test_an_incident_added_in_the_admin_is_recorded_like_the_entry_form(staff_client, superuser):
    template = IncidentFactory()
    data = {**model_to_dict(template, fields=ADMIN_FIELDS), "reference": "ADM-1", "_save": "Save"}
    response = staff_client.post("/admin/incidents/incident/add/", data, follow=True)
    assert response.status_code == 200
    added = Incident.objects.exclude(pk=template.pk).get()
    assert added.reference == "ADM-1"
    assert (added.version, added.created_by, added.history.get().history_user) == (1, superuser, superuser)


def test_the_admin_cannot_revert_to_an_old_version(staff_client):
    incident = IncidentFactory()
    record = incident.history.get()
    url = f"/admin/incidents/incident/{incident.pk}/history/{record.history_id}/"
    assert staff_client.get(url).status_code == 200
    assert admin_post(staff_client, incident, 1).status_code == 200  # the change form still saves
    assert staff_client.post(url, {"summary": "old"}).status_code == 403
