"""Convert the original's `episode_override` rows (Trakt show + "abs", the AniList episode
number) into per-AniList-entry `EpisodeOverride` rows.

The original's key collides when two AniList entries share a Trakt show (AoT S3 Part 1 and
Part 2 both have an episode 3), so a row is converted only when exactly one saved mapping of
that show can own it. The rest stay in `episode_override`, visible in the admin.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from django.db import transaction

from mappings.models import EpisodeOverride, LegacyEpisodeOverride, Mapping


def owner(legacy: LegacyEpisodeOverride, candidates: Sequence[Mapping]) -> Mapping | None:
    """The one mapping of the show that can have AniList episode `abs`, or None if unclear."""
    fits = [m for m in candidates if m.episodes is None or 1 <= legacy.abs <= m.episodes]
    if len(fits) > 1:
        # Several entries have that episode number: the target season decides, if only one
        # of them starts in it.
        fits = [m for m in fits if m.start_season == legacy.season and (m.start_episode or 1) <= legacy.episode]
    return fits[0] if len(fits) == 1 else None


@transaction.atomic
def convert_legacy_overrides(rows: Iterable[LegacyEpisodeOverride]) -> dict[str, int]:
    rows = list(rows)
    shows = defaultdict(list)
    for m in Mapping.objects.filter(trakt_id__in={r.trakt_id for r in rows}, type=Mapping.Type.SHOW):
        shows[m.trakt_id].append(m)
    existing = set(EpisodeOverride.objects.values_list("mapping_id", "anilist_episode"))
    converted = already = left = 0
    for row in rows:
        mapping = owner(row, shows.get(row.trakt_id, []))
        if mapping is None:
            left += 1
            continue
        if (mapping.anilist_id, row.abs) in existing:
            already += 1  # converted before, or set by a person since: theirs wins
            continue
        EpisodeOverride.objects.create(mapping=mapping, anilist_episode=row.abs, season=row.season,
                                       episode=row.episode)
        existing.add((mapping.anilist_id, row.abs))
        converted += 1
    return {"converted": converted, "already": already, "left": left}


def converted_to(row: LegacyEpisodeOverride) -> EpisodeOverride | None:
    return (
        EpisodeOverride.objects.filter(mapping__trakt_id=row.trakt_id, anilist_episode=row.abs,
                                       season=row.season, episode=row.episode)
        .select_related("mapping").first()
    )
