"""Reads for the log pages."""

from django.db.models import QuerySet

from logs.models import LogEntry

# Lowest level first: filtering by a level shows that level and everything more severe.
LEVELS = ("debug", "info", "warn", "error")
PAGE_ROWS = 200


def levels_at_least(level: str) -> list[str]:
    """`warn` -> `["warn", "error"]`; an unknown or empty level means every level."""
    if level not in LEVELS:
        return []
    return list(LEVELS[LEVELS.index(level) :])


def log_entries(
    *, level: str = "", run_id: int | None = None, after_id: int | None = None, limit: int = PAGE_ROWS
) -> list[LogEntry]:
    """The newest lines matching the filters, newest first.

    With `after_id` only lines newer than that id come back (the live tail asks for just those).
    The `run` row is never loaded: the page shows and links the run id only.
    """
    queryset: QuerySet[LogEntry] = LogEntry.objects.only(
        "id", "message", "level", "created_at", "logger", "run_id"
    ).order_by("-id")
    wanted = levels_at_least(level)
    if wanted:
        queryset = queryset.filter(level__in=wanted)
    if run_id is not None:
        queryset = queryset.filter(run_id=run_id)
    if after_id is not None:
        queryset = queryset.filter(id__gt=after_id)
    return list(queryset[:limit])


def log_last_id() -> int:
    """The id of the newest line (0 when there is none): where a live tail starts."""
    return LogEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
