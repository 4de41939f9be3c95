"""Every periodic job, declared once; `manage.py setup_schedules` writes them to django-q."""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule

from mappings.models import SourceStatus
from mappings.selectors import sources_never_imported

FIRST_IMPORT_NAME = "Import mapping sources (first start)"
# An install that already has sources gets a newly configured one (AniBridge, on by default
# since issue 17) at its next start rather than at the next weekly refresh.
NEW_SOURCES_NAME = "Import newly configured mapping sources"
REFRESH_SOURCES = "mappings.tasks.refresh_all_sources"
# Schedules whose function is ours; anything else in django-q's table was added by a user.
OUR_FUNCTIONS = r"^(logs|mappings|syncer)\."


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    func: str
    cron: str


def periodic_jobs() -> list[PeriodicJob]:
    hours = settings.SYNC_INTERVAL_HOURS
    return [
        PeriodicJob("Prune old log lines (daily)", "logs.tasks.prune_logs", "17 3 * * *"),
        PeriodicJob("Refresh mapping sources (weekly)", REFRESH_SOURCES, "41 4 * * 1"),
        PeriodicJob(f"Incremental sync (every {hours} h)", "syncer.tasks.sync_scheduled", interval_cron(hours)),
    ]


def interval_cron(hours: int) -> str:
    """`0 */6 * * *` for 6; a day or more runs once a day at midnight."""
    if hours >= 24:
        return "0 0 * * *"
    return f"0 */{max(hours, 1)} * * *"


@transaction.atomic
def schedules_setup() -> dict[str, int]:
    """Create or update every periodic job, drop our jobs that no longer exist, and, while no
    mapping source has ever been imported, have the worker import them once right away (a
    first sync without them would find every entry unmapped). Idempotent."""
    jobs = periodic_jobs()
    for job in jobs:
        Schedule.objects.update_or_create(
            name=job.name,
            defaults={"func": job.func, "schedule_type": Schedule.CRON, "cron": job.cron, "repeats": -1},
        )
    keep = [job.name for job in jobs]
    first_import = not SourceStatus.objects.filter(row_count__gt=0).exists()
    if first_import:
        keep.append(FIRST_IMPORT_NAME)
        Schedule.objects.get_or_create(
            name=FIRST_IMPORT_NAME,
            # repeats -1: django-q deletes a ONCE schedule after its run, so a failed first
            # import (no network yet) is queued again by the next start.
            defaults={"func": REFRESH_SOURCES, "schedule_type": Schedule.ONCE, "repeats": -1,
                      "next_run": timezone.now()},
        )
    if not first_import and sources_never_imported():
        keep.append(NEW_SOURCES_NAME)
        Schedule.objects.get_or_create(
            name=NEW_SOURCES_NAME,
            defaults={"func": "mappings.tasks.refresh_new_sources", "schedule_type": Schedule.ONCE,
                      "repeats": -1, "next_run": timezone.now()},
        )
    removed, _ = Schedule.objects.filter(func__regex=OUR_FUNCTIONS).exclude(name__in=keep).delete()
    return {"jobs": len(jobs), "removed": removed, "first_import": int(first_import)}
