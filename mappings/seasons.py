"""A Trakt show's seasons (episode numbers and air dates), cached in the database so a sync does
not refetch them: the placement data every mapping is checked against."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from mappings.models import TraktSeasonCache
from syncer.clients.trakt import Season, TraktClient
from syncer.connections import trakt_client


def _to_json(seasons: list[Season]) -> list[dict]:
    # Air dates as [episode, day number] pairs, only where Trakt has one: a few bytes per
    # episode, and rows cached before dates were read simply have none.
    return [{"number": s.number, "episodes": list(s.episodes), **({"aired": [list(a) for a in s.aired]} if s.aired else {}),
             **({"tmdb": s.tmdb_id} if s.tmdb_id else {})}
            for s in seasons]


def _from_json(rows: list[dict]) -> list[Season]:
    return [Season(number=r["number"], episodes=tuple(r["episodes"]), aired=tuple(tuple(a) for a in r.get("aired") or ()),
                   tmdb_id=r.get("tmdb"))
            for r in rows]


def trakt_show_seasons(*, trakt_id: int, client: TraktClient | None = None) -> list[Season]:
    """Seasons with their episode numbers, from the cache when younger than
    TRAKT_SEASON_CACHE_DAYS, else fetched from Trakt and stored. Raises `NotFound` for an
    unknown show (nothing is cached then)."""
    fresh_after = timezone.now() - timedelta(days=settings.TRAKT_SEASON_CACHE_DAYS)
    cached = TraktSeasonCache.objects.filter(trakt_id=trakt_id, fetched_at__gt=fresh_after).first()
    if cached is not None:
        return _from_json(cached.seasons)
    if client is None:
        client = trakt_client(authenticated=False)
    seasons = client.show_seasons(trakt_id)
    show_seasons_store(trakt_id=trakt_id, seasons=seasons)
    return seasons


def fresh_show_seasons(*, trakt_ids: set[int]) -> dict[int, list[Season]]:
    """The cached seasons of these shows younger than TRAKT_SEASON_CACHE_DAYS, in one query:
    what a sync need not read again."""
    fresh_after = timezone.now() - timedelta(days=settings.TRAKT_SEASON_CACHE_DAYS)
    rows = TraktSeasonCache.objects.filter(trakt_id__in=list(trakt_ids), fetched_at__gt=fresh_after).values_list(
        "trakt_id", "seasons")
    return {trakt_id: _from_json(seasons) for trakt_id, seasons in rows}


def show_seasons_store(*, trakt_id: int, seasons: list[Season]) -> None:
    """Cache a season list read from Trakt (by a sync's reading thread, which leaves the
    database to the run's own thread). `services.show_seasons_refresh` also re-checks the
    placements the new list may change."""
    TraktSeasonCache.objects.update_or_create(
        trakt_id=trakt_id, defaults={"seasons": _to_json(seasons), "fetched_at": timezone.now()}
    )


def cached_show_seasons(*, trakt_ids: set[int]) -> dict[int, list[Season]]:
    """The cached seasons of these shows, however old, in one query: for reads that must not
    call Trakt (the dashboard's list of disputed episodes, the manual mapping check)."""
    rows = TraktSeasonCache.objects.filter(trakt_id__in=list(trakt_ids)).values_list("trakt_id", "seasons")
    return {trakt_id: _from_json(seasons) for trakt_id, seasons in rows}


def trakt_season_cache_clear(*, trakt_id: int | None = None) -> int:
    """Forget cached seasons (one show, or all); returns how many rows were removed."""
    rows = TraktSeasonCache.objects.all() if trakt_id is None else TraktSeasonCache.objects.filter(trakt_id=trakt_id)
    return rows.delete()[0]
