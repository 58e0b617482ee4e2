"""Login throttling (django-axes): a user name is locked from one address after repeated failures.

The lock is keyed on user name *and* client address together, so one attacker cannot lock everyone
out of a shared address, nor lock a user out everywhere. It covers the site login and the admin login.
"""

from __future__ import annotations

import pytest
from axes.backends import AxesStandaloneBackend
from django.conf import settings as django_settings
from django.contrib.auth import get_backends
from django.core.management import call_command

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/?next=/admin/"
PASSWORD = "s3cret-pass"
ATTACKER = "10.0.0.66"


@pytest.fixture
def people(django_user_model):
    alice = django_user_model.objects.create_user(username="alice_t", password=PASSWORD)
    bob = django_user_model.objects.create_user(username="bob_t", password=PASSWORD)
    root = django_user_model.objects.create_superuser(username="root_t", password=PASSWORD)
    return alice, bob, root


def attempt(client, url, username, password, address, **extra):
    client.cookies.clear()  # every attempt as a fresh visitor; only the address ties them together
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address, **extra)


def logged_in(response) -> bool:
    return response.status_code == 302 and response.wsgi_request.user.is_authenticated


def lock_out(client, url, username, address, **extra):
    limit = django_settings.AXES_FAILURE_LIMIT
    for n in range(1, limit + 1):
        response = attempt(client, url, username, "wrong-password", address, **extra)
        if n < limit:
            assert response.status_code == 200, n  # the form again, with its error
    return response


def assert_locked_page(response, username):
    assert response.status_code in (403, 429)
    body = response.content.decode()
    assert "Login locked" in body and username in body and "15:00" in body


def test_the_settings_match_the_documented_defaults():
    assert django_settings.AXES_FAILURE_LIMIT == 5
    assert django_settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60
    assert django_settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert django_settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"
    assert isinstance(get_backends()[0], AxesStandaloneBackend)


def test_five_failures_lock_that_user_from_that_address(client, people):
    response = lock_out(client, LOGIN, "alice_t", ATTACKER)
    assert_locked_page(response, "alice_t")
    # Even the right password fails now, with the lockout page.
    response = attempt(client, LOGIN, "alice_t", PASSWORD, ATTACKER)
    assert_locked_page(response, "alice_t")
    assert not response.wsgi_request.user.is_authenticated
    # Another user behind the same address is not affected...
    assert logged_in(attempt(client, LOGIN, "bob_t", PASSWORD, ATTACKER))
    # ...nor is the same user from another address.
    assert logged_in(attempt(client, LOGIN, "alice_t", PASSWORD, "10.0.0.7"))


def test_the_admin_login_is_covered_and_the_command_lifts_the_lock(client, people):
    response = lock_out(client, ADMIN_LOGIN, "root_t", ATTACKER)
    assert_locked_page(response, "root_t")
    assert_locked_page(attempt(client, ADMIN_LOGIN, "root_t", PASSWORD, ATTACKER), "root_t")
    # The lock is per user name, not per form: the site login is locked for root_t too.
    assert_locked_page(attempt(client, LOGIN, "root_t", PASSWORD, ATTACKER), "root_t")

    call_command("axes_reset_username", "root_t")
    response = attempt(client, ADMIN_LOGIN, "root_t", PASSWORD, ATTACKER)
    assert logged_in(response) and response["Location"] == "/admin/"


def test_a_success_before_the_limit_starts_the_count_again(client, people):
    for _ in range(4):
        attempt(client, LOGIN, "alice_t", "wrong-password", ATTACKER)
    assert logged_in(attempt(client, LOGIN, "alice_t", PASSWORD, ATTACKER))
    for _ in range(4):
        assert attempt(client, LOGIN, "alice_t", "wrong-password", ATTACKER).status_code == 200
    assert logged_in(attempt(client, LOGIN, "alice_t", PASSWORD, ATTACKER))


def test_x_forwarded_for_is_ignored_unless_behind_the_proxy(client, people, settings):
    settings.GAIA_BEHIND_PROXY = False
    lock_out(client, LOGIN, "alice_t", ATTACKER)
    # A client-made X-Forwarded-For does not move the attacker to a fresh address.
    response = attempt(client, LOGIN, "alice_t", PASSWORD, ATTACKER, HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert_locked_page(response, "alice_t")


def test_behind_the_proxy_the_address_is_the_hop_the_proxy_added(client, people, settings):
    settings.GAIA_BEHIND_PROXY = True
    proxy = "172.18.0.2"  # every request arrives from the proxy
    lock_out(client, LOGIN, "alice_t", proxy, HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.9")
    # Spoofing the left part of the header does not help the attacker at 203.0.113.9...
    response = attempt(client, LOGIN, "alice_t", PASSWORD, proxy, HTTP_X_FORWARDED_FOR="2.2.2.2, 203.0.113.9")
    assert_locked_page(response, "alice_t")
    # ...while alice at another address, through the same proxy, logs in.
    assert logged_in(attempt(client, LOGIN, "alice_t", PASSWORD, proxy, HTTP_X_FORWARDED_FOR="198.51.100.4"))


def test_client_login_still_works_in_tests(client, people):
    assert client.login(username="alice_t", password=PASSWORD)
    assert not client.login(username="alice_t", password="wrong-password")
