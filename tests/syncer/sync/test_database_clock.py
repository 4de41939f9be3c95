"""Leases and the reconcile delay are decided by the database's clock, never a host's: a worker
whose clock runs a minute ahead neither takes a live lease nor checks a write still landing on
Trakt before the delay has passed."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from syncer.connections import trakt_client
from syncer.models import RemoveBatch, SyncBatch, SyncLease, SyncRun
from syncer.sync.apply import batches_reconcile
from syncer.sync.lease import SyncAlreadyRunning, lease_acquire, lease_holder_run, lease_renew
from syncer.sync.liveness import runs_interrupt_dead
from syncer.sync.undo import removes_reconcile

pytestmark = pytest.mark.django_db
AHEAD = timedelta(minutes=1)


@pytest.fixture
def clock_ahead(monkeypatch):
    """This host's clock runs a minute ahead of the database's (and of every other host's)."""
    real = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real() + AHEAD)


@pytest.fixture
def sleeps(monkeypatch):
    waited = []
    monkeypatch.setattr(time, "sleep", waited.append)
    return waited


def test_it_does_not_take_a_lease_another_host_holds_for_30_more_seconds(clock_ahead):
    alive = SyncRun.objects.create(mode="completed", state="running")
    SyncLease.objects.update_or_create(name="sync", defaults={
        "holder": "other-host:4242:abc", "run_id": alive.pk, "expires_at": timezone.now() - AHEAD + timedelta(seconds=30)})
    with pytest.raises(SyncAlreadyRunning) as refused:
        lease_acquire(run_id=999)
    assert refused.value.run_id == alive.pk and lease_holder_run() == alive.pk
    assert runs_interrupt_dead() == [] and SyncRun.objects.get(pk=alive.pk).state == "running"


def test_a_lease_it_takes_or_renews_lasts_the_lease_time_by_the_databases_clock(clock_ahead, settings):
    token = lease_acquire(run_id=1)
    real_now = timezone.now() - AHEAD
    lasts = SyncLease.objects.get().expires_at - real_now
    assert timedelta(seconds=settings.SYNC_LEASE_SECONDS - 5) < lasts <= timedelta(seconds=settings.SYNC_LEASE_SECONDS)
    assert lease_renew(token=token)
    lasts = SyncLease.objects.get().expires_at - real_now
    assert lasts <= timedelta(seconds=settings.SYNC_LEASE_SECONDS + 5)


def row(**fields):
    return {"item": None, "anilist_id": 1, "title": "Show", "episode": 1, "kind": "episode", "trakt_id": 100,
            "season": 1, "number": 1, "watched_at": "2024-01-01T00:00:00+00:00", "rewatch": False, **fields}


def test_it_waits_the_reconcile_delay_after_a_post_another_host_just_sent(trakt_connected, settings, sleeps,
                                                                          clock_ahead):
    trakt_connected.add_show(100, seasons={1: 3})
    settings.SYNC_RECONCILE_DELAY_SECONDS = 10
    run = SyncRun.objects.create(mode="completed", state="running")
    SyncBatch.objects.create(run=run, state="uncertain", payload=[row()], posted_at=timezone.now() - AHEAD)
    batches_reconcile(trakt=trakt_client(), run=run)
    assert sleeps and sleeps[0] > 8


def test_it_waits_the_reconcile_delay_after_a_remove_another_host_just_sent(trakt_connected, settings, sleeps,
                                                                            clock_ahead):
    settings.SYNC_RECONCILE_DELAY_SECONDS = 10
    run = SyncRun.objects.create(mode="undo", state="running")
    RemoveBatch.objects.create(run=run, state="uncertain", posted_at=timezone.now() - AHEAD, payload=[
        {"item": None, "undo_item": None, "history_id": 1, "kind": "episode", "trakt_id": 100,
         "watched_at": "2024-01-01T00:00:00+00:00"}])
    removes_reconcile(trakt=trakt_client(), run=run)
    assert sleeps and sleeps[0] > 8
