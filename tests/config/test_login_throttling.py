"""Login throttling (django-axes): five wrong passwords for one user name from one address lock
that pair out for 15 minutes, with a message saying so; `axes_reset_username` unlocks."""

import io

import pytest
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Every attempt checks a password: the fast hasher keeps the many attempts quick."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def log_in(client, password, username="staff", address="192.0.2.10"):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_a_wrong_password_shows_the_form_again_with_the_user_name_kept(client, staff_user):
    response = log_in(client, "wrong")
    assert response.status_code == 200
    assert b"didn't match" in response.content
    assert b'value="staff"' in response.content


def test_five_wrong_passwords_lock_the_user_out_even_with_the_right_one_next(client, staff_user, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(4):
        assert log_in(client, "wrong").status_code == 200
    locked = log_in(client, "wrong")
    assert locked.status_code == 429
    right = log_in(client, PASSWORD)
    assert right.status_code == 429
    assert b"Too many failed logins" in right.content and b"15 minutes" in right.content
    assert b"axes_reset_username staff" in right.content
    assert b'value="staff"' in right.content
    assert not signed_in(client)


def test_the_lockout_holds_for_that_user_and_address_only(client, staff_user, django_user_model):
    django_user_model.objects.create_user(username="other", password=PASSWORD, is_staff=True)
    for _ in range(5):
        log_in(client, "wrong")
    assert log_in(Client(), PASSWORD, address="192.0.2.99").status_code == 302
    assert log_in(Client(), PASSWORD, username="other").status_code == 302


def test_the_admin_login_counts_and_refuses_the_same_way(client, staff_user):
    for _ in range(5):
        client.post("/admin/login/", {"username": "staff", "password": "wrong"}, REMOTE_ADDR="192.0.2.10")
    assert log_in(client, PASSWORD).status_code == 429


def test_axes_reset_username_unlocks_at_once(client, staff_user):
    for _ in range(5):
        log_in(client, "wrong")
    call_command("axes_reset_username", "staff", stdout=io.StringIO())
    response = log_in(client, PASSWORD)
    assert response.status_code == 302 and signed_in(client)


def test_the_lockout_ends_after_the_cool_off(client, staff_user):
    from datetime import timedelta

    from axes.models import AccessAttempt

    for _ in range(5):
        log_in(client, "wrong")
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16))
    assert log_in(client, PASSWORD).status_code == 302


def test_a_successful_login_forgets_earlier_failures(client, staff_user):
    for _ in range(4):
        log_in(client, "wrong")
    assert log_in(client, PASSWORD).status_code == 302
    client.post("/logout/")
    for _ in range(4):
        log_in(client, "wrong")
    assert log_in(client, PASSWORD).status_code == 302


# --- password spraying: many user names from one address -------------------------------------


def spray(names, address="198.51.100.7"):
    return [log_in(Client(), "wrong", username=name, address=address).status_code for name in names]


def test_failures_across_many_user_names_from_one_address_block_that_address(staff_user, settings):
    assert settings.LOGIN_ADDRESS_FAILURE_LIMIT == 20
    # Four tries per name stays under the per-name lockout (5); the address's total does not.
    assert spray([f"user{i // 4}" for i in range(20)]) == [200] * 20
    blocked = log_in(Client(), PASSWORD, address="198.51.100.7")
    assert blocked.status_code == 429 and not signed_in(Client())
    assert b"Too many failed logins from this address" in blocked.content
    assert b"axes_reset_ip 198.51.100.7" in blocked.content


def test_the_address_block_leaves_other_addresses_alone(client, staff_user):
    spray([f"user{i}" for i in range(20)])
    assert log_in(client, PASSWORD, address="192.0.2.99").status_code == 302 and signed_in(client)


def test_the_address_block_ends_after_the_cool_off(client, staff_user):
    from datetime import timedelta

    from axes.models import AccessAttempt

    spray([f"user{i}" for i in range(20)])
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.first().attempt_time - timedelta(minutes=16))
    assert log_in(client, PASSWORD, address="198.51.100.7").status_code == 302


def test_the_admin_login_is_held_to_the_address_limit_too(staff_user):
    spray([f"user{i}" for i in range(20)])
    response = Client().post("/admin/login/", {"username": "staff", "password": PASSWORD},
                             REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 429


def test_an_address_limit_of_0_turns_the_address_lockout_off(client, staff_user, settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 0
    spray([f"user{i}" for i in range(20)])
    assert log_in(client, PASSWORD, address="198.51.100.7").status_code == 302


def test_a_session_started_by_force_login_stays_signed_in(client, staff_user):
    # The address check logs no one in: the session must name the backend that does.
    client.force_login(staff_user)
    assert client.get("/").status_code == 200
