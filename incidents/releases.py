"""Numbered, immutable releases of the public data, and the data package that describes them.

A release is a folder under settings.RELEASES_DIR named by its number (2026.11.1: year,
month, then 1, 2, ... within the month) holding the full public CSV export (the bytes
/incidents/export.csv serves), its `datapackage.json` (Frictionless Data Package with a
Table Schema) and `SHA256SUMS`. It is written to a hidden folder and renamed into place
when complete, its files made read-only; a number once used is never written again.

The Table Schema is built from the same definitions as the data dictionary (/data/):
column types from export.py, allowed values from the model's choices, descriptions from
dictionary.py, so the three cannot drift apart.
"""

import csv
import datetime
import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from . import dictionary, export
from .charts import SITE
from .dateformats import short_date
from .filters import filter_incidents
from .http import as_of

NUMBER = re.compile(r"([0-9]{4})\.([0-9]{1,2})\.([0-9]{1,4})")
DATA_FILE, PACKAGE_FILE, SUMS_FILE = "incidents.csv", "datapackage.json", "SHA256SUMS"
FILES = {DATA_FILE: "text/csv; charset=utf-8", PACKAGE_FILE: "application/json", SUMS_FILE: "text/plain"}

# export kind -> Table Schema type
TYPES = {
    "integer": "integer",
    "date": "date",
    "timestamp": "datetime",
    "choice": "string",
    "code": "string",
    "text": "string",
    "url": "string",
}
# Codes kept as text: a FIPS code read as a number would lose its leading zero (06037).
PATTERNS = {"county_fips": "[0-9]{5}", "state": "[A-Z]{2}"}
LICENSES = {
    "CC-BY-4.0": ("Creative Commons Attribution 4.0", "https://creativecommons.org/licenses/by/4.0/"),
    "CC0-1.0": ("Creative Commons Zero 1.0", "https://creativecommons.org/publicdomain/zero/1.0/"),
    "ODbL-1.0": (
        "Open Data Commons Open Database License 1.0",
        "https://opendatacommons.org/licenses/odbl/1-0/",
    ),
}


class ReleaseError(Exception):
    """A release that cannot be written; its message is one line for the command to print."""


# -- the data package -------------------------------------------------------------


def table_schema():
    """The export's columns as a Frictionless Table Schema, in English."""
    with translation.override("en"):
        fields = [
            _schema_field(column, kind, model_field)
            for column, kind, model_field in zip(
                dictionary.columns(), export.column_kinds(), export.column_fields().values()
            )
        ]
    return {"fields": fields, "missingValues": [""], "primaryKey": ["id"]}


def _schema_field(column, kind, model_field):
    field = {
        "name": column["name"],
        "title": str(column["title"]),
        "type": TYPES[kind],
        "description": str(column["help"] or column["title"]),
    }
    if kind == "timestamp":
        field["format"] = "%Y-%m-%dT%H:%M:%SZ"
    constraints = {}
    if not (model_field.null or model_field.blank):
        constraints["required"] = True
    if column["values"]:
        constraints["enum"] = [str(value["value"]) for value in column["values"]]
    if column["name"] in PATTERNS:
        constraints["pattern"] = PATTERNS[column["name"]]
    if constraints:
        field["constraints"] = constraints
    return field


def _license():
    if settings.DATA_LICENSE not in LICENSES:
        raise ImproperlyConfigured(f"DATA_LICENSE must be one of {', '.join(LICENSES)}.")
    title, path = LICENSES[settings.DATA_LICENSE]
    return {"name": settings.DATA_LICENSE, "title": title, "path": path}


def package(resource, *, home, citation, **extra):
    """The datapackage.json of one CSV resource (a release's file, or the live export)."""
    return {
        "profile": "tabular-data-package",
        "name": "courthouse-ice-arrests",
        "title": f"{SITE}: incidents",
        "description": (
            "Arrests, attempted arrests and sightings of immigration agents in and around US "
            "courthouses, as reported to the tracker. Text cells that a spreadsheet would read as "
            "a formula (starting with = + - @) are written with a leading apostrophe; see "
            f"{home}data/ for every column and value."
        ),
        "homepage": home,
        **extra,
        "licenses": [_license()],
        "sources": [
            {"title": str(SITE), "path": home},
            {
                "title": "Reports from attorneys, court records, news and community reports: "
                "each incident's source_type and source_url"
            },
        ],
        "citation": citation,
        "resources": [
            {
                "name": "incidents",
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "dialect": {"delimiter": ",", "quoteChar": '"', "doubleQuote": True, "header": True},
                "schema": table_schema(),
                **resource,
            }
        ],
    }


def live_package(request):
    """/data/datapackage.json: the live export, which changes with every write."""
    home = request.build_absolute_uri(reverse("dashboard"))
    export_url = request.build_absolute_uri(reverse("export_csv"))
    moment = f"{as_of(request):%Y-%m-%d %H:%M}"
    citation = f"{SITE}, incident data, {export_url}, data as of {moment} UTC."
    return package({"path": export_url}, home=home, citation=citation)


# -- releases on disk -----------------------------------------------------------------


@dataclass
class Release:
    number: str
    created: datetime.datetime
    incidents: int
    sha256: str
    bytes: int
    folder: Path

    def citation(self, url):
        with translation.override("en"):
            return citation_text(self.number, self.created, self.incidents, url)


def citation_text(number, created, incidents, url):
    """Courthouse ICE Arrest Tracker, release 2026.11.1 (30 Nov 2026), 1,502 incidents, URL"""
    return _("%(site)s, release %(number)s (%(date)s), %(count)s incidents, %(url)s") % {
        "site": SITE,
        "number": number,
        "date": short_date(created),
        "count": number_format(incidents, force_grouping=True),
        "url": url,
    }


def sort_key(number):
    return tuple(int(part) for part in NUMBER.fullmatch(number).groups())


def releases(root=None):
    """Every complete release, newest first; none when the folder does not exist."""
    root = Path(root or settings.RELEASES_DIR)
    try:
        names = [entry.name for entry in root.iterdir() if NUMBER.fullmatch(entry.name)]
    except OSError:
        return []
    found = [find(name, root) for name in names]
    return sorted((r for r in found if r), key=lambda r: sort_key(r.number), reverse=True)


def find(number, root=None):
    """The release of this number, or None (also for any text that is not a number)."""
    if not NUMBER.fullmatch(number):
        return None
    folder = Path(root or settings.RELEASES_DIR) / number
    try:
        described = json.loads((folder / PACKAGE_FILE).read_text(encoding="utf-8"))
        resource = described["resources"][0]
        return Release(
            number=number,
            created=datetime.datetime.fromisoformat(described["created"]),
            incidents=described["incidents"],
            sha256=resource["hash"].removeprefix("sha256:"),
            bytes=resource["bytes"],
            folder=folder,
        )
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None


def next_number(root, today):
    """year.month.n, n one more than the month's last release (folders being written count too)."""
    prefix = f"{today.year}.{today.month}."
    taken = [
        int(m.group(3))
        for entry in root.iterdir()
        if (m := NUMBER.search(entry.name)) and entry.name.lstrip(".").startswith(prefix)
    ]
    return f"{prefix}{max(taken, default=0) + 1}"


def check_folder(root):
    if not root.exists():
        raise ReleaseError(f"The releases folder {root} does not exist (RELEASES_DIR); create it first.")
    if not root.is_dir():
        raise ReleaseError(f"The releases folder {root} is not a folder (RELEASES_DIR).")
    if not os.access(root, os.W_OK | os.X_OK):
        raise ReleaseError(f"The releases folder {root} is not writable by this user (RELEASES_DIR).")


def publish(*, root=None, number=None, home, now=None):
    """Writes the release `number` (default: the next of this month) and returns it."""
    root, now = Path(root or settings.RELEASES_DIR), now or timezone.now()
    check_folder(root)
    number = number or next_number(root, now.date())
    if not NUMBER.fullmatch(number):
        raise ReleaseError(f"{number!r} is not a release number like {now.year}.{now.month}.1.")
    if (root / number).exists():
        raise ReleaseError(f"Release {number} already exists in {root}; a release is never overwritten.")
    try:
        temporary = Path(tempfile.mkdtemp(prefix=f".{number}-", dir=root))
    except OSError as error:
        raise ReleaseError(f"Cannot write in the releases folder {root}: {error.strerror}.") from error
    try:
        _write(temporary, number, home, now)
        _move_into_place(temporary, root / number)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    return find(number, root)


def _write(folder, number, home, now):
    digest, size = _write_csv(folder / DATA_FILE)
    incidents = _count_rows(folder / DATA_FILE)
    with translation.override("en"):
        described = package(
            {"path": DATA_FILE, "hash": f"sha256:{digest}", "bytes": size},
            home=home,
            citation=citation_text(number, now, incidents, f"{home}data/releases/{number}/"),
            version=number,
            created=now.astimezone(datetime.UTC).isoformat(timespec="seconds"),
            incidents=incidents,
        )
    (folder / PACKAGE_FILE).write_text(json.dumps(described, indent=2, ensure_ascii=False) + "\n", "utf-8")
    sums = [f"{_sha256(folder / name)}  {name}" for name in (DATA_FILE, PACKAGE_FILE)]
    (folder / SUMS_FILE).write_text("\n".join(sums) + "\n", encoding="utf-8")
    for name in FILES:
        (folder / name).chmod(0o444)


def _write_csv(path):
    """The full public export, as /incidents/export.csv serves it; returns (sha256, bytes)."""
    digest, size = hashlib.sha256(), 0
    with open(path, "wb") as out:
        for chunk in export.csv_chunks(filter_incidents(QueryDict()).incidents):
            out.write(chunk)
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _count_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return sum(1 for _ in csv.reader(f)) - 1


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _move_into_place(temporary, final):
    # rename() is atomic: readers see no release or a whole one. It would replace an
    # empty folder of that name, so the check above comes first.
    try:
        os.rename(temporary, final)
    except OSError as error:
        raise ReleaseError(f"Release {final.name} already exists; a release is never overwritten.") from error
    final.chmod(0o555)
