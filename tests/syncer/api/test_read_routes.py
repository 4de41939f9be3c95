"""Contract tests: /api/status, /api/logs, /api/progress, /api/mappings, /api/runs/<id>."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from logs.models import LogEntry
from mappings.models import Mapping
from syncer.models import SyncProgress, SyncRun, SyncRunItem, SystemConfig

pytestmark = pytest.mark.django_db

STATUS_KEYS = {"lastManualSync", "lastAutomatedSync", "lastCompletedSync", "lastWatchingSync"}
MAPPING_KEYS_ORIGINAL = {"anilistId", "traktId", "tmdbId", "imdbId", "tvdbId", "type"}


# --- /api/status ------------------------------------------------------------------------------


def test_status_reads_the_original_keys_and_reports_missing_ones_as_null(api):
    SystemConfig.objects.create(key="status:sync:last-run", value="2026-02-08T14:56:13.144Z")
    SystemConfig.objects.create(key="status:sync:watching:last-run", value="2026-02-07T01:00:00.000Z")
    response = api.get("/api/status")
    assert response.status_code == 200
    assert response.json() == {
        "lastManualSync": "2026-02-08T14:56:13.144Z",
        "lastAutomatedSync": None,
        "lastCompletedSync": None,
        "lastWatchingSync": "2026-02-07T01:00:00.000Z",
    }


def test_status_decodes_json_values_like_the_original_did(api):
    SystemConfig.objects.create(key="status:sync:last-run-auto", value=json.dumps("2026-01-01T00:00:00Z"))
    assert api.get("/api/status").json()["lastAutomatedSync"] == "2026-01-01T00:00:00Z"


def test_status_refuses_unknown_query_parameters(api):
    response = api.get("/api/status?verbose=1")
    assert response.status_code == 400
    assert "verbose" in response.json()["error"]


# --- /api/logs --------------------------------------------------------------------------------


def test_logs_return_the_newest_200_rows_newest_first_and_are_not_cached(api):
    LogEntry.objects.bulk_create(LogEntry(message=f"line {i}", level="info") for i in range(230))
    response = api.get("/api/logs")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    rows = response.json()
    assert len(rows) == 200
    assert set(rows[0]) == {"id", "message", "level", "created_at"}
    assert rows[0]["message"] == "line 229"
    assert rows[-1]["message"] == "line 30"
    assert [r["id"] for r in rows] == sorted((r["id"] for r in rows), reverse=True)
    datetime.fromisoformat(rows[0]["created_at"])


def test_logs_refuse_a_limit_parameter_they_do_not_take(api):
    assert api.get("/api/logs?limit=5").status_code == 400


# --- /api/progress ----------------------------------------------------------------------------


@pytest.fixture
def progress_rows():
    now = datetime.now(UTC)
    for i in range(1, 61):
        SyncProgress.objects.create(anilist_id=i, last_abs=i * 2)
    # auto_now sets updated_at on save; spread them out so the order is defined.
    for i in range(1, 61):
        SyncProgress.objects.filter(anilist_id=i).update(updated_at=now - timedelta(minutes=100 - i))


def test_progress_lists_the_latest_50_rows_by_default(api, progress_rows):
    response = api.get("/api/progress")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "items"}
    assert body["count"] == 50 == len(body["items"])
    assert set(body["items"][0]) == {"anilistId", "lastAbs", "updatedAt"}
    assert body["items"][0]["anilistId"] == 60 and body["items"][0]["lastAbs"] == 120


def test_progress_honours_a_limit(api, progress_rows):
    body = api.get("/api/progress?limit=3").json()
    assert body["count"] == 3
    assert [i["anilistId"] for i in body["items"]] == [60, 59, 58]


def test_progress_for_one_show(api, progress_rows):
    response = api.get("/api/progress?anilistId=7")
    assert response.status_code == 200
    assert response.json() == {"anilistId": 7, "lastAbs": 14}


def test_progress_for_a_show_never_synced_is_zero(api):
    assert api.get("/api/progress?anilistId=999").json() == {"anilistId": 999, "lastAbs": 0}


@pytest.mark.parametrize(
    "query, names",
    [
        ("anilistId=abc", "anilistId"),
        ("anilistId=-5", "anilistId"),
        ("anilistId=0", "anilistId"),
        ("anilistId=1.5", "anilistId"),
        ("anilistId=", "anilistId"),
        ("anilistId=99999999999", "anilistId"),
        ("anilistId=1&anilistId=2", "anilistId"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=-1", "limit"),
        ("limit=ten", "limit"),
        ("limit=10&anilistId=3", "anilistId"),
        ("page=2", "page"),
    ],
)
def test_progress_refuses_bad_parameters_naming_them(api, query, names):
    response = api.get(f"/api/progress?{query}")
    assert response.status_code == 400
    assert names in response.json()["error"]


# --- /api/mappings ----------------------------------------------------------------------------


def test_mappings_split_manual_and_auto_rows_with_the_original_keys(api):
    Mapping.objects.create(anilist_id=1, trakt_id=30857, type="show", is_manual=True, tmdb_id=30991)
    Mapping.objects.create(anilist_id=5114, trakt_id=60300, type="show", start_season=1, start_episode=1)
    Mapping.objects.create(anilist_id=199, trakt_id=None, unmapped_reason="no source knows it")
    response = api.get("/api/mappings")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"manual", "auto"}
    assert [m["anilistId"] for m in body["manual"]] == [1]
    assert [m["anilistId"] for m in body["auto"]] == [199, 5114]
    first = body["manual"][0]
    assert MAPPING_KEYS_ORIGINAL <= set(first)
    assert {k: first[k] for k in MAPPING_KEYS_ORIGINAL} == {
        "anilistId": 1, "traktId": 30857, "tmdbId": 30991, "imdbId": None, "tvdbId": None, "type": "show",
    }
    assert set(first) - MAPPING_KEYS_ORIGINAL == {
        "malId", "title", "anilistFormat", "startSeason", "startEpisode", "source", "foundBy", "placedBy",
        "airDates", "traktTitle", "unmappedReason", "updatedAt",
    }
    assert body["auto"][0]["unmappedReason"] == "no source knows it"


def test_mappings_are_empty_lists_on_a_new_install(api):
    assert api.get("/api/mappings").json() == {"manual": [], "auto": []}


def test_mappings_refuse_unknown_parameters(api):
    assert api.get("/api/mappings?manual=1").status_code == 400


# --- /api/runs/<id> ---------------------------------------------------------------------------


def test_a_run_reports_its_state_and_counts(api):
    from syncer.models import SyncRunItem

    run = SyncRun.objects.create(
        mode="incremental", trigger="api", state="succeeded", found=5, posted=3, already_synced=1, unmapped=1,
    )
    # The counts are the rows' (as on the run page), not the run's running totals.
    SyncRunItem.objects.bulk_create([SyncRunItem(run=run, position=n, anilist_id=1, anilist_episode=n + 1, action=a,
                                                 state=st) for n, (a, st) in enumerate(
        [("post", "posted")] * 3 + [("already_synced", "planned"), ("unmapped", "planned")])])
    response = api.get(f"/api/runs/{run.pk}")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "id", "mode", "trigger", "dryRun", "anilistId", "state", "createdAt", "startedAt", "finishedAt",
        "progress", "counts", "error", "itemsUrl",
    }
    assert body["itemsUrl"] == f"/api/runs/{run.pk}/items"
    assert body["state"] == "succeeded" and body["id"] == run.pk
    assert body["counts"] == {"found": 5, "planned": 3, "posted": 3, "notReached": 0, "pending": 0, "failed": 0,
                              "alreadySynced": 1, "unmapped": 1, "notFound": 0, "leftovers": 0, "errors": 0}
    assert body["progress"] == {"label": "", "text": "", "done": 0, "total": 0}  # finished: nothing live


def test_an_unknown_run_is_a_json_404(api):
    response = api.get("/api/runs/424242")
    assert response.status_code == 404
    assert "424242" in response.json()["error"]


def test_a_huge_run_id_is_refused(api):
    response = api.get("/api/runs/99999999999999999999999")
    assert response.status_code == 400


@pytest.fixture
def planned_run():
    run = SyncRun.objects.create(mode="completed", dry_run=True, state="succeeded")
    SyncRunItem.objects.bulk_create(
        SyncRunItem(
            run=run, position=i, anilist_id=21, title="One Piece", anilist_episode=i + 1,
            action="unmapped" if i % 50 == 49 else "post", kind="episode", trakt_id=37696, season=1, number=i + 1,
            reason="season does not exist on Trakt" if i % 50 == 49 else "",
        )
        for i in range(250)
    )
    return run


def test_a_runs_plan_is_listed_in_pages_in_plan_order(api, planned_run):
    first = api.get(f"/api/runs/{planned_run.pk}/items").json()
    assert set(first) == {"runId", "count", "page", "perPage", "items"}
    assert first["count"] == 250 and len(first["items"]) == 200
    assert set(first["items"][0]) == {
        "position", "anilistId", "title", "anilistEpisode", "action", "kind", "traktId", "season", "number",
        "watchedAt", "rewatch", "reason", "state",
    }
    second = api.get(f"/api/runs/{planned_run.pk}/items?page=2").json()
    assert [i["anilistEpisode"] for i in second["items"]] == list(range(201, 251))


def test_a_runs_plan_can_be_filtered_by_action(api, planned_run):
    body = api.get(f"/api/runs/{planned_run.pk}/items?action=unmapped").json()
    assert body["count"] == 5
    assert {i["reason"] for i in body["items"]} == {"season does not exist on Trakt"}


def test_a_page_past_the_end_of_a_plan_is_empty(api, planned_run):
    body = api.get(f"/api/runs/{planned_run.pk}/items?page=3").json()
    assert (body["count"], body["page"], body["perPage"], body["items"]) == (250, 3, 200, [])
    empty = SyncRun.objects.create(mode="completed", dry_run=True, state="succeeded")
    assert api.get(f"/api/runs/{empty.pk}/items").json()["items"] == []


@pytest.mark.parametrize("query", ["page=0", "page=-1", "page=x", "page=100001", "action=posted", "size=5"])
def test_run_items_refuse_bad_parameters(api, planned_run, query):
    assert api.get(f"/api/runs/{planned_run.pk}/items?{query}").status_code == 400


def test_items_of_an_unknown_run_are_a_json_404(api):
    assert api.get("/api/runs/999/items").status_code == 404


# --- methods ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/status", "/api/logs", "/api/progress", "/api/mappings", "/api/runs/1", "/api/runs/1/items"])
def test_read_routes_refuse_writes_with_a_json_405(api, path):
    response = api.post(path)
    assert response.status_code == 405
    assert response["Allow"] == "GET"
    assert "GET" in response.json()["error"]


def test_an_unknown_api_path_is_a_json_404_for_a_caller_and_a_401_for_anyone_else(api, client):
    response = api.get("/api/no-such-route")
    assert response.status_code == 404
    assert "docs/api.md" in response.json()["error"]
    assert client.get("/api/no-such-route").status_code == 401
