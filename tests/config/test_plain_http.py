"""Self-hosting over plain HTTP (a home server on a LAN) and behind TLS, with DEBUG off.

BEHIND_TLS unset: cookies are Secure on HTTPS requests (directly or via X-Forwarded-Proto) and
plain on plain-HTTP ones, so a LAN login works. BEHIND_TLS=true (Render, Heroku): always Secure,
HSTS, HTTP redirected to HTTPS. A CSRF failure says which setting to change.
"""

import pytest
from django.test import Client

from tests.config.test_settings import ROOT, settings_in_subprocess

PASSWORD = "correct horse battery"
PRODUCTION = {"DEBUG": "false", "SECRET_KEY": "k3y-" + "".join(chr(97 + i % 26) for i in range(60)),
              "ANILIST_ACCESS_TOKEN": "a", "TRAKT_CLIENT_ID": "b", "TRAKT_CLIENT_SECRET": "c"}
SECURITY = ("settings.BEHIND_TLS, settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, "
            "settings.SECURE_PROXY_SSL_HEADER, settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS > 0")


def test_with_behind_tls_unset_production_decides_per_request():
    assert settings_in_subprocess({"DEBUG": "false"}, SECURITY) == \
        "(None, True, True, ('HTTP_X_FORWARDED_PROTO', 'https'), False, True)"


def test_behind_tls_true_makes_every_cookie_secure_and_redirects_plain_http():
    assert settings_in_subprocess({"DEBUG": "false", "BEHIND_TLS": "true"}, SECURITY) == \
        "(True, True, True, ('HTTP_X_FORWARDED_PROTO', 'https'), True, True)"


def test_behind_tls_false_is_plain_http_throughout():
    out = settings_in_subprocess({"DEBUG": "false", "BEHIND_TLS": "false"},
                                 "settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, settings.SECURE_HSTS_SECONDS")
    assert out == "(False, False, 0)"


def test_the_deploys_say_tls_explicitly():
    assert "key: BEHIND_TLS" in (ROOT / "render.yaml").read_text()
    assert "BEHIND_TLS=${BEHIND_TLS:-true} gunicorn" in (ROOT / "Procfile").read_text()  # Heroku


@pytest.mark.parametrize("mode", [{}, {"BEHIND_TLS": "true"}])
def test_check_deploy_no_longer_warns_about_hsts_subdomains_ssl_redirect_or_preload(mode):
    import subprocess
    import sys

    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "ENV_FILE": "/dev/null", **PRODUCTION, **mode}
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    for warning in ("security.W005", "security.W008", "security.W021"):
        assert warning not in output
    assert "no issues" in output


# --- requests -------------------------------------------------------------------------------


@pytest.fixture
def production(settings):
    """The security settings of DEBUG off with BEHIND_TLS unset (see the first test above)."""
    settings.BEHIND_TLS = None
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 3600
    settings.SECURE_SSL_REDIRECT = False
    settings.ALLOWED_HOSTS = ["sync.lan", "testserver"]
    return settings


def browser(**defaults) -> Client:
    return Client(enforce_csrf_checks=True, HTTP_HOST="sync.lan", **defaults)


def log_in(client, **extra):
    page = client.get("/login/", **extra)
    token = client.cookies["csrftoken"].value
    return page, client.post("/login/", {"username": "staff", "password": PASSWORD, "csrfmiddlewaretoken": token},
                             **extra)


@pytest.mark.django_db
def test_a_plain_http_login_on_a_lan_works_with_cookies_a_browser_keeps(production, staff_user):
    client = browser()
    page, response = log_in(client, HTTP_ORIGIN="http://sync.lan", HTTP_REFERER="http://sync.lan/login/")
    assert not page.cookies["csrftoken"]["secure"]
    assert response.status_code == 302 and response["Location"] == "/"
    assert not response.cookies["sessionid"]["secure"]
    assert "Strict-Transport-Security" not in response


@pytest.mark.django_db
@pytest.mark.parametrize("https", [{"secure": True}, {"HTTP_X_FORWARDED_PROTO": "https"}])
def test_an_https_login_gets_secure_cookies_and_hsts(production, staff_user, https):
    client = browser()
    page, response = log_in(client, HTTP_ORIGIN="https://sync.lan", HTTP_REFERER="https://sync.lan/login/", **https)
    assert page.cookies["csrftoken"]["secure"]
    assert response.status_code == 302 and response.cookies["sessionid"]["secure"]
    assert "max-age=3600" in response["Strict-Transport-Security"]


@pytest.mark.django_db
def test_behind_tls_true_keeps_cookies_secure_even_on_plain_http(production, staff_user):
    production.BEHIND_TLS = True
    assert browser().get("/login/").cookies["csrftoken"]["secure"]


@pytest.mark.django_db
def test_a_csrf_failure_on_an_https_only_server_says_to_unset_behind_tls(production, staff_user):
    production.BEHIND_TLS = True
    response = browser().post("/login/", {"username": "staff", "password": PASSWORD})
    assert response.status_code == 403
    html = response.content.decode()
    assert "BEHIND_TLS=true" in html and "remove <code>BEHIND_TLS</code>" in html


@pytest.mark.django_db
def test_a_csrf_failure_from_another_origin_names_the_csrf_trusted_origins_value_to_set(production, staff_user):
    client = browser()
    token = client.get("/login/").cookies["csrftoken"].value
    response = client.post("/login/", {"username": "staff", "password": PASSWORD, "csrfmiddlewaretoken": token},
                           HTTP_ORIGIN="https://sync.example.com", secure=False)
    assert response.status_code == 403
    assert "CSRF_TRUSTED_ORIGINS=https://sync.example.com" in response.content.decode()


@pytest.mark.django_db
def test_the_api_keeps_its_json_csrf_failure(staff_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    response = client.post("/api/manual-map", {}, content_type="application/json")
    assert response.status_code == 403 and "CSRF" in response.json()["error"]


# --- logging out ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_user_who_is_not_staff_can_log_out(client, django_user_model):
    client.force_login(django_user_model.objects.create_user(username="viewer", password="pw-123456789"))
    response = client.post("/logout/")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_logging_out_still_needs_a_post_with_a_csrf_token(staff_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    assert client.post("/logout/").status_code == 403
    assert client.get("/logout/").status_code == 405
    assert "_auth_user_id" in client.session
