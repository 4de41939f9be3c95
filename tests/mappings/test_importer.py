import httpx
import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from mappings import importer
from mappings.models import AniBridgeRange, FribbEntry, OtakuEntry, SourceStatus
from mappings.selectors import source_statuses
from mappings.services import sources_refresh
from tests.mappings.support import ANIBRIDGE, FRIBB_CURRENT, OTAKU_DB


def transport(body: bytes, status: int = 200):
    return httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(status, content=body)))


@pytest.mark.django_db
@override_settings(FRIBB_MAPPINGS_URL="https://example.test/fribb.json")
def test_a_refresh_replaces_the_table_and_records_the_status():
    FribbEntry.objects.create(anilist_id=1)
    status = sources_refresh(source="fribb", client=transport(FRIBB_CURRENT.read_bytes()))
    assert status.ok and status.row_count == 195 == FribbEntry.objects.count()
    assert not FribbEntry.objects.filter(anilist_id=1).exists()
    assert status.refreshed_at is not None


@pytest.mark.django_db
@override_settings(OTAKU_MAPPINGS_URL="https://example.test/otaku.db", FRIBB_MAPPINGS_URL="https://x.test/f.json")
def test_a_successful_refresh_writes_the_original_apps_status_key_and_a_failed_one_does_not():
    from syncer.models import SystemConfig

    sources_refresh(source="otaku", client=transport(OTAKU_DB.read_bytes()))
    assert SystemConfig.objects.get(key="status:otaku:last-sync").value.endswith("Z")
    sources_refresh(source="fribb", client=transport(b"<html>oops</html>"))
    assert not SystemConfig.objects.filter(key="status:fribbs:last-sync").exists()


@pytest.mark.django_db
@override_settings(OTAKU_MAPPINGS_URL="https://example.test/otaku.db")
def test_otaku_records_the_upstream_last_updated_time():
    status = sources_refresh(source="otaku", client=transport(OTAKU_DB.read_bytes()))
    assert status.row_count == 208 == OtakuEntry.objects.count()
    assert status.upstream_updated_at.isoformat() == "2024-11-11T23:54:31+00:00"


@pytest.mark.django_db
@override_settings(OTAKU_MAPPINGS_URL="https://example.test/otaku.db")
@pytest.mark.parametrize(("body", "status_code", "message"), [
    (b"<!DOCTYPE html><title>502</title>", 200, "HTML page"),
    (OTAKU_DB.read_bytes()[:20000], 200, "truncated"),
    (b"", 200, "empty"),
    (b"gone", 404, "HTTP 404"),
])
def test_a_failed_refresh_keeps_the_previous_data_and_says_why(body, status_code, message, caplog):
    importer.import_file("otaku", OTAKU_DB)
    status = sources_refresh(source="otaku", client=transport(body, status_code))
    assert message in status.last_error
    assert OtakuEntry.objects.count() == 208 and status.row_count == 208
    assert any("stays in use" in r.getMessage() for r in caplog.records)
    assert source_statuses()[0].last_error == status.last_error


@pytest.mark.django_db
def test_a_database_error_mid_import_rolls_back_to_the_old_rows(monkeypatch):
    importer.import_file("anibridge", ANIBRIDGE)
    before = AniBridgeRange.objects.count()
    monkeypatch.setattr(importer.parsers, "AniBridgeFile",
                        lambda text: [{"anilist_id": 1, "target_kind": "tmdb_show", "target_id": "1",
                                       "source_start": None}])  # NOT NULL violation
    status = importer.import_file("anibridge", ANIBRIDGE)
    assert status.last_error and AniBridgeRange.objects.count() == before


@pytest.mark.django_db
def test_the_command_imports_a_local_file_and_fails_loudly_on_a_bad_one(tmp_path, capsys):
    call_command("refresh_mappings", source="fribb", file=FRIBB_CURRENT)
    assert "fribb: 195 rows" in capsys.readouterr().out
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    with pytest.raises(CommandError):
        call_command("refresh_mappings", source="fribb", file=bad)
    assert "kept the previous 195 rows" in capsys.readouterr().err
    assert SourceStatus.objects.get(source="fribb").row_count == 195


def test_the_weekly_refresh_is_a_periodic_job():
    from syncer.schedules import periodic_jobs

    assert "mappings.tasks.refresh_all_sources" in {job.func for job in periodic_jobs()}
