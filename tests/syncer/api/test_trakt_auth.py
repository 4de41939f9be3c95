"""Contract tests: /api/trakt-auth (code flow) and /api/trakt-auth/device (device flow),
end to end against the loopback Trakt fake."""

from urllib.parse import parse_qs, urlsplit

import pytest

from syncer.models import TraktDeviceCode, TraktToken
from syncer.trakt_connection.tokens import trakt_token_status

pytestmark = pytest.mark.django_db


def test_get_gives_the_authorize_url_and_redirect_uri(api, fake_trakt, settings):
    response = api.get("/api/trakt-auth")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"authUrl", "redirectUri"}
    assert body["redirectUri"] == settings.TRAKT_REDIRECT_URI
    query = parse_qs(urlsplit(body["authUrl"]).query)
    assert query["client_id"] == [fake_trakt.client_id] and query["response_type"] == ["code"]


def test_posting_a_code_connects_trakt(api, fake_trakt):
    code = fake_trakt.add_auth_code()
    response = api.post("/api/trakt-auth", {"code": code})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"message", "expires_in"}
    assert body["message"] == "Trakt tokens updated"
    assert 7 * 86400 - 60 <= body["expires_in"] <= 7 * 86400
    assert trakt_token_status()["connected"] is True


def test_a_wrong_code_is_a_400_and_leaves_trakt_disconnected(api, fake_trakt):
    response = api.post("/api/trakt-auth", {"code": "not-a-real-code"})
    assert response.status_code == 400
    assert "not-a-real-code" not in response.json()["error"]  # secrets stay out of messages
    assert not TraktToken.objects.filter(state=TraktToken.State.CONNECTED).exists()


@pytest.mark.parametrize(
    "body, named",
    [({}, "code"), ({"code": ""}, "code"), ({"code": 123}, "code"), ({"code": "x" * 513}, "code"),
     ({"code": "abc", "state": "x"}, "state")],
)
def test_bad_bodies_are_refused_before_trakt_is_called(api, fake_trakt, body, named):
    response = api.post("/api/trakt-auth", body)
    assert response.status_code == 400
    assert named in response.json()["error"]
    assert not fake_trakt.requests


def test_without_client_credentials_it_says_what_to_set(api, settings):
    settings.TRAKT_CLIENT_ID = ""
    response = api.get("/api/trakt-auth")
    assert response.status_code == 503
    assert "TRAKT_CLIENT_ID" in response.json()["error"]


DEVICE_KEYS = {"deviceId", "state", "message", "userCode", "verificationUrl", "interval", "expiresAt", "pollUrl"}


def test_the_device_flow_connects_trakt(api, fake_trakt):
    started = api.post("/api/trakt-auth/device")
    assert started.status_code == 201
    body = started.json()
    assert set(body) == DEVICE_KEYS and body["state"] == "pending"
    assert "device_code" not in started.content.decode()

    pending = api.post(body["pollUrl"]).json()
    assert pending["state"] == "pending"

    fake_trakt.set_device_status("approved")
    TraktDeviceCode.objects.filter(pk=body["deviceId"]).update(last_polled_at=None)
    connected = api.post(body["pollUrl"])
    assert connected.status_code == 200
    assert connected.json()["state"] == "connected"
    assert trakt_token_status()["connected"] is True
    # GET reads the stored state without asking Trakt again.
    calls = len(fake_trakt.requests)
    assert api.get(body["pollUrl"]).json()["state"] == "connected"
    assert len(fake_trakt.requests) == calls


def test_a_denied_device_code_reports_it(api, fake_trakt):
    body = api.post("/api/trakt-auth/device").json()
    fake_trakt.set_device_status("denied")
    assert api.post(body["pollUrl"]).json()["state"] == "denied"


def test_an_unknown_device_attempt_is_a_json_404(api, fake_trakt):
    assert api.get("/api/trakt-auth/device/4242").status_code == 404
    assert api.post("/api/trakt-auth/device/4242").status_code == 404


def test_device_routes_refuse_bodies_and_parameters(api, fake_trakt):
    assert api.post("/api/trakt-auth/device", {"client_id": "x"}).status_code == 400
    assert api.post("/api/trakt-auth/device?x=1").status_code == 400
    assert api.get("/api/trakt-auth/device/99999999999").status_code == 400
    assert not TraktDeviceCode.objects.exists()
    assert not fake_trakt.requests


def test_device_start_refuses_get(api):
    response = api.get("/api/trakt-auth/device")
    assert response.status_code == 405 and response["Allow"] == "POST"


def test_trakt_failing_is_a_502(api, fake_trakt):
    fake_trakt.fail(r"/oauth/token", status=503, times=None)
    response = api.post("/api/trakt-auth", {"code": fake_trakt.add_auth_code()})
    assert response.status_code == 502
    assert not TraktToken.objects.filter(state=TraktToken.State.CONNECTED).exists()
