"""Browser tests: pytest-playwright drives Debian's Chromium against `live_server`.

Playwright never downloads a browser here: it launches /usr/bin/chromium. Without it the tests
skip with the reason, unless REQUIRE_BROWSER=1 (CI), which turns that into a failure.
"""

import os
import tempfile
from pathlib import Path

import pytest
from django.db import connections

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "correct horse battery"

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
# Playwright's sync API keeps an event loop running in the test thread; the ORM calls the tests
# make between page actions are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)"
        if os.environ.get("REQUIRE_BROWSER", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"REQUIRE_BROWSER is set but {reason}")
        pytest.skip(reason)
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS,
            "headless": True}


@pytest.fixture(autouse=True)
def browser_settings(settings, monkeypatch):
    """The live server speaks plain HTTP: cookies must not be marked Secure-only.

    A real SECRET_KEY keeps the "missing configuration" banner out of the README screenshots
    (the fakes' fixtures set the service credentials). No AniList token is set here: a page
    would otherwise ask the real AniList, and tests reach only loopback fakes.
    """
    settings.SECRET_KEY = "browser-tests-only-" + "k" * 40
    # The live server answers each request in a new thread: close its database connection after
    # the request, or PostgreSQL cannot drop the test database at the end (sessions left open).
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user(username="staff", password=PASSWORD, is_staff=True)


@pytest.fixture
def signed_in(page, live_server, staff):
    """A page logged in through the login form."""
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("staff")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")
    return page


def screenshot(page, name: str) -> None:
    """A full-page PNG. The README's copies in docs/screenshots are only rewritten with
    UPDATE_SCREENSHOTS=1, so an ordinary test run leaves the working tree unchanged."""
    update = os.environ.get("UPDATE_SCREENSHOTS", "").lower() in {"1", "true", "yes"}
    folder = SCREENSHOTS if update else Path(tempfile.gettempdir()) / "anilist-trakt-screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / name), full_page=True)
