"""Staff import: upload a CSV, preview everything it would do, then confirm.

The file waits between the two steps in a private folder; incidents/imports/ reads,
plans and writes it."""

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
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .. import limits
from ..forms import (
    ImportForm,
)
from ..imports import import_csv
from ..matching import possible_duplicates
from .staff import IMPORT, _posted, staff_only

UPLOAD_SALT = "incidents.import.upload"
UPLOAD_MAX_AGE = 3600  # seconds between the preview and the confirmation
PREVIEW_ROWS = 200


@staff_only(*IMPORT)
def incident_import(request):
    """Upload, then a preview of everything the file would do; nothing is written yet."""
    _expire_uploads()
    form = ImportForm(_posted(request), request.FILES or None)
    if not (form.is_bound and form.is_valid()):
        context = {
            "form": form,
            "max_bytes": settings.IMPORT_MAX_BYTES,
            "max_rows": settings.IMPORT_MAX_ROWS,
            "summary_max_chars": limits.SUMMARY_MAX_CHARS,
            "earliest_date": limits.EARLIEST_DATE,
        }
        return render(request, "incidents/staff/import_upload.html", context)
    upload = form.cleaned_data["file"]
    name, path = _keep_upload(upload)
    with path.open("rb") as kept:
        report = import_csv(kept, user=request.user, dry_run=True)
    token = None
    if not report.error_count and (report.created or report.updated):
        token = signing.dumps({"name": name, "user": request.user.pk}, salt=UPLOAD_SALT)
    else:
        path.unlink(missing_ok=True)
    return _import_page(request, "import_preview.html", report, token=token, name=upload.name)


@staff_only(*IMPORT)
@require_POST
def incident_import_confirm(request):
    """Writes the previewed file, all or nothing, after validating it once more."""
    _expire_uploads()
    name = _upload_name(request.POST.get("token", ""), request.user)
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
            report = import_csv(kept, user=request.user)
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


def _upload_name(token, user):
    try:
        payload = signing.loads(token, salt=UPLOAD_SALT, max_age=UPLOAD_MAX_AGE)
    except signing.BadSignature:
        return None
    name = str(payload.get("name", ""))
    if payload.get("user") != user.pk or not re.fullmatch(r"[0-9a-f]{32}", name):
        return None
    return name


def _claim_upload(name):
    claimed = _upload_path(name, CLAIMED)
    try:
        _upload_path(name).rename(claimed)
    except FileNotFoundError:
        return None  # expired, imported, or being imported
    return claimed
