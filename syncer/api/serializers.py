"""Model rows → the JSON shapes of the original app's API (camelCase keys, ISO-8601 times)."""

import json
from datetime import datetime
from typing import Any

from logs.models import LogEntry
from mappings.models import Mapping
from syncer.models import SyncProgress, SyncRun, SyncRunItem
from syncer.selectors import LiveLine, RunCounts


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def config_value(raw: str | None) -> Any:
    """The original stored non-strings as JSON and read every value back through `JSON.parse`,
    falling back to the raw text; do the same so an adopted database reads identically."""
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def log_entry(entry: LogEntry) -> dict:
    return {"id": entry.id, "message": entry.message, "level": entry.level, "created_at": iso(entry.created_at)}


def progress_row(row: SyncProgress) -> dict:
    return {"anilistId": row.anilist_id, "lastAbs": row.last_abs, "updatedAt": iso(row.updated_at)}


def mapping(row: Mapping) -> dict:
    return {
        # The original's keys, unchanged.
        "anilistId": row.anilist_id,
        "traktId": row.trakt_id,
        "tmdbId": row.tmdb_id,
        "imdbId": row.imdb_id,
        "tvdbId": row.tvdb_id,
        "type": row.type,
        # Added by the rewrite.
        "malId": row.mal_id,
        "title": row.title,
        "anilistFormat": row.anilist_format,
        "startSeason": row.start_season,
        "startEpisode": row.start_episode,
        "source": row.source,  # in words, for people; the three codes below say it for programs
        "foundBy": row.found_by,
        "placedBy": row.placed_by,
        "airDates": row.air_dates,
        "traktTitle": row.trakt_title,
        "unmappedReason": row.unmapped_reason,
        "updatedAt": iso(row.updated_at),
    }


def run(row: SyncRun, counts: RunCounts, live: LiveLine | None) -> dict:
    """A run with its counts, every number counted from its rows as the run page counts them
    (`syncer.selectors.RunCounts`); `live`: what a queued or running run is doing."""
    return {
        "id": row.id,
        "mode": row.mode,
        "trigger": row.trigger,
        "dryRun": row.dry_run,
        "anilistId": row.anilist_id,
        "state": row.state,
        "createdAt": iso(row.created_at),
        "startedAt": iso(row.started_at),
        "finishedAt": iso(row.finished_at),
        # The step in words and the page's line; `done` of `total` is its bar.
        "progress": {"label": row.progress_label, "text": live.text if live else "",
                     "done": live.done if live else 0, "total": live.total if live else 0},
        "counts": _undo_counts(counts) if counts.undo else _doctor_counts(row) if row.mode == SyncRun.Mode.DOCTOR else {
            "found": counts.found,
            "planned": counts.planned,
            "posted": counts.posted,
            "notReached": counts.not_reached,
            "pending": counts.pending,
            "failed": counts.failed,
            "alreadySynced": counts.already_synced,
            "unmapped": counts.unmapped,
            "notFound": counts.not_found,
            "leftovers": counts.leftovers,
            "errors": counts.errors,
        },
        "error": row.error,
    }


def _undo_counts(c: RunCounts) -> dict:
    """An undo removes: its plays found, removed (or, previewed, to remove) and already gone."""
    plays = {"toRemove": c.to_post} if c.dry_run else {"removed": c.posted}
    return {"found": c.found, **plays, "alreadyGone": c.gone, "errors": c.errors}


def _doctor_counts(row: SyncRun) -> dict:
    """A history doctor run's numbers are its scan's (duplicates found, removed, already gone)."""
    return {"found": row.found, "posted": row.posted, "notFound": row.not_found, "errors": row.errors}


def run_item(item: SyncRunItem) -> dict:
    return {
        "position": item.position,
        "anilistId": item.anilist_id,
        "title": item.title,
        "anilistEpisode": item.anilist_episode,
        "action": item.action,
        "kind": item.kind,
        "traktId": item.trakt_id,
        "season": item.season,
        "number": item.number,
        "watchedAt": iso(item.watched_at),
        "rewatch": item.rewatch,
        "reason": item.reason,
        "state": item.state,
        **({"rating": item.rating} if item.action == SyncRunItem.Action.RATE else {}),
        # A history doctor line (keep/remove), or a play its undo put back: the Trakt history id.
        **({"historyId": item.history_id} if item.history_id is not None else {}),
    }
