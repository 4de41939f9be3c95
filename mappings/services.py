"""Writes: resolving and saving mappings, manual mappings, source refreshes, legacy overrides."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, DataError, connections, transaction
from django.db.models import DateTimeField, ExpressionWrapper, F, OuterRef, Q, Subquery
from django.db.models.functions import Now
from django.utils import timezone

from mappings import importer
from mappings.legacy import convert_legacy_overrides
from mappings.media import media_from_mapping
from mappings.models import (
    AiringScheduleCache,
    LegacyEpisodeOverride,
    Mapping,
    SourceStatus,
    TraktSeasonCache,
)
from mappings.provenance import (
    AIR_DATES,
    FOUND_BY_DATES,
    HELD,
    ORIGINAL_APP,
    PLACED,
    found_params,
    placed_by_dates_words,
)
from mappings.resolver import (
    Found,
    Pinned,
    Resolution,
    Resolver,
    StartCandidate,
    start_candidates,
)
from mappings.seasons import cached_show_seasons, show_seasons_store, trakt_show_seasons
from mappings.selectors import disputes, related_shows, source_facts_many, sources_never_imported
from syncer import status_keys
from syncer.clients.anilist import SCHEDULE_NODES, Airing
from syncer.connections import anilist_client, tmdb_client, trakt_client
from syncer.http import ApiError, NotFound
from syncer.models import LedgerItem, SyncProgress

logger = logging.getLogger("mappings.resolver")


def default_resolver() -> Resolver:
    """The resolver wired to the real clients (search and catalogue calls need no user token)."""
    trakt = trakt_client(authenticated=False)

    def seasons(trakt_id):
        return trakt_show_seasons(trakt_id=trakt_id, client=trakt)

    def seasons_or_none(trakt_id):
        try:
            return seasons(trakt_id)
        except NotFound:
            return None

    return Resolver(trakt=trakt, tmdb=tmdb_client(), seasons=seasons_or_none, not_found=(NotFound,))


def adopted_pin(row: Mapping | None) -> Pinned | None:
    """The Trakt id of a row adopted from the original app's table that still lacks a start.

    The original stored only the Trakt id and type and worked the season out when posting;
    treating such a row as S1E1 would post a sequel's episodes onto season 1. Its id is kept,
    the start is found from the sources (`Resolver.resolve_pinned`). A row that could not be
    completed keeps the id in `held_trakt_id` and is tried again next time."""
    if row is None or row.episode_ranges:
        return None
    if row.trakt_id is not None and row.type != Mapping.Type.MOVIE and row.start_season is None:
        trakt_id = row.trakt_id
    elif row.trakt_id is None and row.held_trakt_id and row.found_by == ORIGINAL_APP:
        trakt_id = row.held_trakt_id
    else:
        return None
    return Pinned(kind=row.type or None, trakt_id=trakt_id, by=ORIGINAL_APP, manual=row.is_manual)


def _keep_saved(row: Mapping | None, *, force: bool) -> bool:
    """A manual mapping always wins; a mapped row is reused unless a re-resolve is forced."""
    if row is None or adopted_pin(row) is not None:
        return False
    return row.is_manual or (row.trakt_id is not None and not row.unmapped_reason and not force)


def _apply(row: Mapping, media, res: Resolution) -> Mapping:
    row.title = media.title or row.title
    row.mal_id = media.id_mal
    row.anilist_format = media.format or ""
    row.episodes = media.episodes
    row.type = res.kind
    row.trakt_id = res.trakt_id if res.is_mapped else None
    row.start_season = res.start_season if res.kind == "show" else None
    row.start_episode = res.start_episode if res.kind == "show" else None
    row.episode_ranges = [[r.first, r.last, r.season, r.first_episode] for r in res.ranges]
    row.tmdb_id, row.tvdb_id, row.imdb_id = res.tmdb_id, res.tvdb_id, res.imdb_id
    row.trakt_title, row.trakt_slug = res.trakt_title, res.trakt_slug
    row.source = res.source
    row.found_by, row.placed_by, row.air_dates = res.found_by, res.placed_by, res.air_dates
    row.provenance = res.provenance
    row.unmapped_reason = res.unmapped_reason
    row.held_trakt_id = None if res.is_mapped else res.held_trakt_id
    row.dates_checked_at = timezone.now()
    return row


def _check_collision(row: Mapping) -> None:
    """Two AniList entries starting at the same Trakt episode means one of them is wrong (a
    Trakt season layout that differs from TMDB's): hold both back until a person decides. A
    manual row is trusted, so only the other one is held."""
    if row.type != Mapping.Type.SHOW or row.trakt_id is None or row.episode_ranges:
        return
    show = row.trakt_id
    others = list(
        Mapping.objects.filter(Q(trakt_id=show) | Q(held_trakt_id=show), type=Mapping.Type.SHOW,
                               start_season=row.start_season, start_episode=row.start_episode)
        .exclude(anilist_id=row.anilist_id)
    )
    if not others:
        return
    where = f"S{row.start_season}E{row.start_episode} of Trakt show {show}"
    names = ", ".join(f"AniList {o.anilist_id} ({o.title})" for o in others)
    row.unmapped_reason = f"starts at {where}, like {names}: one of them is wrong, map one manually"
    row.trakt_id, row.held_trakt_id = None, show
    for other in others:
        if other.is_manual or other.trakt_id is None:
            continue
        Mapping.objects.filter(pk=other.pk).update(
            trakt_id=None, held_trakt_id=show,
            unmapped_reason=f"starts at {where}, like AniList {row.anilist_id} ({row.title}): "
            "one of them is wrong, map one manually",
        )


def overlaps_report(row: Mapping, seasons_of) -> list[str]:
    """What another mapped entry of the same Trakt show shares with this one, one line each.
    Nothing is held here: the plan holds the shared episodes (for both entries) and posts every
    other episode (docs/mapping-decisions.md). The resolver, the manual mapping service and the
    pages all report the same thing, because they all ask `mappings.selectors.disputes`."""
    if row.type != Mapping.Type.SHOW or row.trakt_id is None:
        return []
    lines = []
    for dispute in disputes(trakt_ids=[row.trakt_id], seasons_for=lambda ids: {i: seasons_of(i) for i in ids}):
        if row.anilist_id not in (dispute.first.anilist_id, dispute.second.anilist_id):
            continue
        mine, other = ((dispute.held_first, dispute.second) if dispute.first.anilist_id == row.anilist_id
                       else (dispute.held_second, dispute.first))
        shown = ", ".join(f"S{s}E{n}" for s, n in mine[:5]) + (" ..." if len(mine) > 5 else "")
        lines.append(f"shares Trakt show {row.trakt_id} {shown} with AniList {other.anilist_id} ({other.title}): "
                     "held for both until you decide" if mine else
                     f"overlaps AniList {other.anilist_id} ({other.title}) on Trakt show {row.trakt_id}, "
                     "settled by an override")
    for line in lines:
        logger.warning("AniList %s (%s) %s", row.anilist_id, row.title, line)
    return lines


def airing_cached(*, anilist_ids: Iterable[int], client=None) -> dict:
    """{AniList id: `Airing`} (first aired episodes, related anime) from the cache, asking
    AniList (in batches) only for the entries it lacks or whose short schedule (still airing)
    is a day old. AniList down: entries without a cached row have no dates and follow the
    datasets as before."""
    ids = list(dict.fromkeys(anilist_ids))
    day_old = timezone.now() - timedelta(days=1)
    rows = AiringScheduleCache.objects.in_bulk(ids)
    out = {i: Airing({int(e): t for e, t in rows[i].aired}, tuple((r, k) for r, k in rows[i].related))
           for i in ids if i in rows}
    missing = [i for i in ids if i not in rows or (len(rows[i].aired) < SCHEDULE_NODES and rows[i].fetched_at < day_old)]
    if not missing:
        return out
    try:
        if client is None:
            client = anilist_client()
        fetched = client.airing(media_ids=missing)
    except ApiError as exc:
        logger.warning("AniList air dates unavailable now (%s): placements follow the datasets", exc.__class__.__name__)
        return out
    now = timezone.now()
    for anilist_id, airing in fetched.items():
        AiringScheduleCache.objects.update_or_create(anilist_id=anilist_id, defaults={
            "aired": sorted([e, t] for e, t in airing.aired.items()), "related": [list(r) for r in airing.related],
            "fetched_at": now})
        out[anilist_id] = airing
    return out


class _AiringLookup:
    """The resolver's `airdates` and `related_shows`: the first entry that needs them fetches
    them for every entry of the batch being resolved, in as few AniList requests as possible."""

    def __init__(self, medias: Iterable):
        self.pending = [m.id for m in medias if (m.format or "").upper() != "MOVIE"]
        self.known: dict | None = None

    def _get(self, anilist_id: int):
        if self.known is None or anilist_id not in self.known:
            ids = [anilist_id] + [i for i in self.pending if i != anilist_id]
            self.known = {**(self.known or {}), **airing_cached(anilist_ids=ids)}
            self.pending = []
        return self.known.get(anilist_id)

    def airdates(self, anilist_id: int) -> dict[int, int]:
        airing = self._get(anilist_id)
        return airing.aired if airing is not None else {}

    def related_shows(self, anilist_id: int) -> list:
        airing = self._get(anilist_id)
        return related_shows(related=airing.related) if airing is not None else []


def mapping_resolve(*, media, force: bool = False, resolver: Resolver | None = None) -> Mapping:
    return mapping_resolve_many(medias=[media], force=force, resolver=resolver)[media.id]


def mapping_resolve_many(*, medias: Iterable, force: bool = False, resolver: Resolver | None = None) -> dict[int, Mapping]:
    medias = list({m.id: m for m in medias}.values())
    saved = _saved_rows([m.id for m in medias])
    out = {m.id: saved[m.id] for m in medias if _keep_saved(saved.get(m.id), force=force)}
    _forget_dates_placements_a_dataset_now_knows(out, medias)
    _fill_episode_counts(out, {m.id: m for m in medias})
    due, cached = ([], {}) if force else _placements_due(out, medias)
    todo = [m for m in medias if m.id not in out]
    if not todo and not due:
        return out
    resolver = resolver or default_resolver()
    lent = getattr(resolver, "airdates", "absent") is None and settings.AIRDATES_ENABLED
    if lent:
        lookup = _AiringLookup([m for m in medias if m.id in {r.anilist_id for r in due}] + todo)
        resolver.airdates, resolver.related_shows = lookup.airdates, lookup.related_shows
    try:
        if due:
            _rederive_each(due, {m.id: m for m in medias}, cached, out, resolver=resolver)
        if todo:
            _resolve_each(todo, source_facts_many(medias=todo), saved, out, force=force, resolver=resolver)
    finally:
        if lent:
            resolver.airdates = resolver.related_shows = None
    return out


def _resolve_each(todo: list, facts: dict, saved: dict, out: dict, *, force: bool, resolver: Resolver) -> None:
    for media in todo:
        previous = saved.get(media.id)
        # A manual row (adopted without a start) keeps its manual flag: only the start is found.
        pin = adopted_pin(previous) if not force or (previous and previous.is_manual) else None
        try:
            res = resolver.resolve(media, facts[media.id], pinned=pin)
        except ApiError as exc:
            if isinstance(exc, NotFound):
                raise
            # Trakt or TMDB is down: nothing is learnt, nothing is saved; the entry waits
            # (unsaved, unmapped) and is resolved again next time.
            logger.warning("Could not resolve AniList %s now: %s", media.id, exc)
            waiting = previous if previous is not None and pin is None else Mapping(
                anilist_id=media.id, title=media.title or "", unmapped_reason=f"{exc.service} did not answer ({exc.message}): try again later"
            )
            # Not saved: the engine keeps its plays wanted and tries again (`trakt_unavailable`).
            waiting.unavailable = exc.service
            out[media.id] = waiting
            continue
        try:
            with transaction.atomic():
                if not force and _placed(previous):
                    # A placement re-derived (a dataset now knows an entry the dates placed).
                    row = _settle(previous, media, res)
                else:
                    row = _apply(previous or Mapping(anilist_id=media.id), media, res)
                _check_collision(row)
                row.save()
                overlaps_report(row, resolver.seasons)
        except DataError as exc:
            out[media.id] = _unsavable(media, exc)
            continue
        if row.unmapped_reason:
            logger.warning("Unmapped AniList %s (%s): %s", media.id, row.title, row.unmapped_reason)
        out[media.id] = row


def _forget_dates_placements_a_dataset_now_knows(kept: dict[int, Mapping], medias: list) -> None:
    """An entry the air dates placed because no dataset knew it is resolved again once one does:
    the dataset's answer (itself checked against the dates) replaces the guess-free but
    dataset-less placement."""
    by_dates = [m for m in medias if m.id in kept and _by_dates(kept[m.id]) and kept[m.id].found_by in FOUND_BY_DATES]
    if not by_dates:
        return
    for anilist_id, facts in source_facts_many(medias=by_dates).items():
        if facts.otaku is not None or facts.fribb is not None or facts.anibridge:
            del kept[anilist_id]


def _placed(row: Mapping | None) -> bool:
    """A saved, non-manual placement with a start (what a re-derivation may move)."""
    return (row is not None and not row.is_manual and row.trakt_id is not None and not row.unmapped_reason
            and row.type == Mapping.Type.SHOW and row.start_season is not None)


def _rederivable(row: Mapping) -> bool:
    """A start in a regular season, from a dataset or from the dates: the placements a newer
    season list may confirm, correct or refute. Movies, specials and explicit ranges follow
    their rules as before."""
    return _placed(row) and row.start_season != 0 and not row.episode_ranges


def _by_dates(row: Mapping) -> bool:
    """A start the dates gave where no dataset gives one: by a relation, a title search, or on
    the show a dataset found without a start."""
    return row.placed_by == AIR_DATES


def _by_dates_on_a_found_show(row: Mapping) -> bool:
    """A start the dates gave on the show a dataset (or the original app) found without one."""
    return _by_dates(row) and row.found_by not in FOUND_BY_DATES


def _saved_rows(anilist_ids: list[int]) -> dict[int, Mapping]:
    """The saved rows, each with `seasons_read_at`: when its show's season list was last read
    from Trakt (None: not cached), in the same single query."""
    read_at = TraktSeasonCache.objects.filter(trakt_id=OuterRef("trakt_id")).values("fetched_at")[:1]
    return Mapping.objects.annotate(seasons_read_at=Subquery(read_at)).in_bulk(anilist_ids)


def _placements_due(kept: dict[int, Mapping], medias: list) -> tuple[list[Mapping], dict]:
    """The kept placements to derive again, and the cached seasons to do it with: the show's
    season list was read, with air dates, after the placement (a dataset's start or the
    dates') was derived, or the dates placed an entry on a dataset's show and the dataset now
    gives its start. Nothing here asks Trakt or AniList; a show with no cached season list
    waits for the run that reads it."""
    rows = {m.id: kept[m.id] for m in medias if m.id in kept and _rederivable(kept[m.id])}
    read = {i: r for i, r in rows.items() if getattr(r, "seasons_read_at", None) is not None and (
        r.dates_checked_at is None or r.seasons_read_at > r.dates_checked_at)}
    by_dates = [m for m in medias if m.id in rows and m.id not in read and _by_dates_on_a_found_show(rows[m.id])]
    known = _dataset_starts(by_dates, rows) if by_dates else set()
    if not read and not known:
        return [], {}
    cached = cached_show_seasons(trakt_ids={rows[i].trakt_id for i in {*read, *known}})
    undated = [i for i in read if not any(s.aired for s in cached.get(rows[i].trakt_id) or () if s.number > 0)]
    if undated:
        # Nothing to check against yet: derived again when a season list brings dates.
        Mapping.objects.filter(pk__in=undated).update(dates_checked_at=timezone.now())
    due = [rows[m.id] for m in medias if (m.id in read and m.id not in undated) or m.id in known]
    return [r for r in due if r.trakt_id in cached], cached


def _dataset_starts(medias: list, rows: dict[int, Mapping]) -> set[int]:
    """Those of the entries the dates placed on a dataset's show whose dataset now gives a start."""
    facts = source_facts_many(medias=medias)
    return {m.id for m in medias if start_candidates(facts[m.id], rows[m.id].tmdb_id, m.format, m.episodes)}


def _rederive_each(due: list[Mapping], medias: dict, cached: dict, out: dict, *, resolver: Resolver) -> None:
    """Place each due entry again on its saved Trakt show, from the cached seasons only (the
    show is not looked up again), and settle the result (`_settle`): a saved start only once
    the dates disagree with it, a start the dates gave once its dataset gives one."""
    facts = source_facts_many(medias=[medias[r.anilist_id] for r in due])
    own_seasons = resolver.seasons
    resolver.seasons = cached.get  # no Trakt request: the run reads (or has read) these lists itself
    try:
        for row in due:
            media = medias[row.anilist_id]
            res = _derived_again(row, media, facts[media.id], cached.get(row.trakt_id), resolver)
            if res is None:
                Mapping.objects.filter(pk=row.pk).update(dates_checked_at=timezone.now())
                continue
            try:
                with transaction.atomic():
                    settled = _settle(row, media, res)
                    _check_collision(settled)
                    settled.save()
            except DataError as exc:
                out[media.id] = _unsavable(media, exc)
                continue
            out[media.id] = settled
    finally:
        resolver.seasons = own_seasons


def _derived_again(row: Mapping, media, facts, seasons, resolver: Resolver) -> Resolution | None:
    """The entry's placement on its saved show as the current seasons and dates give it, or
    None when the saved start stands: the dates do not disagree with a dataset's start (a
    dataset row gone or changed since is no reason to move it), or a start the dates gave is
    still the only run that agrees (or the dates say nothing now)."""
    start = (row.start_season, row.start_episode)
    dataset_knows = _by_dates_on_a_found_show(row) and start_candidates(facts, row.tmdb_id, media.format,
                                                                          media.episodes)
    if _by_dates(row) and not dataset_knows:
        verdict = resolver.recheck_dates(media, start, seasons)
        return None if verdict.outcome in ("unknown", "confirmed") else _dates_moved(row, verdict)
    if not _by_dates(row) and resolver.check_dates(StartCandidate(*start, "saved"), start, seasons,
                                                   media).outcome in ("unknown", "confirmed"):
        return None
    found = Found(row.trakt_id, row.trakt_title, row.trakt_slug,
                  {"tmdb": row.tmdb_id, "tvdb": row.tvdb_id, "imdb": row.imdb_id}, row.found_by,
                  found_params(row.provenance))
    return resolver.place_on(media, facts, found)


def _dates_moved(row: Mapping, verdict) -> Resolution:
    """A start the dates gave that they now put elsewhere ("corrected": `source` names the new
    start) or nowhere ("refuted": the show is held, with the reason). The show and its ids are
    kept: only where the entry starts is in question."""
    kept = {"tmdb_id": row.tmdb_id, "tvdb_id": row.tvdb_id, "imdb_id": row.imdb_id,
            "trakt_title": row.trakt_title, "trakt_slug": row.trakt_slug,
            "found_by": row.found_by, "provenance": row.provenance}
    if verdict.start is None:
        return Resolution(kind="show", source=row.source, held_trakt_id=row.trakt_id, air_dates=HELD, unmapped_reason=(
            f"air dates no longer place it on Trakt show {row.trakt_id}: {verdict.reason}; map it manually"), **kept)
    season, number = verdict.start
    return Resolution(kind="show", trakt_id=row.trakt_id, start_season=season, start_episode=number,
                      placed_by=AIR_DATES, air_dates=PLACED,
                      source=placed_by_dates_words(row.found_by, row.provenance, verdict.start), **kept)


def _settle(row: Mapping, media, res: Resolution) -> Mapping:
    """A saved placement derived again: the new result, as at a first resolution (the same
    start keeps it; its `source` says what now backs it). Plays already posted at an old start
    are the sync's to move: it compares each with where its episode belongs now, takes ours off
    by history id and posts them at the new place (docs/sync.md, "Moves")."""
    after = (f"S{res.start_season}E{res.start_episode}" + (" (by ranges)" if res.ranges else "")
             if res.is_mapped else None)
    before = f"S{row.start_season}E{row.start_episode}"
    if not (res.is_mapped and res.trakt_id == row.trakt_id and after == before):
        logger.warning("AniList %s (%s): start %s of Trakt show %s derived again: %s", row.anilist_id, row.title,
                       before, row.trakt_id, f"now {after} ({res.source})" if after else res.unmapped_reason)
    return _apply(row, media, res)


def _unsavable(media, exc: DataError) -> Mapping:
    """One entry the database refused (e.g. a NUL in its data): it alone stays unmapped, with
    the reason on the unmapped list, and the run goes on with the others."""
    logger.warning("Could not save the mapping of AniList %s: %s", media.id, exc.__class__.__name__)
    title = (media.title or "").replace("\x00", "")
    return Mapping(anilist_id=media.id, title=title,
                   unmapped_reason=f"its AniList data could not be saved ({exc.__class__.__name__})")


def _fill_episode_counts(rows: dict[int, Mapping], medias: dict) -> None:
    """Saved rows learn the entry's episode count once AniList knows it (adopted rows never had
    one; airing entries get one when they finish) and when it grows (a 12-episode entry that
    turns out to have 13): placement places nothing past it."""
    stale = [row for aid, row in rows.items() if getattr(medias[aid], "episodes", None)
             and (row.episodes is None or medias[aid].episodes > row.episodes)]
    for row in stale:
        row.episodes = medias[row.anilist_id].episodes
    if stale:
        Mapping.objects.bulk_update(stale, ["episodes"])


@transaction.atomic
def show_seasons_refresh(*, trakt_id: int, seasons: list, medias: Iterable = ()) -> dict[int, Mapping]:
    """Cache a season list a run has just read from Trakt, then derive again, from it, the
    placements of `medias` (the run's entries mapped to that show) that its air dates may
    change: the run plans their plays with the placement these dates give, not with last
    week's (docs/mapping-decisions.md, "Re-checks"). Returns {AniList id: `Mapping`} of those
    entries as they are now."""
    show_seasons_store(trakt_id=trakt_id, seasons=seasons)
    medias = list(medias)
    return mapping_resolve_many(medias=medias) if medias else {}


def mappings_reresolve(*, rows: Iterable[Mapping], include_manual: bool = False,
                       resolver: Resolver | None = None) -> dict[str, int]:
    """Re-resolve saved rows from the sources (the admin action). Manual rows are skipped
    unless `include_manual`, in which case they lose their manual flag."""
    rows = list(rows)
    skipped = [r for r in rows if r.is_manual and not include_manual]
    chosen = [r for r in rows if not (r.is_manual and not include_manual)]
    for row in chosen:
        if row.is_manual:
            Mapping.objects.filter(pk=row.pk).update(is_manual=False)
    result = mapping_resolve_many(medias=[media_from_mapping(r) for r in chosen], force=True, resolver=resolver)
    mapped = sum(1 for r in result.values() if r.trakt_id is not None)
    return {"resolved": mapped, "unmapped": len(result) - mapped, "skipped_manual": len(skipped)}


def mapping_reset_progress(*, anilist_ids: Iterable[int]) -> int:
    """Forget what was synced for these entries, so the next sync re-plans them: their progress
    and their rows in the sync ledger."""
    anilist_ids = list(anilist_ids)
    LedgerItem.objects.filter(anilist_id__in=anilist_ids, what=LedgerItem.What.PLAY).delete()
    deleted, _ = SyncProgress.objects.filter(anilist_id__in=anilist_ids).delete()
    return deleted


def sources_refresh(*, source: str, progress=None, client=None, force: bool = False) -> SourceStatus:
    """Download, validate and atomically replace one source; a failure keeps the old data and
    is recorded on the returned status (`status.last_error`). `force` accepts a file the shrink
    guard would refuse (`importer.shrink_refusal`)."""
    if source not in importer.SOURCES:
        raise ValueError(f"unknown mapping source {source!r}")
    source_refreshes_interrupt_dead()
    with _RefreshBeat(source):
        status = importer.refresh(source, progress=progress, client=client, force=force)
    if status.ok and source in status_keys.SOURCE_LAST_SYNC:
        # The original app's dashboard (and an adopted database) read these keys.
        status_keys.stamp(status_keys.SOURCE_LAST_SYNC[source])
    return status


def sources_refresh_all(*, progress=None, client=None, force: bool = False) -> list[SourceStatus]:
    names = [n for n in importer.SOURCES if importer.source_url(n)]  # an empty URL turns a source off
    return [sources_refresh(source=n, progress=progress, client=client, force=force) for n in names]


def sources_refresh_new(*, progress=None, client=None) -> list[SourceStatus]:
    """Import the configured sources this install has never imported (one turned on, or made a
    default, after the first start) without waiting for the weekly refresh."""
    return [sources_refresh(source=n, progress=progress, client=client) for n in sources_never_imported()]


# A refresh beats every third of this while it works; one silent for longer was killed. Longer
# than a run's: on SQLite a beat waits behind the import's write transaction (about 10 s).
REFRESH_SILENT_SECONDS = 60
REFRESH_STOPPED = ("the refresh stopped before it ended (its worker was killed or restarted; last alive "
                   "{alive}); the previous import stays in use: press Refresh again")


def _utc(moment) -> str:
    return moment.astimezone(timezone.get_fixed_timezone(0)).strftime("%Y-%m-%d %H:%M:%S UTC")


class _RefreshBeat:
    """While a refresh works: its source's `refresh_beat_at` is stamped every third of
    `REFRESH_SILENT_SECONDS` by a daemon thread, and cleared when it ends."""

    def __init__(self, source: str, *, interval: float | None = None):
        self.source = source
        self.interval = REFRESH_SILENT_SECONDS / 3 if interval is None else interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> _RefreshBeat:
        SourceStatus.objects.get_or_create(source=self.source)
        SourceStatus.objects.filter(source=self.source).update(refresh_started_at=Now(), refresh_beat_at=Now())
        self._thread = threading.Thread(target=self._loop, daemon=True, name=f"refresh-{self.source}-heartbeat")
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
        SourceStatus.objects.filter(source=self.source).update(refresh_beat_at=None)

    def _loop(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    SourceStatus.objects.filter(source=self.source, refresh_beat_at__isnull=False).update(
                        refresh_beat_at=Now())
                except DatabaseError as exc:
                    logger.warning("Refresh of %s: heartbeat failed (%s); trying again", self.source,
                                   exc.__class__.__name__)
                    connections.close_all()
        finally:
            connections.close_all()  # this thread's own connection


def source_refreshes_interrupt_dead() -> list[str]:
    """Mark interrupted every refresh whose heartbeat stopped (its worker was killed): its
    source's status says so, and the dashboard offers Refresh again. Returns the sources."""
    stale = ExpressionWrapper(Now() - timedelta(seconds=REFRESH_SILENT_SECONDS), output_field=DateTimeField())
    marked = []
    for status in SourceStatus.objects.filter(refresh_beat_at__lt=stale):
        reason = REFRESH_STOPPED.format(alive=_utc(status.refresh_beat_at))
        if SourceStatus.objects.filter(source=status.source, refresh_beat_at=status.refresh_beat_at).update(
                refresh_beat_at=None, refresh_task_id="", last_error=reason, last_attempt_at=status.refresh_started_at):
            logger.error("Refresh of %s interrupted: %s", status.source, reason)
            marked.append(status.source)
    return marked


def source_refresh_give_up(*, source: str, task_id: str, reason: str) -> None:
    """A queued refresh no worker will run (`reason` says why): its status says so, and the
    dashboard offers Refresh again. Left alone once it has started."""
    if SourceStatus.objects.filter(source=source, refresh_task_id=task_id).filter(
            Q(refresh_started_at__isnull=True) | Q(refresh_started_at__lt=F("refresh_queued_at"))).update(
            refresh_task_id="", last_error=f"the refresh was not run: {reason}"):
        logger.error("Refresh of %s given up: %s", source, reason)


def source_refresh_queued(*, source: str, task_id: str) -> None:
    """Remember the refresh the dashboard queued, so its panel knows how long it has waited."""
    SourceStatus.objects.get_or_create(source=source)
    # The database's clock, like the refresh's own start and heartbeat it is compared with.
    SourceStatus.objects.filter(source=source).update(refresh_task_id=task_id[:64], refresh_queued_at=Now())


def overrides_legacy_convert() -> dict[str, int]:
    return convert_legacy_overrides(LegacyEpisodeOverride.objects.all())
