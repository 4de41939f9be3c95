"""Adversarial cases for "never twice, never lost": silent drops, equal-key plays in history,
a lost lease, plays in the cursor's last second, an in-flight POST of a killed run."""

import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from syncer.clients.trakt import HistoryItem, HistoryWriteResult
from syncer.connections import trakt_client
from syncer.models import (
    LedgerItem,
    SyncBatch,
    SyncLease,
    SyncProgress,
    SyncRun,
    SyncRunItem,
    SystemConfig,
)
from syncer.sync.apply import batches_reconcile, payload_row, post_rows
from syncer.sync.services import sync_run
from tests.seeds import map_show

T = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def plays(trakt):
    return Counter((show, s, n) for show, s, n, _ in trakt.episode_plays())


def planned(run, episodes, *, show=100, when=T):
    """SyncRunItems as a run's plan stores them, and their batch rows."""
    items = [SyncRunItem.objects.create(run=run, position=n, anilist_id=1, title="A", anilist_episode=ep,
                                        action="post", kind="episode", trakt_id=show, season=1, number=ep,
                                        watched_at=when) for n, ep in enumerate(episodes)]
    return [payload_row(item, total=12) for item in items]


def test_a_play_trakt_drops_silently_is_not_counted_as_posted(db, trakt_connected):
    trakt_connected.add_show(100, seasons={1: 2})  # episode 3 does not exist (the season cache was stale)
    trakt_connected.report_missing_episodes = False  # only the `added` count tells
    run = SyncRun.objects.create(mode="completed")
    post_rows(trakt=trakt_client(), run=run, rows=planned(run, [1, 2, 3]))
    run.refresh_from_db()
    assert (run.posted, run.not_found) == (2, 1)
    assert SyncProgress.objects.get(anilist_id=1).last_abs == 2
    assert run.items.get(anilist_episode=3).state == SyncRunItem.State.NOT_FOUND
    assert plays(trakt_connected) == Counter({(100, 1, 1): 1, (100, 1, 2): 1})
    assert len(trakt_connected.history_posts) == 1  # checked, not re-sent


def test_an_answer_without_counts_is_trusted_without_an_extra_read(db, trakt_connected):
    trakt_connected.add_show(100, seasons={1: 3})
    run = SyncRun.objects.create(mode="completed")

    class NoCounts:
        def add_to_history(self, plays, *, before_send=None):
            return HistoryWriteResult(counted=False)

        def history(self, **kwargs):
            raise AssertionError("no history read is needed")

    post_rows(trakt=NoCounts(), run=run, rows=planned(run, [1, 2]))
    assert SyncBatch.objects.get().state == SyncBatch.State.CONFIRMED


def test_an_unapplied_rewatch_is_reposted_though_an_equal_play_of_ours_is_in_history(db, fake_anilist, trakt_connected, settings):
    """Two rewatches finished at once are plays with the same target and time; the second
    batch's 502 (not applied) must not be "found" in history through the first batch's plays."""
    settings.SYNC_REWATCHES = True
    settings.TRAKT_BATCH_SIZE = 3
    trakt_connected.add_show(100, seasons={1: 3})
    map_show(1, 100)
    SyncProgress.objects.create(anilist_id=1, last_abs=3)
    SystemConfig.objects.create(key="lastSyncTimestamp", value="1700000000")
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=3, episodes=3, repeat=2, updated_at=1_700_000_200)

    def fail_the_second_post(done, total, label):
        if label == "Posting to Trakt" and done == 3:
            trakt_connected.fail(r"/sync/history", method="POST", status=502)  # not applied

    run = sync_run(mode="incremental", progress=fail_the_second_post)
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    assert plays(trakt_connected) == Counter({(100, 1, n): 2 for n in (1, 2, 3)})
    assert set(LedgerItem.objects.filter(cycle__gt=0).values_list("cycle", "episode", "state")) == {
        (c, n, "posted") for c in (1, 2) for n in (1, 2, 3)}


def test_reconcile_tells_a_landed_play_from_our_earlier_equal_one(db):
    """Both batches of a killed run are unresolved and only the second landed: two plays, not one."""
    run = SyncRun.objects.create(mode="completed")
    first, second = planned(run, [1]), planned(run, [1])
    SyncBatch.objects.create(run=run, payload=first, posted_at=T)
    SyncBatch.objects.create(run=run, payload=second, posted_at=T)

    class Trakt:
        history_items = [HistoryItem(1, T, "episode", 100, 1, 1)]
        posted = []

        def history(self, **kwargs):
            return list(self.history_items)

        def add_to_history(self, plays, *, before_send=None):
            self.posted += plays
            return HistoryWriteResult(added_episodes=len(plays))

    trakt = Trakt()
    batches_reconcile(trakt=trakt, run=run)
    assert len(trakt.posted) == 1


def test_a_run_that_lost_its_lease_posts_nothing_more(db, fake_anilist, trakt_connected, settings):
    settings.TRAKT_BATCH_SIZE = 4
    trakt_connected.add_show(100, seasons={1: 12})
    map_show(1, 100)
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=12)

    def another_worker_takes_the_lease(done, total, label):
        if label == "Posting to Trakt" and done == 4:
            SyncLease.objects.update(holder="elsewhere:1:x", run_id=None,
                                     expires_at=timezone.now() + timedelta(minutes=5))

    run = sync_run(mode="completed", progress=another_worker_takes_the_lease)
    assert run.state == SyncRun.State.FAILED and "lease" in run.error
    assert len(trakt_connected.history_posts) == 1
    assert plays(trakt_connected) == Counter({(100, 1, n): 1 for n in range(1, 5)})


def test_a_lease_that_expired_unclaimed_is_renewed_and_the_run_goes_on(db, fake_anilist, trakt_connected, settings):
    settings.TRAKT_BATCH_SIZE = 4
    trakt_connected.add_show(100, seasons={1: 12})
    map_show(1, 100)
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=12)

    def expire(done, total, label):
        if label == "Posting to Trakt" and done == 4:
            SyncLease.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    run = sync_run(mode="completed", progress=expire)
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    assert plays(trakt_connected) == Counter({(100, 1, n): 1 for n in range(1, 13)})


def test_an_activity_logged_in_the_same_second_as_the_last_read_is_not_skipped(db, fake_anilist, trakt_connected):
    trakt_connected.add_show(100, seasons={1: 12})
    map_show(1, 100)
    SystemConfig.objects.create(key="lastSyncTimestamp", value="1700000000")
    now = int(time.time())
    fake_anilist.add_activity(1, 1, progress="1", created_at=now)
    entry = fake_anilist.add_entry(11, 1, status="CURRENT", progress=1, updated_at=now)
    assert sync_run(mode="incremental").state == SyncRun.State.SUCCEEDED
    # The user watches episode 2 within the same second, just after the run read AniList.
    fake_anilist.add_activity(2, 1, progress="2", created_at=now)
    entry["progress"] = 2
    assert sync_run(mode="incremental").state == SyncRun.State.SUCCEEDED
    assert plays(trakt_connected) == Counter({(100, 1, 1): 1, (100, 1, 2): 1})


def test_a_killed_runs_batch_is_checked_only_after_the_reconcile_delay(db, settings):
    """Its POST may still be landing on Trakt: reading history at once could miss it."""
    settings.SYNC_RECONCILE_DELAY_SECONDS = 0.3
    run = SyncRun.objects.create(mode="completed")
    posted_at = timezone.now()
    SyncBatch.objects.create(run=run, payload=planned(run, [1]), posted_at=posted_at)
    read_at = []

    class Trakt:
        def history(self, **kwargs):
            read_at.append(timezone.now())
            return [HistoryItem(1, T, "episode", 100, 1, 1)]

    batches_reconcile(trakt=Trakt(), run=run)
    assert read_at[0] >= posted_at + timedelta(seconds=0.3)
    assert SyncBatch.objects.get().state == SyncBatch.State.RECONCILED


def test_a_movie_post_applied_but_answered_502_is_confirmed_from_history_not_reposted(db, fake_anilist, trakt_connected):
    from tests.seeds import map_movie

    trakt_connected.add_movie(900)
    map_movie(2, 900)
    fake_anilist.add_entry(12, 2, status="COMPLETED", progress=1, episodes=1, fmt="MOVIE")
    trakt_connected.fail(r"/sync/history", method="POST", status=502, apply=True)
    run = sync_run(mode="completed")
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    assert [m for m, _ in trakt_connected.movie_plays()] == [900] and len(trakt_connected.history_posts) == 1
    assert run.items.get().state == SyncRunItem.State.POSTED
    assert SyncProgress.objects.get(anilist_id=2).last_abs == 1


def test_a_run_failing_on_a_post_leaves_the_cursor_and_the_next_run_posts_the_rest_once(db, fake_anilist, trakt_connected, settings):
    settings.TRAKT_BATCH_SIZE = 2
    trakt_connected.add_show(100, seasons={1: 12})
    map_show(1, 100)
    SystemConfig.objects.create(key="lastSyncTimestamp", value="1700000000")
    fake_anilist.add_entry(11, 1, status="CURRENT", progress=4, updated_at=1_700_000_400)
    for n in range(1, 5):
        fake_anilist.add_activity(n, 1, progress=str(n), created_at=1_700_000_000 + 100 * n)

    def refuse_the_second_post(done, total, label):
        if label == "Posting to Trakt" and done == 2:
            trakt_connected.fail(r"/sync/history", method="POST", status=420)  # account limit: not applied

    first = sync_run(mode="incremental", progress=refuse_the_second_post)
    assert first.state == SyncRun.State.FAILED
    assert SystemConfig.objects.get(key="lastSyncTimestamp").value == "1700000000"
    assert sync_run(mode="incremental").state == SyncRun.State.SUCCEEDED
    assert plays(trakt_connected) == Counter({(100, 1, n): 1 for n in range(1, 5)})
    assert SystemConfig.objects.get(key="lastSyncTimestamp").value == "1700000400"


def test_posts_that_keep_failing_stop_the_run_instead_of_looping(db, fake_anilist, trakt_connected):
    trakt_connected.add_show(100, seasons={1: 12})
    map_show(1, 100)
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=3)
    trakt_connected.fail(r"/sync/history", method="POST", status=502, times=None)  # never applied, always 502
    run = sync_run(mode="completed")
    assert run.state == SyncRun.State.FAILED and "Try again later" in run.error
    assert len(trakt_connected.requests_to(r"/sync/history", "POST")) <= 3
    assert SyncBatch.objects.filter(state__in=["pending", "uncertain"]).count() == 1
    trakt_connected.clear_faults()
    assert sync_run(mode="completed").state == SyncRun.State.SUCCEEDED
    assert plays(trakt_connected) == Counter({(100, 1, n): 1 for n in (1, 2, 3)})


def test_a_post_that_times_out_and_lands_later_is_found_after_the_reconcile_delay(db, fake_anilist, trakt_connected, settings):
    settings.HTTP_TIMEOUT_SECONDS = 0.3
    settings.SYNC_RECONCILE_DELAY_SECONDS = 1.0
    trakt_connected.add_show(100, seasons={1: 12})
    map_show(1, 100)
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=3)
    # Trakt applies the POST 0.6 s after it arrived: the client has given up by then.
    trakt_connected.fail(r"/sync/history", method="POST", status=201, body={}, apply=True, delay=0.6)
    run = sync_run(mode="completed")
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    assert plays(trakt_connected) == Counter({(100, 1, n): 1 for n in (1, 2, 3)})
    assert len(trakt_connected.history_posts) == 1 and run.posted == 3
    assert SyncBatch.objects.get().state == SyncBatch.State.RECONCILED
