"""Air dates: does an entry's run of Trakt episodes air when the entry's episodes aired?

Pure: no database, no network. Dates are day numbers (`date.toordinal()`), AniList's from
`airingSchedule` (episode -> when it aired), Trakt's from `first_aired` on the season list.

The rule (docs/mapping-decisions.md, "Air dates"):
- A run is the entry's episodes 1..N laid on Trakt's regular episodes from one start, walking
  seasons like `placement.place_episode`. It is *compared* on every entry episode whose date
  is known on both sides; an episode *agrees* when the two dates are at most one day apart
  (JST broadcast vs a US date on TMDB is the same airing).
- A run agrees when at least MIN_COMPARED episodes were compared and at most one in ten of
  them disagrees; it disagrees when as many were compared and it does not agree; otherwise
  the dates say nothing and the datasets are followed as before.
- A start is taken from dates only when exactly one start of the whole show agrees: a season
  dropped on one day, a recap that shifts a run, or two equally good runs are never guessed.
- A start the dates gave is checked again on a newer season list (`recheck_start`): it stands
  only while it is still the one run that agrees.
Season 0 is never checked: specials have no reliable air dates and follow the datasets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from mappings.placement import SeasonLike, locate, season_sequence

MIN_COMPARED = 3
SAME_AIRING_DAYS = 1


def day_of(value: str | datetime | date | int | None) -> int | None:
    """A day number from an ISO timestamp/date (UTC), a date, or a Unix time in seconds."""
    if value is None or value == "":
        return None
    if isinstance(value, int):
        return datetime.fromtimestamp(value, tz=UTC).date().toordinal()
    if isinstance(value, datetime):
        return value.astimezone(UTC).date().toordinal() if value.tzinfo else value.date().toordinal()
    if isinstance(value, date):
        return value.toordinal()
    try:
        text = str(value).replace("Z", "+00:00")
        return day_of(datetime.fromisoformat(text) if "T" in text else date.fromisoformat(text))
    except ValueError:
        return None


def aired_sequence(seasons: Sequence[SeasonLike]) -> list[tuple[int, int, int | None]]:
    """Trakt's regular episodes in walking order, as (season, episode, day or None)."""
    days = {(s.number, n): d for s in seasons for n, d in getattr(s, "aired", ())}
    return [(s, n, days.get((s, n))) for s, n in season_sequence(seasons, special=False)]


@dataclass(frozen=True)
class RunScore:
    compared: int
    agreed: int

    @property
    def agrees(self) -> bool:
        return self.compared >= MIN_COMPARED and self.compared - self.agreed <= self.compared // 10

    @property
    def disagrees(self) -> bool:
        return self.compared >= MIN_COMPARED and not self.agrees


def score_run(sequence: Sequence[tuple[int, int, int | None]], start: int, schedule: Mapping[int, int],
              episodes: int | None) -> RunScore:
    """How the entry's dated episodes compare with the Trakt episodes they land on from `start`."""
    compared = agreed = 0
    for episode, day in schedule.items():
        if episode < 1 or (episodes and episode > episodes):
            continue
        index = start + episode - 1
        if index >= len(sequence) or sequence[index][2] is None:
            continue
        compared += 1
        agreed += abs(sequence[index][2] - day) <= SAME_AIRING_DAYS
    return RunScore(compared, agreed)


def agreeing_starts(sequence: Sequence[tuple[int, int, int | None]], schedule: Mapping[int, int],
                    episodes: int | None) -> list[int]:
    """Every start index whose run agrees. A run that agrees puts at least one of the entry's
    dated episodes on a Trakt episode of the same airing, so only starts that do are scored;
    every dated episode is an anchor, not only the first: a run may agree apart from one odd
    date, and that date may be episode 1's (an advance premiere a week early). A long show (One
    Piece) costs a pass over its dates, not one per start."""
    dated = [e for e in schedule if e >= 1 and not (episodes and e > episodes)]
    by_day: dict[int, list[int]] = {}
    for index, (_, _, trakt_day) in enumerate(sequence):
        if trakt_day is not None:
            by_day.setdefault(trakt_day, []).append(index)
    starts = {index - (episode - 1)
              for episode in dated
              for day in range(schedule[episode] - SAME_AIRING_DAYS, schedule[episode] + SAME_AIRING_DAYS + 1)
              for index in by_day.get(day, ())}
    return [start for start in sorted(starts)
            if start >= 0 and score_run(sequence, start, schedule, episodes).agrees]


@dataclass(frozen=True)
class Verdict:
    """What the dates say about a start. `outcome`: "unknown" (too few dates: follow the
    dataset), "confirmed", "corrected" (`start` is the one the dates agree with), "refuted"
    (`reason` says why nothing is taken)."""

    outcome: str
    start: tuple[int, int] | None = None
    reason: str = ""


def _where(sequence, index: int) -> str:
    season, number, _ = sequence[index]
    return f"S{season}E{number}"


def _dates_line(sequence, start: int, schedule: Mapping[int, int], episodes: int | None) -> str:
    """The first dated episode that disagrees, in words a person can check on both sites."""
    for episode in sorted(schedule):
        if episodes and episode > episodes:
            break
        index = start + episode - 1
        if 0 <= index < len(sequence) and sequence[index][2] is not None:
            trakt_day = sequence[index][2]
            if abs(trakt_day - schedule[episode]) > SAME_AIRING_DAYS:
                return (f"episode {episode} aired {date.fromordinal(schedule[episode])} on AniList, "
                        f"Trakt {_where(sequence, index)} on {date.fromordinal(trakt_day)}")
    return ""


def verify_start(seasons: Sequence[SeasonLike], start: tuple[int, int], schedule: Mapping[int, int],
                 episodes: int | None) -> Verdict:
    """Check a dataset's start (as Trakt numbers it) against the air dates."""
    if start[0] == 0 or not schedule:
        return Verdict("unknown")
    sequence = aired_sequence(seasons)
    index = locate(seasons, *start)
    if index is None:
        return Verdict("unknown")
    score = score_run(sequence, index, schedule, episodes)
    if score.compared < MIN_COMPARED:
        return Verdict("unknown", start)
    found = agreeing_starts(sequence, schedule, episodes)
    if score.agrees:
        # A season dropped on one day fits many runs: the dates then confirm nothing.
        if not set(found) <= {index}:
            return Verdict("unknown", start)
        # The one date that may differ in a run that agrees is named (the mapping's `source`).
        return Verdict("confirmed", start, _dates_line(sequence, index, schedule, episodes))
    why = _dates_line(sequence, index, schedule, episodes)
    if len(found) == 1:
        season, number, _ = sequence[found[0]]
        return Verdict("corrected", (season, number), why)
    if not found:
        return Verdict("refuted", None, f"air dates disagree with S{start[0]}E{start[1]} ({why}) and no other "
                                        "run of Trakt episodes matches them: map it manually")
    runs = ", ".join(_where(sequence, i) for i in found[:4])
    return Verdict("refuted", None, f"air dates disagree with S{start[0]}E{start[1]} ({why}) and several runs "
                                    f"match them equally ({runs}): map it manually")


def place_by_dates(seasons: Sequence[SeasonLike], schedule: Mapping[int, int],
                   episodes: int | None) -> tuple[tuple[int, int] | None, str]:
    """The one start whose run agrees with the entry's dates and the date that differs in it
    ("" when none does), or None and why not."""
    sequence = aired_sequence(seasons)
    found = agreeing_starts(sequence, schedule, episodes)
    if len(found) == 1:
        season, number, _ = sequence[found[0]]
        return (season, number), _dates_line(sequence, found[0], schedule, episodes)
    if not found:
        return None, "no run of Trakt episodes aired when its episodes did"
    runs = ", ".join(_where(sequence, i) for i in found[:4])
    return None, f"its air dates match several runs of Trakt episodes equally ({runs})"


def recheck_start(seasons: Sequence[SeasonLike], start: tuple[int, int], schedule: Mapping[int, int],
                  episodes: int | None) -> Verdict:
    """A start the dates gave (no dataset backs it), checked again once the show's season list
    was read anew (new episodes aired, TMDB re-dated or re-filed some). "unknown": fewer than
    MIN_COMPARED episodes compared from it, the dates say nothing new; "confirmed": still the
    only run that agrees; "corrected": another single run agrees instead; "refuted": no run or
    several agree now, and `reason` says which."""
    if not schedule or start[0] == 0:
        return Verdict("unknown")
    sequence = aired_sequence(seasons)
    index = locate(seasons, *start)
    if index is not None and score_run(sequence, index, schedule, episodes).compared < MIN_COMPARED:
        return Verdict("unknown", start)
    found = agreeing_starts(sequence, schedule, episodes)
    if found and found == [index]:
        return Verdict("confirmed", start)
    if len(found) == 1:
        season, number, _ = sequence[found[0]]
        return Verdict("corrected", (season, number), f"only S{season}E{number} aired when its episodes did now")
    if not found:
        why = _dates_line(sequence, index, schedule, episodes) if index is not None else ""
        return Verdict("refuted", None, "no run of Trakt episodes aired when its episodes did any more"
                       + (f" ({why})" if why else ""))
    runs = ", ".join(_where(sequence, i) for i in found[:4])
    return Verdict("refuted", None, f"its air dates now match several runs of Trakt episodes equally ({runs})")
