from django.db import models
from django.db.models.functions import Now

TRACEBACK_START = "\nTraceback (most recent call last):"


class LogEntry(models.Model):
    """One line of the persistent log (the original app's `logs` table)."""

    id = models.BigAutoField(primary_key=True)
    message = models.TextField()
    # NULL is allowed because the original schema allows it (adopted rows may hold it).
    level = models.TextField(null=True, db_default="info", default="info")  # noqa: DJ001
    created_at = models.DateTimeField(null=True, db_default=Now())
    # Added by the rewrite (migration 0002).
    logger = models.TextField(default="", blank=True)
    run = models.ForeignKey(
        "syncer.SyncRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="log_entries"
    )

    class Meta:
        db_table = "logs"
        ordering = ["-id"]
        verbose_name = "log entry"
        verbose_name_plural = "log entries"
        indexes = [
            models.Index(fields=["created_at"], name="logs_created_at_idx"),
            models.Index(fields=["level", "id"], name="logs_level_id_idx"),
        ]

    def __str__(self) -> str:
        return f"[{self.level}] {self.message[:80]}"

    @property
    def headline(self) -> str:
        """The message without a traceback the handler appended to it (a bug's)."""
        return self.message.partition(TRACEBACK_START)[0]

    @property
    def traceback(self) -> str:
        head, marker, rest = self.message.partition(TRACEBACK_START)
        return (marker + rest).strip() if marker else ""
