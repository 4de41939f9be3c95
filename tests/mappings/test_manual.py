"""The one rule for a person's mapping (`mappings.manual`), which the admin, `/manual/` and
`/api/manual-map` all call: checked on (the fake) Trakt, overlaps reported, saved as manual."""

import pytest

from mappings.manual import ManualMappingRefused, manual_mapping_save, manual_target_check
from mappings.models import Mapping, TraktSeasonCache

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(fake_trakt):
    fake_trakt.add_show(1420, title="Attack on Titan", seasons={0: 5, 1: 25, 2: 12, 3: 22})
    fake_trakt.add_show(77, title="Empty Show", seasons={1: []})
    fake_trakt.add_movie(555, title="Your Name.")
    return fake_trakt


@pytest.mark.parametrize("ref, kind, season, episode, field, message", [
    ("999", "show", 1, 1, "trakt", "Trakt has no show 999. Check the id or URL."),
    ("999", "movie", None, None, "trakt", "Trakt has no movie 999. Check the id or URL."),
    ("555", "show", 1, 1, "trakt", "Trakt has no show 555. Check the id or URL."),
    ("1420", "show", 7, 1, "start_season", "Attack on Titan has no season 7 on Trakt (its seasons: 0, 1, 2, 3)."),
    # A start past the end of a season is refused, not counted on into the next season.
    ("1420", "show", 1, 26, "start_episode",
     "Season 1 of Attack on Titan has no episode 26 on Trakt (its episodes: 1–25)."),
    ("1420", "show", 0, 6, "start_episode",
     "Season 0 of Attack on Titan has no episode 6 on Trakt (its episodes: 1–5)."),
    ("77", "show", None, None, "start_episode",
     "Season 1 of Empty Show has no episode 1 on Trakt (its episodes: none)."),
])
def test_it_refuses_what_trakt_does_not_have_naming_the_input(catalogue, ref, kind, season, episode, field, message):
    with pytest.raises(ManualMappingRefused) as refused:
        manual_mapping_save(anilist_id=5, ref=ref, kind=kind, start_season=season, start_episode=episode)
    assert (refused.value.message, refused.value.field) == (message, field)
    assert not Mapping.objects.exists()


@pytest.mark.parametrize("ref, kind, season, episode, expected", [
    ("1420", "show", 3, 13, (1420, "Attack on Titan", "show-1420", 3, 13)),
    ("show-1420", "show", 2, 12, (1420, "Attack on Titan", "show-1420", 2, 12)),
    ("1420", "show", None, None, (1420, "Attack on Titan", "show-1420", 1, 1)),
    ("1420", "show", 0, 1, (1420, "Attack on Titan", "show-1420", 0, 1)),
    ("555", "movie", 3, 4, (555, "Your Name.", "movie-555", None, None)),
])
def test_it_confirms_what_trakt_has(catalogue, ref, kind, season, episode, expected):
    target = manual_target_check(ref=ref, kind=kind, start_season=season, start_episode=episode)
    assert (target.trakt_id, target.title, target.slug, target.start_season, target.start_episode) == expected


def test_a_trakt_outage_is_refused_with_a_try_again(catalogue):
    catalogue.fail("/shows/1420", method="GET", status=500, times=None)
    with pytest.raises(ManualMappingRefused, match=r"Trakt could not be asked about show 1420 \(.*\); try again\."):
        manual_target_check(ref="1420", kind="show")


def test_the_season_list_comes_through_the_season_cache(catalogue):
    manual_target_check(ref="1420", kind="show", start_season=3, start_episode=1)
    assert TraktSeasonCache.objects.filter(trakt_id=1420).exists()
    del catalogue.shows[1420]["seasons"][3]
    # Cached: the second check does not ask Trakt for the seasons again.
    assert manual_target_check(ref="1420", kind="show", start_season=3, start_episode=1).start_season == 3


def test_a_saved_mapping_is_manual_and_replaces_what_the_sources_said(catalogue):
    Mapping.objects.create(anilist_id=5, title="AoT S3P2", trakt_id=1, type="show", source="fribb tmdb 1",
                           episode_ranges=[[1, None, 1, 1]], held_trakt_id=9, unmapped_reason="old", tmdb_id=3)
    row = manual_mapping_save(anilist_id=5, ref="1420", kind="show", start_season=3, start_episode=13,
                              external_ids={"imdb_id": "tt2560140", "tmdb_id": None})
    row = Mapping.objects.get(anilist_id=5)
    assert (row.trakt_id, row.type, row.start_season, row.start_episode) == (1420, "show", 3, 13)
    assert (row.is_manual, row.source, row.unmapped_reason, row.episode_ranges, row.held_trakt_id) == (
        True, "manual", "", [], None)
    assert (row.title, row.trakt_title, row.trakt_slug) == ("AoT S3P2", "Attack on Titan", "show-1420")
    assert (row.imdb_id, row.tmdb_id) == ("tt2560140", None)


def test_an_overlap_with_another_entry_is_saved_and_reported(catalogue):
    Mapping.objects.create(anilist_id=99147, trakt_id=1420, type="show", start_season=3, start_episode=1,
                           episodes=14, title="Attack on Titan Season 3", source="fribb")
    row = manual_mapping_save(anilist_id=104578, ref="1420", kind="show", start_season=3, start_episode=13)
    assert row.overlaps == ["shares Trakt show 1420 S3E13 with AniList 99147 (Attack on Titan Season 3): "
                            "held for both until you decide"]
    assert Mapping.objects.get(anilist_id=104578).trakt_id == 1420


def test_unknown_external_ids_are_a_programming_error(catalogue):
    with pytest.raises(TypeError):
        manual_mapping_save(anilist_id=5, ref="1420", kind="show", external_ids={"anidb_id": 1})
    assert not Mapping.objects.exists()
