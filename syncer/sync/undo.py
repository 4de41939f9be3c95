"""Undo a run: take back exactly the plays it posted, and the sync progress it advanced.

The rule: a play is removed only when it is one of ours. The undone run's posted items say
which plays it wrote (target and `watched_at` to the second); Trakt history gives their history
ids; plays with the same key that other runs of ours posted are set aside first, so neither they
nor a play the user or another app added (a different time, or beyond our count) is touched.

Removes follow apply's discipline: each `POST /sync/history/remove` is preceded by a committed
`RemoveBatch` holding the history ids. A remove whose outcome is unknown is checked against
history (are those ids still there?) and only what is still there is removed again. Progress is
put back (`ProgressBefore`) once every play of an entry is gone, unless a later run advanced
that entry since: lowering it then would make the next run post that later run's plays again.

An undo is a `SyncRun` of mode `undo` (`undo_of` the run it takes back): its items are the
plays to remove (`action` remove, state `removed`, or `not_found` when already gone from Trakt);
the run's `found` counts them, `posted` the plays removed, `not_found` those already gone. A
preview is the same run with `dry_run`. The undone run's items become `removed`.
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
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_q import tasks as q

from logs.context import log_to_run
from logs.redact import redact
from syncer.clients.trakt import HistoryItem
from syncer.connections import trakt_client
from syncer.http import ServiceUnavailable
from syncer.models import ProgressBefore, RemoveBatch, SyncProgress, SyncRun, SyncRunItem
from syncer.notify import notify_run_finished
from syncer.sync import runs
from syncer.sync.apply import MAX_REPOSTS, UNCERTAIN, batch_send
from syncer.sync.lease import SyncAlreadyRunning, lease_acquire, lease_release, settle_wait
from syncer.sync.liveness import Heartbeat, run_admit, run_claim, run_refuse
from syncer.sync.readd import readd_plays, readd_refusal
from syncer.sync.workers import task_name

logger = logging.getLogger("syncer.sync")
UNRESOLVED = (RemoveBatch.State.PENDING, RemoveBatch.State.UNCERTAIN)
GONE = "no longer in Trakt history (removed there already)"
Key = tuple  # (kind, trakt id, season, number, watched_at to the second)


class UndoRefused(Exception):
    """This run cannot be undone; `str(exc)` says why, in words for the user."""


# --- what may be undone (reads)

def undo_refusal(run: SyncRun) -> str | None:
    """Why `run` cannot be undone now, or None."""
    if run.mode == SyncRun.Mode.UNDO:
        return (f"run #{run.pk} is itself an undo and cannot be undone: sync again (e.g. the completed "
                "mode) to post those plays back")
    if run.dry_run:
        return f"run #{run.pk} was a preview: it posted nothing to undo"
    if run.state in (SyncRun.State.QUEUED, SyncRun.State.RUNNING):
        return f"run #{run.pk} has not finished yet: undo it once it has"
    if SyncRun.objects.filter(undo_of=run, dry_run=False, state=SyncRun.State.SUCCEEDED).exists():
        return f"run #{run.pk} was already undone"
    if run.mode == SyncRun.Mode.DOCTOR:  # a history doctor repair: its removed plays go back
        return readd_refusal(run)
    if run.items.filter(state=SyncRunItem.State.PENDING).exists():
        return (f"some plays of run #{run.pk} are still being checked against Trakt history (a POST "
                "whose answer was lost): the next sync settles them; undo after that")
    if not _plays(run).filter(state__in=[SyncRunItem.State.POSTED, SyncRunItem.State.REMOVED]).exists():
        return f"run #{run.pk} posted no plays: nothing to undo"
    return None


def _plays(run: SyncRun):
    """The run's play lines (its ratings and watchlist lines are not undone: only plays are)."""
    return run.items.filter(action=SyncRunItem.Action.POST)


def item_key(item: SyncRunItem) -> Key:
    when = item.watched_at.replace(microsecond=0)
    if item.kind == "movie":
        return ("movie", item.trakt_id, None, None, when)
    return ("episode", item.trakt_id, item.season, item.number, when)


def history_key(item: HistoryItem) -> Key:
    when = item.watched_at.replace(microsecond=0)
    if item.type == "movie":
        return ("movie", item.movie_trakt_id, None, None, when)
    return ("episode", item.show_trakt_id, item.season, item.number, when)


def match_history(*, ours: Sequence[tuple[int, Key]], history: Sequence[HistoryItem],
                  ours_elsewhere: Counter) -> dict[int, int | None]:
    """Pure: item id → the history id to remove (None: the play is no longer on Trakt).

    Plays with one key are indistinguishable, so per key: of the N plays in history, those our
    other runs posted (`ours_elsewhere`) are set aside, and this run's plays take the rest, at
    most one each. An extra play with the same key (the user's) is left, as are all others."""
    ids: dict[Key, list[int]] = {}
    for row in sorted(history, key=lambda h: h.id):
        ids.setdefault(history_key(row), []).append(row.id)
    spare = Counter(ours_elsewhere)
    for key, found in ids.items():
        keep = min(spare[key], len(found))
        ids[key] = found[keep:] if keep else found
    matched: dict[int, int | None] = {}
    for item_id, key in ours:
        free = ids.get(key) or []
        matched[item_id] = free.pop(0) if free else None
    return matched


def _window(times: Sequence[datetime]) -> tuple[datetime, datetime]:
    return min(times) - timedelta(seconds=1), max(times) + timedelta(seconds=1)


def _history_of(trakt, targets: dict[tuple[str, int], list[datetime]]) -> list[HistoryItem]:
    rows: list[HistoryItem] = []
    for (kind, trakt_id), times in targets.items():
        start, end = _window(times)
        rows += trakt.history(kind="movies" if kind == "movie" else "shows", trakt_id=trakt_id,
                              start_at=start, end_at=end)
    return rows


def _ours_elsewhere(run: SyncRun, items: Sequence[SyncRunItem]) -> Counter:
    """Keys of `items` that other runs of ours posted (and nobody undid): not this run's plays."""
    keys = {item_key(i) for i in items}
    start, end = _window([i.watched_at for i in items])
    others = SyncRunItem.objects.filter(state=SyncRunItem.State.POSTED, trakt_id__in={i.trakt_id for i in items},
                                        watched_at__gte=start, watched_at__lte=end).exclude(run=run)
    return Counter(k for k in map(item_key, others) if k in keys)


def plays_to_remove(*, trakt, run: SyncRun) -> tuple[list[SyncRunItem], dict[int, int | None]]:
    """The run's plays still counted as posted, and their history ids (None: gone already)."""
    items = list(_plays(run).filter(state=SyncRunItem.State.POSTED).order_by("position"))
    if not items:
        return [], {}
    targets: dict[tuple[str, int], list[datetime]] = {}
    for item in items:
        targets.setdefault((item.kind, item.trakt_id), []).append(item.watched_at)
    matched = match_history(ours=[(i.pk, item_key(i)) for i in items], history=_history_of(trakt, targets),
                            ours_elsewhere=_ours_elsewhere(run, items))
    return items, matched


# --- services

def undo_run(*, run_id: int, dry_run: bool = False, trigger: str = SyncRun.Trigger.MANUAL,
             undo: SyncRun | None = None, progress: Callable[[int, int, str], None] | None = None) -> SyncRun:
    """Undo run `run_id` (or preview it with `dry_run`) in this process; returns the finished
    undo run. Raises `UndoRefused` (nothing created) when the run cannot be undone, and
    `SyncAlreadyRunning` when a sync holds the lease."""
    target = SyncRun.objects.get(pk=run_id)
    if (reason := undo_refusal(target)) and undo is None:
        raise UndoRefused(reason)
    if undo is None:
        undo = run_admit(mode=SyncRun.Mode.UNDO, trigger=trigger, dry_run=dry_run, undo_of=target)
    with log_to_run(undo.pk):
        token = None
        if not undo.dry_run:
            try:
                token = lease_acquire(run_id=undo.pk)
            except SyncAlreadyRunning as exc:
                if exc.run_id == undo.pk:  # another delivery of its task is starting it
                    logger.warning("Undo %s is being started by another delivery of its task: left alone", undo.pk)
                    return undo
                run_refuse(run=undo, reason="a sync is already running")
                raise
        if not run_claim(run=undo):
            if token:
                lease_release(token=token)
            logger.warning("Undo %s is %s, no longer queued: left alone", undo.pk, undo.state)
            return undo
        try:
            with Heartbeat(run_id=undo.pk, lease_token=token):
                _execute(undo, target, trakt_client(), runs.RunProgress(undo, progress, token))
        except UndoRefused as exc:
            _finish(undo, SyncRun.State.REFUSED, str(exc))
        except Exception as exc:  # noqa: BLE001 - recorded on the run, the caller reads it
            logger.exception("Undo %s of run %s failed", undo.pk, target.pk)
            _finish(undo, SyncRun.State.FAILED, runs.failure_message(exc))
        else:
            _finish(undo, SyncRun.State.SUCCEEDED, "")
        finally:
            if token:
                lease_release(token=token)
    notify_run_finished(undo)
    return undo


def undo_enqueue(*, run_id: int, trigger: str = SyncRun.Trigger.MANUAL) -> SyncRun:
    """A queued (real) undo handed to django-q; refused at once when it cannot be undone."""
    target = SyncRun.objects.get(pk=run_id)
    if reason := undo_refusal(target):
        raise UndoRefused(reason)
    undo = run_admit(mode=SyncRun.Mode.UNDO, trigger=trigger, undo_of=target)
    q.async_task("syncer.sync.undo.undo_run_queued", undo.pk, task_name=task_name(undo), group="sync")
    return undo


def undo_run_queued(undo_id: int) -> SyncRun:
    """The worker's side of `undo_enqueue`: a refusal is recorded on the run, not raised. Only
    an undo still queued is run: a task delivered again finds it interrupted (or done) and
    leaves its record alone, as `sync_run_queued` does."""
    undo = SyncRun.objects.get(pk=undo_id)
    if undo.state != SyncRun.State.QUEUED:
        with log_to_run(undo.pk):
            logger.warning("Undo %s is %s: its task, delivered again, leaves it alone", undo.pk, undo.state)
        return undo
    try:
        return undo_run(run_id=undo.undo_of_id, trigger=undo.trigger, undo=undo)
    except SyncAlreadyRunning:
        return undo


def _execute(undo: SyncRun, target: SyncRun, trakt, progress: runs.RunProgress) -> None:
    if not undo.dry_run:
        removes_reconcile(trakt=trakt, run=undo, guard=progress.lease_check)
    if reason := undo_refusal(target):  # checked again under the lease
        raise UndoRefused(reason)
    if target.mode == SyncRun.Mode.DOCTOR:
        readd_plays(undo=undo, target=target, trakt=trakt, progress=progress, guard=progress.lease_check)
        return
    progress(0, 0, "Reading Trakt history")
    items, matched = plays_to_remove(trakt=trakt, run=target)
    lines = SyncRunItem.objects.bulk_create([
        SyncRunItem(run=undo, position=n, anilist_id=i.anilist_id, title=i.title, anilist_episode=i.anilist_episode,
                    action=SyncRunItem.Action.REMOVE, kind=i.kind, trakt_id=i.trakt_id, season=i.season,
                    number=i.number, watched_at=i.watched_at, rewatch=i.rewatch,
                    reason="" if matched[i.pk] else GONE)
        for n, i in enumerate(items)])
    gone = sum(1 for i in items if matched[i.pk] is None)
    SyncRun.objects.filter(pk=undo.pk).update(found=len(items), not_found=gone if undo.dry_run else 0)
    logger.info("Undo of run %s: %s play(s) to remove, %s already gone from Trakt", target.pk,
                len(items) - gone, gone)
    if undo.dry_run:
        progress(len(items) - gone, len(items) - gone, "Preview ready")
        return
    rows = [{"item": i.pk, "undo_item": line.pk, "history_id": matched[i.pk], "kind": i.kind,
             "trakt_id": i.trakt_id, "watched_at": i.watched_at.isoformat()} for i, line in zip(items, lines, strict=True)]
    _confirm(None, removed=[], gone=[r for r in rows if r["history_id"] is None], undo=undo)
    todo = [r for r in rows if r["history_id"] is not None]
    progress(0, len(todo), "Removing from Trakt")
    remove_rows(trakt=trakt, run=undo, rows=todo, guard=progress.lease_check,
                on_batch=lambda done: progress(done, len(todo), "Removing from Trakt"))
    progress_restore(run=target)


def remove_rows(*, trakt, run: SyncRun, rows: Sequence[dict], guard: Callable[[], None] | None = None,
                on_batch: Callable[[int], None] | None = None, attempt: int = 0) -> None:
    """Remove plays by history id in write-ahead batches; an uncertain batch is reconciled
    (after `SYNC_RECONCILE_DELAY_SECONDS`) before going on."""
    size = settings.TRAKT_BATCH_SIZE
    for start in range(0, len(rows), size):
        if guard:
            guard()
        batch = RemoveBatch.objects.create(run=run, payload=list(rows[start:start + size]))
        if not _remove(batch, trakt):
            if attempt >= MAX_REPOSTS:
                raise ServiceUnavailable("Trakt", None, "history removals keep failing, each unconfirmed; undo "
                                         "the run again later to finish it")
            time.sleep(settings.SYNC_RECONCILE_DELAY_SECONDS)
            removes_reconcile(trakt=trakt, run=run, guard=guard, attempt=attempt)
        if on_batch:
            on_batch(min(start + size, len(rows)))


def _remove(batch: RemoveBatch, trakt) -> bool:
    """POST one remove batch: True when Trakt's answer is known, False when uncertain."""
    RemoveBatch.objects.filter(pk=batch.pk).update(posted_at=Now())  # the database's clock: see `settle_wait`
    answer = batch_send(batch, lambda: trakt.remove_from_history([r["history_id"] for r in batch.payload]),
                        mark=_mark)
    if answer is UNCERTAIN:
        return False
    unknown = set(((answer or {}).get("not_found") or {}).get("ids") or [])
    _confirm(batch, removed=[r for r in batch.payload if r["history_id"] not in unknown],
             gone=[r for r in batch.payload if r["history_id"] in unknown])
    return True


def _mark(batch: RemoveBatch, state: str, error: str) -> None:
    batch.state, batch.error = state, error[:500]
    if state == RemoveBatch.State.FAILED:
        batch.resolved_at = timezone.now()
    batch.save(update_fields=["state", "error", "resolved_at"])


@transaction.atomic
def _confirm(batch: RemoveBatch | None, *, removed: Sequence[dict], gone: Sequence[dict],
             state: str = RemoveBatch.State.CONFIRMED, undo: SyncRun | None = None) -> None:
    """The plays are off Trakt: the undone run's items and the undo's lines become `removed`
    (never `posted`: reconciliation counts posted items as our plays on Trakt), the lines of
    plays gone already `not_found`."""
    SyncRunItem.objects.filter(pk__in=[r["item"] for r in [*removed, *gone]]).update(state=SyncRunItem.State.REMOVED)
    SyncRunItem.objects.filter(pk__in=[r["undo_item"] for r in removed]).update(state=SyncRunItem.State.REMOVED)
    SyncRunItem.objects.filter(pk__in=[r["undo_item"] for r in gone]).update(state=SyncRunItem.State.NOT_FOUND)
    SyncRun.objects.filter(pk=batch.run_id if batch else undo.pk).update(
        posted=F("posted") + len(removed), not_found=F("not_found") + len(gone))
    if batch:
        batch.state, batch.resolved_at = state, timezone.now()
        batch.save(update_fields=["state", "resolved_at"])


def removes_reconcile(*, trakt, run: SyncRun, guard: Callable[[], None] | None = None, attempt: int = 0) -> None:
    """Settle every pending/uncertain remove batch: ids no longer in history were removed; the
    ones still there are removed again (as batches of `run`)."""
    while batch := RemoveBatch.objects.filter(state__in=UNRESOLVED).order_by("id").first():
        if guard:
            guard()
        _settle(batch)
        targets: dict[tuple[str, int], list[datetime]] = {}
        for row in batch.payload:
            targets.setdefault((row["kind"], row["trakt_id"]), []).append(parse_datetime(row["watched_at"]))
        present = {h.id for h in _history_of(trakt, targets)}
        still = [r for r in batch.payload if r["history_id"] in present]
        logger.info("Checked %s unconfirmed removal(s) of run #%s against Trakt history: %s removed, %s still "
                    "there", len(batch.payload), batch.run_id, len(batch.payload) - len(still), len(still))
        _confirm(batch, removed=[r for r in batch.payload if r["history_id"] not in present], gone=[],
                 state=RemoveBatch.State.RECONCILED)
        remove_rows(trakt=trakt, run=run, rows=still, guard=guard, attempt=attempt + 1)


def _settle(batch: RemoveBatch) -> None:
    """A remove of a killed process may still be landing: read history only after the delay."""
    wait = settle_wait(since=batch.posted_at)
    if wait > 0:
        time.sleep(wait)


@transaction.atomic
def progress_restore(*, run: SyncRun) -> list[int]:
    """Put back the progress `run` advanced, per entry whose plays are all off Trakt and that no
    later (not undone) run advanced since. Returns the AniList ids put back."""
    undone = SyncRun.objects.filter(mode=SyncRun.Mode.UNDO, dry_run=False, state=SyncRun.State.SUCCEEDED
                                    ).values_list("undo_of_id", flat=True)
    left = set(_plays(run).filter(state=SyncRunItem.State.POSTED).values_list("anilist_id", flat=True))
    restored = []
    for before in run.progress_before.order_by("anilist_id"):
        later = ProgressBefore.objects.filter(anilist_id=before.anilist_id, run_id__gt=run.pk).exclude(
            run_id__in=undone).order_by("run_id").values_list("run_id", flat=True).first()
        if before.anilist_id in left or later:
            why = f"run #{later} advanced it since" if later else "some of its plays are still on Trakt"
            logger.warning("Sync progress of AniList %s left as it is: %s", before.anilist_id, why)
            continue
        if not before.existed:
            SyncProgress.objects.filter(anilist_id=before.anilist_id).delete()
        else:
            SyncProgress.objects.filter(anilist_id=before.anilist_id).update(
                last_abs=before.last_abs, synced_repeat=before.synced_repeat, rewatch_last_abs=before.rewatch_last_abs)
        restored.append(before.anilist_id)
    logger.info("Sync progress put back for %s entr%s", len(restored), "y" if len(restored) == 1 else "ies")
    return restored


def _finish(run: SyncRun, state: str, error: str) -> None:
    run.refresh_from_db()
    # Stored and shown on the pages and the API: no secret an error quoted (logs.redact).
    run.state, run.error, run.finished_at = state, redact(error), timezone.now()
    run.errors = 1 if error and state == SyncRun.State.FAILED else 0
    run.save()
