"""Staff-only values and staff names never reach a public page, export or API.

Markers are planted in staff-only fields, in retracted and draft incidents and their
sources, and in public reports (new, in review, rejected, accepted) and their
contact details; then every public address is read, and every on-site link found
in the answers is followed, and none may show a marker.
"""

import datetime
import re
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from incidents import charts, services
from incidents.models import Report, Source

from .factories import IncidentFactory

pytestmark = pytest.mark.django_db

SENTINELS = {
    "internal_notes": "SENTINEL-internal-notes-7f3a",
    "docket_number": "SENTINEL-docket-91b2",
    "reporter_contact": "SENTINEL-contact-c44e@example.org",
}
STAFF_NAME = "sentinel-staff-user-5d1e"
RETRACTED_SUMMARY = "SENTINEL-retracted-summary-0a9c"
RETRACTION_REASON = "SENTINEL-retraction-reason-66f0"
# What public reports hold before a reviewer accepts them, and what stays staff-only after.
REPORT_SENTINELS = {
    "description": "SENTINEL-report-description-2b7d",
    "courthouse_text": "SENTINEL-report-courthouse-91aa",
    "source_url": "https://sentinel-report-source-5e0c.example/",
    "contact": "SENTINEL-report-contact-77d1@example.org",
}
REJECTION_REASON = "SENTINEL-rejection-reason-3f3f"
RETRACTED_SOURCE = "SENTINEL-retracted-source-note-a1b2"
DRAFT_SUMMARY = "SENTINEL-draft-summary-4c4c"
DRAFT_SOURCE = "SENTINEL-draft-source-note-8e8e"
ALL_SENTINELS = [
    *SENTINELS.values(),
    STAFF_NAME,
    RETRACTED_SUMMARY,
    RETRACTION_REASON,
    *REPORT_SENTINELS.values(),
    REJECTION_REASON,
    RETRACTED_SOURCE,
    DRAFT_SUMMARY,
    DRAFT_SOURCE,
]
STATS = ["month", "county", "state", "courthouse", "case_type", "outcome", "person_role", "location"]


@pytest.fixture
def incidents():
    staff = User.objects.create_user(STAFF_NAME, password="pw-staff-123")
    public = IncidentFactory(**{k: v + "-v1" for k, v in SENTINELS.items()}, created_by=staff)
    # A correction touching public and staff-only fields, so history holds sentinels.
    for field, value in SENTINELS.items():
        setattr(public, field, value)
    public.summary = "Corrected public summary."
    public.updated_by = public._history_user = staff
    public.version += 1
    public.save()
    retracted = IncidentFactory(
        courthouse=public.courthouse,
        summary=RETRACTED_SUMMARY,
        status="retracted",
        retraction_reason=RETRACTION_REASON,
        **SENTINELS,
    )
    Source.objects.create(incident=retracted, note=RETRACTED_SOURCE, url="https://example.org/r")
    draft = IncidentFactory(courthouse=public.courthouse, summary=DRAFT_SUMMARY, status="draft", **SENTINELS)
    Source.objects.create(incident=draft, note=DRAFT_SOURCE, url="https://example.org/d")
    _reports(public, staff)
    return public, retracted


def _reports(public, staff):
    """A new, an in-review, a rejected and an attached report, each holding every sentinel."""
    made = [
        services.submit_report(
            report=Report(date=datetime.date(2019, 5, 14), courthouse=public.courthouse, **REPORT_SENTINELS),
            address_hash="h",
        )
        for _ in range(4)
    ]
    services.start_review(pk=made[1].pk, user=staff)
    services.reject_report(pk=made[2].pk, reason=REJECTION_REASON, user=staff)
    # Accepted as a source: only what the reviewer wrote (the note) is public, and the
    # link, which the test below leaves out of the sentinels it looks for.
    services.attach_report(report_pk=made[3].pk, incident_pk=public.pk, note="A witness.", user=staff)
    Source.objects.filter(report=made[3]).update(url="https://example.org/accepted")


def public_urls(public):
    courthouse = public.courthouse
    urls = [
        "/",
        "/?state=NY",
        "/incidents/",
        "/incidents/?state=NY&case_type=criminal",
        "/incidents/?q=SENTINEL",
        "/incidents/?ordering=-updated_at",
        f"/incidents/{public.pk}/",
        "/courthouses/",
        f"/courthouses/{courthouse.slug}/",
        f"/counties/{public.county_id}/",
        "/incidents/export.csv",
        "/incidents/export.csv?excel=1&state=NY",
        "/api/incidents/",
        "/api/incidents/?q=SENTINEL",
        "/data/",
        "/api/changes/",
        "/api/changes/?since=2000-01-01T00:00:00Z&limit=1",
        "/api/changes/?state=NY",
        "/feeds/incidents.atom",
        "/feeds/incidents.atom?q=SENTINEL",
        "/api/courthouses.geojson",
        "/api/courthouses.geojson?state=NY",
        "/report/",
        "/report/sent/",
        "/api/",
        "/api/schema.json",
        "/api/reference-figures/",
        "/api/reference-figures/?state=NY",
        "/data/datapackage.json",
        "/data/releases/",
        "/courthouses/autocomplete.json?q=a",
        "/counties/autocomplete.json?q=a",
    ]
    urls += [f"/api/stats/?by={by}" for by in STATS]
    urls += [f"/api/stats/?by={by}&format=csv" for by in STATS]
    urls += ["/api/stats/?by=month&by=outcome", "/api/stats/?by=state&by=case_type&format=csv"]
    urls += [f"/embed/{name}/" for name in charts.EMBEDS]
    urls += [f"/embed/{name}/?state=NY" for name in charts.EMBEDS]
    return urls


def body(response):
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def test_no_public_url_shows_a_staff_only_value_or_staff_name(client, incidents):
    public, _ = incidents
    for url in public_urls(public):
        response = client.get(url)
        assert response.status_code == 200, url
        text = body(response)
        leaked = [s for s in ALL_SENTINELS if s in text]
        assert leaked == [], f"{url} leaks {leaked}"


# Not public: staff pages (they send a visitor to sign in) and files that hold no data.
NOT_PUBLIC = ("/accounts/", "/admin/", "/staff/", "/static/", "/media/")
STAFF_PAGE = re.compile(r"^/incidents/([0-9]+/(edit|history|review|redact|withdraw)|new|import)/")
LINK = re.compile(r"""(?:href|src|action)=["'](/[^"'#]*)|https?://testserver(/[^"'\s<>)#,]*)""")
MOST_PAGES, MOST_PER_PATH = 400, 6


def crawl(client, seeds):
    """{url: status} of every public address reached from `seeds` by on-site links, each read once,
    checking that none shows a marker. A few addresses per path: the filters' links multiply."""
    seen, queue, per_path = {}, list(seeds), {}
    while queue and len(seen) < MOST_PAGES:
        url = queue.pop(0).replace("&amp;", "&")
        path = urlsplit(url).path
        if url in seen or path.startswith(NOT_PUBLIC) or STAFF_PAGE.match(path):
            continue
        if per_path.get(path, 0) >= MOST_PER_PATH and url not in seeds:
            continue
        per_path[path] = per_path.get(path, 0) + 1
        response = client.get(url)
        seen[url] = response.status_code
        text = body(response) if response.status_code != 304 else ""
        leaked = [s for s in ALL_SENTINELS if s in text]
        assert leaked == [], f"{url} leaks {leaked}"
        for found in LINK.findall(text):
            link = found[0] or found[1]
            if link and link not in seen:
                queue.append(link)
    return seen


def test_a_crawl_of_every_public_link_finds_no_marker(client, incidents, settings, tmp_path):
    public, retracted = incidents
    settings.RELEASES_DIR = tmp_path / "releases"
    settings.RELEASES_DIR.mkdir()
    call_command("publish_release", site_url="https://tracker.example.org/", stdout=StringIO())
    draft = Source.objects.get(note=DRAFT_SOURCE).incident
    seeds = [*public_urls(public), f"/incidents/{retracted.pk}/", f"/incidents/{draft.pk}/"]
    seen = crawl(client, seeds)
    # It reached what it had to: the pages linked from the others, the release's files.
    assert len(seen) > len(seeds)
    assert seen[f"/incidents/{retracted.pk}/"] == 410 and seen[f"/incidents/{draft.pk}/"] == 404
    assert any(re.fullmatch(r"/data/releases/[0-9.]+/incidents\.csv", url) for url in seen), sorted(seen)
    assert any(url.startswith("/embed/") and "state=" in url for url in seen)


def test_the_sentinels_are_really_stored(incidents):
    """Guards the test above: it must have something to find."""
    public, retracted = incidents
    history = public.history.first()
    assert history.internal_notes == SENTINELS["internal_notes"]
    assert history.history_user.username == STAFF_NAME
    assert retracted.retraction_reason == RETRACTION_REASON
    assert Report.objects.filter(contact=REPORT_SENTINELS["contact"]).count() == 4
    assert Source.objects.filter(note=RETRACTED_SOURCE).exists()


def test_an_accepted_report_shows_only_its_source(client, incidents):
    public, _ = incidents
    text = body(client.get(f"/incidents/{public.pk}/"))
    assert "https://example.org/accepted" in text and "A witness." in text
    assert [s for s in ALL_SENTINELS if s in text] == []


def test_a_retracted_incident_is_a_notice_without_its_text_or_staff_reason(client, incidents):
    _, retracted = incidents
    response = client.get(f"/incidents/{retracted.pk}/")
    assert response.status_code == 410
    text = body(response)
    assert f"Report {retracted.reference} was retracted" in text
    assert [s for s in ALL_SENTINELS if s in text] == []


def test_the_feeds_name_the_retraction_without_its_staff_reason(client, incidents):
    _, retracted = incidents
    changes = client.get("/api/changes/").json()["results"]
    assert {"id": retracted.pk, "change": "retracted"}.items() <= changes[-1].items()
    atom = body(client.get("/feeds/incidents.atom"))
    assert f"{retracted.reference} · Retracted" in atom and RETRACTION_REASON not in atom
