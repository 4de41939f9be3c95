"""Rows a test starts from: manual mappings of an AniList entry to a Trakt show or movie."""

from mappings.models import Mapping


def map_show(anilist_id: int, trakt_id: int, *, season: int = 1, episode: int = 1, title: str = "") -> Mapping:
    return Mapping.objects.create(anilist_id=anilist_id, trakt_id=trakt_id, type="show", is_manual=True,
                                  start_season=season, start_episode=episode, title=title or f"Anime {anilist_id}",
                                  source="manual")


def map_movie(anilist_id: int, trakt_id: int, *, episodes: int = 1) -> Mapping:
    return Mapping.objects.create(anilist_id=anilist_id, trakt_id=trakt_id, type="movie", is_manual=True,
                                  episodes=episodes, title=f"Movie {anilist_id}", source="manual")
