"""Apply: the only code that writes Trakt history and the only code that advances progress.

Every POST is preceded by a committed write-ahead `SyncBatch`. Trakt's answer confirms the batch
and advances `SyncProgress` in one transaction, for the plays Trakt accepted only. A POST whose
outcome is unknown (timeout, 5xx, a crash while it was in flight) leaves the batch `uncertain` /
`pending`; `batches_reconcile` later compares it with Trakt history for that show and time
window and re-posts only what is missing, so a play is never written twice nor lost.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from syncer.clients.trakt import EpisodePlay, MoviePlay
from syncer.http import (
    AccountLimit,
    AuthError,
    BadResponse,
    Locked,
    NotFound,
    RateLimited,
)
from syncer.models import SyncBatch, SyncProgress, SyncRun, SyncRunItem

logger = logging.getLogger("syncer.sync")

UNRESOLVED = (SyncBatch.State.PENDING, SyncBatch.State.UNCERTAIN)
# Answers that prove Trakt did not apply the POST: the batch failed, nothing to reconcile.
DEFINITE_FAILURES = (AuthError, AccountLimit, Locked, RateLimited, NotFound)


class BatchFailed(Exception):
    """A POST Trakt refused outright (authentication, account limit, ...): the run stops."""


def payload_row(item: SyncRunItem, *, cycle: int | None = None, total: int | None = None) -> dict:
    """A planned play as the batch records it: enough to post or reconcile it on its own."""
    return {
        "item": item.pk, "anilist_id": item.anilist_id, "title": item.title, "episode": item.anilist_episode,
        "kind": item.kind, "trakt_id": item.trakt_id, "season": item.season, "number": item.number,
        "watched_at": item.watched_at.isoformat(), "rewatch": item.rewatch, "cycle": cycle, "total": total,
    }


def _play(row: dict) -> EpisodePlay | MoviePlay:
    watched_at = parse_datetime(row["watched_at"])
    if row["kind"] == "movie":
        return MoviePlay(row["trakt_id"], watched_at)
    return EpisodePlay(row["trakt_id"], row["season"], row["number"], watched_at)


def _play_key(play) -> tuple:
    """What identifies a play we wrote: the target and its watched_at to the second."""
    when = play.watched_at.replace(microsecond=0)
    if isinstance(play, MoviePlay):
        return ("movie", play.movie_trakt_id, None, None, when)
    return ("episode", play.show_trakt_id, play.season, play.number, when)


@transaction.atomic
def batch_write_ahead(*, run: SyncRun, rows: Sequence[dict]) -> SyncBatch:
    """Record the batch (and mark its items pending) before anything is sent."""
    batch = SyncBatch.objects.create(run=run, payload=list(rows))
    SyncRunItem.objects.filter(pk__in=[r["item"] for r in rows if r.get("item")]).update(
        batch=batch, state=SyncRunItem.State.PENDING
    )
    return batch


@transaction.atomic
def batch_confirm(*, batch: SyncBatch, accepted: Sequence[dict], not_found: Sequence[dict],
                  state: str = SyncBatch.State.CONFIRMED, result: dict | None = None) -> None:
    """Trakt's answer is known: mark the items, advance progress for the accepted plays only."""
    SyncRunItem.objects.filter(pk__in=[r["item"] for r in accepted if r.get("item")]).update(
        state=SyncRunItem.State.POSTED, batch=batch)
    SyncRunItem.objects.filter(pk__in=[r["item"] for r in not_found if r.get("item")]).update(
        state=SyncRunItem.State.NOT_FOUND, batch=batch)
    _advance_progress(accepted)
    SyncRun.objects.filter(pk=batch.run_id).update(
        posted=F("posted") + len(accepted), not_found=F("not_found") + len(not_found))
    batch.state = state
    batch.resolved_at = timezone.now()
    batch.result = result or {"accepted": len(accepted), "not_found": len(not_found)}
    batch.save(update_fields=["state", "resolved_at", "result"])


def _advance_progress(rows: Sequence[dict]) -> None:
    by_entry: dict[int, list[dict]] = {}
    for row in rows:
        by_entry.setdefault(row["anilist_id"], []).append(row)
    existing = SyncProgress.objects.in_bulk(list(by_entry))
    for anilist_id, entry_rows in by_entry.items():
        progress = existing.get(anilist_id) or SyncProgress(anilist_id=anilist_id)
        for row in entry_rows:
            if not row.get("rewatch"):
                progress.last_abs = max(progress.last_abs, row["episode"])
            elif row.get("cycle") and row["episode"] >= (row.get("total") or 0):
                progress.synced_repeat = max(progress.synced_repeat, row["cycle"])
                progress.rewatch_last_abs = 0
            else:
                progress.rewatch_last_abs = max(progress.rewatch_last_abs, row["episode"])
        progress.title = entry_rows[-1].get("title") or progress.title
        progress.save()


def _mark(batch: SyncBatch, state: str, error: str = "") -> None:
    batch.state = state
    batch.error = error[:500]
    if state == SyncBatch.State.FAILED:
        batch.resolved_at = timezone.now()
        SyncRunItem.objects.filter(batch=batch).update(state=SyncRunItem.State.FAILED)
    batch.save(update_fields=["state", "error", "resolved_at"])


def batch_post(*, batch: SyncBatch, trakt) -> bool:
    """POST one written-ahead batch. True when Trakt's answer is known (confirmed), False when
    the outcome is uncertain. Raises `BatchFailed` when Trakt refused it."""
    rows = batch.payload
    plays = [_play(r) for r in rows]
    SyncBatch.objects.filter(pk=batch.pk).update(posted_at=timezone.now())
    try:
        result = trakt.add_to_history(plays)
    except DEFINITE_FAILURES as exc:
        _mark(batch, SyncBatch.State.FAILED, str(exc))
        raise BatchFailed(str(exc)) from exc
    except BadResponse as exc:
        if exc.status and exc.status >= 400:
            _mark(batch, SyncBatch.State.FAILED, str(exc))
            raise BatchFailed(str(exc)) from exc
        _mark(batch, SyncBatch.State.UNCERTAIN, str(exc))
        return False
    except Exception as exc:  # noqa: BLE001 - timeouts, 5xx, anything: Trakt may have applied it
        _mark(batch, SyncBatch.State.UNCERTAIN, str(exc))
        logger.warning("Trakt may or may not have applied batch %s (%s): it will be checked against "
                       "Trakt history before anything is posted again", batch.pk, exc)
        return False
    missing = Counter(_play_key(p) for p in result.not_found)
    accepted, not_found = [], []
    for row, play in zip(rows, plays, strict=True):
        key = _play_key(play)
        if missing[key]:
            missing[key] -= 1
            not_found.append(row)
        else:
            accepted.append(row)
    batch_confirm(batch=batch, accepted=accepted, not_found=not_found,
                  result={"added_episodes": result.added_episodes, "added_movies": result.added_movies,
                          "not_found": len(not_found)})
    for row in not_found:
        logger.warning("Trakt does not know %s episode %s (%s %s S%sE%s): not counted as synced",
                       row["title"], row["episode"], row["kind"], row["trakt_id"], row["season"], row["number"])
    return True


def _history_keys(trakt, rows: Sequence[dict]) -> Counter:
    """The plays Trakt history holds for the shows/movies of `rows`, within their time window."""
    found: Counter = Counter()
    groups: dict[tuple[str, int], list[datetime]] = {}
    for row in rows:
        groups.setdefault((row["kind"], row["trakt_id"]), []).append(parse_datetime(row["watched_at"]))
    for (kind, trakt_id), times in groups.items():
        items = trakt.history(kind="movies" if kind == "movie" else "shows", trakt_id=trakt_id,
                              start_at=min(times) - timedelta(seconds=1), end_at=max(times) + timedelta(seconds=1))
        for item in items:
            when = item.watched_at.replace(microsecond=0)
            if item.type == "movie":
                found[("movie", item.movie_trakt_id, None, None, when)] += 1
            else:
                found[("episode", item.show_trakt_id, item.season, item.number, when)] += 1
    return found


def batches_reconcile(*, trakt, run: SyncRun, batch_size: int | None = None) -> int:
    """Resolve every pending/uncertain batch against Trakt history; re-post (as new batches of
    `run`) only the plays that are missing. Returns how many plays were re-posted."""
    reposted = 0
    # Re-read each time: re-posting may itself leave (and reconcile) a batch.
    while batch := SyncBatch.objects.filter(state__in=UNRESOLVED).order_by("id").first():
        rows = batch.payload
        on_trakt = _history_keys(trakt, rows)
        present, missing = [], []
        for row in rows:
            key = _play_key(_play(row))
            if on_trakt[key]:
                on_trakt[key] -= 1
                present.append(row)
            else:
                missing.append(row)
        logger.info("Reconciled batch %s with Trakt history: %s already there, %s missing",
                    batch.pk, len(present), len(missing))
        batch_confirm(batch=batch, accepted=present, not_found=[], state=SyncBatch.State.RECONCILED,
                      result={"present": len(present), "missing": len(missing)})
        reposted += post_rows(trakt=trakt, run=run, rows=missing, batch_size=batch_size)
    return reposted


def post_rows(*, trakt, run: SyncRun, rows: Sequence[dict], batch_size: int | None = None,
              on_batch: Callable[[int], None] | None = None) -> int:
    """Post rows in write-ahead batches. An uncertain batch is reconciled (after
    `SYNC_RECONCILE_DELAY_SECONDS`, so an in-flight write has landed) before going on."""
    size = batch_size or settings.TRAKT_BATCH_SIZE
    done = 0
    for start in range(0, len(rows), size):
        chunk = rows[start:start + size]
        batch = batch_write_ahead(run=run, rows=chunk)
        if not batch_post(batch=batch, trakt=trakt):
            time.sleep(settings.SYNC_RECONCILE_DELAY_SECONDS)
            batches_reconcile(trakt=trakt, run=run, batch_size=size)
        done += len(chunk)
        if on_batch:
            on_batch(done)
    return done
