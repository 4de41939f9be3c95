"""Everything the pure plan needs besides the events, read in a handful of queries: mappings
(resolved on demand), overrides, stored progress, the rewatch cycles on Trakt, Trakt's watched
list; then per Trakt show (`show_inputs`) its seasons, which the pipeline reads or finds
cached, and its held episodes. Only entries with an episode that might be posted are resolved
or have seasons read, so a run over an already-synced library costs no Trakt request."""

from __future__ import annotations

import logging
from collections.abc import Callable

from mappings.models import Mapping
from mappings.selectors import held_episodes, mapping_spec, overrides_for
from mappings.services import mapping_resolve_many
from syncer.http import NotFound
from syncer.sync.events import WatchEvent
from syncer.sync.selectors import ProgressSnapshot

logger = logging.getLogger("syncer.sync")


def plan_inputs(events: list[WatchEvent], *, medias: dict, trakt, progress: ProgressSnapshot,
                defer: Callable | None = None) -> dict:
    """What the plan needs besides the seasons and the held episodes, which come show by show
    (`show_inputs`). Also reads, once, what Trakt already has, for the kinds of first-time plays
    this run may post, before any season list and so before any POST: read after them, it would
    be the 1001st/2001st read and wait out a whole 5-minute window of Trakt's read limit.

    `defer(medias)` keeps the entries whose mappings the pipeline resolves (`resolving`) and
    returns the others, resolved here, and the kinds of first-time plays the kept may bring."""
    snapshot = progress
    progress = snapshot.last_abs({e.anilist_id for e in events})
    done = snapshot.done({e.anilist_id for e in events})
    candidates = {e.anilist_id for e in events if e.rewatch or e.episode > progress.get(e.anilist_id, 0)}
    todo = [medias[i] for i in candidates if i in medias]
    deferred_kinds: set[str] = set()
    if defer is not None and todo:
        todo, deferred_kinds = defer(todo)
    rows = mapping_resolve_many(medias=todo) if todo else {}
    rows.update(collisions_held(rows, rows))
    mappings, unmapped = mapping_specs(rows)
    unmapped_codes = mapping_codes(rows)
    first_time = {e.anilist_id for e in events if not e.rewatch and e.episode > progress.get(e.anilist_id, 0)}
    kinds = {"movie" if mappings[a].kind == "movie" else "episode" for a in first_time if a in mappings}
    kinds |= deferred_kinds if first_time else set()
    # A preview's moves are still on Trakt: their old places are not taken for the user's plays.
    on_trakt = watched_on_trakt(trakt=trakt, kinds=kinds) - snapshot.moving_from() if kinds else frozenset()
    return {
        "mappings": mappings,
        "unmapped": unmapped,
        "rows": rows,
        "overrides": overrides_for(anilist_ids=candidates),
        "progress": progress,
        "done": done,
        "unmapped_codes": unmapped_codes,
        "rewatched": snapshot.rewatched() if any(e.rewatch for e in events) else {},
        "on_trakt": on_trakt,
    }


def mapping_specs(rows: dict) -> tuple[dict, dict]:
    """The placeable mappings among saved rows, and the reason of each entry left unmapped."""
    mappings, unmapped = {}, {}
    for anilist_id, row in rows.items():
        spec = mapping_spec(row)
        if spec is None:
            unmapped[anilist_id] = row.unmapped_reason or "no Trakt show or movie found"
        else:
            mappings[anilist_id] = spec
    return mappings, unmapped


def collisions_held(resolved: dict, others) -> dict[int, Mapping]:
    """The saved rows among `others` (AniList ids of this run) that resolving `resolved` held
    back: two entries starting at one Trakt episode are both held (`mappings.services`), and
    the run must plan the saved one as it is now, not as it was read before."""
    shows = {r.held_trakt_id for r in resolved.values() if r.trakt_id is None and r.held_trakt_id}
    if not shows:
        return {}
    return {m.anilist_id: m for m in Mapping.objects.filter(held_trakt_id__in=shows, anilist_id__in=list(others))}


def mapping_codes(rows: dict) -> dict[int, tuple[str, dict]]:
    """The reason code of each entry left unmapped: Trakt or TMDB not answering passes by itself
    (the resolver hands back a row it did not save); anything else waits for a person."""
    out = {}
    for anilist_id, row in rows.items():
        if mapping_spec(row) is None:
            waiting = getattr(row, "unavailable", None)
            if waiting:
                out[anilist_id] = ("trakt_unavailable", {"service": waiting})
            else:
                out[anilist_id] = ("no_mapping", {})
    return out


def show_inputs(inputs: dict, *, anilist_ids: list[int], trakt_id: int | None, seasons: list | None | NotFound) -> dict:
    """`build_plan`'s arguments for the entries of one Trakt show (or one unmapped entry or
    movie): the run-wide `inputs`, this show's seasons, and the episodes two of its entries
    both claim. `seasons` is the `NotFound` a read raised for a show Trakt does not know: its
    entries are unmapped then."""
    mappings, unmapped = inputs["mappings"], inputs["unmapped"]
    codes = inputs.get("unmapped_codes", {})
    if isinstance(seasons, NotFound):
        reason = f"Trakt show {trakt_id} does not exist (any more): fix the mapping"
        mappings = {a: spec for a, spec in mappings.items() if a not in anilist_ids}
        unmapped = {**unmapped, **dict.fromkeys(anilist_ids, reason)}
        codes = {**codes, **dict.fromkeys(anilist_ids, ("show_not_found", {"trakt_id": trakt_id}))}
        seasons = None
    shows = [a for a in anilist_ids if a in mappings and mappings[a].kind == "show"]
    held = held_episodes(anilist_ids=shows, seasons_for=lambda ids: {i: seasons for i in ids if i == trakt_id}
                         ) if shows else {}
    return {
        **inputs, "mappings": mappings, "unmapped": unmapped, "unmapped_codes": codes,
        "seasons": {trakt_id: seasons} if trakt_id is not None and seasons is not None else {},
        "held": {aid: {ep: held_reason(ep, other) for ep, other in episodes.items()} for aid, episodes in held.items()},
    }


def held_reason(episode: tuple[int, int], other) -> str:
    season, number = episode
    return (f"Trakt S{season}E{number} is claimed by AniList {other.anilist_id} ({other.title}) too: held for "
            "both until you decide (map one of them again, or add an episode override)")


def watched_on_trakt(*, trakt, kinds: set[str]) -> frozenset[tuple]:
    """Plan keys (`plan.target_key`) of everything the user already has a play of on Trakt, for
    the given target kinds only: `/sync/watched/shows` (all pages) for episodes,
    `/sync/watched/movies` for movies. Reads only, so a preview asks the same."""
    keys: set[tuple] = set()
    if "episode" in kinds:
        keys.update(("episode", show, season, number) for show, season, number in trakt.watched_shows())
    if "movie" in kinds:
        keys.update(("movie", movie, None, None) for movie in trakt.watched_movies())
    logger.info("Trakt already has plays of %s episode(s)/movie(s) in its watched list", len(keys))
    return frozenset(keys)
