"""Test helpers: the real fixture files, a Trakt fake built from real Trakt data, season lists.

The fake Trakt catalogue is the extended-anitrakt excerpt (real Trakt ids, slugs and the
TMDB/TVDB/IMDb ids Trakt holds for them). Season lists are written here by hand from public
knowledge of TMDB's seasons for each show (Trakt numbers seasons like TMDB); each says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

from mappings.placement import MappingSpec, place_episode
from mappings.resolver import Resolver
from syncer.clients.anilist import AniListMedia, FuzzyDate
from syncer.clients.trakt import Season, TraktTitle
from syncer.http import NotFound

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mapping-sources"
OTAKU_DB = FIXTURES / "otaku_anime_mappings_sample.db"
FRIBB_CURRENT = FIXTURES / "fribb_anime-lists-reduced_2026-06-30_sample.json"
FRIBB_OLD = FIXTURES / "fribb_anime-list-mini_2024-05-07_sample.json"
ANIBRIDGE = FIXTURES / "anibridge-mappings_v3_edits_sample.json"


def load(name: str):
    return json.loads((FIXTURES / name).read_text())


def titles() -> dict[int, dict]:
    return {e["anilist_id"]: e for e in load("sample_titles_index.json")}


def media(anilist_id: int, *, format: str, episodes: int | None, title: str = "") -> AniListMedia:
    entry = titles().get(anilist_id, {})
    return AniListMedia(
        id=anilist_id, id_mal=entry.get("mal_id"), format=format, episodes=episodes,
        title_romaji=title or entry.get("why") or None, title_english=None, title_native=None,
        start_date=FuzzyDate(), season_year=None,
    )


def seasons(**numbered: range | list[int]) -> list[Season]:
    """`seasons(s0=range(1, 41), s1=range(1, 26))` -> [Season(0, (1..40)), Season(1, ...)]."""
    return [Season(int(k[1:]), tuple(v)) for k, v in sorted(numbered.items(), key=lambda kv: int(kv[0][1:]))]


# Season lists by Trakt show id, from public knowledge of TMDB's seasons (see each comment).
TRAKT_SEASONS: dict[int, list[Season]] = {
    # Attack on Titan (TMDB 1429): S1 25, S2 12, S3 22 (Part 1 + Part 2), S4 28 (The Final
    # Season Parts 1-2); the two Final Chapters specials are TMDB specials 36 and 37.
    1420: seasons(s0=range(1, 38), s1=range(1, 26), s2=range(1, 13), s3=range(1, 23), s4=range(1, 29)),
    # Bleach (TMDB 30984): S1 is the 2004 series (366), S2 all four TYBW cours (13+13+14+13).
    30850: seasons(s0=range(1, 6), s1=range(1, 367), s2=range(1, 54)),
    # Re:Zero (TMDB 65942): every TV cour in S1 (25 + 13 + 12 + 16); Break Time in specials.
    104310: seasons(s0=range(1, 12), s1=range(1, 67)),
    # Spy x Family (TMDB 120089): S1 both cours (12 + 13), S2 12, S3 13.
    190742: seasons(s1=range(1, 26), s2=range(1, 13), s3=range(1, 14)),
    # Frieren (TMDB 209867): S1 28, the 2026 season appended to S1 (as Fribb's offset 28 says).
    198225: seasons(s0=range(1, 13), s1=range(1, 39)),
    # One Piece (TMDB 37854): TMDB numbers its episodes absolutely across 22 seasons; the season
    # boundaries are the ones AniBridge's One Piece ranges give.
    37696: [Season(i + 1, tuple(range(a, b + 1))) for i, (a, b) in enumerate([
        (1, 61), (62, 77), (78, 91), (92, 130), (131, 143), (144, 195), (196, 228), (229, 263),
        (264, 336), (337, 381), (382, 407), (408, 421), (422, 522), (523, 580), (581, 642),
        (643, 692), (693, 748), (749, 803), (804, 877), (878, 891), (892, 1088), (1089, 1122)])],
    # Naruto Shippuden (TMDB 31910): 20 seasons, absolute numbers (boundaries as AniBridge has).
    31770: [Season(i + 1, tuple(range(a, b + 1))) for i, (a, b) in enumerate([
        (1, 32), (33, 53), (54, 71), (72, 88), (89, 112), (113, 143), (144, 151), (152, 175),
        (176, 196), (197, 221), (222, 242), (243, 275), (276, 295), (296, 320), (321, 348),
        (349, 361), (362, 372), (373, 393), (394, 413), (414, 500)])],
    # My Hero Academia (TMDB 65930): one TMDB season per AniList season (13, 25, 25, 25, 25, 25, 21).
    104311: seasons(s1=range(1, 14), s2=range(1, 26), s3=range(1, 26), s4=range(1, 26), s5=range(1, 26),
                    s6=range(1, 26), s7=range(1, 22)),
    # Demon Slayer (TMDB 85937): S1 26, S2 Mugen Train arc 7, S3 Entertainment District 11,
    # S4 Swordsmith Village 11, S5 Hashira Training 8; specials include the ONA recaps.
    131598: seasons(s0=range(1, 10), s1=range(1, 27), s2=range(1, 8), s3=range(1, 12), s4=range(1, 12),
                    s5=range(1, 9)),
    # Monogatari (TMDB 46195): specials hold Nekomonogatari etc.; S1 Bake 12 (+ specials).
    45938: seasons(s0=range(1, 48), s1=range(1, 13), s2=range(1, 12), s3=range(1, 24), s4=range(1, 13),
                   s5=range(1, 15)),
    # Mushoku Tensei (TMDB 94664): S1 23 (both cours), S2 25 (episode 0 is special 2).
    156460: seasons(s0=range(1, 4), s1=range(1, 24), s2=range(1, 25)),
    # Jujutsu Kaisen (TMDB 95479): every TV season in S1 (24 + 23 + Culling Game).
    158594: seasons(s0=range(1, 10), s1=range(1, 60)),
    # Cowboy Bebop (TMDB 30991): S1 26.
    30857: seasons(s0=range(1, 4), s1=range(1, 27)),
}


def _catalogue():
    shows, movies = {}, {}
    for e in load("extended-anitrakt_tv_ex_sample.json"):
        t, ext = e["trakt"], e["externals"]
        ids = {"trakt": t["id"], "slug": t["slug"], "tmdb": ext.get("tmdb"), "tvdb": ext.get("tvdb"),
               "imdb": ext.get("imdb")}
        shows[t["id"]] = {"title": t["title"], "year": e.get("release_year"), "ids": ids}
    for e in load("extended-anitrakt_movies_ex_sample.json"):
        t, ext = e["trakt"], e["externals"]
        ids = {"trakt": t["id"], "slug": t["slug"], "tmdb": ext.get("tmdb"), "imdb": ext.get("imdb")}
        movies[t["id"]] = {"title": t["title"], "year": e.get("release_year"), "ids": ids}
    return shows, movies


def _title(kind: str, item: dict) -> TraktTitle:
    return TraktTitle(kind=kind, trakt_id=item["ids"]["trakt"], slug=item["ids"]["slug"], title=item["title"],
                      year=item.get("year"), ids=item["ids"])


@dataclass
class TraktDouble:
    """Answers like `TraktClient` from the real catalogue above; records its calls."""

    def __post_init__(self):
        self.shows, self.movies = _catalogue()
        self.calls: list[tuple] = []

    def show(self, trakt_id):
        self.calls.append(("show", trakt_id))
        if int(trakt_id) not in self.shows:
            raise NotFound("Trakt", 404, "not found")
        return _title("show", self.shows[int(trakt_id)])

    def movie(self, trakt_id):
        self.calls.append(("movie", trakt_id))
        if int(trakt_id) not in self.movies:
            raise NotFound("Trakt", 404, "not found")
        return _title("movie", self.movies[int(trakt_id)])

    def search(self, *, id_type, external_id, kind):
        self.calls.append(("search", id_type, external_id, kind))
        pool = self.shows if kind == "show" else self.movies
        return [_title(kind, item) for item in pool.values() if str(item["ids"].get(id_type)) == str(external_id)]


class TmdbDouble:
    enabled = False


def resolver_for(trakt: TraktDouble) -> Resolver:
    """A resolver on the doubles, as one run (or one batch of entries) has: it asks Trakt about
    an id once, so a later run is given a resolver of its own."""
    return Resolver(trakt=trakt, tmdb=TmdbDouble(), seasons=TRAKT_SEASONS.get, not_found=(NotFound,))


def place(mapping, episode: int, *, seasons_by_show=None, overrides=None):
    """Place an AniList episode with a saved Mapping row (what the sync engine will do)."""
    from mappings.selectors import mapping_spec

    spec: MappingSpec | None = mapping_spec(mapping)
    if spec is None:
        return None
    table = TRAKT_SEASONS if seasons_by_show is None else seasons_by_show
    target = place_episode(spec=spec, seasons=table.get(spec.trakt_id), overrides=overrides or {},
                           episode=episode)
    if target is None:
        return None
    return ("movie", target.trakt_id) if target.kind == "movie" else (target.trakt_id, target.season, target.number)


# --- air dates ---------------------------------------------------------------------------------
# Broadcast times as AniList gives them (airingAt, Unix s; JST evenings) and first_aired days as
# Trakt gives them (TMDB's date of the same broadcast, sometimes a day later).

JST = timezone(timedelta(hours=9))


def broadcasts(first: str, count: int, *, every_days: int = 7, doubles: tuple[int, ...] = (),
               hour: int = 23) -> list[datetime]:
    """`count` JST broadcasts from `first` (YYYY-MM-DD), one per `every_days`; an episode in
    `doubles` airs right after the one before it (a double-episode week)."""
    day, out = date.fromisoformat(first), []
    for n in range(1, count + 1):
        if n in doubles and out:
            out.append(out[-1] + timedelta(minutes=30))
            continue
        out.append(datetime.combine(day, time(hour), tzinfo=JST))
        day += timedelta(days=every_days)
    return out


def schedule(times: list[datetime], *, first_episode: int = 1) -> dict[int, int]:
    """AniList's {episode: airingAt} for those broadcasts."""
    return {first_episode + i: int(t.timestamp()) for i, t in enumerate(times)}


def aired_season(number: int, times: list[datetime | None], *, first_episode: int = 1,
                 days_later: int = 0) -> Season:
    """A Trakt season whose episodes aired at those times (None: not dated), as TMDB dates them."""
    aired = tuple((first_episode + i, (t.date() + timedelta(days=days_later)).toordinal())
                  for i, t in enumerate(times) if t is not None)
    return Season(number, tuple(range(first_episode, first_episode + len(times))), aired)
