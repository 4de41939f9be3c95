"""Reads of mappings, overrides and mapping sources."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import QuerySet

from mappings import importer
from mappings.models import (
    AniBridgeRange,
    EpisodeOverride,
    FribbEntry,
    Mapping,
    OtakuEntry,
    SourceStatus,
)
from mappings.placement import EpisodeRange, MappingSpec, disputed_episodes
from mappings.provenance import CORRECTED, HELD, PLACED, corrected_words, dates_words
from mappings.resolver import RelatedShow, SourceFacts


def overrides_for(*, anilist_ids: Iterable[int]) -> dict[int, dict[int, tuple[int, int]]]:
    """{anilist_id: {anilist_episode: (season, episode)}} for the given entries (one query)."""
    out: dict[int, dict[int, tuple[int, int]]] = defaultdict(dict)
    rows = EpisodeOverride.objects.filter(mapping_id__in=list(anilist_ids)).values_list(
        "mapping_id", "anilist_episode", "season", "episode"
    )
    for anilist_id, anilist_episode, season, episode in rows:
        out[anilist_id][anilist_episode] = (season, episode)
    return dict(out)


def mappings_by_anilist_id() -> Iterator[Mapping]:
    """Every mapping, manual and automatic, by AniList id, read in chunks (tens of thousands)."""
    return Mapping.objects.order_by("anilist_id").iterator(chunk_size=2000)


def mapping_get(*, anilist_id: int) -> Mapping | None:
    return Mapping.objects.filter(anilist_id=anilist_id).first()


def unmapped_mappings() -> QuerySet[Mapping]:
    return Mapping.objects.filter(trakt_id__isnull=True).order_by("title", "anilist_id")


def source_statuses() -> list[SourceStatus]:
    """One status per known source, in a fixed order; sources never refreshed show zeros."""
    saved = {s.source: s for s in SourceStatus.objects.all()}
    return [saved.get(name) or SourceStatus(source=name) for name in SourceStatus.Source.values]


def sources_never_imported() -> list[str]:
    """Sources with a download URL set that no refresh has imported yet."""
    imported = set(SourceStatus.objects.filter(refreshed_at__isnull=False).values_list("source", flat=True))
    return [name for name in importer.SOURCES if importer.source_url(name) and name not in imported]


# A dashboard refresh normally ends within two minutes (download, then ~10 s of import); one
# still unfinished after this long was lost with its worker (django-q would only redeliver it
# after Q_RETRY, an hour), so the panel stops waiting and says so.
REFRESH_GIVE_UP = timedelta(minutes=15)


def refresh_wait(*, status: SourceStatus, task_id: str, finished: bool, now: datetime) -> str:
    """What the panel does about a queued refresh: `wait`, `done`, or `gave_up`.

    Only the refresh this install queued last for the source is waited for: another id (an
    old bookmark, a made-up one) is treated as done rather than polled for ever."""
    if finished or not task_id or status.refresh_task_id != task_id or status.refresh_queued_at is None:
        return "done"
    return "gave_up" if now - status.refresh_queued_at > REFRESH_GIVE_UP else "wait"


def mapping_spec(mapping: Mapping) -> MappingSpec | None:
    """What placement needs from a saved mapping; None while it is unmapped.

    A show row without a start (adopted from the original app, which never stored a season) or
    a row that does not say show or movie is not placeable: defaulting to S1E1 would post a
    sequel's episodes onto season 1. `mapping_resolve` completes such rows first."""
    if mapping.trakt_id is None or mapping.unmapped_reason:
        return None
    if mapping.type not in (Mapping.Type.SHOW, Mapping.Type.MOVIE):
        return None
    ranges = tuple(EpisodeRange(*r) for r in mapping.episode_ranges or ())
    if mapping.type == Mapping.Type.SHOW and mapping.start_season is None and not ranges:
        return None
    return MappingSpec(
        kind=mapping.type,
        trakt_id=mapping.trakt_id,
        start_season=mapping.start_season if mapping.start_season is not None else 1,
        start_episode=mapping.start_episode or 1,
        episodes=mapping.episodes,
        ranges=ranges,
        note=_air_dates_note(mapping),
    )


def _air_dates_note(mapping: Mapping) -> str:
    """What the air dates decided ("start fribb S1E27, corrected to S1E26 by air dates"), for
    the preview line of each play; "" for any other mapping."""
    start = (mapping.start_season, mapping.start_episode)
    if mapping.air_dates == CORRECTED:
        return corrected_words(mapping.placed_by, mapping.provenance or {}, start)
    return dates_words(start, mapping.provenance or {}) if mapping.air_dates == PLACED else ""


def source_facts_many(*, medias: Iterable) -> dict[int, SourceFacts]:
    """SourceFacts per AniList id, in a handful of queries whatever the number of entries.

    Otaku rows are found by AniList id, else MAL id; Fribb entries by AniList id, else MAL id,
    else the AniDB id Otaku gives (Fribb's reduced list is keyed by AniDB id only).
    """
    medias = list(medias)
    ids = [m.id for m in medias]
    mals = [m.id_mal for m in medias if m.id_mal]
    otaku_by_anilist = {r.anilist_id: r for r in OtakuEntry.objects.filter(anilist_id__in=ids)}
    otaku_by_mal = {r.mal_id: r for r in OtakuEntry.objects.filter(mal_id__in=mals)} if mals else {}
    otaku = {m.id: otaku_by_anilist.get(m.id) or otaku_by_mal.get(m.id_mal) for m in medias}
    anidbs = [r.anidb_id for r in otaku.values() if r is not None and r.anidb_id]
    fribb_rows = FribbEntry.objects.filter(anilist_id__in=ids) | FribbEntry.objects.filter(
        mal_id__in=mals
    ) | FribbEntry.objects.filter(anidb_id__in=anidbs)
    by = {"anilist": {}, "mal": {}, "anidb": {}}
    for row in fribb_rows.order_by("id"):
        for key, value in (("anilist", row.anilist_id), ("mal", row.mal_id), ("anidb", row.anidb_id)):
            if value is not None:
                by[key].setdefault(value, row)
    ranges: dict[int, list] = defaultdict(list)
    for row in AniBridgeRange.objects.filter(anilist_id__in=ids):
        ranges[row.anilist_id].append(row)
    out = {}
    for m in medias:
        o = otaku[m.id]
        fribb = by["anilist"].get(m.id) or by["mal"].get(m.id_mal) or (
            by["anidb"].get(o.anidb_id) if o is not None and o.anidb_id else None
        )
        out[m.id] = SourceFacts(otaku=o, fribb=fribb, anibridge=tuple(ranges.get(m.id, ())))
    return out


@dataclass(frozen=True)
class Dispute:
    """Two entries of one Trakt show that claim the same Trakt episodes: those are held (not
    posted) for each entry named in `held_*`; every other episode of both is posted."""

    trakt_id: int
    first: Mapping
    second: Mapping
    held_first: tuple[tuple[int, int], ...]
    held_second: tuple[tuple[int, int], ...]


# Trakt show ids -> {show id: its seasons, or None when unknown}: one call for all the shows,
# so a page reading cached seasons makes one query whatever the number of shows.
SeasonsFor = Callable[[set[int]], dict[int, object]]


def disputes(*, trakt_ids: Iterable[int] | None = None, seasons_for: SeasonsFor) -> list[Dispute]:
    """Every pair of mapped entries on one Trakt show (all shows, or `trakt_ids`) with held
    episodes, computed from the mappings and overrides as they are now, so a decision (an
    override, a new manual mapping) counts at once. `seasons_for` reads the season lists (the
    plan passes the ones it has; the dashboard the cached ones). At most three queries."""
    shows = Mapping.objects.filter(type=Mapping.Type.SHOW, trakt_id__isnull=False, unmapped_reason="")
    if trakt_ids is not None:
        shows = shows.filter(trakt_id__in=list(trakt_ids))
    by_show: dict[int, list[tuple[Mapping, MappingSpec]]] = defaultdict(list)
    for row in shows.order_by("trakt_id", "anilist_id"):
        spec = mapping_spec(row)
        if spec is not None:
            by_show[row.trakt_id].append((row, spec))
    crowded = {show: rows for show, rows in by_show.items() if len(rows) > 1}
    if not crowded:
        return []
    overrides = overrides_for(anilist_ids=[row.anilist_id for rows in crowded.values() for row, _ in rows])
    layouts = seasons_for(set(crowded))
    found: list[Dispute] = []
    for show, rows in crowded.items():
        seasons = layouts.get(show)
        for i, (row_a, spec_a) in enumerate(rows):
            for row_b, spec_b in rows[i + 1:]:
                held_a, held_b = disputed_episodes((spec_a, overrides.get(row_a.anilist_id, {})),
                                                   (spec_b, overrides.get(row_b.anilist_id, {})), seasons)
                if held_a or held_b:
                    found.append(Dispute(show, row_a, row_b, tuple(sorted(held_a)), tuple(sorted(held_b))))
    return found


def held_episodes(*, anilist_ids: Iterable[int], seasons_for: SeasonsFor) -> dict[int, dict[tuple[int, int], Mapping]]:
    """{AniList id: {(season, episode): the other entry}}: the Trakt episodes each given entry
    must not post, because another entry claims them too (see `disputes`)."""
    wanted = set(anilist_ids)
    shows = set(Mapping.objects.filter(anilist_id__in=wanted, trakt_id__isnull=False)
                .values_list("trakt_id", flat=True))
    held: dict[int, dict[tuple[int, int], Mapping]] = defaultdict(dict)
    for dispute in disputes(trakt_ids=shows, seasons_for=seasons_for) if shows else []:
        for mine, other, episodes in ((dispute.first, dispute.second, dispute.held_first),
                                      (dispute.second, dispute.first, dispute.held_second)):
            if mine.anilist_id in wanted:
                for episode in episodes:
                    held[mine.anilist_id].setdefault(episode, other)
    return dict(held)


def mappings_by_air_dates(queryset, *, held: bool = False):
    """The mappings the air dates placed or corrected, or (`held`) the ones they held back."""
    if held:
        return queryset.filter(trakt_id__isnull=True, air_dates=HELD)
    return queryset.filter(trakt_id__isnull=False, air_dates__in=[PLACED, CORRECTED])


# AniList relations whose mapped Trakt show may hold the entry too (a side story does not).
SHOW_RELATIONS = ("PREQUEL", "SEQUEL", "PARENT")


def related_shows(*, related) -> list:
    """AniList's related entries that may share the entry's Trakt show (PREQUEL, SEQUEL, PARENT),
    as `RelatedShow`s: with the Trakt show each is mapped to, or `trakt_id` None while it is
    unmapped, held, or a movie."""
    kinds = {anilist_id: kind for anilist_id, kind in related if kind in SHOW_RELATIONS}
    rows = {r.anilist_id: r for r in Mapping.objects.filter(anilist_id__in=list(kinds), type=Mapping.Type.SHOW,
                                                            trakt_id__isnull=False, unmapped_reason="")}
    return [RelatedShow(aid, kind, rows[aid].trakt_id, rows[aid].trakt_title, rows[aid].trakt_slug)
            if aid in rows else RelatedShow(aid, kind, None) for aid, kind in sorted(kinds.items())]
