"""Embeds in Debian's Chromium: another site's page shows /embed/<chart>/ in a frame and
cannot frame any other page; the Embed snippet under a chart is reachable by keyboard."""

import http.server
import os
import threading

import pytest
from django.core.cache import cache
from django.db import connections

from .browser import launch
from .factories import CourthouseFactory, IncidentFactory

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
playwright = pytest.importorskip("playwright.sync_api")
expect = playwright.expect
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def other_site():
    """serve(html) -> the address of a page on another origin (127.0.0.1 and a port of its own;
    the app's live server is localhost). Served for real: Chromium lets no page it cannot
    place on this machine frame a local address."""
    pages = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = pages["html"].encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def serve(html):
        pages["html"] = html
        return f"http://127.0.0.1:{server.server_port}/article"

    yield serve
    server.shutdown()


@pytest.fixture
def browser_page(live_server):
    cache.clear()
    IncidentFactory.create_batch(3)
    IncidentFactory(courthouse=CourthouseFactory(texas=True), attempted=True)
    with playwright.sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        yield page, live_server.url
        connections.close_all()
        browser.close()


def test_another_site_can_frame_an_embed_and_no_other_page(browser_page, other_site):
    page, server = browser_page
    article = (
        "<!doctype html><title>Article</title>"
        f'<iframe id="embed" src="{server}/embed/month/?state=NY" width="800" height="620"></iframe>'
        f'<iframe id="dashboard" src="{server}/?state=NY" width="800" height="300"></iframe>'
    )
    page.goto(other_site(article))
    embed = page.frame_locator("#embed")
    expect(embed.locator(".chart.drawn")).to_have_count(1, timeout=15000)
    expect(embed.locator(".chart-source")).to_contain_text("data as of")
    expect(page.frame_locator("#dashboard").locator(".site-header")).to_have_count(0)
    assert "chrome-error://chromewebdata/" in [frame.url for frame in page.frames]


def test_the_embed_snippet_is_reached_and_opened_by_keyboard(browser_page):
    page, server = browser_page
    page.goto(f"{server}/?state=NY")
    expect(page.locator(".chart[data-figure]:not(.drawn)")).to_have_count(0, timeout=15000)
    card = page.locator("section.chart-card", has=page.locator("#chart-month"))
    summary = card.locator(".embed-code summary")
    summary.focus()
    page.keyboard.press("Enter")
    expect(card.locator(".embed-code")).to_have_attribute("open", "")
    page.keyboard.press("Tab")
    focused = page.evaluate("[document.activeElement.id, document.activeElement.value]")
    assert focused[0] == "chart-month-embed"
    assert focused[1].startswith(f'<iframe src="{server}/embed/month/?state=NY" title="Incidents per month')
