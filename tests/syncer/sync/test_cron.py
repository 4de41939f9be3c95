from datetime import UTC, datetime, timedelta

from syncer.models import SyncRun, SystemConfig
from syncer.schedules import periodic_jobs
from syncer.sync.cron import sync_cron
from tests.seeds import map_show


def test_cron_skips_when_the_last_automated_run_is_recent(db, settings):
    settings.SYNC_INTERVAL_HOURS = 6
    SystemConfig.objects.create(key="status:sync:last-run-auto", value="2025-01-01T00:00:00.000Z")
    answer = sync_cron(now=datetime(2025, 1, 1, 5, tzinfo=UTC))
    assert answer == {"message": "Skipped sync", "lastRun": "2025-01-01T00:00:00.000Z",
                      "nextRun": "2025-01-01T06:00:00.000Z"}
    assert not SyncRun.objects.exists()


def test_cron_runs_the_automated_incremental_sync_when_due(db, fake_anilist, trakt_connected, q_sync):
    SystemConfig.objects.create(key="lastSyncTimestamp", value="1699999999")  # synced before
    trakt_connected.add_show(100, seasons={1: 12})
    map_show(1, 100)
    fake_anilist.add_activity(1, 1, progress="1", created_at=1_700_000_000)
    SystemConfig.objects.create(key="status:sync:last-run-auto", value="2025-01-01T00:00:00.000Z")
    answer = sync_cron(now=datetime(2025, 1, 1, 6, 1, tzinfo=UTC), wait=5)
    assert answer["message"] == "Sync complete!" and answer["synced"] == 1
    run = SyncRun.objects.get()
    assert (run.mode, run.trigger) == ("incremental", "scheduled")
    stamp = SystemConfig.objects.get(key="status:sync:last-run-auto").value
    assert datetime.fromisoformat(stamp.replace("Z", "+00:00")) > datetime.now(UTC) - timedelta(minutes=1)
    assert not SystemConfig.objects.filter(key="status:sync:last-run").exists()


def test_a_scheduled_run_never_makes_the_first_write_of_an_install(db, fake_anilist, trakt_connected, q_sync):
    trakt_connected.add_show(100, seasons={1: 12})
    map_show(1, 100)
    fake_anilist.add_activity(1, 1, progress="1", created_at=1_700_000_000)
    answer = sync_cron(now=datetime(2025, 1, 1, tzinfo=UTC), wait=5)
    run = SyncRun.objects.get()
    assert run.state == "refused" and "never synced" in run.error
    assert trakt_connected.episode_plays() == []
    assert answer["state"] == "refused" and answer["message"] == "Sync not started"


def test_a_millisecond_cursor_from_the_original_is_read_as_seconds(db):
    from syncer.sync.runs import cursor_get

    SystemConfig.objects.create(key="lastSyncTimestamp", value="1731369271000")
    assert cursor_get() == 1731369271


def test_cron_queues_the_run_for_the_worker_by_default(db, monkeypatch):
    queued = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda func, *args, **kw: queued.append((func, args)))
    answer = sync_cron(now=datetime(2025, 1, 1, tzinfo=UTC))
    run = SyncRun.objects.get()
    assert answer["message"] == "Sync started" and answer["runId"] == run.pk
    assert queued == [("syncer.tasks.sync_run_task", (run.pk,))]
    assert sync_cron(now=datetime(2025, 1, 1, 1, tzinfo=UTC))["message"] == "Skipped sync"


def test_the_incremental_sync_is_scheduled_every_interval(settings):
    settings.SYNC_INTERVAL_HOURS = 6
    job = next(j for j in periodic_jobs() if j.func == "syncer.tasks.sync_scheduled")
    assert job.cron == "0 */6 * * *"
