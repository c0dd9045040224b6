"""The Atom feed (/feeds/incidents.atom) and its autodiscovery links on the pages with filters."""

import re

import feedparser
import pytest

from incidents import services
from incidents.views import feeds

from .factories import CourthouseFactory, IncidentFactory

pytestmark = pytest.mark.django_db

STAFF_ONLY = {"internal_notes": "FEED-notes-91ac", "docket_number": "FEED-docket-3b7e"}
STAFF_REASON = "FEED-staff-reason-c0d4"


def read_feed(client, query=""):
    response = client.get(f"/feeds/incidents.atom?{query}")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/atom+xml")
    return feedparser.parse(response.content), response.content.decode()


def edit(user, incident, **fields):
    incident.refresh_from_db()
    for name, value in fields.items():
        setattr(incident, name, value)
    services.update_incident(incident=incident, expected_version=incident.version, user=user)


@pytest.fixture
def four_changes(superuser, courthouse):
    """One of each change, newest last: new, corrected, retracted, restored."""
    new, corrected, retracted, restored = IncidentFactory.create_batch(4, courthouse=courthouse, **STAFF_ONLY)
    edit(superuser, corrected, people_count=3, summary="Three people, not one.")
    edit(superuser, new, internal_notes="FEED-later-notes-77e1")  # staff-only: not a change
    for incident in (retracted, restored):
        services.retract_incident(
            pk=incident.pk, reason=STAFF_REASON, public_reason="duplicate", user=superuser
        )
    services.restore_incident(pk=restored.pk, user=superuser)
    return new, corrected, retracted, restored


def test_each_entry_links_the_incident_and_says_what_changed(client, four_changes):
    new, corrected, retracted, restored = four_changes
    feed, _ = read_feed(client)
    assert not feed.bozo and feed.feed.title.startswith("Courthouse ICE Arrest Tracker")
    entries = [(e.link, e.title, e.summary) for e in feed.entries]
    assert entries == [
        (
            f"http://testserver/incidents/{restored.pk}/",
            ending(restored, "Restored"),
            "Published again after a retraction.",
        ),
        (
            f"http://testserver/incidents/{retracted.pk}/",
            f"{retracted.reference} · Retracted",
            "Retracted: Duplicate of another report.",
        ),
        (
            f"http://testserver/incidents/{corrected.pk}/",
            ending(corrected, "Corrected"),
            "Corrected: people taken into custody, summary.",
        ),
        (
            f"http://testserver/incidents/{new.pk}/",
            ending(new, "New"),
            "New report: Arrested, 1 taken into custody, criminal case.",
        ),
    ]
    assert len({entry.id for entry in feed.entries}) == 4 and feed.entries[0].id.startswith(
        "http://testserver/"
    )


def ending(incident, label):
    return f"{incident.reference} · {label} · 2019-05-14 · {incident.courthouse.name}"


def test_no_staff_only_value_reaches_the_feed(client, four_changes):
    _, text = read_feed(client)
    leaked = [
        value for value in [*STAFF_ONLY.values(), STAFF_REASON, "FEED-later-notes-77e1"] if value in text
    ]
    assert leaked == [] and "Three people, not one." not in text  # summaries are not copied either


def test_it_holds_the_fifty_latest_changes_matching_the_filters(client, django_assert_num_queries):
    texas = CourthouseFactory(texas=True)
    IncidentFactory.create_batch(feeds.ENTRIES + 5)
    in_texas = IncidentFactory.create_batch(3, courthouse=texas)
    # the data version, published rows, retracted rows: no history read for new ones
    with django_assert_num_queries(3):
        feed, _ = read_feed(client)
    assert len(feed.entries) == feeds.ENTRIES
    assert feed.entries[0].link.endswith(f"/incidents/{in_texas[-1].pk}/")
    feed, _ = read_feed(client, "state=TX")
    assert feed.feed.links[1].href == "http://testserver/feeds/incidents.atom?state=TX"  # rel="self"
    assert [entry.link.rsplit("/", 2)[-2] for entry in feed.entries] == [str(i.pk) for i in in_texas[::-1]]


@pytest.mark.parametrize("query", ["state=ZZ", "date_after=yesterday", "outcome=maybe", "ordering=summary"])
def test_a_bad_filter_is_a_400(client, query):
    response = client.get(f"/feeds/incidents.atom?{query}")
    assert response.status_code == 400 and query.split("=")[0] in response.content.decode()


def alternate(client, url):
    html = client.get(url).content.decode()
    return re.findall(r'<link rel="alternate" type="application/atom\+xml"[^>]* href="([^"]*)"', html)


def test_pages_with_filters_link_their_own_feed(client):
    incident = IncidentFactory()
    slug, fips = incident.courthouse.slug, incident.county_id
    assert alternate(client, "/") == ["/feeds/incidents.atom"]
    assert alternate(client, "/?state=NY&outcome=arrested") == [
        "/feeds/incidents.atom?state=NY&amp;outcome=arrested"
    ]
    assert alternate(client, "/incidents/?q=hall&cursor=abc&ordering=date") == [
        "/feeds/incidents.atom?q=hall"
    ]
    assert alternate(client, f"/courthouses/{slug}/?case_type=criminal") == [
        f"/feeds/incidents.atom?case_type=criminal&amp;courthouse={slug}"
    ]
    assert alternate(client, f"/counties/{fips}/") == [f"/feeds/incidents.atom?county={fips}"]
    assert alternate(client, f"/incidents/{incident.pk}/") == alternate(client, "/data/") == []
