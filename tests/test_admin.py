import pytest

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
