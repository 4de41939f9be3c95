"""Start-up checks: what must be configured before the app may serve or sync.

Production (DEBUG off) refuses to start without the required secrets; with DEBUG on the app
starts and every page shows what is missing (see `config.context_processors`).
"""

import os

from django.conf import settings
from django.core.checks import Error, Warning, register
from django.core.exceptions import ImproperlyConfigured

REQUIRED_SECRETS = ("SECRET_KEY", "ANILIST_ACCESS_TOKEN", "TRAKT_CLIENT_ID", "TRAKT_CLIENT_SECRET")


def missing_secrets() -> list[str]:
    """Names of the required variables that are not set."""
    missing = [name for name in REQUIRED_SECRETS if not getattr(settings, name, "")]
    if "SECRET_KEY" not in missing and settings.SECRET_KEY == settings.DEV_SECRET_KEY:
        missing.insert(0, "SECRET_KEY")
    return missing


def supabase_rest_only() -> bool:
    """True when only the original app's Supabase REST credentials are configured."""
    has_rest = bool(os.environ.get("SUPABASE_URL") or os.environ.get("SUPABASE_SERVICE_ROLE_KEY"))
    return has_rest and not os.environ.get("DATABASE_URL")


SUPABASE_HINT = (
    "SUPABASE_URL / SUPABASE_SERVICE_ROLE_KEY are REST credentials and cannot be used here: set "
    "DATABASE_URL to the Postgres connection string (Supabase: Project Settings > Database > "
    "Connection string, 'Direct' or 'Session pooler'). Using the local SQLite file for now."
)


def missing_secrets_message(missing: list[str]) -> str:
    return (
        f"Missing required setting(s): {', '.join(missing)}. Set them in the environment or in "
        "`.env` (README, 'Configuration'), or set DEBUG=true to start without them."
    )


def ensure_required_secrets() -> None:
    """Raise at start-up in production when a required secret is missing."""
    missing = missing_secrets()
    if missing and not settings.DEBUG:
        raise ImproperlyConfigured(missing_secrets_message(missing))


@register()
def required_secrets_check(app_configs, **kwargs):
    problems = []
    missing = missing_secrets()
    if missing and not settings.DEBUG:
        problems.append(Error(missing_secrets_message(missing), id="config.E001"))
    if supabase_rest_only():
        problems.append(Warning(SUPABASE_HINT, id="config.W001"))
    return problems


@register()
def lease_outlasts_a_request_check(app_configs, **kwargs):
    """A history POST goes out only while its run holds the lease; it must land before the lease
    can pass to another run, or that run could reconcile the batch too early (docs/sync.md)."""
    if settings.HTTP_TIMEOUT_SECONDS >= settings.SYNC_LEASE_SECONDS:
        return [Error(
            f"HTTP_TIMEOUT_SECONDS ({settings.HTTP_TIMEOUT_SECONDS:g}) must be shorter than "
            f"SYNC_LEASE_SECONDS ({settings.SYNC_LEASE_SECONDS}): raise SYNC_LEASE_SECONDS or lower the timeout.",
            id="config.E002")]
    return []
