import time
from datetime import UTC, datetime
from itertools import pairwise

import httpx
import pytest

from syncer.clients.trakt import (
    EpisodePlay,
    MoviePlay,
    StaticTokenStore,
    TraktClient,
    history_payload,
    trakt_time,
)
from syncer.http import AccountLimit, AuthError, NotFound, ServiceUnavailable, UncertainWrite

WHEN = datetime(2024, 3, 1, 20, 15, 30, 123456, tzinfo=UTC)


@pytest.fixture
def client(fake_trakt):
    payload = fake_trakt.issue_token()
    return TraktClient(token_store=StaticTokenStore(payload["access_token"]))


def test_it_writes_watched_at_in_trakts_utc_form_and_refuses_naive_times():
    assert trakt_time(WHEN) == "2024-03-01T20:15:30.123Z"
    with pytest.raises(ValueError):
        trakt_time(datetime(2024, 3, 1))


def test_it_groups_plays_by_show_and_season():
    payload = history_payload([EpisodePlay(7, 1, 1, WHEN), EpisodePlay(7, 1, 2, WHEN),
                               EpisodePlay(7, 2, 1, WHEN), MoviePlay(9, WHEN)])
    assert payload["shows"] == [{"ids": {"trakt": 7}, "seasons": [
        {"number": 1, "episodes": [{"number": 1, "watched_at": trakt_time(WHEN)},
                                   {"number": 2, "watched_at": trakt_time(WHEN)}]},
        {"number": 2, "episodes": [{"number": 1, "watched_at": trakt_time(WHEN)}]}]}]
    assert payload["movies"] == [{"ids": {"trakt": 9}, "watched_at": trakt_time(WHEN)}]


def test_it_adds_plays_and_reports_the_ones_trakt_does_not_know(client, fake_trakt):
    fake_trakt.add_show(7, seasons={1: 3})
    fake_trakt.add_movie(9)
    plays = [EpisodePlay(7, 1, 1, WHEN), EpisodePlay(7, 1, 5, WHEN), EpisodePlay(8, 1, 1, WHEN),
             MoviePlay(9, WHEN), MoviePlay(10, WHEN)]
    result = client.add_to_history(plays)
    assert (result.added_episodes, result.added_movies) == (1, 1)
    assert result.not_found == [plays[1], plays[2], plays[4]]
    assert fake_trakt.episode_plays() == [(7, 1, 1, "2024-03-01T20:15:30.123Z")]


def test_it_reports_an_applied_post_answered_502_as_uncertain_and_does_not_repost(client, fake_trakt):
    fake_trakt.add_show(7, seasons={1: 3})
    fake_trakt.fail(r"/sync/history", method="POST", status=502, apply=True)
    with pytest.raises(UncertainWrite):
        client.add_to_history([EpisodePlay(7, 1, 1, WHEN)])
    assert len(fake_trakt.requests_to(r"/sync/history", "POST")) == 1
    assert len(fake_trakt.episode_plays()) == 1  # applied once, never twice


def test_it_reports_a_cloudflare_520_on_a_post_as_uncertain(client, fake_trakt):
    fake_trakt.add_show(7)
    fake_trakt.fail_html(r"/sync/history", status=520, method="POST")
    with pytest.raises(UncertainWrite) as info:
        client.add_to_history([EpisodePlay(7, 1, 1, WHEN)])
    assert "HTML" in str(info.value)
    assert len(fake_trakt.requests_to(r"/sync/history", "POST")) == 1


def test_it_reports_a_timed_out_post_as_uncertain(fake_trakt):
    fake_trakt.add_show(7)
    token = fake_trakt.issue_token()["access_token"]
    client = TraktClient(token_store=StaticTokenStore(token), client=httpx.Client(timeout=0.2))
    fake_trakt.fail(r"/sync/history", method="POST", status=201, apply=True, delay=0.5,
                    body={"added": {"episodes": 1}})
    with pytest.raises(UncertainWrite):
        client.add_to_history([EpisodePlay(7, 1, 1, WHEN)])
    assert len(fake_trakt.requests_to(r"/sync/history", "POST")) == 1


def test_it_retries_a_post_refused_with_429_because_it_was_not_applied(client, fake_trakt):
    fake_trakt.add_show(7)
    fake_trakt.rate_limit(r"/sync/history", method="POST", retry_after=0.01)
    result = client.add_to_history([EpisodePlay(7, 1, 1, WHEN)])
    assert result.added_episodes == 1
    assert len(fake_trakt.requests_to(r"/sync/history", "POST")) == 2
    assert len(fake_trakt.episode_plays()) == 1


def test_it_paces_writes_so_the_fake_never_sees_two_posts_within_its_interval(client, fake_trakt, settings):
    settings.TRAKT_WRITE_INTERVAL_SECONDS = 0.05
    fake_trakt.write_interval = 0.05
    fake_trakt.add_show(7, seasons={1: 5})
    for n in range(1, 5):
        client.add_to_history([EpisodePlay(7, 1, n, WHEN)])
    assert fake_trakt.write_violations == 0
    assert len(fake_trakt.episode_plays()) == 4


def test_the_fake_enforces_write_pacing_when_the_client_is_not_paced(client, fake_trakt, settings):
    # Proves the previous test can fail: without pacing the fake answers 429.
    settings.TRAKT_WRITE_INTERVAL_SECONDS = 0
    settings.HTTP_MAX_RETRIES = 0
    fake_trakt.write_interval = 5
    fake_trakt.add_show(7, seasons={1: 5})
    client.add_to_history([EpisodePlay(7, 1, 1, WHEN)])
    with pytest.raises(Exception, match="rate limited"):
        TraktClient(token_store=client.token_store).add_to_history([EpisodePlay(7, 1, 2, WHEN)])
    assert fake_trakt.write_violations == 1


def test_it_reads_every_page_of_history_within_the_range(client, fake_trakt):
    for n in range(1, 601):
        fake_trakt.add_play(show=7, season=1, number=n, watched_at=f"2024-01-{1 + n % 28:02d}T00:00:{n % 60:02d}.000Z")
    fake_trakt.add_play(movie=9, watched_at="2024-02-01T00:00:00.000Z")
    items = client.history(kind="shows", trakt_id=7)
    assert len(items) == 600 and len({i.id for i in items}) == 600
    gets = fake_trakt.requests_to(r"/sync/history/shows/7", "GET")
    assert [g.query["page"] for g in gets] == ["1", "2", "3"]
    assert all(g.query["limit"] == "250" for g in gets)
    ranged = client.history(start_at=datetime(2024, 1, 28, tzinfo=UTC), end_at=datetime(2024, 2, 2, tzinfo=UTC))
    assert {i.type for i in ranged} == {"episode", "movie"}
    assert all(datetime(2024, 1, 28, tzinfo=UTC) <= i.watched_at for i in ranged)
    movie = next(i for i in ranged if i.type == "movie")
    assert movie.movie_trakt_id == 9


def test_it_stops_paging_when_a_page_is_short_and_headers_are_missing():
    calls = []

    def handler(request):
        calls.append(request.url.params["page"])
        rows = [{"id": i, "type": "movie", "watched_at": "2024-01-01T00:00:00.000Z", "movie": {"ids": {"trakt": 1}}}
                for i in range(250 if request.url.params["page"] == "1" else 3)]
        return httpx.Response(200, json=rows)

    client = TraktClient(token_store=StaticTokenStore("t" * 20), client=httpx.Client(transport=httpx.MockTransport(handler)),
                         base_url="http://trakt.test")
    assert len(client.history(kind="movies")) == 253
    assert calls == ["1", "2"]


def test_it_reads_seasons_sorted_with_their_episode_numbers(client, fake_trakt):
    fake_trakt.add_show(7, seasons={2: 3, 0: [1], 1: [1, 2, 3, 4]})
    seasons = client.show_seasons(7)
    assert [(s.number, s.episodes) for s in seasons] == [(0, (1,)), (1, (1, 2, 3, 4)), (2, (1, 2, 3))]


def test_it_searches_by_external_id_always_sending_the_type(client, fake_trakt):
    fake_trakt.add_show(7, title="Frieren", ids={"tmdb": 209867, "tvdb": 424536})
    fake_trakt.add_movie(9, title="Frieren Movie", ids={"tmdb": 209867})
    results = client.search(id_type="tmdb", external_id=209867, kind="show")
    assert [(r.kind, r.trakt_id, r.title) for r in results] == [("show", 7, "Frieren")]
    assert fake_trakt.requests_to(r"/search/tmdb/209867")[-1].query == {"type": "show"}
    with pytest.raises(ValueError):
        client.search(id_type="tmdb", external_id=1, kind="episode")


def test_a_show_or_movie_comes_back_typed_and_an_unknown_one_is_not_found(client, fake_trakt):
    fake_trakt.add_show(7, title="Known")
    fake_trakt.add_movie(9, title="Your Name")
    show, movie = client.show(7), client.movie(9)
    assert (show.kind, show.trakt_id, show.title) == ("show", 7, "Known")
    assert (movie.kind, movie.trakt_id, movie.title) == ("movie", 9, "Your Name")
    with pytest.raises(NotFound):
        client.show(8)
    with pytest.raises(NotFound):
        client.movie(8)


def test_it_retries_a_read_through_5xx_and_html_pages(client, fake_trakt):
    fake_trakt.add_show(7)
    fake_trakt.fail(r"/shows/7/seasons", status=503)
    fake_trakt.fail_html(r"/shows/7/seasons", status=522)
    assert client.show_seasons(7)[0].number == 1
    assert len(fake_trakt.requests_to(r"/shows/7/seasons")) == 3


def test_it_gives_up_on_reads_after_the_retry_bound(client, fake_trakt, settings):
    settings.HTTP_MAX_RETRIES = 2
    fake_trakt.fail(r"/shows/7/seasons", status=500, times=None)
    with pytest.raises(ServiceUnavailable):
        TraktClient().show_seasons(7)
    assert len(fake_trakt.requests_to(r"/shows/7/seasons")) == 3


def test_it_surfaces_account_limits(client, fake_trakt):
    fake_trakt.fail(r"/sync/watchlist", status=420, headers={"X-Account-Limit": "100"})
    with pytest.raises(AccountLimit):
        client.add_to_watchlist({"shows": [{"ids": {"trakt": 7}}]})


def test_it_sends_a_user_agent_so_cloudflare_does_not_block_it(client, fake_trakt):
    from syncer.http import USER_AGENT

    client.last_activities()
    agent = fake_trakt.requests[-1].headers["user-agent"]
    assert agent == USER_AGENT and not agent.startswith("python-httpx")


def test_every_client_in_the_process_shares_one_write_pacer_and_one_read_pacer():
    first, second = TraktClient(), TraktClient()
    assert first.api.write_pacer is second.api.write_pacer
    assert first.api.read_pacer is second.api.read_pacer is second.auth.read_pacer
    assert first.api.write_pacer is not first.api.read_pacer


def _refreshing_client(handler):
    """A client on a MockTransport whose token store refreshes through the client itself."""

    class Store:
        token = "old-access"
        refreshes = 0

        def access_token(self):
            return self.token

        def refresh(self, *, reason):
            self.refreshes += 1
            self.token = trakt.oauth_refresh("old-refresh")["access_token"]
            return self.token

    trakt = TraktClient(token_store=Store(), client=httpx.Client(transport=httpx.MockTransport(handler)),
                        base_url="https://trakt.test", auth_url="https://trakt.test")
    return trakt


def test_a_401_on_a_post_is_refreshed_once_and_every_post_is_write_paced(settings):
    settings.TRAKT_WRITE_INTERVAL_SECONDS = 0.2
    settings.TRAKT_CLIENT_ID, settings.TRAKT_CLIENT_SECRET = "id", "secret"
    seen = []

    def handler(request):
        seen.append((time.monotonic(), request.url.path))
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "new-access", "refresh_token": "new-refresh"})
        if request.headers["authorization"] == "Bearer old-access":
            return httpx.Response(401, json={"error": "invalid_token"})
        return httpx.Response(201, json={"added": {"episodes": 1, "movies": 0}, "not_found": {}})

    trakt = _refreshing_client(handler)
    assert trakt.add_to_history([EpisodePlay(7, 1, 1, WHEN)]).added_episodes == 1
    assert [path for _, path in seen] == ["/sync/history", "/oauth/token", "/sync/history"]
    assert trakt.token_store.refreshes == 1
    gaps = [b - a for (a, _), (b, _) in pairwise(seen)]
    assert min(gaps) >= 0.19  # the refresh is a POST too: it shares the 1 write/s pacer


def test_a_post_still_refused_after_the_refresh_is_not_sent_a_third_time(settings):
    settings.TRAKT_WRITE_INTERVAL_SECONDS = 0
    settings.TRAKT_CLIENT_ID, settings.TRAKT_CLIENT_SECRET = "id", "secret"
    posts = []

    def handler(request):
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "new-access", "refresh_token": "new-refresh"})
        posts.append(request.headers["authorization"])
        return httpx.Response(401, json={"error": "invalid_token"})

    with pytest.raises(AuthError):
        _refreshing_client(handler).add_to_history([EpisodePlay(7, 1, 1, WHEN)])
    assert posts == ["Bearer old-access", "Bearer new-access"]


def test_it_says_whether_trakt_gave_added_counts(client, fake_trakt):
    fake_trakt.add_show(7, seasons={1: 1})
    assert client.add_to_history([EpisodePlay(7, 1, 1, WHEN)]).counted is True
    fake_trakt.fail(r"/sync/history", method="POST", status=201, body={"not_found": {}})
    assert client.add_to_history([EpisodePlay(7, 1, 1, WHEN)]).counted is False


def test_it_reads_every_page_of_watched_shows_with_their_episodes(client, fake_trakt):
    for show in range(1, 151):  # 150 shows: two pages of 100
        fake_trakt.add_play(show=show, season=1, number=1, watched_at=f"2024-01-01T00:{show // 60:02d}:{show % 60:02d}.000Z")
    fake_trakt.add_play(show=7, season=2, number=3)
    fake_trakt.add_play(show=7, season=2, number=3)  # two plays of one episode: one key
    fake_trakt.add_play(movie=9)
    watched = client.watched_shows()
    assert watched == {(show, 1, 1) for show in range(1, 151)} | {(7, 2, 3)}
    gets = fake_trakt.requests_to(r"/sync/watched/shows", "GET")
    assert [(g.query["page"], g.query["limit"], g.query["extended"]) for g in gets] == [
        ("1", "100", "progress"), ("2", "100", "progress")]


def test_watched_shows_without_extended_progress_carry_no_episodes_like_trakt(client, fake_trakt):
    fake_trakt.add_play(show=7, season=1, number=1)
    rows = client._json("GET", "/sync/watched/shows")
    assert rows[0]["plays"] == 1 and rows[0]["show"]["ids"]["trakt"] == 7 and "seasons" not in rows[0]


def test_it_reads_watched_movies_and_ignores_rows_that_say_no_plays():
    pages = {"1": [{"plays": 2, "movie": {"ids": {"trakt": n}}} for n in range(100)],
             "2": [{"plays": 1, "movie": {"ids": {"trakt": 500}}}, {"plays": 0, "movie": {"ids": {"trakt": 501}}},
                   {"movie": {"ids": {"trakt": 502}}}]}
    calls = []

    def handler(request):
        calls.append(request.url.params["page"])
        return httpx.Response(200, json=pages[request.url.params["page"]],
                              headers={"X-Pagination-Page-Count": "2"})

    client = TraktClient(token_store=StaticTokenStore("t" * 20), client=httpx.Client(transport=httpx.MockTransport(handler)),
                         base_url="http://trakt.test")
    assert client.watched_movies() == set(range(100)) | {500, 502}
    assert calls == ["1", "2"]


def test_it_reads_watched_movies_from_the_fake(client, fake_trakt):
    fake_trakt.add_movie(9)
    fake_trakt.add_play(movie=9)
    fake_trakt.add_play(show=7, season=1, number=1)
    assert client.watched_movies() == {9}

