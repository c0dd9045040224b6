import io

import pytest
from django.core.management import CommandError, call_command

from .export_helpers import content_of, varied_incidents
from .factories import CourthouseFactory, IncidentFactory

pytestmark = pytest.mark.django_db


def command_output(tmp_path, *options):
    path = tmp_path / "out.csv"
    stderr = io.StringIO()
    call_command("export_incidents", *options, "-o", str(path), stderr=stderr)
    return path.read_bytes(), stderr.getvalue()


@pytest.mark.parametrize(
    "options, query",
    [
        ([], ""),
        (["--state", "NY", "--state", "TX"], "state=NY&state=TX"),
        (
            ["--date-after", "2019-05-10", "--date-before", "2019-05-31"],
            "date_after=2019-05-10&date_before=2019-05-31",
        ),
        (
            ["--q", "hallway", "--ordering=-people_count"],
            "q=hallway&ordering=-people_count",
        ),
        (
            ["--outcome", "attempted", "--outcome", "observed", "--county", "48141"],
            "outcome=attempted&outcome=observed&county=48141",
        ),
        (
            ["--verification", "disputed", "--updated-after", "2000-01-01"],
            "verification=disputed&updated_after=2000-01-01",
        ),
        (["--excel"], "excel=1"),
    ],
)
def test_it_writes_the_same_bytes_as_the_web_export(client, tmp_path, options, query):
    varied_incidents()
    IncidentFactory(
        summary='=cmd|"/c calc"!A1\n\r, ünïcode',
        courthouse=CourthouseFactory(name="+ Plus, Court"),
    )
    written, _ = command_output(tmp_path, *options)
    assert written == content_of(client.get(f"/incidents/export.csv?{query}"))
    assert written.count(b"\n") > 1 or query.startswith("outcome")


def test_it_writes_to_standard_output_by_default(client):
    varied_incidents()
    out, err = io.StringIO(), io.StringIO()
    call_command("export_incidents", "--state", "NY", stdout=out, stderr=err)
    assert out.getvalue().encode() == content_of(client.get("/incidents/export.csv?state=NY"))
    assert "Wrote 4 incidents." in err.getvalue()


def test_it_reports_progress_on_stderr(tmp_path):
    varied_incidents()
    written, stderr = command_output(tmp_path)
    assert f"Wrote 9 incidents to {tmp_path / 'out.csv'}." in stderr
    assert b"Wrote" not in written


@pytest.mark.parametrize(
    "options, named",
    [
        (["--state", "ZZ"], "--state"),
        (["--date-after", "14/05/2019"], "--date-after"),
        (["--updated-after", "yesterday"], "--updated-after"),
        (["--case-type", "fraud"], "--case-type"),
        (["--ordering", "summary"], "--ordering"),
    ],
)
def test_a_bad_filter_is_an_error_naming_the_option(tmp_path, options, named):
    path = tmp_path / "out.csv"
    with pytest.raises(CommandError, match=f"^{named}:"):
        call_command("export_incidents", *options, "-o", str(path))
    assert not path.exists()
