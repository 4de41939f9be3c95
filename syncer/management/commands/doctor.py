"""`manage.py doctor --dry-run [--window S] [--mirrored-only]`: find the duplicate plays other
tools left in Trakt history (a preview: nothing removed). `manage.py doctor [--preview ID]`:
remove the duplicates the latest preview (or preview ID) listed. `manage.py sync undo <id>`
puts a repair's plays back."""

from django.core.management.base import BaseCommand, CommandError

from syncer.management.commands.sync import PlainProgress, ProgressLine
from syncer.models import SyncRun
from syncer.sync.doctor import (
    MAX_WINDOW,
    DoctorRefused,
    doctor_run,
    doctor_summary,
    doctor_titles,
    latest_preview,
    reason_text,
)
from syncer.sync.services import SyncAlreadyRunning


class Command(BaseCommand):
    help = ("History doctor: find the duplicate plays other tools left in Trakt history (--dry-run), then "
            "remove what that preview listed (without --dry-run).")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="scan and list the duplicates: remove nothing")
        parser.add_argument("--window", type=int, default=None,
                            help=f"seconds within which plays of one episode are duplicates (1-{MAX_WINDOW}; "
                                 "default DOCTOR_WINDOW_SECONDS, 60)")
        parser.add_argument("--mirrored-only", action="store_true",
                            help="only the shows and movies this app mirrors")
        parser.add_argument("--preview", type=int, default=None, help="the preview to carry out (default: the latest)")

    def handle(self, *args, dry_run, window, mirrored_only, preview, **options):
        if not dry_run and (window is not None or mirrored_only):
            raise CommandError("--window and --mirrored-only belong to the preview (--dry-run); a repair carries "
                               "out a preview with that preview's settings")
        if dry_run and preview is not None:
            raise CommandError("--preview names the preview a repair carries out: leave out --dry-run")
        preview_id = None
        if not dry_run:
            found = latest_preview() if preview is None else SyncRun.objects.filter(pk=preview).first()
            preview_id = found.pk if found else None
        tty = self.stdout.isatty() if hasattr(self.stdout, "isatty") else False
        progress = ProgressLine(self.stdout) if tty else PlainProgress(self.stdout)
        try:
            with progress.above_log_lines():
                run = doctor_run(dry_run=dry_run, window=window, scope="mirrored" if mirrored_only else "all",
                                 preview_id=preview_id, trigger=SyncRun.Trigger.CLI, progress=progress)
        except DoctorRefused as exc:
            raise CommandError(str(exc)) from exc
        except SyncAlreadyRunning as exc:
            raise CommandError(f"{exc} (run #{exc.run_id}); wait for it to finish") from exc
        if run.state != SyncRun.State.SUCCEEDED:
            raise CommandError(f"history doctor #{run.pk} {run.state}: {run.error}")
        self._report(run)

    def _report(self, run: SyncRun) -> None:
        s = doctor_summary(run)
        for group in doctor_titles(run=run):
            self.stdout.write(f"{group.title or group.trakt_id} ({group.kind} {group.trakt_id}): "
                              f"{group.kept} kept, {group.removed} {'to remove' if run.dry_run else 'removed'}")
            for line in group.lines:
                where = "movie" if line.kind == "movie" else f"S{line.season:02d}E{line.number:02d}"
                verb = line.action if run.dry_run or line.action == "keep" else line.get_state_display().lower()
                why = f" ({reason_text(line.reason)})" if line.reason else ""
                self.stdout.write(f"  {where} {line.watched_at:%Y-%m-%d %H:%M:%S} {verb} [history id "
                                  f"{line.history_id}]{why}")
        limit = f"{s['history']:,} plays of the {s['limit']:,} Trakt allows ({s['used']} %)" if s["history"] is not None \
            else "its size unknown"
        if run.dry_run:
            self.stdout.write(f"History doctor preview #{run.pk} (window {s['window']} s, scope {s['scope']}): "
                              f"{s['duplicates']} duplicate plays in {s['clusters']} clusters; Trakt history holds "
                              f"{limit}; {s['reads']} reads.")
            if s["duplicates"]:
                self.stdout.write(f"Run `manage.py doctor --preview {run.pk}` to remove them.")
        else:
            self.stdout.write(f"History doctor #{run.pk} (preview #{s['preview']}): {s['removed']} duplicate plays "
                              f"removed, {s['gone']} gone already; Trakt history held {limit}. "
                              f"`manage.py sync undo {run.pk}` puts them back.")
