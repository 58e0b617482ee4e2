"""Roles are groups made by a migration; set_role gives exactly one; new accounts are viewers."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from apps.accounts.permissions import ADJUDICATE, ADMINISTER, LABEL, READ, RUN_JOBS, user_can
from apps.accounts.roles import ROLES, role_of, role_permissions

pytestmark = pytest.mark.django_db


def test_it_makes_the_five_role_groups_with_cumulative_permissions():
    for role in ROLES:
        group = Group.objects.get(name=role)
        codenames = set(group.permissions.values_list("codename", flat=True))
        assert codenames == set(role_permissions(role))
    assert set(role_permissions("vetter")) < set(role_permissions("adjudicator")) < set(role_permissions("admin"))


def test_it_gives_a_new_account_the_viewer_role(django_user_model):
    newcomer = django_user_model.objects.create_user("newcomer", password="x-pass-123")
    assert role_of(newcomer) == "viewer"
    assert user_can(newcomer, READ) and not user_can(newcomer, LABEL)


def test_it_sets_exactly_one_role_from_the_command(django_user_model, capsys):
    django_user_model.objects.create_user("carol", password="x-pass-123")
    call_command("set_role", "carol", "adjudicator")
    carol = django_user_model.objects.get(username="carol")
    assert role_of(carol) == "adjudicator" and carol.groups.count() == 1
    assert user_can(carol, ADJUDICATE) and user_can(carol, LABEL) and not user_can(carol, RUN_JOBS)
    call_command("set_role", "carol", "admin")
    carol = django_user_model.objects.get(username="carol")
    assert carol.is_staff and user_can(carol, ADMINISTER)
    call_command("set_role", "carol", "viewer")
    carol = django_user_model.objects.get(username="carol")
    assert not carol.is_staff and not carol.is_superuser and role_of(carol) == "viewer"
    assert "carol is now viewer" in capsys.readouterr().out


def test_it_creates_the_account_only_when_asked(django_user_model):
    with pytest.raises(CommandError, match="no user 'dave'"):
        call_command("set_role", "dave", "vetter")
    call_command("set_role", "dave", "vetter", "--create")
    dave = django_user_model.objects.get(username="dave")
    assert role_of(dave) == "vetter" and not dave.has_usable_password()


def test_it_refuses_an_unknown_role(django_user_model):
    django_user_model.objects.create_user("erin")
    with pytest.raises(CommandError):
        call_command("set_role", "erin", "overlord")


def test_it_lets_anonymous_visitors_read_only_while_public_reading_is_on(settings, django_user_model):
    from django.contrib.auth.models import AnonymousUser

    assert user_can(AnonymousUser(), READ)
    settings.GAIA_PUBLIC_READ = False
    assert not user_can(AnonymousUser(), READ)
    nobody = django_user_model.objects.create_user("nobody")
    nobody.groups.clear()
    assert not user_can(nobody, READ)


def test_it_asks_for_a_login_everywhere_when_public_reading_is_off(client, settings, viewer):
    settings.GAIA_PUBLIC_READ = False
    page = client.get("/targets/")
    assert page.status_code == 302 and page["Location"].startswith("/accounts/login/")
    assert client.get("/api/targets").status_code == 401
    assert client.get("/accounts/login/").status_code == 200
    assert client.get("/healthz").status_code == 200
    client.force_login(viewer)
    assert client.get("/targets/").status_code == 200
    assert client.get("/api/targets").status_code == 200


def test_the_admin_site_is_for_the_admin_role_only(client, django_user_model, staff):
    from tests.conftest import make_user

    promoted = make_user(django_user_model, "staffer", "operator")
    promoted.is_staff = True  # staff flag without the admin role is not enough
    promoted.save()
    client.force_login(promoted)
    assert client.get("/admin/").status_code == 302
    client.force_login(staff)
    assert client.get("/admin/").status_code == 200
