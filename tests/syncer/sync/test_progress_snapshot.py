"""A run reads the stored progress once: the events, the plan and the rewatch counters all see
the same snapshot (only apply writes progress, after it)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from syncer.models import SyncProgress
from syncer.sync.services import sync_preview
from tests.seeds import map_show

pytestmark = pytest.mark.django_db


def reads_of_progress(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("SELECT") and "sync_progress" in q["sql"]]


@pytest.mark.parametrize("mode", ["incremental", "completed", "library"])
def test_a_preview_reads_the_stored_progress_once(mode, fake_anilist, trakt_connected, settings):
    settings.SYNC_REWATCHES = True
    trakt_connected.add_show(100, seasons={1: 12})
    map_show(1, 100)
    SyncProgress.objects.create(anilist_id=1, last_abs=4)
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=12, episodes=12, updated_at=1_700_000_100)
    for n in range(5, 13):
        fake_anilist.add_activity(n, 1, progress=str(n), created_at=1_700_000_000 + n)

    with CaptureQueriesContext(connection) as queries:
        run = sync_preview(mode=mode)

    assert run.state == "succeeded", run.error
    assert run.items.filter(action="post").count() == 8  # episodes 5-12: the snapshot's 4 was used
    assert len(reads_of_progress(queries)) == 1, reads_of_progress(queries)
