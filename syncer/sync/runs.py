"""Run bookkeeping: progress reporting, the original's status keys, the incremental cursor, and
failure messages that say what to do."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.utils import timezone

from syncer.http import AccountLimit, ApiError, AuthError, Locked, RateLimited, ServiceUnavailable
from syncer.models import SyncProgress, SyncRun, SystemConfig
from syncer.sync.apply import BatchFailed
from syncer.sync.lease import LeaseLost, lease_renew

logger = logging.getLogger("syncer.sync")

CURSOR_KEY = "lastSyncTimestamp"
MILLISECONDS_THRESHOLD = 100_000_000_000  # Unix seconds reach this in the year 5138
LAST_RUN = "status:sync:last-run"
LAST_RUN_AUTO = "status:sync:last-run-auto"
MODE_KEYS = {
    SyncRun.Mode.COMPLETED: "status:sync:completed:last-run",
    SyncRun.Mode.WATCHING: "status:sync:watching:last-run",
}


def config_get(key: str) -> str | None:
    return SystemConfig.objects.filter(key=key).values_list("value", flat=True).first()


def config_set(key: str, value: str) -> None:
    SystemConfig.objects.update_or_create(key=key, defaults={"value": value})


def now_iso() -> str:
    """The original's format (JavaScript `toISOString()`)."""
    now = timezone.now()
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def cursor_get() -> int:
    """`lastSyncTimestamp`: Unix seconds (the original stored a number, sometimes JSON-quoted)."""
    raw = (config_get(CURSOR_KEY) or "0").strip().strip('"')
    try:
        value = int(float(raw))
    except ValueError:
        logger.warning("lastSyncTimestamp %r is not a Unix time: starting from 0", raw)
        return 0
    # A JavaScript `Date.now()` (milliseconds) would ask AniList for activities from the year
    # 50,000 and silently find none.
    return value // 1000 if value > MILLISECONDS_THRESHOLD else value


def never_synced() -> bool:
    """No cursor and no per-show progress: this install has never written to Trakt."""
    return cursor_get() == 0 and not SyncProgress.objects.exists()


def cursor_set(value: int) -> None:
    config_set(CURSOR_KEY, str(int(value)))


def next_cursor(*, floor: int, seen: int, unhandled: list[int]) -> int:
    """Advance only past what was fully handled: just before the oldest unhandled event, else
    to the newest time read; never backwards."""
    if unhandled:
        return max(floor, min(unhandled) - 1)
    return max(floor, seen)


def status_mark_started(run: SyncRun) -> None:
    # Written at the start so the cron gate measures the interval between starts, not from the
    # end of a long run.
    if run.trigger == SyncRun.Trigger.SCHEDULED and run.mode == SyncRun.Mode.INCREMENTAL:
        config_set(LAST_RUN_AUTO, now_iso())


def status_mark_finished(run: SyncRun) -> None:
    stamp = now_iso()
    if run.mode != SyncRun.Mode.SHOW and run.trigger != SyncRun.Trigger.SCHEDULED:
        config_set(LAST_RUN, stamp)
    if run.mode in MODE_KEYS:
        config_set(MODE_KEYS[run.mode], stamp)


def failure_message(exc: BaseException) -> str:
    """What went wrong and what to do about it, without secrets."""
    cause = exc.__cause__ if isinstance(exc, BatchFailed) and exc.__cause__ else exc
    if isinstance(cause, AuthError):
        if cause.service == "AniList":
            return f"{cause}. Check ANILIST_ACCESS_TOKEN."
        return f"{cause}. Reconnect Trakt (Settings → Connect Trakt, or `manage.py trakt_auth`)."
    if isinstance(cause, AccountLimit) and cause.status == 420:
        return f"{cause}."  # the client's message names the limit and what to do
    if isinstance(cause, AccountLimit):
        return f"{cause}. Trakt limits this account (VIP required or too many apps connected)."
    if isinstance(cause, Locked):
        return f"{cause}. The Trakt account is locked: contact Trakt support."
    if isinstance(cause, RateLimited | ServiceUnavailable):
        return f"{cause}. Try again later; nothing is lost, the next run continues where this stopped."
    if isinstance(cause, ApiError):
        return f"{cause}. The next run continues where this stopped."
    return f"{type(cause).__name__}: {cause}"


class RunProgress:
    """The one progress callback: writes `SyncRun.progress_*` (at most once a second), renews
    the lease, and forwards to the caller's callback (the CLI's progress bar).

    `lease_check()` renews the lease and raises `LeaseLost` when another run took it; apply
    calls it before every POST, so two runs never post at the same time."""

    def __init__(self, run: SyncRun, forward: Callable[[int, int, str], None] | None, lease_token: str | None):
        self.run, self.forward, self.lease_token = run, forward, lease_token
        self._last_write = 0.0
        self._labels: set[str] = set()
        # Set while a pipelined run reads and posts at once: the run page shows both streams
        # ("Reading seasons 812/2,000 · Posted 9,400/24,162") instead of the latest label.
        self.line = ""

    def __call__(self, done: int, total: int, label: str) -> None:
        if label not in self._labels:
            # Logged once: the two streams of a pipelined run take turns all run long.
            logger.info("%s", label)
            self._labels.add(label)
        now = time.monotonic()
        if now - self._last_write >= 1.0 or done >= total:
            self._last_write = now
            SyncRun.objects.filter(pk=self.run.pk).update(
                progress_done=done, progress_total=total, progress_label=self.line or label,
                heartbeat_at=timezone.now())
            self.lease_check()
        if self.forward:
            self.forward(done, total, label)

    def lease_check(self) -> None:
        if self.lease_token and not lease_renew(token=self.lease_token):
            raise LeaseLost()
