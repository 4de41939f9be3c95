from mappings.placement import EpisodeRange, MappingSpec, Target, normalised_start, place_episode
from tests.mappings.support import seasons

AOT = seasons(s0=range(1, 8), s1=range(1, 26), s2=range(1, 13), s3=range(1, 23))


def show(season=1, episode=1, **kw):
    return MappingSpec("show", 1420, season, episode, **kw)


def test_it_walks_from_the_start_into_the_following_seasons():
    spec = show(1, 1)
    assert place_episode(spec=spec, seasons=AOT, overrides={}, episode=26) == Target("episode", 1420, 2, 1)
    assert place_episode(spec=spec, seasons=AOT, overrides={}, episode=59) == Target("episode", 1420, 3, 22)
    assert place_episode(spec=spec, seasons=AOT, overrides={}, episode=60) is None


def test_a_split_cour_starts_mid_season():
    spec = show(3, 13)
    assert place_episode(spec=spec, seasons=AOT, overrides={}, episode=1) == Target("episode", 1420, 3, 13)
    assert place_episode(spec=spec, seasons=AOT, overrides={}, episode=10) == Target("episode", 1420, 3, 22)


def test_specials_never_overflow_into_season_one():
    spec = show(0, 6)
    assert place_episode(spec=spec, seasons=AOT, overrides={}, episode=2) == Target("episode", 1420, 0, 7)
    assert place_episode(spec=spec, seasons=AOT, overrides={}, episode=3) is None


def test_a_regular_season_never_walks_into_specials():
    spec = show(3, 22)
    assert place_episode(spec=spec, seasons=AOT, overrides={}, episode=2) is None


def test_overrides_win_over_the_rule():
    spec = show(1, 1)
    got = place_episode(spec=spec, seasons=AOT, overrides={3: (0, 5)}, episode=3)
    assert got == Target("episode", 1420, 0, 5)


def test_without_a_season_list_it_counts_on_inside_the_start_season():
    assert place_episode(spec=show(3, 13), seasons=None, overrides={}, episode=4) == Target("episode", 1420, 3, 16)


def test_a_start_past_a_seasons_end_is_the_next_seasons_start():
    layout = seasons(s1=range(1, 13), s2=range(1, 14))
    assert normalised_start(layout, 1, 13) == (2, 1)
    assert normalised_start(layout, 1, 26) is None
    assert normalised_start(layout, 3, 1) is None


def test_absolute_numbered_seasons_match_only_exactly():
    layout = seasons(s1=range(1, 62), s2=range(62, 78))
    assert normalised_start(layout, 2, 62) == (2, 62)
    assert normalised_start(layout, 2, 1) is None
    spec = show(1, 1)
    assert place_episode(spec=spec, seasons=layout, overrides={}, episode=62) == Target("episode", 1420, 2, 62)


def test_no_episode_past_the_entrys_count_is_placed():
    assert place_episode(spec=show(1, 1, episodes=25), seasons=AOT, overrides={}, episode=26) is None
    assert place_episode(spec=show(1, 1, episodes=25), seasons=AOT, overrides={}, episode=0) is None


def test_a_movie_is_one_play_when_the_entry_is_complete():
    movie = MappingSpec("movie", 532321, episodes=2)
    assert place_episode(spec=movie, seasons=None, overrides={}, episode=1) is None
    assert place_episode(spec=movie, seasons=None, overrides={}, episode=2) == Target("movie", 532321)
    single = MappingSpec("movie", 115)
    assert place_episode(spec=single, seasons=None, overrides={}, episode=1) == Target("movie", 115)


def test_explicit_ranges_place_specials_then_a_season():
    layout = seasons(s0=range(1, 6), s1=range(1, 13))
    spec = MappingSpec("show", 45938, 0, 2, ranges=(EpisodeRange(1, 3, 0, 2), EpisodeRange(4, 15, 1, 1)))
    assert place_episode(spec=spec, seasons=layout, overrides={}, episode=3) == Target("episode", 45938, 0, 4)
    assert place_episode(spec=spec, seasons=layout, overrides={}, episode=4) == Target("episode", 45938, 1, 1)
    assert place_episode(spec=spec, seasons=layout, overrides={}, episode=16) is None
