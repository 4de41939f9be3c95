import socket

import pytest

from tests.fakes.receiver import FakeReceiver
from tests.sync.conftest import anilist, trakt  # noqa: F401 - the sync fakes, shared


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
