"""Apply against a minimal in-test Trakt: the write-ahead record and progress rules."""

from datetime import UTC, datetime

from syncer.clients.trakt import HistoryItem, HistoryWriteResult
from syncer.http import UncertainWrite
from syncer.models import SyncBatch, SyncProgress, SyncRun
from syncer.sync.apply import batches_reconcile, post_rows

T = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def row(episode, number=None):
    return {"item": None, "anilist_id": 1, "title": "A", "episode": episode, "kind": "episode", "trakt_id": 100,
            "season": 1, "number": number or episode, "watched_at": T.isoformat(), "rewatch": False,
            "cycle": None, "total": 12}


class Trakt:
    def __init__(self, *, fail=None, missing=()):
        self.fail, self.missing, self.history_items, self.seen_batches = fail, set(missing), [], []

    def add_to_history(self, plays, *, before_send=None):
        if before_send:
            before_send()
        self.seen_batches.append(list(SyncBatch.objects.values_list("state", flat=True)))
        applied = [p for p in plays if p.number not in self.missing]
        self.history_items += [HistoryItem(len(self.history_items) + 1, p.watched_at, "episode", p.show_trakt_id,
                                           p.season, p.number) for p in applied]
        if self.fail:
            error, self.fail = self.fail, None
            raise error
        return HistoryWriteResult(added_episodes=len(applied),
                                  not_found=[p for p in plays if p.number in self.missing])

    def history(self, *, kind, trakt_id=None, start_at=None, end_at=None):
        return [h for h in self.history_items if start_at <= h.watched_at <= end_at]


def test_the_batch_is_recorded_before_the_post_and_confirmed_after(db, settings):
    run = SyncRun.objects.create(mode="completed")
    trakt = Trakt()
    post_rows(trakt=trakt, run=run, rows=[row(1), row(2)])
    assert trakt.seen_batches == [["pending"]]
    assert SyncBatch.objects.get().state == SyncBatch.State.CONFIRMED
    assert SyncProgress.objects.get(anilist_id=1).last_abs == 2


def test_not_found_plays_are_reported_and_do_not_advance_progress(db):
    run = SyncRun.objects.create(mode="completed")
    post_rows(trakt=Trakt(missing={3}), run=run, rows=[row(2), row(3)])
    run.refresh_from_db()
    assert (run.posted, run.not_found) == (1, 1)
    assert SyncProgress.objects.get(anilist_id=1).last_abs == 2


def test_an_uncertain_post_that_was_applied_is_not_sent_again(db, settings):
    settings.SYNC_RECONCILE_DELAY_SECONDS = 0
    run = SyncRun.objects.create(mode="completed")
    trakt = Trakt(fail=UncertainWrite("Trakt", 502, "bad gateway"))
    post_rows(trakt=trakt, run=run, rows=[row(1), row(2)])
    assert len(trakt.seen_batches) == 1 and len(trakt.history_items) == 2
    assert SyncBatch.objects.get().state == SyncBatch.State.RECONCILED
    assert SyncProgress.objects.get(anilist_id=1).last_abs == 2


def test_reconciliation_posts_only_what_is_missing(db):
    run = SyncRun.objects.create(mode="completed")
    SyncBatch.objects.create(run=run, state=SyncBatch.State.PENDING, payload=[row(1), row(2)])
    trakt = Trakt()
    trakt.history_items.append(HistoryItem(1, T, "episode", 100, 1, 1))  # the crash happened after play 1
    assert batches_reconcile(trakt=trakt, run=run) == 1
    assert sorted(h.number for h in trakt.history_items) == [1, 2]


def test_a_history_post_is_not_retried_after_the_run_lost_its_lease(db, settings, fake_trakt):
    """A 429 is retried by the HTTP layer; by the time of the retry another run may own the
    lease and be reconciling this batch, so the retry must not go out."""
    from syncer.clients.trakt import StaticTokenStore, TraktClient
    from syncer.sync.lease import LeaseLost

    settings.SYNC_RECONCILE_DELAY_SECONDS = 0
    fake_trakt.add_show(100, seasons={1: 3})
    fake_trakt.rate_limit("/sync/history", retry_after=0.01, times=1)
    trakt = TraktClient(token_store=StaticTokenStore(fake_trakt.issue_token()["access_token"]))
    run = SyncRun.objects.create(mode="completed")
    checks = iter([None, None])  # the batch's own check and the first attempt pass; the retry's does not

    def guard():
        if next(checks, "lost") == "lost":
            raise LeaseLost()

    try:
        post_rows(trakt=trakt, run=run, rows=[row(1)], guard=guard)
    except LeaseLost:
        pass
    assert len(fake_trakt.requests_to(r"^/sync/history$", "POST")) == 1
    assert fake_trakt.episode_plays() == []
    assert SyncBatch.objects.get().state != SyncBatch.State.CONFIRMED
    assert not SyncProgress.objects.exists()
