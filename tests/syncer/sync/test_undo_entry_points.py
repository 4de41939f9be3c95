"""Undo from the CLI, the JSON API and the run page: preview first, then confirm."""

from collections import Counter
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from syncer.models import SyncProgress, SyncRun
from syncer.sync.services import sync_run
from tests.seeds import map_show

pytestmark = pytest.mark.django_db


@pytest.fixture
def posted(fake_anilist, trakt_connected) -> SyncRun:
    trakt_connected.add_show(100, seasons={1: 12})
    map_show(1, 100, title="Frieren")
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=3, episodes=3, title="Frieren")
    run = sync_run(mode="completed")
    assert run.posted == 3, run.error
    return run


def plays(trakt):
    return Counter((show, s, n) for show, s, n, _ in trakt.episode_plays())


def test_the_command_dry_run_lists_the_plays_and_removes_nothing(posted, trakt_connected):
    out = StringIO()
    call_command("sync", "undo", str(posted.pk), "--dry-run", stdout=out)
    text = out.getvalue()
    assert f"Undo of run #{posted.pk}" in text and "these 3 plays will be removed" in text
    assert "Frieren ep 2 -> Trakt 100 S01E02" in text
    assert len(trakt_connected.episode_plays()) == 3


def test_the_command_undoes_a_run(posted, trakt_connected):
    out = StringIO()
    call_command("sync", "undo", str(posted.pk), stdout=out)
    assert "3 plays removed from Trakt history" in out.getvalue()
    assert plays(trakt_connected) == Counter() and not SyncProgress.objects.filter(anilist_id=1).exists()


def test_the_command_refuses_an_undo_of_an_undo_clearly(posted):
    call_command("sync", "undo", str(posted.pk), stdout=StringIO())
    undo = SyncRun.objects.get(mode="undo")
    with pytest.raises(CommandError, match="is itself an undo and cannot be undone"):
        call_command("sync", "undo", str(undo.pk), stdout=StringIO())
    with pytest.raises(CommandError, match="needs the id of the run"):
        call_command("sync", "undo", stdout=StringIO())


def test_the_api_previews_then_undoes(api, posted, trakt_connected, q_sync):
    preview = api.post(f"/api/runs/{posted.pk}/undo?preview=1")
    assert preview.status_code == 200
    assert preview.json() | {"runId": 0} == {"message": "these 3 plays will be removed", "preview": True,
                                             "runId": 0, "undoneRunId": posted.pk, "plays": 3, "alreadyGone": 0}
    assert len(trakt_connected.episode_plays()) == 3
    done = api.post(f"/api/runs/{posted.pk}/undo")
    assert done.status_code == 200 and done.json()["plays"] == 3 and not done.json()["preview"]
    assert plays(trakt_connected) == Counter()
    again = api.post(f"/api/runs/{posted.pk}/undo")
    assert again.status_code == 409 and "already undone" in again.json()["error"]
    undo_of_undo = api.post(f"/api/runs/{done.json()['runId']}/undo")
    assert undo_of_undo.status_code == 409 and "cannot be undone" in undo_of_undo.json()["error"]


def test_the_api_answers_404_for_an_unknown_run_and_405_for_get(api, db):
    assert api.post("/api/runs/999/undo").status_code == 404
    assert api.get("/api/runs/999/undo").status_code == 405


def test_the_run_page_previews_then_confirms_the_undo(staff_client, posted, trakt_connected, q_sync):
    html = staff_client.get(f"/runs/{posted.pk}/").content.decode()
    assert "Undo this run" in html
    response = staff_client.post(f"/runs/{posted.pk}/undo/")
    preview = SyncRun.objects.get(mode="undo", dry_run=True)
    assert response.url == f"/runs/{preview.pk}/"
    html = staff_client.get(response.url).content.decode()
    assert "Remove these 3 plays from Trakt" in html and len(trakt_connected.episode_plays()) == 3
    response = staff_client.post(f"/runs/{posted.pk}/undo/", {"confirm": "1"})
    undo = SyncRun.objects.get(mode="undo", dry_run=False)
    assert response.url == f"/runs/{undo.pk}/"
    undo.refresh_from_db()
    assert (undo.state, undo.posted) == (SyncRun.State.SUCCEEDED, 3), undo.error
    assert plays(trakt_connected) == Counter()
    html = staff_client.get(f"/runs/{posted.pk}/").content.decode()
    assert "Undo: run #" in html and "was already undone" in html
    refused = staff_client.post(f"/runs/{posted.pk}/undo/")
    assert refused.status_code == 409 and "was already undone" in refused.content.decode()
