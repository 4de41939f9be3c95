"""Contract tests: POST /api/manual-map."""

import json

import pytest

from mappings.models import Mapping

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def catalogue(fake_trakt):
    """What the fake Trakt knows: every mapping is checked there first (`mappings.manual`)."""
    for trakt_id in (1, 2, 37696, 88888):
        fake_trakt.add_show(trakt_id, title=f"Show {trakt_id}", seasons={1: 25, 2: 24})
    fake_trakt.add_movie(142, title="Spirited Away")
    return fake_trakt


def test_it_saves_a_manual_mapping_with_the_original_body(api):
    response = api.post("/api/manual-map", {"anilistId": 21, "traktId": 37696, "tmdbId": 37854, "imdbId": "tt0388629", "tvdbId": 81797})
    assert response.status_code == 200
    assert response.json() == {"success": True, "added": 1}
    row = Mapping.objects.get(anilist_id=21)
    assert (row.trakt_id, row.tmdb_id, row.imdb_id, row.tvdb_id) == (37696, 37854, "tt0388629", 81797)
    assert row.is_manual and row.type == "show" and row.source == "manual"
    assert (row.start_season, row.start_episode) == (1, 1)


def test_it_accepts_ids_sent_as_digit_strings_like_the_original_scripts_did(api):
    response = api.post("/api/manual-map", {"anilistId": "99999", "traktId": "88888", "tmdbId": "77777"})
    assert response.status_code == 200
    assert Mapping.objects.get(anilist_id=99999).trakt_id == 88888


def test_it_overrides_an_automatic_mapping_and_keeps_the_anilist_facts(api):
    Mapping.objects.create(anilist_id=5, trakt_id=1, type="show", title="Some show", trakt_title="Wrong show", source="otaku")
    api.post("/api/manual-map", {"anilistId": 5, "traktId": 2, "startSeason": 2, "startEpisode": 13})
    row = Mapping.objects.get(anilist_id=5)
    assert (row.trakt_id, row.is_manual, row.start_season, row.start_episode) == (2, True, 2, 13)
    assert row.title == "Some show" and row.trakt_title == "Show 2"


def test_an_anilist_movie_stays_a_movie_when_no_type_is_given(api):
    Mapping.objects.create(anilist_id=199, anilist_format="MOVIE", title="Spirited Away")
    api.post("/api/manual-map", {"anilistId": 199, "traktId": 142})
    row = Mapping.objects.get(anilist_id=199)
    assert row.type == "movie" and row.start_season is None


def test_an_explicit_type_wins(api):
    api.post("/api/manual-map", {"anilistId": 300, "traktId": 142, "type": "movie"})
    assert Mapping.objects.get(anilist_id=300).type == "movie"


@pytest.mark.parametrize(
    "body, named",
    [
        ({"traktId": 1}, "anilistId"),
        ({"anilistId": 1}, "traktId"),
        ({"anilistId": 0, "traktId": 1}, "anilistId"),
        ({"anilistId": -4, "traktId": 1}, "anilistId"),
        ({"anilistId": 1.5, "traktId": 1}, "anilistId"),
        ({"anilistId": True, "traktId": 1}, "anilistId"),
        ({"anilistId": None, "traktId": 1}, "anilistId"),
        ({"anilistId": "12a", "traktId": 1}, "anilistId"),
        ({"anilistId": " 12", "traktId": 1}, "anilistId"),
        ({"anilistId": [1], "traktId": 1}, "anilistId"),
        ({"anilistId": 1, "traktId": 10**12}, "traktId"),
        ({"anilistId": 1, "traktId": "-3"}, "traktId"),
        ({"anilistId": 1, "traktId": 2, "tmdbId": -1}, "tmdbId"),
        ({"anilistId": 1, "traktId": 2, "tvdbId": "x"}, "tvdbId"),
        ({"anilistId": 1, "traktId": 2, "imdbId": "1234567"}, "imdbId"),
        ({"anilistId": 1, "traktId": 2, "imdbId": 1234567}, "imdbId"),
        ({"anilistId": 1, "traktId": 2, "type": "special"}, "type"),
        ({"anilistId": 1, "traktId": 2, "startSeason": -1}, "startSeason"),
        ({"anilistId": 1, "traktId": 2, "startEpisode": 0}, "startEpisode"),
        ({"anilistId": 1, "traktId": 2, "type": "movie", "startSeason": 1}, "startSeason"),
        ({"anilistId": 1, "traktId": 2, "isManual": False}, "isManual"),
    ],
)
def test_bad_bodies_are_refused_naming_the_field_and_nothing_is_written(api, body, named):
    response = api.post("/api/manual-map", body)
    assert response.status_code == 400
    assert named in response.json()["error"]
    assert not Mapping.objects.exists()


@pytest.mark.parametrize(
    "raw, problem",
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b'"text"', "JSON object"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[" * 9000 + b"]" * 9000, "too large"),
    ],
)
def test_malformed_or_oversized_bodies_are_refused(api, raw, problem):
    response = api.post("/api/manual-map", raw)
    assert response.status_code == 400
    assert problem in response.json()["error"]
    assert not Mapping.objects.exists()


def test_a_body_over_16_kib_is_refused_even_when_it_is_valid_json(api):
    body = json.dumps({"anilistId": 1, "traktId": 2, "imdbId": "tt1234567", "pad": "x" * 17000})
    response = api.post("/api/manual-map", body)
    assert response.status_code == 400
    assert "too large" in response.json()["error"]
    assert not Mapping.objects.exists()


def test_deeply_nested_json_under_the_cap_is_refused_cleanly(api):
    raw = b'{"anilistId": ' + b"[" * 3000 + b"]" * 3000 + b', "traktId": 1}'
    response = api.post("/api/manual-map", raw)
    assert response.status_code == 400
    assert not Mapping.objects.exists()


def test_query_parameters_are_refused_on_manual_map(api):
    response = api.post("/api/manual-map?anilistId=1", {"anilistId": 1, "traktId": 2})
    assert response.status_code == 400
    assert not Mapping.objects.exists()


def test_manual_map_refuses_get_with_a_json_405(api):
    response = api.get("/api/manual-map")
    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_ids_left_out_keep_their_value_and_null_clears_one(api):
    Mapping.objects.create(anilist_id=7, trakt_id=1, type="show", tmdb_id=11, tvdb_id=22, imdb_id="tt0000001")
    api.post("/api/manual-map", {"anilistId": 7, "traktId": 1, "tvdbId": None})
    row = Mapping.objects.get(anilist_id=7)
    assert (row.tmdb_id, row.tvdb_id, row.imdb_id) == (11, None, "tt0000001")


@pytest.mark.parametrize(
    "body, message",
    [
        ({"anilistId": 1, "traktId": 999}, "Trakt has no show 999. Check the id or URL."),
        ({"anilistId": 1, "traktId": 999, "type": "movie"}, "Trakt has no movie 999. Check the id or URL."),
        ({"anilistId": 1, "traktId": 2, "startSeason": 7}, "Show 2 has no season 7 on Trakt (its seasons: 1, 2)."),
        ({"anilistId": 1, "traktId": 2, "startSeason": 1, "startEpisode": 26},
         "Season 1 of Show 2 has no episode 26 on Trakt (its episodes: 1–25)."),
    ],
)
def test_a_mapping_trakt_does_not_have_is_refused_with_the_pages_message(api, body, message):
    response = api.post("/api/manual-map", body)
    assert response.status_code == 400
    assert response.json() == {"error": message}
    assert not Mapping.objects.exists()


def test_a_start_past_the_end_of_a_season_is_refused_as_in_the_admin_and_on_the_manual_page(api, catalogue):
    """Season 1 has 25 episodes: S1E26 is not counted on into season 2 (`mappings.manual`)."""
    catalogue.add_show(1420, title="Attack on Titan", seasons={0: 5, 1: 25, 2: 12, 3: 22})
    response = api.post("/api/manual-map", {"anilistId": 5, "traktId": 1420, "startSeason": 1, "startEpisode": 26})
    assert response.status_code == 400
    assert response.json() == {"error": "Season 1 of Attack on Titan has no episode 26 on Trakt (its episodes: 1–25)."}
    assert not Mapping.objects.exists()
