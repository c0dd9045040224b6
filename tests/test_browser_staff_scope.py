"""With the keyboard only: a correction with its public note, and a withdrawal.

With TRACKER_STAFF_SCREENSHOTS=<folder>, also saves the changed staff pages at a
desktop and a phone size (for review; not kept in the repository).
"""

import datetime
import os
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from incidents import choices
from incidents.models import Incident, Jurisdiction, RetractionRequest

from .browser import launch
from .factories import CourthouseFactory, IncidentFactory

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
playwright = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SIZES = {"desktop": (1366, 900), "phone": (390, 844)}


@pytest.fixture
def browser(live_server):
    with playwright.sync_playwright() as p:
        browser = launch(p)
        browser.base_url = live_server.url
        yield browser
        browser.close()


def signed_in(browser, username, size="desktop"):
    width, height = SIZES[size]
    page = browser.new_context(
        base_url=browser.base_url, viewport={"width": width, "height": height}
    ).new_page()
    page.problems = []
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(f"pw-{username}-123")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    return page


def tab_to(page, selector, limit=150):
    """Press Tab until `selector` has the focus; fails if it never does."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


@pytest.fixture
def clerk():
    user = User.objects.create_user("nyclerk", password="pw-nyclerk-123")
    user.groups.add(Group.objects.get(name="Court administrators"))
    Jurisdiction.objects.create(user=user, state_id="NY")
    return user


def test_a_correction_with_its_public_note_by_keyboard(browser, clerk):
    incident = IncidentFactory(summary="Agents arrested a defendant.")
    page = signed_in(browser, "nyclerk")
    page.goto(f"/incidents/{incident.pk}/edit/")
    tab_to(page, "#id_summary")
    page.keyboard.press("Control+A")
    page.keyboard.type("Agents arrested a defendant in the hallway.")
    tab_to(page, ".staff-form button[type=submit]")
    page.keyboard.press("Enter")  # no note yet: the form says why
    page.wait_for_load_state()
    assert page.locator("#id_public_note").get_attribute("aria-invalid") == "true"
    tab_to(page, "#id_public_note")
    page.keyboard.type("Summary corrected from the attorney's notes.")
    tab_to(page, ".staff-form button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/incidents/{incident.pk}/$"))
    assert "Summary corrected from the attorney's notes." in page.locator(".change-log").inner_text()
    assert page.problems == []


def test_a_withdrawal_by_keyboard(browser, clerk):
    incident = IncidentFactory(created_by=clerk)
    page = signed_in(browser, "nyclerk", "phone")
    page.goto(f"/incidents/{incident.pk}/withdraw/")
    tab_to(page, "#id_public_reason")
    page.keyboard.press("ArrowDown")
    tab_to(page, "#id_reason")
    page.keyboard.type("I entered the wrong hearing.")
    tab_to(page, ".staff-form button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "is withdrawn" in page.content(), page.content()[-3000:]
    incident.refresh_from_db()
    assert incident.status == choices.Status.RETRACTED
    assert incident.retraction_reason == "I entered the wrong hearing."
    assert page.problems == []


@pytest.mark.skipif(not os.environ.get("TRACKER_STAFF_SCREENSHOTS"), reason="screenshots on request only")
def test_screenshots_of_the_changed_staff_pages(browser, clerk):
    folder = Path(os.environ["TRACKER_STAFF_SCREENSHOTS"])
    folder.mkdir(parents=True, exist_ok=True)
    published = IncidentFactory(reference="NY-PUBLISHED-1")
    old = IncidentFactory(reference="NY-OLD-1", created_by=clerk)
    Incident.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=3))
    RetractionRequest.objects.create(
        incident=published, public_reason="duplicate", reason="Same as NY-OLD-1.", requested_by=clerk
    )
    draft = IncidentFactory(reference="NY-DRAFT-1", status=choices.Status.DRAFT)
    texas = IncidentFactory(reference="TX-1", courthouse=CourthouseFactory(name="El Paso Court", texas=True))
    User.objects.create_superuser("boss", "boss@example.org", "pw-boss-123")
    pages = {
        "nyclerk": {
            "correction": f"/incidents/{published.pk}/edit/",
            "draft": f"/incidents/{draft.pk}/edit/",
            "new": "/incidents/new/",
            "request": f"/incidents/{old.pk}/withdraw/",
            "outside": f"/incidents/{texas.pk}/edit/",
        },
        "boss": {"staff-list": "/staff/incidents/", "review": f"/incidents/{published.pk}/review/"},
    }
    for size in SIZES:
        for user, urls in pages.items():
            page = signed_in(browser, user, size)
            for name, url in urls.items():
                page.goto(url)
                page.screenshot(path=folder / f"{name}-{size}.png", full_page=True)
            assert page.problems == []
