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
        failed = False
        for status in statuses:
            if status.ok:
                self.stdout.write(self.style.SUCCESS(f"{status.source}: {status.row_count} rows "
                                                     f"({status.duration_seconds} s)"))
            else:
                failed = True
                self.stderr.write(self.style.ERROR(f"{status.source}: {status.last_error} "
                                                   f"(kept the previous {status.row_count} rows)"))
        if failed:
            raise CommandError("a mapping source could not be refreshed")

    def progress(self, done: int, total: int, label: str) -> None:
        end = "\n" if not total or done >= total else "\r"
        self.stdout.write(f"{label}: {done}/{total}" if total else label, ending=end)
        sys.stdout.flush()
