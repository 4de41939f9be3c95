"""Resolve an AniList entry to a Trakt show (+ start season/episode) or a Trakt movie.

No database here: the caller (`mappings.services`) loads the source rows into `SourceFacts` and
saves the `Resolution`. Trakt and TMDB are reached only through injected collaborators with the
`syncer.clients` interfaces, so the decisions can be tested with small fakes.

Two questions, each with its own order of sources (docs/mapping-decisions.md says why):
1. Which Trakt show or movie: Otaku `trakt_id` (confirmed on Trakt, and only if Trakt's TMDB id
   for it agrees with the TMDB ids the sources give; with a TMDB key, by its season list alone,
   whose seasons' TMDB ids TMDB lists for that show: one Trakt read) -> a TMDB id (AniBridge, Fribb, Otaku) via
   Trakt search -> TMDB external ids, then IMDb and TVDB via Trakt search.
2. Where it starts: AniBridge ranges -> Fribb TMDB season + offset -> Otaku TVDB season + range
   offset (only where Trakt's seasons agree) -> a positive "whole series" signal. The start must
   exist on Trakt; nothing is guessed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mappings.airdates import Verdict, day_of, place_by_dates, recheck_start, verify_start
from mappings.placement import EpisodeRange, MappingSpec, locate, normalised_start, place_episode
from mappings.provenance import (
    AIR_DATES,
    CONFIRMED,
    CORRECTED,
    HELD,
    ORIGINAL_APP,
    PLACED,
    PLACERS,
    RELATION,
    TITLE_SEARCH,
    TMDB,
    dates_words,
    found_words,
    words,
)

MOVIE_FORMAT = "MOVIE"
logger = logging.getLogger("mappings.resolver")


@dataclass(frozen=True)
class SourceFacts:
    """What the imported sources know about one AniList entry (model rows or look-alikes)."""

    otaku: Any = None
    fribb: Any = None
    anibridge: tuple = ()


@dataclass
class Resolution:
    kind: str
    trakt_id: int | None = None
    start_season: int | None = None
    start_episode: int | None = None
    ranges: list[EpisodeRange] = field(default_factory=list)
    tmdb_id: int | None = None
    tvdb_id: int | None = None
    imdb_id: str | None = None
    trakt_title: str = ""
    trakt_slug: str = ""
    source: str = ""  # the codes below in words, for people (`mappings.provenance`)
    unmapped_reason: str = ""
    # The Trakt id kept visible while the entry is unmapped (an adopted mapping with no start).
    held_trakt_id: int | None = None
    found_by: str = ""
    placed_by: str = ""
    air_dates: str = ""
    provenance: dict = field(default_factory=dict)

    @property
    def is_mapped(self) -> bool:
        return self.trakt_id is not None and not self.unmapped_reason


@dataclass(frozen=True)
class Pinned:
    """A Trakt id that is already decided (the original app's saved mapping, which never stored a
    season): only the start is left to find, from the same sources as for a new entry."""

    kind: str | None  # "show" | "movie"; None: the original row does not say which namespace
    trakt_id: int
    by: str = ORIGINAL_APP  # where the id came from (`mappings.provenance`)
    manual: bool = False


@dataclass(frozen=True)
class Lookup:
    """One way to find the Trakt object: a Trakt id to confirm or an external id to search."""

    id_type: str  # "trakt", "tmdb", "imdb", "tvdb"
    value: int | str
    by: str  # the source that gives the id (`mappings.provenance`)
    tmdb: int | None = None  # `by` TMDB: the TMDB id whose external ids gave it

    @property
    def params(self) -> dict:
        return {"via": [self.id_type, self.value], **({"tmdb": self.tmdb} if self.tmdb is not None else {})}

    @property
    def source(self) -> str:
        return words(self.by) if self.by != TMDB else f"tmdb {self.tmdb} external ids"


@dataclass(frozen=True)
class RelatedShow:
    """An AniList PREQUEL/SEQUEL/PARENT of the entry and the Trakt show it is mapped to (None:
    not mapped to a show)."""

    anilist_id: int
    relation: str
    trakt_id: int | None
    trakt_title: str = ""
    trakt_slug: str = ""
    title: str = ""  # a title search's show: the title searched for


# Formats whose episodes air week by week on a show's regular seasons: the only ones the dates
# may place without a dataset (a movie, an OVA or a special follows the datasets).
DATED_FORMATS = ("TV", "TV_SHORT", "ONA")
NO_START = "no source gives the season and episode of this entry on Trakt"
TITLE_RESULTS = 3  # shows of a title search whose seasons are read (one Trakt request each)


@dataclass(frozen=True)
class Found:
    trakt_id: int
    title: str
    slug: str
    ids: dict
    by: str  # what found it, with `params` (`mappings.provenance`)
    params: dict = field(default_factory=dict)

    @property
    def source(self) -> str:
        return found_words(self.by, self.params)


# --- pure decisions ---------------------------------------------------------------------------


def _ints(text: str | None) -> list[int]:
    return [int(p) for p in str(text or "").split(",") if p.strip().isdigit()]


def _strs(text: str | None) -> list[str]:
    return [p.strip() for p in str(text or "").split(",") if p.strip()]


def _unique(items):
    seen, out = set(), []
    for item in items:
        key = (item.id_type, str(item.value))
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def anibridge_ranges(facts: SourceFacts, target_kind: str) -> list:
    return sorted(
        (r for r in facts.anibridge if r.target_kind == target_kind),
        key=lambda r: (r.source_start, r.season or 0),
    )


def entry_kind(format_: str | None, facts: SourceFacts) -> str:
    """Movie or show. AniList MOVIE is always a Trakt movie (never a season-0 special); an
    OVA/special counts as a movie only where the sources file it as one and not as a show."""
    if (format_ or "").upper() == MOVIE_FORMAT:
        return "movie"
    if anibridge_ranges(facts, "tmdb_show"):
        return "show"
    if anibridge_ranges(facts, "tmdb_movie") or anibridge_ranges(facts, "imdb_movie"):
        return "movie"
    otaku, fribb = facts.otaku, facts.fribb
    if otaku is not None and otaku.global_media_type == "movie":
        return "movie"
    if fribb is not None and fribb.tmdb_movies and not fribb.tmdb_tv:
        return "movie"
    return "show"


def tmdb_ids(kind: str, facts: SourceFacts) -> list[tuple[int, str]]:
    """TMDB tv (show) or movie ids the sources give, best source first."""
    found: list[tuple[int, str]] = []
    target = "tmdb_show" if kind == "show" else "tmdb_movie"
    found += [(int(r.target_id), "anibridge") for r in anibridge_ranges(facts, target) if r.target_id.isdigit()]
    fribb, otaku = facts.fribb, facts.otaku
    if fribb is not None:
        found += [(i, "fribb") for i in ([fribb.tmdb_tv] if kind == "show" and fribb.tmdb_tv else [])]
        found += [(i, "fribb") for i in (_ints(fribb.tmdb_movies) if kind == "movie" else [])]
    if otaku is not None and _otaku_namespace(otaku) == kind:
        found += [(i, "otaku") for i in _ints(otaku.tmdb_ids)]
    seen, out = set(), []
    for tmdb_id, source in found:
        if tmdb_id not in seen:
            seen.add(tmdb_id)
            out.append((tmdb_id, source))
    return out


def _otaku_namespace(otaku) -> str:
    """Otaku's tmdb/trakt ids are movie ids for movies and tv ids for shows."""
    if otaku.global_media_type in ("show", "movie"):
        return otaku.global_media_type
    if otaku.media_type.upper() == MOVIE_FORMAT or otaku.tvdb_marker.lower() == "movie":
        return "movie"
    return "show"


def lookups(kind: str, facts: SourceFacts) -> list[Lookup]:
    """Ways to find the Trakt object, in the order they are tried (TMDB expansion aside)."""
    out: list[Lookup] = []
    otaku, fribb = facts.otaku, facts.fribb
    if otaku is not None and otaku.trakt_id and otaku.global_media_type == kind:
        out.append(Lookup("trakt", otaku.trakt_id, "otaku"))
    out += [Lookup("tmdb", tmdb_id, source) for tmdb_id, source in tmdb_ids(kind, facts)]
    imdb: list[tuple[str, str]] = []
    tvdb: list[tuple[int, str]] = []
    if kind == "movie":
        imdb += [(r.target_id, "anibridge") for r in anibridge_ranges(facts, "imdb_movie")]
    else:
        tvdb += [(int(r.target_id), "anibridge") for r in anibridge_ranges(facts, "tvdb_show") if r.target_id.isdigit()]
    if fribb is not None:
        imdb += [(i, "fribb") for i in _strs(fribb.imdb_ids)]
        tvdb += [(fribb.tvdb_id, "fribb")] if fribb.tvdb_id and kind == "show" else []
    if otaku is not None and _otaku_namespace(otaku) == kind:
        imdb += [(otaku.imdb_id, "otaku")] if otaku.imdb_id else []
        tvdb += [(otaku.tvdb_id, "otaku")] if otaku.tvdb_id and kind == "show" else []
    out += [Lookup("imdb", value, source) for value, source in imdb]
    out += [Lookup("tvdb", value, source) for value, source in tvdb]
    return _unique(out)


@dataclass(frozen=True)
class StartCandidate:
    season: int
    episode: int
    source: str  # in words, e.g. "otaku (TVDB season)"
    tvdb_based: bool = False
    ranges: tuple[EpisodeRange, ...] = ()
    last_episode: int | None = None  # where the source says the entry ends in that season
    walks: bool = False  # the source says the entry runs across seasons (a whole series)
    explicit: bool = False  # some AniList episodes have no target: keep the ranges, never walk
    by: str = ""  # the source as a code (`mappings.provenance.PLACERS`)


def start_candidates(facts: SourceFacts, show_tmdb: int | None, format_: str | None = None,
                     episodes: int | None = None) -> list[StartCandidate]:
    """Where the entry starts, best source first. TMDB-keyed data only counts for the TMDB show
    the Trakt show is (a Bleach TYBW range on TMDB 30984 says nothing about another show).

    A TV season placed in specials is what TMDB shows before a new season is filed (AniBridge's
    Frieren S2 and JJK Culling Game edits point at season 0): for a TV entry a regular-season
    answer from a later source is tried first."""
    out = _start_candidates(facts, show_tmdb, episodes)
    if (format_ or "").upper() in ("TV", "TV_SHORT"):
        # Stable sort: keeps the source order otherwise. Ranges that reach a regular season
        # (Bakemonogatari: web specials first, then S1) are not "placed in specials".
        out.sort(key=lambda c: all(r.season == 0 for r in c.ranges) if c.ranges else c.season == 0)
    return out


def odd_date(line: str) -> str:
    """The one date a run that agrees may differ on (an advance premiere), as the end of the
    mapping's `source`, so a person can check it on both sites; "" when every date agrees.
    Worded without "air dates": the dates only confirmed a source's start."""
    return f"; one date differs: {line}" if line else ""


def _uncovered(ranges: list, episodes: int | None) -> bool:
    """Whether some of the entry's AniList episodes fall outside the ranges (a `null` range,
    a gap, or more AniList episodes than the ranges map): those must stay unplaced."""
    covered = 0
    for r in sorted(ranges, key=lambda r: r.source_start):
        if r.source_start > covered + 1:
            return True
        if r.source_end is None:
            return False
        covered = max(covered, r.source_end)
    return bool(episodes and episodes > covered)


def _start_candidates(facts: SourceFacts, show_tmdb: int | None, episodes: int | None = None) -> list[StartCandidate]:
    out: list[StartCandidate] = []
    ranges = [
        r for r in anibridge_ranges(facts, "tmdb_show")
        if r.target_start is not None and r.season is not None
        and (show_tmdb is None or r.target_id == str(show_tmdb))
    ]
    if ranges and all(r.ratio == 1 for r in ranges):
        first = ranges[0]
        episode_ranges = tuple(
            EpisodeRange(r.source_start, r.source_end, r.season, r.target_start) for r in ranges
        )
        start = first.target_start - (first.source_start - 1)
        explicit = _uncovered(ranges, episodes)
        if len(ranges) == 1 and start >= 1 and not explicit:
            out.append(StartCandidate(first.season, start, "anibridge", by="anibridge"))
        else:
            out.append(StartCandidate(first.season, first.target_start, "anibridge", ranges=episode_ranges,
                                      walks=True, explicit=explicit, by="anibridge"))
    fribb = facts.fribb
    if fribb is not None and fribb.tmdb_tv and (show_tmdb is None or fribb.tmdb_tv == show_tmdb):
        if fribb.tmdb_season is not None:
            out.append(StartCandidate(fribb.tmdb_season, 1 + (fribb.tmdb_offset or 0), "fribb", by="fribb"))
        elif fribb.has_season_data and fribb.tvdb_season is None and fribb.tvdb_id:
            # The current format drops TVDB's 'a' (absolute): a whole-series entry.
            out.append(StartCandidate(1, 1, "fribb (whole series)", walks=True, by="fribb"))
    out += _otaku_start(facts.otaku)
    return out


def _otaku_start(otaku) -> list[StartCandidate]:
    if otaku is None or otaku.global_start is None or otaku.anime_start is None:
        return []
    offset = otaku.global_start - otaku.anime_start
    if otaku.tvdb_absolute:
        return [StartCandidate(1, 1 + offset, "otaku (absolute)", tvdb_based=True, walks=True, by="otaku")]
    if otaku.tvdb_season and otaku.tvdb_season > 0:  # TVDB's season 0 numbers specials its own way
        return [StartCandidate(otaku.tvdb_season, 1 + offset, "otaku (TVDB season)", tvdb_based=True,
                               last_episode=otaku.global_end, by="otaku")]
    return []


def check_start(candidate: StartCandidate, seasons: Sequence | None) -> tuple[tuple[int, int] | None, str]:
    """The start as Trakt numbers it, or None and why it is not accepted."""
    where = f"S{candidate.season}E{candidate.episode}"
    if seasons is None:
        if candidate.tvdb_based:
            return None, f"{candidate.source}: {where} is TVDB numbering and Trakt's seasons are unknown"
        return (candidate.season, candidate.episode), ""
    if candidate.ranges:
        spec = MappingSpec("show", 0, ranges=candidate.ranges)
        if place_episode(spec=spec, seasons=seasons, overrides={}, episode=candidate.ranges[0].first) is None:
            return None, f"{candidate.source}: {where} does not exist on Trakt"
        return (candidate.season, candidate.episode), ""
    if candidate.tvdb_based and not candidate.walks:  # a TVDB season, not absolute numbering
        # TVDB and Trakt (TMDB) seasons often differ: accept only what exists as is, the
        # whole run included, never a walked-into neighbour season.
        numbers = {n for s in seasons if s.number == candidate.season for n in s.episodes}
        last = candidate.last_episode or candidate.episode
        if candidate.episode not in numbers or last not in numbers:
            return None, f"{candidate.source}: {where} does not agree with Trakt's seasons"
        return (candidate.season, candidate.episode), ""
    # A season Trakt split in two moves a start into the next season, never further: a whole
    # series (absolute offsets) is the only start that may count across several seasons.
    start = normalised_start(seasons, candidate.season, candidate.episode, spill=None if candidate.walks else 1)
    if start is None:
        known = sorted(s.number for s in seasons)
        return None, f"{candidate.source}: {where} does not exist on Trakt (seasons {known})"
    return start, ""


def overflow(candidate: StartCandidate, start: tuple[int, int], seasons, episodes: int | None) -> str:
    """Why a season's entry would spill into the next Trakt season, or "" if it stays inside.

    Only a whole-series entry walks across seasons; a source that names one season and yet
    needs the next one to fit the entry's episodes (Fribb's S1 for Bakemonogatari's 15
    episodes, 12 on Trakt) is placing it wrongly."""
    if candidate.walks or candidate.ranges or seasons is None or not episodes or start[0] == 0:
        return ""
    spec = MappingSpec("show", 0, start[0], start[1])
    last = place_episode(spec=spec, seasons=seasons, overrides={}, episode=episodes)
    if last is None or last.season == start[0]:
        return ""  # inside the season, or past the show's end (Trakt has not listed them yet)
    return (f"{candidate.source}: {episodes} episodes from S{start[0]}E{start[1]} run into Trakt "
            f"season {last.season}")


def collapse_ranges(candidate: StartCandidate, seasons: Sequence | None) -> tuple[EpisodeRange, ...]:
    """Keep explicit ranges only where walking from the first one would place an episode
    differently (One Piece's per-season ranges walk the same way and need none)."""
    if not candidate.ranges or seasons is None or candidate.explicit:
        return candidate.ranges
    first = candidate.ranges[0]
    start_index = locate(seasons, first.season, first.first_episode)
    if first.first != 1 or start_index is None:
        return candidate.ranges
    walking = MappingSpec("show", 0, first.season, first.first_episode)
    explicit = MappingSpec("show", 0, ranges=candidate.ranges)
    for rng in candidate.ranges:
        probes = [rng.first] + ([rng.last] if rng.last is not None else [])
        for ep in probes:
            if place_episode(spec=walking, seasons=seasons, overrides={}, episode=ep) != place_episode(
                spec=explicit, seasons=seasons, overrides={}, episode=ep
            ):
                return candidate.ranges
    return ()


def _found(res: Resolution, found: Found) -> Resolution:
    """`res` on the Trakt object `found`: what found it, in codes and words. A movie is never
    placed: the dataset that found it is the one it follows."""
    res.source, res.found_by, res.provenance = found.source, found.by, dict(found.params)
    res.placed_by = found.by if res.kind == "movie" and found.by in PLACERS else ""
    return res


# --- the resolver (talks to Trakt/TMDB through collaborators) ---------------------------------


class Resolver:
    """`trakt` has `search(*, id_type, external_id, kind)` (a list of `TraktTitle`s), `show(id)`
    and `movie(id)` (a `TraktTitle`), raising `not_found` errors; `tmdb` has `enabled` and
    `external_ids(*, kind, tmdb_id)`; `seasons(trakt_id)` returns the show's seasons (or None
    when they cannot be had); `airdates(anilist_id)` returns {episode: airingAt (Unix s)} of the
    entry's aired episodes (None or {}: unknown), asked only when Trakt dates the show's
    episodes; `related_shows(anilist_id)` the `RelatedShow`s of its mapped prequels, sequels and
    parent."""

    def __init__(self, *, trakt, tmdb=None, seasons: Callable[[int], Sequence | None],
                 not_found: tuple[type[BaseException], ...] = (LookupError,),
                 airdates: Callable[[int], dict | None] | None = None,
                 related_shows: Callable[[int], list[RelatedShow]] | None = None):
        self.trakt = trakt
        self.tmdb = tmdb
        self.seasons = seasons
        self.not_found = not_found
        self.airdates = airdates
        self.related_shows = related_shows
        # What Trakt and TMDB said of each id, for the resolver's life (one run or one batch of
        # entries): sequels share their show's ids, so the show is asked about once, not once
        # an entry. A not-found answer is kept too; an error is not (it is raised each time).
        self._asked: dict[tuple, object] = {}

    def resolve(self, media, facts: SourceFacts, *, pinned: Pinned | None = None) -> Resolution:
        if pinned is not None:
            res = self.resolve_pinned(media, facts, pinned)
            if res is not None:
                return res
        kind = entry_kind(media.format, facts)
        found, tried = self.find(kind, facts)
        if found is None:
            reason = "no source knows this entry" if not tried else (
                "Trakt search found nothing for " + ", ".join(tried)
            )
            relatives = self._relatives(media, kind)
            by_dates, why = self.place_by_relations(media, kind, reason, shows=relatives)
            if by_dates is None and not why and not any(r.relation in ("PREQUEL", "PARENT") for r in relatives):
                by_dates, why = self.place_by_title(media, kind, reason)
            return by_dates or Resolution(kind=kind, unmapped_reason=reason + (f"; air dates: {why}" if why else ""),
                                          **self._ids(kind, facts))
        return self.place_on(media, facts, found, kind)

    def place_on(self, media, facts: SourceFacts, found: Found, kind: str = "show") -> Resolution:
        """The entry on the Trakt object `found`: for a show, where it starts (the datasets,
        checked by the dates; the dates alone where the datasets know the show but no start).
        Asks Trakt nothing beyond `seasons`, so a saved show can be placed again from the cache."""
        res = _found(Resolution(kind=kind, trakt_id=found.trakt_id, trakt_title=found.title, trakt_slug=found.slug,
                                **self._ids(kind, facts, found.ids)), found)
        if kind == "show":
            if not self.place_start(res, facts, found, media):
                # The datasets know the show but not where the entry starts (a new season):
                # the dates may place it there, on that show only.
                by_dates, why = self.place_by_relations(media, kind, NO_START, shows=[RelatedShow(
                    0, "dataset", found.trakt_id, found.title, found.slug)])
                res.unmapped_reason += f"; air dates: {why}" if why else ""
                if by_dates is not None:
                    by_dates.source = f"{found.source}; start {by_dates.source}"
                    by_dates.found_by, by_dates.provenance = found.by, {**found.params, **by_dates.provenance}
                    by_dates.tmdb_id, by_dates.tvdb_id, by_dates.imdb_id = res.tmdb_id, res.tvdb_id, res.imdb_id
                    return by_dates
        return res

    def _relatives(self, media, kind: str) -> list[RelatedShow]:
        if (kind != "show" or (media.format or "").upper() not in DATED_FORMATS or self.airdates is None
                or self.related_shows is None):
            return []
        return self.related_shows(media.id)

    def place_by_title(self, media, kind: str, reason: str) -> tuple[Resolution | None, str]:
        """A first season no dataset knows (no prequel, no parent): Trakt's text search by title
        and year, then the same unique air-date match as for a sequel, over every show found."""
        if kind != "show" or (media.format or "").upper() not in DATED_FORMATS or self.airdates is None:
            return None, ""
        search = getattr(self.trakt, "search_title", None)
        year = getattr(media, "season_year", None) or getattr(getattr(media, "start_date", None), "year", None)
        titles = [t for t in dict.fromkeys((media.title_english, media.title_romaji)) if t]
        if search is None or not year or not titles or not self.airdates(media.id):
            return None, ""
        shows: dict[int, RelatedShow] = {}
        for title in titles:
            try:
                results = search(query=title, kind="show", year=year, limit=TITLE_RESULTS)
            except self.not_found:
                continue
            for r in results:
                shows.setdefault(int(r.trakt_id), RelatedShow(0, f"{title!r} {year}", int(r.trakt_id),
                                                              r.title or "", r.slug or "", title=title))
        if not shows:
            return None, f"Trakt search found no show titled {' / '.join(titles)} ({year})"
        found, why = self.place_by_relations(media, kind, reason, shows=list(shows.values())[:TITLE_RESULTS])
        if found is not None:
            show = shows[found.trakt_id]
            found.found_by, found.provenance = TITLE_SEARCH, {"title": show.title, "year": year}
            found.source = f"{found_words(TITLE_SEARCH, found.provenance)}; start {found.source}"
        return found, why

    def place_by_relations(self, media, kind: str, reason: str,
                           shows: list[RelatedShow] | None = None) -> tuple[Resolution | None, str]:
        """An entry no dataset places, placed on one of `shows` (its mapped prequel, sequel or
        parent; the show a dataset found; a title search's shows) where its dated episodes match
        exactly one run of Trakt episodes, on one show only.
        (None, why) when it stays unmapped; why is "" when the dates had nothing to go on."""
        if kind != "show" or (media.format or "").upper() not in DATED_FORMATS or self.airdates is None:
            return None, ""
        by_show = {s.trakt_id: s for s in shows or () if s.trakt_id is not None}
        if not by_show:
            return None, ""
        schedule = self._schedule(media.id)
        if not schedule:
            return None, ""
        placed, why = [], []
        for trakt_id, show in by_show.items():
            seasons = self.seasons(trakt_id)
            if not seasons:
                continue
            start, problem = place_by_dates(seasons, schedule, media.episodes)
            if start is None:
                why.append(f"Trakt show {trakt_id}: {problem}")
            else:
                placed.append((show, start, problem))
        if len(placed) != 1:
            if len(placed) > 1:
                why.append("its air dates match runs on several Trakt shows ("
                           + ", ".join(str(s.trakt_id) for s, _, _ in placed) + ")")
            logger.info("AniList %s not placed by air dates: %s", media.id, "; ".join(why))
            return None, "; ".join(why)
        show, (season, number), odd = placed[0]
        params = {"relation": show.relation, "anilist_id": show.anilist_id} if show.anilist_id else {}
        res = Resolution(kind="show", trakt_id=show.trakt_id, start_season=season, start_episode=number,
                         trakt_title=show.trakt_title, trakt_slug=show.trakt_slug,
                         source=dates_words((season, number), params) + odd_date(odd),
                         found_by=RELATION, placed_by=AIR_DATES, air_dates=PLACED, provenance=params)
        logger.info("AniList %s placed by air dates on Trakt %s: %s (%s)", media.id, show.trakt_id, res.source, reason)
        return res, ""

    def resolve_pinned(self, media, facts: SourceFacts, pinned: Pinned) -> Resolution | None:
        """Keep the pinned Trakt id and find where the entry starts, never assuming S1E1. None:
        the id is not usable and the entry is resolved like a new one (never for a manual id)."""
        what = f"{words(pinned.by)}'s {'manual ' if pinned.manual else ''}mapping to Trakt {pinned.kind or 'id'} {pinned.trakt_id}"
        lookup = Lookup("trakt", pinned.trakt_id, pinned.by)
        held = {"held_trakt_id": pinned.trakt_id, "source": found_words(pinned.by, lookup.params),
                "found_by": pinned.by, "provenance": lookup.params}
        if pinned.kind not in ("show", "movie"):
            if not pinned.manual:
                return None
            return Resolution(kind="show", unmapped_reason=f"{what} does not say show or movie: map it again", **held)
        if pinned.kind == "show" and (media.format or "").upper() == MOVIE_FORMAT and not pinned.manual:
            return None  # an AniList movie is a Trakt movie, never a show's special
        found = self.confirm(pinned.kind, lookup)
        if found is None:
            if not pinned.manual:
                return None  # a stale id: the next ways of finding the show are tried
            return Resolution(kind=pinned.kind, unmapped_reason=f"{what}: not found on Trakt, map it again", **held)
        res = _found(Resolution(kind=pinned.kind, trakt_id=found.trakt_id, trakt_title=found.title,
                                trakt_slug=found.slug, held_trakt_id=pinned.trakt_id,
                                **self._ids(pinned.kind, facts, found.ids)), found)
        if pinned.kind == "show":
            self.place_start(res, facts, found, media)
            if res.unmapped_reason:
                res.unmapped_reason = (f"{what} has no start season/episode (the original never stored one) "
                                       f"and the sources do not give one: {res.unmapped_reason}; map it manually "
                                       "with its season and episode")
        return res

    def _ids(self, kind, facts, trakt_ids: dict | None = None) -> dict:
        trakt_ids = trakt_ids or {}
        tmdb = trakt_ids.get("tmdb") or next(iter(t for t, _ in tmdb_ids(kind, facts)), None)
        otaku, fribb = facts.otaku, facts.fribb
        tvdb = trakt_ids.get("tvdb") if kind == "show" else None
        tvdb = tvdb or (fribb.tvdb_id if fribb is not None and kind == "show" else None)
        tvdb = tvdb or (otaku.tvdb_id if otaku is not None and kind == "show" else None)
        imdb = trakt_ids.get("imdb") or (otaku.imdb_id if otaku is not None and otaku.imdb_id else None)
        return {"tmdb_id": tmdb, "tvdb_id": tvdb, "imdb_id": imdb}

    def find(self, kind: str, facts: SourceFacts) -> tuple[Found | None, list[str]]:
        expected_tmdb = {t for t, _ in tmdb_ids(kind, facts)}
        tried: list[str] = []
        unverified: Found | None = None
        for lookup in self._all_lookups(kind, facts):
            tried.append(f"{lookup.id_type} {lookup.value} ({lookup.source})")
            direct = self.confirm_by_seasons(kind, lookup, expected_tmdb)
            if direct is not None:
                return direct, tried
            found = self.confirm(kind, lookup)
            if found is None:
                continue
            got_tmdb = found.ids.get("tmdb")
            if lookup.id_type == "trakt" and expected_tmdb and got_tmdb and got_tmdb not in expected_tmdb:
                # A stale or foreign Otaku id (Bleach TYBW: 252500, not Bleach's 30850).
                tried[-1] += f" is TMDB {got_tmdb}, not {sorted(expected_tmdb)}"
                continue
            if lookup.id_type == "trakt" and expected_tmdb and not got_tmdb:
                # Trakt holds no TMDB id for it, so it cannot be checked against the sources'
                # TMDB-keyed season data: the TMDB id itself is asked first.
                unverified = unverified or found
                tried[-1] += " has no TMDB id on Trakt"
                continue
            return found, tried
        return unverified, tried

    def _all_lookups(self, kind, facts):
        base = lookups(kind, facts)
        yield from (lk for lk in base if lk.id_type in ("trakt", "tmdb"))
        seen = {(lk.id_type, str(lk.value)) for lk in base}
        for tmdb_id, source in tmdb_ids(kind, facts)[:1]:
            for lk in self._expand(kind, tmdb_id, source):
                if (lk.id_type, str(lk.value)) not in seen:
                    seen.add((lk.id_type, str(lk.value)))
                    yield lk
        yield from (lk for lk in base if lk.id_type in ("imdb", "tvdb"))

    def _expand(self, kind: str, tmdb_id: int, source: str) -> list[Lookup]:
        if self.tmdb is None or not getattr(self.tmdb, "enabled", False):
            return []
        ext = self._ask(("tmdb", kind, tmdb_id),
                        lambda: self.tmdb.external_ids(kind="tv" if kind == "show" else "movie", tmdb_id=tmdb_id))
        if ext is None:
            return []
        out = []
        if ext.imdb_id:
            out.append(Lookup("imdb", ext.imdb_id, TMDB, tmdb=tmdb_id))
        if ext.tvdb_id and kind == "show":
            out.append(Lookup("tvdb", ext.tvdb_id, TMDB, tmdb=tmdb_id))
        return out

    def _ask(self, key: tuple, request: Callable[[], object]) -> object | None:
        """`request()`'s answer, asked once per key; None when it found nothing."""
        if key not in self._asked:
            try:
                self._asked[key] = request()
            except self.not_found:
                self._asked[key] = None
        return self._asked[key]

    def confirm_by_seasons(self, kind: str, lookup: Lookup, expected_tmdb: set[int]) -> Found | None:
        """A dataset's Trakt show id confirmed with one Trakt read, the season list placement
        reads anyway: its seasons' TMDB ids are among those TMDB lists for a TMDB show the
        sources give, so it is that show (TMDB is not on Trakt's read budget). None when that
        cannot be told (no TMDB key, no TMDB id anywhere, no overlap): the summary decides then,
        as before, and nothing is assumed."""
        if (kind != "show" or lookup.id_type != "trakt" or not expected_tmdb or self.tmdb is None
                or not getattr(self.tmdb, "enabled", False) or not hasattr(self.tmdb, "season_ids")):
            return None
        seasons = self.seasons(int(lookup.value))
        on_trakt = {s.tmdb_id for s in seasons or () if getattr(s, "tmdb_id", None)}
        if not on_trakt:
            return None
        for tmdb_id in sorted(expected_tmdb):
            listed = self._ask(("tmdb", "seasons", tmdb_id), lambda t=tmdb_id: self.tmdb.season_ids(tmdb_id=t))
            if listed and on_trakt & set(listed):
                return Found(int(lookup.value), "", "", {"trakt": int(lookup.value), "tmdb": tmdb_id},
                             lookup.by, lookup.params)
        return None

    def confirm(self, kind: str, lookup: Lookup) -> Found | None:
        if lookup.id_type == "trakt":
            item = self._ask(("trakt", kind, "trakt", str(lookup.value)),
                             lambda: (self.trakt.show if kind == "show" else self.trakt.movie)(lookup.value))
            if item is None:
                return None
            return Found(int(item.trakt_id), item.title or "", item.slug or "", dict(item.ids or {}),
                         lookup.by, lookup.params)
        results = self._ask(("trakt", kind, lookup.id_type, str(lookup.value)),
                            lambda: self.trakt.search(id_type=lookup.id_type, external_id=lookup.value, kind=kind))
        for result in results or ():
            if result.trakt_id:
                return Found(int(result.trakt_id), result.title or "", result.slug or "", dict(result.ids or {}),
                             lookup.by, lookup.params)
        return None

    def place_start(self, res: Resolution, facts: SourceFacts, found: Found, media) -> bool:
        """Place `res` at the first source's start that holds. False when no source names a start
        at all (the dates may place it then); True otherwise, placed or not (`unmapped_reason`)."""
        seasons = self.seasons(found.trakt_id)
        show_tmdb = found.ids.get("tmdb")
        candidates = start_candidates(facts, show_tmdb, media.format, media.episodes)
        if not candidates:
            res.unmapped_reason = NO_START
            return False
        reasons = []
        refuted = False  # once the dates refuted a source, only a start they agree with is taken
        for candidate in candidates:
            start, why = check_start(candidate, seasons)
            if start is None:
                reasons.append(why)
                continue
            spill = overflow(candidate, start, seasons, media.episodes)
            if spill:
                reasons.append(spill)
                continue
            verdict = self.check_dates(candidate, start, seasons, media)
            if verdict.outcome == "corrected" and overflow(candidate, verdict.start, seasons, media.episodes):
                # The shifted run would leave the season the source names: not the same run.
                verdict = Verdict("refuted", None, f"air dates put it at S{verdict.start[0]}E{verdict.start[1]}, "
                                                   "which runs into the next Trakt season: map it manually")
            if verdict.outcome == "refuted" or (refuted and verdict.outcome == "unknown"):
                refuted = True
                reasons.append(f"{candidate.source}: {verdict.reason or 'its start is not confirmed by air dates'}")
                continue
            res.ranges = list(collapse_ranges(candidate, seasons))
            res.placed_by = candidate.by
            if verdict.outcome == "corrected":
                res.start_season, res.start_episode = verdict.start
                res.air_dates, res.provenance = CORRECTED, {**res.provenance, "from": list(start)}
                res.source += (f"; start {candidate.source} S{start[0]}E{start[1]}, corrected to "
                               f"S{verdict.start[0]}E{verdict.start[1]} by air dates")
                logger.info("AniList %s: %s (%s)", media.id, res.source, verdict.reason)
                return True
            res.start_season, res.start_episode = start
            res.air_dates = CONFIRMED if verdict.outcome == "confirmed" else ""
            moved = start != (candidate.season, candidate.episode) and not candidate.ranges
            res.source += f"; start {candidate.source}" + (
                f" S{candidate.season}E{candidate.episode} = Trakt S{start[0]}E{start[1]}" if moved else ""
            ) + odd_date(verdict.reason if verdict.outcome == "confirmed" else "")
            return True
        res.unmapped_reason = "; ".join(reasons)
        if refuted:
            # Kept visible on the unmapped list: the show is right, only where it starts is not.
            res.held_trakt_id, res.air_dates = found.trakt_id, HELD
            logger.warning("AniList %s held by air dates: %s", media.id, res.unmapped_reason)
        return True

    def check_dates(self, candidate: StartCandidate, start: tuple[int, int], seasons, media) -> Verdict:
        """What the air dates say about a one-start candidate. Movies, specials, explicit ranges
        and entries or shows without dates are "unknown": they follow the sources as before."""
        if (self.airdates is None or seasons is None or candidate.ranges or start[0] == 0
                or (media.format or "").upper() == MOVIE_FORMAT
                or not any(getattr(s, "aired", ()) for s in seasons if s.number > 0)):
            return Verdict("unknown")
        return verify_start(seasons, start, self._schedule(media.id), media.episodes)

    def recheck_dates(self, media, start: tuple[int, int], seasons) -> Verdict:
        """What the air dates say now about a start they gave (`airdates.recheck_start`), on the
        show's season list as last read. No AniList dates or no dated Trakt episode: "unknown"."""
        if self.airdates is None or not seasons or not any(getattr(s, "aired", ()) for s in seasons if s.number > 0):
            return Verdict("unknown")
        return recheck_start(seasons, start, self._schedule(media.id), media.episodes)

    def _schedule(self, anilist_id: int) -> dict[int, int]:
        """The entry's aired episodes as {episode: day number}."""
        raw = self.airdates(anilist_id) or {}
        return {int(e): d for e, d in ((e, day_of(t)) for e, t in raw.items()) if d is not None}
