"""Episode placement: (mapping, Trakt seasons, overrides, AniList episode) -> Trakt target.

Pure: no database, no network. The rule (see docs/mapping-decisions.md): AniList episode n of
an entry is the (n-1)-th regular episode after the mapping's start, walking the show's regular
seasons in order. Season 0 (specials) never overflows into season 1, and a regular season
never walks into season 0. Per-episode overrides win over everything; explicit ranges (stored
for entries whose data spans several seasons, e.g. specials followed by a season) come next.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol


class SeasonLike(Protocol):
    """`syncer.clients.trakt.Season`: a season number and its episode numbers, in order."""

    number: int
    episodes: Sequence[int]


@dataclass(frozen=True)
class Target:
    kind: str  # "episode" | "movie"
    trakt_id: int
    season: int | None = None
    number: int | None = None


@dataclass(frozen=True)
class EpisodeRange:
    """AniList episodes `first..last` (last None: open-ended) are `season` episodes from
    `first_episode` on, one for one."""

    first: int
    last: int | None
    season: int
    first_episode: int

    def covers(self, episode: int) -> bool:
        return episode >= self.first and (self.last is None or episode <= self.last)


@dataclass(frozen=True)
class MappingSpec:
    kind: str  # "show" | "movie"
    trakt_id: int
    start_season: int = 1
    start_episode: int = 1
    # The entry's AniList episode count (None: unknown, still airing). No episode past it
    # exists; for a movie the last one completes it (a two-part OVA filed as one movie).
    episodes: int | None = None
    ranges: tuple[EpisodeRange, ...] = field(default_factory=tuple)
    # Shown beside every play the plan posts for the entry (a start the air dates placed or
    # corrected): placement ignores it.
    note: str = field(default="", compare=False)


def place_episode(
    *,
    spec: MappingSpec,
    seasons: Sequence[SeasonLike] | None,
    overrides: dict[int, tuple[int, int]],
    episode: int,
) -> Target | None:
    """The Trakt target of AniList `episode`, or None when it does not exist on Trakt."""
    if episode < 1 or (spec.episodes and episode > spec.episodes):
        return None
    if spec.kind == "movie":
        # One play, when the entry is complete: never one per AniList episode.
        return Target("movie", spec.trakt_id) if episode == (spec.episodes or 1) else None
    if episode in overrides:
        season, number = overrides[episode]
        return Target("episode", spec.trakt_id, season, number)
    if spec.ranges:
        return _place_in_ranges(spec, seasons, episode)
    position = locate(seasons, spec.start_season, spec.start_episode)
    if seasons is None:
        return Target("episode", spec.trakt_id, spec.start_season, spec.start_episode + episode - 1)
    if position is None:
        return None
    sequence = season_sequence(seasons, special=spec.start_season == 0)
    index = position + episode - 1
    if index >= len(sequence):
        return None
    season, number = sequence[index]
    return Target("episode", spec.trakt_id, season, number)


def _place_in_ranges(spec: MappingSpec, seasons, episode: int) -> Target | None:
    for rng in spec.ranges:
        if rng.covers(episode):
            number = rng.first_episode + episode - rng.first
            if seasons is not None and (rng.season, number) not in set(
                season_sequence(seasons, special=rng.season == 0)
            ):
                return None
            return Target("episode", spec.trakt_id, rng.season, number)
    return None


def season_sequence(seasons: Iterable[SeasonLike], *, special: bool) -> list[tuple[int, int]]:
    """Season 0's episodes, or every regular season's episodes in season order.

    Episode numbers are sorted and de-duplicated per season, and an "episode 0" (TMDB files a
    prologue that way now and then) is left out: AniList counts from 1, so walking over it
    would put every later episode one behind."""
    chosen = sorted(
        (s for s in seasons if (s.number == 0) == special and s.number >= 0),
        key=lambda s: s.number,
    )
    return [(s.number, n) for s in chosen for n in sorted(set(s.episodes)) if n >= 1]


def locate(
    seasons: Sequence[SeasonLike] | None, season: int, episode: int, *, spill: int | None = None
) -> int | None:
    """Index of (season, episode) in its walking sequence, or None when it is not on Trakt.

    A start past the end of a season that numbers its episodes from 1 counts on into the next
    seasons ("S1E13" where Trakt's S1 has 12 episodes is S2E1): TMDB-based sources give
    offsets inside a season that Trakt may have split in two. `spill` caps how many following
    seasons it may count into (None: any). A season numbered some other way (One Piece's
    absolute numbers), or an episode missing inside a season, only matches exactly.
    """
    if seasons is None:
        return None
    sequence = season_sequence(seasons, special=season == 0)
    try:
        return sequence.index((season, episode))
    except ValueError:
        pass
    numbers = [n for s, n in sequence if s == season]
    if not numbers or numbers[0] != 1 or episode <= numbers[-1]:
        return None
    last = sequence.index((season, numbers[-1]))
    index = last + episode - numbers[-1]
    if index >= len(sequence):
        return None
    if spill is not None and len({s for s, _ in sequence[last + 1 : index + 1]}) > spill:
        return None
    return index


def normalised_start(
    seasons: Sequence[SeasonLike], season: int, episode: int, *, spill: int | None = None
) -> tuple[int, int] | None:
    """The start as Trakt numbers it (S1E13 -> S2E1 when S1 has 12), or None if off the show."""
    index = locate(seasons, season, episode, spill=spill)
    if index is None:
        return None
    return season_sequence(seasons, special=season == 0)[index]


def covered_episodes(spec: MappingSpec, seasons: Sequence[SeasonLike] | None) -> set[tuple[int, int]]:
    """The Trakt (season, episode)s the entry's episodes 1..N land on, overrides aside. An entry
    whose count is unknown (still airing) claims only its first episode."""
    if spec.kind != "show":
        return set()
    count = spec.episodes or 1
    index = None if spec.ranges else locate(seasons, spec.start_season, spec.start_episode)
    if index is None:
        targets = (place_episode(spec=spec, seasons=seasons, overrides={}, episode=n) for n in range(1, count + 1))
        return {(t.season, t.number) for t in targets if t is not None}
    sequence = season_sequence(seasons, special=spec.start_season == 0)
    return set(sequence[index : index + count])


def claimed_episodes(spec: MappingSpec, seasons: Sequence[SeasonLike] | None,
                     overrides: dict[int, tuple[int, int]]) -> set[tuple[int, int]]:
    """`covered_episodes` with the entry's per-episode overrides applied: an overridden episode
    claims its override instead of the Trakt episode the walk gives it."""
    claimed = covered_episodes(spec, seasons)
    if spec.kind != "show" or not overrides:
        return claimed
    count = spec.episodes or 1
    mine = {n: target for n, target in overrides.items() if n <= count}
    for n in mine:
        walked = place_episode(spec=spec, seasons=seasons, overrides={}, episode=n)
        if walked is not None:
            claimed.discard((walked.season, walked.number))
    return claimed | set(mine.values())


def disputed_episodes(
    first: tuple[MappingSpec, dict[int, tuple[int, int]]],
    second: tuple[MappingSpec, dict[int, tuple[int, int]]],
    seasons: Sequence[SeasonLike] | None,
) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """The Trakt episodes two entries of one show both claim, as (held for the first, held for
    the second). Posting one for both would put two plays on Trakt, so each is held for both,
    unless a person settled it: a shared episode that only one entry's override names is that
    entry's, and is held for the other one only."""
    (spec_a, over_a), (spec_b, over_b) = first, second
    if spec_a.kind != "show" or spec_b.kind != "show" or spec_a.trakt_id != spec_b.trakt_id:
        return set(), set()
    shared = claimed_episodes(spec_a, seasons, over_a) & claimed_episodes(spec_b, seasons, over_b)
    named_a, named_b = set(over_a.values()), set(over_b.values())
    return shared - (named_a - named_b), shared - (named_b - named_a)
