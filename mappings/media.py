"""An `AniListMedia` rebuilt from a saved mapping, so rows can be re-resolved without AniList."""

from mappings.models import Mapping
from syncer.clients.anilist import AniListMedia, FuzzyDate


def media_from_mapping(row: Mapping) -> AniListMedia:
    return AniListMedia(
        id=row.anilist_id, id_mal=row.mal_id, format=row.anilist_format or None,
        episodes=row.episodes, title_romaji=None, title_english=row.title or None,
        title_native=None, start_date=FuzzyDate(), season_year=None,
    )
