"""Honest states and layouts in a real browser: a failed run on the dashboard and its page, a
second Run following the running run, the connection status, the log page's folded traceback."""

import logging

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from logs.models import LogEntry
from syncer.models import SyncRun, SyncRunItem
from syncer.service_status import service_seen, service_status_forget
from syncer.sync.lease import lease_acquire

pytestmark = pytest.mark.django_db(transaction=True)

FAILED = ("Could not reach Trakt (connection refused) while checking what was already posted; nothing was "
          "lost, the next run will finish it. Try again later.")


@pytest.fixture
def failed_run():
    run = SyncRun.objects.create(mode="completed", state="failed", finished_at=timezone.now(), found=3, posted=1,
                                 already_synced=0, progress_label="Posting to Trakt", progress_done=1,
                                 progress_total=3, error=FAILED)
    for position, state in enumerate(["posted", "planned", "planned"]):
        SyncRunItem.objects.create(run=run, position=position, anilist_id=21, title="One Piece",
                                   anilist_episode=position + 1, action="post", kind="episode", trakt_id=37696,
                                   season=1, number=position + 1, state=state, watched_at=timezone.now())
    return run


def overflow(page, selector: str) -> int:
    """How many pixels the element's content sticks out of it (0: it fits)."""
    return page.evaluate("(s) => { const e = document.querySelector(s); return e.scrollWidth - e.clientWidth; }",
                         selector)


@pytest.mark.parametrize("width", [1280, 1100, 390])
def test_a_failed_run_fits_the_sync_runs_card(signed_in, live_server, failed_run, width):
    page = signed_in
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server.url}/")
    card = page.locator("section[aria-labelledby=h-runs]")
    expect(card).to_contain_text("Could not reach Trakt (connection refused)")
    expect(card.locator("td.counts").first).to_be_visible()
    assert overflow(page, "section[aria-labelledby=h-runs] .table-wrap") <= 0
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    counts = card.locator("td.counts", has_text="found").bounding_box()
    box = card.bounding_box()
    assert counts["x"] + counts["width"] <= box["x"] + box["width"]


def test_a_failed_runs_page_says_what_failed_and_marks_rows_not_reached(signed_in, live_server, failed_run):
    page = signed_in
    page.goto(f"{live_server.url}/runs/{failed_run.id}/")
    expect(page.locator("#main p.error")).to_contain_text("while checking what was already posted")
    expect(page.locator(".stopped")).to_contain_text("Before that it posted 1 of the 3 plays it planned")
    expect(page.locator("table.plan")).to_contain_text("not reached")
    expect(page.locator("table.plan")).not_to_contain_text("Planned")
    expect(page.get_by_text("Nothing to do")).to_have_count(0)


def test_running_twice_shows_the_running_runs_progress_until_it_ends(signed_in, live_server, trakt_connected,
                                                                     settings, monkeypatch):
    settings.ANILIST_ACCESS_TOKEN = "anilist-token"
    running = SyncRun.objects.create(mode="incremental", state="running", progress_label="Posting to Trakt")
    SyncRunItem.objects.bulk_create([SyncRunItem(run=running, position=n, anilist_id=21, anilist_episode=n + 1,
                                                 action="post", state="posted" if n < 40 else "planned")
                                     for n in range(120)])
    lease_acquire(run_id=running.pk)  # as every live run does
    page = signed_in
    page.goto(f"{live_server.url}/sync/")
    page.get_by_role("button", name="Run completed").click()
    result = page.locator("#sync-result")
    expect(result).to_contain_text("A sync is already running")
    expect(result).to_contain_text("posted 40 of 120 planned so far")
    SyncRunItem.objects.filter(run=running, anilist_episode__lte=80).update(state="posted")
    expect(result).to_contain_text("posted 80 of 120 planned so far")
    SyncRun.objects.filter(pk=running.pk).update(state="succeeded", finished_at=timezone.now(), found=120,
                                                 posted=120)
    expect(result.locator(".state")).to_have_text("Succeeded")


def test_the_connection_status_shows_a_refused_trakt_token_and_when(signed_in, live_server, trakt_connected):
    from syncer.http import AuthError

    service_status_forget()
    service_seen("Trakt", AuthError("Trakt", 401, "the token was refused (invalid)"))
    page = signed_in
    page.goto(f"{live_server.url}/")
    connections = page.locator("#connections")
    expect(connections).to_contain_text("Trakt: token refused at")
    expect(connections.get_by_role("link", name="reconnect")).to_have_attribute("href", "/trakt/")
    service_status_forget()


def test_the_log_page_folds_a_bugs_traceback_and_shows_expected_failures_as_one_line(signed_in, live_server):
    logger = logging.getLogger("syncer.sync")
    try:
        {}["season"]
    except KeyError:
        logger.exception("Sync 9 (completed) failed: Unexpected error (KeyError: 'season')")
    logger.error("Sync 8 (completed) failed: %s", FAILED)
    page = signed_in
    page.goto(f"{live_server.url}/logs/")
    details = page.locator("details.traceback")
    expect(details).to_have_count(1)
    expect(details.locator("pre")).not_to_be_visible()
    details.locator("summary").click()
    expect(details.locator("pre")).to_contain_text("KeyError")
    expect(page.get_by_text("Sync 8 (completed) failed")).to_be_visible()
    assert LogEntry.objects.filter(message__contains="Traceback").count() == 1


def test_favicon_is_served(live_server, page):
    response = page.request.get(f"{live_server.url}/favicon.ico")
    assert response.ok and "svg" in response.headers["content-type"]


def test_the_admin_mapping_list_fits_1280_px_with_short_titles(page, live_server, django_user_model):
    from mappings.models import Mapping

    django_user_model.objects.create_superuser(username="root", password="a long password here")
    Mapping.objects.create(anilist_id=104578, title="Shingeki no Kyojin Season 3 Part 2: The Final Chapters "
                           "Special Edition (a long title)", trakt_id=1420, type="show", start_season=3,
                           start_episode=13, source="fribb tmdb 1429 via tvdb season mapping")
    Mapping.objects.create(anilist_id=190327, title="Steel Ball Run", type="show",
                           unmapped_reason="no source knows this entry, and TMDB search found two candidates "
                                           "with the same year and title; pick one by hand")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/admin/login/?next=/admin/mappings/mapping/")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill("a long password here")
    page.get_by_role("button", name="Log in").click()
    # The list scrolls inside its own box: a column past that box's right edge is hidden.
    visible = page.locator("#changelist .results").bounding_box()
    for column in ("Source", "Unmapped reason"):
        header = page.locator("#result_list thead th", has_text=column).bounding_box()
        assert header["x"] + header["width"] <= visible["x"] + visible["width"] + 1, f"{column} is off screen"
    title = page.locator("#result_list td.field-title", has_text="Shingeki").bounding_box()
    line = page.locator("#result_list td.field-type").first.bounding_box()["height"]
    assert title["height"] <= 2.5 * line, "the title wraps over more than two lines"
    expect(page.locator("#result_list")).to_contain_text("S03E13")
