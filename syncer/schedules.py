"""Every periodic job, declared once; `manage.py setup_schedules` writes them to django-q."""

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    func: str
    cron: str


def periodic_jobs() -> list[PeriodicJob]:
    return [
        PeriodicJob("Prune old log lines (daily)", "logs.tasks.prune_logs", "17 3 * * *"),
        PeriodicJob("Refresh mapping sources (weekly)", "mappings.tasks.refresh_all_sources", "41 4 * * 1"),
        PeriodicJob(
            "Incremental sync (every SYNC_INTERVAL_HOURS)",
            "syncer.tasks.sync_scheduled",
            interval_cron(sync_interval_hours()),
        ),
    ]


def interval_cron(hours: int) -> str:
    """`0 */6 * * *` for 6; a day or more runs once a day at midnight."""
    if hours >= 24:
        return "0 0 * * *"
    return f"0 */{max(hours, 1)} * * *"


def sync_interval_hours() -> int:
    return settings.SYNC_INTERVAL_HOURS
