"""Sync services: run a mode (or preview it), enqueue it for the worker.

A run is: reconcile earlier uncertain batches → watch events (per mode) → mappings, overrides,
progress, Trakt's watched list → then show by show, as each season list arrives: plan (pure) →
store the plan as `SyncRunItem`s → apply (non-dry runs), while the next lists are read
(`pipeline`). A dry run goes through the same loop and posts nothing.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import time
from collections.abc import Callable
from datetime import UTC, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone
from django_q import tasks as q  # `q.async_task` looked up at call time: tests replace it

from config.statuses import RECONCILED_STATUSES, parse_statuses
from logs.context import log_to_run
from mappings.media import media_from_mapping
from mappings.models import Mapping, TraktSeasonCache
from syncer.connections import anilist_client, trakt_client
from syncer.http import NotFound, retry_notices
from syncer.models import SyncRun, SyncRunItem
from syncer.notify import notify_run_finished, notify_unmapped
from syncer.sync import events as events_mod
from syncer.sync import ledger, pipeline, resolving, runs, sources
from syncer.sync import plan as plan_mod
from syncer.sync.apply import (
    batches_reconcile,
    payload_row,
    post_rows,
    progress_mark_present,
    removes_reconcile,
)
from syncer.sync.events import WatchEvent
from syncer.sync.extras import extras_run
from syncer.sync.inputs import (
    plan_inputs,
    show_inputs,
)
from syncer.sync.lease import SyncAlreadyRunning
from syncer.sync.liveness import (
    ALREADY_RUNNING,
    Heartbeat,
    run_admit,
    run_finish,
    run_refuse,
    run_release,
    run_start,
    runs_interrupt_dead,
)
from syncer.sync.moves import move_reason, moves_find
from syncer.sync.selectors import ENTRY_ON_TRAKT, ProgressSnapshot, never_synced
from syncer.sync.undo import moves_apply
from syncer.sync.workers import task_lost_now, task_name

logger = logging.getLogger("syncer.sync")
Progress = Callable[[int, int, str], None]
__all__ = ["SyncAlreadyRunning", "run_check_alive", "run_wait", "sync_enqueue", "sync_preview", "sync_run",
           "task_lost_now"]


def sync_run(*, mode: str, trigger: str = SyncRun.Trigger.MANUAL, dry_run: bool = False,
             anilist_id: int | None = None, run: SyncRun | None = None,
             progress: Progress | None = None) -> SyncRun:
    """Run one sync in this process and return the finished run (see docs/architecture.md)."""
    if mode not in SyncRun.Mode.values or mode == SyncRun.Mode.UNDO:
        raise ValueError(f"unknown sync mode {mode!r}")
    if mode == SyncRun.Mode.SHOW and not anilist_id:
        raise ValueError("a single-show sync needs an AniList id")
    if run is None:
        run = _admit_or_record(mode=mode, trigger=trigger, dry_run=dry_run, anilist_id=anilist_id)

    with log_to_run(run.pk):
        if _first_sync_left_to_the_user(run):
            if run_refuse(run=run, reason=FIRST_SYNC_BY_HAND):
                logger.warning("Scheduled sync %s not started: %s", run.pk, FIRST_SYNC_BY_HAND)
            return run
        started, token = run_start(run=run, name="Sync")
        if not started:
            return run
        with Heartbeat(run_id=run.pk, lease_token=token):
            try:
                reporter = runs.RunProgress(run, progress, token)
                with retry_notices(reporter.note):
                    _execute(run, reporter)
            except Exception as exc:  # noqa: BLE001 - recorded on the run, the caller reads it
                message = runs.failure_message(exc)
                # The traceback is kept for bugs only (the log filter drops it for expected failures).
                # `run_failure`: the CLI, which prints the run's error itself, keeps this line off the terminal.
                logger.error("%s %s (%s) failed: %s", "Preview" if run.dry_run else "Sync", run.pk, run.mode,
                             message, exc_info=exc, extra={"run_failure": run.pk})
                run_finish(run=run, state=SyncRun.State.FAILED, error=message, name="Sync")
            else:
                run_finish(run=run, state=SyncRun.State.SUCCEEDED, error="", name="Sync")
            finally:
                if token:
                    run_release(token=token)
    _notify(run)
    return run


def _admit_or_record(**fields) -> SyncRun:
    """A start in this process (the CLI, the schedule): admitted like every other start; a
    refusal is recorded as a refused run (the CLI and the logs show it) and raised."""
    try:
        return run_admit(**fields)
    except SyncAlreadyRunning:
        run = SyncRun.objects.create(state=SyncRun.State.REFUSED, error=ALREADY_RUNNING,
                                     finished_at=timezone.now(), **fields)
        with log_to_run(run.pk):
            logger.warning("Sync %s refused: %s", run.pk, ALREADY_RUNNING)
        raise


def _notify(run: SyncRun) -> None:
    """Tell the user (NOTIFY_URLS) what needs them: a failure, entries newly unmapped."""
    if not run.dry_run:
        notify_unmapped(run.items.filter(action=SyncRunItem.Action.UNMAPPED).exclude(
            reason_code="resolved_late").values_list("anilist_id", "title", "reason"))
    notify_run_finished(run)


FIRST_SYNC_BY_HAND = (
    "this install has never synced: preview the first sync on the Sync page (or `manage.py sync "
    "incremental --dry-run`) and run it once by hand; scheduled runs take over after that"
)


def _first_sync_left_to_the_user(run: SyncRun) -> bool:
    """The first real sync can post a whole library; a user whose Trakt history already holds
    some of it must see the preview first, so a schedule never makes that first write."""
    return (run.trigger == SyncRun.Trigger.SCHEDULED and not run.dry_run
            and run.mode == SyncRun.Mode.INCREMENTAL and never_synced())


def sync_preview(*, mode: str, anilist_id: int | None = None, trigger: str = SyncRun.Trigger.MANUAL,
                 progress: Progress | None = None) -> SyncRun:
    return sync_run(mode=mode, trigger=trigger, dry_run=True, anilist_id=anilist_id, progress=progress)


def sync_enqueue(*, mode: str, trigger: str = SyncRun.Trigger.MANUAL, dry_run: bool = False,
                 anilist_id: int | None = None) -> SyncRun:
    """Create a queued run and hand it to django-q; refused while a real run is running or queued."""
    run = run_admit(mode=mode, trigger=trigger, dry_run=dry_run, anilist_id=anilist_id)
    q.async_task("syncer.tasks.sync_run_task", run.pk, task_name=task_name(run), group="sync")
    return run


def run_check_alive(*, run: SyncRun) -> SyncRun:
    """A run a page shows as queued or running, checked now by the rule every start applies
    (`runs_interrupt_dead`): one whose process is gone shows as interrupted at once, not only
    after the next start (a run that could not record its end while the database was down)."""
    runs_interrupt_dead()
    run.refresh_from_db()
    return run


ENDED = (SyncRun.State.SUCCEEDED, SyncRun.State.FAILED, SyncRun.State.REFUSED, SyncRun.State.INTERRUPTED)


def run_wait(*, run: SyncRun, seconds: float, every: float = 0.25) -> SyncRun:
    """Wait until `run` (queued for the worker) has ended, at most `seconds`; returns it as it
    is then. A web request that answers "when the run is done" waits here, bounded below the
    web server's timeout, instead of running the sync in its own process."""
    deadline = time.monotonic() + seconds
    while True:
        run.refresh_from_db()
        left = deadline - time.monotonic()
        if run.state in ENDED or left <= 0:
            return run
        time.sleep(min(every, left))


def sync_run_queued(*, run_id: int) -> SyncRun | None:
    """The worker's side of `sync_enqueue`: refusal is recorded on the run, not raised. Only a
    run still queued is run: django-q delivers a task again after `Q_RETRY` when its worker
    died, by which time the run was interrupted (or ran) and must keep its record."""
    run = SyncRun.objects.filter(pk=run_id).first()
    if run is None:
        logger.warning("Sync task for run %s: no such run", run_id)
        return None
    if run.state != SyncRun.State.QUEUED:
        with log_to_run(run.pk):
            logger.warning("Sync %s is %s: its task, delivered again, leaves it alone", run.pk, run.state)
        return run
    try:
        return sync_run(mode=run.mode, trigger=run.trigger, dry_run=run.dry_run, anilist_id=run.anilist_id, run=run)
    except SyncAlreadyRunning:
        return run


def sync_run_scheduled() -> SyncRun | None:
    """The periodic incremental sync; a run already in progress is not an error."""
    try:
        return sync_run(mode=SyncRun.Mode.INCREMENTAL, trigger=SyncRun.Trigger.SCHEDULED)
    except SyncAlreadyRunning:
        return None


def _execute(run: SyncRun, progress: runs.RunProgress) -> None:
    run.state, run.started_at = SyncRun.State.RUNNING, timezone.now()
    run.save(update_fields=["state", "started_at"])
    if not run.dry_run:
        runs.status_mark_started(run)
    trakt = trakt_client()
    if not run.dry_run:
        batches_reconcile(trakt=trakt, run=run, guard=progress.lease_check)
        removes_reconcile(trakt=trakt, run=run, guard=progress.lease_check)
    snapshot = ProgressSnapshot()
    moves = _moves(run, trakt, progress, snapshot)
    progress(0, 0, "Reading AniList")
    pages = itertools.count(1)
    produced = _produce(run, anilist_client(), snapshot, moved=moves if run.dry_run else (),
                        on_page=lambda _: progress(next(pages), 0, "Reading AniList"))
    if any(e.day for e in produced.events):
        produced.events = events_mod.local_days(produced.events, zone=_account_zone(trakt))
    progress(0, 0, "Planning")
    if not run.dry_run:
        floors = snapshot.last_abs({e.anilist_id for e in produced.events})
        ledger.scope([e for e in produced.events if e.rewatch or e.episode > floors.get(e.anilist_id, 0)])
    first = len(moves) + _store_on_trakt(run, produced, start=len(moves))
    plan = _plan_and_post(run, produced, trakt, progress, snapshot, first=first)
    extras_run(run=run, produced=produced, trakt=trakt)  # ratings, watchlist (issue 13)
    if run.dry_run:
        to_post = sum(1 for p in plan if p.action == plan_mod.POST)
        progress(to_post, to_post, "Preview ready")
        return
    present = [{"anilist_id": p.event.anilist_id, "episode": p.event.episode, "title": p.event.title}
               for p in plan if p.on_trakt]
    if present:
        progress_mark_present(run=run, rows=present)
    _after_apply(run, produced)
    runs.status_mark_finished(run)


def _account_zone(trakt) -> tzinfo:
    """The user's Trakt time zone (`/users/settings`, read once per run): the days people gave
    AniList are days of their calendar. UTC when Trakt names none or one this system lacks."""
    name = trakt.account().timezone
    try:
        return ZoneInfo(name) if name else UTC
    except (ValueError, ZoneInfoNotFoundError):
        logger.warning("Trakt's time zone %r is unknown here: the days you gave AniList are posted in UTC", name)
        return UTC


def _moves(run: SyncRun, trakt, progress: runs.RunProgress, snapshot: ProgressSnapshot) -> list:
    """Plays whose episode belongs elsewhere now (`moves`): ours are listed as `move` lines
    first and, in a real run, taken off Trakt now; the user's stay. Either way the plan then
    posts them where they belong (a preview plans as if the run had taken them off)."""
    found = moves_find(trakt=trakt)
    if not found.rows:
        if found.unmoved and not run.dry_run:
            ledger.unmoved(found.unmoved)
        return []
    saved = Mapping.objects.in_bulk({r.anilist_id for r in found.rows})
    lines = SyncRunItem.objects.bulk_create([SyncRunItem(
        run=run, position=n, anilist_id=r.anilist_id, title=r.title[:500], anilist_episode=r.episode,
        action=SyncRunItem.Action.MOVE, kind=r.kind, trakt_id=r.trakt_id, season=r.season, number=r.number,
        watched_at=r.watched_at, rewatch=r.cycle > 0, moved_item_id=r.item_id, reason_code="moved",
        reason=move_reason(target, saved.get(r.anilist_id))) for n, (r, target) in enumerate(found.ours)])
    SyncRun.objects.filter(pk=run.pk).update(found=F("found") + len(lines))
    logger.info("%s play(s) of ours belong elsewhere on Trakt now: moved; %s play(s) you have at an old place "
                "stay, the new place is posted", len(lines), len(found.theirs))
    if run.dry_run:
        snapshot.moving(found.rows, ours=[r for r, _ in found.ours])
        return found.rows
    ledger.unmoved(found.unmoved)
    ledger.relocated([r for r, _ in found.theirs])
    if lines:
        progress(0, len(lines), "Moving plays")
        moves_apply(trakt=trakt, run=run, lines={line.moved_item_id: line for line in lines},
                    guard=progress.lease_check)
    return found.rows


# The AniList statuses each list mode reads, before SYNC_STATUSES narrows them.
MODE_STATUSES = {
    SyncRun.Mode.COMPLETED: ("COMPLETED",),
    SyncRun.Mode.WATCHING: ("CURRENT", "REPEATING"),
    SyncRun.Mode.LIBRARY: RECONCILED_STATUSES,
}


def _produce(run: SyncRun, anilist, snapshot: ProgressSnapshot, *, moved=(), on_page: sources.OnPage = None
             ) -> sources.Produced:
    now = timezone.now().replace(microsecond=0)
    statuses = sync_statuses()
    user_id = anilist.viewer().id
    if run.mode == SyncRun.Mode.INCREMENTAL:
        since = runs.cursor_get()
        rewatched = snapshot.rewatched() if settings.SYNC_REWATCHES else {}
        due = [r for r in ledger.due_rows() + list(moved) if settings.SYNC_REWATCHES or not r.cycle]
        produced = sources.incremental(anilist, user_id=user_id, since=since, progress=snapshot.last_abs(),
                                       rewatches=settings.SYNC_REWATCHES, rewatched=rewatched, now=now,
                                       statuses=statuses, on_page=on_page, due=_due_events(due, now=now))
        _medias_for(produced, {r.anilist_id for r in due}, anilist)
        produced.stale_shows = ledger.stale_shows(due)
        return produced
    if run.mode == SyncRun.Mode.SHOW:
        produced = sources.single_show(anilist, user_id=user_id, anilist_id=run.anilist_id, now=now,
                                       statuses=statuses)
        if not produced.entries:
            logger.warning("AniList %s is not on your AniList list: nothing to sync", run.anilist_id)
        return _with_rewatches_wanted(produced, [run.anilist_id] if produced.events else [], now=now)
    chosen = tuple(s for s in MODE_STATUSES[run.mode] if s in statuses)
    for status in MODE_STATUSES[run.mode]:
        if status not in statuses:
            logger.info("Not synced: entries of status %s (status %s is not in SYNC_STATUSES)", status, status)
    if not chosen:
        logger.warning("Nothing to read: SYNC_STATUSES (%s) leaves out every status of the %s mode",
                       ",".join(statuses), run.mode)
    produced = sources.from_list(anilist, user_id=user_id, statuses=chosen, progress_of=snapshot.last_abs, now=now,
                                 on_page=on_page)
    return _with_rewatches_wanted(produced, [e.media.id for e in produced.entries], now=now)


def _due_events(rows, *, now) -> list:
    """The ledger's wanted plays as watch events (a rewatch in its cycle), dated as when they
    were first planned."""
    return [WatchEvent(r.anilist_id, r.episode, r.watched_at or now, r.title, activity_id=r.activity_id,
                       rewatch=r.cycle > 0, cycle=r.cycle or None) for r in rows]


def _with_rewatches_wanted(produced: sources.Produced, anilist_ids, *, now) -> sources.Produced:
    """A list or single-show run posts the wanted rewatch plays (an undo's, say) of the entries
    it syncs, as it posts their wanted first-time plays; it adds no rewatch of its own (the
    incremental reads them from AniList's activities and `repeat` counts)."""
    if settings.SYNC_REWATCHES and anilist_ids:
        produced.events += _due_events(ledger.rewatches_wanted(anilist_ids), now=now)
    return produced


def _medias_for(produced: sources.Produced, anilist_ids: set[int], anilist) -> None:
    """The AniList media of entries the ledger brought into the run without an AniList read:
    from their saved mapping, else from AniList (one request each; only an entry never
    resolved, e.g. while Trakt was down)."""
    missing = [a for a in anilist_ids if a not in produced.medias]
    saved = Mapping.objects.in_bulk(missing)
    for anilist_id in missing:
        if anilist_id in saved:
            produced.medias[anilist_id] = media_from_mapping(saved[anilist_id])
            continue
        try:
            produced.medias[anilist_id] = anilist.media(media_id=anilist_id)
        except NotFound:
            logger.warning("AniList %s no longer exists: its wanted plays are left", anilist_id)


def sync_statuses() -> tuple[str, ...]:
    """The statuses this install syncs. Settings validate SYNC_STATUSES at start-up; it is
    parsed again here because a caller (or a test) may have changed it since."""
    return parse_statuses(settings.SYNC_STATUSES)


def _plan_and_post(run: SyncRun, produced: sources.Produced, trakt, progress: runs.RunProgress,
                   snapshot: ProgressSnapshot, *, first: int = 0) -> list[plan_mod.PlanItem]:
    """Plan, store and (real runs) post show by show; returns the whole plan. Every entry
    passes the same stages (`resolving`): its mapping is resolved (at once when saved, else by
    the reading thread), its show's season list is read by that thread (none for a fresh cached
    one), and its show is planned once the groups of all the show's entries are taken over,
    posting meanwhile (`pipeline`). A play Trakt already holds (watched there by hand or by
    another app) is not posted again: `plan_inputs` reads Trakt's watched list, before any
    season list, when a first-time play may be posted. A run with nothing new asks Trakt nothing."""
    deferral = resolving.Deferral()
    inputs = plan_inputs(produced.events, medias=produced.medias, trakt=trakt, progress=snapshot, defer=deferral)
    mappings = resolving.RunMappings(produced.events, produced.medias, inputs, deferral.prepared,
                                     stale=produced.stale_shows)
    cached = _days_old(set(mappings.seasons))
    stream = pipeline.RESOLVING if deferral.prepared.todo else pipeline.READING
    poster = _Poster(run, trakt, progress, estimate=_post_estimate(produced.events, inputs,
                                                                   also=set(deferral.prepared.todo)))
    plan: list[plan_mod.PlanItem] = []
    with mappings.reader() as reader:
        poster.reader, poster.reading = reader, stream
        for anilist_id in mappings.entries:
            if anilist_id in mappings.group_of:
                index = mappings.group_of[anilist_id]
                progress(index, reader.total, stream)  # the groups before it are in
                reader.wait(index, waiting=poster.flush)
            group = mappings.show_group(anilist_id)
            if group is not None:
                show = group.trakt_show
                plan.extend(_plan_group(run, group, inputs, mappings.seasons_of(show), poster,
                                        start=first + len(plan), cached=show in cached))
        poster.finish()
    return plan


# A cached season list read longer ago than this may lack an episode that aired since: an episode
# past its end is `season_list_stale` (read again by the next run), not `episode_beyond_trakt`.
# A list read moments ago (by the preview, say) is as good as a fresh one: the run says the same.
SEASON_LIST_STALE_AFTER = timedelta(days=1)


def _days_old(shows: set[int]) -> set[int]:
    """The shows among `shows` whose cached season list was read more than a day ago."""
    before = timezone.now() - SEASON_LIST_STALE_AFTER
    return set(TraktSeasonCache.objects.filter(trakt_id__in=list(shows), fetched_at__lt=before).values_list(
        "trakt_id", flat=True))


def _plan_group(run: SyncRun, group: pipeline.ShowGroup, inputs: dict, seasons, poster: _Poster, *, start: int,
                cached: bool = False) -> list[plan_mod.PlanItem]:
    """One show's plan (pure), stored after the `start` items before it, its plays handed to
    the poster. `cached`: the show's season list came from a cache a day old or more, so an
    episode past its end may only be too new for it (`season_list_stale`)."""
    group_plan = plan_mod.build_plan(events=group.events, **show_inputs(
        inputs, anilist_ids=group.anilist_ids, trakt_id=group.trakt_show, seasons=seasons))
    if cached:
        group_plan = [dataclasses.replace(p, code="season_list_stale", reason=ledger.reason_text(
            "season_list_stale", p.params)) if p.code == "episode_beyond_trakt" else p for p in group_plan]
    items = _store_plan(run, group_plan, start=start)
    poster.add(group, [(i, p) for i, p in zip(items, group_plan, strict=True) if p.action == plan_mod.POST])
    return group_plan


def _post_estimate(events, inputs: dict, *, also: set[int] = frozenset()) -> dict[tuple, int]:
    """Per entry, the events that may post (an upper bound): the progress line's total until
    the entry's show is planned. `also`: entries whose mappings are still to be resolved."""
    progress, mappings = inputs["progress"], inputs["mappings"]
    out: dict[tuple, int] = {}
    for e in events:
        if (e.anilist_id in mappings or e.anilist_id in also) and (e.rewatch or e.episode > progress.get(e.anilist_id, 0)):
            out[("entry", e.anilist_id)] = out.get(("entry", e.anilist_id), 0) + 1
    return out


class _Poster:
    """The posting side of the pipeline: planned plays wait in `pending` until a full batch is
    there, or until the reading thread keeps the run waiting (then what is there goes now,
    while Trakt's write limit is idle anyway). Posting goes through `post_rows`, one
    write-ahead batch at a time, so the exactly-once rules are apply's, unchanged."""

    def __init__(self, run: SyncRun, trakt, progress: runs.RunProgress, *, estimate: dict[tuple, int]):
        self.run, self.trakt, self.progress, self.estimate = run, trakt, progress, estimate
        self.pending: list[dict] = []
        self.posted = 0
        self.reader: pipeline.Resolving | None = None
        self.reading = pipeline.READING  # which stream the reader is

    @property
    def total(self) -> int:
        return sum(self.estimate.values())

    def add(self, group: pipeline.ShowGroup, to_post: list) -> None:
        for anilist_id in group.anilist_ids:
            self.estimate.pop(("entry", anilist_id), None)
        self.estimate[group.key] = len(to_post)
        if self.run.dry_run:
            return
        self.pending.extend(payload_row(item, cycle=p.event.cycle, total=p.event.total) for item, p in to_post)
        size = settings.TRAKT_BATCH_SIZE
        while len(self.pending) >= size:
            self._post(size)

    def flush(self) -> None:
        if self.pending:
            self._post(settings.TRAKT_BATCH_SIZE)
        elif not self.run.dry_run:
            self._report()  # the run page's line moves on with the reads

    def finish(self) -> None:
        self.progress.phase = ""
        if not self.run.dry_run:
            self.progress(self.posted, self.total, pipeline.POSTING)
        while self.pending:
            self._post(settings.TRAKT_BATCH_SIZE)

    def _post(self, size: int) -> None:
        chunk, self.pending = self.pending[:size], self.pending[size:]
        post_rows(trakt=self.trakt, run=self.run, rows=chunk, guard=self.progress.lease_check)
        self.posted += len(chunk)
        self._report()

    def _report(self) -> None:
        reader = self.reader
        self.progress.phase = pipeline.step(read=reader.done if reader else 0, to_read=reader.total if reader else 0,
                                            reading=self.reading)
        self.progress.expected = self.total
        self.progress(self.posted, self.total, pipeline.POSTING)


def _store_plan(run: SyncRun, plan: list[plan_mod.PlanItem], *, start: int = 0) -> list[SyncRunItem]:
    """Store one show's plan items after those already stored (`start` of them), and the run's
    counts so far."""
    items = [
        SyncRunItem(
            run=run, position=start + n, anilist_id=p.event.anilist_id, title=p.event.title[:500],
            anilist_episode=p.event.episode, action=p.action, kind=p.target.kind if p.target else "",
            trakt_id=p.target.trakt_id if p.target else None, season=p.target.season if p.target else None,
            number=p.target.number if p.target else None, watched_at=p.event.watched_at,
            rewatch=p.event.rewatch, activity_id=p.event.activity_id, reason=p.reason, reason_code=p.code,
            total_episodes=p.event.total,
        )
        for n, p in enumerate(plan)
    ]
    items = SyncRunItem.objects.bulk_create(items, batch_size=1000)
    if not run.dry_run:
        ledger.planned(run=run, items=items, plan=plan)
    counts = {a: sum(1 for p in plan if p.action == a) for a in (plan_mod.ALREADY_SYNCED, plan_mod.UNMAPPED)}
    SyncRun.objects.filter(pk=run.pk).update(found=F("found") + len(plan),
                                             already_synced=F("already_synced") + counts[plan_mod.ALREADY_SYNCED],
                                             unmapped=F("unmapped") + counts[plan_mod.UNMAPPED])
    _log_unmapped(plan)
    return items


def _store_on_trakt(run: SyncRun, produced: sources.Produced, *, start: int) -> int:
    """A list run's line for each entry whose episodes up to its progress are on Trakt already
    (`produced.on_trakt`): one line an entry, counted as that many episodes (`ENTRY_ON_TRAKT`),
    so a run over a synced library counts them as the incremental does without a line an
    episode. Stored before the plan: a run that stops mid-plan still counts them."""
    lines = [SyncRunItem(run=run, position=start + n, anilist_id=aid, title=produced.medias[aid].title[:500],
                         anilist_episode=episodes, action=SyncRunItem.Action.ALREADY_SYNCED,
                         reason_code=ENTRY_ON_TRAKT, reason=ledger.reason_text(ENTRY_ON_TRAKT, {"episodes": episodes}),
                         total_episodes=produced.medias[aid].episodes)
             for n, (aid, episodes) in enumerate(produced.on_trakt.items())]
    if lines:
        SyncRunItem.objects.bulk_create(lines, batch_size=1000)
        episodes = sum(produced.on_trakt.values())
        SyncRun.objects.filter(pk=run.pk).update(found=F("found") + episodes,
                                                 already_synced=F("already_synced") + episodes)
    return len(lines)


def _log_unmapped(plan: list[plan_mod.PlanItem]) -> None:
    """One line per entry and reason (not per episode: a long show would flood the log)."""
    episodes: dict[tuple[int, str, str], list[int]] = {}
    for p in plan:
        if p.action == plan_mod.UNMAPPED:
            episodes.setdefault((p.event.anilist_id, p.event.title, p.reason), []).append(p.event.episode)
    for (anilist_id, title, reason), numbers in episodes.items():
        shown = f"episode {numbers[0]}" if len(numbers) == 1 else f"{len(numbers)} episodes ({min(numbers)}-{max(numbers)})"
        logger.info("Unmapped: %s (AniList %s), %s: %s", title, anilist_id, shown, reason)


def _after_apply(run: SyncRun, produced: sources.Produced) -> None:
    """Advance the incremental cursor past what was fully handled; with rewatches off, account
    for the entries' rewatches as never to be posted (`ledger.rewatches_skipped`)."""
    if run.mode == SyncRun.Mode.INCREMENTAL:
        # A play resolved onto a show after it was planned (`pipeline.LATE`) is the next run's.
        late = Q(action=plan_mod.UNMAPPED, reason_code="resolved_late")
        unhandled = SyncRunItem.objects.filter(run=run).filter((Q(action=plan_mod.POST) & ~Q(
            state__in=[SyncRunItem.State.POSTED, SyncRunItem.State.NOT_FOUND])) | late)
        times = {(e.anilist_id, e.episode, e.activity_id): e.created_at for e in produced.events}
        pending = [times.get((i.anilist_id, i.anilist_episode, i.activity_id)) for i in unhandled]
        runs.cursor_set(runs.next_cursor(floor=produced.cursor_floor, seen=produced.cursor_seen,
                                         unhandled=[t for t in pending if t]))
    if not settings.SYNC_REWATCHES:
        ledger.rewatches_skipped(produced.entries)
