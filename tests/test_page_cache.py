"""Public pages come from the shared cache for anonymous visitors; a write shows to the next
request, or, while writes come often (PAGE_STALE_SECONDS), once the page is rebuilt."""

import pytest
from django.core.management import call_command

from incidents import services
from incidents.cache import bump_data_version

from .factories import IncidentFactory

pytestmark = pytest.mark.django_db

PAGES = ["/", "/incidents/", "/incidents/?state=NY", "/courthouses/", "/counties/36047/"]


@pytest.fixture(autouse=True)
def page_cache_on(settings):
    settings.PUBLIC_PAGE_CACHE = True


@pytest.mark.parametrize("url", PAGES)
def test_a_repeated_page_costs_at_most_two_small_queries(client, url, django_assert_num_queries):
    IncidentFactory.create_batch(3)
    first = client.get(url)
    # The data version, and the cached page where the shared cache is the database.
    with django_assert_num_queries(2 if "DatabaseCache" in shared_cache_backend() else 1):
        again = client.get(url)
    with django_assert_num_queries(1):  # data version; the page is now kept in this process too
        third = client.get(url)
    assert again.content == third.content == first.content
    assert again.status_code == third.status_code == first.status_code


def shared_cache_backend():
    from django.conf import settings

    return settings.CACHES["default"]["BACKEND"]


def test_a_page_kept_in_this_process_is_not_served_after_another_servers_write(client):
    first = IncidentFactory()
    for _ in range(3):  # rendered, read from the shared cache, then from this process
        assert listed(client, first)
    # Another app server's write: the row and the bumped version reach only the database.
    second = IncidentFactory(courthouse=first.courthouse)
    bump_data_version()
    assert listed(client, second)


def listed(client, incident):
    return f'href="/incidents/{incident.pk}/"' in client.get("/incidents/").content.decode()


def test_a_new_incident_shows_at_once(client):
    first = IncidentFactory()
    assert listed(client, first)
    second = IncidentFactory(courthouse=first.courthouse)
    assert listed(client, second)


def test_a_correction_shows_at_once(client):
    incident = IncidentFactory(summary="Before the correction.")
    assert "Before the correction." in client.get(f"/incidents/{incident.pk}/").content.decode()
    incident.summary = "After the correction."
    incident.save()
    assert "After the correction." in client.get(f"/incidents/{incident.pk}/").content.decode()


def test_a_retraction_removes_the_incident_at_once(client, superuser):
    incident = IncidentFactory()
    assert listed(client, incident)
    services.retract_incident(pk=incident.pk, reason="Duplicate", public_reason="duplicate", user=superuser)
    assert not listed(client, incident)


def test_an_import_shows_at_once(client, tmp_path):
    incident = IncidentFactory(summary="Before the import.")
    export = b"".join(client.get("/incidents/export.csv").streaming_content).decode()
    url = f"/incidents/{incident.pk}/"
    assert "Before the import." in client.get(url).content.decode()
    path = tmp_path / "changed.csv"
    path.write_text(export.replace("Before the import.", "Changed by the import."), encoding="utf-8")
    call_command("import_incidents", str(path), verbosity=0)
    assert "Changed by the import." in client.get(url).content.decode()


def test_the_demo_loader_shows_at_once(client):
    client.get("/incidents/")
    call_command("load_demo_data", verbosity=0)
    assert "Demo data." in client.get("/incidents/").content.decode()


def test_signed_in_visitors_are_never_served_a_shared_page(client, superuser):
    IncidentFactory()
    client.get("/incidents/")
    client.force_login(superuser)
    assert "Sign out" in client.get("/incidents/").content.decode()


def test_a_browser_gets_the_cached_page_gzipped(client):
    import gzip

    IncidentFactory()
    plain = client.get("/incidents/").content
    response = client.get("/incidents/", HTTP_ACCEPT_ENCODING="gzip, deflate")
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    assert gzip.decompress(response.content) == plain


def junk(n):
    """The n-th of many addresses a visitor could make up to fill the cache."""
    if n % 300 == 0:
        return {"county": f"{n:07d}"}  # not a FIPS code: answered 400
    if n % 2:
        return {f"utm_{n}": "x"}  # a parameter the site does not know
    return {"q": " " * (n % 7), "page": n, "state": "ny" if n % 4 else "NY"}


def test_a_flood_of_junk_addresses_evicts_neither_the_version_nor_a_cached_page(
    client, settings, django_assert_max_num_queries
):
    from django.test import RequestFactory
    from django.utils import translation

    from incidents.cache import data_version, local_pages
    from incidents.views import public as views

    settings.CACHES = {"default": {**settings.CACHES["default"], "OPTIONS": {"MAX_ENTRIES": 100}}}
    IncidentFactory()
    assert client.get("/incidents/?state=NY").status_code == 200
    version, factory = data_version(), RequestFactory()
    with translation.override("en"):
        for n in range(30_000):
            views.incident_list(factory.get("/incidents/", junk(n)))
    assert data_version() == version
    local_pages.clear()  # what other processes see: the shared cache alone
    with django_assert_max_num_queries(2):
        assert client.get("/incidents/?state=NY").status_code == 200


def test_an_error_page_is_never_cached(client, django_assert_max_num_queries):
    for _ in range(3):
        assert client.get("/incidents/?state=ZZ").status_code == 400
    # 10 to render, and on the database cache up to 4 for the rebuild's lock (add, delete).
    with django_assert_max_num_queries(14) as queries:
        client.get("/incidents/?state=ZZ")
    assert len(queries) > 2  # rendered again, not read from the cache


def test_while_writes_come_often_the_latest_page_is_answered_and_rebuilt_after_the_answer(
    client, settings, django_assert_max_num_queries
):
    settings.PAGE_STALE_SECONDS = 60  # the latest page is younger: writes are coming often
    settings.PAGE_REBUILD_SECONDS = 0
    first = IncidentFactory()
    assert listed(client, first)
    second = IncidentFactory(courthouse=first.courthouse)  # a write: a new data version
    answer = client.get("/incidents/")
    # The page as it was, at once and without validators; the rebuild ran once it was sent.
    assert f'href="/incidents/{second.pk}/"' not in answer.content.decode()
    assert "no-cache" in answer["Cache-Control"] and "ETag" not in answer
    with django_assert_max_num_queries(2):  # the rebuilt page, read from the cache
        assert listed(client, second)


def test_a_rebuild_after_the_answer_that_fails_is_logged_and_frees_the_lock(
    client, settings, monkeypatch, caplog
):
    from django.core.cache import cache
    from django.test import RequestFactory

    from incidents import cache as page_cache

    settings.PAGE_STALE_SECONDS, settings.PAGE_REBUILD_SECONDS = 60, 0
    first = IncidentFactory()
    assert listed(client, first)
    IncidentFactory(courthouse=first.courthouse)

    def broken(*args):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(page_cache, "_build_page", broken)
    assert listed(client, first)  # the page as it was
    assert "rebuilding /incidents/ failed" in caplog.text
    _, latest = page_cache._page_keys(RequestFactory().get("/incidents/"), "en")
    assert cache.get(page_cache._page_lock(latest)) is None


def test_under_a_stream_of_writes_a_page_is_rebuilt_at_most_every_few_seconds(client, settings):
    settings.PAGE_STALE_SECONDS, settings.PAGE_REBUILD_SECONDS = 60, 30
    first = IncidentFactory()
    assert listed(client, first)
    second = IncidentFactory(courthouse=first.courthouse)
    for _ in range(3):  # the latest page is younger than PAGE_REBUILD_SECONDS: no rebuild yet
        assert not listed(client, second)
    settings.PAGE_REBUILD_SECONDS = 0
    client.get("/incidents/")  # answered as it was, rebuilt after
    assert listed(client, second)
