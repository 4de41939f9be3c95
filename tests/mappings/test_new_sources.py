"""A source turned on after the first start (AniBridge, now on by default, on an install that
already imported Otaku and Fribb) is imported at the next start, not a week later."""

import httpx
import pytest
from django.test import override_settings
from django.utils import timezone
from django_q.models import Schedule

from mappings.models import AniBridgeRange, SourceStatus
from mappings.selectors import sources_never_imported
from mappings.services import sources_refresh_new
from syncer.schedules import FIRST_IMPORT_NAME, NEW_SOURCES_NAME, schedules_setup
from tests.mappings.support import ANIBRIDGE

pytestmark = pytest.mark.django_db
URLS = {"OTAKU_MAPPINGS_URL": "https://example.test/otaku.db", "FRIBB_MAPPINGS_URL": "https://example.test/f.json",
        "ANIBRIDGE_MAPPINGS_URL": "https://example.test/mappings.json.zst"}


def imported(*names):
    for name in names:
        SourceStatus.objects.create(source=name, row_count=100, refreshed_at=timezone.now())


@override_settings(**URLS)
def test_only_configured_sources_never_imported_are_new():
    imported("otaku", "fribb")
    SourceStatus.objects.create(source="anibridge", last_error="download failed")  # tried, never imported
    assert sources_never_imported() == ["anibridge"]
    with override_settings(ANIBRIDGE_MAPPINGS_URL=""):
        assert sources_never_imported() == []


@override_settings(**URLS)
def test_the_next_start_queues_an_import_of_the_new_source_once_and_drops_it_when_done():
    imported("otaku", "fribb")
    schedules_setup()
    schedules_setup()
    job = Schedule.objects.get(name=NEW_SOURCES_NAME)
    assert (job.func, job.schedule_type) == ("mappings.tasks.refresh_new_sources", Schedule.ONCE)
    assert not Schedule.objects.filter(name=FIRST_IMPORT_NAME).exists()
    imported("anibridge")
    schedules_setup()
    assert not Schedule.objects.filter(name=NEW_SOURCES_NAME).exists()


@override_settings(**URLS)
def test_the_import_of_new_sources_leaves_the_others_alone():
    imported("otaku", "fribb")
    requested = []

    def serve(request):
        requested.append(request.url.path)
        return httpx.Response(200, content=ANIBRIDGE.read_bytes())

    statuses = sources_refresh_new(client=httpx.Client(transport=httpx.MockTransport(serve)))
    assert [s.source for s in statuses] == ["anibridge"] and statuses[0].ok
    assert requested == ["/mappings.json.zst"] and AniBridgeRange.objects.exists()
