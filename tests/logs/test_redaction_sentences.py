"""Masking hides every secret and nothing else: real sentences around real-shaped tokens."""

import logging

import pytest

from logs.models import LogEntry
from logs.redact import MASK, redact

JWT = ("eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiIxMjM0NSIsImp0aSI6ImFiY2RlZiJ9."
       "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")
TRAKT_TOKEN = "3f5e0c9a7b1d2e4f6a8b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f"  # 64 hex
CLIENT_SECRET = "9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"Authorization: Bearer {JWT}", JWT),
        (f"AniList said 400 for the request with Bearer {JWT}, retrying", JWT),
        ("Authorization: Bearer x", "Bearer x"),
        (f'{{"access_token": "{TRAKT_TOKEN}", "token_type": "bearer"}}', TRAKT_TOKEN),
        (f"POST /oauth/token client_secret={CLIENT_SECRET}&grant_type=refresh_token", CLIENT_SECRET),
        (f"refresh_token={TRAKT_TOKEN}", TRAKT_TOKEN),
        (f"Trakt answered with token: {TRAKT_TOKEN}.", TRAKT_TOKEN),
        (f"saved the new token {TRAKT_TOKEN[:10]}: code={TRAKT_TOKEN}", TRAKT_TOKEN),
        ("GET /3/tv/1/external_ids?api_key=0123456789abcdef0123", "0123456789abcdef0123"),
    ],
)
def test_a_credential_inside_a_sentence_is_masked(text, secret):
    masked = redact(text)
    assert secret not in masked and MASK in masked


@pytest.mark.parametrize(
    "sentence",
    [
        "AniList rejected the token: check ANILIST_ACCESS_TOKEN",
        "Trakt refused the refresh token (The provided authorization grant is invalid)",
        "The provided authorization grant is invalid",
        'token = "401"',
        "if token = status(\"401\") then stop",
        "status code: 404 for /shows/30991",
        "Set the secret: TRAKT_CLIENT_SECRET in .env",
        "The device_code expired before you approved it",
        "send a bearer token in the Authorization header",
        "password: see ADMIN_PASSWORD",
        "Trakt token refreshed (expiring); expires 2026-12-04 21:40:00+00:00",
        "error: invalid_grant",
    ],
)
def test_a_sentence_without_a_secret_is_left_exactly_as_it_was(sentence):
    assert redact(sentence) == sentence


def test_the_words_around_a_masked_token_survive(settings):
    text = f"Trakt refused the token: {TRAKT_TOKEN}. Reconnect Trakt on the Trakt page."
    assert redact(text) == f"Trakt refused the token: {MASK}. Reconnect Trakt on the Trakt page."


def test_a_configured_secret_is_masked_wherever_it_appears_even_mid_word(settings):
    settings.TRAKT_CLIENT_SECRET = CLIENT_SECRET
    assert redact(f"the app secret is{CLIENT_SECRET}!") == f"the app secret is{MASK}!"


class ServiceDown(Exception):
    expected = True


@pytest.mark.django_db
def test_an_expected_failure_is_one_log_line_without_a_traceback():
    try:
        raise ServiceDown("Could not reach AniList (connection refused)")
    except ServiceDown:
        logging.getLogger("syncer.test").exception("Sync 4 failed: could not reach AniList")
    entry = LogEntry.objects.get()
    assert entry.message == "Sync 4 failed: could not reach AniList" and entry.traceback == ""


@pytest.mark.django_db
def test_a_failure_caused_by_an_expected_one_is_expected_too():
    try:
        try:
            raise ServiceDown("Trakt refused the token")
        except ServiceDown as exc:
            raise RuntimeError("batch failed") from exc
    except RuntimeError:
        logging.getLogger("syncer.test").exception("Sync 5 failed: Trakt refused the token")
    assert "Traceback" not in LogEntry.objects.get().message


@pytest.mark.django_db
def test_a_bug_keeps_its_traceback_apart_from_the_headline():
    try:
        {}["missing"]
    except KeyError:
        logging.getLogger("syncer.test").exception("Sync 6 failed")
    entry = LogEntry.objects.get()
    assert entry.headline == "Sync 6 failed"
    assert entry.traceback.startswith("Traceback (most recent call last):") and "KeyError" in entry.traceback


@pytest.mark.django_db
def test_at_debug_level_an_expected_failure_keeps_its_traceback():
    logger = logging.getLogger("syncer.test")
    logger.setLevel(logging.DEBUG)
    try:
        try:
            raise ServiceDown("down")
        except ServiceDown:
            logger.exception("Sync 7 failed: down")
    finally:
        logger.setLevel(logging.NOTSET)
    assert "ServiceDown" in LogEntry.objects.get().traceback
