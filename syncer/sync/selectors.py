"""Reads for the sync views and the API."""

from __future__ import annotations

from django.db.models import QuerySet

from syncer.models import SyncRun, SyncRunItem
from syncer.sync import runs


def sync_status() -> dict:
    """The original's status keys (ISO strings or None) plus the run in progress, if any."""
    return {
        "lastManualSync": runs.config_get(runs.LAST_RUN),
        "lastAutomatedSync": runs.config_get(runs.LAST_RUN_AUTO),
        "lastCompletedSync": runs.config_get(runs.MODE_KEYS[SyncRun.Mode.COMPLETED]),
        "lastWatchingSync": runs.config_get(runs.MODE_KEYS[SyncRun.Mode.WATCHING]),
        "lastSyncTimestamp": runs.cursor_get(),
        "running": SyncRun.objects.filter(state=SyncRun.State.RUNNING, dry_run=False).first(),
    }


def run_items(*, run: SyncRun) -> QuerySet[SyncRunItem]:
    return SyncRunItem.objects.filter(run=run).order_by("position")


def run_unmapped(*, run: SyncRun) -> list[dict]:
    """Every unmapped title of a run once, with its AniList id and the reason."""
    seen: dict[int, dict] = {}
    for item in run_items(run=run).filter(action=SyncRunItem.Action.UNMAPPED):
        seen.setdefault(item.anilist_id, {"anilist_id": item.anilist_id, "title": item.title,
                                          "reason": item.reason, "episodes": []})["episodes"].append(
            item.anilist_episode)
    return list(seen.values())
