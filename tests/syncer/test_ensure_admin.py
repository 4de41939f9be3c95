"""`manage.py ensure_admin`, run by every `make run`: someone can log in, and a restart with an
unchanged password logs nobody out."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def ensure_admin() -> str:
    out = StringIO()
    call_command("ensure_admin", stdout=out)
    return out.getvalue()


def test_the_admin_from_the_settings_is_created(settings):
    settings.ADMIN_USERNAME, settings.ADMIN_PASSWORD = "me", "a long password"
    assert "Created admin 'me'" in ensure_admin()
    user = get_user_model().objects.get(username="me")
    assert user.is_superuser and user.check_password("a long password")


def test_a_restart_with_the_same_password_keeps_the_stored_hash_so_sessions_survive(settings):
    settings.ADMIN_USERNAME, settings.ADMIN_PASSWORD = "me", "a long password"
    ensure_admin()
    before = get_user_model().objects.get(username="me").password
    assert "up to date" in ensure_admin()
    assert get_user_model().objects.get(username="me").password == before


def test_a_changed_password_is_applied(settings):
    settings.ADMIN_USERNAME, settings.ADMIN_PASSWORD = "me", "a long password"
    ensure_admin()
    settings.ADMIN_PASSWORD = "another long password"
    assert "Updated admin 'me'" in ensure_admin()
    assert get_user_model().objects.get(username="me").check_password("another long password")


def test_without_settings_a_random_password_is_printed_once(settings):
    settings.ADMIN_USERNAME = settings.ADMIN_PASSWORD = ""
    assert "Created admin account: username 'admin'" in ensure_admin()
    assert "Log in with your staff account" in ensure_admin()
