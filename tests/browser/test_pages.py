"""The web app in a real browser, against the loopback fakes.

Queued django-q tasks (source refresh, sync runs) run inline here (`q_sync`, django-q's
`sync` option), because no worker runs during the tests.
"""

import logging
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from logs.models import LogEntry
from mappings.models import Mapping, SourceStatus
from syncer.models import SyncProgress, SyncRun
from tests.browser.conftest import PASSWORD
from tests.fakes.anilist import media_obj

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def library(fake_anilist, trakt_connected):
    """A completed 3-episode show mapped to season 1 of a Trakt show, plus history to show."""
    fake_anilist.add_entry(1, 500, status="COMPLETED", progress=3, title="Sousou no Frieren", episodes=3,
                           completed_at={"year": 2024, "month": 3, "day": 22})
    trakt_connected.add_show(9000, title="Frieren: Beyond Journey's End", seasons={1: 3})
    Mapping.objects.create(anilist_id=500, title="Sousou no Frieren", trakt_id=9000, type="show",
                           start_season=1, start_episode=1, source="fribb")
    return trakt_connected


def test_logging_in_shows_the_dashboard_with_every_section(page, live_server, staff, library):
    SyncProgress.objects.bulk_create([
        SyncProgress(anilist_id=16498, title="Attack on Titan", last_abs=25),
        SyncProgress(anilist_id=154587, title="Frieren", last_abs=28),
    ])
    SourceStatus.objects.create(source="fribb", row_count=41234, refreshed_at=timezone.now())
    SyncRun.objects.create(mode="completed", state="succeeded", found=40, posted=12, already_synced=28,
                           finished_at=timezone.now())
    Mapping.objects.create(anilist_id=99, title="Obscure OVA", unmapped_reason="no source knows this entry")
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))
    page.get_by_label("Username").fill("staff")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_role("link", name="Dashboard")).to_have_attribute("aria-current", "page")
    # Loaded after the page by HTMX, from the fakes.
    expect(page.locator("#connections")).to_contain_text("as fake-viewer")
    expect(page.locator("#connections")).to_contain_text("as fake-user")
    expect(page.locator("#unmapped")).to_contain_text("no source knows this entry")
    expect(page.locator("#progress")).to_contain_text("Attack on Titan")
    page.get_by_label("Search by title or AniList id").fill("frier")
    expect(page.locator("#progress")).not_to_contain_text("Attack on Titan")
    page.get_by_label("Search by title or AniList id").fill("")
    expect(page.locator("#progress")).to_contain_text("Attack on Titan")


def test_refresh_updates_a_source_in_place(signed_in, live_server, mapping_files, q_sync):
    page = signed_in
    page.evaluate("window.notReloaded = true")
    row = page.locator("#sources tr", has_text="Fribb")
    expect(row).to_contain_text("never")
    row.get_by_role("button", name="Refresh Fribb anime-lists JSON").click()
    expect(page.locator("#sources tr", has_text="Fribb")).not_to_contain_text("never")
    count = SourceStatus.objects.get(source="fribb").row_count
    assert count > 0
    expect(page.locator("#sources tr", has_text="Fribb")).to_contain_text(f"{count:,}")
    assert page.evaluate("window.notReloaded") is True


def test_preview_then_run_a_completed_sync(signed_in, live_server, library, q_sync):
    page = signed_in
    page.get_by_role("link", name="Sync", exact=True).click()
    expect(page.get_by_role("link", name="Sync", exact=True)).to_have_attribute("aria-current", "page")
    page.get_by_role("button", name="Preview completed").click()
    result = page.locator("#sync-result")
    expect(result).to_contain_text("Preview: nothing is written to Trakt")
    expect(result.locator("table.plan")).to_contain_text("S01E03")
    expect(result).to_contain_text("Frieren")
    assert library.episode_plays() == []

    page.get_by_role("button", name="Run completed").click()
    expect(result).to_contain_text("3 posted")
    expect(result.locator("table.plan")).to_contain_text("Posted")
    assert sorted((s, n) for _, s, n, _ in library.episode_plays()) == [(1, 1), (1, 2), (1, 3)]
    # A second run finds nothing left to post.
    page.get_by_role("button", name="Run completed").click()
    expect(result).to_contain_text("1 entry, 3 episodes already on Trakt: nothing to post")
    expect(result).to_contain_text("0 posted")
    assert len(library.episode_plays()) == 3


def test_a_new_log_line_appears_without_reloading_and_pause_holds_it_back(signed_in, live_server):
    page = signed_in
    LogEntry.objects.create(message="an older line")
    page.goto(f"{live_server.url}/logs/")
    page.evaluate("window.notReloaded = true")
    logging.getLogger("syncer.web").warning("a brand new line from the sync")
    expect(page.get_by_text("a brand new line from the sync")).to_be_visible(timeout=8_000)

    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("button", name="Resume live tail")).to_be_focused()
    logging.getLogger("syncer.web").info("a line written while paused")
    page.wait_for_timeout(3_000)
    expect(page.get_by_text("a line written while paused")).to_have_count(0)
    page.get_by_role("button", name="Resume live tail").click()
    expect(page.get_by_text("a line written while paused")).to_be_visible()
    assert page.evaluate("window.notReloaded") is True
    # Newest first.
    rows = page.locator("#log-table tbody tr td.message").all_inner_texts()
    assert rows.index("a line written while paused") < rows.index("a brand new line from the sync") < rows.index("an older line")


def test_a_manual_mapping_from_pasted_urls(signed_in, live_server, fake_trakt, fake_anilist):
    fake_trakt.add_show(1420, title="Attack on Titan", seasons={1: 25, 2: 12, 3: 22})
    fake_anilist.medias[104578] = media_obj(104578, title="Attack on Titan Season 3 Part 2", episodes=10)
    page = signed_in
    page.get_by_role("link", name="Manual mapping").click()
    page.get_by_label("AniList id or URL").fill("https://anilist.co/anime/104578/Shingeki-no-Kyojin-3-Part-2/")
    page.get_by_label("Trakt id or URL").fill("https://trakt.tv/shows/show-1420/seasons/3/episodes/30")
    page.get_by_role("button", name="Check on Trakt and save").click()
    expect(page.locator("#manual [role=alert]")).to_contain_text("Season 3 of Attack on Titan has no episode 30")
    page.get_by_label("Trakt id or URL").fill("https://trakt.tv/shows/show-1420/seasons/3/episodes/13")
    page.get_by_role("button", name="Check on Trakt and save").click()
    expect(page.locator("#manual [role=status]")).to_contain_text("from season 3 episode 13.")
    expect(page.locator("#manual")).to_contain_text("not picked up by the incremental sync")
    expect(page.get_by_role("button", name="Sync this show now")).to_be_visible()
    row = Mapping.objects.get(anilist_id=104578)
    assert (row.trakt_id, row.start_season, row.start_episode, row.is_manual) == (1420, 3, 13, True)


def test_connecting_trakt_with_the_device_code(signed_in, live_server, fake_trakt):
    fake_trakt.device_interval = 1
    fake_trakt.device_approve_after = 1  # the user "enters the code" after the first poll
    page = signed_in
    page.get_by_role("link", name="Trakt", exact=True).click()
    expect(page.locator("#trakt-connection")).to_contain_text("Not connected")
    page.get_by_role("button", name="Connect Trakt").click()
    expect(page.get_by_label("Your code")).to_be_visible()
    user_code = next(iter(fake_trakt.devices.values()))["user_code"]
    expect(page.get_by_label("Your code")).to_have_text(user_code)
    expect(page.locator("#trakt-connection")).to_contain_text("Connected to Trakt as fake-user", timeout=10_000)
    expect(page.get_by_role("button", name="Disconnect")).to_be_visible()


@pytest.mark.parametrize("path", ["/", "/sync/", "/mappings/", "/manual/", "/logs/", "/trakt/"])
def test_every_page_fits_a_phone_screen(signed_in, live_server, path):
    Mapping.objects.create(anilist_id=104578, title="Shingeki no Kyojin Season 3 Part 2 (a long title)",
                           trakt_id=1420, type="show", start_season=3, start_episode=13, source="fribb")
    LogEntry.objects.create(message="Posted 120 plays to Trakt for Shingeki no Kyojin Season 3 Part 2")
    page = signed_in
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(f"{live_server.url}{path}")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{path} is {overflow}px wider than a phone screen"


def test_the_pages_are_usable_by_keyboard_with_a_visible_focus(signed_in, live_server):
    page = signed_in
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    outline = skip.evaluate("e => getComputedStyle(e).outlineStyle")
    assert outline not in ("", "none")
    # Through the navigation to the Sync page, by keyboard only.
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Sync":
            break
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/sync/")

