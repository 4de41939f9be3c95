"""Two AniList entries on overlapping Trakt episodes of one show: both stay mapped, and only the
Trakt episodes they share are held, for both (issue 10; the old rule held the later entry whole).

Within one run the plan posts a Trakt episode once; across runs nothing else stops the second
entry from posting the same episodes again (Trakt keeps every play).
"""

import pytest

from mappings.manual import mapping_set_manual
from mappings.models import EpisodeOverride, Mapping
from mappings.placement import MappingSpec, covered_episodes, disputed_episodes
from mappings.selectors import disputes, held_episodes, mapping_spec
from mappings.services import mapping_resolve
from tests.mappings.support import TRAKT_SEASONS, media, place, seasons

AOT = 1420


def saved(anilist_id, season, episode, episodes, **kw):
    return Mapping.objects.create(anilist_id=anilist_id, trakt_id=AOT, type="show", start_season=season,
                                  start_episode=episode, episodes=episodes, source="fribb", title=f"AniList {anilist_id}",
                                  **kw)


def layouts(ids):
    return {i: TRAKT_SEASONS.get(i) for i in ids}


def held(anilist_id):
    return sorted(held_episodes(anilist_ids=[anilist_id], seasons_for=layouts).get(anilist_id, {}))


@pytest.mark.django_db
def test_an_entry_overlapping_a_mapped_one_stays_mapped_and_only_the_shared_episodes_are_held(
        real_sources, resolver, caplog):
    saved(99147, 3, 1, 14)  # claims S3E1-14 (a wrong episode count, say)
    row = mapping_resolve(media=media(104578, format="TV", episodes=10), resolver=resolver)
    assert (row.trakt_id, row.start_season, row.start_episode, row.unmapped_reason) == (AOT, 3, 13, "")
    assert mapping_spec(row) is not None and row.held_trakt_id is None
    assert held(104578) == held(99147) == [(3, 13), (3, 14)]  # for both, nothing else
    assert "shares Trakt show 1420 S3E13, S3E14 with AniList 99147 (AniList 99147): held for both" in caplog.text
    assert Mapping.objects.get(pk=99147).trakt_id == AOT


@pytest.mark.django_db
def test_adjacent_entries_on_one_show_are_both_mapped(real_sources, resolver):
    saved(99147, 3, 1, 12)
    row = mapping_resolve(media=media(104578, format="TV", episodes=10), resolver=resolver)
    assert (row.trakt_id, row.start_season, row.start_episode, row.unmapped_reason) == (AOT, 3, 13, "")
    assert held(104578) == held(99147) == []


@pytest.mark.django_db
def test_a_whole_series_entry_shares_every_episode_of_a_season_entry_after_it(real_sources, resolver):
    saved(16498, 1, 1, 59)  # S1E1 walking through S2 into S3E22
    row = mapping_resolve(media=media(20958, format="TV", episodes=12), resolver=resolver)
    assert row.trakt_id == AOT
    assert held(20958) == held(16498) == [(2, n) for n in range(1, 13)]


@pytest.mark.django_db
def test_a_manual_mapping_is_checked_the_same_way_and_old_held_rows_do_not_block(real_sources, resolver, caplog):
    saved(104578, 3, 13, 10)
    mapping_set_manual(anilist_id=99147, trakt_id=AOT, kind="show", start_season=3, start_episode=1,
                       title="AoT S3", seasons_of=TRAKT_SEASONS.get)
    Mapping.objects.filter(pk=99147).update(episodes=14)
    assert held(99147) == held(104578) == [(3, 13), (3, 14)]
    mapping_set_manual(anilist_id=99147, trakt_id=AOT, kind="show", start_season=3, start_episode=1,
                       title="AoT S3", seasons_of=TRAKT_SEASONS.get)
    assert "AniList 99147 (AoT S3) shares Trakt show 1420 S3E13, S3E14 with AniList 104578" in caplog.text
    # A row held by the old rule (trakt_id NULL) claims nothing.
    Mapping.objects.filter(pk=99147).update(trakt_id=None, held_trakt_id=AOT, unmapped_reason="held")
    assert held(104578) == [] and place(Mapping.objects.get(pk=104578), 10) == (AOT, 3, 22)


@pytest.mark.django_db
def test_an_override_naming_a_shared_episode_settles_it_for_that_entry():
    first, second = saved(1, 1, 27, 13), saved(2, 1, 39, 12)  # Re:Zero S2 Part 1 / Part 2 per Fribb: E39 twice
    table = {AOT: seasons(s1=range(1, 51))}
    [dispute] = disputes(seasons_for=lambda ids: {i: table.get(i) for i in ids})
    assert (dispute.first, dispute.second, dispute.held_first, dispute.held_second) == (first, second, ((1, 39),), ((1, 39),))
    EpisodeOverride.objects.create(mapping=second, anilist_episode=1, season=1, episode=39)
    [dispute] = disputes(seasons_for=lambda ids: {i: table.get(i) for i in ids})
    assert (dispute.held_first, dispute.held_second) == (((1, 39),), ())


def test_disputed_episodes_are_the_shared_claims_with_overrides_applied():
    layout = seasons(s1=range(1, 51))
    part1, part2 = MappingSpec("show", AOT, 1, 27, episodes=13), MappingSpec("show", AOT, 1, 39, episodes=12)
    assert disputed_episodes((part1, {}), (part2, {}), layout) == ({(1, 39)}, {(1, 39)})
    # Part 1's last episode moved by an override: nothing is shared any more.
    assert disputed_episodes((part1, {13: (1, 38)}), (part2, {}), layout) == (set(), set())
    assert disputed_episodes((part1, {}), (MappingSpec("show", 7, 1, 39, episodes=12), {}), layout) == (set(), set())


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
