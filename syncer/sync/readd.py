"""Undo of a history doctor repair: put back exactly the plays it removed, each with its own
`watched_at` (reached through `undo.undo_run`, like every undo).

The plays go through apply's write path (a committed `SyncBatch` before each POST, confirm,
reconcile). A duplicate usually has the key of the play kept in its place (same episode, same
second), so each row records how many plays Trakt held at its key before it was written
(`there_before`): a reconcile does not take the kept play for the one put back. The undo's lines
(action `post`) hold the history id each play had before the repair.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from syncer.clients.trakt import HISTORY_PAGE_LIMIT
from syncer.models import RemoveBatch, SyncRun, SyncRunItem
from syncer.sync.apply import batches_reconcile, history_counts, post_rows, row_key

PUTTING_BACK = "Putting the plays back on Trakt"


def readd_refusal(run: SyncRun) -> str | None:
    """Why the repair `run` cannot be undone now, or None."""
    if RemoveBatch.objects.filter(run=run, state__in=[RemoveBatch.State.PENDING, RemoveBatch.State.UNCERTAIN]
                                  ).exists():
        return (f"some removes of run #{run.pk} are still being checked against Trakt history (a remove whose "
                "answer was lost): an undo settles them first; press undo again")
    if not run.items.filter(action=SyncRunItem.Action.REMOVE, state=SyncRunItem.State.REMOVED).exists():
        return f"run #{run.pk} removed no plays: nothing to put back"
    return None


def _row(line: SyncRunItem) -> dict:
    return {"item": line.pk, "anilist_id": None, "title": line.title, "episode": None, "kind": line.kind,
            "trakt_id": line.trakt_id, "season": line.season, "number": line.number,
            "watched_at": line.watched_at.isoformat(), "rewatch": False, "cycle": None, "total": None}


def readd_plays(*, undo: SyncRun, target: SyncRun, trakt, progress: Callable[[int, int, str], None],
                guard: Callable[[], None] | None = None) -> None:
    """List (and, unless a preview, post) the plays repair `target` removed that no earlier undo
    of it put back."""
    if not undo.dry_run:
        batches_reconcile(trakt=trakt, run=undo, guard=guard)  # a killed undo's posts first
    removed = list(target.items.filter(action=SyncRunItem.Action.REMOVE, state=SyncRunItem.State.REMOVED
                                       ).order_by("position"))
    back = Counter(row_key(_row(line)) for line in SyncRunItem.objects.filter(
        run__undo_of=target, run__dry_run=False, action=SyncRunItem.Action.POST,
        state__in=[SyncRunItem.State.POSTED, SyncRunItem.State.PENDING]))
    todo = []
    for line in removed:
        key = row_key(_row(line))
        if back[key]:
            back[key] -= 1
        else:
            todo.append(line)
    lines = SyncRunItem.objects.bulk_create([
        SyncRunItem(run=undo, position=n, title=line.title, action=SyncRunItem.Action.POST, kind=line.kind,
                    trakt_id=line.trakt_id, season=line.season, number=line.number, watched_at=line.watched_at,
                    history_id=line.history_id)
        for n, line in enumerate(todo)])
    SyncRun.objects.filter(pk=undo.pk).update(found=len(lines))
    if undo.dry_run:
        progress(len(lines), len(lines), "Preview ready")
        return
    rows = [_row(line) for line in lines]
    progress(0, len(rows), "Reading Trakt history")
    there = _there_now(trakt, rows, history=target.doctor.get("history"))
    rows = [{**row, "there_before": there[row_key(row)]} for row in rows]
    progress(0, len(rows), PUTTING_BACK)
    post_rows(trakt=trakt, run=undo, rows=rows, guard=guard, on_batch=lambda done: progress(done, len(rows), PUTTING_BACK))


def _there_now(trakt, rows: list[dict], *, history: int | None) -> Counter:
    """How many plays Trakt holds at each row's key: each title's history (one read per show or
    movie), or the whole history when that is fewer reads (a repair over thousands of titles)."""
    titles = {(row["kind"], row["trakt_id"]) for row in rows}
    pages = -(-(history or 0) // HISTORY_PAGE_LIMIT)
    if not pages or len(titles) <= pages:
        return history_counts(trakt, rows)
    keys = {row_key(row) for row in rows}
    found: Counter = Counter()
    for item in trakt.history_items():
        if item.type == "movie":
            row = {"kind": "movie", "trakt_id": item.movie_trakt_id, "season": None, "number": None}
        else:
            row = {"kind": "episode", "trakt_id": item.show_trakt_id, "season": item.season, "number": item.number}
        key = row_key({**row, "watched_at": item.watched_at.isoformat()})
        if key in keys:
            found[key] += 1
    return found
