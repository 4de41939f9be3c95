"""Every upstream answer is read streamed and capped at what a real answer can be: a huge or
endless answer (or a small gzip that inflates to one) is refused while it streams in, without
the web or worker process holding it."""

import gzip

import httpx
import pytest

from syncer.clients.anilist import AniListClient
from syncer.clients.tmdb import TmdbClient
from syncer.clients.trakt import TraktClient
from syncer.http import BadResponse, HttpService, UncertainWrite

MiB = 1024 * 1024
CHUNK = 64 * 1024


class Endless:
    """A body of `total` bytes in 64 KiB chunks, counting how many were pulled."""

    def __init__(self, total: int):
        self.total, self.pulled = total, 0

    def __iter__(self):
        for _ in range(self.total // CHUNK):
            self.pulled += 1
            yield b" " * CHUNK


def serving(body, **headers) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(
        lambda request: httpx.Response(200, content=body, headers={"content-type": "application/json", **headers})))


def test_an_answer_over_the_cap_is_refused_while_it_streams_in():
    body = Endless(64 * MiB)
    service = HttpService("Test", base_url="http://svc.test", client=serving(body), max_bytes=1 * MiB, max_retries=0)
    with pytest.raises(BadResponse, match=r"Test: the answer was larger than 1 MiB"):
        service.request("GET", "/list")
    assert body.pulled <= 1 * MiB // CHUNK + 1  # read up to the cap, never the 64 MiB


def test_a_write_whose_answer_is_over_the_cap_is_an_uncertain_write():
    # The POST reached the service: it may have been applied, so the engine reconciles.
    service = HttpService("Test", base_url="http://svc.test", client=serving(Endless(4 * MiB)), max_bytes=1 * MiB)
    with pytest.raises(UncertainWrite, match="larger than 1 MiB"):
        service.request("POST", "/sync/history", json={})


def test_a_small_gzip_that_inflates_past_the_cap_is_refused():
    bomb = gzip.compress(b" " * (32 * MiB))
    assert len(bomb) < MiB // 4
    service = HttpService("Test", base_url="http://svc.test", client=serving(bomb, **{"content-encoding": "gzip"}),
                          max_bytes=1 * MiB, max_retries=0)
    with pytest.raises(BadResponse, match="larger than 1 MiB"):
        service.request("GET", "/x")


def test_an_answer_under_the_cap_reads_as_before():
    service = HttpService("Test", base_url="http://svc.test", client=serving(b'{"ok": true}'), max_bytes=1 * MiB)
    assert service.request_json("GET", "/x") == {"ok": True}


@pytest.mark.parametrize(("build", "cap"), [
    (lambda client: AniListClient(token="t", client=client).service, 16),
    (lambda client: TraktClient(client=client).api, 32),
    (lambda client: TraktClient(client=client).auth, 1),
    (lambda client: TmdbClient(api_key="k", client=client).service, 1),
])
def test_each_service_is_capped_at_what_a_real_answer_can_be(settings, build, cap):
    settings.TRAKT_CLIENT_ID = "id"
    body = Endless((cap + 1) * MiB)
    service = build(serving(body))
    with pytest.raises(BadResponse, match=f"larger than {cap} MiB"):
        service.request("GET", "/x")
    assert body.pulled <= cap * MiB // CHUNK + 1
