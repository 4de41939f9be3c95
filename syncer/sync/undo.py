"""Undo a run: take back exactly the plays it posted, the watchlist adds it made and the ratings
it replaced.

The rule: a play is removed only when it is one of ours. The undone run's posted items say
which plays it wrote (target and `watched_at` to the second); Trakt history gives their history
ids; plays with the same key that other runs of ours posted are set aside first, so neither they
nor a play the user or another app added (a different time, or beyond our count) is touched.

Removes go through apply, the one write path (`remove_rows`: a committed `RemoveBatch` before
each `POST /sync/history/remove`, checked against history when its outcome is unknown). Undo is
a ledger operation: the plays taken off are wanted again (reason `undone`), `last_abs` follows
the ledger (the highest episode still on Trakt), so undoing several runs in any order ends in
the same state. A rewatch play is its cycle's row like any other: wanted again the same way.

The same removes move a play (`moves_apply`): a play of ours whose episode belongs elsewhere
now is taken off, and the run that found it posts it where it belongs. An undo of that run
takes the new play off and puts the old one back at its old place, with its `watched_at`,
through apply's write path (`post_rows`); its line names the play it restores (`moved_item`),
so an undo of the run that first posted it takes it off again, in whichever order the two are
undone. Put back after the mapping changed, it is moved again only once the mapping or the
overrides change again (`ledger.move_candidates` compares their times).

An undo is a `SyncRun` of mode `undo` (`undo_of` the run it takes back): its items are the
plays to remove (`action` remove, state `removed`, or `not_found` when already gone from Trakt);
the run's `found` counts them, `posted` the plays removed, `not_found` those already gone. A
preview is the same run with `dry_run`. The undone run's items become `removed`. A run's
ratings and watchlist adds are taken back after its plays (`ratings_undo`: `rate` lines with the
rating put back; `watchlist.watchlist_undo`: `unwatchlist` lines); they are not
counted in `found`/`posted`, which count plays.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import timedelta

from django.db.models import Q
from django_q import tasks as q

from logs.context import log_to_run
from syncer.clients.trakt import HistoryItem
from syncer.connections import trakt_client
from syncer.models import LedgerItem, SyncRun, SyncRunItem
from syncer.notify import notify_run_finished
from syncer.sync import ledger, ratings, runs
from syncer.sync.apply import (
    batches_reconcile,
    history_read,
    payload_row,
    play_key,
    post_rows,
    remove_rows,
    removes_confirm,
    removes_reconcile,
)
from syncer.sync.lease import SyncAlreadyRunning
from syncer.sync.liveness import Heartbeat, run_admit, run_finish, run_release, run_start
from syncer.sync.readd import PUTTING_BACK, readd_plays, readd_refusal
from syncer.sync.watchlist import watchlist_undo
from syncer.sync.workers import task_name

logger = logging.getLogger("syncer.sync")
GONE = "no longer in Trakt history (removed there already)"
# The lines of what a run wrote that an undo takes back.
WRITES = (SyncRunItem.Action.POST, SyncRunItem.Action.RATE, SyncRunItem.Action.WATCHLIST)
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
    if run.items.filter(state=SyncRunItem.State.PENDING).exists() or _plays(run).filter(
            state=SyncRunItem.State.PENDING).exists():
        return (f"some plays of run #{run.pk} are still being checked against Trakt history (a POST "
                "whose answer was lost): the next sync settles them; undo after that")
    wrote = run.items.filter(Q(action__in=[SyncRunItem.Action.RATE, SyncRunItem.Action.WATCHLIST],
                               state__in=[SyncRunItem.State.POSTED, SyncRunItem.State.REMOVED])
                             | Q(action=SyncRunItem.Action.MOVE, state=SyncRunItem.State.REMOVED))
    if not _plays(run).filter(state__in=[SyncRunItem.State.POSTED, SyncRunItem.State.REMOVED]).exists() and (
            not wrote.exists()):
        return f"run #{run.pk} wrote no plays, ratings or watchlist adds: nothing to undo"
    return None


def _plays(run: SyncRun):
    """The run's play lines, and the lines of undos that put one of them back after a move."""
    return SyncRunItem.objects.filter(Q(run=run) | Q(run__mode=SyncRun.Mode.UNDO, moved_item__run=run),
                                      action=SyncRunItem.Action.POST)


def match_history(*, ours: Sequence[tuple[int, Key]], history: Sequence[HistoryItem],
                  ours_elsewhere: Counter) -> dict[int, int | None]:
    """Pure: item id → the history id to remove (None: the play is no longer on Trakt).

    Plays with one key are indistinguishable, so per key: of the N plays in history, those our
    other runs posted (`ours_elsewhere`) are set aside, and this run's plays take the rest, at
    most one each. An extra play with the same key (the user's) is left, as are all others."""
    ids: dict[Key, list[int]] = {}
    for row in sorted(history, key=lambda h: h.id):
        ids.setdefault(play_key(row), []).append(row.id)
    spare = Counter(ours_elsewhere)
    for key, found in ids.items():
        keep = min(spare[key], len(found))
        ids[key] = found[keep:] if keep else found
    matched: dict[int, int | None] = {}
    for item_id, key in ours:
        free = ids.get(key) or []
        matched[item_id] = free.pop(0) if free else None
    return matched


def _ours_elsewhere(items: Sequence[SyncRunItem]) -> Counter:
    """Keys of `items` that other plays of ours have (posted, and nobody took them off): not
    the plays of `items`."""
    keys = {play_key(i) for i in items}
    times = [i.watched_at for i in items]
    others = SyncRunItem.objects.filter(
        state=SyncRunItem.State.POSTED, trakt_id__in={i.trakt_id for i in items},
        watched_at__gte=min(times) - timedelta(seconds=1), watched_at__lte=max(times) + timedelta(seconds=1),
    ).exclude(pk__in=[i.pk for i in items])
    return Counter(k for k in map(play_key, others) if k in keys)


def plays_to_remove(*, trakt, run: SyncRun) -> tuple[list[SyncRunItem], dict[int, int | None]]:
    """The run's plays still counted as posted, and their history ids (None: gone already)."""
    return plays_locate(trakt=trakt, items=list(_plays(run).filter(state=SyncRunItem.State.POSTED).order_by(
        "run_id", "position")))


def plays_locate(*, trakt, items: list[SyncRunItem]) -> tuple[list[SyncRunItem], dict[int, int | None]]:
    """Plays of ours (posted items) and their history ids (None: gone already), read from
    Trakt history over their time window."""
    if not items:
        return [], {}
    matched = match_history(ours=[(i.pk, play_key(i)) for i in items], history=history_read(trakt, items),
                            ours_elsewhere=_ours_elsewhere(items))
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
        started, token = run_start(run=undo, name="Undo")
        if not started:
            return undo
        try:
            with Heartbeat(run_id=undo.pk, lease_token=token):
                _execute(undo, target, trakt_client(), runs.RunProgress(undo, progress, token))
        except UndoRefused as exc:
            run_finish(run=undo, state=SyncRun.State.REFUSED, error=str(exc), name="Undo")
        except Exception as exc:  # noqa: BLE001 - recorded on the run, the caller reads it
            logger.exception("Undo %s of run %s failed", undo.pk, target.pk)
            run_finish(run=undo, state=SyncRun.State.FAILED, error=runs.failure_message(exc), name="Undo")
        else:
            run_finish(run=undo, state=SyncRun.State.SUCCEEDED, error="", name="Undo")
        finally:
            if token:
                run_release(token=token)
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
    back = _put_back_lines(undo, target, first=len(items))
    gone = sum(1 for i in items if matched[i.pk] is None)
    SyncRun.objects.filter(pk=undo.pk).update(found=len(items) + len(back), not_found=gone if undo.dry_run else 0)
    logger.info("Undo of run %s: %s play(s) to remove, %s already gone from Trakt, %s moved play(s) to put back",
                target.pk, len(items) - gone, gone, len(back))
    if undo.dry_run:
        _extras_undo(undo, target, trakt, start=len(items) + len(back))
        progress(len(items) - gone + len(back), len(items) - gone + len(back), "Preview ready")
        return
    rows = [{"item": i.pk, "undo_item": line.pk, "history_id": matched[i.pk], "kind": i.kind,
             "trakt_id": i.trakt_id, "watched_at": i.watched_at.isoformat()} for i, line in zip(items, lines, strict=True)]
    removes_confirm(None, removed=[], gone=[r for r in rows if r["history_id"] is None], remover=undo)
    todo = [r for r in rows if r["history_id"] is not None]
    progress(0, len(todo), "Removing from Trakt")
    remove_rows(trakt=trakt, run=undo, rows=todo, guard=progress.lease_check,
                on_batch=lambda done: progress(done, len(todo), "Removing from Trakt"))
    if back:
        batches_reconcile(trakt=trakt, run=undo, guard=progress.lease_check)  # a killed undo's posts first
        progress(0, len(back), PUTTING_BACK)
        post_rows(trakt=trakt, run=undo, rows=[payload_row(line) for line in back], guard=progress.lease_check,
                  on_batch=lambda done: progress(done, len(back), PUTTING_BACK))
    _extras_undo(undo, target, trakt, start=len(items) + len(back))


def _put_back_lines(undo: SyncRun, target: SyncRun, *, first: int) -> list[SyncRunItem]:
    """The undo's lines (action post) for the plays `target` moved that go back to their old
    place: taken off by it, not put back by an earlier undo of it, first posted by a run not
    undone since, and their episode not on Trakt otherwise (the ledger wants it, or `target`
    posted it: its undo takes that play off). First-watch plays only: a moved rewatch play stays
    wanted, and a list run posts it where it belongs."""
    moved = list(target.items.filter(action=SyncRunItem.Action.MOVE, state=SyncRunItem.State.REMOVED, rewatch=False,
                                     moved_item__isnull=False).select_related("moved_item__run", "moved_item__moved_item")
                 .order_by("position"))
    if not moved:
        return []
    back = set(SyncRunItem.objects.filter(run__undo_of=target, run__dry_run=False, action=SyncRunItem.Action.POST,
                                          state__in=[SyncRunItem.State.POSTED, SyncRunItem.State.PENDING]
                                          ).values_list("moved_item_id", flat=True))
    undone = set(SyncRun.objects.filter(mode=SyncRun.Mode.UNDO, dry_run=False, state=SyncRun.State.SUCCEEDED
                                        ).values_list("undo_of_id", flat=True))
    rows = {(r.anilist_id, r.episode): r for r in LedgerItem.objects.filter(
        what=LedgerItem.What.PLAY, cycle=0, anilist_id__in={m.anilist_id for m in moved})}
    lines = []
    for move in moved:
        # A play put back by an undo names the play it restores: that one's run is the origin.
        taken = move.moved_item
        origin = taken.moved_item if taken.run.mode == SyncRun.Mode.UNDO else taken
        row = rows.get((move.anilist_id, move.anilist_episode))
        free = row is None or row.state == LedgerItem.State.WANTED or (
            row.state == LedgerItem.State.POSTED and row.run_id == target.pk)
        if origin is not None and origin.pk not in back and origin.run_id not in undone and free:
            lines.append(SyncRunItem(
                run=undo, position=first + len(lines), anilist_id=move.anilist_id, title=move.title,
                anilist_episode=move.anilist_episode, action=SyncRunItem.Action.POST, kind=move.kind,
                trakt_id=move.trakt_id, season=move.season, number=move.number, watched_at=move.watched_at,
                moved_item=origin, reason="moved by the undone run: put back at its old place"))
    return SyncRunItem.objects.bulk_create(lines)


def _extras_undo(undo: SyncRun, target: SyncRun, trakt, *, start: int) -> None:
    """The run's ratings and watchlist adds, after its plays (lines from position `start`)."""
    lines = ratings_undo(undo=undo, target=target, trakt=trakt, start=start)
    watchlist_undo(undo=undo, target=target, trakt=trakt, start=start + lines)


def ratings_undo(*, undo: SyncRun, target: SyncRun, trakt, start: int) -> int:
    """Put back the rating each rating `target` sent replaced (none before: the rating is
    removed), as `ratings.holding` says, so undoing runs in any order ends the same. A rating
    changed on Trakt since, or whose predecessor was not recorded, is left alone and says so.
    Lines of the undo: action `rate`, `rating` what is put back (None: removed). Returns how
    many lines it made."""
    changes = ratings.ratings_to_put_back(run=target, trakt=trakt)
    if not changes:
        return 0
    later = [c for c in changes if c.after == c.now]  # a later run's rating holds: nothing to send
    left = [c for c in changes if c not in later and (c.after is None or (c.on_trakt or 0) != c.now)]
    send = [c for c in changes if c not in later and c not in left]
    lines = SyncRunItem.objects.bulk_create([
        SyncRunItem(run=undo, position=start + n, anilist_id=c.item.anilist_id, title=c.item.title,
                    anilist_episode=0, action=SyncRunItem.Action.RATE, kind=c.target.kind,
                    trakt_id=c.target.trakt_id, season=c.target.season, rating=c.after or None,
                    reason=_put_back_reason(c, left=c in left))
        for n, c in enumerate(left + send)])
    if undo.dry_run:
        return len(lines)
    ratings.ratings_put_back(trakt=trakt, changes=send)
    line_of = {c.item.pk: line.pk for c, line in zip(left + send, lines, strict=True)}
    for state, group in ((SyncRunItem.State.NOT_FOUND, left), (SyncRunItem.State.POSTED, [c for c in send if c.after]),
                         (SyncRunItem.State.REMOVED, [c for c in send if not c.after])):
        SyncRunItem.objects.filter(pk__in=[line_of[c.item.pk] for c in group]).update(state=state)
    SyncRunItem.objects.filter(pk__in=[c.item.pk for c in later + send]).update(state=SyncRunItem.State.REMOVED)
    ledger.ratings_undone(targets=[(c.target.kind, c.target.trakt_id, c.target.season) for c in send],
                          undo_id=undo.pk)
    return len(lines)


def _put_back_reason(change, *, left: bool) -> str:
    if left and change.after is None:
        return "left alone: the rating it replaced was not recorded (a run before undo took ratings back)"
    if left:
        return f"left alone: rated {change.on_trakt or 'nothing'} on Trakt since (this run sent {change.now})"
    if change.after:
        return f"puts back {change.after} (this run sent {change.item.rating})"
    return f"removes {change.item.rating}: Trakt had no rating before"


def moves_apply(*, trakt, run: SyncRun, lines: dict[int, SyncRunItem], guard: Callable[[], None] | None = None
                ) -> None:
    """Take off Trakt, by history id, plays of ours that belong elsewhere now (`lines`: the
    posted item of each play → the run's `move` line): the same write-ahead removes as an
    undo. The ledger then wants them again (`moved`), and the run posts them where they belong."""
    items, matched = plays_locate(trakt=trakt, items=list(SyncRunItem.objects.filter(
        pk__in=list(lines), state=SyncRunItem.State.POSTED)))
    rows = [{"item": i.pk, "undo_item": lines[i.pk].pk, "history_id": matched[i.pk], "kind": i.kind,
             "trakt_id": i.trakt_id, "watched_at": i.watched_at.isoformat()} for i in items]
    removes_confirm(None, removed=[], gone=[r for r in rows if r["history_id"] is None], remover=run)
    remove_rows(trakt=trakt, run=run, rows=[r for r in rows if r["history_id"] is not None], guard=guard)
