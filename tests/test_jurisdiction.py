"""Court administrators write only inside their jurisdiction; reviewers and superusers anywhere.

Also a court administrator's withdrawal of their own entry within a day, and the
retraction request that replaces it afterwards (incidents/permissions.py).
"""

import datetime

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from incidents import choices
from incidents.models import Incident, Jurisdiction, RetractionRequest
from incidents.services import import_incidents as import_csv

from .factories import CourthouseFactory, IncidentFactory
from .test_import import csv_file
from .test_permissions import entry_data

pytestmark = pytest.mark.django_db

TEXAS = {
    "state": "TX",
    "county": "El Paso County",
    "county_fips": "48141",
    "courthouse": "El Paso County Courthouse",
    "courthouse_city": "El Paso",
    "verification": "unverified",
}
WITHDRAWAL = {"public_reason": "source_withdrawn", "reason": "Entered the wrong hearing."}


def user_in(name, *groups, **place):
    """A user in `groups`, with one jurisdiction `place` (state=, county= or courthouse=) if given."""
    user = User.objects.create_user(name, password=f"pw-{name}-123")
    user.groups.add(*Group.objects.filter(name__in=groups))
    if place:
        Jurisdiction.objects.create(user=user, **place)
    return user


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def brooklyn():
    return CourthouseFactory(name="Brooklyn Criminal Court")  # Kings County, NY


@pytest.fixture
def el_paso():
    return CourthouseFactory(name="El Paso County Courthouse", texas=True)


@pytest.fixture
def ny_clerk():
    return user_in("nyclerk", "Court administrators", state_id="NY")


def create(client, courthouse, **overrides):
    return client.post("/incidents/new/", entry_data(courthouse=courthouse.slug, **overrides))


# -- entry and correction -------------------------------------------------------------


def test_a_court_administrator_enters_incidents_in_their_state_only(ny_clerk, brooklyn, el_paso):
    client = logged_in(ny_clerk)
    assert create(client, brooklyn, summary="In New York.").status_code == 302
    response = create(client, el_paso, summary="In Texas.")
    assert response.status_code == 200
    assert "El Paso County Courthouse is outside your jurisdiction (New York)" in response.content.decode()
    assert list(Incident.objects.values_list("summary", flat=True)) == ["In New York."]


def test_a_courthouse_jurisdiction_is_that_courthouse_only(brooklyn):
    other_in_the_same_county = CourthouseFactory(name="Kings County Family Court")
    client = logged_in(user_in("onecourt", "Court administrators", courthouse=brooklyn))
    assert create(client, brooklyn).status_code == 302
    assert create(client, other_in_the_same_county).status_code == 200
    assert Incident.objects.count() == 1


def test_a_county_jurisdiction_holds_its_courthouses(brooklyn, el_paso):
    client = logged_in(user_in("kings", "Court administrators", county_id="36047"))
    assert create(client, brooklyn).status_code == 302
    assert create(client, el_paso).status_code == 200


def test_a_court_administrator_without_a_jurisdiction_may_enter_nothing(brooklyn):
    client = logged_in(user_in("nowhere", "Court administrators"))
    response = create(client, brooklyn)
    assert response.status_code == 200 and "outside your jurisdiction (none yet)" in response.content.decode()
    assert not Incident.objects.exists()


def test_correcting_an_incident_outside_is_a_403_that_says_why_and_links_back(ny_clerk, el_paso):
    incident = IncidentFactory(courthouse=el_paso, summary="Texas summary.")
    client = logged_in(ny_clerk)
    page = client.get(f"/incidents/{incident.pk}/edit/")
    html = page.content.decode()
    assert page.status_code == 403
    assert "Outside your jurisdiction" in html and "El Paso County Courthouse" in html and "New York" in html
    assert 'href="/staff/incidents/"' in html
    response = client.post(f"/incidents/{incident.pk}/edit/", entry_data(incident, summary="Changed."))
    assert response.status_code == 403
    incident.refresh_from_db()
    assert (incident.summary, incident.version) == ("Texas summary.", 1)


def test_an_incident_inside_cannot_be_moved_outside(ny_clerk, brooklyn, el_paso):
    incident = IncidentFactory(courthouse=brooklyn)
    client = logged_in(ny_clerk)
    assert client.get(f"/incidents/{incident.pk}/edit/").status_code == 200
    response = client.post(f"/incidents/{incident.pk}/edit/", entry_data(incident, courthouse=el_paso.slug))
    assert response.status_code == 200 and "outside your jurisdiction" in response.content.decode()
    incident.refresh_from_db()
    assert incident.courthouse == brooklyn


@pytest.mark.parametrize("who", ["superuser", "reviewer and court administrator"])
def test_superusers_and_reviewers_are_not_limited(who, el_paso):
    if who == "superuser":
        user = User.objects.create_superuser("boss", "boss@example.org", "pw-boss-123")
    else:
        user = user_in("both", "Court administrators", "Reviewers")  # and no jurisdiction
    incident = IncidentFactory(courthouse=el_paso)
    client = logged_in(user)
    response = client.post(f"/incidents/{incident.pk}/edit/", entry_data(incident, summary="Anywhere."))
    assert response.status_code == 302
    assert create(client, el_paso).status_code == 302
    assert Incident.objects.filter(summary="Anywhere.").exists() and Incident.objects.count() == 2


# -- import -------------------------------------------------------------------------


def test_import_respects_the_importers_jurisdiction(ny_clerk, brooklyn, el_paso):
    source = csv_file({"reference": "IMP-NY", "verification": "unverified"}, {"reference": "IMP-TX", **TEXAS})
    report = import_csv(source, user=ny_clerk)
    assert not report.written and not Incident.objects.exists()
    assert report.errors == ["line 3, column courthouse: outside your jurisdiction (New York)"]
    # Unlimited, the same file imports.
    assert import_csv(source, user=None).written and Incident.objects.count() == 2


def test_import_may_not_move_an_incident_in_from_outside(ny_clerk, brooklyn, el_paso):
    IncidentFactory(courthouse=el_paso, reference="IMP-MOVE", verification="unverified")
    report = import_csv(csv_file({"reference": "IMP-MOVE", "verification": "unverified"}), user=ny_clerk)
    assert not report.written and report.errors == [
        "line 2, column courthouse: outside your jurisdiction (New York)"
    ]
    assert Incident.objects.get(reference="IMP-MOVE").courthouse == el_paso


def test_the_import_page_names_the_rows_outside(ny_clerk, brooklyn, el_paso, settings, tmp_path):
    settings.IMPORT_UPLOAD_DIR = str(tmp_path / "uploads")
    source = csv_file({"reference": "IMP-TX2", **TEXAS})
    response = logged_in(ny_clerk).post(
        "/incidents/import/", {"file": SimpleUploadedFile("x.csv", source, "text/csv")}
    )
    html = response.content.decode()
    assert "outside your jurisdiction (New York)" in html and 'name="token"' not in html


# -- withdrawal and retraction requests ---------------------------------------------


def test_a_court_administrator_withdraws_their_own_entry_within_a_day(client, ny_clerk, brooklyn):
    clerk = logged_in(ny_clerk)
    create(clerk, brooklyn)
    incident = Incident.objects.get()
    page = clerk.get(f"/incidents/{incident.pk}/withdraw/").content.decode()
    assert "less than 24 hours ago" in page
    response = clerk.post(f"/incidents/{incident.pk}/withdraw/", WITHDRAWAL)
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == choices.Status.RETRACTED
    assert (incident.retraction_reason, incident.retraction_public_reason) == (
        "Entered the wrong hearing.",
        "source_withdrawn",
    )
    assert client.get(f"/incidents/{incident.pk}/").status_code == 410
    assert incident.history.first().history_user == ny_clerk


def test_after_a_day_the_withdrawal_is_a_request_that_a_reviewer_decides(ny_clerk, brooklyn, reviewer):
    incident = IncidentFactory(courthouse=brooklyn, created_by=ny_clerk)
    Incident.objects.filter(pk=incident.pk).update(created_at=timezone.now() - datetime.timedelta(hours=25))
    clerk = logged_in(ny_clerk)
    assert (
        "Send the request to a reviewer" in clerk.get(f"/incidents/{incident.pk}/withdraw/").content.decode()
    )
    assert clerk.post(f"/incidents/{incident.pk}/withdraw/", WITHDRAWAL).status_code == 302
    incident.refresh_from_db()
    assert incident.is_published  # until a reviewer decides
    request = RetractionRequest.objects.get()
    assert (request.requested_by, request.outcome) == (ny_clerk, choices.RequestOutcome.OPEN)
    # A second request waits for the first.
    clerk.post(f"/incidents/{incident.pk}/withdraw/", WITHDRAWAL)
    assert RetractionRequest.objects.count() == 1

    checker = logged_in(reviewer)
    listed = checker.get("/staff/incidents/").content.decode()
    assert "1 retraction request waiting" in listed and f"/incidents/{incident.pk}/review/" in listed
    assert "Entered the wrong hearing." in checker.get(f"/incidents/{incident.pk}/review/").content.decode()
    form = checker.get(f"/incidents/{incident.pk}/retract/").content.decode()
    assert "Entered the wrong hearing." in form  # the reviewer starts from the request
    checker.post(f"/incidents/{incident.pk}/retract/", WITHDRAWAL)
    request.refresh_from_db()
    incident.refresh_from_db()
    assert incident.status == choices.Status.RETRACTED
    assert (request.outcome, request.decided_by) == (choices.RequestOutcome.RETRACTED, reviewer)
    assert "retraction request waiting" not in checker.get("/staff/incidents/").content.decode()


def test_a_reviewer_may_decline_a_request(ny_clerk, brooklyn, reviewer):
    incident = IncidentFactory(courthouse=brooklyn)  # someone else's entry
    logged_in(ny_clerk).post(f"/incidents/{incident.pk}/withdraw/", WITHDRAWAL)
    assert (
        logged_in(ny_clerk).post(f"/incidents/{incident.pk}/retraction-request/decline/").status_code == 403
    )
    response = logged_in(reviewer).post(f"/incidents/{incident.pk}/retraction-request/decline/")
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.is_published
    assert RetractionRequest.objects.get().outcome == choices.RequestOutcome.DECLINED


def test_no_withdrawal_of_an_incident_outside(ny_clerk, el_paso):
    incident = IncidentFactory(courthouse=el_paso, created_by=ny_clerk)
    client = logged_in(ny_clerk)
    assert client.post(f"/incidents/{incident.pk}/withdraw/", WITHDRAWAL).status_code == 403
    incident.refresh_from_db()
    assert incident.is_published and not RetractionRequest.objects.exists()
