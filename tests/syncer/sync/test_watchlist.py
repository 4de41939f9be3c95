"""Plan to watch → Trakt watchlist: add what resolves, remove only what we added, stop at 420."""

import pytest

from syncer.models import SyncRun, SystemConfig, WatchlistAdded
from syncer.sync.services import sync_run
from syncer.sync.watchlist import FULL_KEY
from tests.seeds import map_movie, map_show

pytestmark = pytest.mark.django_db


@pytest.fixture
def planning(fake_anilist, trakt_connected, settings):
    """Three PLANNING entries: two resolve (show 100, movie 300), one has no mapping."""
    settings.SYNC_WATCHLIST = True
    trakt_connected.add_show(100, seasons={1: 12})
    trakt_connected.add_movie(300)
    map_show(1, 100)
    map_movie(3, 300)
    fake_anilist.add_entry(11, 1, status="PLANNING", progress=0, title="Show One")
    fake_anilist.add_entry(13, 3, status="PLANNING", progress=0, title="Movie Three", fmt="MOVIE")
    fake_anilist.add_entry(14, 4, status="PLANNING", progress=0, title="Nobody Maps Me")
    return trakt_connected


def entry(anilist, entry_id):
    return next(e for lst in anilist.lists for e in lst["entries"] if e["id"] == entry_id)


def leave_planning(anilist, entry_id, status="CURRENT"):
    row = entry(anilist, entry_id)
    for lst in anilist.lists:
        if row in lst["entries"]:
            lst["entries"].remove(row)
    anilist.add_entry(entry_id, row["mediaId"], status=status, progress=1, updated_at=row["updatedAt"] + 10_000)


def test_planning_entries_that_resolve_go_to_the_watchlist_once(planning):
    run = sync_run(mode="completed")
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    assert set(planning.watchlist) == {("show", 100), ("movie", 300)}
    assert set(WatchlistAdded.objects.values_list("anilist_id", "kind", "trakt_id")) == {
        (1, "show", 100), (3, "movie", 300)}
    assert set(run.items.filter(action="watchlist").values_list("trakt_id", "state")) == {
        (100, "posted"), (300, "posted")}
    again = sync_run(mode="watching")
    assert not again.items.filter(action="watchlist").exists()
    assert len(planning.watchlist_posts) == 1


def test_the_preview_lists_the_additions_and_adds_nothing(planning):
    preview = sync_run(mode="completed", dry_run=True)
    assert preview.items.filter(action="watchlist", state="planned").count() == 2
    assert planning.watchlist == [] and not WatchlistAdded.objects.exists()


def test_an_entry_that_leaves_planning_is_removed_only_if_we_added_it(planning, fake_anilist):
    planning.watchlist.append(("movie", 300))  # the user had put the movie there already
    sync_run(mode="completed")
    assert planning.watchlist == [("movie", 300), ("show", 100)]
    assert list(WatchlistAdded.objects.values_list("anilist_id", flat=True)) == [1]
    leave_planning(fake_anilist, 11)
    leave_planning(fake_anilist, 13, status="COMPLETED")
    run = sync_run(mode="completed")
    assert planning.watchlist == [("movie", 300)]  # the user's own item stays
    assert list(run.items.filter(action="unwatchlist").values_list("trakt_id", "state")) == [(100, "posted")]
    assert not WatchlistAdded.objects.exists()


def test_a_full_watchlist_stops_adding_says_so_and_is_not_retried(planning, staff_client):
    planning.watchlist_limit = 1
    planning.limits_in_settings = False  # only the 420 tells
    run = sync_run(mode="completed")
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    lines = list(run.items.filter(action="watchlist").values_list("state", "reason"))
    assert len(lines) == 2 and all(state == "failed" for state, _ in lines)
    assert "the Trakt watchlist is full (this account's limit: 1 items)" in lines[0][1]
    assert len(planning.watchlist_posts) == 1 and planning.watchlist == []
    assert SystemConfig.objects.filter(key=FULL_KEY).exists()
    assert "Trakt watchlist full" in staff_client.get("/dashboard/connections/").content.decode()
    sync_run(mode="completed")
    assert len(planning.requests_to(r"/sync/watchlist", method="POST")) == 1  # never retried


def test_adding_resumes_once_the_watchlist_has_room_again(planning):
    planning.watchlist_limit = 3
    planning.watchlist.extend([("movie", 901), ("movie", 902)])  # the user's
    sync_run(mode="completed")
    assert SystemConfig.objects.filter(key=FULL_KEY).exists()
    planning.watchlist.remove(("movie", 901))
    planning.watchlist.remove(("movie", 902))
    sync_run(mode="completed")
    assert set(planning.watchlist) == {("show", 100), ("movie", 300)}
    assert not SystemConfig.objects.filter(key=FULL_KEY).exists()


def test_the_incremental_picks_up_plans_to_watch(fake_anilist, trakt_connected, settings):
    settings.SYNC_WATCHLIST = True
    trakt_connected.add_show(100, seasons={1: 12})
    map_show(1, 100)
    SystemConfig.objects.create(key="lastSyncTimestamp", value="1700000000")
    fake_anilist.add_entry(11, 1, status="PLANNING", progress=0, updated_at=1_700_000_500)
    fake_anilist.add_activity(1, 1, status="plans to watch", progress=None, created_at=1_700_000_500)
    run = sync_run(mode="incremental")
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    assert trakt_connected.watchlist == [("show", 100)]
    leave_planning(fake_anilist, 11)
    sync_run(mode="incremental")
    assert trakt_connected.watchlist == []


def test_the_watchlist_is_off_by_default(planning, settings):
    settings.SYNC_WATCHLIST = False
    sync_run(mode="completed")
    assert planning.requests_to(r"/sync/watchlist") == []
