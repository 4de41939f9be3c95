"""Pytest fixtures for the loopback fakes (registered for the whole suite in tests/conftest.py).

Each fixture starts its fake on 127.0.0.1, points the settings at it, makes retries and
pacing fast (~0.01 s) and stops the fake after the test.
"""

import pytest

from tests.fakes.anilist import FakeAniList
from tests.fakes.tmdb import FakeTmdb
from tests.fakes.trakt import FakeTrakt

FAST_HTTP = {
    "HTTP_RETRY_BACKOFF_SECONDS": 0.01,
    "HTTP_TIMEOUT_SECONDS": 5.0,
    "HTTP_MAX_RETRIES": 3,
    "HTTP_RETRY_BUDGET_SECONDS": 10.0,
}


@pytest.fixture(autouse=True)
def _fresh_http_state():
    """Pacers and the AniList viewer cache are process-wide: start every test clean."""
    from syncer.clients.anilist import viewer_cache_clear
    from syncer.http import pacers_reset

    pacers_reset()
    viewer_cache_clear()
    yield
    pacers_reset()


def _fast(settings) -> None:
    for name, value in FAST_HTTP.items():
        setattr(settings, name, value)


def point_at_anilist(settings, fake) -> None:
    """Settings for talking to a running fake AniList (any FakeAniList subclass)."""
    _fast(settings)
    settings.ANILIST_API_URL = fake.url
    settings.ANILIST_ACCESS_TOKEN = fake.token
    settings.ANILIST_REQUESTS_PER_MINUTE = 1000


@pytest.fixture
def fake_anilist(settings):
    with FakeAniList() as fake:
        point_at_anilist(settings, fake)
        yield fake


@pytest.fixture
def fake_trakt(settings):
    with FakeTrakt() as fake:
        _fast(settings)
        settings.TRAKT_API_URL = fake.url
        settings.TRAKT_AUTH_URL = fake.auth_url  # /oauth/* only there, as on Trakt (auth.trakt.tv)
        fake.oauth_only_on_auth_host = True
        settings.TRAKT_CLIENT_ID = fake.client_id
        settings.TRAKT_CLIENT_SECRET = fake.client_secret
        settings.TRAKT_ACCESS_TOKEN = ""
        settings.TRAKT_REFRESH_TOKEN = ""
        settings.TRAKT_WRITE_INTERVAL_SECONDS = 0.01
        yield fake


@pytest.fixture
def trakt_connected(fake_trakt, db):
    """The fake Trakt with a valid token pair saved in the token store (TraktToken row)."""
    from syncer.trakt_connection.tokens import trakt_token_save

    trakt_token_save(payload=fake_trakt.issue_token(), username=fake_trakt.username)
    return fake_trakt


@pytest.fixture
def fake_tmdb(settings):
    with FakeTmdb() as fake:
        _fast(settings)
        settings.TMDB_API_URL = fake.url
        settings.TMDB_API_KEY = fake.api_key
        yield fake
