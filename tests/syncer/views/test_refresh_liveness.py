"""A mapping refresh is treated like a run: it beats while it works; killed, it is marked
interrupted within a minute (the panel says why and offers Refresh again, instead of
"Refreshing…" until django-q hands the task out again an hour later); queued for a worker that
is gone, it is given up with that reason."""

import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from mappings import services
from mappings.models import SourceStatus
from syncer.models import WorkerBeat

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def queued_refresh(staff_client, mapping_files, monkeypatch):
    """A refresh of Fribb queued from the dashboard (no worker took it in this process)."""
    monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **k: "task-1")
    staff_client.post("/dashboard/sources/refresh/", {"source": "fribb"}, **HTMX)
    return SourceStatus.objects.get(source="fribb")


def panel(staff_client) -> str:
    return staff_client.get("/dashboard/sources/?task=task-1&source=fribb").content.decode()


def test_a_refresh_killed_at_work_is_marked_interrupted_and_refresh_is_offered_again(staff_client, queued_refresh):
    killed = timezone.now() - timedelta(seconds=services.REFRESH_SILENT_SECONDS + 5)
    # What a killed worker leaves: the refresh started and beat, then nothing.
    SourceStatus.objects.filter(source="fribb").update(refresh_started_at=killed, refresh_beat_at=killed)
    html = panel(staff_client)
    assert "Refreshing…" not in html and "hx-trigger" not in html
    assert "Last attempt failed: the refresh stopped before it ended (its worker was killed or restarted" in html
    assert 'aria-label="Refresh Fribb anime-lists JSON"' in html  # a new refresh is offered
    assert SourceStatus.objects.get(source="fribb").refresh_beat_at is None


def test_a_refresh_that_beats_is_still_refreshing(staff_client, queued_refresh):
    now = timezone.now()
    SourceStatus.objects.filter(source="fribb").update(refresh_started_at=now - timedelta(minutes=5),
                                                       refresh_beat_at=now - timedelta(seconds=5))
    html = panel(staff_client)
    assert "Refreshing…" in html and "hx-trigger" in html


def test_a_refresh_queued_for_a_worker_that_died_is_given_up_with_that_reason(staff_client, queued_refresh):
    now = timezone.now()
    SourceStatus.objects.filter(source="fribb").update(refresh_queued_at=now - timedelta(seconds=60))
    WorkerBeat.objects.create(cluster="gone", started_at=now - timedelta(hours=1), beat_at=now - timedelta(seconds=45))
    html = panel(staff_client)
    assert "Refreshing…" not in html
    # The task never reached a broker here: as far as anyone can tell, the dead worker took it.
    assert "Last attempt failed: the refresh was not run: the worker that took its task stopped before " in html
    assert 'aria-label="Refresh Fribb anime-lists JSON"' in html


@pytest.mark.django_db(transaction=True)
def test_a_refresh_beats_while_it_works_and_stops_when_it_ends(mapping_files, monkeypatch):
    seen = []

    def slow_refresh(name, **kwargs):
        first = SourceStatus.objects.get(source=name).refresh_beat_at
        time.sleep(0.6)
        seen.append((first, SourceStatus.objects.get(source=name).refresh_beat_at))
        return SourceStatus.objects.get(source=name)

    monkeypatch.setattr("mappings.importer.refresh", slow_refresh)
    monkeypatch.setattr(services, "REFRESH_SILENT_SECONDS", 0.3)  # a beat every 0.1 s
    worker = threading.Thread(target=services.sources_refresh, kwargs={"source": "fribb"})
    worker.start()
    worker.join(10)
    (first, later), = seen
    assert first is not None and later > first  # it beat while it worked
    assert SourceStatus.objects.get(source="fribb").refresh_beat_at is None  # and stopped when it ended
