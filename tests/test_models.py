import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from incidents.models import (
    PUBLIC_FIELDS,
    SLUG,
    STAFF_ONLY_FIELDS,
    Courthouse,
    Incident,
    free_slug,
    today_utc,
)

from .factories import CourthouseFactory, IncidentFactory

pytestmark = pytest.mark.django_db


def insert_raw(**changes):
    """Save bypassing validation, so that only the database can refuse."""
    incident = IncidentFactory.build(courthouse=CourthouseFactory(), **changes)
    with transaction.atomic():
        incident.save()


@pytest.mark.parametrize(
    "changes",
    [
        {"date_precision": "month", "date": datetime.date(2019, 5, 14)},
        {"outcome": "arrested", "people_count": 0},
        {"outcome": "attempted", "people_count": 2},
        {"case_type": "bogus"},
        {"verification": "maybe"},
    ],
)
def test_it_refuses_invalid_rows_in_the_database(changes):
    with pytest.raises(IntegrityError):
        insert_raw(**changes)


def test_it_refuses_a_negative_people_count_in_the_database():
    with pytest.raises(IntegrityError):
        insert_raw(outcome="unknown", people_count=-1)


def test_it_refuses_a_duplicate_reference_in_the_database():
    IncidentFactory(reference="UOR-1")
    with pytest.raises(IntegrityError):
        insert_raw(reference="UOR-1")


def test_it_assigns_a_reference_when_none_is_given():
    incident = IncidentFactory(reference="")
    assert incident.reference == f"TRK-{incident.pk:06d}"
    assert Incident.objects.get(pk=incident.pk).reference == incident.reference


def test_it_derives_county_and_state_from_the_courthouse():
    incident = IncidentFactory(courthouse=CourthouseFactory(texas=True))
    assert (incident.county_id, incident.state_id) == ("48141", "TX")


def test_moving_a_courthouse_moves_its_incidents():
    incident = IncidentFactory()
    courthouse = incident.courthouse
    courthouse.county_id = "06037"
    courthouse.save()
    incident.refresh_from_db()
    assert (incident.county_id, incident.state_id) == ("06037", "CA")


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"date": "tomorrow"}, "date"),  # when the test runs, not when it is collected
        ({"date_precision": "month", "date": datetime.date(2019, 5, 2)}, "date"),
        ({"outcome": "arrested", "people_count": 0}, "people_count"),
        ({"outcome": "observed", "people_count": 1}, "people_count"),
        ({"case_type": "bogus"}, "case_type"),
        ({"source_url": "not a url"}, "source_url"),
    ],
)
def test_validation_names_the_bad_field(changes, field):
    if changes.get("date") == "tomorrow":
        changes = {"date": today_utc() + datetime.timedelta(days=1)}
    incident = IncidentFactory.build(courthouse=CourthouseFactory(), **changes)
    with pytest.raises(ValidationError) as error:
        incident.full_clean()
    assert field in error.value.message_dict


def test_a_future_date_message_says_so():
    tomorrow = today_utc() + datetime.timedelta(days=1)
    incident = IncidentFactory.build(courthouse=CourthouseFactory(), date=tomorrow)
    with pytest.raises(ValidationError) as error:
        incident.full_clean()
    assert error.value.message_dict["date"] == [f"{tomorrow.isoformat()} is in the future"]


def test_staff_only_fields_are_never_public():
    assert not set(PUBLIC_FIELDS) & set(STAFF_ONLY_FIELDS)
    names = {f.name for f in Incident._meta.get_fields()}
    assert set(STAFF_ONLY_FIELDS) <= names
    assert set(PUBLIC_FIELDS) <= names


def test_courthouse_slug_is_unique_and_made_from_the_name():
    first = CourthouseFactory(name="Bronx Hall of Justice", city="Bronx")
    second = CourthouseFactory(name="Bronx Hall of Justice", city="Bronx")
    assert first.slug == "bronx-hall-of-justice"
    assert second.slug != first.slug
    assert Courthouse.objects.filter(slug=first.slug).count() == 1


def test_the_slug_rule_adds_the_city_then_a_number_and_names_only_valid_slugs():
    taken = {"city-court", "city-court-brooklyn"}
    assert free_slug("City Court", "Albany", taken.__contains__) == "city-court-albany"
    assert free_slug("City Court", "Brooklyn", taken.__contains__) == "city-court-brooklyn-2"
    assert free_slug("…", "", taken.__contains__) == "courthouse"
    saved = CourthouseFactory(name="City Court", city="Albany")
    assert saved.slug == free_slug("City Court", "Albany", set().__contains__)
    assert SLUG.fullmatch(saved.slug) and not SLUG.fullmatch("city court")


def test_history_records_who_changed_what(superuser):
    incident = IncidentFactory()
    incident.summary = "Corrected summary."
    incident._history_user = superuser
    incident.save()
    latest, previous = incident.history.all()[:2]
    delta = latest.diff_against(previous)
    assert latest.history_user == superuser
    assert [(c.field, c.old, c.new) for c in delta.changes] == [
        ("summary", "Agents arrested a defendant in the hallway.", "Corrected summary.")
    ]


def test_courthouse_changes_are_recorded():
    courthouse = CourthouseFactory()
    courthouse.address = "1 New Street"
    courthouse.save()
    assert courthouse.history.count() == 2


def test_the_database_refuses_an_incident_without_its_courthouse():
    incident = IncidentFactory()
    missing = Courthouse.objects.order_by("-pk").first().pk + 1000
    with pytest.raises(IntegrityError), transaction.atomic():
        Incident.objects.filter(pk=incident.pk).update(courthouse_id=missing)
    orphan = IncidentFactory.build(courthouse=incident.courthouse, reference="ORPHAN")
    orphan.courthouse_id, orphan.county_id, orphan.state_id = missing, incident.county_id, incident.state_id
    with pytest.raises(IntegrityError), transaction.atomic():
        Incident.objects.bulk_create([orphan])  # no save(): only the database can refuse
    assert not Incident.objects.filter(reference="ORPHAN").exists()
    assert Incident.objects.get(pk=incident.pk).courthouse_id != missing


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite leaves deletion to Django's PROTECT")
def test_the_database_refuses_to_delete_a_courthouse_still_named():
    incident = IncidentFactory()
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM incidents_courthouse WHERE id = %s", [incident.courthouse_id])
    unused = CourthouseFactory()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM incidents_courthouse WHERE id = %s", [unused.pk])
    assert Courthouse.objects.filter(pk=incident.courthouse_id).exists()
    assert not Courthouse.objects.filter(pk=unused.pk).exists()
