"""How a mapping was found and placed is read from codes, never from the words of `source` or
`unmapped_reason`: each reader keeps working when a row's words are reworded (an edit in the
admin, a new wording of the resolver's notes) and its facts are not."""

import pytest

from mappings.models import FribbEntry, Mapping
from mappings.selectors import mapping_spec, mappings_by_air_dates
from mappings.services import mapping_resolve, mapping_resolve_many
from tests.mappings.support import media, resolver_for, schedule
from tests.mappings.test_airdates_rechecks import (  # noqa: F401 (the fixtures)
    placed_by_dates_on_fribbs_show,
    s3,
    s3_placed_by_dates_while_airing,
    season_list_read_again,
    the_rest_of_s3_aired,
    with_a_recap_before_s3,
)
from tests.mappings.test_airdates_resolution import (
    COURS,
    REZERO,
    REZERO_TMDB,
    S2_PART1,
    S2_PART2,
    S3,
    broadcasts,
    fribb_says,
    prequel_mapped,
    rezero_on_trakt,
)

pytestmark = pytest.mark.django_db


def reworded(anilist_id: int, **text) -> None:
    """The row's words changed (a person's edit, a rewording), its facts did not."""
    Mapping.objects.filter(pk=anilist_id).update(**text)


def listed(queryset) -> list[int]:
    return sorted(queryset.values_list("anilist_id", flat=True))


def test_a_start_the_dates_corrected_is_still_listed_and_noted_as_corrected_once_its_words_change(
        fake_trakt, fake_anilist):
    rezero_on_trakt(fake_trakt)
    fribb_says(S2_PART1, 26)
    fake_anilist.schedules[S2_PART1] = schedule(COURS[1])
    mapping_resolve(media=media(S2_PART1, format="TV", episodes=13))
    reworded(S2_PART1, source="Fribb's start, moved one episode back to match when it aired")
    assert listed(mappings_by_air_dates(Mapping.objects.all())) == [S2_PART1]
    assert mapping_spec(Mapping.objects.get(pk=S2_PART1)).note == "start fribb S1E27, corrected to S1E26 by air dates"


def test_an_entry_the_dates_held_is_still_listed_as_held_once_its_reason_is_reworded(fake_trakt, fake_anilist):
    rezero_on_trakt(fake_trakt)
    fribb_says(S2_PART1, 26)
    fake_anilist.schedules[S2_PART1] = schedule(broadcasts("2019-07-10", 13))  # a year before anything
    assert mapping_resolve(media=media(S2_PART1, format="TV", episodes=13)).held_trakt_id == REZERO
    reworded(S2_PART1, unmapped_reason="no episode run fits: please map it by hand")
    assert listed(mappings_by_air_dates(Mapping.objects.all(), held=True)) == [S2_PART1]
    assert listed(mappings_by_air_dates(Mapping.objects.all())) == []


def test_a_start_the_dates_gave_on_a_datasets_show_yields_to_the_dataset_whatever_its_words_say(
        fake_trakt, placed_by_dates_on_fribbs_show):  # noqa: F811 (the fixture)
    reworded(S3, source="the air dates chose S1E51 on the show Fribb names")
    FribbEntry.objects.filter(anilist_id=S3).update(tmdb_season=1, tmdb_offset=50, has_season_data=True)
    row = mapping_resolve_many(medias=[s3()])[S3]
    assert (row.trakt_id, row.start_season, row.start_episode) == (REZERO, 1, 51)
    assert row.source == f"fribb tmdb {REZERO_TMDB}; start fribb"  # the show's finder named from its codes


def test_an_entry_the_dates_placed_alone_is_resolved_again_once_a_dataset_knows_it_whatever_its_words_say(
        fake_trakt, fake_anilist):
    rezero_on_trakt(fake_trakt)
    prequel_mapped()
    fake_anilist.schedules[S3] = schedule(COURS[3])
    fake_anilist.relations[S3] = [(S2_PART2, "PREQUEL")]
    mapping_resolve_many(medias=[s3()])
    reworded(S3, source="placed after its prequel")
    fribb_says(S3, 50)
    row = mapping_resolve_many(medias=[s3()])[S3]
    assert (row.start_season, row.start_episode, row.source) == (1, 51, f"fribb tmdb {REZERO_TMDB}; start fribb")


def test_a_start_the_dates_gave_and_move_is_worded_from_its_codes_not_from_its_old_words(
        fake_trakt, fake_anilist, s3_placed_by_dates_while_airing):  # noqa: F811 (the fixture)
    reworded(S3, source="placed after its prequel")
    the_rest_of_s3_aired(fake_anilist)
    season_list_read_again(fake_trakt, seasons={0: 11, 1: 67}, aired=with_a_recap_before_s3())
    row = mapping_resolve_many(medias=[s3()])[S3]
    assert (row.trakt_id, row.start_season, row.start_episode, row.unmapped_reason) == (REZERO, 1, 52, "")
    assert row.source == f"air dates S1E52 (prequel AniList {S2_PART2})"


def test_an_adopted_row_held_without_a_start_is_tried_again_whatever_its_words_say(real_sources, resolver,
                                                                                   trakt_double):
    Mapping.objects.create(anilist_id=190327, trakt_id=1420, type="show")
    mapping_resolve(media=media(190327, format="TV", episodes=12), resolver=resolver)
    reworded(190327, source="kept from the app this one replaced")
    trakt_double.calls.clear()
    again = mapping_resolve(media=media(190327, format="TV", episodes=12), resolver=resolver_for(trakt_double))
    assert ("show", 1420) in trakt_double.calls  # the original's id is tried again, not forgotten
    assert (again.trakt_id, again.held_trakt_id) == (None, 1420)


def test_what_found_and_placed_an_entry_is_saved_as_codes_beside_its_words(fake_trakt, fake_tmdb, real_sources):
    fake_trakt.add_show(1420, title="Attack on Titan", ids={"tmdb": 1429, "tvdb": 267440},
                        seasons={0: 10, 1: 25, 2: 12, 3: 22, 4: 28})
    fake_trakt.add_movie(224301, title="Your Name", ids={"tmdb": 372058})
    show = mapping_resolve(media=media(104578, format="TV", episodes=10))
    movie = mapping_resolve(media=media(21519, format="MOVIE", episodes=1))
    assert (show.found_by, show.placed_by, show.air_dates, show.provenance) == (
        "fribb", "fribb", "", {"via": ["tmdb", 1429]})
    assert show.source == "fribb tmdb 1429; start fribb"
    assert (movie.found_by, movie.placed_by, movie.provenance) == ("otaku", "otaku", {"via": ["trakt", 224301]})
    assert movie.source == "otaku trakt_id"
