"""Reads for the sync views and the API."""

from __future__ import annotations

from django.db.models import QuerySet

from syncer.models import SyncRun, SyncRunItem


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
