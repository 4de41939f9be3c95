"""Rewatch cycles are ledger rows (issue 22): the n-th rewatch of an episode is a row of cycle n,
posted once whatever the order of runs, kills and undos, as first-watch plays are."""

import socket
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from syncer.models import LedgerItem, SyncBatch, SyncLease, SyncProgress, SyncRun, SystemConfig
from syncer.sync.services import sync_run
from syncer.sync.undo import undo_run
from tests.seeds import map_show

pytestmark = pytest.mark.django_db

CURSOR = 1_700_000_000


class Killed(BaseException):
    """Stands for SIGKILL: nothing of the run's own error handling runs."""


FIRST_WATCH = Counter({(1, n): 1 for n in (1, 2, 3)})


def plays(trakt):
    return Counter((s, n) for _, s, n, _ in trakt.episode_plays())


def cursor_at(value: int = CURSOR) -> None:
    SystemConfig.objects.update_or_create(key="lastSyncTimestamp", defaults={"value": str(value)})


def succeeded(run: SyncRun) -> SyncRun:
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    return run


def cycles() -> set[tuple]:
    return set(LedgerItem.objects.filter(cycle__gt=0, episode__gt=0).values_list("cycle", "episode", "state", "reason"))


@pytest.fixture
def watched(fake_anilist, trakt_connected, settings):
    """AniList 1 (3 episodes) watched and on Trakt once; rewatches on; the cursor before now."""
    settings.SYNC_REWATCHES = True
    trakt_connected.add_show(100, seasons={1: 3})
    for n in (1, 2, 3):
        trakt_connected.add_play(show=100, season=1, number=n, watched_at="2024-01-01T00:00:00.000Z")
    map_show(1, 100)
    SyncProgress.objects.create(anilist_id=1, last_abs=3, title="Anime 1")
    cursor_at()
    return fake_anilist.add_entry(11, 1, status="COMPLETED", progress=3, episodes=3, updated_at=CURSOR + 100)


def rewatched(entry, times: int) -> None:
    """The user finished one more rewatch: AniList counts it and the entry changed since the cursor."""
    entry["repeat"] = times
    entry["updatedAt"] += 100


def test_a_rewatch_cycle_posted_then_undone_is_posted_again_once_by_the_next_run(watched, trakt_connected):
    rewatched(watched, 1)
    run = succeeded(sync_run(mode="incremental"))
    assert run.posted == 3
    succeeded(undo_run(run_id=run.pk))
    assert plays(trakt_connected) == FIRST_WATCH
    assert cycles() == {(1, n, "wanted", "undone") for n in (1, 2, 3)}
    assert succeeded(sync_run(mode="completed")).posted == 3
    assert succeeded(sync_run(mode="completed")).posted == 0
    assert plays(trakt_connected) == FIRST_WATCH + Counter({(1, n): 1 for n in (1, 2, 3)})


@pytest.mark.parametrize("order", ["first then second", "second then first"])
def test_two_runs_posting_rewatch_cycles_undone_in_either_order_end_in_the_same_state(watched, trakt_connected,
                                                                                      order):
    rewatched(watched, 1)
    first = succeeded(sync_run(mode="incremental"))
    rewatched(watched, 2)
    second = succeeded(sync_run(mode="incremental"))
    assert (first.posted, second.posted) == (3, 3)
    for run in ((first, second) if order == "first then second" else (second, first)):
        assert succeeded(undo_run(run_id=run.pk)).posted == 3
    assert plays(trakt_connected) == FIRST_WATCH
    assert cycles() == {(c, n, "wanted", "undone") for c in (1, 2) for n in (1, 2, 3)}
    assert succeeded(sync_run(mode="completed")).posted == 6
    assert plays(trakt_connected) == FIRST_WATCH + Counter({(1, n): 2 for n in (1, 2, 3)})


def test_a_run_killed_mid_post_of_rewatch_batches_is_finished_without_a_play_twice(watched, trakt_connected,
                                                                                    settings, monkeypatch):
    settings.TRAKT_BATCH_SIZE = 2
    rewatched(watched, 2)
    from syncer.sync import apply

    confirm, calls = apply.batch_confirm, []

    def dies_after_trakt_applied_the_second_post(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise Killed()
        return confirm(**kwargs)

    monkeypatch.setattr(apply, "batch_confirm", dies_after_trakt_applied_the_second_post)
    with pytest.raises(Killed):
        sync_run(mode="incremental")
    monkeypatch.setattr(apply, "batch_confirm", confirm)
    killed = SyncRun.objects.get()
    assert len(trakt_connected.history_posts) == 2
    SyncLease.objects.update(holder=f"{socket.gethostname()}:999999:abc", run_id=killed.pk,
                             expires_at=timezone.now() - timedelta(seconds=1))
    succeeded(sync_run(mode="incremental"))
    succeeded(sync_run(mode="completed"))
    assert plays(trakt_connected) == FIRST_WATCH + Counter({(1, n): 2 for n in (1, 2, 3)})
    assert SyncBatch.objects.get(run=killed, state="reconciled")
    assert cycles() == {(c, n, "posted", "") for c in (1, 2) for n in (1, 2, 3)}


def test_an_activity_read_again_after_its_cycle_ended_posts_nothing(watched, fake_anilist, trakt_connected):
    watched["status"] = "REPEATING"
    watched["progress"] = 2
    fake_anilist.add_activity(21, 1, status="rewatched episode", progress="1 - 2", created_at=CURSOR + 50)
    succeeded(sync_run(mode="incremental"))
    fake_anilist.add_activity(22, 1, status="rewatched episode", progress="3", created_at=CURSOR + 150)
    watched.update(status="COMPLETED", progress=3)
    rewatched(watched, 1)
    succeeded(sync_run(mode="incremental"))
    cursor_at()  # the cursor held back: every activity read again
    assert succeeded(sync_run(mode="incremental")).posted == 0
    assert plays(trakt_connected) == FIRST_WATCH + Counter({(1, n): 1 for n in (1, 2, 3)})
    assert cycles() == {(1, n, "posted", "") for n in (1, 2, 3)}


def test_the_preview_of_rewatches_lists_what_the_run_posts(watched, fake_anilist, trakt_connected):
    watched["progress"] = 3
    fake_anilist.add_activity(21, 1, status="rewatched episode", progress="1 - 2", created_at=CURSOR + 50)
    rewatched(watched, 2)

    def lines(run):
        return [(i.anilist_episode, i.action, i.rewatch, i.season, i.number) for i in run.items.order_by("position")]

    preview = succeeded(sync_run(mode="incremental", dry_run=True))
    run = succeeded(sync_run(mode="incremental"))
    assert lines(preview) == lines(run)
    assert run.posted == 6
    assert plays(trakt_connected) == FIRST_WATCH + Counter({(1, n): 2 for n in (1, 2, 3)})


def test_with_rewatches_off_finished_rewatches_are_skipped_and_not_posted_once_turned_on(watched, trakt_connected,
                                                                                         settings):
    settings.SYNC_REWATCHES = False
    rewatched(watched, 2)
    succeeded(sync_run(mode="completed"))
    settings.SYNC_REWATCHES = True
    cursor_at()
    assert succeeded(sync_run(mode="incremental")).posted == 0
    rewatched(watched, 3)
    assert succeeded(sync_run(mode="incremental")).posted == 3
    assert plays(trakt_connected) == FIRST_WATCH + Counter({(1, n): 1 for n in (1, 2, 3)})


# The migration: the counters become cycle rows, and a synced install re-posts nothing.

@pytest.mark.django_db(transaction=True)
def test_an_install_with_two_rewatches_synced_migrates_into_cycle_rows_and_reposts_nothing(fake_anilist,
                                                                                           trakt_connected, settings):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    settings.SYNC_REWATCHES = True
    before = [("syncer", "0012_ledger")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    run = old.get_model("syncer", "SyncRun").objects.create(mode="incremental", state="succeeded")
    when = timezone.now().replace(microsecond=0) - timedelta(days=1)
    # The third rewatch is under way: its episode 1 was posted from activity 31.
    old.get_model("syncer", "SyncRunItem").objects.create(
        run=run, position=0, anilist_id=1, title="Anime 1", anilist_episode=1, action="post", kind="episode",
        trakt_id=100, season=1, number=1, watched_at=when, state="posted", rewatch=True, activity_id=31)
    old.get_model("syncer", "SyncProgress").objects.create(anilist_id=1, last_abs=3, synced_repeat=2,
                                                           rewatch_last_abs=1)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    trakt_connected.add_show(100, seasons={1: 3})
    map_show(1, 100)
    cursor_at()
    fake_anilist.add_entry(11, 1, status="REPEATING", progress=1, episodes=3, repeat=2, updated_at=CURSOR + 100)
    fake_anilist.add_activity(31, 1, status="rewatched episode", progress="1", created_at=CURSOR + 50)
    assert succeeded(sync_run(mode="incremental")).posted == 0
    assert succeeded(sync_run(mode="library")).posted == 0
    assert trakt_connected.history_posts == []
    assert cycles() == {(3, 1, "posted", "")}  # cycles 1 and 2 are accounted for whole
    assert set(LedgerItem.objects.filter(episode=0, cycle__gt=0).values_list("cycle", "state")) == {
        (1, "present"), (2, "present")}


def test_a_rewatch_batch_written_before_rewatches_had_cycles_settles_without_touching_the_first_watch(
        watched, trakt_connected, settings):
    settings.SYNC_RECONCILE_DELAY_SECONDS = 0
    from syncer.connections import trakt_client
    from syncer.models import SyncRunItem
    from syncer.sync import ledger
    from syncer.sync.apply import batch_write_ahead, batches_reconcile, payload_row

    ledger.seed([1])  # the first watch is in the ledger: present
    before = set(LedgerItem.objects.filter(cycle=0).values_list("episode", "state", "item_id"))
    assert before == {(n, "present", None) for n in (1, 2, 3)}
    run = SyncRun.objects.create(mode="incremental", state=SyncRun.State.FAILED)
    item = SyncRunItem.objects.create(run=run, position=0, anilist_id=1, title="Anime 1", anilist_episode=2,
                                      action="post", kind="episode", trakt_id=100, season=1, number=2,
                                      watched_at=timezone.now().replace(microsecond=0), rewatch=True, activity_id=9)
    batch = batch_write_ahead(run=run, rows=[{**payload_row(item), "cycle": None}])  # as the old code wrote it
    SyncBatch.objects.filter(pk=batch.pk).update(state="uncertain")  # its POST never reached Trakt
    batches_reconcile(trakt=trakt_client(), run=SyncRun.objects.create(mode="incremental", state="running"))
    assert plays(trakt_connected) == FIRST_WATCH + Counter({(1, 2): 1})
    assert set(LedgerItem.objects.filter(cycle=0).values_list("episode", "state", "item_id")) == before
