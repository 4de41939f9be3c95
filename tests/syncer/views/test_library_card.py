"""The Sync page's Library card (issue 10): offered as the first sync of an install, queued
like every mode."""


import pytest

from syncer.models import SyncProgress, SyncRun

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("accounts_ready")]
HTMX = {"HTTP_HX_REQUEST": "true"}



def test_a_new_install_is_offered_the_library_sync_first(staff_client):
    html = staff_client.get("/sync/").content.decode()
    assert "Preview library" in html and "Run library" in html
    assert html.index('id="h-library"') < html.index('id="h-incremental"')
    assert 'id="first-sync"' in html and 'href="#h-library"' in html


def test_once_something_was_synced_the_first_sync_notice_goes(staff_client):
    SyncProgress.objects.create(anilist_id=1, last_abs=3)
    html = staff_client.get("/sync/").content.decode()
    assert "Run library" in html and 'id="first-sync"' not in html


def test_run_library_queues_a_library_run(staff_client, monkeypatch):
    queued = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **k: queued.append(a))
    staff_client.post("/sync/start/", {"mode": "library", "dry_run": "on"}, **HTMX)
    run = SyncRun.objects.get()
    assert (run.mode, run.dry_run, run.state) == ("library", True, "queued")
    assert queued == [("syncer.tasks.sync_run_task", run.id)]

