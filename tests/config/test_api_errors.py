"""Every /api/ answer is JSON, even when Django itself answers: a crash, the database gone, a
refused host. Pages keep their HTML error pages."""

import pytest
from django.db import OperationalError, connection
from django.test import Client

from tests.callers import API_TOKEN

pytestmark = pytest.mark.django_db


def database_down(execute, sql, params, many, context):
    raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")


@pytest.fixture
def machine(settings):
    settings.API_TOKEN = API_TOKEN
    return Client(raise_request_exception=False, headers={"Authorization": f"Bearer {API_TOKEN}"})


@pytest.fixture
def staff_browser(staff_user):
    browser = Client(raise_request_exception=False)
    browser.force_login(staff_user)
    return browser


def test_with_the_database_unreachable_api_status_answers_a_json_503(machine):
    with connection.execute_wrapper(database_down):
        response = machine.get("/api/status")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert "database is unavailable" in response.json()["error"]


def test_a_staff_session_meets_the_json_503_too_though_its_session_is_read_before_the_view(staff_browser):
    with connection.execute_wrapper(database_down):
        response = staff_browser.get("/api/status")
    assert response.status_code == 503 and "error" in response.json()


def test_a_crash_in_an_api_view_is_a_json_500_without_details(machine, monkeypatch):
    def crash(value):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("syncer.api.serializers.config_value", crash)
    response = machine.get("/api/status")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert "secret internals" not in response.content.decode()


def test_a_refused_host_under_api_is_a_json_400(machine):
    response = machine.get("/api/status", HTTP_HOST="evil.example")
    assert response.status_code == 400 and "error" in response.json()


def test_a_crash_in_a_page_keeps_the_html_error_page(staff_browser, monkeypatch):
    def crash():
        raise RuntimeError("secret internals")

    monkeypatch.setattr("syncer.views.sync.never_synced", crash)
    response = staff_browser.get("/sync/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    assert "secret internals" not in response.content.decode()


@pytest.mark.parametrize("path", ["/", "/sync/", "/login/"])
def test_with_the_database_unreachable_a_page_answers_a_503_page_that_says_so(staff_browser, path):
    with connection.execute_wrapper(database_down):
        response = staff_browser.get(path)
    assert response.status_code == 503 and response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "<title>Database unreachable" in html and "The database is unreachable" in html
    assert "Connection refused" not in html  # the driver's words (hosts, users) stay in the log
    assert response["Retry-After"] == "30"
