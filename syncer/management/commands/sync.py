"""`manage.py sync incremental|completed|watching|library [--dry-run]`, `manage.py sync show <id|URL>`."""

import logging
import shutil
import sys
import time
from contextlib import contextmanager

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from logs.context import current_run_id
from syncer.models import SyncRun
from syncer.refs import parse_anilist_id
from syncer.selectors import run_counts, run_entries_on_trakt, run_live
from syncer.sync import pipeline
from syncer.sync.selectors import run_items, run_unmapped
from syncer.sync.services import SyncAlreadyRunning, sync_run
from syncer.sync.undo import UndoRefused, undo_run


class Command(BaseCommand):
    help = ("Sync AniList to Trakt: incremental, completed, watching, library (every entry with progress), "
            "or one show (show <id or URL>).")

    def add_arguments(self, parser):
        parser.add_argument("mode", choices=["incremental", "completed", "watching", "library", "show", "undo"])
        parser.add_argument("anilist", nargs="?", help="AniList id or URL (mode show); run id (undo)")
        parser.add_argument("--dry-run", action="store_true", help="plan only: post nothing, change nothing")

    def handle(self, *args, mode, anilist, dry_run, verbosity=1, **options):
        if mode == "undo":
            return self._undo(anilist, dry_run)
        anilist_id = None
        if mode == "show":
            if not anilist:
                raise CommandError("sync show needs an AniList id or URL, e.g. sync show 21")
            try:
                anilist_id = parse_anilist_id(anilist)
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        progress = self._progress()
        try:
            with progress.above_log_lines(), _verbose(verbosity >= 2), _failure_said_once(verbosity < 2):
                run = sync_run(mode=mode, trigger=SyncRun.Trigger.CLI, dry_run=dry_run, anilist_id=anilist_id,
                               progress=progress)
        except SyncAlreadyRunning as exc:
            raise CommandError(f"{exc} (run #{exc.run_id}); wait for it to finish or check the dashboard") from exc
        self._summary(run)
        if run.state != SyncRun.State.SUCCEEDED:
            raise CommandError(f"sync #{run.pk} failed: {run.error}")

    def _progress(self):
        tty = self.stdout.isatty() if hasattr(self.stdout, "isatty") else sys.stdout.isatty()
        return ProgressLine(self.stdout) if tty else PlainProgress(self.stdout)

    def _summary(self, run):
        self.stdout.write(f"Sync #{run.pk} ({run.mode}{', dry run' if run.dry_run else ''}): {run.state}.")
        self.stdout.write(summary_counts(run))
        if run.dry_run:
            for item in run_items(run=run).filter(action="post"):
                where = "movie" if item.kind == "movie" else f"S{item.season:02d}E{item.number:02d}"
                self.stdout.write(f"  {item.title} ep {item.anilist_episode} -> Trakt {item.trakt_id} {where} "
                                  f"at {item.watched_at:%Y-%m-%d %H:%M}")
        self._extras(run)
        unmapped = run_unmapped(run=run)
        if unmapped:
            self.stdout.write(
                f"Unmapped titles ({len(unmapped)}): map each on the Manual mapping page (/manual/ on the web app), "
                "then sync it with `manage.py sync show <AniList id>`.")
            for row in unmapped:
                self.stdout.write(f"  {row['title']} (AniList {row['anilist_id']}, {len(row['episodes'])} "
                                  f"episode(s)): {row['reason']}")

    def _undo(self, run_ref, dry_run):
        """`sync undo <run id> [--dry-run]`: the dry run lists the plays it would remove."""
        run_ref = run_ref or ""
        if not (run_ref.isascii() and run_ref.isdigit()):
            raise CommandError("sync undo needs the id of the run to undo, e.g. sync undo 42")
        if not SyncRun.objects.filter(pk=int(run_ref)).exists():
            raise CommandError(f"no sync run {run_ref}")
        progress = self._progress()
        try:
            with progress.above_log_lines():
                undo = undo_run(run_id=int(run_ref), dry_run=dry_run, trigger=SyncRun.Trigger.CLI, progress=progress)
        except UndoRefused as exc:
            raise CommandError(f"cannot undo: {exc}") from exc
        except SyncAlreadyRunning as exc:
            raise CommandError(f"{exc} (run #{exc.run_id}); wait for it to finish") from exc
        if undo.state != SyncRun.State.SUCCEEDED:
            raise CommandError(f"undo #{undo.pk} of run #{run_ref} {undo.state}: {undo.error}")
        lines = run_items(run=undo)
        # A history doctor repair is undone by putting the plays it removed back.
        doctor = undo.undo_of.mode == SyncRun.Mode.DOCTOR
        if dry_run:
            self.stdout.write(f"Undo of run #{run_ref} (dry run #{undo.pk}): these {undo.found - undo.not_found} "
                              f"plays will be {'put back' if doctor else 'removed'}"
                              + ("." if doctor else f" ({undo.not_found} already gone from Trakt)."))
            for item in lines.filter(reason=""):
                where = "movie" if item.kind == "movie" else f"S{item.season:02d}E{item.number:02d}"
                episode = "" if doctor else f" ep {item.anilist_episode}"
                self.stdout.write(f"  {item.title}{episode} -> Trakt {item.trakt_id} {where} "
                                  f"at {item.watched_at:%Y-%m-%d %H:%M:%S}")
            self.stdout.write(f"Run `manage.py sync undo {run_ref}` to {'put them back' if doctor else 'remove them'}.")
        elif doctor:
            self.stdout.write(f"Undo #{undo.pk} of history doctor #{run_ref}: {undo.posted} plays put back in Trakt "
                              "history, each with its own date.")
        else:
            self.stdout.write(f"Undo #{undo.pk} of run #{run_ref}: {undo.posted} plays removed from Trakt history, "
                              f"{undo.not_found} already gone; sync progress put back.")

    def _extras(self, run):
        """Ratings and watchlist lines (SYNC_RATINGS / SYNC_WATCHLIST), one line each."""
        lines = run_items(run=run).filter(action__in=["rate", "watchlist", "unwatchlist"])
        for item in lines:
            what = {"rate": f"rate {item.rating}/10", "watchlist": "add to watchlist",
                    "unwatchlist": "remove from watchlist"}[item.action]
            where = (f"show {item.trakt_id} season {item.season}" if item.kind == "season"
                     else f"{item.kind} {item.trakt_id}")
            state = "" if run.dry_run else f": {item.state}"
            self.stdout.write(f"  {item.title} -> Trakt {where}: {what}{state}"
                              + (f" ({item.reason})" if item.reason else ""))

def summary_counts(run: SyncRun) -> str:
    """The counts as one sentence whose parts add up to what was found, each named: the same
    numbers, counted from the same rows, as the run's page (`selectors.RunCounts`)."""
    c = run_counts(run)
    if not c.found and not c.leftovers:
        if run.state == SyncRun.State.FAILED:
            return "It stopped before it knew what to sync: nothing was posted."
        if run.mode == SyncRun.Mode.SHOW:
            return (f"AniList {run.anilist_id} is not on your AniList list, or none of its episodes is marked "
                    "watched: nothing to sync.")
        return "Nothing new on AniList: every watched episode it lists is already synced."
    parts = []
    if run.dry_run:
        parts.append(f"{c.to_post} a run would post")
    else:
        parts.append(f"{c.posted} posted")
        named = [(c.not_found, "not found on Trakt"), (c.failed, "failed"), (c.pending, "not confirmed yet"),
                 (c.not_reached, "not reached")]
        parts += [f"{n} {words}" for n, words in named if n]
    parts.append(f"{c.already_synced} already synced")
    parts.append(f"{c.unmapped} unmapped")
    text = f"{c.found} episode{'s' if c.found != 1 else ''} found on AniList: {', '.join(parts)}."
    if c.leftovers:
        # A resumed run first finishes the posts an interrupted run left unconfirmed.
        owners = " and ".join(f"run #{r}" for r in c.leftover_runs) or "an earlier run"
        text += f" Also posted {c.leftovers} play{'s' if c.leftovers != 1 else ''} left over from {owners}."
    if run.mode == SyncRun.Mode.SHOW and c.found and c.already_synced == c.found:
        text += f" AniList {run.anilist_id} is on your list and every watched episode is already on Trakt."
    elif run.state == SyncRun.State.SUCCEEDED and c.found and c.already_synced == c.found:
        entries = run_entries_on_trakt(run)
        text += (f" {entries} entr{'y' if entries == 1 else 'ies'}, {c.found} episode{'s' if c.found != 1 else ''} "
                 "already on Trakt: nothing to post.")
    return text


class ProgressLine:
    """One line at the bottom of a terminal: a bar once the step's total is known, the step's
    name (and a count) before that, a retry notice while a service is down. While a run plans
    and posts show by show (`pipeline.STEPS`) it is the run page's line (`selectors.run_live`):
    the step in words and the plays as the run's rows count them, read at most once a second.
    Log lines are printed above it: the line is cleared, the log line written, the line drawn
    again."""

    WIDTH = 30
    EVERY = 1.0  # seconds between two reads of the run's rows

    def __init__(self, stdout):
        self.stdout = stdout
        self.text = ""
        self._read_at: float | None = None

    def __call__(self, done: int, total: int, label: str) -> None:
        run_id = current_run_id.get()
        if label in pipeline.STEPS and run_id is not None:
            now = time.monotonic()
            if self._read_at is not None and now - self._read_at < self.EVERY and not (total and done >= total):
                return
            self._read_at = now
            run = SyncRun.objects.get(pk=run_id)
            self.text = run_live(run, run_counts(run)).text
        elif total:
            filled = int(self.WIDTH * min(done, total) / total)
            self.text = f"{label} [{'#' * filled}{'.' * (self.WIDTH - filled)}] {done}/{total}"
        else:
            label = label if label.endswith("…") else f"{label}…"
            self.text = f"{label} {done}" if done else label
        self._draw()

    def _draw(self) -> None:
        columns = shutil.get_terminal_size().columns
        self.stdout.write(f"\r\x1b[2K{self.text[:columns - 1]}", ending="")
        self.stdout.flush()

    def clear(self) -> None:
        self.stdout.write("\r\x1b[2K", ending="")
        self.stdout.flush()

    @contextmanager
    def above_log_lines(self):
        handlers = _console_handlers()
        originals = [handler.stream for handler in handlers]
        for handler in handlers:
            handler.setStream(_AboveTheLine(handler.stream, self))
        try:
            yield
        finally:
            for handler, stream in zip(handlers, originals, strict=True):
                handler.setStream(stream)
            if self.text:
                self.clear()


class _AboveTheLine:
    """A log stream that moves the progress line out of the way of each line it writes."""

    def __init__(self, stream, line: ProgressLine):
        self.stream, self.line = stream, line

    def write(self, text: str) -> None:
        if self.line.text:
            self.line.clear()
        self.stream.write(text)
        self.stream.flush()
        if self.line.text and text.endswith("\n"):
            self.line._draw()

    def flush(self) -> None:
        self.stream.flush()


class PlainProgress:
    """Plain lines for logs and pipes: each step once. The run logs each step's name as it
    starts (INFO); only when those lines are not shown (LOG_LEVEL above INFO) are they printed
    here instead."""

    def __init__(self, stdout):
        self.stdout = stdout
        self._said: set[str] = set()
        self.quiet = logging.getLogger("syncer.sync").isEnabledFor(logging.INFO) and bool(_console_handlers())

    def __call__(self, done: int, total: int, label: str) -> None:
        if not self.quiet and label not in self._said:
            self._said.add(label)
            self.stdout.write(label)

    @contextmanager
    def above_log_lines(self):
        yield


class _NotTheRunFailure(logging.Filter):
    """Keeps the run's failure line off the terminal: the command says it once, as its error."""

    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "run_failure", None) is None


@contextmanager
def _failure_said_once(on: bool):
    """(`--verbosity 2` keeps the line: it carries the traceback.)"""
    handlers, quiet = _console_handlers() if on else [], _NotTheRunFailure()
    for handler in handlers:
        handler.addFilter(quiet)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(quiet)


@contextmanager
def _verbose(on: bool):
    """`--verbosity 2`: every detail, including the tracebacks of expected failures (see
    logs.redact), for this command only."""
    loggers = [logging.getLogger(name) for name in settings.APP_LOGGERS] if on else []
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _console_handlers() -> list[logging.StreamHandler]:
    """The handlers that print log lines to this terminal (not the database's)."""
    found = []
    for name in (*settings.APP_LOGGERS, ""):
        for handler in logging.getLogger(name).handlers:
            if type(handler) is logging.StreamHandler and handler not in found:
                found.append(handler)
    return found
