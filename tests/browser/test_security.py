"""The door in a real browser: no Content-Security-Policy violation on the pages and the admin,
and a production-mode (DEBUG off) login over plain HTTP from a LAN address.

Chromium treats localhost as a secure origin and keeps Secure cookies there, so the LAN test
browses to a non-local name (mapped to the loopback live server) like a home server's.
"""

import ast
import re

import pytest
from playwright.sync_api import expect

from mappings.models import Mapping
from syncer.models import SyncRun
from tests.browser.conftest import PASSWORD
from tests.config.test_settings import settings_in_subprocess

pytestmark = pytest.mark.django_db(transaction=True)

LAN_HOST = "sync.lan"
# Collects violations the page reports, besides the console lines Chromium writes for them.
VIOLATION_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI));
"""


@pytest.fixture
def watched(page):
    """The page, with every CSP report (console line or event) collected in `page.violations`."""
    messages = []
    page.on("console", lambda msg: messages.append(msg.text))
    page.add_init_script(VIOLATION_LISTENER)

    def violations():
        reported = page.evaluate("window.__cspViolations || []")
        return reported + [m for m in messages if "Content Security Policy" in m]

    page.violations = violations
    return page


def test_no_page_and_no_admin_page_breaks_the_content_security_policy(watched, live_server, django_user_model):
    django_user_model.objects.create_superuser(username="root", password=PASSWORD)
    Mapping.objects.create(anilist_id=1, title="Cowboy Bebop", trakt_id=2, type="show", is_manual=True,
                           source="manual", start_season=1, start_episode=1)
    run = SyncRun.objects.create(mode="completed", state="succeeded", dry_run=True)
    page = watched
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/login/")
    assert page.violations() == []
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    for path in ["/", "/sync/", "/mappings/", "/manual/", "/logs/", "/trakt/", f"/runs/{run.id}/",
                 "/admin/", "/admin/mappings/mapping/", "/admin/mappings/mapping/1/change/",
                 "/admin/mappings/mapping/add/", "/admin/auth/user/"]:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        assert page.violations() == [], path
    # htmx at work under the policy: a search swaps the table in place.
    page.goto(f"{live_server.url}/mappings/")
    page.get_by_label("Title or id").fill("nothing like it")
    expect(page.locator("table")).not_to_contain_text("Cowboy Bebop")
    page.get_by_label("Title or id").fill("cowboy")
    expect(page.locator("table")).to_contain_text("Cowboy Bebop")
    page.wait_for_load_state("networkidle")
    assert page.violations() == []


def production_security_settings(environment: dict) -> dict:
    """What config/settings.py computes for this environment, DEBUG off."""
    names = ["BEHIND_TLS", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_PROXY_SSL_HEADER",
             "SECURE_HSTS_SECONDS", "SECURE_SSL_REDIRECT"]
    values = settings_in_subprocess({"DEBUG": "false", **environment},
                                    "[" + ", ".join(f"getattr(settings, {n!r}, None)" for n in names) + "]")
    return dict(zip(names, ast.literal_eval(values), strict=True))


@pytest.fixture
def lan_page(browser_type, browser_type_launch_args):
    """A Chromium that resolves LAN_HOST to the loopback live server."""
    args = [*browser_type_launch_args["args"], f"--host-resolver-rules=MAP {LAN_HOST} 127.0.0.1"]
    browser = browser_type.launch(**{**browser_type_launch_args, "args": args})
    page = browser.new_page()
    page.set_default_timeout(10_000)
    yield page
    browser.close()


def lan_login(page, live_server):
    port = live_server.url.rsplit(":", 1)[1]
    page.goto(f"http://{LAN_HOST}:{port}/login/")
    page.get_by_label("Username").fill("staff")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    return f"http://{LAN_HOST}:{port}"


def test_a_production_login_over_plain_http_from_a_lan_address_works(lan_page, live_server, staff, settings):
    for name, value in production_security_settings({}).items():
        setattr(settings, name, value)
    settings.ALLOWED_HOSTS = [LAN_HOST]
    assert settings.SESSION_COOKIE_SECURE is True and settings.BEHIND_TLS is None
    base = lan_login(lan_page, live_server)
    expect(lan_page.get_by_role("heading", name="Dashboard")).to_be_visible()
    assert lan_page.url == f"{base}/"
    lan_page.get_by_role("button", name="Log out").click()
    expect(lan_page.get_by_role("heading", name="Log in")).to_be_visible()


def test_an_https_only_deploy_reached_over_plain_http_says_what_to_set(lan_page, live_server, staff, settings):
    for name, value in production_security_settings({"BEHIND_TLS": "true"}).items():
        setattr(settings, name, value)
    settings.SECURE_SSL_REDIRECT = False  # the redirect would hide the page under test
    settings.ALLOWED_HOSTS = [LAN_HOST]
    lan_login(lan_page, live_server)
    expect(lan_page.get_by_role("heading", name=re.compile("CSRF check failed"))).to_be_visible()
    expect(lan_page.locator("main")).to_contain_text("BEHIND_TLS=false")
