"""`POST /api/doctor`: preview the duplicate plays, remove what a preview listed, undo it."""

import pytest

from syncer.models import SyncRun
from tests.seeds import seed_duplicates

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(trakt_connected):
    seed_duplicates(trakt_connected)
    return trakt_connected


def test_a_preview_lists_the_duplicates_and_the_history_limit(api, seeded):
    response = api.post("/api/doctor?preview=1&window=60")
    assert response.status_code == 200, response.content
    body = response.json()
    run_id = body["runId"]
    assert body == {"message": f"4 duplicate plays found; POST /api/doctor?previewId={run_id} removes them",
                    "runId": run_id, "preview": True, "previewId": None, "window": 60, "scope": "all",
                    "clusters": 4, "duplicates": 4, "removed": 0, "alreadyGone": 0, "history": 11,
                    "historyLimit": 100_000, "historyUsedPercent": 0.0, "historyAfter": 7, "reads": 1,
                    "itemsUrl": f"/api/runs/{run_id}/items"}
    assert response["X-Sync-Run-Id"] == str(run_id) and seeded.history_removes == []
    items = api.get(f"/api/runs/{run_id}/items").json()["items"]
    assert [(i["action"], i["reason"]) for i in items[:2]] == [("keep", "earliest"), ("remove", "")]
    assert all(isinstance(i["historyId"], int) for i in items)


def test_the_repair_removes_what_the_preview_listed_and_the_undo_puts_it_back(api, seeded):
    before = sorted((p.get("show", 0), p.get("number", 0), p["watched_at"]) for p in seeded.history)
    preview = api.post("/api/doctor?preview=1").json()["runId"]
    response = api.post(f"/api/doctor?previewId={preview}")
    assert response.status_code == 200, response.content
    assert response.json()["message"] == "4 duplicate plays removed from Trakt history"
    assert len(seeded.history) == 7
    repair = response.json()["runId"]
    assert api.post(f"/api/runs/{repair}/undo?preview=1").json()["message"] == "these 4 plays will be put back"
    assert api.post(f"/api/runs/{repair}/undo").json()["message"] == "4 plays put back in Trakt history"
    assert sorted((p.get("show", 0), p.get("number", 0), p["watched_at"]) for p in seeded.history) == before


@pytest.mark.parametrize("query, error", [
    ("", "Give preview=1"),
    ("?preview=1&previewId=3", "Give preview=1"),
    ("?preview=1&window=0", "'window' must be between 1 and 21600"),
    ("?preview=1&scope=some", "'scope' must be one of: all, mirrored"),
    ("?previewId=3&window=60", "belong to a preview"),
])
def test_bad_input_is_refused_before_anything_is_read(api, seeded, query, error):
    response = api.post(f"/api/doctor{query}")
    assert response.status_code == 400 and error in response.json()["error"]
    assert not SyncRun.objects.exists() and seeded.requests_to(r"/sync/history") == []


def test_a_repair_without_a_usable_preview_is_refused_with_why(api, seeded):
    response = api.post("/api/doctor?previewId=99")
    assert response.status_code == 409 and "preview first" in response.json()["error"]


def test_async_queues_the_preview(api, seeded, q_sync):
    response = api.post("/api/doctor?preview=1&async=1")
    assert response.status_code == 202
    run = SyncRun.objects.get(pk=response.json()["runId"])
    assert (run.mode, run.dry_run, run.state, run.found) == ("doctor", True, "succeeded", 4)
