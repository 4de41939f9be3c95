"""A user whose Trakt already holds some of their anime (watched there by hand, or scrobbled by
another app) gets none of those plays posted again, in a run or a preview."""

from collections import Counter

from syncer.clients.anilist import viewer_cache_clear
from syncer.models import SyncProgress, SyncRun, SyncRunItem, SystemConfig
from syncer.sync import plan as plan_mod
from syncer.sync.apply import progress_mark_present
from syncer.sync.services import sync_preview, sync_run
from tests.seeds import map_movie, map_show


def plays(trakt):
    return Counter((show, s, n) for show, s, n, _ in trakt.episode_plays())


def ok(run):
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    return run


def watched_gets(trakt):
    return [r.path for r in trakt.requests_to(r"/sync/watched/.*", "GET")]


def seed_half_watched_show(anilist, trakt):
    trakt.add_show(100, seasons={1: 12})
    map_show(1, 100)
    for n in range(1, 6):
        trakt.add_play(show=100, season=1, number=n, watched_at="2023-06-01T00:00:00.000Z")
    anilist.add_entry(11, 1, status="COMPLETED", progress=12, episodes=12,
                      completed_at={"year": 2024, "month": 2, "day": 3})


def test_a_first_sync_posts_only_the_episodes_trakt_does_not_have(db, fake_anilist, trakt_connected):
    seed_half_watched_show(fake_anilist, trakt_connected)
    run = ok(sync_run(mode="completed"))
    assert plays(trakt_connected) == Counter({(100, 1, n): 1 for n in range(1, 13)})
    posted = [ep["number"] for body in trakt_connected.history_posts for show in body["shows"]
              for season in show["seasons"] for ep in season["episodes"]]
    assert posted == list(range(6, 13))
    rows = list(run.items.order_by("position").values_list("anilist_episode", "action", "number", "reason"))
    assert [r[:3] for r in rows[:5]] == [(n, "already_synced", n) for n in range(1, 6)]
    assert {r[3] for r in rows[:5]} == {plan_mod.ON_TRAKT}
    assert [r[:2] for r in rows[5:]] == [(n, "post") for n in range(6, 13)]
    assert (run.posted, run.already_synced) == (7, 5)
    assert SyncProgress.objects.get(anilist_id=1).last_abs == 12
    assert watched_gets(trakt_connected) == ["/sync/watched/shows"]  # once, and no movies were to post

    again = ok(sync_run(mode="completed"))
    assert again.posted == 0 and plays(trakt_connected) == Counter({(100, 1, n): 1 for n in range(1, 13)})
    assert watched_gets(trakt_connected) == ["/sync/watched/shows"]  # nothing to post: Trakt not asked


def test_the_preview_lists_the_same_plan_and_only_reads(db, fake_anilist, trakt_connected):
    seed_half_watched_show(fake_anilist, trakt_connected)
    preview = ok(sync_preview(mode="completed"))
    assert [r.method for r in trakt_connected.requests if r.path.startswith("/sync")] == ["GET"]
    assert not SyncProgress.objects.exists() and len(trakt_connected.episode_plays()) == 5
    planned = list(preview.items.order_by("position").values_list("anilist_episode", "action", "reason"))
    run = ok(sync_run(mode="completed"))
    assert list(run.items.order_by("position").values_list("anilist_episode", "action", "reason")) == planned
    assert preview.already_synced == run.already_synced == 5


def test_a_movie_trakt_already_has_is_not_posted(db, fake_anilist, trakt_connected):
    trakt_connected.add_movie(900)
    trakt_connected.add_movie(901)
    trakt_connected.add_play(movie=900, watched_at="2022-01-01T00:00:00.000Z")
    map_movie(2, 900)
    map_movie(3, 901)
    fake_anilist.add_entry(12, 2, status="COMPLETED", progress=1, episodes=1, fmt="MOVIE")
    fake_anilist.add_entry(13, 3, status="COMPLETED", progress=1, episodes=1, fmt="MOVIE")
    run = ok(sync_run(mode="completed"))
    assert Counter(m for m, _ in trakt_connected.movie_plays()) == Counter({900: 1, 901: 1})
    assert run.posted == 1 and run.already_synced == 1
    assert SyncProgress.objects.get(anilist_id=2).last_abs == 1
    assert watched_gets(trakt_connected) == ["/sync/watched/movies"]


def test_a_show_on_the_second_page_of_watched_shows_is_found(db, fake_anilist, trakt_connected):
    trakt_connected.add_show(100, seasons={1: 3})
    map_show(1, 100)
    trakt_connected.add_play(show=100, season=1, number=1, watched_at="2020-01-01T00:00:00.000Z")  # oldest: last page
    for show in range(1000, 1130):
        trakt_connected.add_play(show=show, season=1, number=1, watched_at="2024-01-01T00:00:00.000Z")
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=3, episodes=3)
    ok(sync_run(mode="completed"))
    assert plays(trakt_connected)[(100, 1, 1)] == 1 and plays(trakt_connected)[(100, 1, 2)] == 1
    assert [r.query["page"] for r in trakt_connected.requests_to(r"/sync/watched/shows", "GET")] == ["1", "2"]


def test_a_play_owed_below_an_episode_trakt_has_is_still_posted(db, fake_anilist, trakt_connected):
    trakt_connected.add_show(100, seasons={1: 12})
    map_show(1, 100)
    for n in (3, 4, 5):
        trakt_connected.add_play(show=100, season=1, number=n)
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=12, episodes=12)
    ok(sync_run(mode="completed"))
    assert plays(trakt_connected) == Counter({(100, 1, n): 1 for n in range(1, 13)})
    assert SyncProgress.objects.get(anilist_id=1).last_abs == 12


def test_progress_is_not_advanced_past_a_play_this_run_still_owes(db):
    run = SyncRun.objects.create(mode="completed", state="running")
    item = SyncRunItem.objects.create(run=run, position=0, anilist_id=1, anilist_episode=1, action="post",
                                      kind="episode", trakt_id=100, season=1, number=1,
                                      state=SyncRunItem.State.FAILED)
    present = [{"anilist_id": 1, "episode": n, "title": "A"} for n in (2, 3)]
    present.append({"anilist_id": 2, "episode": 4, "title": "B"})
    assert progress_mark_present(run=run, rows=present) == 1
    assert not SyncProgress.objects.filter(anilist_id=1).exists()
    assert SyncProgress.objects.get(anilist_id=2).last_abs == 4
    SyncRunItem.objects.filter(pk=item.pk).update(state=SyncRunItem.State.POSTED)
    assert progress_mark_present(run=run, rows=present) == 3
    assert SyncProgress.objects.get(anilist_id=1).last_abs == 3


def test_a_failed_post_leaves_trakts_episodes_to_the_next_run(db, fake_anilist, trakt_connected):
    seed_half_watched_show(fake_anilist, trakt_connected)
    trakt_connected.fail(r"/sync/history", method="POST", status=420, times=1)
    assert sync_run(mode="completed").state == SyncRun.State.FAILED
    assert not SyncProgress.objects.exists() and len(trakt_connected.episode_plays()) == 5
    ok(sync_run(mode="completed"))
    assert plays(trakt_connected) == Counter({(100, 1, n): 1 for n in range(1, 13)})


def test_a_noop_incremental_after_skipping_trakts_plays_asks_trakt_nothing(db, fake_anilist, trakt_connected):
    trakt_connected.add_show(100, seasons={1: 12})
    map_show(1, 100)
    trakt_connected.add_play(show=100, season=1, number=1)
    fake_anilist.add_activity(1, 1, progress="1", created_at=1_700_000_000)
    fake_anilist.add_activity(2, 1, progress="2", created_at=1_700_000_100)
    fake_anilist.add_entry(11, 1, status="CURRENT", progress=2, updated_at=1_700_000_100)
    first = ok(sync_run(mode="incremental"))
    assert first.posted == 1 and plays(trakt_connected) == Counter({(100, 1, 1): 1, (100, 1, 2): 1})
    assert SyncProgress.objects.get(anilist_id=1).last_abs == 2
    viewer_cache_clear()  # as in a new process (the CLI)
    a_before, t_before = len(fake_anilist.requests), len(trakt_connected.requests)
    run = ok(sync_run(mode="incremental"))
    assert len(trakt_connected.requests) == t_before
    assert len(fake_anilist.requests) - a_before <= 3 and run.posted == 0


def test_rewatches_still_post_when_trakt_has_the_episodes(db, fake_anilist, trakt_connected, settings):
    settings.SYNC_REWATCHES = True
    trakt_connected.add_show(100, seasons={1: 3})
    map_show(1, 100)
    for n in (1, 2, 3):
        trakt_connected.add_play(show=100, season=1, number=n)  # the first watch, on Trakt
    SyncProgress.objects.create(anilist_id=1, last_abs=3)
    SystemConfig.objects.create(key="lastSyncTimestamp", value="1700000000")
    fake_anilist.add_entry(11, 1, status="REPEATING", progress=2, episodes=3, updated_at=1_700_000_200)
    fake_anilist.add_activity(1, 1, status="rewatched episode", progress="1 - 2", created_at=1_700_000_100)
    ok(sync_run(mode="incremental"))
    assert plays(trakt_connected) == Counter({(100, 1, 1): 2, (100, 1, 2): 2, (100, 1, 3): 1})
    assert watched_gets(trakt_connected) == []  # only rewatches to post: they mean a new play anyway


def test_the_watched_list_is_read_before_the_season_lists(db, fake_anilist, trakt_connected):
    # Read after 500 season lists, it would wait out a whole 5-minute window of Trakt's limit.
    seed_half_watched_show(fake_anilist, trakt_connected)
    trakt_connected.add_show(200, seasons={1: 12})
    map_show(2, 200)
    fake_anilist.add_entry(12, 2, status="COMPLETED", progress=3, episodes=12)
    ok(sync_run(mode="completed"))
    # (The account's time zone, for the completion days, is read before any of them.)
    reads = [r.path for r in trakt_connected.requests if r.method == "GET" and r.path != "/users/settings"]
    assert reads[0].startswith("/sync/watched/shows")
    assert sum(1 for path in reads if "/seasons" in path) == 2
