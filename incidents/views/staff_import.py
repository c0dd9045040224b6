"""Staff import: upload a CSV, preview everything it would do, then confirm.

The file waits between the two steps in a private folder; services.import_incidents
reads, plans and writes it. A file whose only errors are courthouses that match
none can be checked again from the preview with "create these courthouses" ticked.
"""

import os
import re
import secrets
import stat
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .. import export, limits, services
from ..forms import ImportForm
from ..imports import IGNORED_COLUMNS, IMPORT_COLUMNS, REQUIRED_COLUMNS
from ..matching import possible_duplicates
from .staff import IMPORT, _posted, staff_only

UPLOAD_SALT = "incidents.import.upload"
UPLOAD_MAX_AGE = 3600  # seconds between the preview and the confirmation
PREVIEW_ROWS = 200


@staff_only(*IMPORT)
def incident_import(request):
    """Upload, then a preview of everything the file would do; nothing is written yet."""
    _expire_uploads()
    if request.method == "GET" and request.GET.get("template") == "csv":
        return _template_csv()
    if request.method == "POST" and "token" in request.POST:
        return _check_again(request)
    form = ImportForm(_posted(request), request.FILES or None)
    if not (form.is_bound and form.is_valid()):
        return render(request, "incidents/staff/import_upload.html", _upload_context(form))
    upload = form.cleaned_data["file"]
    name, path = _keep_upload(upload)
    return _preview(request, name, path, upload.name, create=False)


def _check_again(request):
    """The preview of a kept upload again, with or without "create these courthouses" ticked."""
    name = _upload_name(request.POST.get("token", ""), request.user)
    path = _upload_path(name) if name else None
    if path is None or not path.exists():
        messages.error(request, _("This upload has expired or is not yours; upload the file again."))
        return redirect("incident_import")
    create = request.POST.get("create_courthouses") == "on"
    return _preview(request, name, path, request.POST.get("name", "")[:200], create=create)


def _preview(request, name, path, filename, create):
    """A dry run of the kept file; it stays kept when there is something to confirm or to tick."""
    with path.open("rb") as kept:
        report = services.import_incidents(kept, user=request.user, dry_run=True, create_courthouses=create)
    token = None
    if report.creatable_courthouses or (not report.error_count and (report.created or report.updated)):
        payload = {"name": name, "user": request.user.pk, "create": create}
        token = signing.dumps(payload, salt=UPLOAD_SALT)
    else:
        path.unlink(missing_ok=True)
    return _import_page(request, "import_preview.html", report, token=token, name=filename)


def _upload_context(form):
    return {
        "form": form,
        "max_bytes": settings.IMPORT_MAX_BYTES,
        "max_rows": settings.IMPORT_MAX_ROWS,
        "summary_max_chars": limits.SUMMARY_MAX_CHARS,
        "earliest_date": limits.EARLIEST_DATE,
        "required_columns": REQUIRED_COLUMNS,
        "ignored_columns": IGNORED_COLUMNS,
    }


def _template_csv():
    """The header of every column an import reads, and nothing else: a file to fill in."""
    columns = [name for name in IMPORT_COLUMNS if name not in IGNORED_COLUMNS]
    response = HttpResponse(export.csv_bytes([columns]), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="incidents-import-template.csv"'
    return response


@staff_only(*IMPORT)
@require_POST
def incident_import_confirm(request):
    """Writes the previewed file, all or nothing, after validating it once more."""
    _expire_uploads()
    name, create = _upload_name(request.POST.get("token", ""), request.user, with_create=True)
    path = _claim_upload(name) if name else None
    if path is None:
        if name and _upload_path(name, CLAIMED).exists():
            messages.error(
                request, _("This file is being imported by another request; see the incident list.")
            )
        else:
            messages.error(
                request,
                _("This upload has expired, was imported already, or is not yours; upload the file again."),
            )
        return redirect("incident_import")
    try:
        with path.open("rb") as kept:
            report = services.import_incidents(kept, user=request.user, create_courthouses=create)
    finally:
        path.unlink(missing_ok=True)
    if not report.written:
        return _import_page(request, "import_preview.html", report, status=400)
    return _import_page(request, "import_result.html", report)


def _import_page(request, template, report, status=200, **extra):
    context = {"report": report, "preview_rows": PREVIEW_ROWS, "create_rows": _flagged(report), **extra}
    return render(request, f"incidents/staff/{template}", context, status=status)


def _flagged(report):
    """[(row, possible duplicates)] of the rows to create that the preview lists."""
    if report.written:
        return [(row, []) for row in report.creates]
    found = possible_duplicates((row.courthouse_id, row.date) for row in report.creates)
    return [(row, found.get((row.courthouse_id, row.date), [])) for row in report.creates]


# An upload waits between preview and confirmation in a folder only the app can
# read, named by a random token that only a signed value from our own confirmation
# form can name. A confirmation first renames it (atomically) to claim it, so two
# confirmations of one file cannot both import it.
KEPT, CLAIMED = ".csv", ".importing"


def _upload_dir():
    folder = Path(
        getattr(settings, "IMPORT_UPLOAD_DIR", "") or Path(tempfile.gettempdir()) / "tracker-imports"
    )
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    status = folder.lstat()
    if stat.S_ISLNK(status.st_mode) or status.st_uid != os.getuid():
        raise ImproperlyConfigured(f"{folder} (IMPORT_UPLOAD_DIR) must be a folder owned by the app's user")
    if status.st_mode & 0o077:
        folder.chmod(0o700)  # made by an earlier version, or by hand
    return folder


def _expire_uploads():
    """Removes uploads older than UPLOAD_MAX_AGE, whose tokens are refused anyway.

    Run by every visit of the import pages, so no file outlives the next import by
    anyone; a site that imports rarely may also run `find FOLDER -mmin +60 -delete`.
    """
    for old in _upload_dir().iterdir():
        try:
            stale = old.stat().st_mtime < time.time() - UPLOAD_MAX_AGE
        except FileNotFoundError:
            continue  # claimed (renamed) by a confirmation running at the same time
        if stale:
            old.unlink(missing_ok=True)


def _upload_path(name, suffix=KEPT):
    return _upload_dir() / f"{name}{suffix}"


def _keep_upload(upload):
    """(name, path) of a private copy of the upload, written in chunks."""
    name = secrets.token_hex(16)
    path = _upload_path(name)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as kept:
        for chunk in upload.chunks():
            kept.write(chunk)
    return name, path


def _upload_name(token, user, with_create=False):
    """The kept upload's name that a signed token gives this user (None if none), and with
    with_create, whether the preview it came from had "create these courthouses" ticked."""
    try:
        payload = signing.loads(token, salt=UPLOAD_SALT, max_age=UPLOAD_MAX_AGE)
    except signing.BadSignature:
        payload = {}
    name = str(payload.get("name", ""))
    if payload.get("user") != user.pk or not re.fullmatch(r"[0-9a-f]{32}", name):
        name = None
    return (name, payload.get("create") is True) if with_create else name


def _claim_upload(name):
    claimed = _upload_path(name, CLAIMED)
    try:
        _upload_path(name).rename(claimed)
    except FileNotFoundError:
        return None  # expired, imported, or being imported
    return claimed
