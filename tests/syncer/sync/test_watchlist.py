"""Plan to watch → Trakt watchlist: add what resolves, remove only what we added, stop at 420.
Each PLANNING entry is a ledger row (`what=watchlist`): where it belongs, where it is, and why not."""

import pytest

from mappings.models import Mapping
from syncer.models import LedgerItem, SyncRun, SystemConfig
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


def watch_rows() -> dict[int, tuple]:
    """{AniList id: (state, where it is, where it belongs, reason, params)} of the watchlist rows."""
    return {r.anilist_id: (r.state, (r.kind, r.trakt_id) if r.trakt_id else None,
                           (r.belongs["kind"], r.belongs["trakt_id"]) if r.belongs else None, r.reason, r.params)
            for r in LedgerItem.objects.filter(what="watchlist")}


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
    assert watch_rows() == {
        1: ("posted", ("show", 100), ("show", 100), "", {}),
        3: ("posted", ("movie", 300), ("movie", 300), "", {}),
        4: ("wanted", None, None, "no_mapping", {}),
    }
    assert set(LedgerItem.objects.filter(what="watchlist", state="posted").values_list("run_id", flat=True)) == {
        run.pk}
    assert set(run.items.filter(action="watchlist").values_list("trakt_id", "state")) == {
        (100, "posted"), (300, "posted")}
    again = sync_run(mode="watching")
    assert not again.items.filter(action="watchlist").exists()
    assert len(planning.watchlist_posts) == 1


def test_the_preview_lists_the_additions_and_adds_nothing(planning):
    preview = sync_run(mode="completed", dry_run=True)
    assert preview.items.filter(action="watchlist", state="planned").count() == 2
    assert planning.watchlist == [] and not LedgerItem.objects.exists()


def test_an_entry_that_leaves_planning_is_removed_only_if_we_added_it(planning, fake_anilist):
    planning.watchlist.append(("movie", 300))  # the user had put the movie there already
    sync_run(mode="completed")
    assert planning.watchlist == [("movie", 300), ("show", 100)]
    assert watch_rows()[1][:2] == ("posted", ("show", 100))
    assert watch_rows()[3][:2] == ("present", ("movie", 300))  # the user's: never ours to remove
    leave_planning(fake_anilist, 11)
    leave_planning(fake_anilist, 13, status="COMPLETED")
    run = sync_run(mode="completed")
    assert planning.watchlist == [("movie", 300)]  # the user's own item stays
    assert list(run.items.filter(action="unwatchlist").values_list("trakt_id", "state")) == [(100, "posted")]
    rows = watch_rows()
    assert rows[1] == ("removed", None, None, "", {}) and rows[3][:3] == ("present", ("movie", 300), None)


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
    assert {aid: row[3:] for aid, row in watch_rows().items() if aid != 4} == {
        1: ("watchlist_full", {"limit": 1}), 3: ("watchlist_full", {"limit": 1})}
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


# A remap of a PLANNING entry moves this app's add; an item the user put there is never removed.

def test_a_remapped_planning_entry_takes_this_apps_add_off_the_old_show_and_adds_the_new_one(planning):
    sync_run(mode="completed")
    planning.add_show(200, seasons={1: 12})
    Mapping.objects.filter(anilist_id=1).update(trakt_id=200)
    run = sync_run(mode="completed")
    assert set(planning.watchlist) == {("movie", 300), ("show", 200)}
    assert set(run.items.filter(action__in=["watchlist", "unwatchlist"]).values_list("action", "trakt_id")) == {
        ("unwatchlist", 100), ("watchlist", 200)}
    assert watch_rows()[1] == ("posted", ("show", 200), ("show", 200), "", {})
    assert LedgerItem.objects.get(what="watchlist", anilist_id=1).run_id == run.pk


def test_a_remap_whose_old_item_trakt_would_not_take_off_keeps_it_ours_until_a_later_run_moves_it(planning):
    sync_run(mode="completed")
    planning.add_show(200, seasons={1: 12})
    Mapping.objects.filter(anilist_id=1).update(trakt_id=200)
    planning.fail("/sync/watchlist/remove", status=422, times=None)
    sync_run(mode="completed")
    assert ("show", 100) in planning.watchlist and ("show", 200) not in planning.watchlist
    assert watch_rows()[1][:3] == ("posted", ("show", 100), ("show", 200))  # still ours, so still to move
    planning.clear_faults()
    sync_run(mode="completed")
    assert set(planning.watchlist) == {("movie", 300), ("show", 200)}
    assert watch_rows()[1] == ("posted", ("show", 200), ("show", 200), "", {})


def test_an_entry_remapped_onto_the_users_own_item_leaves_that_item_alone_for_good(planning, fake_anilist):
    planning.add_show(500, seasons={1: 12})
    planning.watchlist.append(("show", 500))  # the user's own
    sync_run(mode="completed")
    Mapping.objects.filter(anilist_id=1).update(trakt_id=500)
    sync_run(mode="completed")
    assert ("show", 100) not in planning.watchlist  # this app's add came off
    assert watch_rows()[1][:3] == ("present", ("show", 500), ("show", 500))
    leave_planning(fake_anilist, 11)
    sync_run(mode="completed")
    assert ("show", 500) in planning.watchlist
    assert watch_rows()[1][:3] == ("present", ("show", 500), None)


def test_entries_over_the_accounts_limit_are_wanted_with_the_limit_as_their_reason(planning):
    planning.watchlist_limit = 2
    planning.watchlist.append(("movie", 901))  # the user's: one place left
    sync_run(mode="completed")
    rows = watch_rows()
    assert rows[1][:2] == ("posted", ("show", 100))
    assert rows[3] == ("wanted", None, ("movie", 300), "watchlist_limit", {"limit": 2})
    assert planning.watchlist == [("movie", 901), ("show", 100)]


def test_an_item_this_app_added_that_the_user_took_off_is_added_again_only_while_planned(planning, fake_anilist):
    sync_run(mode="completed")
    planning.watchlist.remove(("show", 100))
    leave_planning(fake_anilist, 11)
    sync_run(mode="completed")
    assert ("show", 100) not in planning.watchlist
    assert watch_rows()[1] == ("removed", None, None, "", {})


@pytest.mark.django_db(transaction=True)
def test_the_records_of_what_this_app_added_become_ledger_rows_and_are_still_ours_to_remove(
        fake_anilist, trakt_connected, settings):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("syncer", "0015_run_expected_posts")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    old.get_model("syncer", "WatchlistAdded").objects.create(anilist_id=1, kind="show", trakt_id=100, title="One")
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert watch_rows() == {1: ("posted", ("show", 100), ("show", 100), "", {})}
    settings.SYNC_WATCHLIST = True
    trakt_connected.add_show(100, seasons={1: 12})
    trakt_connected.watchlist.append(("show", 100))
    map_show(1, 100)
    fake_anilist.add_entry(11, 1, status="CURRENT", progress=0, episodes=12)
    sync_run(mode="completed")
    assert trakt_connected.watchlist == []  # it left PLANNING, and the migrated record says it is ours
