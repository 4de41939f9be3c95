"""`manage.py sync incremental|completed|watching|library [--dry-run]`, `manage.py sync show <id|URL>`."""

import sys

from django.core.management.base import BaseCommand, CommandError

from syncer.models import SyncRun
from syncer.refs import parse_anilist_id
from syncer.sync.lease import SyncAlreadyRunning
from syncer.sync.selectors import run_items, run_unmapped
from syncer.sync.services import sync_run


class Command(BaseCommand):
    help = ("Sync AniList to Trakt: incremental, completed, watching, library (every entry with progress), "
            "or one show (show <id or URL>).")

    def add_arguments(self, parser):
        parser.add_argument("mode", choices=["incremental", "completed", "watching", "library", "show", "undo"])
        parser.add_argument("anilist", nargs="?", help="AniList id or URL (mode show); run id (undo)")
        parser.add_argument("--dry-run", action="store_true", help="plan only: post nothing, change nothing")

    def handle(self, *args, mode, anilist, dry_run, **options):
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
        tty = self.stdout.isatty() if hasattr(self.stdout, "isatty") else sys.stdout.isatty()
        try:
            run = sync_run(mode=mode, trigger=SyncRun.Trigger.CLI, dry_run=dry_run, anilist_id=anilist_id,
                           progress=self._bar if tty else self._line)
        except SyncAlreadyRunning as exc:
            raise CommandError(f"{exc} (run #{exc.run_id}); wait for it to finish or check the dashboard") from exc
        if tty:
            self.stdout.write("")
        self._summary(run)
        if run.state != SyncRun.State.SUCCEEDED:
            raise CommandError(f"sync #{run.pk} failed: {run.error}")

    def _bar(self, done, total, label):
        width = 30
        filled = int(width * done / total) if total else 0
        self.stdout.write(f"\r{label:<20} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}", ending="")
        self.stdout.flush()

    _last_line = None

    def _line(self, done, total, label):
        """Plain lines for logs and pipes: one when a step starts and one when it ends."""
        if (label, done == total) != self._last_line:
            self._last_line = (label, done == total)
            self.stdout.write(f"{label}: {done}/{total}" if total else label)

    def _summary(self, run):
        verb = "would post" if run.dry_run else "posted"
        planned = run_items(run=run).filter(action="post").count()
        self.stdout.write(
            f"Sync #{run.pk} ({run.mode}{', dry run' if run.dry_run else ''}): {run.state}. "
            f"{run.found} found, {planned if run.dry_run else run.posted} {verb}, "
            f"{run.already_synced} already synced, {run.unmapped} unmapped, {run.not_found} not found on Trakt."
        )
        if run.dry_run:
            for item in run_items(run=run).filter(action="post"):
                where = "movie" if item.kind == "movie" else f"S{item.season:02d}E{item.number:02d}"
                self.stdout.write(f"  {item.title} ep {item.anilist_episode} -> Trakt {item.trakt_id} {where} "
                                  f"at {item.watched_at:%Y-%m-%d %H:%M}")
        self._extras(run)
        unmapped = run_unmapped(run=run)
        if unmapped:
            self.stdout.write(f"Unmapped titles ({len(unmapped)}): fix them with a manual mapping in the admin.")
            for row in unmapped:
                self.stdout.write(f"  {row['title']} (AniList {row['anilist_id']}, {len(row['episodes'])} "
                                  f"episode(s)): {row['reason']}")

    def _undo(self, run_ref, dry_run):
        """`sync undo <run id> [--dry-run]`: the dry run lists the plays it would remove."""
        from syncer.sync.undo import UndoRefused, undo_run

        if not (run_ref or "").isdigit():
            raise CommandError("sync undo needs the id of the run to undo, e.g. sync undo 42")
        if not SyncRun.objects.filter(pk=int(run_ref)).exists():
            raise CommandError(f"no sync run {run_ref}")
        try:
            undo = undo_run(run_id=int(run_ref), dry_run=dry_run, trigger=SyncRun.Trigger.CLI, progress=self._line)
        except UndoRefused as exc:
            raise CommandError(f"cannot undo: {exc}") from exc
        except SyncAlreadyRunning as exc:
            raise CommandError(f"{exc} (run #{exc.run_id}); wait for it to finish") from exc
        if undo.state != SyncRun.State.SUCCEEDED:
            raise CommandError(f"undo #{undo.pk} of run #{run_ref} {undo.state}: {undo.error}")
        lines = run_items(run=undo)
        if dry_run:
            self.stdout.write(f"Undo of run #{run_ref} (dry run #{undo.pk}): these {undo.found - undo.not_found} "
                              f"plays will be removed ({undo.not_found} already gone from Trakt).")
            for item in lines.filter(reason=""):
                where = "movie" if item.kind == "movie" else f"S{item.season:02d}E{item.number:02d}"
                self.stdout.write(f"  {item.title} ep {item.anilist_episode} -> Trakt {item.trakt_id} {where} "
                                  f"at {item.watched_at:%Y-%m-%d %H:%M}")
            self.stdout.write(f"Run `manage.py sync undo {run_ref}` to remove them.")
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
