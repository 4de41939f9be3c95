"""The original app's keys in `system_config` (`status:*`, `lastSyncTimestamp`), in one place:
the engine, the mapping refresh, the API and the dashboard read and write them here, so an
adopted database and this app keep meaning the same thing by each key."""

from django.utils import timezone

from syncer.isotime import js_iso
from syncer.models import SystemConfig

CURSOR = "lastSyncTimestamp"  # the incremental sync's cursor, Unix seconds
LAST_RUN = "status:sync:last-run"
LAST_RUN_AUTO = "status:sync:last-run-auto"
MODE_LAST_RUN = {"completed": "status:sync:completed:last-run", "watching": "status:sync:watching:last-run"}
SOURCE_LAST_SYNC = {"otaku": "status:otaku:last-sync", "fribb": "status:fribbs:last-sync"}
OTAKU_LAST_ACTIVITY = "status:otaku:last-activity"
WATCHLIST_FULL = "status:watchlist:full"
SERVICE = "status:service:{service}"  # what the last request to a service learned


def config_get(key: str) -> str | None:
    return SystemConfig.objects.filter(key=key).values_list("value", flat=True).first()


def config_set(key: str, value: str) -> None:
    SystemConfig.objects.update_or_create(key=key, defaults={"value": value})


def config_forget(key: str) -> None:
    SystemConfig.objects.filter(key=key).delete()


def stamp(key: str) -> None:
    """Write now, in the original's format, under `key`."""
    config_set(key, js_iso(timezone.now()))
