"""Availability after a crash, end to end on PostgreSQL: a real worker (`manage.py qcluster`)
is killed (SIGKILL), or cut off from its database, in the middle of a run; the next start
through the Sync page or the API is accepted, the stopped run shows as interrupted, and the next
run leaves Trakt with every play exactly once."""

import contextlib
import os
import signal
import time

import pytest
from django.db import connection

from logs.models import LogEntry
from syncer.models import SyncRun
from tests.callers import API_TOKEN
from tests.syncer.sync import worker as w

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.skipif(os.name != "posix", reason="SIGKILL")]
HTMX = {"HTTP_HX_REQUEST": "true"}
API = {"Authorization": f"Bearer {API_TOKEN}"}
FINAL = {"succeeded", "failed", "refused", "interrupted"}


@pytest.fixture(autouse=True)
def shared_secret_key(settings, monkeypatch):
    from django_q.conf import Conf

    settings.SECRET_KEY = w.SECRET_KEY
    monkeypatch.setattr(Conf, "SECRET_KEY", w.SECRET_KEY)  # django-q read it once, at import


@pytest.fixture
def doors(client, staff_client, settings):
    """The two doors a person uses to start a sync, each returning the new run's id, or None
    when the start was refused because a sync is already running."""
    settings.API_TOKEN = API_TOKEN

    def page():
        html = staff_client.post("/sync/start/", {"mode": "completed"}, **HTMX).content.decode()
        if "A sync is already running" in html:
            return None
        return SyncRun.objects.filter(trigger="manual").order_by("-id").values_list("id", flat=True).first()

    def api_async():
        response = client.post("/api/completed-sync?async=1", headers=API)
        assert response.status_code in (202, 409), response.content
        return response.json()["runId"] if response.status_code == 202 else None

    return {"page": page, "api": api_async}


def start_and_catch_mid_run(client, trakt, q) -> int:
    """Queue a run for the worker and wait until Trakt holds its third POST."""
    response = client.post("/api/completed-sync?async=1", headers=API)
    assert response.status_code == 202, response.content
    w.wait_for(lambda: len(trakt.history_posts) >= 3 or q.process.poll() is not None, timeout=60,
               what="the third POST")
    assert len(trakt.history_posts) == 3, q.output()
    return response.json()["runId"]


def wait_until_final(run_id: int, *, timeout: float) -> SyncRun:
    return w.wait_for(lambda: SyncRun.objects.filter(pk=run_id, state__in=FINAL).first(), timeout=timeout,
                      every=0.2, what=f"run {run_id} to finish")


def assert_interrupted_with_its_log_line(run_id: int) -> SyncRun:
    run = SyncRun.objects.get(pk=run_id)
    assert run.state == "interrupted", (run.state, run.error)
    assert run.heartbeat_at and "last alive " + run.heartbeat_at.strftime("%Y-%m-%d %H:%M:%S UTC") in run.error
    assert LogEntry.objects.filter(run_id=run_id, level="error", message__contains="interrupted").exists()
    return run


@contextlib.contextmanager
def database_outage(name: str, *, refuse_new: bool = True):
    """This test database (and no other: datname) drops every connection but this test's own
    and, with `refuse_new`, refuses new ones until the block ends. Run from the server's
    maintenance database, as a database cannot close its own doors."""
    import psycopg

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        ours = cursor.fetchone()[0]
    db = connection.settings_dict
    with psycopg.connect(host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"],
                         password=db["PASSWORD"] or None, dbname="postgres", autocommit=True) as admin:
        if refuse_new:
            admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
        try:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> %s",
                          [name, ours])
            yield time.monotonic()
        finally:
            admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')


@pytest.mark.parametrize("door", ["page", "api"])
def test_a_worker_killed_mid_run_lets_the_next_start_in_at_once(
        door, doors, client, fake_anilist, trakt_connected, settings, tmp_path, postgres_only):
    w.library(fake_anilist, trakt_connected)
    release = w.hold_third_post(trakt_connected)
    # Q_RETRY short, so django-q delivers the killed task again within the test.
    with w.Worker(anilist=fake_anilist, trakt=trakt_connected, log=tmp_path / "qcluster.log", Q_TIMEOUT="20", Q_RETRY="25") as q:
        killed = start_and_catch_mid_run(client, trakt_connected, q)
        pid = w.lease_holder_pid()
        assert pid and pid != q.process.pid, q.output()
        assert doors[door]() is None  # while it runs, a start is refused
        os.kill(pid, signal.SIGKILL)
        waited, new = w.time_until_accepted(doors[door], timeout=90)
        print(f"\nstart accepted {waited:.2f} s after SIGKILL of the worker ({door})")
        assert waited < 10
        release.set()
        assert_interrupted_with_its_log_line(killed)
        new_run = wait_until_final(new, timeout=90)
        assert new_run.state == "succeeded", (new_run.error, q.output())
        assert w.plays(trakt_connected) == w.EXPECTED_PLAYS

        # django-q delivers the killed task again (Q_RETRY): it must leave the run as it is.
        w.wait_for(lambda: LogEntry.objects.filter(run_id=killed, message__contains="delivered again").exists(),
                   timeout=60, every=0.5, what="the redelivered task")
        assert SyncRun.objects.get(pk=killed).state == "interrupted"
        assert w.plays(trakt_connected) == w.EXPECTED_PLAYS


def test_a_run_cut_off_from_its_database_is_interrupted_and_the_next_run_recovers(
        doors, client, staff_client, fake_anilist, trakt_connected, settings, tmp_path, postgres_only):
    lease = 4  # seconds; the worker's heartbeat beats every second
    settings.SYNC_LEASE_SECONDS = lease
    name = connection.settings_dict["NAME"]
    w.library(fake_anilist, trakt_connected)
    release = w.hold_third_post(trakt_connected)
    # The HTTP timeout must be shorter than the lease (a start-up check refuses it otherwise).
    # The worker's heartbeat check runs every second (a third of SYNC_WORKER_SILENT_SECONDS).
    with w.Worker(anilist=fake_anilist, trakt=trakt_connected, log=tmp_path / "qcluster.log", SYNC_LEASE_SECONDS=str(lease),
                  HTTP_TIMEOUT_SECONDS="3", SYNC_WORKER_SILENT_SECONDS="3") as q:
        cut = start_and_catch_mid_run(client, trakt_connected, q)
        with database_outage(name) as outage:
            release.set()  # Trakt answers; the worker cannot record it
            time.sleep(lease + 1)
        back = time.monotonic()
        assert q.process.poll() is None, q.output()  # the worker process lives on

        # It could not record its own end; the worker's heartbeat check marks it, no start needed.
        w.wait_for(lambda: SyncRun.objects.get(pk=cut).state == "interrupted", timeout=lease + 5, every=0.2,
                   what="the worker's heartbeat check to mark the run")
        print(f"\nrun marked interrupted {time.monotonic() - back:.2f} s after the database came back, "
              f"without a start (SYNC_LEASE_SECONDS={lease})")
        waited, new = w.time_until_accepted(doors["api"], timeout=90)
        print(f"start accepted {time.monotonic() - outage:.2f} s after the outage began "
              f"({waited:.2f} s after the run was marked; SYNC_LEASE_SECONDS={lease})")
        run = assert_interrupted_with_its_log_line(cut)
        html = staff_client.get(f"/runs/{cut}/").content.decode()
        assert '<span class="state state-interrupted">Interrupted</span>' in html
        assert f'last alive <time datetime="{run.heartbeat_at.isoformat()}">' in html
        new_run = wait_until_final(new, timeout=90)
        assert new_run.state == "succeeded", (new_run.error, q.output())
    assert w.plays(trakt_connected) == w.EXPECTED_PLAYS


def test_a_run_whose_database_connections_drop_records_its_own_end_on_a_fresh_one(
        doors, client, fake_anilist, trakt_connected, tmp_path, postgres_only):
    w.library(fake_anilist, trakt_connected)
    release = w.hold_third_post(trakt_connected)
    with w.Worker(anilist=fake_anilist, trakt=trakt_connected, log=tmp_path / "qcluster.log") as q:
        dropped = start_and_catch_mid_run(client, trakt_connected, q)
        with database_outage(connection.settings_dict["NAME"], refuse_new=False):
            release.set()
        run = wait_until_final(dropped, timeout=60)
        assert run.state == "failed" and "connection" in run.error, (run.state, run.error, q.output())
        waited, new = w.time_until_accepted(doors["page"], timeout=30)
        assert waited < 5  # it released its lease
        assert wait_until_final(new, timeout=90).state == "succeeded", q.output()
    assert w.plays(trakt_connected) == w.EXPECTED_PLAYS


def test_a_worker_killed_holding_a_queued_runs_task_lets_the_next_start_in_within_its_silence(
        doors, client, fake_anilist, trakt_connected, settings, tmp_path, postgres_only):
    from django_q.models import OrmQ
    from django_q.tasks import async_task

    from syncer.models import WorkerBeat

    silent = 6  # seconds without a worker beat before it counts as gone (the worker beats every 2 s)
    settings.SYNC_WORKER_SILENT_SECONDS = silent
    w.library(fake_anilist, trakt_connected)
    with w.Worker(anilist=fake_anilist, trakt=trakt_connected, log=tmp_path / "qcluster.log",
                  SYNC_WORKER_SILENT_SECONDS=str(silent)) as q:
        async_task("time.sleep", 120, task_name="keeps-the-one-worker-busy")
        w.wait_for(lambda: WorkerBeat.objects.exists(), timeout=60, every=0.2, what="the worker's first beat")
        w.wait_for(lambda: not OrmQ.objects.filter(lock__lte=time_now()).exists(), timeout=30, every=0.2,
                   what="the worker to take the busy task")
        queued = doors["api"]()
        assert queued, "the first start must be accepted"

        def taken():  # the cluster took the sync's task into its memory: its row is locked
            return any(r.name() == f"sync-{queued}-completed" and r.lock > time_now() for r in OrmQ.objects.all())

        w.wait_for(taken, timeout=30, every=0.1, what="the worker to take the sync's task")
        assert SyncRun.objects.get(pk=queued).state == "queued"  # taken, not started: the worker is busy
        os.killpg(q.process.pid, signal.SIGKILL)
        waited, new = w.time_until_accepted(doors["api"], timeout=30)
        print(f"\nstart accepted {waited:.2f} s after SIGKILL of the worker holding the queued run's task "
              f"(SYNC_WORKER_SILENT_SECONDS={silent})")
        assert waited < silent + 4
    lost = SyncRun.objects.get(pk=queued)
    assert lost.state == "interrupted" and lost.error.startswith("the worker that took its task stopped before "
                                                                 "starting it")
    assert LogEntry.objects.filter(run_id=queued, level="error", message__contains="interrupted").exists()
    assert SyncRun.objects.get(pk=new).state == "queued"


def time_now():
    from django.utils import timezone

    return timezone.now()
