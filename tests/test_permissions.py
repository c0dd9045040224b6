"""Who may do what on the staff pages: the permission matrix of issue 5.

Anonymous visitors are sent to sign in, signed-in users without the permission get
403, and a refused request changes nothing.
"""

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from incidents.forms import IncidentForm
from incidents.models import Courthouse, Incident

from .factories import CourthouseFactory, IncidentFactory
from .test_import import csv_file

pytestmark = pytest.mark.django_db

ADMIN, REVIEWER, STAFF = "admin", "reviewer", "staff"  # who is allowed besides superusers


def entry_data(incident=None, **overrides):
    """What the entry form posts: an incident's own values, or a valid new one."""
    if incident is None:
        data = {
            "courthouse": Courthouse.objects.first().slug,
            "date": "2019-05-14",
            "date_precision": "day",
            "outcome": "arrested",
            "people_count": "1",
            "case_type": "criminal",
            "person_role": "defendant",
            "location": "inside",
            "agency": "ice",
            "warrant": "none",
            "plain_clothes": "yes",
            "agents_identified": "no",
            "force_used": "unknown",
            "court_staff_assisted": "unknown",
            "source_type": "attorney",
            "source_url": "",
            "summary": "Agents arrested a defendant.",
            "reference": "",
            "docket_number": "",
            "reporter_contact": "",
            "internal_notes": "",
        }
    else:
        data = {name: str(getattr(incident, name)) for name in IncidentForm.Meta.fields}
        data.update(
            courthouse=incident.courthouse.slug,
            date=incident.date.isoformat(),
            version=incident.version,
            public_note="Corrected from the source.",  # a correction of a published incident needs one
        )
    return {**data, **overrides}


def actions(incident):
    """(method, URL, data, who may) for every staff page and action."""
    pk = incident.pk
    csv_upload = {"file": _upload()}
    return [
        ("get", "/incidents/new/", None, ADMIN),
        ("post", "/incidents/new/", entry_data(), ADMIN),
        ("get", f"/incidents/{pk}/edit/", None, ADMIN),
        ("post", f"/incidents/{pk}/edit/", entry_data(incident, summary="Edited."), ADMIN),
        ("get", f"/incidents/{pk}/history/", None, ADMIN),
        ("get", "/incidents/import/", None, ADMIN),
        ("post", "/incidents/import/", csv_upload, ADMIN),
        ("post", "/incidents/import/confirm/", {"token": "x"}, ADMIN),
        ("get", "/staff/courthouses/new/", None, ADMIN),
        (
            "post",
            "/staff/courthouses/new/",
            {"name": "New Court", "city": "Albany", "state": "NY", "county": "36001"},
            ADMIN,
        ),
        ("get", f"/incidents/{pk}/review/", None, REVIEWER),
        ("post", f"/incidents/{pk}/verification/", {"verification": "disputed"}, REVIEWER),
        ("get", f"/incidents/{pk}/retract/", None, REVIEWER),
        (
            "post",
            f"/incidents/{pk}/retract/",
            {"reason": "Duplicate.", "public_reason": "duplicate"},
            REVIEWER,
        ),
        ("post", f"/incidents/{pk}/restore/", {}, REVIEWER),
        ("get", f"/incidents/{pk}/redact/", None, REVIEWER),
        (
            "post",
            f"/incidents/{pk}/redact/",
            {"field": "summary", "text": "hallway", "reason": "x"},
            REVIEWER,
        ),
        ("get", "/staff/incidents/", None, STAFF),
    ]


def _upload():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("incidents.csv", csv_file({"reference": "NEW-1"}), content_type="text/csv")


@pytest.fixture(autouse=True)
def _uploads_in_tmp(settings, tmp_path):
    settings.IMPORT_UPLOAD_DIR = str(tmp_path / "uploads")


@pytest.fixture
def setup(db):
    CourthouseFactory(name="Brooklyn Criminal Court", city="Brooklyn", county_id="36047")
    return IncidentFactory(reference="OCA-1", verification="verified")


def snapshot():
    return (
        list(
            Incident.objects.order_by("pk").values_list("pk", "version", "status", "verification", "summary")
        ),
        Courthouse.objects.count(),
        Incident.history.count(),
    )


def test_the_groups_exist_with_their_permissions(db):
    admin = set(Group.objects.get(name="Court administrators").permissions.values_list("codename", flat=True))
    reviewer = set(Group.objects.get(name="Reviewers").permissions.values_list("codename", flat=True))
    assert admin == {
        "add_incident",
        "change_incident",
        "view_incident",
        "add_courthouse",
        "change_courthouse",
        "view_courthouse",
    }
    assert reviewer == {"review_incident", "retract_incident", "view_report", "change_report"}


def test_anonymous_visitors_are_sent_to_sign_in_and_change_nothing(client, setup):
    before = snapshot()
    for method, url, data, _ in actions(setup):
        response = _do(client, method, url, data)
        assert response.status_code == 302, (method, url)
        assert response["Location"].startswith("/accounts/login/?next=/"), (method, url)
    assert snapshot() == before


def test_anonymous_visitors_still_read_public_pages(client, setup):
    assert client.get("/incidents/").status_code == 200
    assert client.get(f"/incidents/{setup.pk}/").status_code == 200


def test_a_signed_in_user_without_a_role_gets_403_and_changes_nothing(client, setup, outsider):
    client.force_login(outsider)
    before = snapshot()
    for method, url, data, _ in actions(setup):
        assert _do(client, method, url, data).status_code == 403, (method, url)
    assert snapshot() == before


@pytest.mark.parametrize("persona, role", [("court_admin", ADMIN), ("reviewer", REVIEWER)])
def test_each_role_reaches_its_own_pages_and_no_others(request, client, setup, persona, role):
    client.force_login(request.getfixturevalue(persona))
    for method, url, data, allowed in actions(setup):
        response = _do(client, method, url, data)
        if allowed in (role, STAFF):
            assert response.status_code not in (403, 405), (method, url)
            assert "/accounts/login/" not in response.get("Location", ""), (method, url)
        else:
            assert response.status_code == 403, (method, url)


def _do(client, method, url, data):
    return client.get(url) if method == "get" else client.post(url, data)


def test_a_superuser_reaches_everything(client, setup, superuser):
    client.force_login(superuser)
    for method, url, data, _ in actions(setup):
        response = _do(client, method, url, data)
        assert response.status_code not in (403, 405), (method, url)


def test_a_court_administrator_cannot_verify_retract_or_restore(client, setup, court_admin):
    client.force_login(court_admin)
    client.post(f"/incidents/{setup.pk}/verification/", {"verification": "disputed"})
    client.post(f"/incidents/{setup.pk}/retract/", {"reason": "No.", "public_reason": "other"})
    setup.refresh_from_db()
    assert (setup.verification, setup.status) == ("verified", "published")


def test_a_reviewer_cannot_edit_or_create(client, setup, reviewer):
    client.force_login(reviewer)
    client.post(f"/incidents/{setup.pk}/edit/", entry_data(setup, summary="Reviewer edit."))
    client.post("/incidents/new/", entry_data())
    setup.refresh_from_db()
    assert setup.summary != "Reviewer edit." and Incident.objects.count() == 1


@pytest.mark.parametrize(
    "url, data",
    [
        ("/incidents/new/", "entry"),
        ("/incidents/{pk}/edit/", "edit"),
        ("/incidents/{pk}/retract/", {"reason": "Duplicate.", "public_reason": "duplicate"}),
        ("/incidents/{pk}/verification/", {"verification": "disputed"}),
        (
            "/staff/courthouses/new/",
            {"name": "New Court", "city": "Albany", "state": "NY", "county": "36001"},
        ),
    ],
)
def test_a_post_without_csrf_token_is_refused(setup, superuser, url, data):
    client = Client(enforce_csrf_checks=True)
    client.force_login(superuser)
    if isinstance(data, str):
        data = entry_data(setup, summary="Edited.") if data == "edit" else entry_data()
    before = snapshot()
    response = client.post(url.format(pk=setup.pk), data)
    assert response.status_code == 403
    assert snapshot() == before


def test_the_same_post_with_the_csrf_token_goes_through(setup, superuser):
    client = Client(enforce_csrf_checks=True)
    client.force_login(superuser)
    client.get("/incidents/new/")
    token = client.cookies["csrftoken"].value
    response = client.post("/incidents/new/", {**entry_data(), "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert Incident.objects.count() == 2


def test_the_sign_in_page_signs_in_and_returns_to_the_page_asked_for(client, court_admin):
    html = client.get("/accounts/login/?next=/incidents/new/").content.decode()
    assert '<label for="id_username">Username</label>' in html
    assert '<input type="hidden" name="next" value="/incidents/new/">' in html
    response = client.post(
        "/accounts/login/", {"username": "clerk", "password": "pw-clerk-123", "next": "/incidents/new/"}
    )
    assert response.status_code == 302 and response["Location"] == "/incidents/new/"
    assert client.get("/incidents/new/").status_code == 200


def test_a_wrong_password_is_refused_with_a_message(client, court_admin):
    response = client.post("/accounts/login/", {"username": "clerk", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_signing_out_is_a_post(client, court_admin):
    client.force_login(court_admin)
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/incidents/new/").status_code == 302
