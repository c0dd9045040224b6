"""Numbered data releases (/data/releases/) and the live data package (/data/datapackage.json).

Read-only: the files are written by `manage.py publish_release` (releases.py) and served
as they are. A number that is not a release's, or a file that is not one of a release's
three, is a 404.
"""

from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from .. import releases
from ..http import any_site, public_data


@require_safe
@public_data(cors=True)
def datapackage_json(request):
    return JsonResponse(releases.live_package(request), json_dumps_params={"indent": 2})


@require_safe
def release_list(request):
    found = [_described(request, release) for release in releases.releases()]
    return render(request, "incidents/release_list.html", {"releases": found})


@require_safe
def release_detail(request, number):
    release = _release(number)
    return render(request, "incidents/release_detail.html", {"release": _described(request, release)})


@require_safe
@any_site
def release_file(request, number, filename):
    release = _release(number)
    if filename not in releases.FILES:
        raise Http404("A release holds incidents.csv, datapackage.json and SHA256SUMS.")
    response = FileResponse(open(release.folder / filename, "rb"), content_type=releases.FILES[filename])
    if filename == releases.DATA_FILE:
        response["Content-Disposition"] = f'attachment; filename="incidents-{release.number}.csv"'
    # A release never changes: caches may keep it for a year.
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


def _release(number):
    release = releases.find(number)
    if release is None:
        raise Http404("No release of that number.")
    return release


def _described(request, release):
    url = request.build_absolute_uri(reverse("release_detail", args=[release.number]))
    return {"release": release, "url": url, "citation": release.citation(url)}
