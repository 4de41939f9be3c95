"""Fixtures shared by the web view tests and the browser tests."""

from pathlib import Path

import pytest

from tests.fakes.server import FakeServer, Response

SOURCES_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "mapping-sources"
FRIBB_SAMPLE = "fribb_anime-list-mini_2024-05-07_sample.json"


@pytest.fixture
def q_sync(settings, monkeypatch):
    """Run django-q tasks inline, in the test's thread, instead of waiting for a worker.

    django-q reads `Q_CLUSTER` once at import (into `Conf`), so the setting override alone does
    not reach it; `Conf.SYNC` is patched too.
    """
    from django_q.conf import Conf

    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": True}
    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture
def mapping_files(settings):
    """A loopback server with the real sample files of the mapping sources."""
    server = FakeServer()
    server.route("GET", r"/fribb\.json", lambda request: Response(200, (SOURCES_DIR / FRIBB_SAMPLE).read_bytes()))
    server.route("GET", r"/broken\.json", lambda request: Response(200, "<html>maintenance</html>"))
    with server:
        settings.FRIBB_MAPPINGS_URL = f"{server.url}/fribb.json"
        yield server
