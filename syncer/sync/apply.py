"""Apply: the one write path to Trakt history (posts and removes) and the only code that
advances progress and the ledger's record of where each play is.

Every POST is preceded by a committed write-ahead `SyncBatch`. Trakt's answer confirms the batch
and advances `SyncProgress` in one transaction, for the plays Trakt accepted only. A POST whose
outcome is unknown (timeout, 5xx, a crash while it was in flight) leaves the batch `uncertain` /
`pending`; `batches_reconcile` later compares it with Trakt history for that show and time
window and re-posts only what is missing, so a play is never written twice nor lost.

Removes (an undo, a move) follow the same discipline with `RemoveBatch`: committed before the
`POST /sync/history/remove`, confirmed by Trakt's answer, and when it is unknown checked against
history (are those history ids still there?) before anything is removed again. Both kinds of
batch share the sending (`batch_send`), the marking (`batch_mark`), the wait before a check
(`batch_settle`), the loop of write-ahead batches (`_write`) and one play key (`play_key`).
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

from syncer.clients.trakt import EpisodePlay, HistoryItem, MoviePlay
from syncer.http import (
    AccountLimit,
    AuthError,
    BadResponse,
    Locked,
    NotFound,
    RateLimited,
    ServiceUnavailable,
)
from syncer.models import (
    LedgerItem,
    RemoveBatch,
    SyncBatch,
    SyncProgress,
    SyncRun,
    SyncRunItem,
)
from syncer.sync import ledger
from syncer.sync.lease import settle_wait

logger = logging.getLogger("syncer.sync")

# The unsettled states of both kinds of batch (their choices share the values).
UNRESOLVED = (SyncBatch.State.PENDING, SyncBatch.State.UNCERTAIN)
# Answers that prove Trakt did not apply the POST: the batch failed, nothing to reconcile.
DEFINITE_FAILURES = (AuthError, AccountLimit, Locked, RateLimited, NotFound)
# Re-posts of missing plays that may themselves end uncertain before the run gives up (the
# batch stays `uncertain` for the next run): Trakt failing every POST must not loop forever.
MAX_REPOSTS = 2


class BatchFailed(Exception):
    """A POST Trakt refused outright (authentication, account limit, ...): the run stops."""


UNCERTAIN = object()  # `batch_send`'s answer when Trakt may or may not have applied the batch


def batch_send(batch, send: Callable[[], object]) -> object:
    """Send one written-ahead batch (a history add or remove) and sort the outcome: Trakt's
    answer; `UNCERTAIN` (batch marked so) after a timeout, a 5xx or an unreadable 2xx, which the
    caller reconciles against Trakt history; `BatchFailed` (batch marked failed) when Trakt
    refused it, which proves nothing was applied. The one place that decides which failures
    prove that, for every kind of batch."""
    try:
        return send()
    except DEFINITE_FAILURES as exc:
        batch_mark(batch, batch.State.FAILED, str(exc))
        raise BatchFailed(str(exc)) from exc
    except BadResponse as exc:
        if exc.status and exc.status >= 400:
            batch_mark(batch, batch.State.FAILED, str(exc))
            raise BatchFailed(str(exc)) from exc
        batch_mark(batch, batch.State.UNCERTAIN, str(exc))
        return UNCERTAIN
    except Exception as exc:  # noqa: BLE001 - timeouts, 5xx, anything: Trakt may have applied it
        batch_mark(batch, batch.State.UNCERTAIN, str(exc))
        # People read plays, not batches; the service's words once, not nested in a class name.
        logger.warning("Trakt did not confirm %s of %s play(s): %s. They are checked against your Trakt history "
                       "before anything is sent again", _verb(batch), len(batch.payload), _said(exc))
        return UNCERTAIN


def _verb(batch) -> str:
    return "a post" if isinstance(batch, SyncBatch) else "a removal"


def _said(exc: Exception) -> str:
    """What went wrong, in the service's own words, without the "Trakt:" prefix."""
    return getattr(exc, "message", "") or str(exc)


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


def play_key(play) -> tuple:
    """What identifies a play of ours, whatever describes it (a batch row, a run item, a play
    sent, a Trakt history item): the target and its watched_at to the second."""
    if isinstance(play, dict):
        kind, trakt_id, season, number = play["kind"], play["trakt_id"], play.get("season"), play.get("number")
        when = parse_datetime(play["watched_at"])
    elif isinstance(play, MoviePlay):
        kind, trakt_id, season, number, when = "movie", play.movie_trakt_id, None, None, play.watched_at
    elif isinstance(play, EpisodePlay):
        kind, trakt_id, season, number, when = "episode", play.show_trakt_id, play.season, play.number, play.watched_at
    elif isinstance(play, HistoryItem):
        kind = "movie" if play.type == "movie" else "episode"
        trakt_id = play.movie_trakt_id if kind == "movie" else play.show_trakt_id
        season, number, when = play.season, play.number, play.watched_at
    else:  # a SyncRunItem
        kind, trakt_id, season, number, when = play.kind, play.trakt_id, play.season, play.number, play.watched_at
    if kind == "movie":
        return ("movie", trakt_id, None, None, when.replace(microsecond=0))
    return ("episode", trakt_id, season, number, when.replace(microsecond=0))


def history_read(trakt, plays: Sequence) -> list[HistoryItem]:
    """Trakt history of the shows/movies of `plays` (batch rows or run items) within their time
    window, one read per show or movie."""
    groups: dict[tuple[str, int], list[datetime]] = {}
    for play in plays:
        kind, trakt_id, _, _, when = play_key(play)
        groups.setdefault((kind, trakt_id), []).append(when)
    found: list[HistoryItem] = []
    for (kind, trakt_id), times in groups.items():
        found += trakt.history(kind="movies" if kind == "movie" else "shows", trakt_id=trakt_id,
                               start_at=min(times) - timedelta(seconds=1), end_at=max(times) + timedelta(seconds=1))
    return found


def row_key(row: dict) -> tuple:
    """A batch row's play as `play_key` keys it."""
    return play_key(row)


@transaction.atomic
def batch_write_ahead(*, run: SyncRun, rows: Sequence[dict]) -> SyncBatch:
    """Record the batch (and mark its items pending) before anything is sent."""
    batch = SyncBatch.objects.create(run=run, payload=list(rows))
    SyncRunItem.objects.filter(pk__in=[r["item"] for r in rows if r.get("item")]).update(
        batch=batch, state=SyncRunItem.State.PENDING
    )
    ledger.pending(rows, run_of=_owners(rows))
    return batch


def _owners(rows: Sequence[dict]) -> dict[int, int]:
    """{item id: the run whose play it is} (a later run may settle an earlier run's batch)."""
    return dict(SyncRunItem.objects.filter(pk__in=[r["item"] for r in rows if r.get("item")]).values_list(
        "pk", "run_id"))


@transaction.atomic
def batch_confirm(*, batch: SyncBatch, accepted: Sequence[dict], not_found: Sequence[dict],
                  missing: Sequence[dict] = (), state: str = SyncBatch.State.CONFIRMED,
                  result: dict | None = None) -> None:
    """Trakt's answer is known: mark the items, advance progress for the accepted plays only.
    `missing` (a reconciled batch's plays Trakt does not have) are planned again: they are
    re-posted as a new batch now, or, should the run stop first, by the next run."""
    SyncRunItem.objects.filter(pk__in=[r["item"] for r in accepted if r.get("item")]).update(
        state=SyncRunItem.State.POSTED, batch=batch)
    SyncRunItem.objects.filter(pk__in=[r["item"] for r in not_found if r.get("item")]).update(
        state=SyncRunItem.State.NOT_FOUND, batch=batch)
    SyncRunItem.objects.filter(pk__in=[r["item"] for r in missing if r.get("item")]).update(
        state=SyncRunItem.State.PLANNED, batch=None)
    ledger.settled(posted=accepted, not_found=not_found, wanted=missing, run_of=_owners([*accepted, *not_found]))
    _advance_progress(accepted)
    SyncRun.objects.filter(pk=batch.run_id).update(
        posted=F("posted") + len(accepted), not_found=F("not_found") + len(not_found))
    batch.state = state
    batch.resolved_at = timezone.now()
    batch.result = result or {"accepted": len(accepted), "not_found": len(not_found)}
    batch.save(update_fields=["state", "resolved_at", "result"])


def _advance_progress(rows: Sequence[dict]) -> None:
    """`last_abs` over the first-watch plays Trakt accepted (rewatches are their cycle's rows)."""
    by_entry: dict[int, list[dict]] = {}
    for row in rows:
        # A play put back by a doctor undo has no AniList entry.
        if row.get("anilist_id") is not None and not row.get("rewatch"):
            by_entry.setdefault(row["anilist_id"], []).append(row)
    existing = SyncProgress.objects.in_bulk(list(by_entry))
    for anilist_id, entry_rows in by_entry.items():
        progress = existing.get(anilist_id) or SyncProgress(anilist_id=anilist_id)
        progress.last_abs = max(progress.last_abs, *(row["episode"] for row in entry_rows))
        progress.title = entry_rows[-1].get("title") or progress.title
        progress.save()


@transaction.atomic
def progress_mark_present(*, run: SyncRun, rows: Sequence[dict]) -> int:
    """Advance progress over episodes the plan skipped because Trakt already has a play of them
    (rows: `anilist_id`, `episode`, `title`), so later runs do not plan them again.

    Progress is a high-water mark, so an episode is not counted while a lower first-time play
    of the same entry in this run is still unposted (failed, pending, or not reached): that
    play would never be retried. Returns how many rows advanced progress."""
    owed: dict[int, int] = {}
    unfinished = SyncRunItem.objects.filter(run=run, action=SyncRunItem.Action.POST, rewatch=False).exclude(
        state__in=[SyncRunItem.State.POSTED, SyncRunItem.State.NOT_FOUND])
    for anilist_id, episode in unfinished.values_list("anilist_id", "anilist_episode"):
        owed[anilist_id] = min(owed.get(anilist_id, episode), episode)
    usable = [{**r, "rewatch": False} for r in rows
              if r["episode"] < owed.get(r["anilist_id"], r["episode"] + 1)]
    ledger.present(rows)
    _advance_progress(usable)
    return len(usable)


def batch_mark(batch: SyncBatch | RemoveBatch, state: str, error: str = "") -> None:
    """A batch's new state (`batch_send` decides it). A history POST refused outright leaves its
    plays failed, and wanted again in the ledger: the next run tries them again."""
    batch.state = state
    batch.error = error[:500]
    if state == SyncBatch.State.FAILED:
        batch.resolved_at = timezone.now()
        if isinstance(batch, SyncBatch):
            SyncRunItem.objects.filter(batch=batch).update(state=SyncRunItem.State.FAILED)
            ledger.settled(posted=[], wanted=batch.payload, run_of={}, error=error or "refused")
    batch.save(update_fields=["state", "error", "resolved_at"])


def batch_post(*, batch: SyncBatch, trakt, guard: Callable[[], None] | None = None) -> bool:
    """POST one written-ahead batch. True when Trakt's answer is known (confirmed), False when
    the outcome is uncertain. Raises `BatchFailed` when Trakt refused it. `guard` runs before
    every attempt of the POST, retries included: a run that lost its lease (another run may be
    reconciling this very batch) must not send it again."""
    rows = batch.payload
    plays = [_play(r) for r in rows]

    def before_send() -> None:
        if guard:
            guard()
        # posted_at is the time of the latest attempt: reconciliation waits from it.
        SyncBatch.objects.filter(pk=batch.pk).update(posted_at=Now())  # the database's clock: see `settle_wait`

    result = batch_send(batch, lambda: trakt.add_to_history(plays, before_send=before_send))
    if result is UNCERTAIN:
        return False
    missing = Counter(play_key(p) for p in result.not_found)
    accepted, not_found = [], []
    for row, play in zip(rows, plays, strict=True):
        key = play_key(play)
        if missing[key]:
            missing[key] -= 1
            not_found.append(row)
        else:
            accepted.append(row)
    if _added_short(result, accepted):
        # Trakt dropped plays without naming them (or named them in a shape we cannot read):
        # only its history says which, and those are not found, not re-posted.
        logger.warning("Trakt added fewer of %s play(s) than were sent, without saying which: checking your "
                       "Trakt history", len(batch.payload))
        time.sleep(settings.SYNC_RECONCILE_DELAY_SECONDS)
        present, dropped = _split_by_history(trakt, batch, accepted)
        accepted, not_found = present, not_found + dropped
    batch_confirm(batch=batch, accepted=accepted, not_found=not_found,
                  result={"added_episodes": result.added_episodes, "added_movies": result.added_movies,
                          "not_found": len(not_found)})
    for row in not_found:
        logger.warning("Trakt does not know %s episode %s (%s %s S%sE%s): not counted as synced",
                       row["title"], row["episode"], row["kind"], row["trakt_id"], row["season"], row["number"])
    return True


def _added_short(result, accepted: Sequence[dict]) -> bool:
    if not result.counted:
        return False
    movies = sum(1 for r in accepted if r["kind"] == "movie")
    return result.added_movies < movies or result.added_episodes < len(accepted) - movies


def _split_by_history(trakt, batch: SyncBatch, rows: Sequence[dict]) -> tuple[list[dict], list[dict]]:
    """(present, missing): the rows of `batch` Trakt history holds, counting each play once.

    Plays with the same target and time that other batches of ours already put on Trakt are
    not this batch's (two rewatches finished together, or an earlier batch of a killed run):
    mistaking one of them for this batch's play would lose a play."""
    if not rows:
        return [], []
    on_trakt = history_counts(trakt, rows) - (_ours_elsewhere(batch, rows) | _there_before(rows))
    present, missing = [], []
    for row in rows:
        key = play_key(row)
        if on_trakt[key]:
            on_trakt[key] -= 1
            present.append(row)
        else:
            missing.append(row)
    return present, missing


def _ours_elsewhere(batch: SyncBatch, rows: Sequence[dict]) -> Counter:
    """Plays with the keys of `rows` that Trakt confirmed for other batches (our earlier posts)."""
    keys = {play_key(r) for r in rows}
    times = [parse_datetime(r["watched_at"]) for r in rows]
    posted = SyncRunItem.objects.filter(
        state=SyncRunItem.State.POSTED, trakt_id__in={r["trakt_id"] for r in rows},
        watched_at__gte=min(times) - timedelta(seconds=1), watched_at__lte=max(times) + timedelta(seconds=1),
    ).exclude(batch=batch)
    return Counter(key for key in map(play_key, posted) if key in keys)


def _there_before(rows: Sequence[dict]) -> Counter:
    """Plays the rows say Trakt held at their key before the batch was written (`there_before`:
    a doctor undo puts a duplicate back beside the play kept in its place, often at the same
    second): not this batch's plays either."""
    found: Counter = Counter()
    for row in rows:
        if row.get("there_before"):
            key = row_key(row)
            found[key] = max(found[key], row["there_before"])
    return found


def history_counts(trakt, rows: Sequence[dict]) -> Counter:
    """The plays Trakt history holds for the shows/movies of `rows`, within their time window."""
    return Counter(map(play_key, history_read(trakt, rows)))


def batch_settle(batch: SyncBatch | RemoveBatch) -> None:
    """Wait until `SYNC_RECONCILE_DELAY_SECONDS` after the batch was sent: a POST of a process
    killed moments ago may still be landing on Trakt, and history read too early would miss it."""
    wait = settle_wait(since=batch.posted_at)
    if wait > 0:
        logger.info("Waiting %.1fs before checking %s unconfirmed play(s) of run #%s against Trakt history",
                    wait, len(batch.payload), batch.run_id)
        time.sleep(wait)


def batches_reconcile(*, trakt, run: SyncRun, batch_size: int | None = None,
                      guard: Callable[[], None] | None = None, attempt: int = 0) -> int:
    """Resolve every pending/uncertain batch against Trakt history; re-post (as new batches of
    `run`) only the plays that are missing. Returns how many plays were re-posted. `guard` is
    called before anything is decided or posted (the run's lease check: it raises when lost)."""
    reposted = 0
    # Re-read each time: re-posting may itself leave (and reconcile) a batch.
    while batch := SyncBatch.objects.filter(state__in=UNRESOLVED).order_by("id").first():
        if guard:
            guard()
        rows = batch.payload
        batch_settle(batch)
        present, missing = _split_by_history(trakt, batch, rows)
        logger.info("Checked %s unconfirmed play(s) of run #%s against Trakt history: %s already there, "
                    "%s missing (posted again now)", len(rows), batch.run_id, len(present), len(missing))
        batch_confirm(batch=batch, accepted=present, not_found=[], missing=missing, state=SyncBatch.State.RECONCILED,
                      result={"present": len(present), "missing": len(missing)})
        reposted += post_rows(trakt=trakt, run=run, rows=missing, batch_size=batch_size, guard=guard,
                              attempt=attempt + 1)
    return reposted


def post_rows(*, trakt, run: SyncRun, rows: Sequence[dict], batch_size: int | None = None,
              on_batch: Callable[[int], None] | None = None, guard: Callable[[], None] | None = None,
              attempt: int = 0) -> int:
    """Post rows in write-ahead batches. An uncertain batch is reconciled (after
    `SYNC_RECONCILE_DELAY_SECONDS`, so an in-flight write has landed) before going on.
    `guard` runs before every batch: a run that lost its lease must not post another play."""
    size = batch_size or settings.TRAKT_BATCH_SIZE

    def send(chunk: Sequence[dict]) -> SyncBatch | None:
        batch = batch_write_ahead(run=run, rows=chunk)
        return None if batch_post(batch=batch, trakt=trakt, guard=guard) else batch

    return _write(rows, size=size, guard=guard, on_batch=on_batch, attempt=attempt, send=send,
                  reconcile=lambda: batches_reconcile(trakt=trakt, run=run, batch_size=size, guard=guard,
                                                      attempt=attempt),
                  stuck="history posts keep failing, each unconfirmed; the next run checks them against Trakt "
                        "history")


def _write(rows: Sequence[dict], *, size: int, guard, on_batch, attempt: int, send, reconcile, stuck: str) -> int:
    """The loop of both writes (posts and removes): `size` rows a batch, the lease checked
    before each (`guard`), each batch written ahead and sent (`send`: the batch when its outcome
    is uncertain), an uncertain one reconciled before the next goes, at most `MAX_REPOSTS`
    levels deep (then the run stops and the next one settles it)."""
    done = 0
    for start in range(0, len(rows), size):
        chunk = rows[start:start + size]
        if guard:
            guard()
        uncertain = send(chunk)
        if uncertain is not None:
            if attempt >= MAX_REPOSTS:
                raise ServiceUnavailable("Trakt", None, stuck)
            time.sleep(settings.SYNC_RECONCILE_DELAY_SECONDS)
            reconcile()
        done += len(chunk)
        if on_batch:
            on_batch(done)
    return done


# --- removes (an undo, a move): history ids of plays of ours

def remove_rows(*, trakt, run: SyncRun, rows: Sequence[dict], guard: Callable[[], None] | None = None,
                on_batch: Callable[[int], None] | None = None, attempt: int = 0) -> int:
    """Remove plays by history id (rows: `item`, the posted item; `undo_item`, the remover's
    line; `history_id`, `kind`, `trakt_id`, `watched_at`) in write-ahead batches."""

    def send(chunk: Sequence[dict]) -> RemoveBatch | None:
        batch = RemoveBatch.objects.create(run=run, payload=list(chunk))
        return None if _remove(batch, trakt) else batch

    return _write(rows, size=settings.TRAKT_BATCH_SIZE, guard=guard, on_batch=on_batch, attempt=attempt, send=send,
                  reconcile=lambda: removes_reconcile(trakt=trakt, run=run, guard=guard, attempt=attempt),
                  stuck="history removals keep failing, each unconfirmed; undo the run again later to finish it")


def _remove(batch: RemoveBatch, trakt) -> bool:
    """POST one remove batch: True when Trakt's answer is known, False when uncertain."""
    RemoveBatch.objects.filter(pk=batch.pk).update(posted_at=Now())  # the database's clock: see `settle_wait`
    answer = batch_send(batch, lambda: trakt.remove_from_history([r["history_id"] for r in batch.payload]))
    if answer is UNCERTAIN:
        return False
    unknown = set(((answer or {}).get("not_found") or {}).get("ids") or [])
    removes_confirm(batch, removed=[r for r in batch.payload if r["history_id"] not in unknown],
                    gone=[r for r in batch.payload if r["history_id"] in unknown])
    return True


@transaction.atomic
def removes_confirm(batch: RemoveBatch | None, *, removed: Sequence[dict], gone: Sequence[dict],
                    state: str = RemoveBatch.State.CONFIRMED, remover: SyncRun | None = None) -> None:
    """The plays are off Trakt: their items and the remover's lines become `removed` (never
    `posted`: reconciliation counts posted items as our plays on Trakt), the lines of plays gone
    already `not_found`; the ledger wants them again (`undone` after an undo, `moved` after a
    move: the run posts them where they belong). An undo counts what it removed."""
    remover = remover or SyncRun.objects.get(pk=batch.run_id)
    SyncRunItem.objects.filter(pk__in=[r["item"] for r in [*removed, *gone]]).update(state=SyncRunItem.State.REMOVED)
    off = list(LedgerItem.objects.filter(item_id__in=[r["item"] for r in [*removed, *gone]],
                                         state=LedgerItem.State.POSTED))
    moving = remover.mode not in (SyncRun.Mode.UNDO, SyncRun.Mode.DOCTOR)
    if off and moving:  # a sync run moving plays: it posts them where they belong next
        ledger.taken_off(rows=off, reason="moved", params={})
    elif off:
        ledger.taken_off(rows=off, reason="undone", params={"undo": remover.pk})
    SyncRunItem.objects.filter(pk__in=[r["undo_item"] for r in removed]).update(state=SyncRunItem.State.REMOVED)
    SyncRunItem.objects.filter(pk__in=[r["undo_item"] for r in gone]).update(state=SyncRunItem.State.NOT_FOUND)
    if not moving:  # a sync run counts the plays it posts, not those it moves
        SyncRun.objects.filter(pk=remover.pk).update(posted=F("posted") + len(removed),
                                                     not_found=F("not_found") + len(gone))
    if batch:
        batch.state, batch.resolved_at = state, timezone.now()
        batch.save(update_fields=["state", "resolved_at"])


def removes_reconcile(*, trakt, run: SyncRun, guard: Callable[[], None] | None = None, attempt: int = 0) -> None:
    """Settle every pending/uncertain remove batch: ids no longer in history were removed; the
    ones still there are removed again (as batches of `run`)."""
    while batch := RemoveBatch.objects.filter(state__in=UNRESOLVED).order_by("id").first():
        if guard:
            guard()
        batch_settle(batch)
        present = {h.id for h in history_read(trakt, batch.payload)}
        still = [r for r in batch.payload if r["history_id"] in present]
        logger.info("Checked %s unconfirmed removal(s) of run #%s against Trakt history: %s removed, %s still "
                    "there", len(batch.payload), batch.run_id, len(batch.payload) - len(still), len(still))
        removes_confirm(batch, removed=[r for r in batch.payload if r["history_id"] not in present], gone=[],
                        state=RemoveBatch.State.RECONCILED)
        remove_rows(trakt=trakt, run=run, rows=still, guard=guard, attempt=attempt + 1)
