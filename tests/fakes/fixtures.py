"""Pytest fixtures for the loopback fakes (registered for the whole suite in tests/conftest.py).

Each fixture starts its fake on 127.0.0.1, points the settings at it, makes retries and
pacing fast (~0.01 s) and stops the fake after the test.
"""

import socket
from pathlib import Path

import pytest

from tests.fakes.anilist import FakeAniList
from tests.fakes.receiver import FakeReceiver
from tests.fakes.server import FakeServer, Response
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
def trakt_connected(fake_trakt, db, settings):
    """The fake Trakt with a valid token pair saved in the token store (TraktToken row), posting
    in batches of 100 and checking an uncertain POST at once (no wait for a write in flight)."""
    from syncer.trakt_connection.tokens import trakt_token_save

    settings.SYNC_RECONCILE_DELAY_SECONDS = 0
    settings.TRAKT_BATCH_SIZE = 100
    trakt_token_save(payload=fake_trakt.issue_token(), username=fake_trakt.username)
    return fake_trakt


@pytest.fixture
def fake_tmdb(settings):
    with FakeTmdb() as fake:
        _fast(settings)
        settings.TMDB_API_URL = fake.url
        settings.TMDB_API_KEY = fake.api_key
        yield fake


SOURCES_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "mapping-sources"
FRIBB_SAMPLE = "fribb_anime-list-mini_2024-05-07_sample.json"


@pytest.fixture
def mapping_files(settings):
    """A loopback server with the real sample files of the mapping sources."""
    server = FakeServer()
    server.route("GET", r"/fribb\.json", lambda request: Response(200, (SOURCES_DIR / FRIBB_SAMPLE).read_bytes()))
    server.route("GET", r"/broken\.json", lambda request: Response(200, "<html>maintenance</html>"))
    with server:
        settings.FRIBB_MAPPINGS_URL = f"{server.url}/fribb.json"
        yield server


@pytest.fixture
def receiver(settings):
    """A webhook receiver on loopback, set as the only NOTIFY_URLS target."""
    with FakeReceiver() as fake:
        settings.NOTIFY_URLS = [fake.apprise_url()]
        yield fake


@pytest.fixture
def receiver_down(settings):
    """A NOTIFY_URLS target nothing listens on (a port just taken and released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.NOTIFY_URLS = [f"json://127.0.0.1:{port}/hook"]
    return port


@pytest.fixture
def q_sync(settings, monkeypatch):
    """Run django-q tasks inline, in the test's thread, instead of waiting for a worker.

    django-q reads `Q_CLUSTER` once at import (into `Conf`), so the setting override alone does
    not reach it; `Conf.SYNC` is patched too.
    """
    from django_q.conf import Conf

    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": True}
    monkeypatch.setattr(Conf, "SYNC", True)
