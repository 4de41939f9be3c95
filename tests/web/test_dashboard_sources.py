"""The dashboard's mapping sources (refresh in the background) and unmapped list."""

import re

import pytest
from django.utils import timezone

from mappings.models import Mapping, SourceStatus

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
    monkeypatch.setattr("syncer.views.sources.async_task", lambda *a, **k: queued.append((a, k)) or "task-1")
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
