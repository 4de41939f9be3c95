"""What the pages say, read as a newcomer would (issue 25): one set of numbers per run, no
offer that is stale, no doubled words, no claim the data does not back."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule

from mappings.models import Mapping
from syncer.models import SyncBatch, SyncRun, SyncRunItem

pytestmark = pytest.mark.django_db


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


def play(run, position, *, state="posted", action="post", episode=None, reason="", batch=None, anilist_id=21):
    return SyncRunItem.objects.create(run=run, position=position, anilist_id=anilist_id, title="One Piece",
                                      anilist_episode=episode or position + 1, action=action, kind="episode",
                                      trakt_id=37696, season=1, number=episode or position + 1, state=state,
                                      reason=reason, batch=batch, watched_at=timezone.now())


def test_a_run_that_finished_an_earlier_runs_posts_says_whose_they_were(staff_client):
    killed = SyncRun.objects.create(mode="incremental", state="interrupted", finished_at=timezone.now())
    resumed = SyncRun.objects.create(mode="incremental", state="failed", finished_at=timezone.now(), posted=2,
                                     error="AniList refused the token: check ANILIST_ACCESS_TOKEN in `.env`.")
    batch = SyncBatch.objects.create(run=resumed, state="confirmed", payload=[])
    play(killed, 0, batch=batch)
    play(killed, 1, batch=batch)
    page = text(staff_client.get(f"/runs/{resumed.pk}/").content.decode())
    assert "posted the 2 that were missing" in page and f"run #{killed.pk}" in page
    assert "0 found, 0 posted" in page and f"also 2 plays left over from run #{killed.pk}" in page
    assert "Before that it posted 2" not in page and "nothing was read" not in page
    assert "posted no plays" not in page  # no undo offer for plays that are another run's


def test_a_preview_a_later_run_carried_out_no_longer_offers_to_run_it(staff_client):
    preview = SyncRun.objects.create(mode="completed", state="succeeded", dry_run=True, finished_at=timezone.now())
    play(preview, 0, state="planned")
    assert "Run it: post 1 play to Trakt" in staff_client.get(f"/runs/{preview.pk}/").content.decode()
    later = SyncRun.objects.create(mode="completed", state="succeeded", finished_at=timezone.now(), posted=1)
    html = staff_client.get(f"/runs/{preview.pk}/").content.decode()
    assert "Run it: post" not in html
    assert f"run #{later.pk}</a> has run this sync since" in html


def test_the_unmapped_card_claims_nothing_before_anything_was_mapped(staff_client):
    from mappings.models import SourceStatus

    SourceStatus.objects.create(source="fribb", row_count=100, refreshed_at=timezone.now())
    SyncRun.objects.create(mode="library", dry_run=True, state="failed", finished_at=timezone.now())
    html = staff_client.get("/").content.decode()
    assert "every entry a sync or preview has looked at is mapped" not in html
    Mapping.objects.create(anilist_id=1, title="Cowboy Bebop", trakt_id=30991, type="show")
    assert "every entry a sync or preview has looked at is mapped" in staff_client.get("/").content.decode()


def test_an_episode_synced_before_says_so_once_and_names_its_show(staff_client):
    Mapping.objects.create(anilist_id=21, title="One Piece", trakt_id=37696, trakt_title="One Piece",
                           trakt_slug="one-piece", type="show")
    run = SyncRun.objects.create(mode="completed", state="succeeded", finished_at=timezone.now())
    SyncRunItem.objects.create(run=run, position=0, anilist_id=21, title="One Piece", anilist_episode=3,
                               action="already_synced", reason="already synced (up to episode 10)")
    page = text(staff_client.get(f"/runs/{run.pk}/").content.decode())
    assert "already synced (up to episode 10)" in page
    assert "already synced (already synced" not in page
    assert 'href="https://trakt.tv/shows/one-piece"' in staff_client.get(f"/runs/{run.pk}/").content.decode()


def test_one_failed_play_is_one_failed_not_one_errors(staff_client):
    run = SyncRun.objects.create(mode="completed", state="succeeded", finished_at=timezone.now(), errors=1)
    play(run, 0, state="failed")
    page = text(staff_client.get("/").content.decode())
    assert "1 errors" not in page and "1 failed" in page


def test_a_scheduled_job_that_is_due_says_due_not_seconds_ago(staff_client):
    job = Schedule.objects.create(name="Incremental sync", func="syncer.tasks.sync_incremental",
                                  schedule_type=Schedule.CRON, cron="0 */6 * * *")
    Schedule.objects.filter(pk=job.pk).update(next_run=timezone.now() - timedelta(seconds=26))
    page = text(staff_client.get("/").content.decode())
    assert "ago)" not in page.split("Scheduled")[1]
    assert "due now" in page.split("Scheduled")[1]


def test_the_manual_mapping_page_does_not_promise_what_its_success_box_takes_back(staff_client):
    page = text(staff_client.get("/manual/").content.decode())
    assert "the next sync uses it" not in page
    assert "episodes you watched before are synced by Sync this show now" in page


def test_the_dashboard_says_whether_ratings_and_the_watchlist_are_on_and_what_they_did(staff_client, settings):
    settings.SYNC_RATINGS = settings.SYNC_WATCHLIST = False
    page = text(staff_client.get("/").content.decode())
    assert "Ratings: off (SYNC_RATINGS=true" in page and "Watchlist: off (SYNC_WATCHLIST=true" in page
    settings.SYNC_RATINGS = settings.SYNC_WATCHLIST = True
    run = SyncRun.objects.create(mode="completed", state="succeeded", finished_at=timezone.now())
    for n, action in enumerate(["rate", "rate", "watchlist"]):
        SyncRunItem.objects.create(run=run, position=n, anilist_id=n, anilist_episode=0, action=action,
                                   state="posted", kind="show", trakt_id=n)
    page = text(staff_client.get("/").content.decode())
    assert f"Ratings: on; run #{run.pk} sent 2 ratings" in page
    assert f"Watchlist: on; run #{run.pk} added 1 and removed 0" in page


def test_the_demo_library_has_scores_and_planned_titles_and_turns_the_extras_on():
    from tests.fakes import serve

    assert sum(1 for t in serve.LIBRARY if t.score) >= 3
    assert sum(1 for t in serve.LIBRARY if t.status == "PLANNING") >= 2
    fakes, env = serve.start_all()
    for fake in fakes:
        fake.stop()
    assert env["SYNC_RATINGS"] == env["SYNC_WATCHLIST"] == "true"


def test_the_mappings_page_names_the_source_that_placed_an_entry_not_the_resolvers_notes(staff_client):
    Mapping.objects.create(anilist_id=20958, title="Attack on Titan Season 2", trakt_id=1420, type="show",
                           start_season=2, start_episode=1, source="fribb tmdb 1429; start fribb",
                           found_by="fribb", placed_by="fribb", provenance={"via": ["tmdb", 1429]})
    Mapping.objects.create(anilist_id=1, title="Cowboy Bebop", trakt_id=30991, type="show",
                           source="otaku tvdb 76885", found_by="otaku", placed_by="otaku")
    html = staff_client.get("/mappings/").content.decode()
    cells = re.findall(r'<td data-label="Source">(.*?)</td>', html)
    assert [text(c) for c in cells] == ["Fribb", "Otaku"]
    assert ">fribb tmdb 1429; start fribb<" not in html
    assert text(staff_client.get("/mappings/?source=fribb").content.decode()).count("Attack on Titan Season 2") >= 1
    assert "Cowboy Bebop" not in staff_client.get("/mappings/?source=fribb").content.decode()


def test_a_running_runs_counts_say_still_to_post_not_not_reached(staff_client):
    run = SyncRun.objects.create(mode="completed", state="running", progress_label="Posting to Trakt",
                                 progress_done=1, progress_total=2)
    play(run, 0)
    play(run, 1, state="planned")
    status = text(staff_client.get(f"/runs/{run.pk}/status/").content.decode())
    assert "2 found, 1 posted, 1 still to post" in status and "not reached" not in status
