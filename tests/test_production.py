import os
import secrets
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import pytest
from django.db import OperationalError, connection

ROOT = Path(__file__).resolve().parent.parent


def production_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="tracker.example.org",
        **extra,
    )
    return env


def test_check_deploy_is_clean_in_production_mode():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_turn_on_https_protections():
    code = (
        "from django.conf import settings as s;"
        "print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS)"
    )
    env = production_env(DJANGO_SETTINGS_MODULE="tracker.settings")
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.stdout.split() == ["True", "True", "True", "31536000"]


def test_a_proxy_that_terminates_tls_can_switch_the_redirect_off():
    env = production_env(DJANGO_SSL_REDIRECT="false", DJANGO_SETTINGS_MODULE="tracker.settings")
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings as s;"
            "print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.stdout.split() == ["False", "True"]


@pytest.mark.django_db
def test_every_response_carries_the_security_headers(client):
    response = client.get("/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-eval" not in policy
    assert "default-src 'self'" in policy


@pytest.mark.django_db
def test_a_missing_page_is_the_custom_404_without_details(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html
    assert "Traceback" not in html and "SECRET_KEY" not in html


@contextmanager
def database_down():
    """Make the default database unreachable for the duration of the block.

    On PostgreSQL the connection really goes to a port where nothing listens.
    SQLite's in-memory test database cannot be disconnected, so there opening a
    cursor fails the way a lost server does.
    """
    if connection.vendor == "sqlite":
        error = OperationalError("unable to open database file")
        with mock.patch.object(connection, "cursor", side_effect=error):
            yield
        return
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(PORT="1", HOST="127.0.0.1")
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_database_gives_a_503_and_recovers(client, caplog):
    assert client.get("/").status_code == 200
    with database_down():
        response = client.get("/")
    assert response.status_code == 503
    assert "Temporarily unavailable" in response.content.decode()
    assert any("database unavailable" in r.getMessage() for r in caplog.records)
    assert client.get("/").status_code == 200


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "url, status, text",
    [("/incidents/export.csv", 503, "Temporarily unavailable"), ("/no-such-page/", 404, "Page not found")],
)
def test_with_the_database_gone_an_export_is_a_503_and_a_missing_page_a_404(client, url, status, text):
    # Not a 200 cut off after the header line; not a 500 from the 404 page's context.
    with database_down():
        response = client.get(url)
    assert response.status_code == status
    assert text in response.content.decode()


def settings_in_production(code, **env):
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import django; django.setup(); from django.conf import settings as s; {code}",
        ],
        cwd=ROOT,
        env=production_env(DJANGO_SETTINGS_MODULE="tracker.settings", **env),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_hsts_preload_is_off_unless_asked_for():
    assert settings_in_production("print(s.SECURE_HSTS_PRELOAD)") == ["False"]
    assert settings_in_production("print(s.SECURE_HSTS_PRELOAD)", DJANGO_HSTS_PRELOAD="true") == ["True"]


@pytest.mark.django_db
def test_there_is_no_password_reset_that_sends_nothing(client):
    assert client.get("/accounts/password_reset/").status_code == 404
    assert client.get("/accounts/login/").status_code == 200


def test_sqlite_writes_ahead_and_takes_the_write_lock_at_the_start(tmp_path):
    url = f"sqlite:///{tmp_path / 'wal.sqlite3'}"
    code = (
        "from django.db import connection; c = connection.cursor();"
        "print(c.execute('PRAGMA journal_mode').fetchone()[0]);"
        "print(s.DATABASES['default']['OPTIONS']['transaction_mode']);"
        "print(s.CACHES['default']['BACKEND'])"
    )
    assert settings_in_production(code, DATABASE_URL=url) == [
        "wal",
        "IMMEDIATE",
        "django.core.cache.backends.locmem.LocMemCache",
    ]
