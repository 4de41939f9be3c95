"""Whether this app is registered with Trakt: the one check the pages, the API and the OAuth
flows share (a preview needs the client id too, a connection both)."""

from django.conf import settings


def trakt_app_configured() -> bool:
    """TRAKT_CLIENT_ID and TRAKT_CLIENT_SECRET are both set."""
    return bool(settings.TRAKT_CLIENT_ID and settings.TRAKT_CLIENT_SECRET)
