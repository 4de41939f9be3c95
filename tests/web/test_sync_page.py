"""Sync `/sync/`: Preview and Run of every mode, queued on django-q, refusing a second run."""

import pytest

from mappings.models import Mapping
from syncer.models import SyncRun

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def library(fake_anilist, trakt_connected):
    """One completed 3-episode show, mapped to a Trakt show that has it as season 1."""
    fake_anilist.add_entry(1, 500, status="COMPLETED", progress=3, title="Tiny Show", episodes=3,
                           completed_at={"year": 2024, "month": 5, "day": 2})
    trakt_connected.add_show(9000, title="Tiny Show", seasons={1: 3})
    Mapping.objects.create(anilist_id=500, title="Tiny Show", trakt_id=9000, type="show",
                           start_season=1, start_episode=1, is_manual=True, source="manual")
    return trakt_connected


def test_the_page_offers_preview_and_run_for_the_four_modes(staff_client):
    html = staff_client.get("/sync/").content.decode()
    for label in ("incremental", "completed", "watching", "single show"):
        assert f"Preview {label}" in html and f"Run {label}" in html
    assert '<label for="id_anilist">AniList id or URL</label>' in html


def test_run_queues_the_job_and_answers_with_a_polling_status(staff_client, monkeypatch):
    queued = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **k: queued.append(a))
    html = staff_client.post("/sync/start/", {"mode": "completed", "dry_run": ""}, **HTMX).content.decode()
    run = SyncRun.objects.get()
    assert queued == [("syncer.tasks.sync_run_task", run.id)]
    assert (run.mode, run.dry_run, run.state) == ("completed", False, "queued")
    assert f'hx-get="/runs/{run.id}/status/"' in html and "every 1s" in html


def test_without_javascript_starting_redirects_to_the_run_page(staff_client, monkeypatch):
    monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **k: None)
    response = staff_client.post("/sync/start/", {"mode": "watching", "dry_run": "on"})
    run = SyncRun.objects.get()
    assert run.dry_run and response.status_code == 302 and response["Location"] == f"/runs/{run.id}/"


def test_a_second_run_is_refused_while_one_is_running(staff_client, monkeypatch):
    monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **k: None)
    running = SyncRun.objects.create(mode="incremental", state="running")
    html = staff_client.post("/sync/start/", {"mode": "completed"}, **HTMX).content.decode()
    assert "A sync is already running" in html and f'href="/runs/{running.id}/"' in html
    assert SyncRun.objects.count() == 1


def test_single_show_needs_an_anilist_id_or_url(staff_client):
    html = staff_client.post("/sync/start/", {"mode": "show", "anilist": "https://anilist.co/manga/3/"}, **HTMX).content.decode()
    assert "Enter an AniList anime id" in html and not SyncRun.objects.exists()
    html = staff_client.post("/sync/start/", {"mode": "show", "anilist": ""}, **HTMX).content.decode()
    assert "Single show needs an AniList id or URL." in html


def test_a_single_show_url_is_read_into_its_id(staff_client, monkeypatch):
    monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **k: None)
    staff_client.post("/sync/start/", {"mode": "show", "anilist": "https://anilist.co/anime/500/x"}, **HTMX)
    assert SyncRun.objects.get().anilist_id == 500


def test_a_preview_shows_the_exact_plan_and_posts_nothing(staff_client, library, q_sync):
    # q_sync: the queued task runs inline, as the worker would.
    html = staff_client.post("/sync/start/", {"mode": "completed", "dry_run": "on"}, **HTMX).content.decode()
    run = SyncRun.objects.get()
    assert run.dry_run and run.state == "succeeded", run.error
    assert "S01E01" in html and "S01E03" in html and "Tiny Show" in html
    assert "2024-05-02" in html
    assert library.episode_plays() == []


def test_a_run_posts_the_plan_and_shows_the_result(staff_client, library, q_sync):
    html = staff_client.post("/sync/start/", {"mode": "completed", "dry_run": ""}, **HTMX).content.decode()
    run = SyncRun.objects.get()
    assert run.state == "succeeded", run.error
    assert "3 posted" in html and "Posted" in html
    assert sorted((s, n) for _, s, n, _ in library.episode_plays()) == [(1, 1), (1, 2), (1, 3)]
    # The dashboard shows it as the last completed run.
    assert "3 posted" in staff_client.get("/").content.decode()
