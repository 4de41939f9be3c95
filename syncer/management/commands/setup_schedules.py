from django.core.management.base import BaseCommand

from syncer.schedules import schedules_setup


class Command(BaseCommand):
    help = "Create or update the django-q schedules of every periodic job (idempotent)."

    def handle(self, *args, **options):
        result = schedules_setup()
        self.stdout.write(f"{result['jobs']} schedule(s) set up, {result['removed']} stale removed.")
        if result["first_import"]:
            self.stdout.write("No mapping source imported yet: the worker imports them now, in the background.")
