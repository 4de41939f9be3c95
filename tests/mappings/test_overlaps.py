"""Two AniList entries on overlapping Trakt episodes of one show: the later one is held back.

Within one run the plan posts a Trakt episode once; across runs nothing else stops the second
entry from posting the same episodes again (Trakt keeps every play).
"""

import pytest

from mappings.models import Mapping
from mappings.placement import MappingSpec, covered_episodes
from mappings.selectors import mapping_spec
from mappings.services import mapping_resolve
from tests.mappings.support import TRAKT_SEASONS, media, place, seasons

AOT = 1420


def saved(anilist_id, season, episode, episodes, **kw):
    return Mapping.objects.create(anilist_id=anilist_id, trakt_id=AOT, type="show", start_season=season,
                                  start_episode=episode, episodes=episodes, source="fribb", title=f"AniList {anilist_id}",
                                  **kw)


@pytest.mark.django_db
def test_an_entry_overlapping_a_mapped_one_is_held_back_with_the_reason(real_sources, resolver):
    saved(99147, 3, 1, 14)  # claims S3E1-14 (a wrong episode count, say)
    row = mapping_resolve(media=media(104578, format="TV", episodes=10), resolver=resolver)
    assert (row.trakt_id, row.held_trakt_id) == (None, AOT) and mapping_spec(row) is None
    assert row.unmapped_reason.startswith("its episodes overlap AniList 99147 (AniList 99147) on Trakt show 1420 "
                                          "(2 episode(s) from S3E13)")
    assert Mapping.objects.get(pk=99147).trakt_id == AOT  # the earlier one is left alone


@pytest.mark.django_db
def test_adjacent_entries_on_one_show_are_both_mapped(real_sources, resolver):
    saved(99147, 3, 1, 12)
    row = mapping_resolve(media=media(104578, format="TV", episodes=10), resolver=resolver)
    assert (row.trakt_id, row.start_season, row.start_episode, row.unmapped_reason) == (AOT, 3, 13, "")


@pytest.mark.django_db
def test_a_whole_series_entry_overlaps_every_season_entry_after_it(real_sources, resolver):
    saved(16498, 1, 1, 59)  # S1E1 walking through S2 into S3E22
    row = mapping_resolve(media=media(20958, format="TV", episodes=12), resolver=resolver)
    assert row.trakt_id is None and "(12 episode(s) from S2E1)" in row.unmapped_reason


@pytest.mark.django_db
def test_a_manual_mapping_is_never_the_one_held_and_held_rows_do_not_block(real_sources, resolver):
    saved(99147, 3, 1, 14, is_manual=True)
    row = mapping_resolve(media=media(104578, format="TV", episodes=10), resolver=resolver)
    assert row.trakt_id is None
    assert Mapping.objects.get(pk=99147).trakt_id == AOT
    Mapping.objects.filter(pk=99147).update(trakt_id=None, held_trakt_id=AOT, unmapped_reason="held")
    again = mapping_resolve(media=media(104578, format="TV", episodes=10), resolver=resolver)
    assert (again.trakt_id, again.start_season, again.start_episode) == (AOT, 3, 13)
    assert place(again, 10) == (AOT, 3, 22)


@pytest.mark.django_db
def test_an_entry_of_unknown_length_claims_only_its_first_episode(real_sources, resolver):
    saved(99147, 3, 1, None)
    row = mapping_resolve(media=media(104578, format="TV", episodes=10), resolver=resolver)
    assert row.trakt_id == AOT


def test_covered_episodes_follow_placement_across_seasons_and_ranges():
    layout = TRAKT_SEASONS[AOT]
    assert covered_episodes(MappingSpec("show", AOT, 2, 11, episodes=4), layout) == {(2, 11), (2, 12), (3, 1), (3, 2)}
    assert covered_episodes(MappingSpec("show", AOT, 4, 27, episodes=5), layout) == {(4, 27), (4, 28)}
    assert covered_episodes(MappingSpec("movie", 5, episodes=1), layout) == set()
    assert covered_episodes(MappingSpec("show", AOT, 1, 5, episodes=3), None) == {(1, 5), (1, 6), (1, 7)}
    assert covered_episodes(MappingSpec("show", AOT, 1, 1, episodes=2), seasons(s1=range(1, 2))) == {(1, 1)}
