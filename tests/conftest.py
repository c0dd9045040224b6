import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group, User
from django.utils import translation

from incidents.cache import local_pages
from incidents.models import Jurisdiction, State

from .factories import CourthouseFactory, IncidentFactory


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    # The manifest storage needs collectstatic; tests serve files straight from static/.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _login_throttling_off(settings):
    # django-axes needs a request to authenticate, which Client.login() does not pass;
    # tests/test_login_throttling.py switches it back on.
    settings.AXES_ENABLED = False


@pytest.fixture(autouse=True)
def _default_language():
    # A request to a /es/ address leaves Spanish active in its thread, as Django does;
    # code called outside a request (the import, the release command) runs in the default
    # language, as it does in a management command.
    with translation.override(django_settings.LANGUAGE_CODE):
        yield


@pytest.fixture(autouse=True)
def _page_cache_off(settings):
    # Tests look at how pages are built; tests/test_page_cache.py covers the cache itself.
    settings.PUBLIC_PAGE_CACHE = False
    # A write shows to the very next request; tests of the page answered while it is
    # rebuilt set their own.
    settings.PAGE_STALE_SECONDS = 0
    local_pages.clear()


@pytest.fixture
def courthouse(db):
    return CourthouseFactory()


@pytest.fixture
def incident(db):
    return IncidentFactory()


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root", "root@example.org", "pw-root-123")


@pytest.fixture
def court_admin(db):
    """A court administrator whose jurisdiction is every state (tests/test_jurisdiction.py limits one)."""
    user = User.objects.create_user("clerk", password="pw-clerk-123")
    group = Group.objects.filter(name="Court administrators").first()
    if group:
        user.groups.add(group)
    Jurisdiction.objects.bulk_create(Jurisdiction(user=user, state=state) for state in State.objects.all())
    return user


@pytest.fixture
def reviewer(db):
    user = User.objects.create_user("reviewer", password="pw-reviewer-123")
    group = Group.objects.filter(name="Reviewers").first()
    if group:
        user.groups.add(group)
    return user


@pytest.fixture
def outsider(db):
    return User.objects.create_user("outsider", password="pw-outsider-123")


@pytest.fixture
def staff_client(client, superuser):
    client.force_login(superuser)
    return client


def pytest_configure(config):
    """Compile the translations when a .po file is newer than its .mo (as `make test` does),
    once, in the main process: the Spanish tests read the compiled catalogues."""
    if hasattr(config, "workerinput"):
        return
    import subprocess
    from pathlib import Path

    for po in Path(__file__).resolve().parent.parent.glob("locale/*/LC_MESSAGES/*.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            subprocess.run(["msgfmt", "--check", "-o", str(mo), str(po)], check=True)
