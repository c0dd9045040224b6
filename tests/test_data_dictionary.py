import html
import re

import pytest

from incidents import choices, dictionary, export
from incidents.models import CHOICE_FIELDS, STAFF_ONLY_FIELDS

pytestmark = pytest.mark.django_db


@pytest.fixture
def page(client):
    response = client.get("/data/")
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def column_rows(page):
    """{column: the HTML of its row}, in page order."""
    return dict(re.findall(r'<tr id="column-([a-z_]+)">(.*?)</tr>', page, re.DOTALL))


def test_it_lists_every_export_column_in_file_order(page):
    assert list(column_rows(page)) == list(export.COLUMNS)


def test_it_lists_every_choice_value_and_label_of_every_choice_column(page):
    rows = column_rows(page)
    checked = 0
    for column, field in export.column_fields().items():
        for value, label in field.choices or []:
            assert f"<code>{value}</code>: {label}" in rows[column]
            checked += 1
    assert checked > 40


def test_it_covers_every_public_choice_class(page):
    for field, klass in CHOICE_FIELDS.items():
        if field == "status":  # retracted rows are never exported
            continue
        if field == "summary_language":  # not a column: pages mark each summary with lang= instead
            assert field not in export.COLUMNS
            continue
        for value, label in klass.choices:
            assert f"<code>{value}</code>: {label}" in column_rows(page)[field]


def test_it_shows_each_columns_type_and_meaning_from_the_model(page):
    rows = column_rows(page)
    assert "timestamp in UTC" in rows["created_at"]
    assert "date (YYYY-MM-DD)" in rows["date"]
    assert "Outside: on the steps or within a few blocks." in rows["location"]  # the field's help_text
    assert "People taken into custody" in rows["people_count"]  # its verbose_name
    assert "FIPS code of the county" in rows["county_fips"]


@pytest.mark.parametrize(
    "klass, meanings",
    [
        (choices.Outcome, dictionary.OUTCOME_MEANINGS),
        (choices.Verification, dictionary.VERIFICATION_MEANINGS),
        (choices.DatePrecision, dictionary.DATE_PRECISION_MEANINGS),
    ],
)
def test_every_value_has_its_meaning_on_the_page(page, klass, meanings):
    assert set(meanings) == set(klass.values)  # a new choice without an explanation fails here
    for value in klass.values:
        assert f"<dt><code>{value}</code>" in page
        assert str(meanings[value]) in page


def test_notes_only_name_real_columns():
    assert set(dictionary.NOTES) <= set(export.COLUMNS)


def test_it_explains_the_methodology(page):
    for heading in (
        "What counts as an incident",
        "Outcomes",
        "Verification",
        "Date precision",
        "Sources",
        "How to cite",
        "A filtered export is not the full data set",
    ):
        assert heading in page
    for value in choices.SourceType.values:
        assert f"<code>{value}</code>" in page


def test_it_shows_how_to_cite_with_the_time_the_data_is_as_of(page):
    from incidents.cache import data_state

    as_of = f"{data_state().changed_at:%Y-%m-%d %H:%M}"
    assert (
        f"Courthouse ICE Arrest Tracker, incident data, http://testserver/incidents/export.csv, "
        f"data as of {as_of} UTC." in page
    )


def test_it_lists_the_filter_parameters_and_api_dimensions(page):
    for name in (
        "date_after",
        "state",
        "county",
        "courthouse",
        "q",
        "updated_after",
        "ordering",
    ):
        assert f"<code>{name}</code>" in page
    for by in ("month", "county", "courthouse", "person_role"):
        assert f"<code>{by}</code>" in page


def test_it_never_mentions_staff_only_fields(page):
    for name in STAFF_ONLY_FIELDS:
        assert name not in page


def test_it_renders_in_three_queries(client, django_assert_num_queries):
    client.get("/data/")  # the first read of the data version creates its row
    # The data version, the demo banner's check, and the coverage dates; the columns need none.
    with django_assert_num_queries(3):
        assert client.get("/data/").status_code == 200
