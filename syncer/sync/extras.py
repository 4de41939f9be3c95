"""The run's phase after the plan: ratings (`SYNC_RATINGS`) and the watchlist (`SYNC_WATCHLIST`).

Their lines are stored as `SyncRunItem`s after the plan's (action `rate`, `watchlist`,
`unwatchlist`), so the preview lists them, the run page and `/api/runs/<id>/items` show them
and a failed one counts in the run's errors. Both are off by default. A failure here is logged
and recorded on the lines; it never stops the plays of the run.
"""

from __future__ import annotations

import logging

from django.conf import settings

from syncer.http import ApiError
from syncer.models import SyncRun, SyncRunItem
from syncer.sync import ratings
from syncer.sync.selectors import run_next_position
from syncer.sync.watchlist import watchlist_phase

logger = logging.getLogger("syncer.sync")
# The modes that read whole AniList lists (one tuple: a new list mode is added here only).
LIST_MODES = (SyncRun.Mode.COMPLETED, SyncRun.Mode.WATCHING, SyncRun.Mode.LIBRARY)
# Every mode rates the entries it read (incremental: those changed since the cursor).
RATING_MODES = (*LIST_MODES, SyncRun.Mode.INCREMENTAL, SyncRun.Mode.SHOW)
Item = SyncRunItem


def extras_run(*, run: SyncRun, produced, trakt) -> None:
    """Plan (and, for a real run, apply) the ratings and watchlist lines of `run`."""
    if settings.SYNC_RATINGS and run.mode in RATING_MODES:
        _ratings_phase(run, produced.entries, trakt)
    if settings.SYNC_WATCHLIST:
        watchlist_phase(run=run, produced=produced, trakt=trakt, list_mode=run.mode in LIST_MODES)


def _ratings_phase(run: SyncRun, entries, trakt) -> None:
    try:
        decisions, wanted = ratings.ratings_plan(entries, trakt=trakt, overwrite=settings.SYNC_RATINGS_OVERWRITE)
    except ApiError as exc:
        logger.warning("Ratings not compared this run: %s", exc)
        return
    to_send = [d for d in decisions if d.action == ratings.RATE]
    start = run_next_position(run=run)
    lines = Item.objects.bulk_create([
        Item(run=run, position=start + n, anilist_id=d.anilist_ids[0], title=d.title[:500], anilist_episode=0,
             action=Item.Action.RATE, kind=d.target.kind, trakt_id=d.target.trakt_id, season=d.target.season,
             rating=d.rating, rating_before=d.on_trakt or 0, reason=d.reason)
        for n, d in enumerate(to_send)])
    logger.info("Ratings: %s to send, %s already equal, %s set by hand and kept", len(to_send),
                sum(d.action == ratings.SAME for d in decisions), sum(d.action == ratings.KEPT for d in decisions))
    if run.dry_run:
        return
    by_key = {d.target.key: line for d, line in zip(to_send, lines, strict=True)}
    same = {d.target.key for d in decisions if d.action == ratings.SAME}
    try:
        sent, missing = ratings.ratings_send(trakt=trakt, decisions=decisions, size=settings.TRAKT_BATCH_SIZE)
    except ApiError as exc:
        logger.warning("Ratings not sent: %s", exc)
        Item.objects.filter(pk__in=[line.pk for line in lines], state=Item.State.PLANNED).update(
            state=Item.State.FAILED, reason=f"not sent: {exc}"[:500])
        ratings.ratings_record(wanted=wanted, held=same)
        return
    ratings.ratings_record(wanted=wanted, held=same | {d.target.key for d in sent})
    Item.objects.filter(pk__in=[by_key[d.target.key].pk for d in sent]).update(state=Item.State.POSTED)
    Item.objects.filter(pk__in=[by_key[d.target.key].pk for d in missing]).update(state=Item.State.NOT_FOUND)
