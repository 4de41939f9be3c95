"""The clients, built from settings here and only here."""

from syncer.clients.anilist import AniListClient
from syncer.clients.tmdb import TmdbClient
from syncer.clients.trakt import TraktClient


def anilist_client() -> AniListClient:
    return AniListClient()


def trakt_client(*, authenticated: bool = True) -> TraktClient:
    """A Trakt client whose token comes from the database token store (refreshed as needed)."""
    from syncer.trakt_auth import DatabaseTokenStore

    return TraktClient(token_store=DatabaseTokenStore() if authenticated else None)


def tmdb_client() -> TmdbClient:
    return TmdbClient()
