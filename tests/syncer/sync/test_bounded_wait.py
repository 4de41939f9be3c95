"""A sync route called without `async=1` answers when the run is done, as the original did, but
never outlives the web server's timeout: the real worker (`manage.py qcluster`) runs the sync,
the request waits at most `SYNC_API_WAIT_SECONDS`, then answers 202 with the run to follow. A run
that ends within the wait gets the original's answer."""

import os
import threading
import time

import pytest
from django.db import connection

from syncer.models import SyncProgress, SyncRun
from tests.callers import API_TOKEN, CRON_SECRET
from tests.syncer.sync import worker as w

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.skipif(os.name != "posix", reason="processes")]
WAIT = 3  # seconds: SYNC_API_WAIT_SECONDS for this test (90 by default, below gunicorn's 120)
DOORS = {
    "library-sync": ("/api/library-sync", {"Authorization": f"Bearer {API_TOKEN}"}),
    "cron": ("/api/cron", {"Authorization": f"Bearer {CRON_SECRET}"}),
}


@pytest.fixture(autouse=True)
def shared_secret_key(settings, monkeypatch):
    from django_q.conf import Conf

    settings.SECRET_KEY = w.SECRET_KEY
    monkeypatch.setattr(Conf, "SECRET_KEY", w.SECRET_KEY)  # django-q read it once, at import


def call(client, door: str, *, timeout: float):
    """POST the route in a thread: (seconds it took, response), or fail when it outlasts `timeout`."""
    path, headers = DOORS[door]
    answer = {}

    def post():
        began = time.monotonic()
        try:
            answer["response"] = client.post(path, headers=headers)
            answer["took"] = time.monotonic() - began
        finally:
            connection.close()  # this thread's own

    thread = threading.Thread(target=post, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), f"{path} did not answer within {timeout} s (the web server kills it at 120 s)"
    return answer["took"], answer["response"]


@pytest.mark.parametrize("door", ["library-sync", "cron"])
def test_a_sync_route_answers_within_its_wait_while_the_worker_runs_a_long_sync(
        door, client, api_secrets, fake_anilist, trakt_connected, settings, tmp_path, postgres_only):
    settings.SYNC_API_WAIT_SECONDS = WAIT
    settings.TRAKT_BATCH_SIZE = 6  # as the worker posts (w.Worker): six POSTs, the third held
    SyncProgress.objects.create(anilist_id=999, last_abs=1)  # synced before: the schedule may write
    w.library(fake_anilist, trakt_connected)
    release = w.hold_third_post(trakt_connected)  # Trakt sits on the third POST: a long run
    try:
        with w.Worker(anilist=fake_anilist, trakt=trakt_connected, log=tmp_path / "qcluster.log") as q:
            took, response = call(client, door, timeout=WAIT + 12)
            print(f"\n{DOORS[door][0]} answered {response.status_code} after {took:.2f} s "
                  f"(SYNC_API_WAIT_SECONDS={WAIT})")
            assert response.status_code == 202, response.content
            body = response.json()
            run_id = body["runId"]
            assert body["statusUrl"] == f"/api/runs/{run_id}" == response["Location"]
            assert body["state"] in ("queued", "running") and WAIT <= took < WAIT + 5
            release.set()
            run = w.wait_for(lambda: SyncRun.objects.filter(pk=run_id, state="succeeded").first(), timeout=90,
                             every=0.2, what="the worker to finish the run")
            assert w.plays(trakt_connected) == w.EXPECTED_PLAYS, q.output()
            assert run.trigger == ("scheduled" if door == "cron" else "api")
    finally:
        release.set()


def test_a_run_that_ends_within_the_wait_gets_the_originals_answer(
        client, api_secrets, fake_anilist, trakt_connected, settings, tmp_path, postgres_only):
    settings.SYNC_API_WAIT_SECONDS = 60
    w.library(fake_anilist, trakt_connected)
    with w.Worker(anilist=fake_anilist, trakt=trakt_connected, log=tmp_path / "qcluster.log") as q:
        took, response = call(client, "library-sync", timeout=70)
        assert response.status_code == 200, (response.content, q.output())
        assert response.json() == {"message": "Library sync complete!", "found": 2, "synced": 36,
                                   "alreadySyncedShows": 0, "addedEpisodes": 36, "batches": 6}
    run = SyncRun.objects.get(pk=int(response["X-Sync-Run-Id"]))
    assert run.state == "succeeded" and run.trigger == "api"
