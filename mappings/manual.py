"""A person's mapping, whichever door it comes through (the admin, `/manual/`, `/api/manual-map`).

The rule, written once:
- the Trakt show or movie exists;
- for a show, the start season exists and the start episode is one of its episodes, exactly: a
  start past the end of a season is refused, not counted on into the next one (the sources'
  offsets may spill over a split season, a person names the episode they mean);
- an overlap with another entry of the same show is allowed and reported (`row.overlaps`), the
  plan holds only the shared episodes (`mappings.services.overlaps_report`);
- the row is saved by `mapping_set_manual`: `is_manual`, `source = "manual"`, no unmapped
  reason, never overwritten by a re-resolve.
Anything wrong raises `ManualMappingRefused` with one sentence for the person, which each door
shows in its own way (a form error, a JSON 400).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction

from mappings.models import Mapping
from mappings.provenance import MANUAL
from mappings.seasons import cached_show_seasons, trakt_show_seasons
from mappings.services import overlaps_report
from syncer.clients.trakt import TraktClient
from syncer.connections import trakt_client
from syncer.http import ApiError, NotFound

logger = logging.getLogger("mappings")
EXTERNAL_IDS = ("tmdb_id", "imdb_id", "tvdb_id")


class ManualMappingRefused(Exception):
    """What is wrong, in one sentence; `field` names the input it is about ("trakt",
    "start_season", "start_episode") or is "" when it is about none in particular."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class TraktTarget:
    """What Trakt confirmed for a manual mapping (start season and episode None for a movie)."""

    kind: str
    trakt_id: int
    title: str
    slug: str
    start_season: int | None
    start_episode: int | None


def manual_target_check(*, ref: str | int, kind: str, start_season: int | None = None,
                        start_episode: int | None = None, client: TraktClient | None = None) -> TraktTarget:
    """Confirm on Trakt that the show or movie `ref` (an id or slug) exists and, for a show, that
    the start season and episode do (1 and 1 when not given). Season lists come through the
    season cache. Raises `ManualMappingRefused`."""
    client = client or trakt_client(authenticated=False)
    what = f"{kind} {ref}"
    try:
        summary = client.show(ref) if kind == Mapping.Type.SHOW else client.movie(ref)
    except NotFound:
        raise ManualMappingRefused(f"Trakt has no {what}. Check the id or URL.", field="trakt") from None
    except ApiError as exc:
        raise ManualMappingRefused(f"Trakt could not be asked about {what} ({exc}); try again.",
                                   field="trakt") from None
    title = summary.title or what
    trakt_id, slug = summary.trakt_id, summary.slug or ""
    if kind != Mapping.Type.SHOW:
        return TraktTarget(kind=kind, trakt_id=trakt_id, title=title, slug=slug, start_season=None,
                           start_episode=None)
    season = 1 if start_season is None else start_season
    episode = start_episode or 1
    _check_start(trakt_id=trakt_id, title=title, season=season, episode=episode, client=client)
    return TraktTarget(kind=kind, trakt_id=trakt_id, title=title, slug=slug, start_season=season,
                       start_episode=episode)


def _check_start(*, trakt_id: int, title: str, season: int, episode: int, client: TraktClient) -> None:
    try:
        seasons = {s.number: s.episodes for s in trakt_show_seasons(trakt_id=trakt_id, client=client)}
    except ApiError as exc:
        raise ManualMappingRefused(f"Trakt could not list the seasons of {title} ({exc}); try again.") from None
    if season not in seasons:
        have = ", ".join(str(n) for n in sorted(seasons)) or "none"
        raise ManualMappingRefused(f"{title} has no season {season} on Trakt (its seasons: {have}).",
                                   field="start_season")
    episodes = seasons[season]
    if episode not in episodes:
        span = f"{min(episodes)}–{max(episodes)}" if episodes else "none"
        raise ManualMappingRefused(
            f"Season {season} of {title} has no episode {episode} on Trakt (its episodes: {span}).",
            field="start_episode",
        )


@transaction.atomic
def manual_target_save(*, anilist_id: int, target: TraktTarget, title: str = "",
                       external_ids: dict[str, int | str | None] | None = None) -> Mapping:
    """Save a target `manual_target_check` confirmed (a form checks before it saves). Ids in
    `external_ids` (tmdb_id, imdb_id, tvdb_id) are set, an explicit None clears one, the others
    keep their value. `row.overlaps` lists what the entry shares with another of the show."""
    unknown = set(external_ids or {}) - set(EXTERNAL_IDS)
    if unknown:
        raise TypeError(f"unexpected ids: {sorted(unknown)}")
    row = mapping_set_manual(
        anilist_id=anilist_id, trakt_id=target.trakt_id, kind=target.kind,
        start_season=target.start_season, start_episode=target.start_episode,
        title=title, trakt_title=target.title, trakt_slug=target.slug,
    )
    if external_ids:
        for name, value in external_ids.items():
            setattr(row, name, value)
        row.save(update_fields=list(external_ids))
    return row


def manual_mapping_save(*, anilist_id: int, ref: str | int, kind: str, start_season: int | None = None,
                        start_episode: int | None = None, title: str = "",
                        external_ids: dict[str, int | str | None] | None = None,
                        client: TraktClient | None = None) -> Mapping:
    """Check on Trakt, then save: the whole rule for a door that checks and saves at once."""
    target = manual_target_check(ref=ref, kind=kind, start_season=start_season, start_episode=start_episode,
                                 client=client)
    return manual_target_save(anilist_id=anilist_id, target=target, title=title, external_ids=external_ids)


def mapping_set_manual(
    *, anilist_id: int, trakt_id: int, kind: str, start_season: int = 1, start_episode: int = 1,
    title: str = "", trakt_title: str = "", trakt_slug: str = "", seasons_of=None,
) -> Mapping:
    """Save a person's mapping, already checked (`manual_target_check`): it wins over every
    source and is never overwritten by a re-resolve."""
    row = Mapping.objects.filter(anilist_id=anilist_id).first() or Mapping(anilist_id=anilist_id)
    row.trakt_id = trakt_id
    row.type = kind
    row.is_manual = True
    row.start_season = start_season if kind == Mapping.Type.SHOW else None
    row.start_episode = start_episode if kind == Mapping.Type.SHOW else None
    row.episode_ranges = []
    row.held_trakt_id = None
    row.title = title or row.title
    row.trakt_title = trakt_title or row.trakt_title
    row.trakt_slug = trakt_slug or row.trakt_slug
    row.source = row.found_by = row.placed_by = MANUAL
    row.air_dates, row.provenance = "", {}
    row.unmapped_reason = ""
    row.save()
    logger.info("Manual mapping: AniList %s -> Trakt %s %s", anilist_id, kind, trakt_id)
    # What the new mapping shares with another entry of the show, for the page to show at once
    # (not stored: the plan works it out again from the mappings as they are then).
    row.overlaps = overlaps_report(row, seasons_of or _cached_seasons) if kind == Mapping.Type.SHOW else []
    return row


def _cached_seasons(trakt_id: int):
    """The show's seasons from the sync's cache, without a request (the manual form has already
    asked Trakt about the show); None (unknown) counts from the start instead."""
    return cached_show_seasons(trakt_ids={trakt_id}).get(trakt_id)
