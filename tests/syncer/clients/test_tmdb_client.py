import httpx
import pytest

from syncer.clients.tmdb import ExternalIds, TmdbClient
from syncer.connections import tmdb_client
from syncer.http import AuthError, NotFound


def test_it_reads_tv_and_movie_external_ids_with_an_api_key(fake_tmdb):
    fake_tmdb.add_tv(209867, imdb_id="tt22248376", tvdb_id=424536)
    fake_tmdb.add_movie(372058, imdb_id="tt5311514")
    client = tmdb_client()
    assert client.enabled
    assert client.external_ids(kind="tv", tmdb_id=209867) == ExternalIds("tt22248376", 424536)
    assert client.external_ids(kind="movie", tmdb_id=372058) == ExternalIds("tt5311514", None)
    assert fake_tmdb.requests[-1].query["api_key"] == fake_tmdb.api_key


def test_empty_strings_and_nulls_mean_no_id(fake_tmdb):
    fake_tmdb.add_tv(1, imdb_id="", tvdb_id=None)
    assert tmdb_client().external_ids(kind="tv", tmdb_id=1) == ExternalIds(None, None)


def test_a_read_access_token_goes_in_the_bearer_header(fake_tmdb):
    fake_tmdb.api_key = "eyJhbGciOiJIUzI1NiJ9.fake-read-token"
    fake_tmdb.add_tv(1, imdb_id="tt1")
    client = TmdbClient(api_key=fake_tmdb.api_key)
    assert client.external_ids(kind="tv", tmdb_id=1).imdb_id == "tt1"
    request = fake_tmdb.requests[-1]
    assert "api_key" not in request.query and request.headers["authorization"].startswith("Bearer eyJ")


def test_an_unknown_id_is_not_found_and_a_bad_key_is_an_auth_error(fake_tmdb):
    with pytest.raises(NotFound):
        tmdb_client().external_ids(kind="movie", tmdb_id=5)
    with pytest.raises(AuthError):
        TmdbClient(api_key="wrong-key-00000").external_ids(kind="movie", tmdb_id=5)


def test_without_a_key_it_is_disabled_and_makes_no_call(settings):
    settings.TMDB_API_KEY = ""

    def handler(request):
        raise AssertionError("no call expected")

    client = TmdbClient(client=httpx.Client(transport=httpx.MockTransport(handler)))
    assert not client.enabled
    assert client.external_ids(kind="tv", tmdb_id=1) == ExternalIds()
    with pytest.raises(ValueError):
        client.external_ids(kind="season", tmdb_id=1)
