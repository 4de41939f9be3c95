"""The history doctor: find the duplicate plays other tools left in Trakt history, and take
them off (issue 26; docs/sync.md, "History doctor").

- **Scan**: the whole history (`GET /sync/history`, pages of 250, paced like every read).
- **Clusters** (`find_clusters`, pure): plays of one episode or movie whose `watched_at` lie
  less than the window after the cluster's earliest play. The earliest play stays, and so does
  every play this app posted (`plays_posted_here`, the one place that knows); the others are
  duplicates. Plays further apart are rewatches and are never touched.
- **Preview** (a dry run, mode `doctor`): the clusters as lines, `keep` and `remove`, with
  their history ids and dates. Nothing is removed without one.
- **Repair** carries out a preview: under the sync lease it reads the history of the preview's
  titles again, and removes only the plays the preview listed that are still duplicates now
  (the play kept in their place still there). Removes go through undo's write path
  (`remove_rows`: a committed `RemoveBatch` before each POST, confirm, reconcile).
- **Undo** of a repair puts the removed plays back with their own `watched_at`
  (`syncer.sync.readd`, reached through `undo_run` like every undo).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django_q import tasks as q  # `q.async_task` looked up at call time: tests replace it

from logs.context import log_to_run
from mappings.models import Mapping
from syncer.clients.trakt import HISTORY_PAGE_LIMIT, HistoryItem
from syncer.connections import trakt_client
from syncer.models import SyncRun, SyncRunItem
from syncer.notify import notify_run_finished
from syncer.sync import runs
from syncer.sync.apply import remove_rows, removes_reconcile
from syncer.sync.lease import SyncAlreadyRunning
from syncer.sync.liveness import Heartbeat, run_admit, run_finish, run_release, run_start
from syncer.sync.selectors import plays_posted_here
from syncer.sync.workers import task_name

logger = logging.getLogger("syncer.sync")

MAX_WINDOW = 6 * 3600
SCOPES = ("all", "mirrored")
# Why a play of a cluster stays, or why a listed play was not removed (codes; text below).
EARLIEST, POSTED_HERE, GONE, CHANGED = "earliest", "posted_here", "gone", "changed"
REASONS = {
    EARLIEST: "the earliest play of its cluster",
    POSTED_HERE: "posted by this app",
    GONE: "no longer in Trakt history",
    CHANGED: "no longer a duplicate since the preview (the play kept in its place is gone)",
}
READING = "Reading Trakt history"
DOCTOR_LINES_SHOWN = 2000  # a run page lists this many lines; the API has them all
REMOVING = "Removing duplicates from Trakt"

Target = tuple  # ("episode", show id, season, number) or ("movie", movie id, None, None)


class DoctorRefused(Exception):
    """This repair cannot run; `str(exc)` says why, in words for the user."""


@dataclass(frozen=True, slots=True)
class Play:
    history_id: int
    target: Target
    watched_at: int  # Unix seconds: Trakt times are whole seconds


@dataclass(frozen=True)
class Cluster:
    target: Target
    keep: tuple[Play, ...]
    remove: tuple[Play, ...]


# --- pure

def find_clusters(plays: Iterable[Play], *, window: int, ours: Collection[int] = ()) -> list[Cluster]:
    """The clusters of duplicates among `plays`, in history order (earliest first).

    Per target, plays sorted by time (then history id, the order Trakt added them): a cluster
    is a play and every later play less than `window` seconds after it; the next play starts
    the next cluster. The earliest stays, and every play whose history id is in `ours`; a
    cluster with nothing to remove is no cluster."""
    by_target: dict[Target, list[Play]] = defaultdict(list)
    for play in plays:
        by_target[play.target].append(play)
    clusters = []
    for target, group in by_target.items():
        if len(group) < 2:
            continue
        group.sort(key=lambda p: (p.watched_at, p.history_id))
        start = 0
        while start < len(group):
            end = start + 1
            while end < len(group) and group[end].watched_at - group[start].watched_at < window:
                end += 1
            first, later = group[start], group[start + 1:end]
            remove = tuple(p for p in later if p.history_id not in ours)
            if remove:
                clusters.append(Cluster(target, (first, *(p for p in later if p.history_id in ours)), remove))
            start = end
    clusters.sort(key=lambda c: (c.keep[0].watched_at, c.keep[0].history_id))
    return clusters


def play_of(item: HistoryItem) -> Play | None:
    """A history row as a play (None for a row without a target: nothing to compare it with)."""
    when = int(item.watched_at.timestamp())
    if item.type == "movie":
        return Play(item.id, ("movie", item.movie_trakt_id, None, None), when) if item.movie_trakt_id else None
    if item.show_trakt_id is None or item.season is None or item.number is None:
        return None
    return Play(item.id, ("episode", item.show_trakt_id, item.season, item.number), when)


def play_key(play: Play) -> tuple:
    """The play as `plays_posted_here` and undo key it: target and watched_at to the second."""
    return (*play.target, datetime.fromtimestamp(play.watched_at, UTC))


def kind_target(target: Target) -> tuple[str, int]:
    """("show" | "movie", Trakt id): what a cluster's target belongs to."""
    return ("movie" if target[0] == "movie" else "show"), target[1]


# --- reads

@dataclass
class Scan:
    plays: list[Play]
    titles: dict[tuple[str, int], str]
    total: int | None  # items in the whole history as Trakt counts them; None: only some titles read
    reads: int


def history_scan(*, trakt, scope: str, progress: Callable[[int, int, str], None] | None = None,
                 targets: Collection[tuple[str, int]] | None = None) -> Scan:
    """Read the history: all of it, or (`targets`) only that of these shows and movies, one
    paginated read each. Rows are kept as plays only (a whole history is 100,000 rows), a row
    seen twice (pages shift when a play lands during the scan) once."""
    mirrored = mirrored_targets() if scope == "mirrored" else None
    plays: list[Play] = []
    titles: dict[tuple[str, int], str] = {}
    seen: set[int] = set()
    interned: dict[Target, Target] = {}
    reads = 0
    total: int | None = None

    def on_page(page: int, pages: int | None, items: int | None) -> None:
        nonlocal reads, total
        reads += 1
        if page == 1 and targets is None:
            total = items
        if progress and targets is None:
            progress(page, pages or page, READING)

    if targets is None:
        streams = [trakt.history_items(on_page=on_page)]
    else:
        ordered = sorted(targets)
        streams = []
        for n, (kind, trakt_id) in enumerate(ordered):
            if progress:
                progress(n, len(ordered), READING)
            streams.append(trakt.history_items(kind="movies" if kind == "movie" else "shows", trakt_id=trakt_id,
                                               on_page=on_page))
    for stream in streams:
        for item in stream:
            play = play_of(item)
            if play is None or play.history_id in seen:
                continue
            seen.add(play.history_id)
            owner = kind_target(play.target)
            if mirrored is not None and owner not in mirrored:
                continue
            target = interned.setdefault(play.target, play.target)
            plays.append(Play(play.history_id, target, play.watched_at))
            if owner not in titles:
                titles[owner] = item.title
    if targets is None and total is None:
        total = len(seen)  # no pagination headers: what was read is all there is
    return Scan(plays=plays, titles=titles, total=total, reads=reads)


def mirrored_targets() -> set[tuple[str, int]]:
    """The shows and movies this app mirrors: every mapped one, and every one it posted to."""
    found = {(kind, trakt_id) for kind, trakt_id in Mapping.objects.filter(trakt_id__isnull=False).values_list(
        "type", "trakt_id") if kind in ("show", "movie")}
    posted = SyncRunItem.objects.filter(action=SyncRunItem.Action.POST, state=SyncRunItem.State.POSTED).values_list(
        "kind", "trakt_id").distinct()
    return found | {("movie" if kind == "movie" else "show", trakt_id) for kind, trakt_id in posted if trakt_id}


def clusters_of(scan: Scan, *, window: int) -> list[Cluster]:
    """The scan's clusters, with the plays this app posted kept: asked only about the plays that
    have another play of their target within the window (the candidates)."""
    candidates = [p for c in find_clusters(scan.plays, window=window) for p in (*c.keep, *c.remove)]
    ours = plays_posted_here(plays=[(p.history_id, play_key(p)) for p in candidates])
    return find_clusters(candidates, window=window, ours=ours)


def doctor_refusal(preview: SyncRun | None) -> str | None:
    """Why `preview` cannot be carried out (now), or None."""
    if preview is None or preview.mode != SyncRun.Mode.DOCTOR:
        return "no such history doctor preview: preview first (`manage.py doctor --dry-run`, or the Doctor page)"
    if not preview.dry_run:
        return f"run #{preview.pk} is a repair, not a preview: preview again to see what is left"
    if preview.state != SyncRun.State.SUCCEEDED:
        return f"preview #{preview.pk} did not finish: preview again"
    if not preview.found:
        return f"preview #{preview.pk} found no duplicates: nothing to remove"
    if SyncRun.objects.filter(mode=SyncRun.Mode.DOCTOR, dry_run=False, state=SyncRun.State.SUCCEEDED,
                              doctor__preview=preview.pk).exists():
        return f"preview #{preview.pk} was already carried out: preview again to see what is left"
    return None


def doctor_runs(*, limit: int) -> list[SyncRun]:
    return list(SyncRun.objects.filter(mode=SyncRun.Mode.DOCTOR).order_by("-id")[:limit])


def latest_preview() -> SyncRun | None:
    return SyncRun.objects.filter(mode=SyncRun.Mode.DOCTOR, dry_run=True).order_by("-id").first()


# --- services

def doctor_run(*, dry_run: bool, window: int | None = None, scope: str = "all", preview_id: int | None = None,
               trigger: str = SyncRun.Trigger.MANUAL, run: SyncRun | None = None,
               progress: Callable[[int, int, str], None] | None = None) -> SyncRun:
    """Preview (`dry_run`: scan, list the clusters, remove nothing) or repair (carry out preview
    `preview_id`) in this process; returns the finished run. Raises `DoctorRefused` (nothing
    created) when the preview cannot be carried out, `SyncAlreadyRunning` while a sync or undo
    holds the lease."""
    if run is None:
        run = doctor_create(dry_run=dry_run, window=window, scope=scope, preview_id=preview_id, trigger=trigger)
    with log_to_run(run.pk):
        started, token = run_start(run=run, name="History doctor")
        if not started:
            return run
        try:
            with Heartbeat(run_id=run.pk, lease_token=token):
                _execute(run, trakt_client(), runs.RunProgress(run, progress, token))
        except DoctorRefused as exc:
            run_finish(run=run, state=SyncRun.State.REFUSED, error=str(exc), name="History doctor")
        except Exception as exc:  # noqa: BLE001 - recorded on the run, the caller reads it
            message = runs.failure_message(exc)
            logger.error("History doctor %s failed: %s", run.pk, message, exc_info=exc)
            run_finish(run=run, state=SyncRun.State.FAILED, error=message, name="History doctor")
        else:
            run_finish(run=run, state=SyncRun.State.SUCCEEDED, error="", name="History doctor")
        finally:
            if token:
                run_release(token=token)
    notify_run_finished(run)
    return run


def doctor_create(*, dry_run: bool, window: int | None = None, scope: str = "all", preview_id: int | None = None,
                  trigger: str = SyncRun.Trigger.MANUAL) -> SyncRun:
    """The queued run of a preview or a repair, its settings checked first; a repair is admitted
    like every real run (`run_admit`: `SyncAlreadyRunning` while another one is on)."""
    if dry_run:
        window = settings.DOCTOR_WINDOW_SECONDS if window is None else window
        if not 1 <= window <= MAX_WINDOW:
            raise DoctorRefused(f"the window must be between 1 and {MAX_WINDOW} seconds (6 hours), not {window}")
        if scope not in SCOPES:
            raise DoctorRefused(f"the scope must be one of {', '.join(SCOPES)}, not {scope!r}")
        options = {"window": window, "scope": scope}
    else:
        preview = SyncRun.objects.filter(pk=preview_id).first() if preview_id else None
        if reason := doctor_refusal(preview):
            raise DoctorRefused(reason)
        options = {key: preview.doctor.get(key) for key in ("window", "scope", "history")} | {"preview": preview.pk}
    return run_admit(mode=SyncRun.Mode.DOCTOR, trigger=trigger, dry_run=dry_run, doctor=options)


def doctor_enqueue(*, dry_run: bool, window: int | None = None, scope: str = "all", preview_id: int | None = None,
                   trigger: str = SyncRun.Trigger.MANUAL) -> SyncRun:
    """A queued preview or repair handed to django-q (the Doctor page, `?async=1`)."""
    run = doctor_create(dry_run=dry_run, window=window, scope=scope, preview_id=preview_id, trigger=trigger)
    q.async_task("syncer.sync.doctor.doctor_run_queued", run.pk, task_name=task_name(run), group="sync")
    return run


def doctor_run_queued(run_id: int) -> SyncRun | None:
    """The worker's side of `doctor_enqueue`: a refusal is recorded on the run, not raised. Only
    a run still queued is run (a task delivered again leaves its record alone)."""
    run = SyncRun.objects.filter(pk=run_id).first()
    if run is None:
        return None
    if run.state != SyncRun.State.QUEUED:
        with log_to_run(run.pk):
            logger.warning("History doctor %s is %s: its task, delivered again, leaves it alone", run.pk, run.state)
        return run
    try:
        return doctor_run(dry_run=run.dry_run, run=run)
    except SyncAlreadyRunning:
        return run


def _execute(run: SyncRun, trakt, progress: runs.RunProgress) -> None:
    options = run.doctor
    window, scope = options["window"], options["scope"]
    if run.dry_run:
        progress(0, 0, READING)
        scan = history_scan(trakt=trakt, scope=scope, progress=progress)
        clusters = clusters_of(scan, window=window)
        _store(run, clusters, scan.titles)
        removable = sum(len(c.remove) for c in clusters)
        _record(run, scan, clusters, found=removable)
        logger.info("History doctor: %s plays read, %s duplicates in %s clusters", len(scan.plays), removable,
                    len(clusters))
        progress(removable, removable, "Preview ready")
        return
    preview = SyncRun.objects.get(pk=options["preview"])
    removes_reconcile(trakt=trakt, run=run, guard=progress.lease_check)  # a killed repair's removes first
    if reason := doctor_refusal(preview):  # checked again under the lease
        raise DoctorRefused(reason)
    listed = {line.history_id: line for line in preview.items.filter(action=SyncRunItem.Action.REMOVE)}
    targets = {kind_target((line.kind, line.trakt_id)) for line in listed.values()}
    progress(0, 0, READING)
    # The titles' own histories when that is fewer reads than the whole history again.
    pages = -(-(preview.doctor.get("history") or 0) // HISTORY_PAGE_LIMIT)
    scan = history_scan(trakt=trakt, scope=scope, progress=progress, targets=targets if len(targets) < pages else None)
    clusters = clusters_of(scan, window=window)
    now_removable = {p.history_id for c in clusters for p in c.remove}
    present = {p.history_id for p in scan.plays}
    chosen = [c for c in clusters if any(p.history_id in listed for p in c.remove)]
    chosen = [Cluster(c.target, c.keep, tuple(p for p in c.remove if p.history_id in listed)) for c in chosen]
    lines = _store(run, chosen, scan.titles)
    # What the preview listed and is no longer to remove: gone already, or kept now.
    left = [line for hid, line in listed.items() if hid not in now_removable]
    extra = SyncRunItem.objects.bulk_create([
        SyncRunItem(run=run, position=len(lines) + n, title=line.title, kind=line.kind, trakt_id=line.trakt_id,
                    season=line.season, number=line.number, watched_at=line.watched_at, history_id=line.history_id,
                    action=SyncRunItem.Action.REMOVE if line.history_id not in present else SyncRunItem.Action.KEEP,
                    state=SyncRunItem.State.NOT_FOUND if line.history_id not in present else SyncRunItem.State.PLANNED,
                    reason=GONE if line.history_id not in present else CHANGED)
        for n, line in enumerate(left)])
    todo = [line for line in lines if line.action == SyncRunItem.Action.REMOVE]
    gone = sum(1 for line in extra if line.reason == GONE)
    _record(run, scan, clusters, found=len(todo), not_found=gone)
    logger.info("History doctor repair of preview %s: %s duplicates to remove; %s gone already, %s no longer "
                "duplicates", preview.pk, len(todo), gone, len(extra) - gone)
    rows = [{"item": None, "undo_item": line.pk, "history_id": line.history_id, "kind": line.kind,
             "trakt_id": line.trakt_id, "watched_at": line.watched_at.isoformat()} for line in todo]
    progress(0, len(rows), REMOVING)
    remove_rows(trakt=trakt, run=run, rows=rows, guard=progress.lease_check,
                on_batch=lambda done: progress(done, len(rows), REMOVING))


def _store(run: SyncRun, clusters: list[Cluster], titles: dict) -> list[SyncRunItem]:
    """A cluster's lines: its kept plays (with why), then its plays to remove, cluster by cluster."""
    lines = []
    for cluster in clusters:
        kind, season, number = cluster.target[0], cluster.target[2], cluster.target[3]
        title = titles.get(kind_target(cluster.target), "")
        for play, action in [*((p, SyncRunItem.Action.KEEP) for p in cluster.keep),
                             *((p, SyncRunItem.Action.REMOVE) for p in cluster.remove)]:
            reason = ""
            if action == SyncRunItem.Action.KEEP:
                reason = EARLIEST if play is cluster.keep[0] else POSTED_HERE
            lines.append(SyncRunItem(
                run=run, position=len(lines), title=title, kind=kind, trakt_id=cluster.target[1], season=season,
                number=number, watched_at=datetime.fromtimestamp(play.watched_at, UTC), history_id=play.history_id,
                action=action, reason=reason))
    return SyncRunItem.objects.bulk_create(lines, batch_size=500)


def _record(run: SyncRun, scan: Scan, clusters: list[Cluster], *, found: int, not_found: int = 0) -> None:
    history = scan.total if scan.total is not None else run.doctor.get("history")
    run.doctor = {**run.doctor, "history": history, "limit": settings.TRAKT_HISTORY_LIMIT, "reads": scan.reads,
                  "clusters": len(clusters)}
    SyncRun.objects.filter(pk=run.pk).update(doctor=run.doctor, found=found, not_found=not_found)


# --- what the doors show

@dataclass
class TitleLines:
    """One show's or movie's lines of a doctor run, for people: kept and removed plays."""
    kind: str  # show | movie
    trakt_id: int
    title: str
    lines: list[SyncRunItem]

    @property
    def kept(self) -> int:
        return sum(1 for line in self.lines if line.action == SyncRunItem.Action.KEEP)

    @property
    def removed(self) -> int:
        return len(self.lines) - self.kept


def doctor_titles(*, run: SyncRun, limit: int | None = None) -> list[TitleLines]:
    """A doctor run's lines grouped by show or movie, in the order of their first line."""
    groups: dict[tuple[str, int], TitleLines] = {}
    for line in run.items.order_by("position")[:limit]:
        kind, trakt_id = kind_target((line.kind, line.trakt_id))
        group = groups.setdefault((kind, trakt_id), TitleLines(kind, trakt_id, line.title, []))
        group.lines.append(line)
    return list(groups.values())


def doctor_summary(run: SyncRun) -> dict:
    """The figures a preview or a repair is judged by: history size against the account's limit."""
    options = run.doctor or {}
    history, limit = options.get("history"), options.get("limit") or settings.TRAKT_HISTORY_LIMIT
    to_remove = run.found - (run.not_found if not run.dry_run else 0)
    return {
        "window": options.get("window"), "scope": options.get("scope"), "preview": options.get("preview"),
        "history": history, "limit": limit, "reads": options.get("reads"), "clusters": options.get("clusters"),
        "duplicates": run.found, "removed": run.posted, "gone": run.not_found,
        "used": round(100 * history / limit, 1) if history is not None and limit else None,
        "after": None if history is None else max(history - (run.posted if not run.dry_run else to_remove), 0),
    }


def reason_text(code: str) -> str:
    return REASONS.get(code, code)
