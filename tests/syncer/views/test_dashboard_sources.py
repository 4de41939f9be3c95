"""The dashboard's mapping sources (refresh in the background) and unmapped list."""

import re

import pytest
from django.utils import timezone

from mappings.models import Mapping, SourceStatus
from tests.mappings.test_airdates_resolution import S2_PART1

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def test_it_lists_every_source_with_entries_and_dates(staff_client, settings):
    settings.ANIBRIDGE_MAPPINGS_URL = ""
    SourceStatus.objects.create(source="fribb", row_count=40123, refreshed_at=timezone.now(),
                                upstream_updated_at=timezone.now())
    html = staff_client.get("/").content.decode()
    assert "40,123" in html and "Fribb anime-lists JSON" in html
    assert "Set <code>ANIBRIDGE_MAPPINGS_URL</code> to use it." in html


def test_a_failed_last_refresh_is_shown_with_its_reason(staff_client):
    SourceStatus.objects.create(source="otaku", row_count=10, last_error="the file is not a SQLite database")
    html = staff_client.get("/").content.decode()
    assert "Last attempt failed: the file is not a SQLite database" in html


def test_refresh_queues_the_job_and_the_section_polls_until_it_is_done(staff_client, mapping_files, monkeypatch):
    queued = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **k: queued.append((a, k)) or "task-1")
    html = staff_client.post("/dashboard/sources/refresh/", {"source": "fribb"}, **HTMX).content.decode()
    assert queued == [(("mappings.services.sources_refresh",), {"source": "fribb", "task_name": "Refresh fribb mappings"})]
    assert "Refreshing…" in html
    assert re.search(r'hx-get="/dashboard/sources/\?task=task-1&amp;source=fribb"', html)
    # Still queued: the next poll keeps polling.
    assert "hx-trigger" in staff_client.get("/dashboard/sources/?task=task-1&source=fribb").content.decode()


def test_a_refresh_run_by_the_task_updates_the_section_in_place(staff_client, mapping_files, q_sync):
    # Tasks run inline here (q_sync), as a worker would run them.
    html = staff_client.post("/dashboard/sources/refresh/", {"source": "fribb"}, **HTMX).content.decode()
    status = SourceStatus.objects.get(source="fribb")
    assert status.row_count > 0 and not status.last_error
    assert "hx-trigger" not in html and "Refreshing…" not in html
    assert f"{status.row_count:,}" in html


def test_an_unknown_source_is_refused(staff_client):
    assert staff_client.post("/dashboard/sources/refresh/", {"source": "nope"}).status_code == 400


def test_the_unmapped_list_gives_each_reason_and_a_way_to_fix_it(staff_client):
    Mapping.objects.create(anilist_id=5, title="Obscure OVA", unmapped_reason="no source knows this entry")
    Mapping.objects.create(anilist_id=6, title="Mapped", trakt_id=10, type="show")
    html = staff_client.get("/").content.decode()
    assert "no source knows this entry" in html and "Obscure OVA" in html
    assert 'href="/manual/?anilist=5"' in html
    assert ">Mapped<" not in html


def test_the_unmapped_list_is_capped_and_links_to_all_of_them(staff_client):
    Mapping.objects.bulk_create(
        [Mapping(anilist_id=n, title=f"Lost {n}", unmapped_reason="Trakt search found nothing") for n in range(1, 31)]
    )
    html = staff_client.get("/").content.decode()
    assert "30 AniList entries could not be mapped" in html
    assert html.count("Trakt search found nothing") == 20
    assert 'href="/mappings/?status=unmapped"' in html


def test_the_force_box_is_sent_to_the_refresh_only_when_ticked(staff_client, mapping_files, monkeypatch):
    queued = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **k: queued.append(k) or f"task-{len(queued)}")
    html = staff_client.get("/").content.decode()
    assert 'name="force" value="1"' in html and "accept a much smaller file" in html
    staff_client.post("/dashboard/sources/refresh/", {"source": "fribb", "force": "1"}, **HTMX)
    staff_client.post("/dashboard/sources/refresh/", {"source": "fribb"}, **HTMX)
    assert [k.get("force") for k in queued] == [True, None]


def test_a_refresh_refused_for_shrinking_says_why_and_keeps_the_rows(staff_client, mapping_files, q_sync, settings):
    from mappings.models import FribbEntry
    from tests.fakes.server import Response

    staff_client.post("/dashboard/sources/refresh/", {"source": "fribb"}, **HTMX)
    mapping_files.route("GET", r"/small\.json", lambda request: Response(200, '[{"anilist_id": 1, "type": "TV"}]'))
    settings.FRIBB_MAPPINGS_URL = f"{mapping_files.url}/small.json"
    html = staff_client.post("/dashboard/sources/refresh/", {"source": "fribb"}, **HTMX).content.decode()
    assert "Last attempt failed: refused: the new Fribb anime-lists JSON file has 1 rows" in html
    assert FribbEntry.objects.count() == 206
    html = staff_client.post("/dashboard/sources/refresh/", {"source": "fribb", "force": "1"}, **HTMX).content.decode()
    assert FribbEntry.objects.count() == 1 and "Last attempt failed" not in html


def test_the_section_stops_waiting_for_a_refresh_lost_with_its_worker(staff_client, mapping_files, monkeypatch):
    from datetime import timedelta

    monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **k: "task-lost")
    staff_client.post("/dashboard/sources/refresh/", {"source": "fribb"}, **HTMX)
    poll = "/dashboard/sources/?task=task-lost&source=fribb"
    SourceStatus.objects.filter(source="fribb").update(refresh_queued_at=timezone.now() - timedelta(minutes=14))
    assert "hx-trigger" in staff_client.get(poll).content.decode()
    SourceStatus.objects.filter(source="fribb").update(refresh_queued_at=timezone.now() - timedelta(minutes=16))
    html = staff_client.get(poll).content.decode()
    assert "hx-trigger" not in html and "Refreshing…" not in html
    assert "did not finish within 15 minutes" in html and "qcluster" in html
    assert 'aria-label="Refresh Fribb anime-lists JSON"' in html  # the button is back


def test_a_task_id_this_install_did_not_queue_is_not_waited_for(staff_client):
    html = staff_client.get("/dashboard/sources/?task=made-up&source=fribb").content.decode()
    assert "hx-trigger" not in html and "Refreshing…" not in html


def test_the_sources_in_use_are_named_best_first(staff_client):
    for name in ("otaku", "fribb", "anibridge"):
        SourceStatus.objects.create(source=name, row_count=5)
    html = staff_client.get("/").content.decode()
    assert "In use for placement, best first: AniBridge v3 JSON, Fribb anime-lists JSON, Otaku-Mappings SQLite." in html
    assert html.count('<span class="tag">in use</span>') == 3


def test_the_sync_progress_names_the_source_that_placed_each_entry(staff_client):
    from syncer.models import SyncProgress

    SyncProgress.objects.create(anilist_id=1, title="Bleach TYBW")
    SyncProgress.objects.create(anilist_id=2, title="Mine")
    SyncProgress.objects.create(anilist_id=3, title="Nobody knows")
    Mapping.objects.create(anilist_id=1, trakt_id=30850, type="show", source="fribb tmdb 30984; start anibridge",
                           found_by="fribb", placed_by="anibridge")
    Mapping.objects.create(anilist_id=2, trakt_id=7, type="show", is_manual=True, source="manual",
                           found_by="manual", placed_by="manual")
    Mapping.objects.create(anilist_id=3, unmapped_reason="no source knows this entry", source="")
    html = staff_client.get("/dashboard/progress/").content.decode()
    cells = re.findall(r'<td data-label="Placed by">([^<]*)</td>', html)
    titles = re.findall(r'<td data-label="Title">([^<]*)</td>', html)
    assert dict(zip(titles, cells, strict=True)) == {"Bleach TYBW": "anibridge", "Mine": "manual", "Nobody knows": "—"}


def test_the_sync_progress_names_the_source_that_placed_an_entry_whatever_its_words_say(
        staff_client, fake_trakt, fake_anilist):
    from syncer.models import SyncProgress

    placed_by_fribb_then_reworded(fake_trakt)
    SyncProgress.objects.create(anilist_id=S2_PART1, title="Re:Zero S2 Part 1")
    html = staff_client.get("/dashboard/progress/").content.decode()
    assert re.findall(r'<td data-label="Placed by">([^<]*)</td>', html) == ["fribb"]


def placed_by_fribb_then_reworded(fake_trakt) -> None:
    """Re:Zero S2 Part 1 placed by Fribb's start (the resolver's own row), then its words changed."""
    from mappings.services import mapping_resolve
    from tests.mappings.support import media
    from tests.mappings.test_airdates_resolution import fribb_says, rezero_on_trakt

    rezero_on_trakt(fake_trakt, aired={})
    fribb_says(S2_PART1, 25)
    mapping_resolve(media=media(S2_PART1, format="TV", episodes=13))
    Mapping.objects.filter(pk=S2_PART1).update(source="TMDB season 1 from episode 26, as Fribb's list says")
