"""Faults on the way to Trakt: zero duplicate and zero missing plays."""

import threading
from collections import Counter

import pytest

from syncer.models import SyncBatch, SyncProgress, SyncRun
from syncer.sync.lease import SyncAlreadyRunning
from syncer.sync.services import sync_run
from tests.seeds import map_show

EXPECTED = Counter({(100, 1, n): 1 for n in range(1, 11)} | {(200, 1, n): 1 for n in range(1, 6)})


@pytest.fixture
def library(db, fake_anilist, trakt_connected, settings):
    settings.TRAKT_BATCH_SIZE = 4  # four POSTs for 15 plays
    trakt_connected.add_show(100, seasons={1: 12})
    trakt_connected.add_show(200, seasons={1: 12})
    map_show(1, 100)
    map_show(2, 200)
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=10)
    fake_anilist.add_entry(12, 2, status="COMPLETED", progress=5)
    return trakt_connected


def plays(trakt):
    return Counter((show, s, n) for show, s, n, _ in trakt.episode_plays())


def run_until_done(attempts=3):
    for _ in range(attempts):
        run = sync_run(mode="completed")
        if run.state == SyncRun.State.SUCCEEDED:
            return run
    return run


def test_a_5xx_and_a_429_on_reads_are_retried(library):
    library.fail(r"/shows/\d+/seasons", status=503, times=2)
    library.rate_limit(r"/shows/\d+/seasons")
    assert run_until_done(1).state == SyncRun.State.SUCCEEDED
    assert plays(library) == EXPECTED


def test_a_429_on_a_post_waits_and_posts_once(library):
    library.rate_limit(r"/sync/history", method="POST")
    run_until_done(1)
    assert plays(library) == EXPECTED


def test_an_html_520_on_a_post_that_was_not_applied_is_reconciled_and_reposted(library):
    library.fail_html(r"/sync/history", method="POST", status=520)
    run = run_until_done(1)
    assert plays(library) == EXPECTED
    assert SyncBatch.objects.filter(state=SyncBatch.State.RECONCILED).count() == 1
    assert run.posted == 15


def test_a_post_applied_but_answered_502_is_not_posted_again(library):
    library.fail(r"/sync/history", method="POST", status=502, apply=True)
    run = run_until_done(1)
    assert plays(library) == EXPECTED
    assert len(library.history_posts) == 4  # nothing re-sent
    assert SyncProgress.objects.get(anilist_id=1).last_abs == 10 and run.posted == 15


def test_posts_failing_until_the_run_gives_up_are_finished_by_the_next_run(library, settings):
    library.fail(r"/sync/history", method="POST", status=502, apply=True, times=1)
    library.fail(r"/sync/history(/shows/\d+)?", method="GET", status=503, times=50)  # reconcile impossible
    first = sync_run(mode="completed")
    assert first.state == SyncRun.State.FAILED and "Try again later" in first.error
    assert SyncBatch.objects.filter(state=SyncBatch.State.UNCERTAIN).count() == 1
    library.clear_faults()
    assert run_until_done(1).state == SyncRun.State.SUCCEEDED
    assert plays(library) == EXPECTED


def test_a_token_expiring_mid_run_is_refreshed_and_nothing_is_lost(library):
    def expire_after_first_batch(done, total, label):
        if label == "Posting to Trakt" and done == 4:
            library.expire_tokens()

    run = sync_run(mode="completed", progress=expire_after_first_batch)
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    assert plays(library) == EXPECTED
    assert len(library.refresh_attempts) == 1


def test_a_revoked_trakt_connection_fails_with_an_actionable_message(library):
    library.expire_tokens()
    library.refresh_tokens.clear()
    run = sync_run(mode="completed")
    assert run.state == SyncRun.State.FAILED and "Reconnect Trakt" in run.error
    assert plays(library) == Counter()


def test_a_bad_anilist_token_says_to_check_it(library, settings):
    settings.ANILIST_ACCESS_TOKEN = "wrong"
    run = sync_run(mode="completed")
    assert run.state == SyncRun.State.FAILED and "ANILIST_ACCESS_TOKEN" in run.error


def test_a_run_started_while_another_is_posting_is_refused(library):
    refused = []

    def second_run_meanwhile(done, total, label):
        if label == "Posting to Trakt" and done == 4 and not refused:
            with pytest.raises(SyncAlreadyRunning) as exc:
                sync_run(mode="incremental")
            refused.append(exc.value)

    first = sync_run(mode="completed", progress=second_run_meanwhile)
    assert first.state == SyncRun.State.SUCCEEDED and str(refused[0]) == "a sync is already running"
    assert refused[0].run_id == first.pk
    assert SyncRun.objects.filter(state=SyncRun.State.REFUSED).count() == 1
    assert plays(library) == EXPECTED


@pytest.mark.django_db(transaction=True)
def test_two_threads_racing_for_the_lease_get_one_winner(postgres_only):
    from django.db import connection

    from syncer.sync.lease import lease_acquire

    outcomes, barrier = [], threading.Barrier(4)

    def take(n):
        barrier.wait()
        try:
            lease_acquire(run_id=n)
            outcomes.append("won")
        except SyncAlreadyRunning:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=take, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(outcomes) == ["refused", "refused", "refused", "won"]
