from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from logs.models import LogEntry


@transaction.atomic
def logs_prune(*, max_age_days: int | None = None, max_rows: int | None = None) -> int:
    """Delete log rows older than the retention age, then all but the newest `max_rows`.
    Returns how many rows were deleted."""
    max_age_days = settings.LOG_RETENTION_DAYS if max_age_days is None else max_age_days
    max_rows = settings.LOG_MAX_ROWS if max_rows is None else max_rows
    cutoff = timezone.now() - timedelta(days=max_age_days)
    deleted, _ = LogEntry.objects.filter(created_at__lt=cutoff).delete()
    boundary = LogEntry.objects.order_by("-id").values_list("id", flat=True)[max_rows : max_rows + 1]
    boundary_id = next(iter(boundary), None)
    if boundary_id is not None:
        more, _ = LogEntry.objects.filter(id__lte=boundary_id).delete()
        deleted += more
    return deleted
