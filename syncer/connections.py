"""The three services as this app reaches them: each client built from settings here and
only here, Trakt's with the database token store (`syncer.trakt_connection`)."""

from syncer.clients.anilist import AniListClient
from syncer.clients.tmdb import TmdbClient
from syncer.clients.trakt import TraktClient
from syncer.trakt_connection.tokens import DatabaseTokenStore


def anilist_client() -> AniListClient:
    return AniListClient()


def trakt_client(*, authenticated: bool = True) -> TraktClient:
    """A Trakt client whose token comes from the database token store (refreshed as needed);
    `authenticated=False` for the public reads (season lists), which need no token."""
    return TraktClient(token_store=DatabaseTokenStore() if authenticated else None)


def tmdb_client() -> TmdbClient:
    return TmdbClient()
