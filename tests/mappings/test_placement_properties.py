"""Placement edge cases and properties over random season layouts (seeded, reproducible)."""

import random

import pytest

from mappings.placement import (
    MappingSpec,
    Target,
    locate,
    normalised_start,
    place_episode,
    season_sequence,
)
from syncer.clients.trakt import Season
from tests.mappings.support import seasons


def show(season=1, episode=1, **kw):
    return MappingSpec("show", 7, season, episode, **kw)


def placed(spec, layout, episodes, overrides=None):
    return [place_episode(spec=spec, seasons=layout, overrides=overrides or {}, episode=n) for n in episodes]


def random_layout(rng: random.Random) -> list[Season]:
    """Specials plus 1-6 regular seasons, numbered from 1 per season or absolutely (One Piece)."""
    out = [Season(0, tuple(range(1, rng.randint(0, 8) + 1)))]
    absolute, next_number = rng.random() < 0.3, 1
    for number in range(1, rng.randint(1, 6) + 1):
        count = rng.randint(0, 30)
        first = next_number if absolute else 1
        out.append(Season(number, tuple(range(first, first + count))))
        next_number += count
    rng.shuffle(out)  # Trakt's order is not relied on
    return out


@pytest.mark.parametrize("seed", range(300))
def test_walking_from_any_start_gives_increasing_distinct_existing_episodes(seed):
    rng = random.Random(seed)
    layout = random_layout(rng)
    existing = {(s.number, n) for s in layout for n in s.episodes}
    start_season, start_episode = rng.choice(sorted(existing)) if existing else (1, 1)
    count = rng.randint(1, 80)
    spec = show(start_season, start_episode, episodes=rng.choice([count, None]))
    targets = placed(spec, layout, range(1, count + 1))
    got = [(t.season, t.number) for t in targets if t is not None]
    # Only a tail is missing (past the show's end), never a hole in the middle.
    assert targets[: len(got)] == [t for t in targets if t is not None]
    assert all(pair in existing for pair in got)
    assert got == sorted(set(got)) and len(got) == len(set(got))
    assert got[0] == (start_season, start_episode)
    assert all(s == 0 for s, _ in got) if start_season == 0 else all(s != 0 for s, _ in got)
    # And it is exactly the show's sequence from the start on, with nothing skipped.
    sequence = season_sequence(layout, special=start_season == 0)
    at = sequence.index((start_season, start_episode))
    assert got == sequence[at : at + len(got)] and len(got) == min(count, len(sequence) - at)


@pytest.mark.parametrize("seed", range(100))
def test_a_normalised_start_always_exists_and_places_the_first_episode_there(seed):
    rng = random.Random(1000 + seed)
    layout = random_layout(rng)
    season, episode = rng.randint(0, 7), rng.randint(1, 60)
    start = normalised_start(layout, season, episode, spill=1)
    if start is None:
        return
    assert start in {(s.number, n) for s in layout for n in s.episodes}
    later = sorted(s.number for s in layout if s.number > season and s.episodes)
    assert start[0] == season or (season != 0 and start[0] == later[0])  # itself or the next one
    assert place_episode(spec=show(*start), seasons=layout, overrides={}, episode=1) == Target("episode", 7, *start)


def test_an_entry_starting_late_in_a_season_runs_on_into_the_next_one():
    # A split cour at the end of a season (One Piece-like absolute numbers and per-season ones).
    layout = seasons(s1=range(1, 26), s2=range(1, 13))
    assert [(t.season, t.number) for t in placed(show(1, 20), layout, range(1, 10))] == [
        (1, 20), (1, 21), (1, 22), (1, 23), (1, 24), (1, 25), (2, 1), (2, 2), (2, 3)]
    absolute = seasons(s1=range(1, 62), s2=range(62, 78), s3=range(78, 92))
    got = placed(show(2, 70, episodes=12), absolute, range(1, 14))
    assert [(t.season, t.number) for t in got[:12]] == [(2, n) for n in range(70, 78)] + [(3, n) for n in range(78, 82)]
    assert got[12] is None  # past the entry's episode count


def test_episodes_past_the_end_of_the_show_are_not_placed_at_all():
    layout = seasons(s0=range(1, 4), s1=range(1, 13), s2=range(1, 6))
    assert placed(show(2, 3), layout, [3, 4, 5]) == [Target("episode", 7, 2, 5), None, None]


def test_specials_never_overflow_and_overrides_win_even_past_the_end():
    layout = seasons(s0=range(1, 4), s1=range(1, 13))
    assert placed(show(0, 3), layout, [1, 2]) == [Target("episode", 7, 0, 3), None]
    assert placed(show(0, 3), layout, [2], overrides={2: (1, 5)}) == [Target("episode", 7, 1, 5)]


def test_a_movie_entry_never_becomes_an_episode_whatever_the_overrides():
    movie = MappingSpec("movie", 99, episodes=1)
    assert placed(movie, None, [1, 2], overrides={1: (0, 1)}) == [Target("movie", 99), None]


def test_an_episode_missing_inside_a_season_is_not_counted_around():
    # Trakt lists S1 E1-5 and E7-12 (E6 missing): a start "S1E6" is not E7.
    layout = [Season(1, (1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12)), Season(2, tuple(range(1, 13)))]
    assert locate(layout, 1, 6) is None and normalised_start(layout, 1, 6) is None
    assert normalised_start(layout, 1, 13) == (2, 1)


def test_a_start_counts_on_into_the_next_season_only_when_allowed_to_spill_once():
    layout = seasons(s1=range(1, 13), s2=range(1, 14), s3=range(1, 13))
    assert normalised_start(layout, 1, 13, spill=1) == (2, 1)
    assert normalised_start(layout, 1, 26, spill=1) is None  # would be S3E1: two seasons away
    assert normalised_start(layout, 1, 26) == (3, 1)  # a whole series may walk


def test_an_episode_zero_in_a_regular_season_is_not_walked_over():
    layout = [Season(1, tuple(range(1, 4))), Season(2, (0, 1, 2, 3))]
    assert [(t.season, t.number) for t in placed(show(1, 1), layout, range(1, 7))] == [
        (1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (2, 3)]


def test_an_unsorted_season_list_is_walked_in_episode_order():
    layout = [Season(2, (3, 1, 2)), Season(1, (2, 1))]
    assert [(t.season, t.number) for t in placed(show(1, 1), layout, range(1, 6))] == [
        (1, 1), (1, 2), (2, 1), (2, 2), (2, 3)]
