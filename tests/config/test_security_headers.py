"""Headers: a strict Content-Security-Policy on every page, and nothing a signed-in person or
an API caller reads is kept by a cache."""

import json
import re

import pytest

from tests.callers import API_TOKEN

pytestmark = pytest.mark.django_db

PAGES = ["/", "/sync/", "/mappings/", "/manual/", "/logs/", "/trakt/", "/admin/", "/admin/mappings/mapping/"]


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    parts = [p.split() for p in policy.split(";") if p.strip()]
    return {p[0]: p[1:] for p in parts}


@pytest.fixture
def admin_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser(username="root", password="pw-123456789"))
    return client


@pytest.mark.parametrize("path", PAGES + ["/login/"])
def test_every_page_runs_only_its_own_scripts_and_no_inline_code(admin_client, client, path):
    response = (client if path == "/login/" else admin_client).get(path)
    assert response.status_code == 200
    policy = directives(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]


def test_htmx_is_told_not_to_inject_its_inline_indicator_style_nor_to_eval(admin_client):
    html = admin_client.get("/").content.decode()
    config = json.loads(re.search(r'<meta name="htmx-config" content=\'([^\']*)\'>', html).group(1))
    assert (config["includeIndicatorStyles"], config["allowEval"]) == (False, False)
    # Settling `style` would copy a field's style attribute back with setAttribute: a CSP violation.
    assert "style" not in config["attributesToSettle"]
    assert "<script>" not in html and " style=" not in html


@pytest.mark.parametrize("path", PAGES)
def test_pages_of_a_signed_in_person_are_private_and_never_stored(admin_client, path):
    cache_control = admin_client.get(path)["Cache-Control"]
    assert "private" in cache_control and "no-store" in cache_control


@pytest.mark.parametrize("path", ["/api/status", "/api/progress", "/api/mappings", "/api/runs/1", "/api/nowhere"])
def test_api_answers_are_private_and_never_stored(client, settings, path):
    settings.API_TOKEN = API_TOKEN
    response = client.get(path, headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert response["Content-Type"].startswith("application/json")
    assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]


def test_even_a_refused_api_caller_gets_an_answer_no_cache_keeps(client):
    response = client.get("/api/status")
    assert response.status_code == 401 and "no-store" in response["Cache-Control"]


def test_static_files_stay_cacheable(client):
    response = client.get("/static/htmx.min.js")
    assert response.status_code == 200 and "no-store" not in response.get("Cache-Control", "")
