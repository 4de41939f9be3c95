import logging
import threading
import time
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from logs.models import LogEntry
from syncer.connections import trakt_client
from syncer.http import AuthError
from syncer.models import SystemConfig, TraktDeviceCode, TraktToken
from syncer.trakt_connection.crypto import decrypt
from syncer.trakt_connection.oauth import (
    trakt_authorize_url,
    trakt_code_exchange,
    trakt_device_poll,
    trakt_device_start,
    trakt_disconnect,
)
from syncer.trakt_connection.tokens import (
    trakt_access_token,
    trakt_token_refresh,
    trakt_token_save,
    trakt_token_status,
)

pytestmark = pytest.mark.django_db


def _stored_refresh() -> str:
    return decrypt(TraktToken.objects.get(id=1).refresh_token)


# --- token store


def test_it_seeds_the_store_from_the_environment_when_empty(fake_trakt, settings):
    pair = fake_trakt.issue_token()
    settings.TRAKT_ACCESS_TOKEN, settings.TRAKT_REFRESH_TOKEN = pair["access_token"], pair["refresh_token"]
    assert trakt_access_token() == pair["access_token"]
    assert _stored_refresh() == pair["refresh_token"]
    assert trakt_token_status()["connected"] is True


def test_it_prefers_an_adopted_databases_system_config_keys(fake_trakt, settings):
    settings.TRAKT_ACCESS_TOKEN = "environment-token-0000"
    SystemConfig.objects.create(key="trakt:token", value="adopted-access-token-1")
    SystemConfig.objects.create(key="trakt:refresh_token", value='"adopted-refresh-token-1"')
    assert trakt_access_token() == "adopted-access-token-1"
    assert _stored_refresh() == "adopted-refresh-token-1"


def test_tokens_are_encrypted_at_rest(trakt_connected):
    row = TraktToken.objects.get(id=1)
    token = trakt_access_token()
    assert token not in row.access_token and row.access_token.startswith("fernet1:")
    assert decrypt(row.access_token) == token


def test_a_changed_secret_key_asks_for_a_reconnect_instead_of_crashing(trakt_connected, settings):
    settings.SECRET_KEY = "a-completely-different-secret-key-0123456789"
    with pytest.raises(AuthError, match="reconnected"):
        trakt_access_token()
    assert trakt_token_status()["state"] == TraktToken.State.NEEDS_RECONNECT


def test_it_refreshes_ahead_of_expiry_and_saves_the_rotated_pair(fake_trakt):
    pair = fake_trakt.issue_token(lifetime=1000, created_at=int(time.time()) - 950)  # 5 % left
    trakt_token_save(payload=pair)
    version = TraktToken.objects.get(id=1).version
    token = trakt_access_token()
    assert token != pair["access_token"]
    assert fake_trakt.refresh_attempts == [pair["refresh_token"]]
    row = TraktToken.objects.get(id=1)
    assert row.version == version + 1 and decrypt(row.refresh_token) != pair["refresh_token"]
    assert row.expires_at - row.token_created_at == timedelta(seconds=fake_trakt.token_lifetime)
    assert trakt_access_token() == token and len(fake_trakt.refresh_attempts) == 1


def test_a_failed_early_refresh_keeps_using_the_still_valid_token(fake_trakt):
    pair = fake_trakt.issue_token(lifetime=1000, created_at=int(time.time()) - 950)
    trakt_token_save(payload=pair)
    fake_trakt.fail(r"/oauth/token", status=503, times=None)
    assert trakt_access_token() == pair["access_token"]
    assert trakt_token_status()["state"] == TraktToken.State.CONNECTED


def test_it_does_not_refresh_a_token_with_most_of_its_life_left(fake_trakt):
    pair = fake_trakt.issue_token(lifetime=1000, created_at=int(time.time()) - 800)  # 20 % left
    trakt_token_save(payload=pair)
    assert trakt_access_token() == pair["access_token"] and fake_trakt.refresh_attempts == []


def test_it_refreshes_once_on_a_401_and_repeats_the_call(trakt_connected):
    fake = trakt_connected
    fake.expire_tokens()
    assert "episodes" in trakt_client().last_activities()
    assert len(fake.refresh_attempts) == 1
    assert len(fake.requests_to(r"/sync/last_activities")) == 2


def test_a_refused_refresh_leaves_a_reconnect_state_not_a_crash_loop(trakt_connected):
    fake = trakt_connected
    fake.refresh_tokens.clear()  # the refresh token was spent elsewhere
    fake.expire_tokens()
    with pytest.raises(AuthError, match="reconnected"):
        trakt_client().last_activities()
    status = trakt_token_status()
    assert status["state"] == TraktToken.State.NEEDS_RECONNECT and not status["connected"]
    assert "refused the refresh token" in status["message"]
    with pytest.raises(AuthError):
        trakt_client().last_activities()
    assert len(fake.refresh_attempts) == 1  # the second call did not try again


def test_a_refresh_that_finds_the_row_already_rotated_uses_the_new_token(trakt_connected):
    fake = trakt_connected
    stale_version = TraktToken.objects.get(id=1).version
    first = trakt_token_refresh(reason="test", seen_version=stale_version)
    second = trakt_token_refresh(reason="test", seen_version=stale_version)
    assert first == second and len(fake.refresh_attempts) == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_refreshes_spend_the_old_refresh_token_once(postgres_only, fake_trakt):
    trakt_token_save(payload=fake_trakt.issue_token())
    old_refresh, version = _stored_refresh(), TraktToken.objects.get(id=1).version
    fake_trakt.refresh_delay = 0.3  # keeps the first refresh in flight while the second arrives
    barrier, results, errors = threading.Barrier(2), [], []

    def refresh():
        try:
            barrier.wait()
            results.append(trakt_token_refresh(reason="race", seen_version=version))
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert errors == []
    assert fake_trakt.refresh_attempts == [old_refresh]
    assert len(results) == 2 and results[0] == results[1]
    assert TraktToken.objects.get(id=1).version == version + 1
    assert trakt_token_status()["state"] == TraktToken.State.CONNECTED


# --- connecting


def test_the_device_flow_goes_through_pending_slow_down_and_approval(fake_trakt):
    device = trakt_device_start()
    assert device.user_code and device.state == TraktDeviceCode.State.PENDING
    assert "fake-device" not in device.device_code  # encrypted
    device = trakt_device_poll(device=device)
    assert device.state == TraktDeviceCode.State.PENDING and "Waiting" in device.message
    fake_trakt.rate_limit(r"/oauth/device/token")
    device = trakt_device_poll(device=device)
    assert device.state == TraktDeviceCode.State.PENDING and device.interval == 5
    device.last_polled_at -= timedelta(seconds=5)
    fake_trakt.set_device_status("approved")
    device = trakt_device_poll(device=device)
    assert device.state == TraktDeviceCode.State.CONNECTED
    status = trakt_token_status()
    assert status["connected"] and status["username"] == "fake-user"


def test_the_device_poll_waits_its_interval_between_calls(fake_trakt):
    fake_trakt.device_interval = 30
    device = trakt_device_poll(device=trakt_device_start())
    trakt_device_poll(device=device)
    assert len(fake_trakt.requests_to(r"/oauth/device/token")) == 1


@pytest.mark.parametrize("fake_status,state", [("denied", TraktDeviceCode.State.DENIED),
                                               ("expired", TraktDeviceCode.State.EXPIRED),
                                               ("used", TraktDeviceCode.State.USED)])
def test_the_device_flow_ends_on_each_refusal(fake_trakt, fake_status, state):
    device = trakt_device_start()
    fake_trakt.set_device_status(fake_status)
    device = trakt_device_poll(device=device)
    assert device.state == state and device.message
    assert trakt_token_status()["connected"] is False


def test_an_unknown_device_code_is_invalid(fake_trakt):
    device = trakt_device_start()
    fake_trakt.devices.clear()
    assert trakt_device_poll(device=device).state == TraktDeviceCode.State.INVALID


def test_a_device_code_past_its_expiry_is_not_polled(fake_trakt):
    device = trakt_device_start()
    device.expires_at = timezone.now() - timedelta(seconds=1)
    assert trakt_device_poll(device=device).state == TraktDeviceCode.State.EXPIRED
    assert fake_trakt.requests_to(r"/oauth/device/token") == []


def test_a_pasted_authorization_code_connects(fake_trakt):
    code = fake_trakt.add_auth_code()
    assert "redirect_uri=urn" in trakt_authorize_url() and fake_trakt.client_id in trakt_authorize_url()
    assert trakt_code_exchange(code=code)["connected"] is True
    with pytest.raises(AuthError, match="refused the code"):
        trakt_code_exchange(code=code)  # single use


def test_disconnect_revokes_and_is_not_undone_by_the_environment(trakt_connected, settings):
    token = trakt_access_token()
    settings.TRAKT_ACCESS_TOKEN = "environment-token-0000"
    trakt_disconnect()
    assert trakt_connected.revoked == [token]
    assert trakt_token_status()["state"] == TraktToken.State.DISCONNECTED
    with pytest.raises(AuthError, match="not connected"):
        trakt_access_token()


def test_the_command_prints_the_code_and_waits_for_approval(fake_trakt, capsys):
    fake_trakt.device_approve_after = 2
    call_command("trakt_auth")
    out = capsys.readouterr().out
    device = TraktDeviceCode.objects.get()
    assert device.user_code in out and device.verification_url in out and "Connected" in out
    assert len(fake_trakt.requests_to(r"/oauth/device/token")) == 3


def test_the_command_fails_clearly_when_access_is_denied(fake_trakt):
    fake_trakt.device_approve_after = None
    original = fake_trakt._device_code

    def deny_at_once(request):
        response = original(request)
        fake_trakt.set_device_status("denied")
        return response

    fake_trakt._routes[1] = ("POST", fake_trakt._routes[1][1], deny_at_once)
    with pytest.raises(CommandError, match="denied"):
        call_command("trakt_auth")


def test_the_command_accepts_a_pasted_code(fake_trakt, capsys):
    call_command("trakt_auth", code=fake_trakt.add_auth_code())
    assert "Connected to Trakt as fake-user" in capsys.readouterr().out


def test_no_token_or_device_code_reaches_the_logs(fake_trakt, caplog, settings):
    with caplog.at_level(logging.DEBUG):
        device = trakt_device_start()
        fake_trakt.set_device_status("approved")
        trakt_device_poll(device=device)
        first = trakt_access_token()
        fake_trakt.expire_tokens()
        trakt_client().last_activities()
        second = trakt_access_token()
        trakt_disconnect()
    secrets = [first, second, decrypt(device.device_code), *fake_trakt.refresh_attempts]
    logged = caplog.text + "\n".join(LogEntry.objects.values_list("message", flat=True))
    assert "Trakt token refreshed" in logged  # the lines were written ...
    for secret in secrets:
        assert secret not in logged  # ... without a secret in them
