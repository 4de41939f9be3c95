"""Trakt's read limit as it is now (issue 23): 500 GETs per 5 minutes per address, enforced by
Cloudflare with an HTML 429 and a 5-minute ban (trakt/trakt-api#909, #922)."""

import threading
import time
from datetime import UTC, datetime

import pytest

from syncer import http
from syncer.clients.trakt import EpisodePlay, StaticTokenStore, TraktClient
from syncer.http import pacer, retry_notices

WHEN = datetime(2024, 3, 1, 20, 15, 30, tzinfo=UTC)


@pytest.fixture
def client(fake_trakt):
    return TraktClient(token_store=StaticTokenStore(fake_trakt.issue_token()["access_token"]))


def test_it_counts_authenticated_and_public_reads_in_one_budget_of_500_per_5_minutes(client, fake_trakt, monkeypatch):
    reads = pacer("trakt-read")
    now, slept = [1000.0], []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    monkeypatch.setattr(reads, "clock", lambda: now[0])
    monkeypatch.setattr(reads, "sleep", sleep)
    fake_trakt.add_show(7)
    public = TraktClient()  # the season reader's client: no token
    for _ in range(250):
        client.last_activities()
        public.show(7)
    assert slept == []  # 500 reads fit one window
    public.show(7)
    assert sum(slept) >= 300  # the 501st waits for the first to leave the 5 minutes


def test_it_waits_out_a_cloudflare_ban_longer_than_any_retry_and_says_until_when(client, fake_trakt, settings):
    settings.HTTP_MAX_RETRIES = 0  # a ban is not a retry: it never fails a request by itself
    settings.HTTP_RETRY_BUDGET_SECONDS = 0.2
    fake_trakt.ban_seconds = 1.0
    fake_trakt.add_show(7, seasons={1: 3})
    fake_trakt.cloudflare_ban()
    notices = []
    started = time.monotonic()
    with retry_notices(notices.append):
        seasons = TraktClient().show_seasons(7)
    assert time.monotonic() - started >= 0.9
    assert [s.number for s in seasons] == [1]
    assert fake_trakt.refused_in_ban == 1  # the request that learnt of the ban, and nothing after it
    assert len(notices) == 1 and notices[0].startswith("Trakt paused requests until ")


def test_during_a_ban_no_request_goes_out_writes_included(client, fake_trakt, settings):
    fake_trakt.ban_seconds = 1.0
    fake_trakt.add_show(7, seasons={1: 3})
    fake_trakt.cloudflare_ban()
    reader = threading.Thread(target=lambda: TraktClient().show_seasons(7))
    reader.start()
    while pacer("trakt-write").blocked_for() == 0:  # until the read has learnt of the ban
        time.sleep(0.01)
    result = client.add_to_history([EpisodePlay(7, 1, 1, WHEN)])  # the write waits for the ban to end
    reader.join()
    assert result.added_episodes == 1 and len(fake_trakt.episode_plays()) == 1
    assert fake_trakt.refused_in_ban == 1


def test_an_html_429_from_cloudflare_is_a_ban_and_the_apis_own_429_is_not(fake_trakt, settings):
    settings.HTTP_MAX_RETRIES = 0
    fake_trakt.ban_seconds = 300
    fake_trakt.cloudflare_ban()
    service = TraktClient().api
    service.sleep = lambda s: None
    with pytest.raises(http.CloudflareBan) as ban:
        response = service.client.get(f"{fake_trakt.url}/shows/7", headers=service.headers)
        raise service._failure(response, "GET", "/shows/7", True)
    assert ban.value.retry_after == 300
    fake_trakt.banned_until = 0
    fake_trakt.rate_limit(r"/shows/7", retry_after=2, headers={"X-Ratelimit": '{"name": "UNAUTHED_API_GET_LIMIT"}'})
    response = service.client.get(f"{fake_trakt.url}/shows/7", headers=service.headers)
    failure = service._failure(response, "GET", "/shows/7", True)
    assert not isinstance(failure, http.CloudflareBan) and failure.retry_after == 2
