"""A queued run whose task a worker took and then died with is lost: the next start (at most
`SYNC_WORKER_SILENT_SECONDS` after the worker's last beat) marks it interrupted with that
reason and is accepted. A task still waiting in the broker, or held by a worker that is alive,
keeps its run queued."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import OrmQ

from syncer.models import SyncRun, WorkerBeat
from syncer.sync.services import SyncAlreadyRunning, sync_enqueue

pytestmark = pytest.mark.django_db


def beat(name: str, *, started: float, last: float) -> WorkerBeat:
    """A cluster that started `started` seconds ago and last beat `last` seconds ago."""
    now = timezone.now()
    return WorkerBeat.objects.create(cluster=name, host="worker-host", started_at=now - timedelta(seconds=started),
                                     beat_at=now - timedelta(seconds=last))


def queued_seconds_ago(seconds: float) -> SyncRun:
    """A run queued through the real broker (the database: an `OrmQ` row), `seconds` ago."""
    run = sync_enqueue(mode="completed")
    SyncRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(seconds=seconds))
    return run


def taken_by_a_worker(run: SyncRun) -> None:
    """What django-q's pusher does when it takes a task: lock its row for `Q_RETRY`."""
    row = next(r for r in OrmQ.objects.all() if r.name() == f"sync-{run.pk}-completed")
    OrmQ.objects.filter(pk=row.pk).update(lock=timezone.now() + timedelta(seconds=3700))


def test_a_run_whose_task_a_killed_worker_took_is_interrupted_and_a_new_start_accepted(settings):
    beat("cluster-a", started=3600, last=200)
    lost = queued_seconds_ago(230)
    taken_by_a_worker(lost)
    beat("cluster-a-dies", started=3600, last=31)  # the worker's last beat, 31 s ago
    new = sync_enqueue(mode="completed")
    lost.refresh_from_db()
    assert lost.state == "interrupted" and new.state == "queued"
    assert lost.error.startswith("the worker that took its task stopped before starting it (killed or restarted; "
                                 "last seen ")
    assert "no worker started it" not in lost.error


def test_a_worker_restarted_after_the_kill_does_not_keep_the_lost_run_queued(settings):
    beat("cluster-a", started=3600, last=50)  # killed 50 s ago
    lost = queued_seconds_ago(60)
    taken_by_a_worker(lost)
    beat("cluster-b", started=31, last=1)  # its replacement, up for 31 s
    sync_enqueue(mode="completed")
    lost.refresh_from_db()
    assert lost.state == "interrupted" and "the worker that took its task stopped" in lost.error


def test_a_task_still_waiting_in_the_broker_keeps_its_run_queued_while_a_worker_lives(settings):
    beat("cluster-b", started=31, last=1)
    waiting = queued_seconds_ago(60)
    with pytest.raises(SyncAlreadyRunning) as refused:
        sync_enqueue(mode="completed")
    assert refused.value.run_id == waiting.pk
    assert SyncRun.objects.get(pk=waiting.pk).state == "queued"


def test_a_task_a_live_worker_took_keeps_its_run_queued(settings):
    beat("cluster-a", started=3600, last=2)  # alive, started before the run was queued
    taken = queued_seconds_ago(60)
    taken_by_a_worker(taken)
    with pytest.raises(SyncAlreadyRunning):
        sync_enqueue(mode="completed")
    assert SyncRun.objects.get(pk=taken.pk).state == "queued"


def test_with_no_worker_running_a_queued_run_says_so_rather_than_blocking_for_ten_minutes(settings):
    beat("cluster-a", started=3600, last=45)
    waiting = queued_seconds_ago(40)
    new = sync_enqueue(mode="completed")
    waiting.refresh_from_db()
    assert waiting.state == "interrupted" and new.state == "queued"
    assert waiting.error.startswith("no worker is running to start it (the worker, `manage.py qcluster`, was "
                                    "last seen ")


def test_a_double_click_while_no_worker_runs_is_still_refused(settings):
    beat("cluster-a", started=3600, last=45)
    first = queued_seconds_ago(2)
    with pytest.raises(SyncAlreadyRunning):
        sync_enqueue(mode="completed")
    assert SyncRun.objects.get(pk=first.pk).state == "queued"
