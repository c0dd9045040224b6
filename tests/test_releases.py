"""Numbered data releases (publish_release, /data/releases/) and the data package."""

import datetime
import hashlib
import json
import os
from io import StringIO

import frictionless
import pandas
import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from incidents import choices, dictionary, releases

from .factories import CourthouseFactory, IncidentFactory

pytestmark = pytest.mark.django_db
SITE = "https://tracker.example.org/"


@pytest.fixture
def folder(tmp_path, settings):
    settings.RELEASES_DIR = tmp_path / "releases"
    settings.RELEASES_DIR.mkdir()
    return settings.RELEASES_DIR


@pytest.fixture
def incidents():
    los_angeles = CourthouseFactory(california=True, name='Stanley Mosk "Central"')
    return [
        IncidentFactory(courthouse=los_angeles, summary="=SUM(A1)\nsecond line, with a comma"),
        IncidentFactory(month_only=True, source_url="https://example.org/report?a=1&b=2"),
        IncidentFactory(outcome=choices.Outcome.UNKNOWN, people_count=3, summary=""),
        IncidentFactory(attempted=True),
        IncidentFactory(retracted=True),  # never in a release
    ]


def publish(**options):
    out = StringIO()
    call_command("publish_release", site_url=SITE, stdout=out, **options)
    return out.getvalue()


def this_month(n):
    today = timezone.now().date()
    return f"{today.year}.{today.month}.{n}"


def export_bytes(client):
    return b"".join(client.get("/incidents/export.csv").streaming_content)


def test_it_writes_the_sites_full_export_with_its_checksum_and_package(client, folder, incidents):
    output = publish()
    number = this_month(1)
    release = folder / number
    data = (release / "incidents.csv").read_bytes()
    assert data == export_bytes(client)
    digest = hashlib.sha256(data).hexdigest()
    assert f"Published release {number}" in output and digest in output
    sums = (release / "SHA256SUMS").read_text().splitlines()
    assert sums[0] == f"{digest}  incidents.csv"
    package = json.loads((release / "datapackage.json").read_text())
    assert (
        sums[1]
        == f"{hashlib.sha256((release / 'datapackage.json').read_bytes()).hexdigest()}  datapackage.json"
    )
    resource = package["resources"][0]
    assert (resource["path"], resource["hash"], resource["bytes"]) == (
        "incidents.csv",
        f"sha256:{digest}",
        len(data),
    )
    assert (package["version"], package["incidents"]) == (number, 4)
    assert package["licenses"][0]["name"] == "CC-BY-4.0" and package["sources"]
    assert package["citation"].startswith(f"Courthouse ICE Arrest Tracker, release {number} (")
    assert package["citation"].endswith(f"), 4 incidents, {SITE}data/releases/{number}/")
    assert not os.access(release / "incidents.csv", os.W_OK) or os.geteuid() == 0
    assert oct((release / "incidents.csv").stat().st_mode & 0o777) == "0o444"


def test_the_package_is_valid_for_frictionless_and_the_csv_meets_its_schema(folder, incidents):
    publish()
    report = frictionless.validate(str(folder / this_month(1) / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])


def test_a_broken_row_fails_the_frictionless_check(folder, incidents):
    # The check can fail: a county code that lost its leading zero breaks the schema's pattern.
    publish()
    release = folder / this_month(1)
    broken = folder / "broken"
    broken.mkdir()
    (broken / "incidents.csv").write_text(
        (release / "incidents.csv").read_text().replace(",06037,", ",6037,")
    )
    package = json.loads((release / "datapackage.json").read_text())
    for key in ("hash", "bytes"):
        package["resources"][0].pop(key)
    (broken / "datapackage.json").write_text(json.dumps(package))
    report = frictionless.validate(str(broken / "datapackage.json"))
    assert not report.valid
    assert ["constraint-error", "county_fips"] in report.flatten(["type", "fieldName"])


def pandas_types(schema):
    """pandas dtypes for a Table Schema, as a reader told the types would use."""
    kinds = {"string": "string", "integer": "Int64"}
    dtypes = {f["name"]: kinds[f["type"]] for f in schema["fields"] if f["type"] in kinds}
    dates = [f["name"] for f in schema["fields"] if f["type"] in ("date", "datetime")]
    return dtypes, dates


def test_pandas_told_the_schemas_types_keeps_the_leading_zero_of_county_fips(folder, incidents):
    publish()
    release = folder / this_month(1)
    schema = json.loads((release / "datapackage.json").read_text())["resources"][0]["schema"]
    dtypes, dates = pandas_types(schema)
    frame = pandas.read_csv(release / "incidents.csv", dtype=dtypes, parse_dates=dates, keep_default_na=False)
    los_angeles = frame[frame["id"] == incidents[0].pk].iloc[0]
    assert los_angeles["county_fips"] == "06037"
    assert los_angeles["summary"] == "'=SUM(A1)\nsecond line, with a comma"
    assert frame["people_count"].sum() == 1 + 1 + 3 + 0
    assert frame["date"].dt.year.min() == 2019
    # without the schema, pandas would read the code as a number
    assert pandas.read_csv(release / "incidents.csv")["county_fips"].min() == 6037


def test_the_schema_comes_from_the_models_choices_and_the_data_dictionary(client):
    package = client.get("/data/datapackage.json").json()
    fields = {f["name"]: f for f in package["resources"][0]["schema"]["fields"]}
    assert list(fields) == [column["name"] for column in dictionary.columns()]
    assert fields["outcome"]["constraints"]["enum"] == choices.Outcome.values
    assert fields["court_type"]["constraints"]["enum"] == choices.CourtType.values
    assert fields["county_fips"]["type"] == "string"
    assert fields["county_fips"]["constraints"]["pattern"] == "[0-9]{5}"
    assert (fields["people_count"]["type"], fields["date"]["type"], fields["updated_at"]["type"]) == (
        "integer",
        "date",
        "datetime",
    )
    for column in dictionary.columns():
        assert fields[column["name"]]["description"] == (column["help"] or str(column["title"]))
    assert package["resources"][0]["path"] == "http://testserver/incidents/export.csv"
    assert "hash" not in package["resources"][0]  # the live export changes with every write
    assert package["licenses"] and package["sources"] and "data as of" in package["citation"]


def test_the_live_package_validates_the_live_export(client, tmp_path, incidents):
    (tmp_path / "incidents.csv").write_bytes(export_bytes(client))
    package = client.get("/data/datapackage.json").json()
    package["resources"][0]["path"] = "incidents.csv"
    (tmp_path / "datapackage.json").write_text(json.dumps(package))
    assert frictionless.validate(str(tmp_path / "datapackage.json")).valid


def test_numbers_count_up_within_the_month_and_a_release_is_never_overwritten(folder, incidents):
    publish()
    publish()
    assert sorted(p.name for p in folder.iterdir()) == [this_month(1), this_month(2)]
    before = (folder / this_month(1) / "incidents.csv").read_bytes()
    IncidentFactory()
    with pytest.raises(CommandError, match=f"Release {this_month(1)} already exists"):
        publish(number=this_month(1))
    assert (folder / this_month(1) / "incidents.csv").read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == [this_month(1), this_month(2)]  # nothing left over
    with pytest.raises(CommandError, match="is not a release number"):
        publish(number="../../etc")


def test_a_missing_or_unusable_folder_is_one_clear_line(settings, tmp_path, db):
    settings.RELEASES_DIR = tmp_path / "nowhere"
    with pytest.raises(CommandError) as missing:
        publish()
    assert "does not exist" in str(missing.value) and "\n" not in str(missing.value)
    settings.RELEASES_DIR = tmp_path / "a-file"
    settings.RELEASES_DIR.write_text("")
    with pytest.raises(CommandError, match="is not a folder"):
        publish()
    with pytest.raises(CommandError, match="SITE_URL"):
        call_command("publish_release", site_url="", stdout=StringIO())


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes in any folder")
def test_a_folder_it_cannot_write_is_one_clear_line(folder, db):
    folder.chmod(0o555)
    try:
        with pytest.raises(CommandError, match="is not writable"):
            publish()
    finally:
        folder.chmod(0o755)


def test_the_list_gives_a_ready_to_paste_citation_for_each_release(client, folder, incidents):
    publish()
    publish()
    page = client.get("/data/releases/").content.decode()
    today = timezone.now().date()
    day = f"{today.day} {today:%b} {today.year}"
    for n in (1, 2):
        number = this_month(n)
        citation = (
            f"Courthouse ICE Arrest Tracker, release {number} ({day}), 4 incidents, "
            f"http://testserver/data/releases/{number}/"
        )
        assert citation in page
    assert page.index(this_month(2)) < page.index(this_month(1))  # newest first


def test_each_release_is_served_read_only(client, folder, incidents):
    publish()
    number = this_month(1)
    page = client.get(f"/data/releases/{number}/")
    assert page.status_code == 200
    release = folder / number
    assert releases.find(number).sha256 in page.content.decode()
    for name in ("incidents.csv", "datapackage.json", "SHA256SUMS"):
        response = client.get(f"/data/releases/{number}/{name}")
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == (release / name).read_bytes()
        assert "immutable" in response["Cache-Control"]
        assert response["Access-Control-Allow-Origin"] == "*"  # for other sites' scripts
    assert client.post(f"/data/releases/{number}/incidents.csv").status_code == 405
    assert client.delete(f"/data/releases/{number}/").status_code == 405


@pytest.mark.parametrize(
    "path",
    [
        "2026.13",
        "9999.1.1",
        "..",
        "2026.11.1%00",
        "%E2%80%AE2026.11.1",
        "1" * 5000,
        "2026.11.1/passwd",
        "2026.11.1/..%2F..%2Fsettings.py",
        "2026.11.1/.",
    ],
)
def test_a_bad_release_number_or_file_is_a_404(client, folder, incidents, path):
    publish(number="2026.11.1")
    assert client.get(f"/data/releases/{path}/").status_code == 404
    assert client.get(f"/data/releases/{path}", follow=True).status_code == 404


def test_without_a_releases_folder_the_list_says_so(client, settings, tmp_path):
    settings.RELEASES_DIR = tmp_path / "nowhere"
    response = client.get("/data/releases/")
    assert response.status_code == 200
    assert "No release has been published yet." in response.content.decode()


def test_a_half_written_release_is_not_listed(client, folder, incidents):
    (folder / f".{this_month(1)}-abc").mkdir()
    (folder / "2026.1.1").mkdir()  # no datapackage.json: not a release
    assert releases.releases() == []
    publish()
    assert [r.number for r in releases.releases()] == [this_month(2)]
    assert isinstance(releases.releases()[0].created, datetime.datetime)
