"""A run whose process stopped (killed, or cut off from the database) is marked interrupted by
the next start, whichever door it comes through, and that start proceeds; a task delivered
again only runs a run that is still queued."""

import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from logs.models import LogEntry
from syncer.models import SyncBatch, SyncLease, SyncRun
from syncer.sync.lease import lease_acquire
from syncer.sync.liveness import Heartbeat, run_claim, runs_interrupt_dead
from syncer.sync.services import SyncAlreadyRunning, sync_enqueue, sync_run
from syncer.tasks import sync_run_task
from tests.callers import API_TOKEN
from tests.seeds import map_show

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
API = {"Authorization": f"Bearer {API_TOKEN}"}


class Killed(BaseException):
    """Stands for SIGKILL: nothing of the run's own error handling runs."""


@pytest.fixture
def library(fake_anilist, trakt_connected, settings):
    settings.API_TOKEN = API_TOKEN
    trakt_connected.add_show(100, seasons={1: 6})
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=6, episodes=6)
    map_show(1, 100)
    return trakt_connected


@pytest.fixture
def no_worker(monkeypatch):
    queued = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kwargs: queued.append(args))
    return queued


def dead_pid() -> int:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    return gone.pid


def left_running(*, holder: str, alive_seconds_ago: float = 5, expires_in: float = 30, **fields) -> SyncRun:
    """What a process that died mid-run leaves: the run `running`, the lease still naming it."""
    alive = timezone.now() - timedelta(seconds=alive_seconds_ago)
    run = SyncRun.objects.create(mode="completed", state="running", started_at=alive, heartbeat_at=alive,
                                 progress_done=2, progress_total=8, progress_label="Posting to Trakt", **fields)
    SyncLease.objects.update_or_create(name="sync", defaults={
        "holder": holder, "run_id": run.pk, "expires_at": timezone.now() + timedelta(seconds=expires_in)})
    return run


def killed_on_this_host() -> SyncRun:
    return left_running(holder=f"{socket.gethostname()}:{dead_pid()}:abc")


def plays(trakt):
    return Counter((show, s, n) for show, s, n, _ in trakt.episode_plays())


def assert_interrupted(run: SyncRun) -> None:
    run.refresh_from_db()
    assert run.state == SyncRun.State.INTERRUPTED and run.finished_at is not None
    assert "last alive " + run.heartbeat_at.strftime("%Y-%m-%d %H:%M:%S UTC") in run.error
    line = LogEntry.objects.filter(run_id=run.pk).order_by("-id").first()  # its last line
    assert line.level == "error" and f"Sync {run.pk} (completed) interrupted" in line.message


def test_the_sync_page_starts_at_once_after_a_run_killed_on_this_host(staff_client, library, no_worker):
    killed = killed_on_this_host()
    html = staff_client.post("/sync/start/", {"mode": "completed"}, **HTMX).content.decode()
    new = SyncRun.objects.exclude(pk=killed.pk).get()
    assert "A sync is already running" not in html and new.state == "queued"
    assert no_worker == [("syncer.tasks.sync_run_task", new.pk)]
    assert_interrupted(killed)


def test_the_api_queues_at_once_after_a_run_killed_on_this_host(client, settings, no_worker):
    settings.API_TOKEN = API_TOKEN
    killed = killed_on_this_host()
    response = client.post("/api/completed-sync?async=1", headers=API)
    assert response.status_code == 202, response.content
    assert response.json()["runId"] != killed.pk
    assert_interrupted(killed)


def test_a_run_on_another_host_is_interrupted_once_its_heartbeat_lease_expired(client, library, q_sync):
    gone = left_running(holder="other-host:4242:abc", alive_seconds_ago=61, expires_in=-1)
    response = client.post("/api/completed-sync", headers=API)  # the synchronous door
    assert response.status_code == 200, response.content
    assert_interrupted(gone)
    assert plays(library) == Counter({(100, 1, n): 1 for n in range(1, 7)})


def test_a_run_whose_lease_is_alive_is_left_running_and_the_start_refused(staff_client, client, library, no_worker):
    alive = left_running(holder="other-host:4242:abc", alive_seconds_ago=3, expires_in=50)
    html = staff_client.post("/sync/start/", {"mode": "completed"}, **HTMX).content.decode()
    assert "A sync is already running" in html and f'href="/runs/{alive.pk}/"' in html
    assert client.post("/api/completed-sync?async=1", headers=API).status_code == 409
    with pytest.raises(SyncAlreadyRunning):
        sync_run(mode="completed")
    alive.refresh_from_db()
    assert alive.state == "running" and no_worker == []


def test_the_cron_and_the_schedule_start_after_a_killed_run_too(client, library, settings, q_sync):
    from syncer.models import SyncProgress
    from syncer.tasks import sync_scheduled

    settings.CRON_SECRET = "cron-secret-0123456789"
    SyncProgress.objects.create(anilist_id=999, last_abs=1)  # this install has synced before
    killed = killed_on_this_host()
    response = client.get("/api/cron", headers={"Authorization": "Bearer cron-secret-0123456789"})
    assert response.status_code == 200 and response.json()["state"] == "succeeded", response.content
    assert_interrupted(killed)
    again = killed_on_this_host()
    assert sync_scheduled().state == "succeeded"
    assert SyncRun.objects.get(pk=again.pk).state == "interrupted"


def test_the_next_run_finishes_what_a_killed_run_posted_without_duplicates(staff_client, library, settings,
                                                                            monkeypatch, q_sync):  # noqa: F811
    settings.TRAKT_BATCH_SIZE = 2
    from syncer.sync import apply

    confirm, calls = apply.batch_confirm, []

    def dies_after_trakt_applied_the_second_post(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise Killed()
        return confirm(**kwargs)

    monkeypatch.setattr(apply, "batch_confirm", dies_after_trakt_applied_the_second_post)
    with pytest.raises(Killed):
        sync_run(mode="completed")
    monkeypatch.setattr(apply, "batch_confirm", confirm)
    killed = SyncRun.objects.get()
    assert killed.state == "running" and len(library.history_posts) == 2
    # The kill took the process, lease and all: its holder names a process that is gone.
    SyncLease.objects.update(holder=f"{socket.gethostname()}:{dead_pid()}:abc", run_id=killed.pk,
                             expires_at=timezone.now() + timedelta(seconds=60))

    html = staff_client.post("/sync/start/", {"mode": "completed"}, **HTMX).content.decode()
    new = SyncRun.objects.exclude(pk=killed.pk).get()
    assert new.state == "succeeded", new.error
    assert "A sync is already running" not in html
    assert_interrupted(killed)
    assert plays(library) == Counter({(100, 1, n): 1 for n in range(1, 7)})
    assert SyncBatch.objects.get(run=killed, state="reconciled")


def test_a_preview_whose_heartbeat_stopped_is_interrupted_by_the_next_start(no_worker, settings):
    stale = timezone.now() - timedelta(seconds=settings.SYNC_LEASE_SECONDS + 1)
    preview = SyncRun.objects.create(mode="completed", dry_run=True, state="running", started_at=stale,
                                     heartbeat_at=stale)
    fresh = SyncRun.objects.create(mode="watching", dry_run=True, state="running", started_at=timezone.now(),
                                   heartbeat_at=timezone.now())
    sync_enqueue(mode="completed")
    preview.refresh_from_db(), fresh.refresh_from_db()
    assert (preview.state, fresh.state) == ("interrupted", "running")


def test_a_queued_run_no_worker_started_blocks_starts_only_for_sync_queued_seconds(no_worker, settings):
    waiting = sync_enqueue(mode="completed")
    with pytest.raises(SyncAlreadyRunning) as refused:
        sync_enqueue(mode="completed")
    assert refused.value.run_id == waiting.pk
    SyncRun.objects.filter(pk=waiting.pk).update(
        created_at=timezone.now() - timedelta(seconds=settings.SYNC_QUEUED_SECONDS + 1))
    new = sync_enqueue(mode="completed")
    waiting.refresh_from_db()
    assert waiting.state == "interrupted" and "no worker started it within 10 min" in waiting.error
    assert new.state == "queued" and len(no_worker) == 2


@pytest.mark.parametrize("state", ["interrupted", "succeeded", "failed", "running"])
def test_a_task_delivered_again_leaves_a_run_that_is_not_queued_alone(library, state):
    then = timezone.now() - timedelta(hours=1)
    run = SyncRun.objects.create(mode="completed", state=state, started_at=then, finished_at=then, found=8,
                                 posted=2, error="as it was")
    sync_run_task(run.pk)
    after = SyncRun.objects.get(pk=run.pk)
    assert (after.state, after.started_at, after.finished_at, after.found, after.posted, after.error) == (
        state, then, then, 8, 2, "as it was")
    assert library.requests == [] and library.history_posts == []
    assert LogEntry.objects.get(run_id=run.pk).message == (
        f"Sync {run.pk} is {state}: its task, delivered again, leaves it alone")


def test_a_queued_run_is_claimed_once(db):
    run = SyncRun.objects.create(mode="completed")
    assert run_claim(run=run) and run.state == "running" and run.heartbeat_at is not None
    assert not run_claim(run=SyncRun.objects.get(pk=run.pk))


def test_a_delivery_that_finds_the_lease_taken_does_not_mark_a_claimed_run_refused(library):
    run = SyncRun.objects.create(mode="completed")
    lease_acquire(run_id=run.pk)  # the first delivery holds the lease ...
    assert run_claim(run=run)  # ... and has claimed the run
    sync_run_task(run.pk)  # the second delivery
    assert SyncRun.objects.get(pk=run.pk).state == "running"


def test_a_task_for_a_queued_run_runs_it(library):
    run = SyncRun.objects.create(mode="completed")
    sync_run_task(run.pk)
    run.refresh_from_db()
    assert run.state == "succeeded" and run.posted == 6 and run.heartbeat_at >= run.started_at


def test_the_run_page_shows_interrupted_with_the_last_time_it_was_alive(staff_client):
    run = killed_on_this_host()
    runs_interrupt_dead()
    html = staff_client.get(f"/runs/{run.pk}/").content.decode()
    run.refresh_from_db()
    assert '<span class="state state-interrupted">Interrupted</span>' in html
    assert f'last alive <time datetime="{run.heartbeat_at.isoformat()}">' in html
    assert "hx-trigger=\"every 1s" not in html  # no longer polled: it will not change
    assert "its process stopped before the run ended" in html


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_keeps_a_silent_run_alive_and_stops_with_it(settings):
    run = SyncRun.objects.create(mode="completed", state="running")
    token = lease_acquire(run_id=run.pk, seconds=1)
    with Heartbeat(run_id=run.pk, lease_token=token, interval=0.05):
        time.sleep(1.5)  # longer than the lease, without a progress report: only the heartbeat renews it
        lease = SyncLease.objects.get()
        assert lease.expires_at > timezone.now() and lease.holder == token
    beat = SyncRun.objects.get(pk=run.pk).heartbeat_at
    assert timezone.now() - beat < timedelta(seconds=0.5)
    time.sleep(0.2)
    assert SyncRun.objects.get(pk=run.pk).heartbeat_at == beat  # stopped with the run


@pytest.mark.django_db(transaction=True)
def test_a_heartbeat_that_finds_its_lease_taken_says_so(caplog):
    run = SyncRun.objects.create(mode="completed", state="running")
    beat = Heartbeat(run_id=run.pk, lease_token="not-the-holder")
    lease_acquire(run_id=999)
    beat.beat()
    assert beat.lost and f"Sync {run.pk} lost its lease to run 999" in caplog.text


def test_the_run_page_says_when_a_running_run_has_gone_silent(staff_client, settings):
    silent = left_running(holder="other-host:4242:abc", alive_seconds_ago=settings.SYNC_LEASE_SECONDS + 5)
    html = staff_client.get(f"/runs/{silent.pk}/status/").content.decode()
    assert "No sign of life since" in html and "Starting a sync marks it interrupted" in html
    alive = left_running(holder="other-host:4242:abc", alive_seconds_ago=2)
    assert "No sign of life" not in staff_client.get(f"/runs/{alive.pk}/status/").content.decode()


def test_a_second_delivery_leaves_alone_the_run_its_first_delivery_is_about_to_start(library):
    run = SyncRun.objects.create(mode="completed")
    lease_acquire(run_id=run.pk)  # the first delivery holds the lease, and has not claimed the run yet
    sync_run_task(run.pk)  # the second delivery
    after = SyncRun.objects.get(pk=run.pk)
    assert (after.state, after.error, after.finished_at) == ("queued", "", None)
    assert run_claim(run=after)  # the first delivery goes on and starts it
    assert library.requests == []


def test_an_undo_task_delivered_again_leaves_an_interrupted_undo_alone(library):
    from syncer.sync.undo import undo_enqueue, undo_run_queued

    posted = sync_run(mode="completed")
    assert posted.posted == 6, posted.error
    queued = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django_q.tasks.async_task", lambda *args, **kwargs: queued.append(args))
        undo = undo_enqueue(run_id=posted.pk)
    SyncRun.objects.filter(pk=undo.pk).update(state="interrupted", error="as it was", finished_at=timezone.now())
    asked = len(library.requests)
    undo_run_queued(undo.pk)  # django-q delivers the task again
    after = SyncRun.objects.get(pk=undo.pk)
    assert (after.state, after.error, after.posted) == ("interrupted", "as it was", 0)
    assert len(library.requests) == asked and plays(library) == Counter({(100, 1, n): 1 for n in range(1, 7)})


def test_a_run_that_could_not_record_its_end_shows_as_interrupted_without_waiting_for_a_start(
        staff_client, library, monkeypatch, settings):
    from django.db import OperationalError

    def database_down(*args, **kwargs):
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")

    monkeypatch.setattr("syncer.sync.liveness._finish", database_down)
    with pytest.raises(OperationalError):
        sync_run(mode="completed")
    run = SyncRun.objects.get()
    assert run.state == "running"  # the end could not be recorded
    silent = timezone.now() - timedelta(seconds=settings.SYNC_LEASE_SECONDS + 1)
    SyncRun.objects.filter(pk=run.pk).update(heartbeat_at=silent)  # a minute later, nothing beats for it
    html = staff_client.get(f"/runs/{run.pk}/status/").content.decode()
    assert '<span class="state state-interrupted">Interrupted</span>' in html
    assert_interrupted(run)
