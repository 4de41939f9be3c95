"""The demo library of `tests/fakes/serve.py`, driven like a first-time user: refresh the mapping
source, run the completed sync, preview the watching one. Its pages are the README screenshots
(written to docs/screenshots with UPDATE_SCREENSHOTS=1)."""

import json
import re

import pytest
from playwright.sync_api import expect

from mappings.models import Mapping
from tests.browser.conftest import screenshot
from tests.fakes import serve
from tests.fakes.server import FakeServer, Response

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo(settings, fake_anilist, trakt_connected, fake_tmdb, receiver):
    from django.core.management import call_command

    from syncer.models import TraktToken

    serve.seed(fake_anilist, trakt_connected, fake_tmdb)
    TraktToken.objects.filter(id=1).update(username=trakt_connected.username)
    call_command("setup_schedules", verbosity=0)
    files = FakeServer()
    files.route("GET", r"/fribb\.json", lambda request: Response(200, json.dumps(serve.fribb_list()).encode()))
    with files:
        settings.FRIBB_MAPPINGS_URL = f"{files.url}/fribb.json"
        settings.OTAKU_MAPPINGS_URL = settings.ANIBRIDGE_MAPPINGS_URL = ""  # off in `serve` too
        # As `serve` has them: the demo shows ratings and the watchlist at work.
        settings.SYNC_RATINGS = settings.SYNC_WATCHLIST = True
        yield trakt_connected


def test_a_first_time_user_maps_syncs_and_previews_the_demo_library(signed_in, live_server, demo, q_sync):
    page = signed_in
    page.set_viewport_size({"width": 1280, "height": 900})
    expect(page.locator("#sources")).to_contain_text("No source has been imported yet")
    page.get_by_role("button", name="Refresh Fribb anime-lists JSON").click()
    expect(page.locator("#sources")).not_to_contain_text("No source has been imported yet")

    page.get_by_role("link", name="Sync", exact=True).click()
    expect(page.locator("main")).not_to_contain_text("No mapping source has been imported yet")
    result = page.locator("#sync-result")
    page.get_by_role("button", name="Run completed").click()
    expect(result).to_contain_text("Succeeded", timeout=30_000)
    expect(result).to_contain_text("4 unmapped")  # the 4 episodes of the entry no source knows
    plays = demo.episode_plays()
    assert (1420, 2, 12) in {(show, season, number) for show, season, number, _ in plays}  # AoT S2 → S02E12
    assert {movie for movie, _ in demo.movie_plays()} == {223, 251434}

    page.get_by_role("button", name="Preview watching").click()
    expect(result).to_contain_text("Preview: nothing is written to Trakt", timeout=30_000)
    expect(result.locator("table.plan")).to_contain_text("Jujutsu Kaisen S02E10")
    expect(result).to_contain_text("to post")
    assert len(demo.episode_plays()) == len(plays)  # the preview wrote nothing
    expect(page.locator("#recent-runs")).to_contain_text(re.compile(r"Preview #\d+ Watching"))
    screenshot(page, "sync-preview.png")

    page.get_by_role("link", name="Dashboard").click()
    expect(page.locator("#connections")).to_contain_text("as sam")
    expect(page.locator("#runs")).to_contain_text("Incremental sync")
    expect(page.locator("#unmapped")).to_contain_text("Uma Musume")
    expect(page.locator("#notify")).to_contain_text("1 notification target set")
    expect(page.locator("#progress")).to_contain_text("Frieren: Beyond Journey's End")
    # What the extras did in the completed run: the scores sent as ratings, the planned titles added.
    expect(page.locator("#extras")).to_contain_text(re.compile(r"Ratings: on; run #\d+ sent 5 ratings"))
    expect(page.locator("#extras")).to_contain_text(re.compile(r"Watchlist: on; run #\d+ added 2 and removed 0"))
    assert sorted(kind for kind, _ in demo.watchlist) == ["movie", "show"]
    assert Mapping.objects.filter(trakt_id__isnull=False).count() == 14
    screenshot(page, "dashboard.png")

    # The unmapped entry is one click from its fix.
    page.locator("#unmapped").get_by_role("link", name="Map it").click()
    expect(page.get_by_label("AniList id or URL")).to_have_value("171457")
