"""Generated form data against every staff form and the import: never a 500."""

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from incidents.export import COLUMNS
from incidents.forms import IncidentEditForm
from incidents.models import Incident

from .factories import IncidentFactory

pytestmark = pytest.mark.django_db

# Every field of the incident form (from the form itself), plus those of the other staff forms.
FIELDS = [
    *IncidentEditForm.Meta.fields,
    "version",
    "verification",
    "reason",
    "public_reason",
    "name",
    "address",
    "city",
    "state",
    "county",
    "save_and_add_another",
]
HOSTILE = [
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "\x00",
    "x" * 10_000,
    "0000-00-00",
    "99999-01-01",
    "2017-13-45",
    "-1",
    "1e308",
    "",
    " ",
    "🙂",
    "=SUM(A1)",
    "NY",
    "36047",
    "arrested",
    "2019-05-14",
    "1",
]
values = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=30))
form_data = st.dictionaries(st.sampled_from(FIELDS), values, max_size=12)


def staff_urls(pk):
    return [
        "/incidents/new/",
        f"/incidents/{pk}/edit/",
        f"/incidents/{pk}/verification/",
        f"/incidents/{pk}/retract/",
        f"/incidents/{pk}/restore/",
        "/staff/courthouses/new/",
    ]


def check(response, url):
    assert response.status_code < 500, url
    if response.status_code >= 400:
        assert response.content.strip(), f"{url} answered {response.status_code} without a message"


@pytest.fixture
def incident():
    return IncidentFactory()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(index=st.integers(0, 5), data=form_data)
@example(index=0, data={"courthouse": "\x00"})  # once a 500 on PostgreSQL
@example(index=1, data={"courthouse": "a\x00b", "state": "\x00", "county": "\x00"})
def test_generated_form_data_never_breaks_a_staff_form(staff_client, incident, index, data):
    url = staff_urls(incident.pk)[index]
    check(staff_client.post(url, data), url)


csv_cells = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=20))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.lists(csv_cells, min_size=0, max_size=len(COLUMNS) + 2), max_size=4),
    header=st.booleans(),
    raw=st.binary(max_size=200),
)
def test_generated_files_never_break_the_import(staff_client, rows, header, raw):
    import csv
    import io

    before = Incident.objects.count()
    out = io.StringIO()
    writer = csv.writer(out)
    if header:
        writer.writerow(COLUMNS)
    writer.writerows(rows)
    for content in (out.getvalue().encode("utf-8", "surrogatepass"), raw):
        upload = io.BytesIO(content)
        upload.name = "fuzz.csv"
        response = staff_client.post("/incidents/import/", {"file": upload})
        check(response, "/incidents/import/")
    assert Incident.objects.count() == before  # a preview never writes
