"""The gate for external schedulers (`/api/cron`), answering like the original app."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from syncer.isotime import js_iso as _iso
from syncer.models import SyncRun
from syncer.status_keys import LAST_RUN_AUTO, config_get, config_set
from syncer.sync.services import SyncAlreadyRunning, run_wait, sync_enqueue


def last_automated_run() -> datetime | None:
    raw = (config_get(LAST_RUN_AUTO) or "").strip().strip('"')
    parsed = parse_datetime(raw) if raw else None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.get_fixed_timezone(0))
    return parsed


def sync_cron(*, now: datetime | None = None, wait: float = 0) -> dict:
    """Queue the automated incremental sync for the worker if more than SYNC_INTERVAL_HOURS
    passed since the last automated one, and wait up to `wait` seconds for it to end (the
    answer says how it ended, or that it is still going)."""
    now = now or timezone.now()
    last = last_automated_run()
    interval = timedelta(hours=settings.SYNC_INTERVAL_HOURS)
    if last is not None and now - last <= interval:
        return {"message": "Skipped sync", "lastRun": _iso(last), "nextRun": _iso(last + interval)}
    kwargs = {"mode": SyncRun.Mode.INCREMENTAL, "trigger": SyncRun.Trigger.SCHEDULED}
    try:
        run = sync_enqueue(**kwargs)
    except SyncAlreadyRunning as exc:
        return {"message": "a sync is already running", "runId": exc.run_id}
    run.refresh_from_db()
    if run.state == SyncRun.State.QUEUED:
        # Mark the gate now, so a second call before the worker starts is skipped too (once
        # started, the run marks it itself).
        config_set(LAST_RUN_AUTO, _iso(now))
    if wait:
        run = run_wait(run=run, seconds=wait)
    message = {SyncRun.State.SUCCEEDED: "Sync complete!", SyncRun.State.FAILED: "Sync failed",
               SyncRun.State.REFUSED: "Sync not started"}.get(run.state, "Sync started")
    answer = {"message": message, "runId": run.pk, "state": run.state,
              "lastRun": _iso(last) if last else None, **run.summary()}
    if run.state == SyncRun.State.REFUSED:
        answer["reason"] = run.error
    return answer
