"""Redaction: a text removed from an incident, its public change log and its staff history."""

import pytest
from django.test import Client

from incidents import services
from incidents.cache import data_version
from incidents.models import REDACTED, Incident, Redaction

from .factories import IncidentFactory

pytestmark = pytest.mark.django_db

NAME = "Jane Roe"
PUBLIC_URLS = [
    "/incidents/{pk}/",
    "/incidents/",
    "/incidents/?q=Roe",
    "/",
    "/api/incidents/",
    "/api/incidents/?ordering=-updated_at",
    "/incidents/export.csv",
]


def corrected(user, **fields):
    """An incident whose summary once named a person and was then corrected."""
    incident = IncidentFactory(summary=f"Agents arrested {NAME} in the hallway.", **fields)
    incident.summary = "Agents arrested a woman in the hallway."
    return services.update_incident(incident=incident, expected_version=1, user=user)


def public_text(incident):
    client = Client()
    return "".join(
        b"".join(client.get(url.format(pk=incident.pk)).streaming_content).decode()
        if url.endswith(".csv")
        else client.get(url.format(pk=incident.pk)).content.decode()
        for url in PUBLIC_URLS
    )


def history_values(incident):
    return [str(value) for row in incident.history.values() for value in row.values()]


def redact(client, incident, **data):
    data = {"field": "summary", "text": NAME, "reason": "The name of the person arrested.", **data}
    return client.post(f"/incidents/{incident.pk}/redact/", data)


def test_a_redacted_name_is_in_no_public_response_and_no_history_row(superuser, staff_client):
    incident = corrected(superuser)
    assert NAME in public_text(incident)  # the change log shows the old summary
    version = data_version()

    response = redact(staff_client, incident)

    assert response.status_code == 302 and response["Location"] == f"/incidents/{incident.pk}/history/"
    assert NAME not in public_text(incident)
    assert (
        f"Agents arrested {REDACTED} in the hallway."
        in Client().get(f"/incidents/{incident.pk}/").content.decode()
    )
    assert not any(NAME in value for value in history_values(incident))
    assert data_version() != version  # no cached page keeps the old change log
    redaction = Redaction.objects.get()
    assert (redaction.incident, redaction.field, redaction.redacted_by, redaction.history_rows) == (
        incident,
        "summary",
        superuser,
        1,
    )
    assert redaction.reason == "The name of the person arrested." and redaction.redacted_at


def test_the_audit_is_on_the_staff_history_page_and_in_the_admin_never_public(superuser, staff_client):
    incident = corrected(superuser)
    redact(staff_client, incident, reason="Named the person arrested.")
    history = staff_client.get(f"/incidents/{incident.pk}/history/").content.decode()
    assert "Named the person arrested." in history and f"/incidents/{incident.pk}/redact/" in history
    admin = staff_client.get("/admin/incidents/redaction/").content.decode()
    assert "Named the person arrested." in admin
    assert "Named the person arrested." not in public_text(incident)


def test_a_current_value_holding_the_text_is_corrected_with_a_new_version(superuser, staff_client):
    incident = IncidentFactory(summary=f"{NAME} was arrested; {NAME} is a defendant.")
    redact(staff_client, incident)
    incident.refresh_from_db()
    assert incident.summary == f"{REDACTED} was arrested; {REDACTED} is a defendant."
    assert incident.version == 2
    assert not any(NAME in value for value in history_values(incident))
    assert NAME not in public_text(incident)


def test_a_reviewer_may_redact_public_fields_but_not_staff_only_ones(reviewer, court_admin, superuser):
    incident = corrected(superuser, internal_notes=f"Called {NAME}'s lawyer.")
    client = Client()
    client.force_login(reviewer)
    assert client.get(f"/incidents/{incident.pk}/redact/").status_code == 200
    refused = redact(client, incident, field="internal_notes")
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()
    response = redact(client, incident)
    assert response["Location"] == f"/incidents/{incident.pk}/review/"
    assert Redaction.objects.get().redacted_by == reviewer
    # Staff-only values stay for those who may redact them (a superuser here).
    assert any(NAME in value for value in history_values(incident))


@pytest.mark.parametrize("who", ["court_admin", "outsider"])
def test_others_may_not_redact(request, who, superuser):
    incident = corrected(superuser)
    client = Client()
    client.force_login(request.getfixturevalue(who))
    assert client.get(f"/incidents/{incident.pk}/redact/").status_code == 403
    assert redact(client, incident).status_code == 403
    assert Client().get(f"/incidents/{incident.pk}/redact/").status_code == 302  # sign in first
    assert any(NAME in value for value in history_values(incident)) and not Redaction.objects.exists()


@pytest.mark.parametrize(
    "data, error",
    [
        ({"text": "Richard Roe"}, "This text is in no version of the field."),
        ({"text": "   "}, "This field is required."),
        ({"reason": "  "}, "This field is required."),
        ({"field": "outcome"}, "Select a valid choice"),
    ],
)
def test_a_redaction_that_would_remove_nothing_is_refused(superuser, staff_client, data, error):
    incident = corrected(superuser)
    response = redact(staff_client, incident, **data)
    assert response.status_code == 200 and error in response.content.decode()
    assert not Redaction.objects.exists()
    assert Incident.objects.get(pk=incident.pk).version == 2
