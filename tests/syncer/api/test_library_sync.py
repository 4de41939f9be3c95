"""/api/library-sync (every entry with progress, all synced statuses) and the watching
preview's `totalEpisodes` (issue 10), end to end on the loopback fakes."""

import pytest

from mappings.models import Mapping
from syncer.models import SyncProgress, SyncRun
from tests.syncer.api.test_sync_routes import LIBRARY_KEYS, PREVIEW_ITEM_KEYS

pytestmark = pytest.mark.django_db


@pytest.fixture
def library(fake_anilist, trakt_connected):
    """A completed, a watching, a paused and a dropped entry, and one only planned."""
    statuses = {101: ("COMPLETED", 3), 102: ("CURRENT", 2), 103: ("PAUSED", 4), 104: ("DROPPED", 1),
                105: ("PLANNING", 0)}
    for n, (anilist_id, (status, progress)) in enumerate(statuses.items(), start=1):
        fake_anilist.add_entry(n, anilist_id, status=status, progress=progress, title=f"Show {anilist_id}",
                               episodes=24 if anilist_id != 102 else None)
        trakt_connected.add_show(5000 + anilist_id, seasons={1: 24})
        Mapping.objects.create(anilist_id=anilist_id, trakt_id=5000 + anilist_id, type="show", is_manual=True,
                               start_season=1, start_episode=1, title=f"Show {anilist_id}")
    return trakt_connected


def test_library_preview_lists_every_entry_with_progress_in_the_completed_shape(api, library):
    response = api.get("/api/library-sync?preview=1")
    assert response.status_code == 200
    body = response.json()
    assert [i["anilistShowId"] for i in body["items"]] == [101, 102, 103, 104] and body["count"] == 4
    assert all(set(i) == PREVIEW_ITEM_KEYS for i in body["items"])
    assert library.episode_plays() == [] and not SyncProgress.objects.exists()
    assert SyncRun.objects.get(pk=int(response["X-Sync-Run-Id"])).mode == "library"


def test_library_sync_posts_each_entry_whole_once(api, library):
    body = api.post("/api/library-sync").json()
    assert set(body) == LIBRARY_KEYS and body["message"] == "Library sync complete!"
    assert body["synced"] == 3 + 2 + 4 + 1
    assert sorted((show - 5000, e) for show, _, e, _ in library.episode_plays()) == (
        [(101, n) for n in range(1, 4)] + [(102, 1), (102, 2)] + [(103, n) for n in range(1, 5)] + [(104, 1)])
    assert api.post("/api/library-sync").json()["synced"] == 0


def test_library_sync_async_queues_a_library_run(api, library):
    response = api.post("/api/library-sync?async=1")
    assert response.status_code == 202
    assert SyncRun.objects.get(pk=response.json()["runId"]).mode == "library"


def test_library_sync_without_preview_or_post_is_a_400(api, library):
    assert api.get("/api/library-sync").status_code == 400


def test_the_watching_preview_items_carry_total_episodes_like_the_original(api, library):
    items = api.get("/api/watching-sync?preview=1").json()["items"]
    assert items == [{"anilistShowId": 102, "titleEnglish": "Show 102", "titleRomaji": "Show 102", "progress": 2,
                      "watchedAt": items[0]["watchedAt"], "totalEpisodes": None}]
    completed = api.get("/api/completed-sync?preview=1").json()["items"]  # the original's five keys there
    assert [i["anilistShowId"] for i in completed] == [101] and set(completed[0]) == PREVIEW_ITEM_KEYS


def test_the_watching_preview_gives_the_episode_count_when_anilist_knows_it(api, library, fake_anilist):
    fake_anilist.add_entry(9, 106, status="CURRENT", progress=5, title="Show 106", episodes=13)
    library.add_show(5106, seasons={1: 13})
    Mapping.objects.create(anilist_id=106, trakt_id=5106, type="show", is_manual=True, start_season=1,
                           start_episode=1, title="Show 106")
    items = {i["anilistShowId"]: i for i in api.get("/api/watching-sync?preview=1").json()["items"]}
    assert items[106]["totalEpisodes"] == 13 and items[106]["progress"] == 5
