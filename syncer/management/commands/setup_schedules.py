from django.core.management.base import BaseCommand
from django_q.models import Schedule

from syncer.schedules import periodic_jobs


class Command(BaseCommand):
    help = "Create or update the django-q schedules of every periodic job (idempotent)."

    def handle(self, *args, **options):
        jobs = periodic_jobs()
        for job in jobs:
            Schedule.objects.update_or_create(
                name=job.name,
                defaults={"func": job.func, "schedule_type": Schedule.CRON, "cron": job.cron, "repeats": -1},
            )
        # Only our own jobs can go stale; schedules a user added in the admin stay.
        ours = Schedule.objects.filter(func__regex=r"^(logs|mappings|syncer)\.")
        stale = ours.exclude(name__in=[job.name for job in jobs])
        removed, _ = stale.delete()
        self.stdout.write(f"{len(jobs)} schedule(s) set up, {removed} stale removed.")
