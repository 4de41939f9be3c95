"""An entry is on Trakt whole, up to its AniList progress, or not at all (issue 10).

End to end on the loopback fakes: whichever mode runs first, an entry whose activities cover
only its last episodes, a paused or dropped entry, an entry left out by SYNC_STATUSES.
"""

from collections import Counter

import pytest

from syncer.models import SyncProgress, SyncRun, SyncRunItem
from syncer.sync.services import sync_run
from tests.seeds import map_show

JJK, SPY, HXH, NARUTO, MOB = 1, 2, 3, 4, 5


def plays(trakt):
    return Counter((show, s, n) for show, s, n, _ in trakt.episode_plays())


def whole(show, last, *, season=1):
    return Counter({(show, season, n): 1 for n in range(1, last + 1)})


def ok(run):
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    return run


def show_plays(trakt, show):
    return Counter({k: v for k, v in plays(trakt).items() if k[0] == show})


def test_completed_then_incremental_posts_every_episode_up_to_progress_once(db, fake_anilist, trakt_connected):
    """The demo's story: activities cover only JJK S2 E9-10 and Spy x Family E5-7."""
    trakt_connected.add_show(100, seasons={1: 24, 2: 23})
    trakt_connected.add_show(200, seasons={1: 25})
    map_show(JJK, 100, season=2)
    map_show(SPY, 200)
    fake_anilist.add_entry(11, JJK, status="CURRENT", progress=10, episodes=23, updated_at=1_700_000_200,
                      started_at={"year": 2023, "month": 7, "day": 6})
    fake_anilist.add_entry(12, SPY, status="CURRENT", progress=7, episodes=25, updated_at=1_700_000_300)
    fake_anilist.add_activity(1, JJK, progress="9 - 10", created_at=1_700_000_200)
    for n in (5, 6, 7):
        fake_anilist.add_activity(1 + n, SPY, progress=str(n), created_at=1_700_000_290 + n)
    ok(sync_run(mode="completed"))  # neither is completed: nothing
    assert plays(trakt_connected) == Counter()
    run = ok(sync_run(mode="incremental"))
    assert plays(trakt_connected) == whole(100, 10, season=2) + whole(200, 7)
    assert run.posted == 17
    assert (SyncProgress.objects.get(anilist_id=JJK).last_abs, SyncProgress.objects.get(anilist_id=SPY).last_abs) == (10, 7)
    when = {(show, n): at for show, _, n, at in trakt_connected.episode_plays()}
    # Earlier episodes: the entry's startedAt when known (not after the next episode), else the
    # date of the first dated later episode (the activity's).
    assert when[(100, 1)] == when[(100, 8)] == "2023-07-06T00:00:00.000Z"
    assert when[(100, 9)] == when[(100, 10)] == "2023-11-14T22:16:40.000Z"
    assert when[(200, 1)] == when[(200, 4)] == when[(200, 5)] == "2023-11-14T22:18:15.000Z"
    ok(sync_run(mode="incremental"))
    ok(sync_run(mode="watching"))
    assert plays(trakt_connected) == whole(100, 10, season=2) + whole(200, 7)


@pytest.mark.parametrize("order", [("library", "incremental"), ("incremental", "library"),
                                   ("completed", "watching", "incremental")])
def test_a_dropped_long_show_at_70_is_whole_after_any_order_of_modes(db, fake_anilist, trakt_connected, order):
    trakt_connected.add_show(300, seasons={1: 62, 2: 86})  # AniList 69-70 walk into S2E7-8
    map_show(HXH, 300)
    fake_anilist.add_entry(13, HXH, status="DROPPED", progress=70, episodes=148, updated_at=1_700_000_100)
    fake_anilist.add_activity(1, HXH, progress="69 - 70", created_at=1_700_000_100)
    for mode in order:
        ok(sync_run(mode=mode))
    expected = whole(300, 62) + Counter({(300, 2, n): 1 for n in range(1, 9)})
    assert plays(trakt_connected) == expected


def test_completed_and_watching_then_incremental_add_only_whole_entries(db, fake_anilist, trakt_connected):
    trakt_connected.add_show(300, seasons={1: 62, 2: 86})
    trakt_connected.add_show(400, seasons={n: 25 for n in range(1, 11)})
    trakt_connected.add_show(500, seasons={1: 12, 2: 13})
    map_show(HXH, 300)
    map_show(NARUTO, 400)
    map_show(MOB, 500, season=2)
    fake_anilist.add_entry(13, HXH, status="DROPPED", progress=70, episodes=148)
    fake_anilist.add_entry(14, NARUTO, status="PAUSED", progress=230, episodes=500)
    fake_anilist.add_entry(15, MOB, status="DROPPED", progress=5, episodes=13)
    fake_anilist.add_activity(1, HXH, progress="69 - 70", created_at=1_700_000_010)
    fake_anilist.add_activity(2, NARUTO, progress="228 - 230", created_at=1_700_000_020)
    fake_anilist.add_activity(3, MOB, progress="4 - 5", created_at=1_700_000_030)
    ok(sync_run(mode="completed"))
    ok(sync_run(mode="watching"))
    assert plays(trakt_connected) == Counter()  # neither list mode reads paused or dropped entries
    ok(sync_run(mode="incremental"))
    assert sum(show_plays(trakt_connected, 300).values()) == 70 and set(show_plays(trakt_connected, 300).values()) == {1}
    assert show_plays(trakt_connected, 400) == Counter({(400, s, n): 1 for s in range(1, 10) for n in range(1, 26)}
                                             | {(400, 10, n): 1 for n in range(1, 6)})
    assert show_plays(trakt_connected, 500) == whole(500, 5, season=2)


@pytest.mark.parametrize("mode", ["incremental", "library", "show"])
def test_an_entry_left_out_by_sync_statuses_gets_nothing_activities_included(db, fake_anilist, trakt_connected, settings,
                                                                             caplog, mode):
    settings.SYNC_STATUSES = "current,repeating,completed,paused"  # no DROPPED
    trakt_connected.add_show(300, seasons={1: 62, 2: 86})
    trakt_connected.add_show(200, seasons={1: 25})
    map_show(HXH, 300)
    map_show(SPY, 200)
    fake_anilist.add_entry(13, HXH, status="DROPPED", progress=70, episodes=148)
    fake_anilist.add_entry(12, SPY, status="CURRENT", progress=3, episodes=25)
    fake_anilist.add_activity(1, HXH, progress="69 - 70", created_at=1_700_000_010)
    fake_anilist.add_activity(2, SPY, progress="3", created_at=1_700_000_020)
    run = ok(sync_run(mode=mode, anilist_id=HXH if mode == "show" else None))
    assert show_plays(trakt_connected, 300) == Counter()
    assert not SyncRunItem.objects.filter(run=run, anilist_id=HXH).exists()
    assert "status DROPPED is not in SYNC_STATUSES" in caplog.text
    if mode != "show":
        assert show_plays(trakt_connected, 200) == whole(200, 3)


def test_an_unknown_sync_status_fails_the_run_saying_which(db, fake_anilist, trakt_connected, settings):
    settings.SYNC_STATUSES = "CURRENT,WATCHED"
    run = sync_run(mode="library")
    assert run.state == SyncRun.State.FAILED and "unknown status(es) WATCHED" in run.error


def test_activities_of_an_entry_at_progress_zero_count_as_evidence_and_post_it_whole(db, fake_anilist, trakt_connected, caplog):
    trakt_connected.add_show(200, seasons={1: 25})
    trakt_connected.add_show(600, seasons={1: 12})
    map_show(SPY, 200)
    map_show(6, 600)
    fake_anilist.add_entry(12, SPY, status="CURRENT", progress=0, episodes=25)
    fake_anilist.add_entry(16, 6, status="PLANNING", progress=0, episodes=12)
    fake_anilist.add_activity(1, SPY, progress="3 - 4", created_at=1_700_000_010)
    fake_anilist.add_activity(2, 6, progress="2", created_at=1_700_000_020)  # watched, then moved back to planning
    ok(sync_run(mode="incremental"))
    assert plays(trakt_connected) == whole(200, 4)
    assert SyncProgress.objects.get(anilist_id=SPY).last_abs == 4
    assert "status PLANNING: planned, not watched" in caplog.text


def test_a_stop_between_two_posts_never_leaves_a_later_episode_posted_and_an_earlier_owed(db, fake_anilist, trakt_connected,
                                                                                         settings):
    settings.TRAKT_BATCH_SIZE = 4
    trakt_connected.add_show(200, seasons={1: 25})
    map_show(SPY, 200)
    fake_anilist.add_entry(12, SPY, status="CURRENT", progress=10, episodes=25)
    fake_anilist.add_activity(1, SPY, progress="10", created_at=1_700_000_010)  # the activity is the last episode

    def refuse_after_first_batch(done, total, label):
        if label == "Posting to Trakt" and done == 4:
            trakt_connected.fail(r"/sync/history", method="POST", status=420, headers={"X-Account-Limit": "history"},
                       times=None)

    first = sync_run(mode="incremental", progress=refuse_after_first_batch)
    assert first.state == SyncRun.State.FAILED
    assert plays(trakt_connected) == whole(200, 4)  # the lowest four, not the activity's episode 10
    assert SyncProgress.objects.get(anilist_id=SPY).last_abs == 4
    trakt_connected.clear_faults()
    ok(sync_run(mode="incremental"))
    assert plays(trakt_connected) == whole(200, 10)
