"""Public reports (/report/), the moderation queue (/staff/reports/), sources, duplicates
and merging, for each role: anonymous reporter, reviewer, court administrator, superuser."""

import datetime
import io
import re

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from incidents import services
from incidents.models import Incident, Jurisdiction, Merge, Report, Source

from .factories import CourthouseFactory, IncidentFactory

pytestmark = pytest.mark.django_db
OPEN_LINK = re.compile(r'href="/staff/reports/[0-9]+/"')


@pytest.fixture
def court(db):
    return CourthouseFactory(name="Brooklyn Criminal Court", city="Brooklyn", county_id="36047")


def report_data(court, **overrides):
    data = {
        "outcome": "arrested",
        "date": "2025-03-04",
        "courthouse": court.name,
        "courthouse_text": "",
        "person_role": "defendant",
        "case_type": "criminal",
        "location": "inside",
        "description": "Two agents took a man from the hallway after his hearing.",
        "source_url": "https://news.example.org/story",
        "contact": "watcher@example.org",
        "website": "",
    }
    return {**data, **overrides}


def login(user):
    client = Client()
    client.force_login(user)
    return client


def a_report(court, **fields):
    values = {
        "outcome": "arrested",
        "date": datetime.date(2025, 3, 4),
        "courthouse": court,
        "description": "Agents in the hallway.",
        "source_url": "https://news.example.org/a",
        "contact": "someone@example.org",
        **fields,
    }
    return services.submit_report(report=Report(**values), address_hash="x")


# -- the anonymous reporter ------------------------------------------------------------


def test_the_form_needs_no_account_and_no_script(client):
    html = client.get("/report/").content.decode()
    assert 'name="description"' in html and "csrfmiddlewaretoken" in html
    assert "<script" not in html
    assert 'href="/report/"' in client.get("/").content.decode()  # in the navigation


def test_a_report_waits_in_the_queue(client, court):
    response = client.post("/report/", report_data(court))
    assert response.status_code == 302 and response["Location"] == "/report/sent/"
    report = Report.objects.get()
    assert (report.status, report.courthouse, report.contact) == ("new", court, "watcher@example.org")
    assert report.history.get().history_change_reason == "received"
    assert Incident.objects.count() == 0


def test_a_courthouse_not_listed_is_free_text(client, court):
    data = report_data(court, courthouse="", courthouse_text="Family Court, 1 Main St, Hudson")
    assert client.post("/report/", data).status_code == 302
    assert Report.objects.get().courthouse_text.startswith("Family Court")


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("description", "<script>alert(1)</script>", "plain text"),
        ("description", "x" * 1_000_000, "at most 5000"),
        ("description", "a\x00b", "Null characters"),
        ("date", "2999-01-01", "in the future"),
        ("date", "1900-01-01", "from 1990-01-01"),
        ("courthouse", "Atlantis Court", "We do not know a courthouse"),
        ("courthouse", "", "Name the courthouse"),
        ("source_url", "javascript:alert(1)", "valid URL"),
        ("contact", "c" * 201, "at most 200"),
        ("outcome", "exploded", "Select a valid choice"),
        ("courthouse_text", "Court\u202e", "text-direction"),
        # every field refuses a NUL byte, and a script tag wherever text is free
        ("courthouse", "Brooklyn\x00Criminal Court", "Null characters"),
        ("courthouse_text", "Court\x00", "Null characters"),
        ("contact", "me\x00@example.org", "Null characters"),
        ("source_url", "https://news.example.org/\x00", "Null characters"),
        ("date", "2025-03-04\x00", "valid date"),
        ("courthouse_text", "<script>alert(1)</script>", "plain text"),
        ("contact", "<img src=x onerror=alert(1)>", "plain text"),
        ("courthouse", "<script>x</script>", "plain text"),
        ("courthouse_text", "c" * 201, "at most 200"),
        ("source_url", "https://news.example.org/" + "a" * 500, "at most 500"),
    ],
)
def test_bad_input_is_a_form_error_and_nothing_is_stored(client, court, field, value, message):
    response = client.post("/report/", report_data(court, **{field: value}))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Report.objects.count() == 0


def test_the_honeypot_looks_like_success_and_stores_nothing(client, court):
    response = client.post("/report/", report_data(court, website="https://spam.example"))
    assert response.status_code == 302
    assert Report.objects.count() == 0


def test_csrf_protection_stays_on(court):
    client = Client(enforce_csrf_checks=True)
    assert client.post("/report/", report_data(court)).status_code == 403
    assert Report.objects.count() == 0


def test_the_form_is_never_cached_nor_answered_from_a_cache(client, court, settings):
    settings.PUBLIC_PAGE_CACHE = True
    for url in ("/report/", "/report/sent/"):
        first, second = client.get(url), client.get(url)
        assert first.status_code == second.status_code == 200
        assert not first.has_header("ETag") and not first.has_header("Last-Modified")
        assert "no-cache" in first["Cache-Control"] and "max-age=0" in first["Cache-Control"]
    # Each posting is handled, not answered with a page kept from another.
    assert client.post("/report/", report_data(court)).status_code == 302
    assert client.post("/report/", report_data(court, description="Another.")).status_code == 302
    assert Report.objects.count() == 2


def test_the_sixth_report_in_an_hour_gets_a_429_that_says_when(client, court):
    for _ in range(5):
        assert client.post("/report/", report_data(court)).status_code == 302
    response = client.post("/report/", report_data(court))
    assert response.status_code == 429
    assert 3000 < int(response["Retry-After"]) <= 3600
    assert "try again in 60 minutes" in response.content.decode()
    assert Report.objects.count() == 5
    other = Client(REMOTE_ADDR="198.51.100.7")
    assert other.post("/report/", report_data(court)).status_code == 302


def test_the_limit_frees_up_an_hour_later(client, court):
    for _ in range(5):
        client.post("/report/", report_data(court))
    Report.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=61))
    assert client.post("/report/", report_data(court)).status_code == 302


def test_behind_a_proxy_the_limit_counts_the_forwarded_address(settings, court):
    settings.PROXY_COUNT = 1
    # The proxy appends the address it received from; the client forged the first entry.
    first = Client(HTTP_X_FORWARDED_FOR="10.9.9.9, 203.0.113.5")
    for _ in range(5):
        assert first.post("/report/", report_data(court)).status_code == 302
    assert first.post("/report/", report_data(court)).status_code == 429
    # Another client behind the same proxy is another address.
    second = Client(HTTP_X_FORWARDED_FOR="10.9.9.9, 203.0.113.6")
    assert second.post("/report/", report_data(court)).status_code == 302
    forged = Client(HTTP_X_FORWARDED_FOR="10.9.9.8, 203.0.113.5")  # a new forged entry changes nothing
    assert forged.post("/report/", report_data(court)).status_code == 429


def test_an_anonymous_visitor_cannot_open_the_queue(client, court):
    report = a_report(court)
    for url in ["/staff/reports/", f"/staff/reports/{report.pk}/", f"/staff/reports/{report.pk}/incident/"]:
        assert client.get(url)["Location"].startswith("/accounts/login/")
    client.post(f"/staff/reports/{report.pk}/reject/", {"reason": "x"})
    assert Report.objects.get().status == "new"


# -- the court administrator ---------------------------------------------------------------


def test_a_court_administrator_cannot_moderate(court_admin, court):
    report, client = a_report(court), login(court_admin)
    assert client.get("/staff/reports/").status_code == 403
    assert client.get(f"/staff/reports/{report.pk}/").status_code == 403
    assert client.post(f"/staff/reports/{report.pk}/reject/", {"reason": "x"}).status_code == 403
    assert client.post(f"/incidents/{IncidentFactory().pk}/merge/", {"kept": "X"}).status_code == 403
    assert Report.objects.get().status == "new"
    assert "/staff/reports/" not in client.get("/").content.decode()


@pytest.fixture
def ny_admin(db):
    """A court administrator whose jurisdiction is New York only."""
    user = User.objects.create_user("ny-admin", password="pw-ny-admin-123")
    user.groups.add(Group.objects.get(name="Court administrators"))
    Jurisdiction.objects.create(user=user, state_id="NY")
    return user


def test_inside_their_jurisdiction_a_court_administrator_sees_the_duplicate_flag(ny_admin, court):
    from .test_permissions import entry_data

    twin = IncidentFactory(courthouse=court, date=datetime.date(2019, 5, 15))
    response = login(ny_admin).post("/incidents/new/", entry_data(courthouse=court.slug), follow=True)
    assert Incident.objects.count() == 2
    # Linked to the public page: a court administrator has no review page to open.
    assert (
        f'Possible duplicate of <a href="/incidents/{twin.pk}/">{twin.reference}</a>'
        in response.content.decode()
    )


def test_inside_their_jurisdiction_the_import_preview_flags_it_for_a_court_administrator(
    ny_admin, court, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from .test_import import csv_file

    settings.IMPORT_UPLOAD_DIR = str(tmp_path / "uploads")
    twin = IncidentFactory(courthouse=court, date=datetime.date(2019, 5, 14))
    upload = SimpleUploadedFile(
        "x.csv", csv_file({"reference": "NEW-1", "verification": "unverified"}), content_type="text/csv"
    )
    html = login(ny_admin).post("/incidents/import/", {"file": upload}).content.decode()
    assert f'Possible duplicate of</strong> <a href="/incidents/{twin.pk}/">{twin.reference}</a>' in html


def test_outside_their_jurisdiction_a_court_administrator_enters_nothing_and_sees_no_flag(ny_admin):
    from .test_permissions import entry_data

    el_paso = CourthouseFactory(name="El Paso County Courthouse", texas=True)
    IncidentFactory(courthouse=el_paso, date=datetime.date(2019, 5, 14))
    response = login(ny_admin).post("/incidents/new/", entry_data(courthouse=el_paso.slug), follow=True)
    html = response.content.decode()
    assert "outside your jurisdiction" in html and "Possible duplicate" not in html
    assert Incident.objects.count() == 1


def test_a_court_administrator_adds_no_source_and_merges_nothing_even_inside(ny_admin, court):
    mine, twin = IncidentFactory(courthouse=court), IncidentFactory(courthouse=court)
    client = login(ny_admin)
    source = {"source_type": "news", "url": "https://a.example/", "date": "", "note": ""}
    assert client.post(f"/incidents/{mine.pk}/sources/", source).status_code == 403
    assert client.post(f"/incidents/{twin.pk}/merge/", {"kept": mine.reference}).status_code == 403
    assert Source.objects.count() == 0 and Merge.objects.count() == 0
    # Like anyone, they may send a report.
    assert client.post("/report/", report_data(court)).status_code == 302


# -- the reviewer ----------------------------------------------------------------------


def test_a_reviewer_adds_a_source_that_the_public_page_and_api_list(reviewer, court):
    incident = IncidentFactory(courthouse=court, source_url="https://a.example/primary")
    client = login(reviewer)
    source = {"source_type": "court_record", "url": "https://court.example/9", "date": "2025-03-05"}
    response = client.post(f"/incidents/{incident.pk}/sources/", {**source, "note": "Docket sheet"})
    assert response["Location"] == f"/incidents/{incident.pk}/review/"
    added = Source.objects.get()
    assert (added.incident, added.report, added.history.get().history_user) == (incident, None, reviewer)
    page = Client().get(f"/incidents/{incident.pk}/").content.decode()
    assert "https://court.example/9" in page and "Docket sheet" in page
    sources = Client().get("/api/incidents/").json()["results"][0]["sources"]
    assert sources == [
        {"source_type": incident.source_type, "url": "https://a.example/primary", "date": None, "note": ""},
        {
            "source_type": "court_record",
            "url": "https://court.example/9",
            "date": "2025-03-05",
            "note": "Docket sheet",
        },
    ]
    export = b"".join(Client().get("/incidents/export.csv").streaming_content).decode()
    assert "https://a.example/primary" in export and "court.example/9" not in export
    # A bad source is a message, and nothing is stored.
    client.post(f"/incidents/{incident.pk}/sources/", {**source, "url": "javascript:alert(1)"})
    assert Source.objects.count() == 1


def test_the_queue_filters_by_status_with_counts(reviewer, court):
    a_report(court, description="first")
    services.reject_report(pk=a_report(court, description="second").pk, reason="spam", user=reviewer)
    client = login(reviewer)
    html = client.get("/staff/reports/").content.decode()
    assert "New (1)" in html and "Rejected (1)" in html and "In review (0)" in html
    assert len(OPEN_LINK.findall(html)) == 1
    rejected = client.get("/staff/reports/?status=rejected").content.decode()
    assert "Rejected (1)" in rejected and len(OPEN_LINK.findall(rejected)) == 1
    assert len(OPEN_LINK.findall(client.get("/staff/reports/?status=all").content.decode())) == 2
    assert "/staff/reports/" in client.get("/").content.decode()


def test_report_to_incident_to_public(reviewer, court):
    report, client = a_report(court), login(reviewer)
    assert "watcher" not in client.get(f"/staff/reports/{report.pk}/").content.decode()
    client.post(f"/staff/reports/{report.pk}/review/")
    form = client.get(f"/staff/reports/{report.pk}/incident/").content.decode()
    assert f'value="{court.slug}"' in form and "https://news.example.org/a" in form
    assert 'name="reporter_contact"' not in form  # the contact stays on the report
    data = {
        "courthouse": court.slug,
        "date": "2025-03-04",
        "date_precision": "day",
        "outcome": "arrested",
        "people_count": "1",
        **dict.fromkeys(["case_type", "person_role", "location", "agency", "warrant"], "unknown"),
        **dict.fromkeys(
            ["plain_clothes", "agents_identified", "force_used", "court_staff_assisted"], "unknown"
        ),
        "source_type": "community",
        "source_url": "https://news.example.org/a",
        "summary": "Agents arrested a man in the hallway.",
        "reference": "",
    }
    response = client.post(f"/staff/reports/{report.pk}/incident/", data)
    incident = Incident.objects.get()
    assert response["Location"] == f"/incidents/{incident.pk}/"
    report.refresh_from_db()
    assert (report.status, report.incident, report.closed_at is not None) == ("accepted", incident, True)
    assert incident.history.get().history_change_reason == f"from public report #{report.pk}"
    reasons = list(report.history.order_by("history_id").values_list("history_change_reason", flat=True))
    assert reasons == ["received", "taken for review", f"made into {incident.reference}"]
    assert Client().get(f"/incidents/{incident.pk}/").status_code == 200
    # a second acceptance is refused and writes nothing
    client.post(f"/staff/reports/{report.pk}/incident/", data)
    assert Incident.objects.count() == 1


def test_report_to_attached_source(reviewer, court):
    incident, report = IncidentFactory(courthouse=court), a_report(court)
    client = login(reviewer)
    response = client.post(
        f"/staff/reports/{report.pk}/attach/", {"reference": incident.reference, "note": "Witness"}
    )
    assert response.status_code == 302
    source = Source.objects.get()
    assert (source.incident, source.report, source.url, source.note) == (
        incident,
        report,
        report.source_url,
        "Witness",
    )
    page = Client().get(f"/incidents/{incident.pk}/").content.decode()
    assert "https://news.example.org/a" in page and "Witness" in page
    assert "someone@example.org" not in page and "Agents in the hallway." not in page
    api = Client().get("/api/incidents/").json()["results"][0]
    assert [s["url"] for s in api["sources"]] == ["", "https://news.example.org/a"]
    assert api["sources"][1] == {
        "source_type": "community",
        "url": report.source_url,
        "date": "2025-03-04",
        "note": "Witness",
    }
    assert b"news.example.org/a" not in b"".join(Client().get("/incidents/export.csv").streaming_content)
    assert Report.objects.get().status == "accepted"


def test_attaching_to_an_unknown_incident_is_a_form_error(reviewer, court):
    report = a_report(court)
    response = login(reviewer).post(f"/staff/reports/{report.pk}/attach/", {"reference": "NOPE"})
    assert response.status_code == 400 and "No published incident" in response.content.decode()
    assert Source.objects.count() == 0


def test_report_rejected_and_never_public(reviewer, court):
    report = a_report(court, description="REJECTED-MARKER")
    client = login(reviewer)
    assert client.post(f"/staff/reports/{report.pk}/reject/", {"reason": "  "}).status_code == 400
    client.post(f"/staff/reports/{report.pk}/reject/", {"reason": "Not at a courthouse."})
    report.refresh_from_db()
    assert (report.status, report.rejection_reason) == ("rejected", "Not at a courthouse.")
    assert report.history.first().history_user == reviewer
    assert "REJECTED-MARKER" not in Client().get("/incidents/").content.decode()


def test_the_queue_flags_a_possible_duplicate(reviewer, court):
    near = IncidentFactory(courthouse=court, date=datetime.date(2025, 3, 5))
    IncidentFactory(courthouse=court, date=datetime.date(2025, 3, 7))  # two days off
    IncidentFactory(date=datetime.date(2025, 3, 4))  # another courthouse
    report = a_report(court)
    client = login(reviewer)
    queue = client.get("/staff/reports/").content.decode()
    assert "Possible duplicate of" in queue and queue.count("TRK-") == 1 and near.reference in queue
    detail = client.get(f"/staff/reports/{report.pk}/").content.decode()
    assert f'href="/incidents/{near.pk}/review/">{near.reference}' in detail


def test_entry_flags_a_possible_duplicate(superuser, court):
    from .test_permissions import entry_data

    twin = IncidentFactory(courthouse=court, date=datetime.date(2019, 5, 13))
    client = login(superuser)
    response = client.post("/incidents/new/", entry_data(courthouse=court.slug), follow=True)
    assert (
        f'Possible duplicate of <a href="/incidents/{twin.pk}/review/">{twin.reference}</a>'
        in response.content.decode()
    )


# -- merging ---------------------------------------------------------------------------


def counts(client):
    """The number of public incidents as the dashboard, the list, the API, the stats and the export say it."""
    export = b"".join(client.get("/incidents/export.csv").streaming_content).decode()
    return {
        "dashboard": client.get("/").context["headline"]["incidents"],
        "list": len(
            set(re.findall(r'href="/incidents/([0-9]+)/"', client.get("/incidents/").content.decode()))
        ),
        "api": client.get("/api/incidents/").json()["count"],
        **{
            f"stats by {by}": sum(
                row["incidents"] for row in client.get(f"/api/stats/?by={by}").json()["results"]
            )
            for by in ("state", "month", "outcome", "courthouse")
        },
        "export": export.count("\n") - 1,
    }


def test_a_merge_moves_sources_retracts_the_duplicate_and_drops_every_count(reviewer, court):
    kept = IncidentFactory(courthouse=court, source_url="https://a.example/kept")
    other = IncidentFactory(courthouse=court, source_url="https://a.example/other", source_type="news")
    Source.objects.create(incident=other, url="https://a.example/extra", note="extra")
    report = a_report(court)
    services.attach_report(report_pk=report.pk, incident_pk=other.pk, note="", user=reviewer)
    public = Client()
    before = counts(public)
    response = login(reviewer).post(f"/incidents/{other.pk}/merge/", {"kept": kept.reference})
    assert response["Location"] == f"/incidents/{kept.pk}/review/"
    assert {s.url for s in kept.sources.all()} == {
        "https://a.example/other",
        "https://a.example/extra",
        report.source_url,
    }
    other.refresh_from_db()
    assert (other.status, other.retraction_public_reason) == ("retracted", "duplicate")
    assert Merge.objects.get().kept == kept and Report.objects.get().incident == kept
    assert kept.history.first().history_change_reason == f"merged {other.reference} into this incident"
    assert other.history.first().history_change_reason == f"merged into {kept.reference}"
    notice = public.get(f"/incidents/{other.pk}/")
    assert notice.status_code == 410
    assert f'<a href="/incidents/{kept.pk}/">{kept.reference}</a>' in notice.content.decode()
    after = counts(public)
    assert before == dict.fromkeys(before, 2) and after == dict.fromkeys(after, 1), (before, after)


def test_both_histories_record_the_merge(superuser, court):
    kept, other = IncidentFactory(courthouse=court), IncidentFactory(courthouse=court)
    services.merge_incidents(kept_pk=kept.pk, other_pk=other.pk, user=superuser)
    client = login(superuser)
    assert (
        f"merged {other.reference} into this incident"
        in client.get(f"/incidents/{kept.pk}/history/").content.decode()
    )
    assert f"merged into {kept.reference}" in client.get(f"/incidents/{other.pk}/history/").content.decode()


def test_merging_an_incident_with_itself_or_a_retracted_one_is_refused(reviewer, court):
    one, gone = IncidentFactory(courthouse=court), IncidentFactory(courthouse=court, retracted=True)
    client = login(reviewer)
    client.post(f"/incidents/{one.pk}/merge/", {"kept": one.reference})
    client.post(f"/incidents/{gone.pk}/merge/", {"kept": one.reference})
    assert Merge.objects.count() == 0 and Incident.objects.get(pk=one.pk).is_published


# -- the superuser and the erasure of contacts ------------------------------------------------


def test_a_superuser_moderates_too(superuser, court):
    report, client = a_report(court), login(superuser)
    assert client.get(f"/staff/reports/{report.pk}/").status_code == 200
    client.post(f"/staff/reports/{report.pk}/reject/", {"reason": "Spam."})
    assert Report.objects.get().status == "rejected"


def test_contacts_are_erased_90_days_after_the_report_is_closed(reviewer, court):
    open_report, closed, recent = a_report(court), a_report(court), a_report(court)
    for report in (closed, recent):
        services.reject_report(pk=report.pk, reason="x", user=reviewer)
    Report.objects.filter(pk=closed.pk).update(closed_at=timezone.now() - datetime.timedelta(days=91))
    Report.objects.filter(pk=open_report.pk).update(created_at=timezone.now() - datetime.timedelta(days=200))
    out = io.StringIO()
    call_command("purge_report_contacts", stdout=out)
    assert "Erased the contact details of 1 report(s)." in out.getvalue()
    contacts = dict(Report.objects.values_list("pk", "contact"))
    assert contacts == {
        open_report.pk: "someone@example.org",
        closed.pk: "",
        recent.pk: "someone@example.org",
    }
    assert Report.objects.get(pk=open_report.pk).address_hash == ""  # the address hash goes after a day
    assert not any("someone@example.org" in str(vars(row)) for row in Report.history.all())


def test_the_import_preview_flags_a_possible_duplicate(superuser, court, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from .test_import import csv_file

    settings.IMPORT_UPLOAD_DIR = str(tmp_path / "uploads")
    twin = IncidentFactory(courthouse=court, date=datetime.date(2019, 5, 15))
    rows = csv_file({"reference": "NEW-1"}, {"reference": "NEW-2", "date": "2019-05-10"})
    upload = SimpleUploadedFile("x.csv", rows, content_type="text/csv")
    html = login(superuser).post("/incidents/import/", {"file": upload}).content.decode()
    assert html.count("Possible duplicate of") == 1
    flagged = html[html.index("NEW-1") : html.index("NEW-2")]
    assert f'<a href="/incidents/{twin.pk}/review/">{twin.reference}</a>' in flagged
