"""The gate for external schedulers (`/api/cron`), answering like the original app."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from syncer.isotime import js_iso as _iso
from syncer.models import SyncRun
from syncer.status_keys import LAST_RUN_AUTO, config_get, config_set
from syncer.sync.services import SyncAlreadyRunning, sync_enqueue, sync_run


def last_automated_run() -> datetime | None:
    raw = (config_get(LAST_RUN_AUTO) or "").strip().strip('"')
    parsed = parse_datetime(raw) if raw else None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.get_fixed_timezone(0))
    return parsed


def sync_cron(*, now: datetime | None = None, inline: bool = False) -> dict:
    """Run the automated incremental sync if more than SYNC_INTERVAL_HOURS passed since the last
    automated one; queued for the worker unless `inline`."""
    now = now or timezone.now()
    last = last_automated_run()
    interval = timedelta(hours=settings.SYNC_INTERVAL_HOURS)
    if last is not None and now - last <= interval:
        return {"message": "Skipped sync", "lastRun": _iso(last), "nextRun": _iso(last + interval)}
    kwargs = {"mode": SyncRun.Mode.INCREMENTAL, "trigger": SyncRun.Trigger.SCHEDULED}
    try:
        run = sync_run(**kwargs) if inline else sync_enqueue(**kwargs)
    except SyncAlreadyRunning as exc:
        return {"message": "a sync is already running", "runId": exc.run_id}
    if not inline:
        # Mark the gate now, so a second call before the worker starts is skipped too.
        config_set(LAST_RUN_AUTO, _iso(now))
    message = {SyncRun.State.SUCCEEDED: "Sync complete!", SyncRun.State.FAILED: "Sync failed",
               SyncRun.State.REFUSED: "Sync not started"}.get(run.state, "Sync started")
    answer = {"message": message, "runId": run.pk, "state": run.state,
              "lastRun": _iso(last) if last else None, **run.summary()}
    if run.state == SyncRun.State.REFUSED:
        answer["reason"] = run.error
    return answer
