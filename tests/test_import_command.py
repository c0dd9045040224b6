"""python manage.py import_incidents FILE [--dry-run]."""

import io
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from incidents.management.commands.import_incidents import Command
from incidents.models import Incident

from .factories import CourthouseFactory
from .test_import import csv_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def brooklyn(db):
    return CourthouseFactory(name="Brooklyn Criminal Court", city="Brooklyn", county_id="36047")


def write(tmp_path, data):
    path = tmp_path / "incidents.csv"
    path.write_bytes(data)
    return str(path)


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_incidents", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_imports_a_file_and_reports_what_it_did(brooklyn, tmp_path, court_admin):
    unverified = {"verification": "unverified"}  # only a reviewer may set it
    path = write(tmp_path, csv_file({**unverified, "reference": "A"}, {**unverified, "reference": "B"}))
    out, err = run(path, "--user", court_admin.username)
    assert out.startswith("Imported 2 rows: 2 create, 0 update, 0 unchanged, 0 courthouses create")
    assert re.search(r"creat(ing|ed) 2 incidents", err)  # progress goes to stderr
    assert Incident.objects.count() == 2
    assert Incident.history.filter(history_user=court_admin).count() == 2


def test_a_dry_run_reports_and_writes_nothing(brooklyn, tmp_path):
    path = write(
        tmp_path,
        csv_file(
            {"reference": "A"},
            {"courthouse": "New Court", "courthouse_city": "Albany", "county_fips": "36001"},
        ),
    )
    out, _ = run(path, "--dry-run", "--create-courthouses")
    assert out.startswith(
        "Dry run, nothing written: 2 rows: 2 to create, 0 to update, 0 unchanged, 1 courthouses to create"
    )
    assert not Incident.objects.exists()


def test_errors_go_to_stderr_and_nothing_is_written(brooklyn, tmp_path):
    path = write(tmp_path, csv_file({"reference": "A"}, {"reference": "B", "people_count": "-2"}))
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 errors in .*; nothing was imported"):
        call_command("import_incidents", path, stderr=err)
    assert "line 3, column people_count: '-2' is not a whole number of 0 or more" in err.getvalue()
    assert not Incident.objects.exists()


def test_the_exit_status_is_not_zero_on_any_error(brooklyn, tmp_path, capsys):
    path = write(tmp_path, csv_file({"outcome": "gone"}))
    with pytest.raises(SystemExit) as exit_:
        Command().run_from_argv(["manage.py", "import_incidents", path])
    assert exit_.value.code != 0
    assert "line 2, column outcome" in capsys.readouterr().err


def test_a_dry_run_with_errors_also_fails(brooklyn, tmp_path):
    path = write(tmp_path, b"not,a,header\r\n1,2,3\r\n")
    with pytest.raises(CommandError):
        run(path, "--dry-run")


def test_a_missing_file_is_a_clear_error(db, tmp_path):
    with pytest.raises(CommandError, match="cannot read .*nope.csv: No such file or directory"):
        run(str(tmp_path / "nope.csv"))


def test_a_file_over_the_size_limit_is_refused_before_reading(brooklyn, tmp_path, settings):
    settings.IMPORT_MAX_BYTES = 10
    path = write(tmp_path, csv_file({}))
    with pytest.raises(CommandError, match=r"over the limit of 10 bytes \(IMPORT_MAX_BYTES\)"):
        run(path)


def test_an_unknown_user_is_refused(brooklyn, tmp_path):
    path = write(tmp_path, csv_file({}))
    with pytest.raises(CommandError, match="no user named 'ghost'"):
        run(path, "--user", "ghost")
    assert not Incident.objects.exists()
