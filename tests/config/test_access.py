"""Every URL pattern refuses anonymous visitors, except the few marked public."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

# /favicon.ico: browsers ask for it on the login page too; it only redirects to a static icon.
PUBLIC_PATHS = {"/healthz", "/login/", "/admin/login/", "/favicon.ico"}


def walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def concrete_path(route: str) -> str:
    """Turn a route or regex into a requestable path, filling converters with a number."""
    import re

    path = route.lstrip("^").rstrip("$").replace("\\Z", "").replace("\\/", "/")
    path = re.sub(r"<(?:int:|str:|slug:|path:)?\w+>", "1", path)
    path = re.sub(r"\(\?P<\w+>[^)]*\)", "1", path)
    path = re.sub(r"[()?*+\[\]\\]", "", path)
    return "/" + path


def all_paths():
    return sorted({concrete_path(route) for route in walk(get_resolver().url_patterns)})


def test_the_walk_finds_the_public_pages_so_the_list_below_is_complete():
    assert PUBLIC_PATHS <= set(all_paths())


@pytest.mark.django_db
@pytest.mark.parametrize("path", [p for p in all_paths() if p not in PUBLIC_PATHS])
def test_anonymous_visitors_are_refused_everywhere_but_public_pages(client, path):
    for method in (client.get, client.post):
        response = method(path)
        if path.startswith("/api/"):
            assert response.status_code == 401, (path, response.status_code)
            assert response["Content-Type"].startswith("application/json")
        else:
            assert response.status_code in (301, 302, 404, 405), (path, response.status_code)
            if response.status_code in (301, 302):
                # The admin sends anonymous visitors to its own login (logout: to its index).
                allowed = ("/login/", "/admin/") if path.startswith("/admin/") else ("/login/",)
                assert any(a in response["Location"] for a in allowed), (path, response["Location"])


@pytest.mark.django_db
def test_a_logged_in_user_who_is_not_staff_is_refused(client, django_user_model):
    user = django_user_model.objects.create_user(username="viewer", password="pw-123456789")
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.django_db
def test_staff_sees_the_dashboard(staff_client):
    response = staff_client.get("/")
    assert response.status_code == 200
    assert b"Dashboard" in response.content


@pytest.mark.django_db
def test_the_login_page_is_open_and_labels_its_fields(client):
    response = client.get("/login/")
    assert response.status_code == 200
    assert b'<label for="id_username">' in response.content
    assert b'<label for="id_password">' in response.content


@pytest.mark.django_db
def test_pages_forbid_framing(staff_client):
    assert staff_client.get("/").headers["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_a_post_without_csrf_token_is_rejected(staff_user):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(staff_user)
    assert csrf_client.post("/logout/").status_code == 403


@pytest.mark.django_db
def test_the_favicon_answers_anyone_with_the_app_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("/favicon.svg")
    assert client.get(response["Location"]).status_code == 200
