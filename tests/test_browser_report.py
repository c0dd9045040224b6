"""A member of the public reports an arrest from a phone, with the keyboard only."""

import os
import re
from urllib.parse import urlparse

import pytest

from incidents.models import Report

from .browser import launch
from .factories import CourthouseFactory

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
playwright = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def page(live_server):
    with playwright.sync_playwright() as p:
        browser = launch(p)
        context = browser.new_context(base_url=live_server.url, viewport=PHONE)
        page = context.new_page()
        page.problems = []
        page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))
        page.on("pageerror", lambda e: page.problems.append(str(e)))
        yield page
        browser.close()


def focused(page):
    return page.evaluate("document.activeElement.name || document.activeElement.tagName")


def tab_to(page, name):
    page.keyboard.press("Tab")
    assert focused(page) == name


def test_a_report_sent_from_a_phone_with_the_keyboard_only(page):
    court = CourthouseFactory(name="Brooklyn Criminal Court", city="Brooklyn", county_id="36047")
    page.goto("/")
    page.keyboard.press("Tab")  # the skip link
    # The navigation leads to the form.
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.getAttribute('href')") == "/report/":
            break
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/report/(#main)?$"))
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # skip to the content
    tab_to(page, "outcome")
    assert page.evaluate("document.activeElement.value") == "unknown"  # the choice made beforehand
    page.keyboard.press("ArrowDown")  # wraps round to the first, arrested
    page.keyboard.press("ArrowDown")  # attempted
    tab_to(page, "date")
    page.keyboard.type("03042025")
    # Chromium's date box moves through its month, day and year parts, then on.
    for _ in range(3):
        if focused(page) != "date":
            break
        page.keyboard.press("Tab")
    assert focused(page) == "courthouse"
    page.keyboard.type("brooklyn criminal court")
    tab_to(page, "courthouse_text")
    tab_to(page, "location")
    page.keyboard.type("In a")  # type-ahead: "In a courtroom"
    tab_to(page, "person_role")
    tab_to(page, "case_type")
    tab_to(page, "description")
    page.keyboard.type("Two agents waited outside courtroom 3 and tried to stop a man.")
    tab_to(page, "source_url")
    tab_to(page, "contact")
    page.keyboard.type("watcher@example.org")
    tab_to(page, "BUTTON")  # the honeypot is never reached
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/report/sent/(#main)?$"))
    assert "your report was received" in page.inner_text("h1")

    report = Report.objects.get()
    assert (report.outcome, report.date.isoformat(), report.courthouse_id) == (
        "attempted",
        "2025-03-04",
        court.pk,
    )
    assert (report.location, report.contact, report.status) == ("courtroom", "watcher@example.org", "new")
    assert page.problems == []
    assert urlparse(page.url).path == "/report/sent/"


def test_a_mistake_is_shown_next_to_its_field(page):
    page.goto("/report/")
    page.get_by_label("What did you see or learn?").focus()
    page.keyboard.type("<script>x</script>")
    page.keyboard.press("Enter")  # a new line in the text box; the form is sent with the button
    page.get_by_role("button", name="Send the report").focus()
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert "Write plain text" in page.inner_text("#id_description_error")
    assert "Name the courthouse" in page.inner_text("#id_courthouse_error")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert Report.objects.count() == 0
