"""How a mapping was found and placed, as codes with parameters: code reads these, never words.

Each mapping keeps (`mappings.models.Mapping`):
- `found_by`: what found the Trakt show or movie: a dataset (`otaku`, `fribb`, `anibridge`), the
  original app's saved id (`original_app`), TMDB's external ids of a dataset's TMDB id (`tmdb`),
  a mapped prequel, sequel or parent (`relation`), Trakt's title search (`title_search`), or a
  person (`manual`);
- `placed_by`: what gave its start: a dataset, the air dates (`air_dates`) or a person; a movie
  (found, never placed) names the dataset that found it; "" when nothing can be named;
- `air_dates`: what the air dates decided about the start: `placed` (no dataset gives one),
  `corrected` (a dataset's start, moved to the one run that aired when the entry did),
  `confirmed`, `held` (they refute every start: the show is kept in `held_trakt_id`), or "";
- `provenance`: the parameters of those codes: `via` [id type, value] (the id that found the
  show; `tmdb` the TMDB id whose external ids gave it), `relation` and `anilist_id` (the related
  entry whose show it is on), `title` and `year` (the title search), `from` [season, episode]
  (the dataset's start the dates corrected).

`Mapping.source` tells the same story in words, for people (the admin, the API). How the show was
found and what the dates placed are worded here from the codes, so the resolver and a
re-derivation word them alike; no code reads the words back.
"""

from __future__ import annotations

OTAKU, FRIBB, ANIBRIDGE = "otaku", "fribb", "anibridge"
PLACERS = (ANIBRIDGE, FRIBB, OTAKU)  # the imported sources, best placement first
ORIGINAL_APP = "original_app"
TMDB = "tmdb"
RELATION = "relation"
TITLE_SEARCH = "title_search"
MANUAL = "manual"
AIR_DATES = "air_dates"
# The shows the air dates found along with the start: no dataset knows the entry.
FOUND_BY_DATES = (RELATION, TITLE_SEARCH)

# What the air dates decided (`Mapping.air_dates`).
PLACED, CORRECTED, CONFIRMED, HELD = "placed", "corrected", "confirmed", "held"

# The parameters that say how the show was found (the others say how it was placed).
FOUND_PARAMS = ("via", "tmdb", "title", "year", "relation", "anilist_id")

WORDS = {ORIGINAL_APP: "original app", AIR_DATES: "air dates", TITLE_SEARCH: "trakt search title"}


def words(code: str) -> str:
    """A code as people read it in `source` and on the pages."""
    return WORDS.get(code, code)


def found_params(params: dict) -> dict:
    """Of a mapping's parameters, those of how its show was found: what a new placement on the
    same show starts from."""
    return {key: value for key, value in (params or {}).items() if key in FOUND_PARAMS}


def found_words(found_by: str, params: dict) -> str:
    """How the Trakt object was found, e.g. `fribb tmdb 1429`, `otaku trakt_id`,
    `tmdb 1429 external ids imdb tt2560140`, `trakt search title 'Frieren' 2023`; "" for a
    relation's show (the dates' words say it)."""
    if found_by == MANUAL:
        return MANUAL
    if found_by == RELATION:
        return ""
    if found_by == TITLE_SEARCH:
        return f"{words(TITLE_SEARCH)} {params.get('title')!r} {params.get('year')}"
    id_type, value = (params.get("via") or ("", ""))[:2]
    who = f"tmdb {params.get('tmdb')} external ids" if found_by == TMDB else words(found_by)
    if id_type == "trakt":
        return f"{who} trakt_id"
    return f"{who} {id_type} {value}".strip()


def dates_words(start: tuple[int, int], params: dict) -> str:
    """The start the air dates placed, e.g. `air dates S1E51 (prequel AniList 119661)`."""
    related = (f" ({str(params['relation']).lower()} AniList {params['anilist_id']})"
               if params.get("anilist_id") else "")
    return f"{words(AIR_DATES)} S{start[0]}E{start[1]}{related}"


def placed_by_dates_words(found_by: str, params: dict, start: tuple[int, int]) -> str:
    """`source` of an entry the air dates placed: on a relation's show the dates' words alone,
    on a show found another way that way first (`fribb tmdb 1429; start air dates S1E51`)."""
    placed = dates_words(start, params)
    found = found_words(found_by, params)
    return f"{found}; start {placed}" if found else placed


def corrected_words(placed_by: str, params: dict, start: tuple[int, int]) -> str:
    """What the dates did to a dataset's start: `start fribb S1E27, corrected to S1E26 by air dates`."""
    season, number = params.get("from") or (None, None)
    return f"start {words(placed_by)} S{season}E{number}, corrected to S{start[0]}E{start[1]} by {words(AIR_DATES)}"
