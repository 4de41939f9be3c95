"""Sync `/sync/`: Preview and Run of every mode, queued on django-q, refusing a second run."""


import pytest
from django.utils import timezone

from mappings.models import Mapping
from syncer.models import SyncRun
from syncer.sync.lease import lease_acquire

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("accounts_ready")]
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
    assert f'hx-get="/runs/{run.id}/status/?sync=1"' in html and "every 1s" in html


def test_without_javascript_starting_redirects_to_the_run_page(staff_client, monkeypatch):
    monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **k: None)
    response = staff_client.post("/sync/start/", {"mode": "watching", "dry_run": "on"})
    run = SyncRun.objects.get()
    assert run.dry_run and response.status_code == 302 and response["Location"] == f"/runs/{run.id}/"


def test_a_second_run_is_refused_while_one_is_running(staff_client, monkeypatch):
    monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **k: None)
    running = SyncRun.objects.create(mode="incremental", state="running")
    lease_acquire(run_id=running.pk)  # as every live run does
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


def test_without_an_anilist_token_nothing_starts_and_it_says_how_to_get_one(staff_client, settings, monkeypatch):
    monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **k: pytest.fail("queued"))
    settings.ANILIST_ACCESS_TOKEN = ""
    html = staff_client.post("/sync/start/", {"mode": "completed", "dry_run": "on"}, **HTMX).content.decode()
    assert "Nothing was started" in html and "ANILIST_ACCESS_TOKEN is not set" in html
    assert "anilist.co/settings/developer" in html and not SyncRun.objects.exists()
    page = staff_client.get("/sync/").content.decode()
    assert "ANILIST_ACCESS_TOKEN is not set" in page


def test_without_the_trakt_app_credentials_nothing_starts(staff_client, settings, monkeypatch):
    monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **k: pytest.fail("queued"))
    settings.TRAKT_CLIENT_SECRET = ""
    response = staff_client.post("/sync/start/", {"mode": "watching", "dry_run": "on"})
    assert response.status_code == 409
    assert "TRAKT_CLIENT_ID and TRAKT_CLIENT_SECRET are not set" in response.content.decode()
    assert not SyncRun.objects.exists()


def test_a_run_needs_trakt_connected_but_a_preview_does_not(staff_client, monkeypatch):
    from syncer.models import TraktToken

    monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **k: None)
    TraktToken.objects.filter(id=1).update(state=TraktToken.State.DISCONNECTED, access_token="")
    page = staff_client.get("/sync/").content.decode()
    assert "Trakt is not connected" in page and 'href="/trakt/"' in page
    html = staff_client.post("/sync/start/", {"mode": "completed", "dry_run": ""}, **HTMX).content.decode()
    assert "Nothing was started" in html and "Connect Trakt" in html and not SyncRun.objects.exists()
    staff_client.post("/sync/start/", {"mode": "completed", "dry_run": "on"}, **HTMX)
    assert SyncRun.objects.get().dry_run


def test_the_page_warns_while_no_mapping_source_is_imported(staff_client):
    from mappings.models import SourceStatus

    assert "No mapping source has been imported yet" in staff_client.get("/sync/").content.decode()
    SourceStatus.objects.create(source="fribb", row_count=40_000, refreshed_at=timezone.now())
    assert "No mapping source has been imported yet" not in staff_client.get("/sync/").content.decode()


def test_a_finished_preview_counts_what_a_run_would_post(staff_client, library, q_sync):
    html = staff_client.post("/sync/start/", {"mode": "completed", "dry_run": "on"}, **HTMX).content.decode()
    assert "3 to post" in html and "0 posted" not in html


def test_the_plan_names_the_trakt_show_and_links_the_episode(staff_client):
    from syncer.models import SyncRunItem

    Mapping.objects.create(anilist_id=16498, title="Shingeki no Kyojin", trakt_id=1420, type="show",
                           trakt_title="Attack on Titan", trakt_slug="attack-on-titan")
    Mapping.objects.create(anilist_id=20958, title="Shingeki no Kyojin 2", trakt_id=1420, type="show",
                           trakt_title="Attack on Titan", trakt_slug="attack-on-titan")
    run = SyncRun.objects.create(mode="completed", state="succeeded", dry_run=True, finished_at=timezone.now())
    SyncRunItem.objects.create(run=run, position=1, anilist_id=16498, title="Shingeki no Kyojin", anilist_episode=3,
                               action="post", kind="episode", trakt_id=1420, season=1, number=3)
    # Mapped to another show since the preview: the row keeps what the preview planned.
    SyncRunItem.objects.create(run=run, position=2, anilist_id=20958, title="Shingeki no Kyojin 2", anilist_episode=1,
                               action="post", kind="episode", trakt_id=777, season=1, number=1)
    html = staff_client.get(f"/runs/{run.id}/").content.decode()
    assert 'href="https://trakt.tv/shows/attack-on-titan/seasons/1/episodes/3"' in html
    assert "Attack on Titan S01E03" in html
    assert 'href="https://trakt.tv/shows/777/seasons/1/episodes/1"' in html and "777 S01E01" in html


def test_a_finished_preview_offers_to_run_the_same_sync(staff_client, library, q_sync):
    html = staff_client.post("/sync/start/", {"mode": "show", "anilist": "500", "dry_run": "on"}, **HTMX).content.decode()
    assert "Run it: post 3 plays to Trakt" in html
    assert '<input type="hidden" name="mode" value="show">' in html
    assert '<input type="hidden" name="anilist" value="500">' in html
    response = staff_client.post("/sync/start/", {"mode": "show", "anilist": "500"})
    run = SyncRun.objects.order_by("-id").first()
    assert response["Location"] == f"/runs/{run.id}/" and not run.dry_run and run.anilist_id == 500
    assert len(library.episode_plays()) == 3


def test_a_started_run_joins_the_recent_runs_list_which_polls_until_it_is_done(staff_client, monkeypatch):
    monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **k: None)
    html = staff_client.post("/sync/start/", {"mode": "watching", "dry_run": "on"}, **HTMX).content.decode()
    run = SyncRun.objects.get()
    recent = html[html.index('<div id="recent-runs"'):]
    assert 'hx-swap-oob="true"' in recent and f"Preview #{run.id}</a> Watching" in recent
    assert 'hx-select="#recent-runs"' in recent and "every 3s" in recent
    SyncRun.objects.filter(id=run.id).update(state="succeeded", finished_at=timezone.now())
    page = staff_client.get("/sync/").content.decode()
    recent = page[page.index('<div id="recent-runs"'):]
    assert "Succeeded" in recent and "hx-get" not in recent[:200]
