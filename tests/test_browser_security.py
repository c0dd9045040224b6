"""Under the Content-Security-Policy every page, chart and the admin still work,
and a stored script never runs."""

import os
from urllib.parse import urlparse

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from incidents.models import Incident

from .browser import launch
from .factories import IncidentFactory

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
playwright = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

XSS = '<script>window.__xss = 1</script><img src="x" onerror="window.__xss = 2">'


@pytest.fixture
def browser(live_server):
    # Started after the test database is ready (live_server), once per test.
    with playwright.sync_playwright() as p:
        browser = launch(p)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    host = urlparse(live_server.url).netloc

    def outside(request):
        if urlparse(request.url).scheme in ("http", "https") and urlparse(request.url).netloc != host:
            page.problems.append(f"request to another host: {request.url}")

    page.on("request", outside)
    yield page
    context.close()


def visit(page, path):
    response = page.goto(path)
    page.wait_for_load_state("networkidle")
    assert response.status < 400, path
    return response


def test_every_public_page_works_under_the_policy(page):
    call_command("load_demo_data", verbosity=0)
    incident = Incident.objects.public().first()
    paths = [
        "/",
        "/?state=NY",
        "/incidents/",
        "/incidents/?state=NY&case_type=criminal",
        f"/incidents/{incident.pk}/",
        "/courthouses/",
        f"/courthouses/{incident.courthouse.slug}/",
        f"/counties/{incident.county_id}/",
        "/data/",
        "/accounts/login/",
    ]
    for path in paths:
        response = visit(page, path)
        assert "script-src 'self'" in response.headers["content-security-policy"]
    visit(page, "/")
    assert page.locator(".js-plotly-plot").count() >= 4
    assert page.problems == []


def test_the_admin_works_under_the_policy(page):
    User.objects.create_superuser("root", "root@example.org", "pw-root-123")
    IncidentFactory()
    page.goto("/admin/login/")
    page.fill("#id_username", "root")
    page.fill("#id_password", "pw-root-123")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    for path in [
        "/admin/incidents/incident/",
        "/admin/incidents/incident/add/",
        "/admin/incidents/courthouse/",
    ]:
        visit(page, path)
    # The courthouse autocomplete is a script: it must run under the policy.
    page.goto("/admin/incidents/incident/add/")
    page.click(".field-courthouse .select2-selection")
    page.keyboard.type("Test")
    page.wait_for_selector(".select2-results__option")
    assert page.problems == []


def test_a_stored_script_never_runs(page):
    incident = IncidentFactory(summary=XSS)
    for path in [f"/incidents/{incident.pk}/", "/incidents/", "/"]:
        visit(page, path)
        assert page.evaluate("window.__xss") is None, path
    visit(page, f"/incidents/{incident.pk}/")
    assert XSS in page.inner_text("main")
