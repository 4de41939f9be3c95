"""`manage.py refresh_mappings [--source otaku|fribb|anibridge] [--file PATH] [--force]`"""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from mappings import importer
from mappings.services import sources_refresh, sources_refresh_all


class Command(BaseCommand):
    help = "Download the mapping sources and replace their tables (a failure keeps the old data)."

    def add_arguments(self, parser):
        parser.add_argument("--source", choices=sorted(importer.SOURCES), help="only this source")
        parser.add_argument("--file", type=Path, help="import this local file instead of downloading (needs --source)")
        parser.add_argument("--force", action="store_true",
                            help="accept a file with less than half the rows in use (refused otherwise)")

    def handle(self, *args, source=None, file=None, force=False, **options):
        if file and not source:
            raise CommandError("--file needs --source")
        if file:
            statuses = [importer.import_file(source, file, progress=self.progress, force=force)]
        elif source:
            statuses = [sources_refresh(source=source, progress=self.progress, force=force)]
        else:
            statuses = sources_refresh_all(progress=self.progress, force=force)
        failed = [status for status in statuses if not status.ok]
        for status in statuses:
            if status.ok:
                self.stdout.write(self.style.SUCCESS(f"{status.source}: {status.row_count} rows "
                                                     f"({status.duration_seconds} s)"))
            else:
                kept = f"kept the previous {status.row_count} rows" if status.row_count else "no previous rows to keep"
                self.stderr.write(self.style.ERROR(f"{status.source}: {status.last_error} ({kept})"))
        if failed and file:
            raise CommandError("the file was not imported")
        # A cron job reads the exit status: a source that failed while its previous rows (or the
        # other sources) stay in use is a warning, not a failed refresh.
        if statuses and not any(status.row_count for status in statuses):
            raise CommandError("no mapping source has usable rows: placement has nothing to go on; "
                               "fix the errors above and run refresh_mappings again")
        if failed:
            self.stderr.write(self.style.WARNING(
                f"Warning: {len(failed)} of {len(statuses)} sources could not be refreshed; "
                "the rows in use stay until the next refresh succeeds"))

    def progress(self, done: int, total: int, label: str) -> None:
        end = "\n" if not total or done >= total else "\r"
        self.stdout.write(f"{label}: {done}/{total}" if total else label, ending=end)
        sys.stdout.flush()
