import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from logs.context import log_to_run
from logs.models import LogEntry
from logs.redact import redact, register_secret
from logs.services import logs_prune
from syncer.models import SyncRun

pytestmark = pytest.mark.django_db

logger = logging.getLogger("syncer.test")


def test_an_app_log_record_lands_in_the_logs_table_with_its_level():
    logger.warning("Trakt answered 503; retrying in %s s", 4)
    entry = LogEntry.objects.get()
    assert entry.message == "Trakt answered 503; retrying in 4 s"
    assert entry.level == "warn"
    assert entry.logger == "syncer.test"
    assert entry.created_at is not None


def test_a_record_inside_a_run_points_at_the_run():
    run = SyncRun.objects.create(mode="completed")
    with log_to_run(run.id):
        logger.info("posting batch 1")
    assert LogEntry.objects.get().run_id == run.id


def test_a_configured_token_never_reaches_the_table(settings):
    settings.TRAKT_ACCESS_TOKEN = "trakt-access-token-0123456789"
    logger.error("request failed with token %s", "trakt-access-token-0123456789")
    message = LogEntry.objects.get().message
    assert "trakt-access-token-0123456789" not in message
    assert "[redacted]" in message


def test_a_token_learned_at_run_time_is_redacted_too():
    register_secret("rotated-refresh-token-abcdef")
    logger.info("saved refresh token rotated-refresh-token-abcdef")
    assert "rotated-refresh-token-abcdef" not in LogEntry.objects.get().message


@pytest.mark.parametrize(
    "text",
    [
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig",
        '{"access_token": "abc123secretvalue", "expires_in": 7776000}',
        "GET /tv/1/external_ids?api_key=0123456789abcdef",
        "refresh_token=zzzzzzzzzzzz&grant_type=refresh_token",
    ],
)
def test_credential_shaped_text_is_masked_even_when_unknown(text):
    masked = redact(text)
    for secret in ("eyJhbGciOiJIUzI1NiJ9", "abc123secretvalue", "0123456789abcdef", "zzzzzzzzzzzz"):
        assert secret not in masked
    assert "[redacted]" in masked


def test_an_exception_traceback_is_stored_and_redacted(settings):
    settings.ANILIST_ACCESS_TOKEN = "anilist-jwt-token-value-xyz"
    try:
        raise RuntimeError("bad token anilist-jwt-token-value-xyz")
    except RuntimeError:
        logger.exception("AniList failed")
    message = LogEntry.objects.get().message
    assert "RuntimeError" in message and "anilist-jwt-token-value-xyz" not in message


def test_retention_drops_old_rows_and_caps_the_table():
    old = timezone.now() - timedelta(days=40)
    LogEntry.objects.bulk_create([LogEntry(message=f"m{i}", level="info") for i in range(10)])
    LogEntry.objects.filter(message__in=["m0", "m1"]).update(created_at=old)
    deleted = logs_prune(max_age_days=30, max_rows=5)
    assert deleted == 5
    assert list(LogEntry.objects.order_by("id").values_list("message", flat=True)) == [f"m{i}" for i in range(5, 10)]
