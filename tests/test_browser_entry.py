"""A court administrator signs in, adds an incident through the form, and finds it in the public list."""

import os
import re
from urllib.parse import urlparse

import pytest

from incidents.models import Incident, today_utc

from .browser import launch
from .factories import CourthouseFactory

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
playwright = pytest.importorskip("playwright.sync_api")

# After each test's flush, post_migrate loads the geography and groups again.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(live_server):
    # One browser per test, started after the database is set up: a browser kept
    # across tests runs playwright's event loop while the next test's database
    # setup runs, which then sees other connection objects and restores nothing.
    with playwright.sync_playwright() as p:
        browser = launch(p)
        context = browser.new_context(base_url=live_server.url)
        page = context.new_page()
        page.problems = []
        page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))
        page.on("pageerror", lambda e: page.problems.append(str(e)))
        host = urlparse(live_server.url).netloc
        page.on(
            "request",
            lambda r: (
                urlparse(r.url).netloc not in ("", host)
                and page.problems.append(f"request to another host: {r.url}")
            ),
        )
        yield page
        browser.close()


def sign_in(page, username, password):
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_a_court_administrator_adds_an_incident_and_sees_it_in_the_public_list(page, court_admin):
    CourthouseFactory(name="Brooklyn Criminal Court", city="Brooklyn", county_id="36047")
    CourthouseFactory(name="Bronx Hall of Justice", city="Bronx", county_id="36005")

    page.goto("/incidents/new/")
    assert urlparse(page.url).path == "/accounts/login/"
    sign_in(page, "clerk", "pw-clerk-123")
    page.wait_for_url(re.compile(r"/incidents/new/$"))

    # The courthouse is chosen by typing part of its name, with the keyboard.
    box = page.get_by_role("combobox", name="Courthouse")
    box.type("brookl", delay=30)
    option = page.get_by_role("option", name=re.compile("Brooklyn Criminal Court"))
    option.wait_for()
    box.press("Enter")
    assert box.input_value() == "brooklyn-criminal-court"
    assert page.locator("#courthouse-chosen").inner_text() == "Brooklyn Criminal Court (Brooklyn, NY)"

    assert page.get_by_label("Date", exact=True).input_value() == today_utc().isoformat()
    page.get_by_label("Date", exact=True).fill("2019-05-14")
    page.get_by_role("group", name="Outcome").get_by_label("Arrested").check()
    page.get_by_label("People taken into custody").fill("1")
    page.get_by_role("group", name="Agents in plain clothes").get_by_label("Yes").check()
    page.get_by_label("Summary").fill("Agents arrested a defendant at the metal detectors.")
    page.get_by_role("button", name="Save and publish", exact=True).click()

    page.wait_for_url(re.compile(r"/incidents/\d+/$"))
    incident = Incident.objects.get()
    assert f"Saved incident {incident.reference}." in page.content()
    assert (incident.plain_clothes, incident.created_by) == ("yes", court_admin)

    page.goto("/incidents/")
    row_link = page.locator(f'a[href="/incidents/{incident.pk}/"]')
    assert row_link.count() >= 1
    assert "Brooklyn Criminal Court" in page.content()
    assert page.problems == []


def test_a_form_error_is_shown_next_to_its_field(page, court_admin):
    CourthouseFactory(name="Brooklyn Criminal Court", city="Brooklyn", county_id="36047")
    page.goto("/accounts/login/?next=/incidents/new/")
    sign_in(page, "clerk", "pw-clerk-123")
    page.wait_for_url(re.compile(r"/incidents/new/$"))
    page.get_by_role("combobox", name="Courthouse").fill("brooklyn-criminal-court")
    page.get_by_role("group", name="Outcome").get_by_label("Attempted arrest").check()
    page.get_by_label("People taken into custody").fill("2")
    page.get_by_role("button", name="Save and publish", exact=True).click()
    page.wait_for_load_state()
    assert page.locator("#id_people_count_error").inner_text() == (
        "Must be 0 when the outcome is attempted or observed."
    )
    assert page.get_by_label("People taken into custody").get_attribute("aria-invalid") == "true"
    assert not Incident.objects.exists()
    assert page.problems == []
