"""Trakt connect `/trakt/`: device code in the page, paste-a-code fallback, disconnect."""

from datetime import timedelta

import pytest
import respx
from django.utils import timezone

from syncer.models import TraktDeviceCode, TraktToken

pytestmark = pytest.mark.django_db
AUTH = "https://auth.example.test"
API = "https://api.example.test"
HTMX = {"HTTP_HX_REQUEST": "true"}
TOKEN = {"access_token": "acc-123", "refresh_token": "ref-456", "expires_in": 604800,
         "created_at": 1_700_000_000, "scope": "public", "token_type": "bearer"}


@pytest.fixture(autouse=True)
def trakt_settings(settings):
    settings.TRAKT_CLIENT_ID = "client-id"
    settings.TRAKT_CLIENT_SECRET = "client-secret"
    settings.TRAKT_AUTH_URL = AUTH
    settings.TRAKT_API_URL = API
    settings.HTTP_MAX_RETRIES = 0


@pytest.fixture
def trakt():
    with respx.mock(assert_all_called=False) as mock:
        mock.post(f"{AUTH}/oauth/device/code").respond(200, json={
            "device_code": "dev-secret", "user_code": "ABCD1234",
            "verification_url": "https://trakt.tv/activate", "expires_in": 600, "interval": 5})
        mock.get(f"{API}/users/settings").respond(200, json={"user": {"username": "kaori"}})
        yield mock


def test_a_disconnected_page_offers_the_device_code_and_the_paste_fallback(staff_client):
    html = staff_client.get("/trakt/").content.decode()
    assert "Not connected" in html and "Connect Trakt" in html
    assert f"{AUTH}/oauth/authorize?response_type=code&amp;client_id=client-id" in html
    assert 'label for="trakt-code"' in html


def test_starting_shows_the_user_code_and_link_and_polls_at_the_interval(staff_client, trakt):
    html = staff_client.post("/trakt/device/", **HTMX).content.decode()
    assert "ABCD1234" in html and "https://trakt.tv/activate" in html
    device = TraktDeviceCode.objects.get()
    assert f'hx-post="/trakt/device/{device.id}/poll/"' in html and "every 5s" in html
    assert "dev-secret" not in html


def test_a_pending_poll_keeps_polling(staff_client, trakt):
    trakt.post(f"{AUTH}/oauth/device/token").respond(400)
    staff_client.post("/trakt/device/", **HTMX)
    device = TraktDeviceCode.objects.get()
    html = staff_client.post(f"/trakt/device/{device.id}/poll/", **HTMX).content.decode()
    assert "Waiting for the code to be entered" in html and "every 5s" in html


def test_a_successful_poll_connects_and_swaps_the_whole_box(staff_client, trakt):
    trakt.post(f"{AUTH}/oauth/device/token").respond(200, json=TOKEN)
    staff_client.post("/trakt/device/", **HTMX)
    device = TraktDeviceCode.objects.get()
    response = staff_client.post(f"/trakt/device/{device.id}/poll/", **HTMX)
    html = response.content.decode()
    assert response["HX-Retarget"] == "#trakt-connection"
    assert "Connected to Trakt as kaori" in html and "Disconnect" in html
    assert TraktToken.objects.get().state == "connected"
    assert "acc-123" not in html


@pytest.mark.parametrize("status, words", [(410, "expired"), (418, "denied")])
def test_an_expired_or_denied_code_stops_polling_and_offers_a_new_start(staff_client, trakt, status, words):
    trakt.post(f"{AUTH}/oauth/device/token").respond(status)
    staff_client.post("/trakt/device/", **HTMX)
    device = TraktDeviceCode.objects.get()
    html = staff_client.post(f"/trakt/device/{device.id}/poll/", **HTMX).content.decode()
    assert words in html and "hx-trigger" not in html and "Start again" in html


def test_a_code_past_its_expiry_is_reported_without_asking_trakt(staff_client, trakt):
    staff_client.post("/trakt/device/", **HTMX)
    device = TraktDeviceCode.objects.get()
    TraktDeviceCode.objects.filter(id=device.id).update(expires_at=timezone.now() - timedelta(seconds=1))
    html = staff_client.post(f"/trakt/device/{device.id}/poll/", **HTMX).content.decode()
    assert "expired" in html


def test_a_pasted_code_connects(staff_client, trakt):
    trakt.post(f"{AUTH}/oauth/token").respond(200, json=TOKEN)
    html = staff_client.post("/trakt/code/", {"code": "pasted-code"}, **HTMX).content.decode()
    assert "Connected to Trakt as kaori" in html
    assert "pasted-code" not in html


def test_a_refused_pasted_code_says_so(staff_client, trakt):
    trakt.post(f"{AUTH}/oauth/token").respond(400, json={"error": "invalid_grant"})
    response = staff_client.post("/trakt/code/", {"code": "wrong"})
    assert response.status_code == 400
    assert "Trakt refused the code" in response.content.decode()


def test_missing_client_credentials_are_explained(staff_client, settings):
    settings.TRAKT_CLIENT_ID = ""
    html = staff_client.post("/trakt/device/", **HTMX).content.decode()
    assert "TRAKT_CLIENT_ID and TRAKT_CLIENT_SECRET must be set" in html


def test_the_page_explains_missing_client_credentials_instead_of_offering_to_connect(staff_client, settings):
    settings.TRAKT_CLIENT_SECRET = ""
    html = staff_client.get("/trakt/").content.decode()
    assert "Not set up" in html and "trakt.tv/oauth/applications" in html
    assert "Connect Trakt</button>" not in html and "Authorization code" not in html


def test_once_connected_the_page_points_to_the_next_step(staff_client, trakt):
    trakt.post(f"{AUTH}/oauth/token").respond(200, json=TOKEN)
    html = staff_client.post("/trakt/code/", {"code": "pasted-code"}).content.decode()
    assert 'Next: <a href="/sync/">preview a sync</a>' in html


def test_disconnect_forgets_the_token(staff_client, trakt):
    trakt.post(f"{AUTH}/oauth/token").respond(200, json=TOKEN)
    trakt.post(f"{AUTH}/oauth/revoke").respond(200)
    staff_client.post("/trakt/code/", {"code": "pasted-code"})
    html = staff_client.post("/trakt/disconnect/", **HTMX).content.decode()
    assert "Disconnected from Trakt." in html and "Connect Trakt" in html
    assert TraktToken.objects.get().state == "disconnected"


def test_the_dashboard_shows_who_trakt_and_anilist_are_connected_as(staff_client, trakt, settings):
    settings.ANILIST_ACCESS_TOKEN = "anilist-token"
    settings.ANILIST_API_URL = "https://anilist.example.test"
    from syncer.clients.anilist import viewer_cache_clear

    viewer_cache_clear()
    trakt.post("https://anilist.example.test").respond(
        200, json={"data": {"Viewer": {"id": 7, "name": "kaori", "mediaListOptions": {"scoreFormat": "POINT_10"}}}})
    trakt.post(f"{AUTH}/oauth/token").respond(200, json=TOKEN)
    staff_client.post("/trakt/code/", {"code": "pasted-code"})
    html = staff_client.get("/dashboard/connections/").content.decode()
    assert "as <strong>kaori</strong> (user 7)" in html
    assert "token expires" in html
    viewer_cache_clear()


def test_the_dashboard_says_what_to_fix_when_anilist_refuses_the_token(staff_client, settings):
    settings.ANILIST_ACCESS_TOKEN = "bad"
    settings.ANILIST_API_URL = "https://anilist.example.test"
    from syncer.clients.anilist import viewer_cache_clear

    viewer_cache_clear()
    with respx.mock() as mock:
        mock.post("https://anilist.example.test").respond(400, json={"errors": [{"message": "Invalid token", "status": 400}]})
        html = staff_client.get("/dashboard/connections/").content.decode()
    assert "check ANILIST_ACCESS_TOKEN" in html and "Not connected" in html


@pytest.mark.parametrize("url", ["javascript:alert(document.cookie)", " JavaScript:alert(1)",
                                 "data:text/html,<b>x</b>", "//evil.example/activate", "https://"])
def test_a_verification_url_that_is_not_a_web_address_is_never_a_link(staff_client, trakt, url):
    trakt.post(f"{AUTH}/oauth/device/code").respond(200, json={
        "device_code": "dev-secret", "user_code": "ABCD1234", "verification_url": url,
        "expires_in": 600, "interval": 5})
    html = staff_client.post("/trakt/device/", **HTMX).content.decode()
    assert "javascript:" not in html.lower() and "data:text" not in html and "evil" not in html
    assert 'href="https://trakt.tv/activate"' in html
    assert TraktDeviceCode.objects.get().verification_url == "https://trakt.tv/activate"
