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
    *, level: str = "", run_id: int | None = None, limit: int | None = None, before_id: int | None = None
) -> list[LogEntry]:
    """The newest lines matching the filters (older than `before_id` when given), newest first.

    The `run` row is never loaded: the page shows and links the run id only.
    """
    queryset = _filtered(level=level, run_id=run_id)
    if before_id:
        queryset = queryset.filter(id__lt=before_id)
    return list(queryset.order_by("-id")[: limit or PAGE_ROWS])


def _filtered(*, level: str, run_id: int | None) -> QuerySet[LogEntry]:
    queryset = LogEntry.objects.only("id", "message", "level", "created_at", "logger", "run_id")
    wanted = levels_at_least(level)
    if wanted:
        queryset = queryset.filter(level__in=wanted)
    if run_id is not None:
        queryset = queryset.filter(run_id=run_id)
    return queryset


def log_entries_after(
    *, after_id: int, level: str = "", run_id: int | None = None, limit: int | None = None
) -> list[LogEntry]:
    """Lines newer than `after_id`, oldest first, at most `limit`: the live tail's next lines.

    Oldest first so that a burst larger than `limit` is delivered over several polls with no
    gap, instead of skipping to the newest lines.
    """
    queryset = _filtered(level=level, run_id=run_id).filter(id__gt=after_id).order_by("id")
    return list(queryset[: limit or PAGE_ROWS])


def log_last_id() -> int:
    """The id of the newest line (0 when there is none): where a live tail starts."""
    return LogEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
