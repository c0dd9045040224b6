import logging

import pytest
from django.contrib.auth.models import User

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


@pytest.fixture(autouse=True)
def throttling_on(settings):
    settings.AXES_ENABLED = True


@pytest.fixture
def clerk():
    return User.objects.create_user("clerk", password="right-password-1")


def attempt(client, password, ip="10.0.0.1", username="clerk"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_it_locks_a_username_and_address_after_five_failures(client, clerk):
    for _ in range(4):
        assert attempt(client, "wrong").status_code == 200
    assert attempt(client, "wrong").status_code == 429  # the fifth failure locks
    response = attempt(client, "right-password-1")
    assert response.status_code == 429
    assert "locked" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_four_failures_do_not_lock(client, clerk):
    for _ in range(4):
        attempt(client, "wrong")
    assert attempt(client, "right-password-1").status_code == 302


def test_the_lock_is_per_address(client, clerk):
    for _ in range(5):
        attempt(client, "wrong", ip="10.0.0.1")
    assert attempt(client, "right-password-1", ip="10.0.0.2").status_code == 302


def test_a_forged_forwarded_for_header_does_not_escape_the_lock(client, clerk):
    for n in range(5):
        client.post(
            LOGIN,
            {"username": "clerk", "password": "wrong"},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}",
        )
    response = client.post(
        LOGIN,
        {"username": "clerk", "password": "right-password-1"},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="192.0.2.99",
    )
    assert response.status_code == 429


def test_every_failure_is_logged(client, clerk, caplog):
    with caplog.at_level(logging.INFO):
        attempt(client, "wrong")
        attempt(client, "wrong-again")
    failures = [r for r in caplog.records if r.name.startswith("axes") and "fail" in r.getMessage().lower()]
    assert len(failures) >= 2


def test_behind_a_proxy_the_lock_follows_the_forwarded_client_address(client, clerk, settings):
    settings.PROXY_COUNT = 1

    def behind_proxy(password, forwarded):
        data = {"username": "clerk", "password": password}
        return client.post(LOGIN, data, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)

    for n in range(5):  # a forged first entry changes nothing: the proxy's entry is last
        behind_proxy("wrong", f"192.0.2.{n}, 203.0.113.5")
    assert behind_proxy("right-password-1", "203.0.113.5").status_code == 429
    # Another client behind the same proxy is not locked out.
    assert behind_proxy("right-password-1", "203.0.113.6").status_code == 302
