"""On a fresh install the mappings are resolved inside the pipeline: a show is posted while the
next entries are still being resolved, the entries of one show are still planned together, an
entry resolved onto a show already posted waits for the next run, and a preview lists exactly
what the run then stores."""

import threading
import time
from collections import Counter

from mappings.models import FribbEntry, Mapping, OtakuEntry
from syncer.models import SyncProgress, SyncRun, SyncRunItem
from syncer.sync import pipeline
from syncer.sync.services import sync_preview, sync_run
from tests.mappings.support import schedule
from tests.mappings.test_airdates_resolution import (
    COURS,
    REZERO,
    REZERO_TMDB,
    S2_PART2,
    S3,
    rezero_on_trakt,
)
from tests.seeds import map_show
from tests.syncer.sync.test_pipeline import item_rows, plays


def from_fribb(anilist_id: int, show: int, *, season: int = 1, offset: int = 0) -> None:
    """A dataset row naming the entry's show by its TMDB id, as on a new install."""
    FribbEntry.objects.create(anilist_id=anilist_id, kind="TV", tmdb_tv=50_000 + show, tmdb_season=season,
                              tmdb_offset=offset)


def add_show(trakt, show: int, seasons: dict, **ids) -> None:
    trakt.add_show(show, seasons=seasons, ids={"tmdb": 50_000 + show, **ids})


def held_until_a_post(trakt, path: str, log: list, *, then: float = 0, up_to: float = 10) -> threading.Event:
    """Trakt answers `path` only once a POST came in (or after `up_to` s when none comes), `then`
    seconds later; `log` records each answered search and season read and each POST, in order."""
    posted, original = threading.Event(), trakt.handle

    def handle(request):
        if request.path == path:
            posted.wait(up_to)
            time.sleep(then)
        response = original(request)
        if request.method == "POST" and request.path == "/sync/history":
            log.append("post")
            posted.set()
        elif request.path.startswith(("/search/", "/shows/")):
            log.append(request.path)
        return response

    trakt.handle = handle
    return posted


def test_on_a_fresh_install_the_first_post_goes_out_before_the_last_mapping_is_resolved(db, fake_anilist, trakt_connected, settings):
    settings.TRAKT_BATCH_SIZE = 5
    for n in (1, 2, 3):
        add_show(trakt_connected, 100 * n, {1: 10})
        from_fribb(n, 100 * n)
        fake_anilist.add_entry(10 + n, n, status="COMPLETED", progress=10, episodes=10)
    log: list = []
    held_until_a_post(trakt_connected, "/search/tmdb/50300", log)

    run = sync_run(mode="completed")
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    assert log.index("post") < log.index("/search/tmdb/50300")
    assert plays(trakt_connected) == Counter({(100 * n, 1, e): 1 for n in (1, 2, 3) for e in range(1, 11)})
    assert set(Mapping.objects.values_list("anilist_id", "trakt_id", "start_season", "start_episode")) == {
        (n, 100 * n, 1, 1) for n in (1, 2, 3)}


def test_two_entries_of_one_show_are_planned_together_though_the_second_comes_after_another_show(
        db, fake_anilist, trakt_connected, settings):
    settings.TRAKT_BATCH_SIZE = 5
    add_show(trakt_connected, 100, {1: 24})
    add_show(trakt_connected, 200, {1: 6})
    from_fribb(1, 100)
    from_fribb(2, 200)
    from_fribb(3, 100, offset=6)  # S1E7-E18: its first six episodes are entry 1's last six
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=12, episodes=12)
    fake_anilist.add_entry(12, 2, status="COMPLETED", progress=6, episodes=6)
    fake_anilist.add_entry(13, 3, status="COMPLETED", progress=12, episodes=12)

    run = sync_run(mode="completed")
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    searches = [r.path for r in trakt_connected.requests if r.path.startswith("/search/")]
    assert searches == ["/search/tmdb/50100", "/search/tmdb/50200"]  # entries 1 and 3 ask about show 100 once
    held = SyncRunItem.objects.filter(run=run, reason__contains="claimed by AniList")
    assert sorted(held.values_list("anilist_id", "number")) == [(1, n) for n in range(7, 13)] + [
        (3, n) for n in range(7, 13)]
    assert plays(trakt_connected) == Counter({(100, 1, e): 1 for e in [*range(1, 7), *range(13, 19)]}
                                   | {(200, 1, e): 1 for e in range(1, 7)})
    assert [r.path for r in trakt_connected.requests if r.path.endswith("/seasons")] == ["/shows/100/seasons",
                                                                              "/shows/200/seasons"]


def test_an_entry_resolved_onto_a_show_already_posted_waits_for_the_next_run(db, fake_anilist, trakt_connected, settings):
    settings.TRAKT_BATCH_SIZE = 5
    add_show(trakt_connected, 100, {1: 12, 2: 12}, tvdb=7777)
    add_show(trakt_connected, 300, {1: 4})
    from_fribb(1, 100)
    # No dataset id in common with entry 1: only Trakt's answer puts it on show 100 (S2).
    OtakuEntry.objects.create(anilist_id=2, tvdb_id=7777, tvdb_season=2, anime_start=1, global_start=1,
                              media_type="TV", global_media_type="show")
    from_fribb(3, 300)
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=12, episodes=12)
    fake_anilist.add_entry(12, 2, status="COMPLETED", progress=12, episodes=12)
    fake_anilist.add_entry(13, 3, status="COMPLETED", progress=4, episodes=4)
    log: list = []
    posted = held_until_a_post(trakt_connected, "/search/tvdb/7777", log)

    run = sync_run(mode="completed")
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    assert log.index("post") < log.index("/search/tvdb/7777")
    late = SyncRunItem.objects.filter(run=run, anilist_id=2)
    assert set(late.values_list("action", flat=True)) == {"unmapped"}
    assert late.first().reason == pipeline.LATE.format(kind="show", trakt_id=100)
    assert plays(trakt_connected) == Counter({(100, 1, e): 1 for e in range(1, 13)} | {(300, 1, e): 1 for e in range(1, 5)})
    assert not SyncProgress.objects.filter(anilist_id=2).exists()
    assert Mapping.objects.get(anilist_id=2).trakt_id == 100  # saved as resolved, for the next run

    posted.set()
    again = sync_run(mode="completed")
    assert again.state == SyncRun.State.SUCCEEDED, again.error
    assert plays(trakt_connected) == Counter({(100, s, e): 1 for s in (1, 2) for e in range(1, 13)}
                                   | {(300, 1, e): 1 for e in range(1, 5)})


def test_a_new_sequel_of_a_show_synced_before_is_planned_with_its_entries_from_the_cached_list(
        db, fake_anilist, trakt_connected, settings):
    from mappings.seasons import trakt_show_seasons

    settings.TRAKT_BATCH_SIZE = 5
    add_show(trakt_connected, 100, {0: 1, 1: 12, 2: 12})
    add_show(trakt_connected, 300, {1: 4})
    map_show(1, 100)  # mapped by hand: no TMDB id saved with it
    Mapping.objects.create(anilist_id=9, trakt_id=100, type="show", start_season=0, start_episode=1, episodes=1,
                           tmdb_id=50_100, title="A special of it, synced before", source="fribb tmdb 50100")
    trakt_show_seasons(trakt_id=100)  # cached by that earlier sync
    from_fribb(2, 100, season=2)
    from_fribb(3, 300)
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=12, episodes=12)
    fake_anilist.add_entry(13, 3, status="COMPLETED", progress=4, episodes=4)
    fake_anilist.add_entry(12, 2, status="COMPLETED", progress=12, episodes=12)
    trakt_connected.requests.clear()
    log: list = []
    held_until_a_post(trakt_connected, "/search/tmdb/50100", log, up_to=2)

    run = sync_run(mode="completed")
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    assert log.index("/search/tmdb/50100") < log.index("post")  # show 100 waited for its new entry
    assert not SyncRunItem.objects.filter(run=run, action="unmapped").exists()
    assert plays(trakt_connected) == Counter({(100, s, e): 1 for s in (1, 2) for e in range(1, 13)}
                                   | {(300, 1, e): 1 for e in range(1, 5)})
    assert "/shows/100/seasons" not in log


def test_an_incremental_run_keeps_its_cursor_before_an_entry_left_to_the_next_run(db, fake_anilist, trakt_connected, settings):
    from syncer.sync import runs

    settings.TRAKT_BATCH_SIZE = 5
    add_show(trakt_connected, 100, {1: 12, 2: 12}, tvdb=7777)
    from_fribb(1, 100)
    OtakuEntry.objects.create(anilist_id=2, tvdb_id=7777, tvdb_season=2, anime_start=1, global_start=1,
                              media_type="TV", global_media_type="show")
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=12, episodes=12, updated_at=1_700_000_100)
    fake_anilist.add_entry(12, 2, status="COMPLETED", progress=12, episodes=12, updated_at=1_700_000_200)
    held_until_a_post(trakt_connected, "/search/tvdb/7777", [])

    run = sync_run(mode="incremental")
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    assert SyncRunItem.objects.filter(run=run, anilist_id=2, action="unmapped").exists()
    assert runs.cursor_get() < 1_700_000_200

    again = sync_run(mode="incremental")
    assert again.state == SyncRun.State.SUCCEEDED, again.error
    assert plays(trakt_connected) == Counter({(100, s, e): 1 for s in (1, 2) for e in range(1, 13)})


def test_a_sequel_no_dataset_knows_is_resolved_after_its_prequel_and_posted_with_it(db, fake_anilist, trakt_connected, settings):
    settings.TRAKT_BATCH_SIZE = 5
    rezero_on_trakt(trakt_connected)
    add_show(trakt_connected, 200, {1: 6})
    FribbEntry.objects.create(anilist_id=S2_PART2, kind="TV", tmdb_tv=REZERO_TMDB, tmdb_season=1, tmdb_offset=38,
                              has_season_data=True)
    from_fribb(2, 200)
    fake_anilist.schedules[S3] = schedule(COURS[3][:5])
    fake_anilist.relations[S3] = [(S2_PART2, "PREQUEL")]
    # The sequel's events come first: alone, it would be resolved before its prequel is mapped.
    fake_anilist.add_entry(13, S3, status="COMPLETED", progress=5, episodes=16)
    fake_anilist.add_entry(12, 2, status="COMPLETED", progress=6, episodes=6)
    fake_anilist.add_entry(11, S2_PART2, status="COMPLETED", progress=12, episodes=12)

    run = sync_run(mode="completed")
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    assert Mapping.objects.get(anilist_id=S3).source == f"air dates S1E51 (prequel AniList {S2_PART2})"
    assert plays(trakt_connected) == Counter({(REZERO, 1, e): 1 for e in range(39, 56)} | {(200, 1, e): 1 for e in range(1, 7)})
    assert not SyncRunItem.objects.filter(run=run, action="unmapped").exists()


def test_a_preview_on_a_fresh_install_lists_exactly_the_items_the_run_stores(db, fake_anilist, trakt_connected):
    add_show(trakt_connected, 700, {1: 50})
    add_show(trakt_connected, 800, {1: 4})
    from_fribb(1, 700, offset=26)
    from_fribb(2, 700, offset=38)  # claims S1E39 too: held for both
    from_fribb(3, 800)
    FribbEntry.objects.create(anilist_id=5, kind="TV", tmdb_tv=59_999, tmdb_season=1)  # Trakt knows no such show
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=13, episodes=13)
    fake_anilist.add_entry(13, 3, status="COMPLETED", progress=6, episodes=6)  # two episodes past Trakt's
    fake_anilist.add_entry(15, 5, status="COMPLETED", progress=2, episodes=2)
    fake_anilist.add_entry(12, 2, status="COMPLETED", progress=12, episodes=12)

    preview = sync_preview(mode="completed")
    assert not trakt_connected.history_posts
    run = sync_run(mode="completed")
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    assert item_rows(preview) == item_rows(run)
    assert (run.found, run.already_synced, run.unmapped) == (preview.found, preview.already_synced, preview.unmapped)
    assert SyncRunItem.objects.filter(run=preview, reason__contains="claimed by AniList").count() == 2
    assert run.posted == 12 + 11 + 4


def test_the_run_says_it_resolves_mappings_while_it_posts_until_the_last_group_is_resolved(db, fake_anilist,
                                                                                            trakt_connected, settings):
    settings.TRAKT_BATCH_SIZE = 5
    for n in (1, 2, 3):
        add_show(trakt_connected, 100 * n, {1: 10})
        from_fribb(n, 100 * n)
        fake_anilist.add_entry(10 + n, n, status="COMPLETED", progress=10, episodes=10)
    held_until_a_post(trakt_connected, "/search/tmdb/50300", [], then=2.5)  # the page's line is written once a second
    stored = []

    def page_label(done, total, label):
        if label == pipeline.POSTING:
            stored.append(SyncRun.objects.values_list("progress_label", flat=True).latest("pk"))

    run = sync_run(mode="completed", progress=page_label)
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    # The step in words (the page counts the plays from the rows), never back once posting alone.
    assert "Resolving mappings" in stored and stored[-1] == "Posting to Trakt", stored
    assert "Resolving mappings" not in stored[stored.index("Posting to Trakt"):], stored


def test_resolution_groups_join_entries_sharing_any_id_in_the_order_of_their_first_entry():
    tokens = {1: {("show", "tmdb", "5")}, 2: {("show", "tvdb", "9")}, 3: set(),
              4: {("show", "tvdb", "9"), ("show", "tmdb", "6")}, 5: {("show", "tmdb", "6"), ("show", "tmdb", "5")},
              6: {("movie", "tmdb", "5")}}
    assert pipeline.resolution_groups([1, 2, 3, 4, 5, 6], tokens) == [[1, 2, 4, 5], [3], [6]]


def test_the_resolving_thread_sends_no_query_to_the_database(db, fake_anilist, trakt_connected, monkeypatch):
    """The run's thread may hold rows locked while it waits for a group: a resolving thread
    that queried the database could wait for the run, and the run for it."""
    from django.db.backends import utils

    threads, execute = set(), utils.CursorWrapper.execute

    def recording(self, *args, **kwargs):
        threads.add(threading.current_thread().name)
        return execute(self, *args, **kwargs)

    monkeypatch.setattr(utils.CursorWrapper, "execute", recording)
    for n in (1, 2):
        add_show(trakt_connected, 100 * n, {1: 3})
        from_fribb(n, 100 * n)
        fake_anilist.add_entry(10 + n, n, status="COMPLETED", progress=3, episodes=3)
    assert sync_run(mode="completed").state == SyncRun.State.SUCCEEDED
    assert len([r for r in trakt_connected.requests if r.path.startswith("/search/")]) == 2  # resolved by the thread
    assert threads == {threading.main_thread().name}


def test_a_days_old_cached_list_lacking_an_episode_is_read_again_though_the_run_also_resolves_a_new_entry(
        db, fake_anilist, trakt_connected):
    from datetime import timedelta

    from django.utils import timezone

    from mappings.models import TraktSeasonCache
    from mappings.seasons import show_seasons_store
    from syncer.clients.trakt import Season
    from syncer.models import SystemConfig

    add_show(trakt_connected, 100, {1: 13})  # the finale is on Trakt now
    show_seasons_store(trakt_id=100, seasons=[Season(1, list(range(1, 13)), {})])
    TraktSeasonCache.objects.update(fetched_at=timezone.now() - timedelta(days=3))  # cached before it aired
    map_show(1, 100)
    SyncProgress.objects.create(anilist_id=1, last_abs=12)
    add_show(trakt_connected, 300, {1: 4})
    from_fribb(2, 300)  # new to this install: resolved by the reading thread
    SystemConfig.objects.update_or_create(key="lastSyncTimestamp", defaults={"value": "1700000000"})
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=13, episodes=13, updated_at=1_700_000_100)
    fake_anilist.add_activity(21, 1, progress="13", created_at=1_700_000_100)
    fake_anilist.add_entry(12, 2, status="COMPLETED", progress=4, episodes=4, updated_at=1_700_000_200)
    fake_anilist.add_activity(22, 2, status="completed", progress=None, created_at=1_700_000_200)

    first = sync_run(mode="incremental")
    assert first.state == SyncRun.State.SUCCEEDED, first.error
    assert first.items.get(anilist_id=1, anilist_episode=13).reason_code == "season_list_stale"
    again = sync_run(mode="incremental")  # nothing new on AniList: the ledger brings the episode back
    assert again.state == SyncRun.State.SUCCEEDED, again.error
    assert plays(trakt_connected) == Counter({(100, 1, 13): 1} | {(300, 1, e): 1 for e in range(1, 5)})
