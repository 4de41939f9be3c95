"""Who may call each /api/ route: anonymous, wrong token, right token, staff session (+CSRF),
and the cron secret, which only /api/cron accepts.

The "right token" probe adds an unknown query parameter: the route must then answer 400 naming
it, which proves the token got through and that validation runs before any work is done.
"""

import pytest
from django.test import Client

from tests.callers import API_TOKEN, CRON_SECRET

pytestmark = pytest.mark.django_db

# (method, path) for every route and method the API serves.
ROUTES = [
    ("GET", "/api/status"),
    ("GET", "/api/logs"),
    ("GET", "/api/progress"),
    ("GET", "/api/mappings"),
    ("POST", "/api/manual-map"),
    ("GET", "/api/runs/1"),
    ("GET", "/api/runs/1/items"),
    ("GET", "/api/sync"),
    ("POST", "/api/sync"),
    ("GET", "/api/full-sync"),
    ("POST", "/api/full-sync"),
    ("GET", "/api/completed-sync"),
    ("POST", "/api/completed-sync"),
    ("GET", "/api/watching-sync"),
    ("POST", "/api/watching-sync"),
    ("GET", "/api/cron"),
    ("POST", "/api/cron"),
    ("GET", "/api/refresh-otaku"),
    ("POST", "/api/refresh-otaku"),
    ("GET", "/api/refresh-fribbs"),
    ("POST", "/api/refresh-fribbs"),
    ("GET", "/api/trakt-auth"),
    ("POST", "/api/trakt-auth"),
    ("POST", "/api/trakt-auth/device"),
    ("GET", "/api/trakt-auth/device/1"),
    ("POST", "/api/trakt-auth/device/1"),
    ("POST", "/api/doctor"),
]
PATHS = sorted({path for _, path in ROUTES})


def call(client, method, path, **headers):
    if method == "GET":
        return client.get(path, headers=headers)
    return client.post(path, data="", content_type="application/json", headers=headers)


def assert_refused(response):
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert set(response.json()) == {"error"}


@pytest.mark.parametrize("method, path", ROUTES)
def test_anonymous_callers_get_a_401_json_and_no_data(client, method, path):
    assert_refused(call(client, method, path))


@pytest.mark.parametrize("method, path", ROUTES)
@pytest.mark.parametrize(
    "header",
    [
        "Bearer wrong-token",
        f"Bearer {API_TOKEN}x",
        f"Bearer {API_TOKEN[:-1]}",
        f"Token {API_TOKEN}",  # wrong scheme: treated as no credentials
        "Bearer ",
    ],
)
def test_a_wrong_token_gets_a_401(client, method, path, header):
    assert_refused(call(client, method, path, Authorization=header))


@pytest.mark.parametrize("method, path", ROUTES)
def test_the_right_token_gets_through_to_validation(client, method, path):
    response = call(client, method, f"{path}?zzUnknown=1", Authorization=f"Bearer {API_TOKEN}")
    assert response.status_code == 400, response.content
    assert "zzUnknown" in response.json()["error"]


@pytest.mark.parametrize("method, path", [r for r in ROUTES if r[1] != "/api/cron"])
def test_the_cron_secret_opens_only_the_cron_route(client, method, path):
    assert_refused(call(client, method, path, Authorization=f"Bearer {CRON_SECRET}"))


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_the_cron_secret_opens_the_cron_route(client, method):
    response = call(client, method, "/api/cron?zzUnknown=1", Authorization=f"Bearer {CRON_SECRET}")
    assert response.status_code == 400
    assert "zzUnknown" in response.json()["error"]


def test_an_unset_cron_secret_never_matches(client, settings):
    settings.CRON_SECRET = ""
    assert_refused(call(client, "GET", "/api/cron", Authorization="Bearer "))


@pytest.mark.parametrize("path", ["/api/status", "/api/logs", "/api/progress", "/api/mappings"])
def test_the_right_token_reads_data(client, path):
    assert call(client, "GET", path, Authorization=f"Bearer {API_TOKEN}").status_code == 200


@pytest.mark.parametrize("path", ["/api/status", "/api/logs", "/api/progress", "/api/mappings"])
def test_a_staff_session_reads_data(staff_client, path):
    assert staff_client.get(path).status_code == 200


def test_an_unset_api_token_never_matches(client, settings):
    settings.API_TOKEN = ""
    assert_refused(call(client, "GET", "/api/status", Authorization="Bearer "))
    assert_refused(call(client, "GET", "/api/status", Authorization="Bearer x"))


def test_a_logged_in_user_who_is_not_staff_is_refused(client, django_user_model):
    client.force_login(django_user_model.objects.create_user(username="viewer", password="pw-123456789"))
    assert_refused(client.get("/api/status"))


def test_a_staff_session_needs_csrf_for_writes(staff_user, fake_trakt):
    from mappings.models import Mapping

    fake_trakt.add_show(2)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff_user)
    body = {"anilistId": 1, "traktId": 2}
    refused = browser.post("/api/manual-map", body, content_type="application/json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["error"]
    assert not Mapping.objects.exists()

    browser.get("/")  # the dashboard sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    accepted = browser.post("/api/manual-map", body, content_type="application/json", headers={"X-CSRFToken": token})
    assert accepted.status_code == 200
    assert Mapping.objects.filter(anilist_id=1, is_manual=True).exists()


def test_a_bearer_caller_needs_no_csrf_token(staff_user, fake_trakt):
    fake_trakt.add_show(2)
    machine = Client(enforce_csrf_checks=True)
    response = machine.post(
        "/api/manual-map", {"anilistId": 1, "traktId": 2}, content_type="application/json",
        headers={"Authorization": f"Bearer {API_TOKEN}"},
    )
    assert response.status_code == 200
