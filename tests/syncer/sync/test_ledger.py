"""One ledger of what this app wants on Trakt and what is there (issue 22): ordinary sequences
of events that lost, doubled or misplaced a play before it, each played through end to end."""

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from mappings.models import EpisodeOverride, Mapping, TraktSeasonCache
from mappings.seasons import show_seasons_store
from syncer.clients.trakt import Season
from syncer.connections import trakt_client
from syncer.models import SyncBatch, SyncProgress, SyncRun, SyncRunItem, SystemConfig
from syncer.sync.apply import batch_write_ahead, batches_reconcile, payload_row
from syncer.sync.lease import LeaseLost
from syncer.sync.services import sync_run
from syncer.sync.undo import undo_refusal, undo_run
from tests.seeds import map_show

pytestmark = pytest.mark.django_db

CURSOR = 1_700_000_000


def plays(trakt):
    return Counter((show, s, n) for show, s, n, _ in trakt.episode_plays())


def cursor_at(value: int = CURSOR) -> None:
    SystemConfig.objects.update_or_create(key="lastSyncTimestamp", defaults={"value": str(value)})


def succeeded(run: SyncRun) -> SyncRun:
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    return run


# 1. An incremental run that cannot place an episode for a passing reason does not lose it.

def test_an_episode_a_days_old_cached_season_list_lacks_is_posted_by_the_next_incremental_run(
        fake_anilist, trakt_connected):
    trakt_connected.add_show(100, seasons={1: 13})  # the finale is on Trakt now
    show_seasons_store(trakt_id=100, seasons=[Season(1, list(range(1, 13)), {})])
    TraktSeasonCache.objects.update(fetched_at=timezone.now() - timedelta(days=3))  # cached before it aired
    map_show(1, 100)
    SyncProgress.objects.create(anilist_id=1, last_abs=12)
    cursor_at()
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=13, episodes=13, updated_at=CURSOR + 100)
    fake_anilist.add_activity(21, 1, progress="13", created_at=CURSOR + 100)

    first = succeeded(sync_run(mode="incremental"))
    assert first.posted == 0
    succeeded(sync_run(mode="incremental"))  # nothing new on AniList since
    assert plays(trakt_connected) == Counter({(100, 1, 13): 1})
    assert SyncProgress.objects.get(anilist_id=1).last_abs == 13
    stale = first.items.get(anilist_episode=13)
    assert (stale.reason_code, stale.reason) == ("season_list_stale", "episode 13 is not in the cached season list of "
                                                 "Trakt show 100: the next run reads the list again")


def test_an_entry_resolved_while_trakt_was_down_is_posted_by_the_next_incremental_run(
        fake_anilist, trakt_connected, settings):
    from tests.syncer.sync.test_resolving_pipeline import add_show, from_fribb

    settings.HTTP_MAX_RETRIES = 0
    add_show(trakt_connected, 100, {1: 3})
    from_fribb(1, 100)
    cursor_at()
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=3, episodes=3, updated_at=CURSOR + 100)
    fake_anilist.add_activity(21, 1, status="completed", progress=None, created_at=CURSOR + 100)
    trakt_connected.fail(r"/search/tmdb/\d+", status=503, times=None)

    first = sync_run(mode="incremental")
    assert first.posted == 0
    trakt_connected.clear_faults()
    succeeded(sync_run(mode="incremental"))
    assert plays(trakt_connected) == Counter({(100, 1, n): 1 for n in (1, 2, 3)})
    assert all(reason.startswith("Trakt did not answer") for reason in first.items.values_list("reason", flat=True))


# 2. An entry whose episode count grows is placed with its new count.

def test_an_episode_added_to_an_entry_after_it_was_mapped_is_posted(fake_anilist, trakt_connected):
    trakt_connected.add_show(100, seasons={1: 13})
    map_show(1, 100)
    Mapping.objects.filter(anilist_id=1).update(episodes=12)  # AniList said 12 when it was mapped
    SyncProgress.objects.create(anilist_id=1, last_abs=12)
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=13, episodes=13)

    run = succeeded(sync_run(mode="completed"))
    assert run.posted == 1
    assert plays(trakt_connected) == Counter({(100, 1, 13): 1})


# 3. Undoing several runs, in any order, ends with every undone play wanted again.

@pytest.fixture
def two_runs(fake_anilist, trakt_connected):
    """Run A posts episodes 3-6 of AniList 1 (synced to 2 before), run B then posts 7-8."""
    trakt_connected.add_show(100, seasons={1: 12})
    map_show(1, 100)
    SyncProgress.objects.create(anilist_id=1, last_abs=2, title="Anime 1")
    entry = fake_anilist.add_entry(11, 1, status="CURRENT", progress=6, episodes=12)
    a = succeeded(sync_run(mode="watching"))
    entry["progress"] = 8
    b = succeeded(sync_run(mode="watching"))
    assert (a.posted, b.posted) == (4, 2)
    return a, b


@pytest.mark.parametrize("order", ["a then b", "b then a"])
def test_undoing_two_runs_in_either_order_leaves_every_play_of_both_wanted_again(two_runs, trakt_connected, order):
    a, b = two_runs
    for run in ((a, b) if order == "a then b" else (b, a)):
        assert succeeded(undo_run(run_id=run.pk)).posted == len(run.items.filter(action="post"))
    assert plays(trakt_connected) == Counter()
    assert SyncProgress.objects.get(anilist_id=1).last_abs == 2
    again = succeeded(sync_run(mode="watching"))
    assert again.posted == 6
    assert plays(trakt_connected) == Counter({(100, 1, n): 1 for n in range(3, 9)})


# 5. Two AniList episodes overridden onto one Trakt episode are one play.

def test_two_episodes_overridden_onto_one_trakt_episode_are_posted_once(fake_anilist, trakt_connected):
    trakt_connected.add_show(100, seasons={1: 11})
    mapping = map_show(1, 100)
    EpisodeOverride.objects.create(mapping=mapping, anilist_episode=1, season=1, episode=1)
    EpisodeOverride.objects.create(mapping=mapping, anilist_episode=2, season=1, episode=1)  # a one-hour premiere
    for n in range(3, 13):
        EpisodeOverride.objects.create(mapping=mapping, anilist_episode=n, season=1, episode=n - 1)
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=12, episodes=12)

    run = succeeded(sync_run(mode="completed"))
    assert plays(trakt_connected) == Counter({(100, 1, n): 1 for n in range(1, 12)})
    assert run.posted == 11
    assert succeeded(sync_run(mode="completed")).posted == 0


# 6. A manual remap after plays were posted moves them.

def test_a_remap_after_plays_were_posted_moves_them_to_the_new_show(fake_anilist, trakt_connected):
    trakt_connected.add_show(100, seasons={1: 12})
    trakt_connected.add_show(200, seasons={1: 12})
    map_show(1, 100)
    entry = fake_anilist.add_entry(11, 1, status="CURRENT", progress=5, episodes=12)
    succeeded(sync_run(mode="watching"))
    user_play = trakt_connected.add_play(show=100, season=1, number=1, watched_at="2023-01-01T00:00:00.000Z")
    mapping = Mapping.objects.get(anilist_id=1)
    mapping.trakt_id = 200  # the person maps it to the right show
    mapping.save()
    entry["progress"] = 12

    preview = succeeded(sync_run(mode="watching", dry_run=True))
    assert preview.items.filter(action="move").count() == 5
    run = succeeded(sync_run(mode="watching"))
    assert run.items.filter(action="move").count() == 5
    assert plays(trakt_connected) == Counter({(100, 1, 1): 1} | {(200, 1, n): 1 for n in range(1, 13)})
    assert user_play["id"] in {p["id"] for p in trakt_connected.history}  # not ours: never removed
    assert succeeded(sync_run(mode="watching")).posted == 0


# 7. A batch reconciled while its re-post is stopped leaves nothing pending.

def test_a_batch_reconciled_while_its_repost_is_stopped_leaves_its_plays_wanted_not_pending(
        fake_anilist, trakt_connected, settings):
    settings.SYNC_RECONCILE_DELAY_SECONDS = 0
    trakt_connected.add_show(100, seasons={1: 12})
    map_show(1, 100)
    first = SyncRun.objects.create(mode="completed", state=SyncRun.State.FAILED)
    items = [SyncRunItem.objects.create(run=first, position=n, anilist_id=1, title="Anime 1", anilist_episode=n,
                                        action="post", kind="episode", trakt_id=100, season=1, number=n,
                                        watched_at=timezone.now().replace(microsecond=0)) for n in (1, 2, 3)]
    batch = batch_write_ahead(run=first, rows=[payload_row(i, total=12) for i in items])
    SyncBatch.objects.filter(pk=batch.pk).update(state="uncertain")  # its POST never reached Trakt
    checks = iter([None])

    def lease_lost_after_the_first_check():
        if next(checks, "lost") == "lost":
            raise LeaseLost()

    later = SyncRun.objects.create(mode="completed", state=SyncRun.State.RUNNING)
    with pytest.raises(LeaseLost):
        batches_reconcile(trakt=trakt_client(), run=later, guard=lease_lost_after_the_first_check)
    assert not SyncRunItem.objects.filter(state=SyncRunItem.State.PENDING).exists()
    assert "still being checked" not in (undo_refusal(first) or "")

    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=3, episodes=12)
    succeeded(sync_run(mode="completed"))
    assert plays(trakt_connected) == Counter({(100, 1, n): 1 for n in (1, 2, 3)})


# 10. A library run that stops half way is finished by the next scheduled incremental run.

def test_a_library_run_stopped_half_way_is_finished_by_the_next_incremental_run(
        fake_anilist, trakt_connected, settings):
    settings.TRAKT_BATCH_SIZE = 4
    settings.HTTP_MAX_RETRIES = 0
    settings.SYNC_RECONCILE_DELAY_SECONDS = 0
    for n in (1, 2):
        trakt_connected.add_show(100 * n, seasons={1: 12})
        map_show(n, 100 * n)
        fake_anilist.add_entry(10 + n, n, status="COMPLETED", progress=12, episodes=12, updated_at=CURSOR - 500)
    cursor_at()  # an install that synced before: the library run is a catch-up

    def unreachable_after_two_posts(done, total, label):
        if label == "Posting to Trakt" and done >= 8:
            trakt_connected.fail(r"/sync/.*", status=503, times=None)

    stopped = sync_run(mode="library", progress=unreachable_after_two_posts)
    assert stopped.state == SyncRun.State.FAILED
    assert "nothing was lost" in stopped.error
    assert sum(plays(trakt_connected).values()) < 24
    trakt_connected.clear_faults()

    succeeded(sync_run(mode="incremental", trigger=SyncRun.Trigger.SCHEDULED))
    assert plays(trakt_connected) == Counter({(100 * n, 1, e): 1 for n in (1, 2) for e in range(1, 13)})


# The migration: a synced install's tables become the ledger, and its next sync posts nothing.

@pytest.mark.django_db(transaction=True)
def test_a_synced_install_migrates_into_the_ledger_and_its_next_sync_posts_nothing(fake_anilist, trakt_connected):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from syncer.models import LedgerItem

    before = [("syncer", "0011_doctor")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    run = old.get_model("syncer", "SyncRun").objects.create(mode="completed", state="succeeded")
    when = timezone.now().replace(microsecond=0)
    for n in range(1, 7):
        old.get_model("syncer", "SyncRunItem").objects.create(
            run=run, position=n, anilist_id=1, title="Anime 1", anilist_episode=n, action="post", kind="episode",
            trakt_id=100, season=1, number=n, watched_at=when, state="posted")
        trakt_connected.add_play(show=100, season=1, number=n, watched_at=when.isoformat().replace("+00:00", ".000Z"))
    progress = old.get_model("syncer", "SyncProgress")
    progress.objects.create(anilist_id=1, last_abs=6)
    progress.objects.create(anilist_id=2, last_abs=3)  # the original app's: no run items
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert set(LedgerItem.objects.values_list("anilist_id", "episode", "state", "trakt_id", "run_id")) == (
        {(1, n, "posted", 100, run.pk) for n in range(1, 7)} | {(2, n, "present", None, None) for n in (1, 2, 3)})
    trakt_connected.add_show(100, seasons={1: 6})
    trakt_connected.add_show(200, seasons={1: 3})
    map_show(1, 100)
    map_show(2, 200)
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=6, episodes=6)
    fake_anilist.add_entry(12, 2, status="COMPLETED", progress=3, episodes=3)
    assert succeeded(sync_run(mode="library")).posted == 0
    assert trakt_connected.history_posts == []
    undo = succeeded(undo_run(run_id=run.pk))  # the ledger knows the migrated run's plays
    assert undo.posted == 6


# 4. A new entry resolved onto the start a saved entry holds: neither is posted there.

def test_a_new_entry_resolved_onto_the_start_a_saved_entry_holds_posts_neither_there(fake_anilist, trakt_connected):
    from tests.syncer.sync.test_resolving_pipeline import add_show, from_fribb

    add_show(trakt_connected, 100, {1: 12})
    Mapping.objects.create(anilist_id=1, trakt_id=100, type="show", start_season=1, start_episode=1, episodes=12,
                           tmdb_id=50_100, title="Anime 1", source="fribb tmdb 50100")
    from_fribb(2, 100)  # the datasets put the new entry at the same start
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=12, episodes=12)
    fake_anilist.add_entry(12, 2, status="COMPLETED", progress=12, episodes=12)

    run = succeeded(sync_run(mode="completed"))
    assert set(Mapping.objects.values_list("anilist_id", "trakt_id", "held_trakt_id")) == {(1, None, 100), (2, None, 100)}
    assert plays(trakt_connected) == Counter()
    assert run.posted == 0


# 8. A rating over several entries is the mean of all of them, whichever the run read.

def test_split_cours_keep_the_mean_of_both_when_a_run_reads_only_one(fake_anilist, trakt_connected, settings):
    settings.SYNC_RATINGS = True
    trakt_connected.add_show(100, seasons={1: 24})  # Trakt keeps both cours as one season
    map_show(1, 100)
    map_show(2, 100, episode=13)
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=12, episodes=12, score=50)
    fake_anilist.add_entry(12, 2, status="CURRENT", progress=3, episodes=12, score=90)

    succeeded(sync_run(mode="library"))
    assert trakt_connected.ratings == {"show:100": 7}
    succeeded(sync_run(mode="watching"))  # reads the second cour only
    succeeded(sync_run(mode="show", anilist_id=2))
    assert trakt_connected.ratings == {"show:100": 7}
    assert len(trakt_connected.ratings_posts) == 1


def test_a_whole_series_entry_still_airing_rates_the_show(fake_anilist, trakt_connected, settings):
    settings.SYNC_RATINGS = True
    trakt_connected.add_show(100, seasons={1: 60, 2: 40, 3: 30})
    map_show(1, 100)
    fake_anilist.add_entry(11, 1, status="CURRENT", progress=3, episodes=None, score=90)  # One Piece: no count

    succeeded(sync_run(mode="watching"))
    assert trakt_connected.ratings == {"show:100": 9}


# 9. A planned entry remapped to another show moves on the watchlist too.

def test_a_planned_entry_remapped_to_another_show_leaves_the_old_one_off_the_watchlist(
        fake_anilist, trakt_connected, settings):
    settings.SYNC_WATCHLIST = True
    trakt_connected.add_show(100, seasons={1: 12})
    trakt_connected.add_show(200, seasons={1: 12})
    trakt_connected.watchlist.append(("show", 300))  # the user's own
    map_show(1, 100)
    fake_anilist.add_entry(11, 1, status="PLANNING", progress=0, episodes=12)

    succeeded(sync_run(mode="library"))
    assert trakt_connected.watchlist == [("show", 300), ("show", 100)]
    Mapping.objects.filter(anilist_id=1).update(trakt_id=200)
    succeeded(sync_run(mode="library"))
    assert trakt_connected.watchlist == [("show", 300), ("show", 200)]
