"""Contract tests: /api/refresh-otaku and /api/refresh-fribbs, end to end against a loopback
download server serving the real fixture files."""

from pathlib import Path

import pytest

from mappings.models import FribbEntry, OtakuEntry, SourceStatus
from syncer.models import SystemConfig

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "mapping-sources"
OTAKU = FIXTURES / "otaku_anime_mappings_sample.db"
FRIBB = FIXTURES / "fribb_anime-list-mini_2024-05-07_sample.json"


@pytest.fixture
def sources(source_files):
    source_files["otaku.db"] = OTAKU.read_bytes()
    source_files["fribb.json"] = FRIBB.read_bytes()
    return source_files


@pytest.mark.parametrize("method", ["get", "post"])
def test_refresh_otaku_imports_the_database_and_answers_like_the_original(api, sources, method):
    response = getattr(api, method)("/api/refresh-otaku")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"success", "count", "lastSync"}
    assert body["success"] is True and body["count"] == 208 == OtakuEntry.objects.count()


def test_refresh_otaku_check_reads_the_status_without_downloading(api, sources):
    api.get("/api/refresh-otaku")
    sources.clear()  # a download now would fail
    response = api.get("/api/refresh-otaku?check=1")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "lastSync", "lastActivity"}
    assert body["count"] == 208
    assert body["lastActivity"] == "2024-11-11T23:54:31+00:00"  # Otaku's activities row


@pytest.mark.parametrize("method", ["get", "post"])
def test_refresh_fribbs_imports_the_list(api, sources, method):
    response = getattr(api, method)("/api/refresh-fribbs")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"success", "count", "lastSync"}
    assert body["count"] == 206 == FribbEntry.objects.count()


def test_refresh_fribbs_check_has_the_original_keys(api, sources):
    api.post("/api/refresh-fribbs")
    SystemConfig.objects.create(key="lastSyncTimestamp", value="1731369271")
    body = api.get("/api/refresh-fribbs?check=1").json()
    assert set(body) == {"count", "lastSync", "lastFullSync"}
    assert body["count"] == 206 and body["lastSync"] is not None
    assert body["lastFullSync"] == 1731369271


def test_a_source_never_imported_here_reports_the_adopted_databases_date(api):
    SystemConfig.objects.create(key="status:otaku:last-sync", value="2025-01-01T00:00:00.000Z")
    body = api.get("/api/refresh-otaku?check=1").json()
    assert body == {"count": 0, "lastSync": "2025-01-01T00:00:00.000Z", "lastActivity": None}


def test_a_failed_refresh_keeps_the_previous_import_and_says_why(api, sources):
    api.get("/api/refresh-fribbs")
    sources["fribb.json"] = b"<!DOCTYPE html><html><body>Rate limited</body></html>"
    response = api.get("/api/refresh-fribbs")
    assert response.status_code == 502
    body = response.json()
    assert body["success"] is False and body["error"]
    assert body["count"] == 206 == FribbEntry.objects.count()
    assert SourceStatus.objects.get(source="fribb").last_error


@pytest.mark.parametrize("query", ["check=yes", "check=2", "check=1&check=1", "source=otaku", "force=1"])
@pytest.mark.parametrize("path", ["/api/refresh-otaku", "/api/refresh-fribbs"])
def test_bad_parameters_are_refused_and_nothing_is_downloaded(api, sources, path, query):
    response = api.get(f"{path}?{query}")
    assert response.status_code == 400
    assert not OtakuEntry.objects.exists() and not FribbEntry.objects.exists()
    assert not SourceStatus.objects.exists()


def test_a_browser_session_refreshes_only_with_post(staff_client, sources):
    refused = staff_client.get("/api/refresh-otaku")
    assert refused.status_code == 403
    assert "POST" in refused.json()["error"]
    assert not OtakuEntry.objects.exists()
    assert staff_client.get("/api/refresh-otaku?check=1").status_code == 200
    assert staff_client.post("/api/refresh-otaku").status_code == 200
    assert OtakuEntry.objects.count() == 208


def test_a_refresh_that_would_drop_most_rows_is_refused_until_allow_shrink(api, sources):
    api.post("/api/refresh-fribbs")
    sources["fribb.json"] = b'[{"anilist_id": 1, "type": "TV"}]'
    refused = api.post("/api/refresh-fribbs")
    assert refused.status_code == 409
    body = refused.json()
    assert body["success"] is False and body["refusedCount"] == 1 and body["count"] == 206
    assert "less than half" in body["error"] and FribbEntry.objects.count() == 206
    accepted = api.post("/api/refresh-fribbs?allowShrink=1")
    assert accepted.status_code == 200 and accepted.json()["count"] == 1 == FribbEntry.objects.count()


def test_allow_shrink_takes_only_a_flag(api, sources):
    assert api.post("/api/refresh-fribbs?allowShrink=yes").status_code == 400
    assert not FribbEntry.objects.exists()


def test_a_fribb_file_nested_too_deep_to_decode_is_refused_with_the_reason_not_a_500(api, sources):
    api.post("/api/refresh-fribbs")
    SourceStatus.objects.filter(source="fribb").update(last_error="an old, unrelated error")
    sources["fribb.json"] = b"[" * 100_000 + b"]" * 100_000
    response = api.post("/api/refresh-fribbs")
    assert response.status_code == 502
    assert "Fribb: not valid JSON" in response.json()["error"]
    status = SourceStatus.objects.get(source="fribb")
    assert "Fribb: not valid JSON" in status.last_error and status.row_count == 206 == FribbEntry.objects.count()
