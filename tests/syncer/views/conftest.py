import time

import pytest


@pytest.fixture
def accounts_ready(settings):
    """AniList and the Trakt app configured and Trakt connected: what a run needs to start."""
    from syncer.trakt_connection.tokens import trakt_token_save

    settings.ANILIST_ACCESS_TOKEN = "anilist-token"
    settings.TRAKT_CLIENT_ID, settings.TRAKT_CLIENT_SECRET = "client-id", "client-secret"
    trakt_token_save(payload={"access_token": "acc", "refresh_token": "ref", "expires_in": 7 * 86400,
                              "created_at": int(time.time())}, username="kaori")
